"""A realistic clinic day built through the real services (reports, exports, printing tests)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from station.dto import DoseDTO, DoseInput, LotInput, PastDoseInput, PersonInput
from station.services import admin, clinical, people
from station.store import Station
from tests.station.helpers import ELIGIBLE_4355

DEFER = dict(ELIGIBLE_4355, **{"2": True})  # acute illness today (QĐ 5785 item 2) -> "defer"


@dataclass
class Day:
    pfizer_lot: str
    az_lot: str
    doses: list[DoseDTO] = field(default_factory=list)
    voided: list[DoseDTO] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)
    person_ids: list[str] = field(default_factory=list)


def walk_in(st: Station, staff, i: int, **kw: object) -> str:
    base: dict[str, object] = {
        "full_name": f"Nguyễn Thị Đào {chr(65 + i % 26)}",
        "birth": f"{(i % 27) + 1:02d}/0{(i % 9) + 1}/19{60 + i % 40}",
        "sex": "F",
        "id_type": "cccd",
        "phone": f"09123{i:05d}",
        "priority_group": [9, 13, 15, 1][i % 4],
        "province_code": "75",
        "address_line": f"Số {i + 1}, đường Phạm Văn Thuận",
    }
    base.update(kw)
    if "id_number" not in base:
        year = int(str(base["birth"])[-4:])
        base["id_number"] = f"0751{year % 100:02d}{700000 + i:06d}"
    res = people.register_walk_in(st, staff.volunteer, PersonInput(**base))  # type: ignore[arg-type]
    return res.person.id


def build_day(st: Station, staff, clock) -> Day:
    """7 people vaccinated (one dose voided), 2 deferred, 2 adverse events, lots of 2 vaccines."""
    pf = admin.upsert_lot(st, staff.supervisor, LotInput("PFIZER", "FK0891", "30/06/2027", 500))
    az = admin.upsert_lot(st, staff.supervisor, LotInput("AZ", "ABV5811", "31/05/2027", 300))
    day = Day(pf.id, az.id)
    for i in range(7):
        pid = walk_in(st, staff, i)
        day.person_ids.append(pid)
        lot = pf.id if i < 5 else az.id
        if i == 4:
            # A second dose: dose 1 given elsewhere 30 days ago (paper certificate).
            clinical.record_past_dose(
                st, staff.clerk,
                PastDoseInput(pid, "PFIZER", 1, "primary",
                              (st.today() - timedelta(days=30)).strftime("%d/%m/%Y")),
            )
        clinical.record_screening(st, staff.screener, pid, answers=ELIGIBLE_4355, outcome="eligible")
        clock.advance(minutes=3)
        dose = clinical.record_dose(st, staff.clerk, DoseInput(pid, lot))
        day.doses.append(dose)
    # A mistake, voided by the supervisor: not counted.
    bad = day.doses.pop(1)
    clinical.void_dose(st, staff.supervisor, bad.id, "Nhập nhầm người")
    day.voided.append(bad)
    for i in (20, 21):
        pid = walk_in(st, staff, i)
        clinical.record_screening(st, staff.screener, pid, answers=DEFER, outcome="defer")
        day.deferred.append(pid)
    clinical.record_adverse_event(st, staff.clerk, day.doses[0].id, severity="common",
                                  description="Đau chỗ tiêm, sốt nhẹ")
    clinical.record_adverse_event(st, staff.clerk, day.doses[5].id, severity="severe",
                                  description="Khó thở, chuyển viện")
    clock.advance(minutes=31)
    return day
