"""Next-dose suggestion and dose checks over the vaccine catalog.

Pure functions: the rules (doses per series, intervals, mixes, booster gaps, age
limits, volumes) come from :mod:`kernel.refdata` (``kernel/data/vaccines.json``
and ``province_profiles.json``).

Model
-----
* Voided doses are ignored everywhere.  Doses whose vaccine code is not in the
  catalog are ignored too (their disease is unknown).
* The *series vaccine* is the vaccine of the first primary dose of the disease; the
  primary series is complete after ``series.primary_doses`` primary doses (Janssen 1,
  Abdala 3).  Products of one *family* (Pfizer and Pfizer 5-11) continue each other's
  series; another family needs a mix rule valid on the dose's day for the person's age.
  Further doses are boosters (booster 1 at ``booster_min_days`` after the last
  primary/additional dose, booster 2 at ``booster2_min_days`` after booster 1); after
  booster 2 nothing more is due.  Additional doses (``additional``) are never
  suggested (they are for certain groups only) but are checked and counted.
* The gap before primary dose n: the catalog's minimum, recommended and maximum, the
  minimum and maximum replaced by the province profile's decision when one applies.
* The dose ordinal is the count of valid doses of the disease + 1, across kinds.
* Ages are ranges (youngest, oldest possible age in whole years on the day): a birth
  year alone leaves two possible ages, and a rule that depends on the age then asks.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from kernel.errors import FieldIssue
from kernel.refdata import (
    Interval,
    MixRule,
    Vaccine,
    mix_rules,
    products_for_lot,
    province_profile,
    vaccines,
)
from kernel.rules.vietnam import PartialDate

__all__ = [
    "DOSE_KINDS",
    "MAX_DOSE_NUMBER",
    "Ages",
    "PastDose",
    "Suggestion",
    "age_range",
    "check_age",
    "check_dose",
    "choose_product",
    "interval_for",
    "suggest_next",
]

DOSE_KINDS = ("primary", "additional", "booster")
MAX_DOSE_NUMBER = 10
MAX_BOOSTERS = 2

Ages = tuple[int, int]
"""(youngest, oldest) possible age in whole years."""


@dataclass(frozen=True, slots=True)
class PastDose:
    vaccine_code: str
    dose_number: int
    kind: str  # "primary" | "additional" | "booster"
    given_on: date
    voided: bool = False


@dataclass(frozen=True, slots=True)
class Suggestion:
    dose_number: int
    kind: str
    vaccine_codes: tuple[str, ...]
    """Allowed choices, preferred first (empty when ``complete``)."""
    earliest: date | None
    latest: date | None
    series_vaccine: str | None
    complete: bool
    """True when nothing more is due (e.g. after booster 2, or a 1-dose routine vaccine)."""
    recommended: date | None = None
    """From this day the gap is the recommended one (``earliest`` is the minimum)."""


# ---- ages --------------------------------------------------------------------------


def age_range(birth: PartialDate | str | None, on: date) -> Ages | None:
    """Possible ages in whole years on ``on``; None when the birth is unknown or unreadable."""
    if birth is None:
        return None
    if isinstance(birth, str):
        try:
            birth = PartialDate.from_iso(birth)
        except ValueError:
            return None
    years = on.year - birth.year
    if birth.month is None:
        low, high = years - 1, years
    elif birth.day is None:
        if on.month > birth.month:
            low = high = years
        elif on.month < birth.month:
            low = high = years - 1
        else:
            low, high = years - 1, years
    else:
        had_birthday = (on.month, on.day) >= (birth.month, birth.day)
        low = high = years if had_birthday else years - 1
    if high < 0:
        return None  # born after the day: not an age (a typo elsewhere)
    return max(low, 0), high


def _fits(vac: Vaccine, ages: Ages) -> bool:
    """Every possible age is within the product's licensed ages."""
    low, high = ages
    return (vac.min_age_years is None or low >= vac.min_age_years) and (
        vac.max_age_years is None or high <= vac.max_age_years
    )


def _may_fit(vac: Vaccine, ages: Ages) -> bool:
    """Some possible age is within the product's licensed ages."""
    low, high = ages
    return (vac.min_age_years is None or high >= vac.min_age_years) and (
        vac.max_age_years is None or low <= vac.max_age_years
    )


