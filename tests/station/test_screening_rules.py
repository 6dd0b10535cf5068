"""Screening outcome suggestion and input checks."""

from __future__ import annotations

import pytest

from kernel import refdata
from kernel.rules.screening import OUTCOMES, check_answers, suggest_outcome, worst

F3802 = refdata.screening_forms()["3802-2021-08"]
F4355 = refdata.screening_forms()["4355-2021-09"]


def no(form: refdata.ScreeningForm) -> dict[str, bool]:
    return {i.id: False for i in form.items}


def test_outcomes_order() -> None:
    # Issue 12: a person who must be deferred is not sent to hospital instead.
    assert OUTCOMES == ("eligible", "caution", "hospital", "defer", "contraindicated")
    assert worst([]) == "eligible"
    assert worst(["caution", "contraindicated", "defer"]) == "contraindicated"


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("1", "contraindicated"),
        ("2", "defer"),
        ("3", "defer"),
        ("4a", "defer"),
        ("4b", "caution"),
        ("5", "hospital"),
        ("6", "caution"),
        ("10", "caution"),
    ],
)
def test_3802_items(item: str, expected: str) -> None:
    assert suggest_outcome(F3802, {**no(F3802), item: True}) == expected


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("1", "defer"),
        ("2a", "defer"),
        ("2b", "caution"),
        ("3", "hospital"),
        ("4", "caution"),
        ("5", "caution"),
        ("6", "caution"),
        ("7", "caution"),
        ("8", "caution"),
        ("9", "defer"),
    ],
)
def test_4355_items(item: str, expected: str) -> None:
    assert suggest_outcome(F4355, {**no(F4355), item: True}) == expected


def test_all_no_is_eligible() -> None:
    assert suggest_outcome(F4355, no(F4355)) == "eligible"
    assert suggest_outcome(F3802, no(F3802), {"temperature": 36.8, "pulse": 80}) == "eligible"


def test_precedence() -> None:
    a = no(F3802)
    a.update({"1": True, "5": True, "2": True, "7": True})
    assert suggest_outcome(F3802, a) == "contraindicated"
    a["1"] = False
    assert suggest_outcome(F3802, a) == "defer"  # COVID-19 < 6 months beats the hospital referral
    a["2"] = False
    assert suggest_outcome(F3802, a) == "hospital"
    a["5"] = False
    assert suggest_outcome(F3802, a) == "caution"
    a["7"] = False
    assert suggest_outcome(F3802, a) == "eligible"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("temperature", 35.5, "eligible"),
        ("temperature", 35.4, "caution"),
        ("temperature", 37.5, "eligible"),
        ("temperature", 37.6, "caution"),
        ("pulse", 59, "caution"),
        ("pulse", 60, "eligible"),
        ("pulse", 100, "eligible"),
        ("pulse", 101, "caution"),
        ("bp_systolic", 89, "caution"),
        ("bp_systolic", 140, "eligible"),
        ("bp_systolic", 141, "caution"),
        ("bp_diastolic", 59, "caution"),
        ("bp_diastolic", 91, "caution"),
        ("bp_diastolic", 75, "eligible"),
        ("respiratory_rate", 25, "eligible"),
        ("respiratory_rate", 26, "caution"),
        ("respiratory_rate", 8, "eligible"),
        ("pulse", None, "eligible"),
    ],
)
def test_vitals_thresholds(name: str, value: float | None, expected: str) -> None:
    assert suggest_outcome(F4355, no(F4355), {name: value}) == expected


def test_vitals_do_not_lower_outcome() -> None:
    a = {**no(F4355), "1": True}
    assert suggest_outcome(F4355, a, {"temperature": 38.5}) == "defer"


def test_check_answers_ok() -> None:
    assert check_answers(F4355, no(F4355), None) == []
    assert check_answers(F4355, no(F4355), {"temperature": 36.5, "bp_systolic": None}) == []


def test_check_answers_problems() -> None:
    answers: dict[str, object] = no(F4355)
    del answers["2a"]
    answers["3"] = "yes"
    answers["99"] = True
    issues = {(i.field, i.code) for i in check_answers(F4355, answers, None)}
    assert issues == {
        ("answers.2a", "screening.unanswered"),
        ("answers.3", "screening.invalid"),
        ("answers.99", "screening.unknown_item"),
    }
    assert all(i.is_error for i in check_answers(F4355, answers, None))


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("temperature", 29.9, "vitals.implausible"),
        ("temperature", 45.1, "vitals.implausible"),
        ("pulse", 19, "vitals.implausible"),
        ("pulse", 251, "vitals.implausible"),
        ("bp_systolic", 49, "vitals.implausible"),
        ("bp_systolic", 301, "vitals.implausible"),
        ("bp_diastolic", 19, "vitals.implausible"),
        ("bp_diastolic", 201, "vitals.implausible"),
        ("respiratory_rate", 4, "vitals.implausible"),
        ("respiratory_rate", 81, "vitals.implausible"),
        ("temperature", "37", "vitals.invalid"),
        ("temperature", True, "vitals.invalid"),
        ("temperature", float("nan"), "vitals.invalid"),
        ("weight", 60, "vitals.invalid"),
    ],
)
def test_check_vitals(name: str, value: object, code: str) -> None:
    issues = check_answers(F4355, no(F4355), {name: value})
    assert [(i.field, i.code) for i in issues] == [(f"vitals.{name}", code)]


@pytest.mark.parametrize(
    ("name", "value"),
    [("temperature", 30), ("temperature", 45), ("pulse", 250), ("respiratory_rate", 5)],
)
def test_check_vitals_plausible_bounds_inclusive(name: str, value: float) -> None:
    assert check_answers(F4355, no(F4355), {name: value}) == []
