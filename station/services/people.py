"""Registering people, expected lists, check-in and demographic edits."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import Connection, RowMapping, text

from kernel.chunks import in_chunks
from kernel.errors import DomainError, FieldIssue, NotFound, ValidationError
from kernel.ids import uuid7
from kernel.ops import (
    CONTACT_FIELDS,
    IDENTITY_FIELDS,
    AddRegistrationP,
    CheckInP,
    FieldChange,
    RegisterPersonP,
    RegP,
    UpdatePersonP,
    build,
    person_payload,
    wire,
)
from kernel.person import PersonValues
from kernel.roles import require
from station.db import RawConnection
from station.dto import PersonDTO, PersonInput, RegisterResult, RegistrationDTO
from station.services.common import (
    PERSON_COLUMNS,
    WRITE_CHUNK,
    PersonRow,
    ProgressFn,
    RegistrationRow,
    breathe,
    load_person,
    person_dto,
    registration_dto,
    validate_person,
)
from station.store import Actor, Station, UnitOfWork

REG_COLUMNS = "id, person_id, site_code, day, source, status, queue_label, checked_in_at"


def _existing_by_id_number(conn: Connection, id_number: str | None) -> str | None:
    if not id_number:
        return None
    found = conn.execute(
        text("SELECT id FROM person WHERE id_number = :n AND status = 'active' LIMIT 1"),
        {"n": id_number},
    ).scalar()
    return str(found) if found else None


def _next_queue_label(conn: Connection, site: str, day: str, letter: str) -> str:
    # Each station of a site numbers its own queue with its letter, so two
    # laptops working offline never hand out the same number.
    n = conn.execute(
        text(
            "SELECT count(*) FROM registration WHERE site_code = :s AND day = :d "
            "AND queue_label LIKE :p"
        ),
        {"s": site, "d": day, "p": f"{letter}%"},
    ).scalar_one()
    return f"{letter}{int(n) + 1}"


def _station_letter(conn: Connection) -> str:
    return str(conn.execute(text("SELECT station_letter FROM sync_state WHERE id = 1")).scalar_one())


def _new_person_row(uow: UnitOfWork, person_id: str, values: PersonValues, consent: bool) -> PersonRow:
    """The person row a registration writes: the entered values and the row's own fields."""
    return {
        **values,
        "id": person_id,
        "status": "active",
        "origin_site": uow.actor.site_code,
        "version": 0,
        "consent_at": uow.now_iso if consent else None,
        "created_at": uow.now_iso,
        "updated_at": uow.now_iso,
    }


def _insert_person(uow: UnitOfWork, person_id: str, values: PersonValues, consent: bool) -> None:
    row = _new_person_row(uow, person_id, values, consent)
    cols = ", ".join(row)
    params = ", ".join(f":{c}" for c in row)
    uow.conn.execute(text(f"INSERT INTO person ({cols}) VALUES ({params})"), row)


def _registration_row(
    uow: UnitOfWork, person_id: str, day: str, source: str, status: str, queue_label: str | None
) -> RegistrationRow:
    return {
        "id": uuid7(),
        "person_id": person_id,
        "site_code": uow.actor.site_code,
        "day": day,
        "source": source,
        "status": status,
        "queue_label": queue_label,
        "checked_in_at": uow.now_iso if status == "checked_in" else None,
        "import_ref": None,
        "version": 0,
        "created_at": uow.now_iso,
        "updated_at": uow.now_iso,
    }


def _insert_registration(uow: UnitOfWork, row: Mapping[str, object]) -> None:
    cols = ", ".join(row)
    params = ", ".join(f":{c}" for c in row)
    uow.conn.execute(text(f"INSERT INTO registration ({cols}) VALUES ({params})"), dict(row))


# The registration's keys in a register_person op (its person is the op's entity), and
# in an add_registration op (which names the person).
_REG_KEYS_NEW = ("id", "day", "source", "status", "queue_label")
_REG_KEYS_ADD = ("id", "person_id", *_REG_KEYS_NEW[1:])


