"""Small builders shared by the station tests."""

from __future__ import annotations

from station import refdata
from station.dto import PersonInput

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
