"""The screening forms of :mod:`kernel.refdata`: questions, vital-sign rules, outcomes, validity.

Loaded from ``kernel/data/screening_forms.json`` and checked as a whole (outcomes
and their precedence agree, one selectable default form, days and ages in order).
"""

from __future__ import annotations

from functools import lru_cache

from kernel.refdata_files import (
    get,
    has,
    load_json,
    opt_day,
    opt_float,
    opt_int,
    req,
    req_list,
    str_tuple,
)
from kernel.refdata_types import OutcomeLabel, RefDataError, ScreeningForm, ScreeningItem, VitalRule

_FLAGS = frozenset({"pregnancy", "anaphylaxis_covid_vaccine"})


@lru_cache(maxsize=1)
def _screening() -> tuple[
    tuple[str, ...], dict[str, OutcomeLabel], dict[str, ScreeningForm], str, str
]:
    data = load_json("screening_forms.json")
    f = "screening_forms.json"
    outcomes = str_tuple(data, "outcome_precedence", f)
    labels = _outcome_labels(data, f)
    if set(labels) != set(outcomes) or len(outcomes) != len(set(outcomes)):
        raise RefDataError(f"{f}: outcomes and outcome_precedence differ")
    if outcomes[0] != "eligible":
        raise RefDataError(f"{f}: outcome_precedence must start with 'eligible'")
    vitals = _vital_rules(req_list(data, "vitals", f), f, outcomes)
    forms: dict[str, ScreeningForm] = {}
    for raw in req_list(data, "forms", f):
        form = _form(raw, f, outcomes, vitals)
        forms[form.id] = form
    default = req(data, "default_form", str, f)
    if default not in forms or not forms[default].selectable:
        raise RefDataError(f"{f}: default_form {default!r} is not a selectable form")
    note = str(get(data, "precedence_note", ""))
    return outcomes, labels, forms, default, note


def _outcome_labels(data: object, f: str) -> dict[str, OutcomeLabel]:
    labels: dict[str, OutcomeLabel] = {}
    for raw in req_list(data, "outcomes", f):
        code = req(raw, "code", str, f)
        w = f"{f} outcome {code}"
        name_vi, name_en = req(raw, "name_vi", str, w), req(raw, "name_en", str, w)
        labels[code] = OutcomeLabel(
            code,
            name_vi,
            name_en,
            req(raw, "record_code", str, w),
            str(get(raw, "short_vi") or name_vi),
            str(get(raw, "short_en") or name_en),
        )
    return labels


def _outcome(raw: object, key: str, where: str, outcomes: tuple[str, ...]) -> str:
    """An outcome code that the file's ``outcome_precedence`` lists."""
    value = req(raw, key, str, where)
    if value not in outcomes:
        raise RefDataError(f"{where}: unknown outcome {value!r}")
    return value


def _vital_rules(rows: list[object], where: str, outcomes: tuple[str, ...]) -> tuple[VitalRule, ...]:
    rules = []
    for raw in rows:
        name = req(raw, "name", str, where)
        w = f"{where} vital {name}"
        rules.append(
            VitalRule(
                name=name,
                unit=req(raw, "unit", str, w),
                low=opt_float(raw, "low", w),
                high=opt_float(raw, "high", w),
                outcome=_outcome(raw, "outcome", w, outcomes),
                plausible_min=opt_float(raw, "plausible_min", w),
                plausible_max=opt_float(raw, "plausible_max", w),
            )
        )
    return tuple(rules)


def _item(it: object, w: str, outcomes: tuple[str, ...]) -> ScreeningItem:
    item_id = req(it, "id", str, w)
    wi = f"{w} item {item_id}"
    sex = get(it, "sex")
    if sex not in (None, "M", "F"):
        raise RefDataError(f"{wi}: sex must be M, F or absent")
    flags = str_tuple(it, "flags", wi, default=True)
    if not set(flags) <= _FLAGS:
        raise RefDataError(f"{wi}: unknown flag in {flags}")
    return ScreeningItem(
        id=item_id,
        text_vi=req(it, "text_vi", str, wi),
        text_en=req(it, "text_en", str, wi),
        outcome_if_yes=_outcome(it, "outcome_if_yes", wi, outcomes),
        needs_detail=bool(get(it, "needs_detail", False)),
        sex=sex if isinstance(sex, str) else None,
        flags=flags,
        detail_vi=str(get(it, "detail_vi", "")),
        detail_en=str(get(it, "detail_en", "")),
        confidence=str(get(it, "confidence", "")),
        source=str(get(it, "source", "")),
    )


