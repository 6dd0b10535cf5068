"""Next-dose suggestion and dose checks."""

from __future__ import annotations

from datetime import date, timedelta

from kernel.errors import FieldIssue
from kernel.rules.schedule import PastDose, check_dose, suggest_next

D0 = date(2021, 9, 1)


def d(days: int) -> date:
    return D0 + timedelta(days=days)


def codes(issues: list[FieldIssue]) -> set[str]:
    return {i.code for i in issues}


def warnings(issues: list[FieldIssue]) -> set[str]:
    return {i.code for i in issues if i.severity == "warning"}


def errors(issues: list[FieldIssue]) -> set[str]:
    return {i.code for i in issues if i.severity == "error"}


AZ1 = PastDose("AZ", 1, "primary", D0)


def test_new_person() -> None:
    s = suggest_next([])
    assert (s.dose_number, s.kind, s.complete, s.series_vaccine) == (1, "primary", False, None)
    assert "AZ" in s.vaccine_codes and "ABDALA" in s.vaccine_codes
    assert "MR" not in s.vaccine_codes
    assert s.earliest is None and s.latest is None
    mr = suggest_next([], disease="measles_rubella")
    assert mr.vaccine_codes == ("MR",)


def test_az_dose2_suggestion() -> None:
    s = suggest_next([AZ1])
    assert (s.dose_number, s.kind, s.series_vaccine) == (2, "primary", "AZ")
    assert s.vaccine_codes[0] == "AZ"
    assert set(s.vaccine_codes) == {"AZ", "PFIZER", "MODERNA"}
    assert s.earliest == d(56) and s.latest == d(84)


def test_az_at_8_weeks_ok() -> None:
    assert check_dose([AZ1], "AZ", 2, "primary", d(56)) == []


def test_az_at_3_weeks_too_short() -> None:
    issues = check_dose([AZ1], "AZ", 2, "primary", d(21))
    assert [(i.code, i.severity, i.params) for i in issues] == [
        ("dose.interval_too_short", "warning", {"min_days": 56, "days": 21})
    ]


def test_az_too_long() -> None:
    issues = check_dose([AZ1], "AZ", 2, "primary", d(100))
    assert [(i.code, i.params) for i in issues] == [
        ("dose.interval_too_long", {"max_days": 84, "days": 100})
    ]


def test_az_then_pfizer_allowed_when_az_is_unavailable() -> None:
    # CV 6030/BYT-DP (27/7/2021): Pfizer after AstraZeneca only when supply is limited.
    issues = check_dose([AZ1], "PFIZER", 2, "primary", d(60))
    assert [(i.code, i.severity, i.params) for i in issues] == [
        ("dose.mix_first_unavailable", "warning", {"series_vaccine": "AZ"})
    ]
    s = suggest_next([AZ1, PastDose("PFIZER", 2, "primary", d(60))])
    assert (s.kind, s.series_vaccine, s.dose_number) == ("booster", "AZ", 3)


def test_verocell_then_pfizer_mix_warning() -> None:
    hist = [PastDose("VEROCELL", 1, "primary", D0)]
    issues = check_dose(hist, "PFIZER", 2, "primary", d(25))
    assert codes(issues) == {"dose.mix_not_allowed"}
    (issue,) = issues
    assert issue.severity == "warning" and issue.field == "vaccine_code"
    assert issue.params["series_vaccine"] == "VEROCELL"


def test_pfizer_moderna_interchangeable_from_september_2021_when_needed() -> None:
    # CV 7548/BYT-DP (10/9/2021): only "bất khả kháng" (the first vaccine unavailable).
    hist = [PastDose("PFIZER", 1, "primary", D0)]
    assert codes(check_dose(hist, "MODERNA", 2, "primary", d(28))) == {"dose.mix_first_unavailable"}
    early = [PastDose("PFIZER", 1, "primary", date(2021, 8, 1))]
    assert codes(check_dose(early, "MODERNA", 2, "primary", date(2021, 9, 5))) == {
        "dose.mix_not_allowed"
    }


def test_abdala_third_dose_is_primary() -> None:
    hist = [PastDose("ABDALA", 1, "primary", D0), PastDose("ABDALA", 2, "primary", d(14))]
    s = suggest_next(hist)
    assert (s.dose_number, s.kind, s.earliest) == (3, "primary", d(28))
    assert s.vaccine_codes == ("ABDALA",)
    assert check_dose(hist, "ABDALA", 3, "primary", d(28)) == []
    assert "dose.kind_unexpected" in warnings(check_dose(hist, "PFIZER", 3, "booster", d(28)))
    hist.append(PastDose("ABDALA", 3, "primary", d(28)))
    s = suggest_next(hist)
    assert (s.dose_number, s.kind, s.earliest) == (4, "booster", d(28 + 90))


def test_abdala_interval_too_short() -> None:
    hist = [PastDose("ABDALA", 1, "primary", D0)]
    assert codes(check_dose(hist, "ABDALA", 2, "primary", d(10))) == {"dose.interval_too_short"}