def _register_payload(
    values: Mapping[str, object], consent: bool, reg: Mapping[str, object], reg_keys: Sequence[str]
) -> dict[str, object]:
    """A ``register_person`` payload: the checked person values and the registration."""
    return wire(
        build(
            RegisterPersonP,
            person=person_payload(values, consent),
            registration=build(RegP, **{k: reg[k] for k in reg_keys}),
        )
    )


def _add_registration_payload(reg: Mapping[str, object], reg_keys: Sequence[str]) -> dict[str, object]:
    return wire(build(AddRegistrationP, registration=build(RegP, **{k: reg[k] for k in reg_keys})))


def register_walk_in(
    st: Station, actor: Actor, data: PersonInput, *, check_in: bool = True
) -> RegisterResult:
    """Register a person who walked in today; by default also checks them in."""
    require(actor.role, "register")
    with st.unit_of_work(actor) as uow:
        values, warnings = validate_person(data, today=uow.today, walk_in=True)
        existing = _existing_by_id_number(uow.conn, values["id_number"])
        if existing:
            raise DomainError("person.duplicate_id", person_id=existing)
        person_id = uuid7()
        day = uow.today.isoformat()
        label = _next_queue_label(uow.conn, actor.site_code, day, _station_letter(uow.conn)) if check_in else None
        reg = _registration_row(
            uow, person_id, day, "walk_in", "checked_in" if check_in else "expected", label
        )
        op_id = uow.emit(
            "register_person", "person", person_id,
            _register_payload(values, data.consent, reg, _REG_KEYS_NEW),
        )
        _insert_person(uow, person_id, values, data.consent)
        _insert_registration(uow, reg)
        person = person_dto(load_person(uow.conn, person_id))
    return RegisterResult(person, registration_dto(reg), op_id, tuple(warnings))


def add_registration(
    st: Station, actor: Actor, person_id: str, *, day: date | None = None, check_in: bool = False
) -> RegistrationDTO:
    """Register a known person (found by search) for a day at this site."""
    require(actor.role, "register")
    with st.unit_of_work(actor) as uow:
        person = load_person(uow.conn, person_id)
        the_day = (day or uow.today).isoformat()
        if day is not None and day < uow.today:
            raise ValidationError([FieldIssue("day", "day.past")])
        dup = uow.conn.execute(
            text(
                f"SELECT {REG_COLUMNS} FROM registration WHERE person_id = :p AND site_code = :s "
                "AND day = :d"
            ),
            {"p": person["id"], "s": actor.site_code, "d": the_day},
        ).mappings().first()
        if dup is not None:
            raise DomainError("registration.exists", registration_id=dup["id"])
        label = (
            _next_queue_label(uow.conn, actor.site_code, the_day, _station_letter(uow.conn))
            if check_in
            else None
        )
        reg = _registration_row(
            uow, person["id"], the_day, "walk_in" if check_in else "app",
            "checked_in" if check_in else "expected", label,
        )
        uow.emit("add_registration", "registration", reg["id"], _add_registration_payload(reg, _REG_KEYS_ADD))
        _insert_registration(uow, reg)
    return registration_dto(reg)


_PERSON_INSERT_COLS = (
    "id", "full_name", "name_fold", "birth", "birth_year", "sex", "id_type", "id_number",
    "old_id_number", "phone", "province_code", "ward_code", "address_line", "priority_group",
    "occupation", "bhyt", "status", "origin_site", "version", "consent_at", "created_at",
    "updated_at",
)
_PERSON_INSERT_SQL = (
    f"INSERT INTO person ({', '.join(_PERSON_INSERT_COLS)}) "
    f"VALUES ({', '.join('?' for _ in _PERSON_INSERT_COLS)})"
)
_REG_INSERT_COLS = (
    "id", "person_id", "site_code", "day", "source", "status", "queue_label", "checked_in_at",
    "import_ref", "version", "created_at", "updated_at",
)
_REG_INSERT_SQL = (
    f"INSERT INTO registration ({', '.join(_REG_INSERT_COLS)}) "
    f"VALUES ({', '.join('?' for _ in _REG_INSERT_COLS)})"
)


