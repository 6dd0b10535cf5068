"""Suggest a pre-vaccination screening outcome from a form's answers and vital signs.

Pure functions over :class:`station.refdata.ScreeningForm`.  The software only
*suggests*; the doctor decides and may override (vietnam.md §2.3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from station.errors import FieldIssue
from station.refdata import ScreeningForm

__all__ = ["OUTCOMES", "check_answers", "suggest_outcome", "worst"]

OUTCOMES = ("eligible", "caution", "defer", "hospital", "contraindicated")
"""Outcomes in precedence order, lowest first (same as screening_forms.json)."""

_RANK = {o: i for i, o in enumerate(OUTCOMES)}


def worst(outcomes: list[str] | tuple[str, ...]) -> str:
    """The highest-precedence outcome of ``outcomes`` (``eligible`` if empty)."""
    return max(outcomes, key=_RANK.__getitem__, default="eligible")


def suggest_outcome(
    form: ScreeningForm,
    answers: Mapping[str, bool],
    vitals: Mapping[str, float | None] | None = None,
) -> str:
    """Suggested outcome: the highest-precedence outcome among the items answered
    ``True`` and the abnormal vital signs.  Unanswered items and missing vitals count
    as normal, unknown item ids and vital names are ignored (see :func:`check_answers`).
    """
    found: list[str] = [item.outcome_if_yes for item in form.items if answers.get(item.id) is True]
    if vitals:
        for rule in form.vitals:
            value = vitals.get(rule.name)
            if value is None or isinstance(value, bool):
                continue
            if rule.is_abnormal(float(value)):
                found.append(rule.outcome)
    return worst(found)


def check_answers(
    form: ScreeningForm,
    answers: Mapping[str, object],
    vitals: Mapping[str, object] | None,
) -> list[FieldIssue]:
    """Errors in a screening input; empty when it can be saved.

    * every item answered with a bool: ``answers.<id>`` ``screening.unanswered`` /
      ``screening.invalid``; unknown ids: ``screening.unknown_item``;
    * vitals may be missing or ``None``; present ones must be numbers
      (``vitals.<name>`` ``vitals.invalid``) within the plausible range of the form's
      rule (``vitals.implausible``, params ``min``/``max``); unknown names are
      ``vitals.invalid`` with ``params={"reason": "unknown"}``.
    """
    issues: list[FieldIssue] = []
    known = {item.id for item in form.items}
    for item in form.items:
        field = f"answers.{item.id}"
        if item.id not in answers or answers[item.id] is None:
            issues.append(FieldIssue(field, "screening.unanswered"))
        elif not isinstance(answers[item.id], bool):
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
