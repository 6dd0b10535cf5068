"""Validation and row-mapping helpers shared by the services."""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from kernel import refdata
from kernel.errors import FieldIssue, NotFound, ValidationError
from kernel.rules import vietnam as vn
from station.dto import PersonDTO, PersonInput, RegistrationDTO

# Characters refused in free text: markup, shell and SQL metacharacters that no
# address or description needs, and every control character.
# Long writes (an import of a district's list) go in chunks of this many rows.
WRITE_CHUNK = 500
# progress(done, total): called between chunks, on the writer's thread.
ProgressFn = Callable[[int, int], None]


def breathe(progress: ProgressFn | None, done: int, total: int) -> None:
    """Between two chunks of a long write: report progress and let other threads run.

    In the app a long write runs on the writer thread while the GUI thread needs
    the interpreter (the GIL) for every call into Python. ``time.sleep(0)`` gives
    the GIL up, so a waiting thread takes it now instead of at the next forced
    switch; the transaction stays open (all rows or none).
    """
    if progress is not None:
        progress(done, total)
    time.sleep(0)


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


def validate_person(
    data: PersonInput, *, today: date, walk_in: bool
) -> tuple[dict[str, Any], list[FieldIssue]]:
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
    values: dict[str, Any] = {
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


PERSON_COLUMNS = (
    "id, full_name, birth, sex, id_type, id_number, old_id_number, phone, province_code, "
    "ward_code, address_line, priority_group, occupation, bhyt, status, version, consent_at"
)


def person_dto(row: Mapping[Any, Any]) -> PersonDTO:
    birth = vn.PartialDate.from_iso(row["birth"])
    return PersonDTO(
        id=row["id"],
        full_name=row["full_name"],
        birth=row["birth"],
        birth_display=birth.display(),
        sex=row["sex"],
        id_type=row["id_type"],
        id_number=row["id_number"],
        old_id_number=row["old_id_number"],
        phone=row["phone"],
        province_code=row["province_code"],
        ward_code=row["ward_code"],
        address_line=row["address_line"],
        priority_group=row["priority_group"],
        occupation=row["occupation"],
        bhyt=row["bhyt"],
        status=row["status"],
        version=row["version"],
        consent_at=row["consent_at"],
    )


def registration_dto(row: Mapping[Any, Any]) -> RegistrationDTO:
    return RegistrationDTO(
        id=row["id"],
        person_id=row["person_id"],
        site_code=row["site_code"],
        day=row["day"],
        source=row["source"],
        status=row["status"],
        queue_label=row["queue_label"],
        checked_in_at=row["checked_in_at"],
    )


def resolve_person_id(conn: Connection, person_id: str) -> str:
    """Follow merge redirects (bounded: a redirect chain never loops)."""
    current = person_id
    for _ in range(16):
        nxt = conn.execute(
            text("SELECT to_id FROM person_redirect WHERE from_id = :i"), {"i": current}
        ).scalar()
        if nxt is None:
            return current
        current = str(nxt)
    return current


def load_person(conn: Connection, person_id: str) -> dict[str, Any]:
    pid = resolve_person_id(conn, person_id)
    row = (
        conn.execute(text(f"SELECT {PERSON_COLUMNS} FROM person WHERE id = :i"), {"i": pid})
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("person.not_found")
    return dict(row)


def require_reason(raw: str | None, field: str = "reason") -> str:
    value, issues = check_text(raw, field=field, max_len=500, required=True, min_len=3)
    if issues:
        raise ValidationError(issues)
    assert value is not None
    return value