def _active_ids_by_number(raw: RawConnection, numbers: Sequence[str]) -> dict[str, str]:
    """ID number -> an active person with it, for many numbers at once (chunked IN lists)."""
    found: dict[str, str] = {}
    for chunk in in_chunks(sorted(set(numbers))):
        marks = ", ".join("?" for _ in chunk)
        for number, pid in raw.execute(
            f"SELECT id_number, id FROM person WHERE status = 'active' AND id_number IN ({marks})",
            chunk,
        ):
            # Same choice as _existing_by_id_number: any one active holder of the number.
            found.setdefault(str(number), str(pid))
    return found


def add_expected(
    st: Station,
    actor: Actor,
    people: Sequence[PersonInput],
    *,
    day: date,
    source: str = "import",
    import_ref: str | None = None,
    progress: ProgressFn | None = None,
) -> list[RegisterResult]:
    """Add a list of expected people for a day: all rows or none.

    One transaction; one op per person (each person is its own intent for the hub).
    Rows whose ID number already exists attach a registration to that person.

    Sized for district lists (50,000 rows in seconds): look-ups are batched before
    the loop and the inserts run as prepared statements on the transaction's raw
    DB-API connection, like ``record_dose``'s hot path.

    The work goes in chunks of ``WRITE_CHUNK`` rows (still one transaction): between
    chunks ``progress(done, total)`` is called and other threads get the interpreter,
    so the window stays responsive while the app imports (``bench ui_stall``).
    Progress counts each row twice: once checked, once written.
    """
    require(actor.role, "add_expected")
    if source not in ("import", "app"):
        raise ValidationError([FieldIssue("source", "source.invalid")])
    # An import of rows that are all already expected that day writes nothing.
    with st.unit_of_work(actor, min_ops=0) as uow:
        if day < uow.today:
            raise ValidationError([FieldIssue("day", "day.past")])
        cleaned = _checked_rows(people, uow, progress)
        batch = _ExpectedBatch(uow, day.isoformat(), source, import_ref, cleaned)
        for n, row in enumerate(cleaned, 1):
            if n % WRITE_CHUNK == 0:
                breathe(progress, len(people) + n, 2 * len(people))
            batch.add(*row)
        batch.write()
        if progress is not None:
            progress(2 * len(people), 2 * len(people))
    return batch.results


_Checked = tuple[PersonValues, list[FieldIssue], bool]  # values, warnings, consent


def _checked_rows(
    people: Sequence[PersonInput], uow: UnitOfWork, progress: ProgressFn | None
) -> list[_Checked]:
    """Every row checked (all issues of all rows at once, named ``rows[i].field``)."""
    all_issues: list[FieldIssue] = []
    cleaned: list[_Checked] = []
    for idx, data in enumerate(people):
        try:
            values, warnings = validate_person(data, today=uow.today, walk_in=False)
            cleaned.append((values, warnings, data.consent))
        except ValidationError as exc:
            all_issues += [replace(i, field=f"rows[{idx}].{i.field}") for i in exc.issues]
        if (idx + 1) % WRITE_CHUNK == 0:
            breathe(progress, idx + 1, 2 * len(people))
    if all_issues:
        raise ValidationError(all_issues)
    return cleaned


