"""Small builders shared by the station tests."""

from __future__ import annotations

from kernel import refdata
from station.dto import PersonInput, ScreeningDTO
from station.store import Actor, Station

QR_AN = "075090001234|271234567|NGUYỄN VĂN AN|15031990|Nam|Số 5, Biên Hòa, Đồng Nai|01052021"


def person(**overrides: object) -> PersonInput:
    base: dict[str, object] = {
        "full_name": "Nguyễn Thị Đào",
        "birth": "07/03/1985",
        "sex": "F",
        "id_type": "cccd",
        "id_number": "075185001234",
        "phone": "0912345678",
        "priority_group": 9,
        "province_code": "75",
        "address_line": "Số 12, đường Phạm Văn Thuận",
    }
    base.update(overrides)
    return PersonInput(**base)  # type: ignore[arg-type]


# Every question answered "no" on the adult form a screening today uses (the tests'
# clock is in 2026: QĐ 5785/QĐ-BYT). "No" to a question that does not apply (a
# pregnancy question for a man) is accepted. The old name stays for other branches.
ELIGIBLE = {item.id: False for item in refdata.default_screening_form().items}
ELIGIBLE_4355 = ELIGIBLE


def screen_eligible(st: Station, screener: Actor, person_id: str) -> ScreeningDTO:
    """Screen a person "eligible" on the form the station chooses for them today.

    For people of any age (random test people born in a year only may be 17 or 18:
    the children's checklist, which also needs a guardian).
    """
    from station.services import clinical

    form = refdata.screening_forms()[clinical.screening_form_for(st, person_id).form_id or ""]
    guardian = {"guardian_name": "Nguyễn Văn Ba", "guardian_phone": "0912000111"} if form.guardian else {}
    return clinical.record_screening(
        st, screener, person_id, answers={i.id: False for i in form.items}, outcome="eligible",
        **guardian,  # type: ignore[arg-type]
    )