def _form(
    raw: object, f: str, outcomes: tuple[str, ...], vitals: tuple[VitalRule, ...]
) -> ScreeningForm:
    """One form; its own ``vitals`` if it has them, else the file's."""
    form_id = req(raw, "id", str, f)
    w = f"{f} form {form_id}"
    if len(form_id) > 32:
        raise RefDataError(f"{w}: id longer than 32 (the screening.form_id column)")
    items = [_item(it, w, outcomes) for it in req_list(raw, "items", w)]
    if len({i.id for i in items}) != len(items):
        raise RefDataError(f"{w}: duplicate item id")
    valid_from = opt_day(raw, "valid_from", w)
    if valid_from is None:
        raise RefDataError(f"{w}: missing 'valid_from'")
    valid_to = opt_day(raw, "valid_to", w)
    if valid_to is not None and valid_to < valid_from:
        raise RefDataError(f"{w}: valid_to before valid_from")
    lo, hi = opt_int(raw, "min_age_years", w), opt_int(raw, "max_age_years", w)
    if lo is not None and hi is not None and hi < lo:
        raise RefDataError(f"{w}: max_age_years < min_age_years")
    return ScreeningForm(
        id=form_id,
        title_vi=req(raw, "title_vi", str, w),
        title_en=req(raw, "title_en", str, w),
        valid_from=valid_from,
        items=tuple(items),
        vitals=_vital_rules(req_list(raw, "vitals", w), w, outcomes) if has(raw, "vitals") else vitals,
        valid_to=valid_to,
        decision=str(get(raw, "decision", "")),
        min_age_years=lo,
        max_age_years=hi,
        selectable=bool(get(raw, "selectable", True)),
        guardian=bool(get(raw, "guardian", False)),
        source=str(get(raw, "source", "")),
        confidence=str(get(raw, "confidence", "")),
    )


@lru_cache(maxsize=1)
def screening_forms() -> dict[str, ScreeningForm]:
    """Every form by id, retired ones included (they read old screenings)."""
    return dict(_screening()[2])


def default_screening_form() -> ScreeningForm:
    """The current adult form (what a new adult screening uses today)."""
    _, _, forms, default, _ = _screening()
    return forms[default]


def screening_form_for(day: str, age_min: int | None, age_max: int | None) -> ScreeningForm | None:
    """The selectable form for a screening on ``day`` (ISO) of a person aged
    ``age_min``..``age_max`` (a range: a birth year alone leaves the age uncertain).

    The form that fits the *youngest* possible age wins: the children's checklists ask
    more (a guardian) and refer more to hospital, so an uncertain 17/18 is screened as a
    child. None when no form covers the age on that day (COVID-19 forms start at 5).
    Several forms valid the same day for the same age: the one that started last.
    """
    candidates = sorted(
        (f for f in _screening()[2].values() if f.selectable and f.valid_on(day)),
        key=lambda f: f.valid_from,
        reverse=True,
    )
    for age in dict.fromkeys(a for a in (age_min, age_max) if a is not None):
        for form in candidates:
            if form.fits_age(age):
                return form
    if age_min is None and age_max is None:
        adult = [f for f in candidates if f.min_age_years is None or f.min_age_years >= 18]
        return adult[0] if adult else None
    return None


@lru_cache(maxsize=1)
def screening_outcomes() -> dict[str, OutcomeLabel]:
    """Outcome labels in precedence order, lowest (``eligible``) first."""
    outcomes, labels, _, _, _ = _screening()
    return {o: labels[o] for o in outcomes}


def outcome_precedence() -> tuple[str, ...]:
    """Outcome codes from the weakest (``eligible``) to the strongest (``contraindicated``)."""
    return _screening()[0]


def precedence_note() -> str:
    """Why the order is what it is (English; shown in the doctor's view)."""
    return _screening()[4]