class _ExpectedBatch:
    """The rows of an expected list: ops emitted one by one, rows inserted in batches.

    Look-ups are batched; both maps grow as rows are added, so a number repeated
    within the list behaves exactly as if the rows came one call at a time.
    """

    def __init__(
        self, uow: UnitOfWork, day: str, source: str, import_ref: str | None, cleaned: list[_Checked]
    ) -> None:
        self.uow, self.day, self.source, self.import_ref = uow, day, source, import_ref
        self.by_number = _active_ids_by_number(
            uow.raw, [v["id_number"] for v, _w, _c in cleaned if v["id_number"]]
        )
        self.expected_today = {
            str(r[0])
            for r in uow.raw.execute(
                "SELECT person_id FROM registration WHERE site_code = ? AND day = ?",
                (uow.actor.site_code, day),
            )
        }
        self.person_rows: list[tuple[object, ...]] = []
        self.reg_rows: list[tuple[object, ...]] = []
        self.results: list[RegisterResult] = []

    def add(self, values: PersonValues, warnings: list[FieldIssue], consent: bool) -> None:
        uow = self.uow
        number = values["id_number"]
        existing = self.by_number.get(number) if number else None
        if existing and existing in self.expected_today:
            return  # already expected that day: importing twice adds nothing
        person_id = existing or uuid7()
        reg = _registration_row(uow, person_id, self.day, self.source, "expected", None)
        reg["import_ref"] = self.import_ref
        person_row: PersonRow | RowMapping
        if existing:
            op_id = uow.emit(
                "add_registration", "registration", reg["id"],
                _add_registration_payload(reg, (*_REG_KEYS_ADD, "import_ref")),
            )
            person_row = load_person(uow.conn, existing)
        else:
            op_id = uow.emit(
                "register_person", "person", person_id,
                _register_payload(values, consent, reg, (*_REG_KEYS_NEW, "import_ref")),
            )
            new_row = _new_person_row(uow, person_id, values, consent)
            person_row = new_row
            columns: Mapping[str, object] = new_row
            self.person_rows.append(tuple(columns[c] for c in _PERSON_INSERT_COLS))
            if number:
                self.by_number[number] = person_id
        reg_columns: Mapping[str, object] = reg
        self.reg_rows.append(tuple(reg_columns[c] for c in _REG_INSERT_COLS))
        self.expected_today.add(person_id)
        self.results.append(
            RegisterResult(person_dto(person_row), registration_dto(reg), op_id, tuple(warnings))
        )

    def write(self) -> None:
        # Rows go in after their ops, still inside the transaction (the guard triggers
        # only ask that the transaction has written its outbox rows first); one
        # executemany per table saves a Python round trip per row.
        for sql, rows in ((_PERSON_INSERT_SQL, self.person_rows), (_REG_INSERT_SQL, self.reg_rows)):
            for start in range(0, len(rows), WRITE_CHUNK):
                self.uow.raw.executemany(sql, rows[start : start + WRITE_CHUNK])
                breathe(None, 0, 0)


def check_in(st: Station, actor: Actor, registration_id: str) -> RegistrationDTO:
    """Mark an expected person as arrived and give a queue number."""
    require(actor.role, "check_in")
    with st.unit_of_work(actor) as uow:
        row = uow.conn.execute(
            text(f"SELECT {REG_COLUMNS}, version FROM registration WHERE id = :i"),
            {"i": registration_id},
        ).mappings().first()
        if row is None:
            raise NotFound("registration.not_found")
        if row["site_code"] != actor.site_code:
            raise DomainError("registration.other_site")
        if row["day"] != uow.today.isoformat():
            raise DomainError("registration.not_today", day=row["day"])
        if row["status"] != "expected":
            raise DomainError("registration.already_checked_in", status=row["status"])
        label = _next_queue_label(uow.conn, actor.site_code, row["day"], _station_letter(uow.conn))
        uow.emit(
            "check_in",
            "registration",
            registration_id,
            wire(build(CheckInP, queue_label=label, checked_in_at=uow.now_iso)),
            base_version=row["version"],
        )
        uow.conn.execute(
            text(
                "UPDATE registration SET status = 'checked_in', queue_label = :q, "
                "checked_in_at = :t, updated_at = :t WHERE id = :i"
            ),
            {"q": label, "t": uow.now_iso, "i": registration_id},
        )
        new = uow.conn.execute(
            text(f"SELECT {REG_COLUMNS} FROM registration WHERE id = :i"), {"i": registration_id}
        ).mappings().one()
    return registration_dto(new)


