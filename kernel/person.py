"""A person as typed, scanned or read from a file, and the rules that clean it.

Pure (no database): the station's services, the import of pre-registration
lists and the hub's own importer all validate a person here, the same way.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

from kernel import refdata
from kernel.errors import FieldIssue, ValidationError
from kernel.rules import vietnam as vn


@dataclass(frozen=True, slots=True)
class PersonInput:
    """Raw input for a person, as typed or scanned. Services validate everything."""

    full_name: str | None = None
    birth: str | None = None  # "dd/mm/yyyy", "yyyy", ISO, ...
    sex: str | None = None
    id_type: str = "cccd"
    id_number: str | None = None
    old_id_number: str | None = None
    phone: str | None = None
    province_code: str | None = None
    ward_code: str | None = None
    address_line: str | None = None
    priority_group: int | str | None = None
    occupation: str | None = None
    bhyt: str | None = None
    consent: bool = False


# Characters refused in free text: markup, shell and SQL metacharacters that no
# address or description needs, and every control character.
_BAD_TEXT = re.compile(r"[<>{}$`;=\\|\x00-\x1f\x7f]")
_BHYT = re.compile(r"^(?:[A-Z]{2}\d{13}|\d{10})$")


def check_text(
    raw: object,
    *,
    field: str,
    max_len: int,
    required: bool = False,
    min_len: int = 1,
) -> tuple[str | None, list[FieldIssue]]:
    """Free text (address, occupation, reasons): trimmed, bounded, no metacharacters."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ([FieldIssue(field, f"{field}.required")] if required else [])
    if not isinstance(raw, str):
        return None, [FieldIssue(field, f"{field}.invalid")]
    value = unicodedata.normalize("NFC", " ".join(raw.split()))
    if len(value) > max_len:
        return None, [FieldIssue(field, f"{field}.too_long", {"max": max_len})]
    if len(value) < min_len:
        return None, [FieldIssue(field, f"{field}.too_short", {"min": min_len})]
    if _BAD_TEXT.search(raw):
        return None, [FieldIssue(field, f"{field}.invalid_chars")]
    return value, []


def check_priority_group(raw: object, *, required: bool) -> tuple[int | None, list[FieldIssue]]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None, ([FieldIssue("priority_group", "priority_group.required")] if required else [])
    try:
        code = int(str(raw).strip())
    except ValueError:
        return None, [FieldIssue("priority_group", "priority_group.invalid")]
    if code not in refdata.priority_groups():
        return None, [FieldIssue("priority_group", "priority_group.unknown", {"min": 1, "max": 16})]
    return code, []


def check_address(
    province_code: str | None, ward_code: str | None
) -> tuple[tuple[str | None, str | None], list[FieldIssue]]:
    prov = (province_code or "").strip() or None
    ward = (ward_code or "").strip() or None
    issues: list[FieldIssue] = []
    if prov is not None and prov not in refdata.provinces():
        issues.append(FieldIssue("province_code", "province_code.unknown"))
        prov = None
    if ward is not None:
        w = refdata.ward(ward)
        if w is None:
            issues.append(FieldIssue("ward_code", "ward_code.unknown"))
            ward = None
        elif prov is not None and w.province_code != prov:
            issues.append(FieldIssue("ward_code", "ward_code.not_in_province"))
        elif prov is None:
            prov = w.province_code
    return (prov, ward), issues


class PersonValues(TypedDict):
    """A person's checked values, as the services store them (with the derived search columns)."""

    full_name: str
    name_fold: str
    birth: str  # ISO, or a bare year
    birth_year: int
    sex: str | None
    id_type: str
    id_number: str | None
    old_id_number: str | None
    phone: str | None
    province_code: str | None
    ward_code: str | None
    address_line: str | None
    priority_group: int | None
    occupation: str | None
    bhyt: str | None


def validate_person(
    data: PersonInput, *, today: date, walk_in: bool
) -> tuple[PersonValues, list[FieldIssue]]:
    """All fields of a person at once: (clean values, warnings) or ValidationError."""
    issues: list[FieldIssue] = []
    name, iss = vn.check_full_name(data.full_name)
    issues += iss
    birth, iss = vn.parse_date(
        data.birth, field="birth", today=today, allow_year_only=True, min_year=1900
    )
    issues += iss
    sex, iss = vn.check_sex(data.sex) if (walk_in or data.sex) else (None, [])
    issues += iss
    id_number, iss = vn.check_id_number(data.id_type, data.id_number, birth=birth, sex=sex)
    issues += iss
    old_id: str | None = None
    if data.old_id_number and data.old_id_number.strip():
        old_id, iss = vn.check_id_number("cmnd", data.old_id_number, field="old_id_number")
        issues += iss
    phone, iss = vn.check_phone(data.phone, required=walk_in)
    issues += iss
    (prov, ward), iss = check_address(data.province_code, data.ward_code)
    issues += iss
    addr, iss = check_text(data.address_line, field="address_line", max_len=200)
    issues += iss
    group, iss = check_priority_group(data.priority_group, required=walk_in)
    issues += iss
    occ, iss = check_text(data.occupation, field="occupation", max_len=100)
    issues += iss
    bhyt: str | None = None
    if data.bhyt and data.bhyt.strip():
        bhyt = data.bhyt.strip().upper().replace(" ", "")
        if not _BHYT.match(bhyt):
            issues.append(FieldIssue("bhyt", "bhyt.invalid"))
    errors = [i for i in issues if i.is_error]
    if errors:
        raise ValidationError(errors)
    assert name is not None and birth is not None
    values: PersonValues = {
        "full_name": name,
        "name_fold": vn.fold(name),
        "birth": birth.iso(),
        "birth_year": birth.year,
        "sex": sex,
        "id_type": data.id_type if id_number else "none",
        "id_number": id_number,
        "old_id_number": old_id,
        "phone": phone,
        "province_code": prov,
        "ward_code": ward,
        "address_line": addr,
        "priority_group": group,
        "occupation": occ,
        "bhyt": bhyt,
    }
    return values, [i for i in issues if not i.is_error]