def check_age(vaccine_code: str, ages: Ages | None) -> list[FieldIssue]:
    """The catalog's age limits for ``vaccine_code`` (field ``vaccine_code``).

    Errors: ``dose.age_below_min`` (params ``min_age``), ``dose.age_above_max``
    (``max_age``): every possible age is outside. Warning ``dose.age_uncertain``
    (``min_age``, ``max_age``): the birth year alone cannot tell. Nothing when the
    age is unknown or the code is not in the catalog.
    """
    vac = vaccines().get(vaccine_code)
    if vac is None or ages is None:
        return []
    low, high = ages
    lo, hi = vac.min_age_years, vac.max_age_years
    if lo is not None and high < lo:
        return [FieldIssue("vaccine_code", "dose.age_below_min", {"min_age": lo})]
    if hi is not None and low > hi:
        return [FieldIssue("vaccine_code", "dose.age_above_max", {"max_age": hi})]
    if not _fits(vac, ages):
        return [
            FieldIssue(
                "vaccine_code", "dose.age_uncertain", {"min_age": lo, "max_age": hi}, "warning"
            )
        ]
    return []


def choose_product(lot_vaccine: str, ages: Ages | None) -> str:
    """The product a lot of ``lot_vaccine`` gives to a person of ``ages``.

    A Moderna lot gives "Moderna 6-11" (half a dose) to a child of 6-11; otherwise the
    lot's own product, whose age check then speaks (adult Pfizer for a child of 8 is
    refused, not silently changed: the children's Pfizer is another vial).
    """
    products = products_for_lot(lot_vaccine)
    if ages is None or not products:
        return lot_vaccine
    catalog = vaccines()
    for code in products:
        if _fits(catalog[code], ages):
            return code
    return lot_vaccine


# ---- series state ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _State:
    doses: tuple[PastDose, ...]  # valid doses of one disease, chronological
    series: Vaccine | None
    primaries: tuple[PastDose, ...]
    boosters: tuple[PastDose, ...]

    @property
    def primary_complete(self) -> bool:
        return self.series is not None and len(self.primaries) >= self.series.primary_doses


def _state(history: Sequence[PastDose], disease: str, before: date | None = None) -> _State:
    catalog = vaccines()
    doses = tuple(
        sorted(
            (
                d
                for d in history
                if not d.voided
                and d.vaccine_code in catalog
                and catalog[d.vaccine_code].disease == disease
                and (before is None or d.given_on < before)
            ),
            key=lambda d: (d.given_on, d.dose_number),
        )
    )
    primaries = tuple(d for d in doses if d.kind == "primary")
    series = catalog[primaries[0].vaccine_code] if primaries else None
    if series is None and doses:  # history without a primary dose: use the first dose
        series = catalog[doses[0].vaccine_code]
    boosters = tuple(d for d in doses if d.kind == "booster")
    return _State(doses, series, primaries, boosters)


def _active(codes: Sequence[str], ages: Ages | None = None) -> tuple[str, ...]:
    """Active products among ``codes``, in order, that may be given at ``ages``.

    Without an age, the age-specific variants (Pfizer 5-11, Moderna 6-11) are left
    out: they are only ever suggested for a person whose age fits them.
    """
    catalog = vaccines()
    seen: list[str] = []
    for code in codes:
        v = catalog.get(code)
        if v is None or not v.active or code in seen:
            continue
        if ages is None and (v.family or v.lot_product):
            continue
        if ages is not None and not _may_fit(v, ages):
            continue
        seen.append(code)
    return tuple(seen)


def _family_products(family: str) -> tuple[str, ...]:
    return tuple(c for c, v in vaccines().items() if v.series_family == family)


def _plus(day: date, days: int | None) -> date | None:
    return None if days is None else day + timedelta(days=days)


def _age_ok(lo: int | None, hi: int | None, ages: Ages | None) -> bool:
    """Unknown ages pass (the catalog's own age check speaks for the product)."""
    if ages is None:
        return True
    low, high = ages
    return (lo is None or low >= lo) and (hi is None or high <= hi)


def _mix_rules(series_family: str, on: date | None, ages: Ages | None) -> list[MixRule]:
    day = on.isoformat() if on else None
    return [
        r
        for r in mix_rules()
        if r.series == series_family
        and (day is None or r.valid_on(day))
        and _age_ok(r.min_age_years, r.max_age_years, ages)
    ]


def interval_for(
    series: Vaccine, dose_number: int, on: date | None, profile: str | None = None
) -> Interval | None:
    """The gap before primary dose ``dose_number`` (2..) of a ``series`` series.

    The province profile replaces the minimum and maximum for doses given in its
    decision's period; the recommended gap stays the catalog's (national) one.
    """
    if not 2 <= dose_number <= len(series.intervals) + 1:
        return None
    base = series.intervals[dose_number - 2]
    day = on.isoformat() if on else None
    for ov in province_profile(profile).intervals:
        if (
            ov.vaccine == series.series_family
            and ov.dose_number == dose_number
            and day is not None
            and ov.valid_on(day)
        ):
            return Interval(ov.min_days, ov.max_days, max(base.recommended, ov.min_days))
    return base