def test_janssen_one_dose_then_booster() -> None:
    hist = [PastDose("JANSSEN", 1, "primary", D0)]
    s = suggest_next(hist)
    assert (s.dose_number, s.kind, s.series_vaccine, s.complete) == (2, "booster", "JANSSEN", False)
    assert s.earliest == d(90)
    assert s.vaccine_codes[:2] == ("PFIZER", "MODERNA")
    assert check_dose(hist, "PFIZER", 2, "booster", d(90)) == []
    assert codes(check_dose(hist, "PFIZER", 2, "booster", d(30))) == {"dose.interval_too_short"}
    assert "dose.kind_unexpected" in codes(check_dose(hist, "JANSSEN", 2, "primary", d(90)))


def test_booster_vaccine_not_allowed() -> None:
    hist = [PastDose("VEROCELL", 1, "primary", D0), PastDose("VEROCELL", 2, "primary", d(21))]
    issues = check_dose(hist, "AZ", 3, "booster", d(21 + 120))
    assert codes(issues) == {"dose.mix_not_allowed"}
    pfizer_series = [PastDose("PFIZER", 1, "primary", D0), PastDose("PFIZER", 2, "primary", d(21))]
    assert check_dose(pfizer_series, "AZ", 3, "booster", d(21 + 90)) == []


def test_booster2_after_booster1_then_complete() -> None:
    hist = [
        PastDose("AZ", 1, "primary", D0),
        PastDose("AZ", 2, "primary", d(60)),
        PastDose("PFIZER", 3, "booster", d(200)),
    ]
    s = suggest_next(hist)
    assert (s.dose_number, s.kind, s.earliest, s.complete) == (4, "booster", d(320), False)
    assert check_dose(hist, "MODERNA", 4, "booster", d(320)) == []
    issues = check_dose(hist, "MODERNA", 4, "booster", d(250))
    assert [(i.code, i.params) for i in issues] == [
        ("dose.interval_too_short", {"min_days": 120, "days": 50})
    ]
    hist.append(PastDose("MODERNA", 4, "booster", d(330)))
    done = suggest_next(hist)
    assert done.complete and done.vaccine_codes == () and done.dose_number == 5


def test_additional_dose() -> None:
    hist = [PastDose("VEROCELL", 1, "primary", D0), PastDose("VEROCELL", 2, "primary", d(21))]
    assert check_dose(hist, "VEROCELL", 3, "additional", d(21 + 28)) == []
    assert codes(check_dose(hist, "VEROCELL", 3, "additional", d(30))) == {
        "dose.interval_too_short"
    }
    hist.append(PastDose("VEROCELL", 3, "additional", d(49)))
    s = suggest_next(hist)
    assert (s.dose_number, s.kind, s.earliest) == (4, "booster", d(49 + 90))


def test_voided_dose_ignored() -> None:
    hist = [AZ1, PastDose("AZ", 2, "primary", d(10), voided=True)]
    s = suggest_next(hist)
    assert (s.dose_number, s.kind) == (2, "primary")
    assert check_dose(hist, "AZ", 2, "primary", d(60)) == []
    # a voided dose on the same day is not a same-day conflict
    assert "dose.same_day" not in codes(check_dose(hist, "AZ", 2, "primary", d(10)))


def test_same_day_error() -> None:
    issues = check_dose([AZ1], "PFIZER", 2, "primary", D0)
    assert errors(issues) == {"dose.same_day"}
    # a different disease on the same day is fine
    assert check_dose([AZ1], "MR", 1, "primary", D0) == []


def test_unknown_vaccine_error() -> None:
    issues = check_dose([AZ1], "COVAXIN", 2, "primary", d(60))
    assert [(i.field, i.code, i.severity) for i in issues] == [
        ("vaccine_code", "dose.unknown_vaccine", "error")
    ]


def test_bad_kind_and_number() -> None:
    issues = check_dose([AZ1], "AZ", 0, "mui3", d(60))
    assert {(i.field, i.code) for i in issues} == {
        ("kind", "dose.bad_kind"),
        ("dose_number", "dose.number_invalid"),
    }
    assert errors(check_dose([AZ1], "AZ", 11, "primary", d(60))) == {"dose.number_invalid"}


def test_number_unexpected() -> None:
    issues = check_dose([AZ1], "AZ", 3, "primary", d(60))
    assert [(i.code, i.params, i.severity) for i in issues] == [
        ("dose.number_unexpected", {"expected": 2}, "warning")
    ]


def test_first_dose_checks() -> None:
    assert check_dose([], "AZ", 1, "primary", D0) == []
    assert codes(check_dose([], "PFIZER", 1, "booster", D0)) == {"dose.kind_unexpected"}


def test_late_entry_uses_only_earlier_doses() -> None:
    hist = [PastDose("AZ", 2, "primary", d(60))]
    # dose 1 entered after dose 2 was recorded
    assert check_dose(hist, "AZ", 1, "primary", D0) == []
