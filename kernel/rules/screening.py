"""Suggest a pre-vaccination screening outcome from a form's answers and vital signs.

Pure functions over :class:`kernel.refdata.ScreeningForm`.  The software only
*suggests*; the doctor decides and may override (vietnam.md §2.3).  The order of
the outcomes (which one wins when answers disagree) is data:
``screening_forms.json`` ``outcome_precedence``, contraindicated > defer >
hospital > caution > eligible.  :func:`explain` says which answer or vital sign
led to the suggestion, so the doctor's view can show *why*.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from kernel import refdata
from kernel.errors import FieldIssue
from kernel.refdata import ScreeningForm, ScreeningItem

__all__ = [
    "OUTCOMES",
    "Explanation",
    "Finding",
    "applicable_items",
    "check_answers",
    "explain",
    "flags_found",
    "suggest_outcome",
    "worst",
]

OUTCOMES: tuple[str, ...] = refdata.outcome_precedence()
"""Outcomes in precedence order, lowest first (``screening_forms.json``)."""

_RANK = {o: i for i, o in enumerate(OUTCOMES)}


def worst(outcomes: list[str] | tuple[str, ...]) -> str:
    """The highest-precedence outcome of ``outcomes`` (``eligible`` if empty)."""
    return max(outcomes, key=_RANK.__getitem__, default="eligible")


def applicable_items(form: ScreeningForm, sex: str | None) -> tuple[ScreeningItem, ...]:
    """The questions asked of a person of ``sex`` (no pregnancy questions for a man)."""
    return tuple(item for item in form.items if item.applies_to(sex))


@dataclass(frozen=True, slots=True)
class Finding:
    """One answer or vital sign that points to an outcome other than ``eligible``."""

    kind: str  # "item" | "vital"
    ref: str  # item id or vital name
    outcome: str
    value: float | None = None  # the vital sign's value
    low: float | None = None
    high: float | None = None
    decisive: bool = False
    """True when this finding alone sets the suggested outcome (it has the top rank)."""


@dataclass(frozen=True, slots=True)
class Explanation:
    outcome: str
    findings: tuple[Finding, ...]
    """Strongest first; empty when every answer is "no" and every vital sign normal."""


def explain(
    form: ScreeningForm,
    answers: Mapping[str, bool],
    vitals: Mapping[str, float | None] | None = None,
    sex: str | None = None,
) -> Explanation:
    """The suggested outcome and the findings behind it.

    The suggestion is the highest-precedence outcome among the applicable items
    answered ``True`` and the abnormal vital signs. Unanswered items and missing
    vitals count as normal; unknown item ids and vital names, and items that do not
    apply to ``sex``, are ignored (see :func:`check_answers`).
    """
    found: list[Finding] = [
        Finding("item", item.id, item.outcome_if_yes)
        for item in applicable_items(form, sex)
        if answers.get(item.id) is True
    ]
    if vitals:
        for rule in form.vitals:
            value = vitals.get(rule.name)
            if value is None or isinstance(value, bool):
                continue
            if rule.is_abnormal(float(value)):
                found.append(
                    Finding("vital", rule.name, rule.outcome, float(value), rule.low, rule.high)
                )
    outcome = worst([f.outcome for f in found])
    ordered = sorted(found, key=lambda f: -_RANK[f.outcome])  # stable: form order within a rank
    return Explanation(
        outcome,
        tuple(
            Finding(f.kind, f.ref, f.outcome, f.value, f.low, f.high, f.outcome == outcome)
            for f in ordered
        ),
    )


def suggest_outcome(
    form: ScreeningForm,
    answers: Mapping[str, bool],
    vitals: Mapping[str, float | None] | None = None,
    sex: str | None = None,
) -> str:
    """The suggested outcome (see :func:`explain`)."""
    return explain(form, answers, vitals, sex).outcome


def flags_found(form: ScreeningForm, answers: Mapping[str, object]) -> frozenset[str]:
    """Facts the "yes" answers establish (``pregnancy``, ``anaphylaxis_covid_vaccine``)."""
    return frozenset(
        flag for item in form.items if answers.get(item.id) is True for flag in item.flags
    )


def check_answers(
    form: ScreeningForm,
    answers: Mapping[str, object],
    vitals: Mapping[str, object] | None,
    sex: str | None = None,
) -> list[FieldIssue]:
    """Errors in a screening input; empty when it can be saved.

    * every item that applies to ``sex`` answered with a bool: ``answers.<id>``
      ``screening.unanswered`` / ``screening.invalid``; unknown ids:
      ``screening.unknown_item``; an item that does not apply (a pregnancy question
      for a man) may be left out or answered ``False``, a ``True`` is
      ``screening.not_applicable``;
    * vitals may be missing or ``None``; present ones must be numbers
      (``vitals.<name>`` ``vitals.invalid``) within the plausible range of the form's
      rule (``vitals.implausible``, params ``min``/``max``); unknown names are
      ``vitals.invalid`` with ``params={"reason": "unknown"}``.
    """
    issues: list[FieldIssue] = []
    known = {item.id for item in form.items}
    for item in form.items:
        field = f"answers.{item.id}"
        value = answers.get(item.id)
        if not item.applies_to(sex):
            if value is not None and not isinstance(value, bool):
                issues.append(FieldIssue(field, "screening.invalid"))
            elif value is True:
                issues.append(FieldIssue(field, "screening.not_applicable"))
            continue
        if value is None:
            issues.append(FieldIssue(field, "screening.unanswered"))
        elif not isinstance(value, bool):
            issues.append(FieldIssue(field, "screening.invalid"))
    for key in answers:
        if key not in known:
            issues.append(FieldIssue(f"answers.{key}", "screening.unknown_item"))
    if vitals:
        rules = {r.name: r for r in form.vitals}
        for name, value in vitals.items():
            field = f"vitals.{name}"
            rule = rules.get(name)
            if rule is None:
                issues.append(FieldIssue(field, "vitals.invalid", {"reason": "unknown"}))
                continue
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | float):
                issues.append(FieldIssue(field, "vitals.invalid"))
                continue
            number = float(value)
            if not math.isfinite(number):
                issues.append(FieldIssue(field, "vitals.invalid"))
                continue
            lo, hi = rule.plausible_min, rule.plausible_max
            if (lo is not None and number < lo) or (hi is not None and number > hi):
                issues.append(FieldIssue(field, "vitals.implausible", {"min": lo, "max": hi}))
    return issues