def _booster_rule(st: _State) -> tuple[int | None, date | None]:
    """(min_days, reference date) for the next booster, given a complete series."""
    assert st.series is not None
    if not st.boosters:
        return st.series.booster_min_days, st.doses[-1].given_on
    return st.series.booster2_min_days, st.boosters[-1].given_on


def _booster_families(series: Vaccine) -> frozenset[str]:
    catalog = vaccines()
    return frozenset(catalog[c].series_family for c in series.booster_vaccines if c in catalog)


def suggest_next(
    history: Sequence[PastDose],
    disease: str = "covid19",
    *,
    on: date | None = None,
    ages: Ages | None = None,
    profile: str | None = None,
) -> Suggestion:
    """What the next dose of ``disease`` should be for a person with ``history``.

    ``on`` (the day of the visit) limits mixes to the rules valid that day, ``ages``
    limits the products to those licensed for the person, ``profile`` applies the
    province's intervals; each may be None (no limit).
    """
    st = _state(history, disease)
    number = len(st.doses) + 1
    if st.series is None:
        codes = _active(tuple(c for c, v in vaccines().items() if v.disease == disease), ages)
        return Suggestion(number, "primary", codes, None, None, None, complete=not codes)
    series = st.series
    if not st.primary_complete:
        given = len(st.primaries)
        last = st.primaries[-1].given_on if st.primaries else st.doses[-1].given_on
        interval = interval_for(series, given + 1, on or last, profile) if given else None
        mixes = [c for r in _mix_rules(series.series_family, on, ages) for f in r.next
                 for c in _family_products(f)]  # fmt: skip
        codes = _active((series.code, *_family_products(series.series_family), *mixes), ages)
        if ages is None and series.active and series.code not in codes:
            codes = (series.code, *codes)  # a child's own series product, age unknown here
        return Suggestion(
            number,
            "primary",
            codes,
            _plus(last, interval.min_days) if interval else None,
            _plus(last, interval.max_days) if interval else None,
            series.code,
            complete=False,
            recommended=_plus(last, interval.recommended) if interval else None,
        )
    min_days, ref = _booster_rule(st)
    if len(st.boosters) >= MAX_BOOSTERS or min_days is None or not series.booster_vaccines:
        return Suggestion(number, "booster", (), None, None, series.code, complete=True)
    return Suggestion(
        number,
        "booster",
        _active(series.booster_vaccines, ages),
        _plus(ref, min_days) if ref else None,
        None,
        series.code,
        complete=False,
    )


def check_dose(
    history: Sequence[PastDose],
    vaccine_code: str,
    dose_number: int,
    kind: str,
    on: date,
    *,
    ages: Ages | None = None,
    profile: str | None = None,
) -> list[FieldIssue]:
    """Problems with recording dose ``dose_number`` (``kind``) of ``vaccine_code`` on ``on``.

    Errors (``severity="error"``): ``dose.unknown_vaccine`` (field ``vaccine_code``),
    ``dose.bad_kind`` (``kind``), ``dose.number_invalid`` (``dose_number``),
    ``dose.same_day`` (``given_on``).  Warnings (the clerk must confirm them):
    ``dose.interval_too_short`` / ``dose.interval_too_long`` (``given_on``; params
    ``min_days``/``max_days`` and ``days``), ``dose.mix_not_allowed``
    (``vaccine_code``; params ``series_vaccine``, ``allowed``: no rule allows it on
    that day at that age), ``dose.mix_first_unavailable`` (``vaccine_code``; params
    ``series_vaccine``: allowed only when the first vaccine is not available),
    ``dose.number_unexpected`` (``dose_number``; params ``expected``) and
    ``dose.kind_unexpected`` (``kind``; params ``expected``).  Note
    (``severity="info"``, no confirmation): ``dose.interval_below_recommended``
    (``given_on``; params ``recommended_days``, ``days``).

    Age limits are :func:`check_age`'s.  Only doses given *before* ``on`` are used as
    context, so past doses can be entered late and out of order.
    """
    issues, vac = _dose_errors(history, vaccine_code, dose_number, kind, on)
    if vac is None or any(i.is_error for i in issues):
        return issues
    warn = _Warnings(issues)
    st = _state(history, vac.disease, before=on)
    expected_number = len(st.doses) + 1
    if dose_number != expected_number:
        warn("dose_number", "dose.number_unexpected", expected=expected_number)

    series = st.series
    if series is None:  # first dose of this disease
        if kind != "primary":
            warn("kind", "dose.kind_unexpected", expected="primary")
        return issues
    if kind == "primary":
        _check_primary(warn, st, series, vac, on, ages=ages, profile=profile)
    else:
        _check_after_primary(warn, st, series, vac, kind, on)
    return issues


