"""Small builders shared by the station tests."""

from __future__ import annotations

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


ELIGIBLE_4355 = {k: False for k in ("1", "2a", "2b", "3", "4", "5", "6", "7", "8", "9")}
