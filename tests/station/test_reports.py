"""The daily site report: numbers against the database, and the Excel workbook against both."""

from __future__ import annotations

from datetime import timedelta

import openpyxl
import pytest
from sqlalchemy import text

from station import reports
from station.dto import DoseInput
from station.reports_xlsx import write_report_xlsx
from station.services import clinical
from tests.station.daydata import build_day, walk_in
from tests.station.helpers import ELIGIBLE_4355


@pytest.fixture
def day(st, staff, clock):
    return build_day(st, staff, clock)


def test_daily_report_counts(st, staff, day) -> None:
    rep = reports.daily_report(st, st.today())
    t = rep.totals
    assert (t.doses, t.people_vaccinated, t.doses_voided) == (6, 6, 1)
    assert (t.screened, t.cleared, t.deferred) == (9, 7, 2)
    assert (t.expected, t.checked_in) == (9, 9)
    assert (t.adverse_events, t.adverse_severe) == (2, 1)
    assert dict(t.by_vaccine) == {"PFIZER": 4, "AZ": 2}
    assert dict(t.by_kind) == {"primary": 6}
    # Doses by vaccine × number × kind × group add up, and the one dose 2 is there.
    assert sum(c.count for c in rep.doses) == 6
    assert any(c.dose_number == 2 and c.vaccine_code == "PFIZER" for c in rep.doses)
    lots = {lot.lot_number: lot for lot in rep.lots}
    assert (lots["FK0891"].used_day, lots["FK0891"].used_to_date, lots["FK0891"].remaining) == (4, 4, 496)
    assert (lots["ABV5811"].used_day, lots["ABV5811"].doses_received) == (2, 300)
    assert {o.outcome: o.count for o in rep.screening} == {"eligible": 7, "defer": 2}
    assert {a.severity: a.count for a in rep.adverse} == {"common": 1, "severe": 1}


def test_report_matches_database(st, staff, day) -> None:
    """Every figure recomputed straight from the tables (a second opinion on the SQL)."""
    rep = reports.daily_report(st, st.today())
    the_day = st.today().isoformat()
    with st.read() as conn:
        rows = conn.execute(
            text("SELECT d.vaccine_code, d.dose_number, d.kind, p.priority_group FROM dose d "
                 "JOIN person p ON p.id = d.person_id WHERE d.day = :d AND d.voided = 0 "
                 "AND d.source = 'site'"), {"d": the_day}).all()
    expected: dict[tuple, int] = {}
    for r in rows:
        expected[tuple(r)] = expected.get(tuple(r), 0) + 1
    got = {(c.vaccine_code, c.dose_number, c.kind, c.priority_group): c.count for c in rep.doses}
    assert got == expected


def test_late_entry_and_next_day(st, staff, day, clock) -> None:
    """Lot "to date" carries over; the next day starts from zero doses."""
    clock.advance(days=1)
    rep = reports.daily_report(st, st.today())
    assert rep.totals.doses == 0
    lots = {lot.lot_number: lot for lot in rep.lots}
    assert (lots["FK0891"].used_day, lots["FK0891"].used_to_date) == (0, 4)
    pid = walk_in(st, staff, 40)
    clinical.record_screening(st, staff.screener, pid, answers=ELIGIBLE_4355, outcome="eligible")
    clinical.record_dose(st, staff.clerk, DoseInput(pid, day.pfizer_lot))
    rep = reports.daily_report(st, st.today())
    lots = {lot.lot_number: lot for lot in rep.lots}
    assert (lots["FK0891"].used_day, lots["FK0891"].used_to_date, lots["FK0891"].remaining) == (1, 5, 495)
    # Yesterday's report is unchanged by today's work.
    yesterday = reports.daily_report(st, st.today() - timedelta(days=1))
    assert yesterday.totals.doses == 6


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_report_workbook(st, staff, day, tmp_path, lang) -> None:
    rep = reports.daily_report(st, st.today())
    path = write_report_xlsx(rep, tmp_path / f"report-{lang}.xlsx", lang=lang)
    wb = openpyxl.load_workbook(path)
    assert len(wb.sheetnames) == 5
    totals, doses, lots, screening, adverse = (wb[n] for n in wb.sheetnames)
    figures = {row[0]: row[1] for row in totals.iter_rows(min_row=7, values_only=True)}
    label = "Tổng số mũi tiêm" if lang == "vi" else "Doses given"
    assert figures[label] == rep.totals.doses == 6
    # Dose rows: the count column sums to the database's count of valid site doses.
    body = list(doses.iter_rows(min_row=2, values_only=True))
    assert sum(r[6] for r in body[:-1]) == body[-1][6] == 6
    with st.read() as conn:
        n_db = conn.execute(text("SELECT count(*) FROM dose WHERE voided = 0 AND source = 'site'")).scalar_one()
    assert n_db == 6
    lot_rows = {r[2]: r for r in lots.iter_rows(min_row=2, values_only=True)}
    assert lot_rows["FK0891"][4:] == (500, 4, 4, 496)
    with st.read() as conn:
        used = dict(conn.execute(text(
            "SELECT lot_number, count(*) FROM dose WHERE voided = 0 AND source = 'site' "
            "GROUP BY lot_number")).all())
    assert {k: r[6] for k, r in lot_rows.items()} == used
    scr = {r[0]: r[2] for r in screening.iter_rows(min_row=2, values_only=True)}
    assert scr["eligible"] == 7 and scr["defer"] == 2
    ae = {r[0]: r[2] for r in adverse.iter_rows(min_row=2, values_only=True)}
    assert ae["severe"] == 1 and ae["common"] == 1