def update_person(
    st: Station,
    actor: Actor,
    person_id: str,
    changes: Mapping[str, object],
    *,
    base_version: int | None = None,
) -> PersonDTO:
    """Edit demographics. The op carries old and new values per field (3-way merge at the hub)."""
    unknown = set(changes) - IDENTITY_FIELDS - CONTACT_FIELDS
    if unknown:
        raise ValidationError([FieldIssue(f, "field.not_editable") for f in sorted(unknown)])
    if set(changes) & IDENTITY_FIELDS:
        require(actor.role, "update_identity")
    else:
        require(actor.role, "update_contact")
    with st.unit_of_work(actor) as uow:
        current = load_person(uow.conn, person_id)
        if current["status"] != "active":
            raise DomainError("person.not_active", status=current["status"])
        from kernel.rules.vietnam import PartialDate

        merged = {k: current[k] for k in IDENTITY_FIELDS | CONTACT_FIELDS}
        merged["birth"] = PartialDate.from_iso(current["birth"]).display()
        merged.update(changes)
        values, _warnings = validate_person(
            PersonInput(**{k: v for k, v in merged.items() if v is not None or k != "id_type"}),
            today=uow.today,
            walk_in=False,
        )
        diff: dict[str, FieldChange] = {}
        for fld in changes:
            new_val = values.get(fld)
            if new_val != current[fld]:
                diff[fld] = build(FieldChange, old=current[fld], new=new_val)
        if "id_type" in values and values["id_type"] != current["id_type"] and "id_type" not in diff:
            diff["id_type"] = build(FieldChange, old=current["id_type"], new=values["id_type"])
        if not diff:
            raise DomainError("person.no_change")
        if values["id_number"] and "id_number" in diff:
            other = _existing_by_id_number(uow.conn, values["id_number"])
            if other and other != current["id"]:
                raise DomainError("person.duplicate_id", person_id=other)
        uow.emit(
            "update_person",
            "person",
            current["id"],
            wire(build(UpdatePersonP, fields=diff)),
            base_version=base_version if base_version is not None else current["version"],
        )
        sets = {f: d.new for f, d in diff.items()}
        if "full_name" in sets:
            sets["name_fold"] = values["name_fold"]
        if "birth" in sets:
            sets["birth_year"] = values["birth_year"]
        sets["updated_at"] = uow.now_iso
        assignments = ", ".join(f"{c} = :{c}" for c in sets)
        uow.conn.execute(
            text(f"UPDATE person SET {assignments} WHERE id = :pid"), sets | {"pid": current["id"]}
        )
        return person_dto(load_person(uow.conn, current["id"]))


def get_person(st: Station, person_id: str) -> PersonDTO:
    with st.read() as conn:
        return person_dto(load_person(conn, person_id))


def registrations_for_day(
    st: Station, day: date | None = None, *, status: str | None = None
) -> list[tuple[RegistrationDTO, PersonDTO]]:
    """Today's (or a day's) list at this site, with the people, in queue then name order."""
    the_day = (day or st.today()).isoformat()
    sql = (
        f"SELECT r.id AS r_id, r.person_id, r.site_code, r.day, r.source, r.status AS r_status, "
        f"r.queue_label, r.checked_in_at, {', '.join('p.' + c.strip() for c in PERSON_COLUMNS.split(','))} "
        "FROM registration r JOIN person p ON p.id = r.person_id "
        "WHERE r.site_code = :s AND r.day = :d"
    )
    params: dict[str, object] = {"s": st.site_code, "d": the_day}
    if status:
        sql += " AND r.status = :st"
        params["st"] = status
    sql += " ORDER BY r.queue_label IS NULL, length(r.queue_label), r.queue_label, p.name_fold"
    with st.read() as conn:
        rows = conn.execute(text(sql), params).mappings().all()
    out = []
    for r in rows:
        reg = RegistrationDTO(
            id=r["r_id"], person_id=r["person_id"], site_code=r["site_code"], day=r["day"],
            source=r["source"], status=r["r_status"], queue_label=r["queue_label"],
            checked_in_at=r["checked_in_at"],
        )
        out.append((reg, person_dto(r)))
    return out


__all__ = [
    "add_expected",
    "add_registration",
    "check_in",
    "get_person",
    "register_walk_in",
    "registrations_for_day",
    "update_person",
]