class _Warnings:
    """Adds warnings (the clerk confirms them) to a list of issues."""

    def __init__(self, issues: list[FieldIssue]) -> None:
        self.issues = issues

    def __call__(self, field: str, code: str, **params: object) -> None:
        self.issues.append(FieldIssue(field, code, dict(params), severity="warning"))


def _dose_errors(
    history: Sequence[PastDose], vaccine_code: str, dose_number: int, kind: str, on: date
) -> tuple[list[FieldIssue], Vaccine | None]:
    """The errors that refuse a dose outright, and the vaccine (None if unknown)."""
    issues: list[FieldIssue] = []
    catalog = vaccines()
    vac = catalog.get(vaccine_code)
    if vac is None:
        issues.append(FieldIssue("vaccine_code", "dose.unknown_vaccine"))
    if kind not in DOSE_KINDS:
        issues.append(FieldIssue("kind", "dose.bad_kind", {"allowed": list(DOSE_KINDS)}))
    if (
        isinstance(dose_number, bool)
        or not isinstance(dose_number, int)
        or not (1 <= dose_number <= MAX_DOSE_NUMBER)
    ):
        issues.append(
            FieldIssue("dose_number", "dose.number_invalid", {"min": 1, "max": MAX_DOSE_NUMBER})
        )
    if vac is None:
        return issues, None
    for d in history:
        if (
            not d.voided
            and d.given_on == on
            and d.vaccine_code in catalog
            and catalog[d.vaccine_code].disease == vac.disease
        ):
            issues.append(FieldIssue("given_on", "dose.same_day"))
            break
    return issues, vac


def _check_primary(
    warn: _Warnings,
    st: _State,
    series: Vaccine,
    vac: Vaccine,
    on: date,
    *,
    ages: Ages | None,
    profile: str | None,
) -> None:
    """A primary dose after the first: a series still open, a mix a rule allows, its interval."""
    if st.primary_complete:
        warn("kind", "dose.kind_unexpected", expected="booster")
        return
    if vac.series_family != series.series_family:
        rules = [r for r in _mix_rules(series.series_family, on, ages) if vac.series_family in r.next]
        if not rules:
            allowed = [series.series_family] + [
                f for r in _mix_rules(series.series_family, on, ages) for f in r.next
            ]
            warn(
                "vaccine_code",
                "dose.mix_not_allowed",
                series_vaccine=series.series_family,
                allowed=list(dict.fromkeys(allowed)),
            )
        elif all(r.condition == "first_unavailable" for r in rules):
            warn("vaccine_code", "dose.mix_first_unavailable", series_vaccine=series.series_family)
    given = len(st.primaries)
    interval = interval_for(series, given + 1, on, profile) if given else None
    if interval is not None:
        days = (on - st.primaries[-1].given_on).days
        if days < interval.min_days:
            warn("given_on", "dose.interval_too_short", min_days=interval.min_days, days=days)
        elif interval.max_days is not None and days > interval.max_days:
            warn("given_on", "dose.interval_too_long", max_days=interval.max_days, days=days)
        elif days < interval.recommended:
            warn.issues.append(
                FieldIssue(
                    "given_on",
                    "dose.interval_below_recommended",
                    {"recommended_days": interval.recommended, "days": days},
                    severity="info",
                )
            )


def _check_after_primary(
    warn: _Warnings, st: _State, series: Vaccine, vac: Vaccine, kind: str, on: date
) -> None:
    """An additional dose or a booster: the primary series done, a vaccine allowed, the interval."""
    if not st.primary_complete:
        warn("kind", "dose.kind_unexpected", expected="primary")
        return
    days_since = (on - st.doses[-1].given_on).days
    families = _booster_families(series)
    if kind == "additional":
        allowed_families = {series.series_family, *families}
        min_days = series.additional_min_days
    else:
        allowed_families = set(families)
        min_days, _ = _booster_rule(st)
        if len(st.boosters) >= MAX_BOOSTERS:
            warn("kind", "dose.kind_unexpected", expected="none")
    if vac.series_family not in allowed_families:
        allowed = [c for c in (series.series_family, *series.booster_vaccines) if c in allowed_families]
        warn(
            "vaccine_code",
            "dose.mix_not_allowed",
            series_vaccine=series.series_family,
            allowed=list(dict.fromkeys(allowed)),
        )
    if kind == "booster" and st.boosters:
        days_since = (on - st.boosters[-1].given_on).days
    if min_days is not None and days_since < min_days:
        warn("given_on", "dose.interval_too_short", min_days=min_days, days=days_since)