def test_half_doses_take_half_a_dose_and_the_report_shows_their_volume(st, staff, tmp_path) -> None:
    """Issue 12: a Moderna lot counts standard doses; a booster (0.25 ml) and a child's
    6-11 dose (0.25 ml) each take half. The report shows the volume where it is not the
    product's standard dose (the booster), in every output."""
    from station.dto import LotInput, PastDoseInput, PersonInput
    from station.exchange_cli import format_report
    from station.services import admin, people
    from tests.station.helpers import screen_eligible

    lot = admin.upsert_lot(st, staff.supervisor, LotInput("MODERNA", "MOD001", "30/06/2027", 10))

    def person(name: str, birth: str, phone: str) -> str:
        return people.register_walk_in(st, staff.volunteer, PersonInput(
            full_name=name, birth=birth, sex="F", id_type="none", phone=phone,
            priority_group=9)).person.id

    adult = person("Lê Thị Hoa", "02/02/1980", "0903334444")
    boosted = [person("Trần Thị Mai", "02/02/1970", "0903334445"),
               person("Võ Thị Lan", "02/02/1960", "0903334446")]
    child = person("Phạm Thị Cúc", "15/02/2017", "0903334447")
    for pid in boosted:
        for n, day in enumerate(("2021-08-01", "2021-08-29"), start=1):
            clinical.record_past_dose(st, staff.clerk, PastDoseInput(pid, "MODERNA", n, "primary", day))
    doses = []
    for pid in (adult, *boosted, child):
        screen_eligible(st, staff.screener, pid)
        doses.append(clinical.record_dose(st, staff.clerk, DoseInput(pid, lot.id)))
    assert [(d.vaccine_code, d.kind, d.volume_ml) for d in doses] == [
        ("MODERNA", "primary", 0.5), ("MODERNA", "booster", 0.25), ("MODERNA", "booster", 0.25),
        ("MODERNA_6_11", "primary", 0.25)]
    (listed,) = [x for x in admin.list_lots(st) if x.id == lot.id]
    assert listed.doses_used == 2.5  # 1 + 3 × ½

    rep = reports.daily_report(st, st.today())
    (line,) = [x for x in rep.lots if x.lot_id == lot.id]
    assert (line.used_day, line.used_to_date, line.remaining) == (2.5, 2.5, 7.5)
    rows = {(c.vaccine_code, c.kind): (c.count, c.volume_ml) for c in rep.doses}
    # Standard doses carry no volume; the half-dose booster does.
    assert rows == {("MODERNA", "primary"): (1, None), ("MODERNA", "booster"): (2, 0.25),
                    ("MODERNA_6_11", "primary"): (1, None)}
    wb = openpyxl.load_workbook(write_report_xlsx(rep, tmp_path / "r.xlsx", lang="vi"))
    body = list(wb[wb.sheetnames[1]].iter_rows(min_row=2, values_only=True))
    assert {(r[0], r[3]): r[7] for r in body[:-1]} == {
        ("MODERNA", "primary"): None, ("MODERNA", "booster"): 0.25, ("MODERNA_6_11", "primary"): None}
    assert {r[2]: r[5:] for r in wb[wb.sheetnames[2]].iter_rows(min_row=2, values_only=True)}[
        "MOD001"] == (2.5, 2.5, 7.5)
    lines = format_report(rep)
    assert any("MODERNA " in ln and "booster" in ln and ln.endswith("2 (0.25 ml)") for ln in lines)
    assert any("MOD001" in ln and "used 2.5 today" in ln and "7.5 left" in ln for ln in lines)
