"""Validation and row-mapping helpers shared by the services."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypedDict

from sqlalchemy import Connection, RowMapping, text

from kernel.errors import NotFound, ValidationError
from kernel.person import PersonValues

# Person validation is pure and lives in the kernel; re-exported for the services.
from kernel.person import check_address as check_address
from kernel.person import check_priority_group as check_priority_group
from kernel.person import check_text as check_text
from kernel.person import validate_person as validate_person
from kernel.rules import vietnam as vn
from station.dto import PersonDTO, RegistrationDTO

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


PERSON_COLUMNS = (
    "id, full_name, birth, sex, id_type, id_number, old_id_number, phone, province_code, "
    "ward_code, address_line, priority_group, occupation, bhyt, status, version, consent_at"
)


class PersonRow(PersonValues):
    """A new ``person`` row: the checked values and the row's own columns (all but ``rid``)."""

    id: str
    status: str
    origin_site: str
    version: int
    consent_at: str | None
    created_at: str
    updated_at: str


def person_dto(row: PersonRow | RowMapping) -> PersonDTO:
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


class RegistrationRow(TypedDict):
    """A new ``registration`` row (every column but ``rid``)."""

    id: str
    person_id: str
    site_code: str
    day: str
    source: str
    status: str
    queue_label: str | None
    checked_in_at: str | None
    import_ref: str | None
    version: int
    created_at: str
    updated_at: str


def registration_dto(row: RegistrationRow | RowMapping) -> RegistrationDTO:
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


def load_person(conn: Connection, person_id: str) -> RowMapping:
    pid = resolve_person_id(conn, person_id)
    row = (
        conn.execute(text(f"SELECT {PERSON_COLUMNS} FROM person WHERE id = :i"), {"i": pid})
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("person.not_found")
    return row


def require_reason(raw: str | None, field: str = "reason") -> str:
    value, issues = check_text(raw, field=field, max_len=500, required=True, min_len=3)
    if issues:
        raise ValidationError(issues)
    assert value is not None
    return value
