"""Exchange with other systems, the database half: export this site's doses, import a list.

The mapping, reading and checking of files is :mod:`kernel.exchange` (the hub
imports lists with it too); this module adds what needs the station's database:
which doses to export, which people are known or already expected, and the
commit through ``people.add_expected`` in one transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from sqlalchemy import bindparam, text

from kernel.chunks import in_chunks
from kernel.errors import FieldIssue, ValidationError
from kernel.exchange import (
    CheckedFile,
    ColumnMapping,
    ColumnSpec,
    ExportResult,
    ImportPlan,
    ImportResult,
    ImportRow,
    RowIssue,
    check_file,
    export_value,
    issue_lines,
    load_mapping,
    make_plan,
    no_id_key,
    parse_mapping,
    read_table,
    row_to_person,
    write_table,
)
from kernel.person import PersonInput, validate_person
from kernel.roles import require
from station.services import people
from station.services.common import ProgressFn
from station.store import Actor, Station

log = logging.getLogger(__name__)


_EXPORT_SQL = """
SELECT d.id AS dose_id, d.day, d.vaccine_code, d.lot_number, d.dose_number, d.kind,
       d.site_code, p.full_name, p.birth, p.sex, p.id_type, p.id_number, p.old_id_number,
       p.phone, p.bhyt, p.province_code, p.ward_code, p.address_line, p.priority_group,
       p.occupation
FROM dose d JOIN person p ON p.id = d.person_id
WHERE d.site_code = :s AND d.day >= :a AND d.day <= :b AND d.source = 'site' AND d.voided = 0
ORDER BY d.day, d.administered_at, d.id
"""


def export_rows(
    st: Station, start: date, end: date, mapping: ColumnMapping
) -> list[list[object]]:
    """The data rows (without headers) of an export, in mapping column order."""
    with st.read() as conn:
        rows = conn.execute(
            text(_EXPORT_SQL), {"s": st.site_code, "a": start.isoformat(), "b": end.isoformat()}
        ).mappings().all()
    fields = [c.field for c in mapping.columns]
    return [[export_value(f, r, mapping, n) for f in fields] for n, r in enumerate(rows, start=1)]


def export_records(
    st: Station,
    actor: Actor,
    start: date,
    end: date,
    out: Path | str,
    mapping: ColumnMapping | None = None,
) -> ExportResult:
    """Export the doses given here from ``start`` to ``end`` (inclusive) to ``out``.

    The file holds personal data: the export is audited (who, which days, how many
    rows; never the contents).
    """
    if actor.role != "system":
        require(actor.role, "view_reports")
    if end < start:
        raise ValidationError([FieldIssue("end", "range.reversed")])
    mapping = mapping or load_mapping()
    path = Path(out)
    rows = export_rows(st, start, end, mapping)
    write_table(path, mapping, rows)
    with st.unit_of_work(actor, min_ops=0) as uow:
        uow.audit(
            "export_records", None, None,
            detail={"from": start.isoformat(), "to": end.isoformat(), "rows": len(rows),
                    "mapping": mapping.name, "format": path.suffix.lower().lstrip(".")},
        )  # fmt: skip
    log.info("exported %d rows (%s..%s)", len(rows), start, end)
    return ExportResult(str(path), len(rows), start.isoformat(), end.isoformat(), mapping.name)


def _db_state(
    st: Station, day: str, numbers: Sequence[str]
) -> tuple[dict[str, str], set[str], set[tuple[str, str, str]]]:
    """(ID number -> active person, people expected that day, no-ID keys expected that day)."""
    known: dict[str, str] = {}
    unique = sorted(set(numbers))
    q = text(
        "SELECT id_number, id FROM person WHERE status = 'active' AND id_number IN :nums"
    ).bindparams(bindparam("nums", expanding=True))
    with st.read() as conn:
        for chunk in in_chunks(unique):
            for number, pid in conn.execute(q, {"nums": chunk}):
                known.setdefault(str(number), str(pid))
        rows = conn.execute(
            text(
                "SELECT r.person_id, p.id_number, p.name_fold, p.birth, p.phone FROM registration r "
                "JOIN person p ON p.id = r.person_id WHERE r.site_code = :s AND r.day = :d"
            ),
            {"s": st.site_code, "d": day},
        ).all()
    expected = {str(r[0]) for r in rows}
    no_id = {(str(r[2]), str(r[3]), str(r[4] or "")) for r in rows if not r[1]}
    return known, expected, no_id


def dry_run(
    st: Station, path: Path | str, day: date, mapping: ColumnMapping | None = None
) -> ImportPlan:
    """Read and check a pre-registration file; writes nothing.

    Every problem comes back as a :class:`RowIssue` (row number, field, code).
    Errors drop the row from the plan; ``skip`` marks rows already expected that
    day (importing twice adds nothing); warnings are for the supervisor to read.
    """
    mapping = mapping or load_mapping()
    today = st.today()
    if day < today:
        raise ValidationError([FieldIssue("day", "day.past")])
    cf = check_file(path, mapping, today=today)
    known, expected, no_id_expected = _db_state(
        st, day.isoformat(), [v["id_number"] for _n, _p, v in cf.checked if v["id_number"]]
    )
    return make_plan(cf, day, mapping, known=known, expected=expected, no_id_expected=no_id_expected)


def commit_import(
    st: Station, actor: Actor, plan: ImportPlan, *, progress: ProgressFn | None = None
) -> ImportResult:
    """Add every good row of ``plan`` in one transaction (``people.add_expected``), or none.

    Rows without an ID number are checked again against the day's list first:
    ``add_expected`` recognises people by ID number only, and a second import of
    the same file must not add them twice.
    """
    require(actor.role, "add_expected")
    day = date.fromisoformat(plan.day)
    _known, _expected, no_id_expected = _db_state(st, plan.day, [])
    rows: list[PersonInput] = []
    skipped = 0
    for r in plan.rows:
        if r.status == "already_expected":
            skipped += 1
            continue
        if not r.person.id_number:
            values, _w = validate_person(r.person, today=st.today(), walk_in=False)
            if no_id_key(values) in no_id_expected:
                skipped += 1
                continue
        rows.append(r.person)
    results = people.add_expected(
        st, actor, rows, day=day, source="import", import_ref=plan.import_ref[:64], progress=progress
    )
    ops_new = _count_new_people(st, [res.op_id for res in results])
    return ImportResult(
        day=plan.day,
        people_added=ops_new,
        registrations_added=len(results),
        skipped=skipped + (len(rows) - len(results)),
        import_ref=plan.import_ref,
    )


def _count_new_people(st: Station, op_ids: Sequence[str]) -> int:
    """How many of the import's ops registered a new person (the rest attached a known one)."""
    n = 0
    q = text(
        "SELECT count(*) FROM sync_outbox WHERE op_type = 'register_person' AND op_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    with st.read() as conn:
        for chunk in in_chunks(list(op_ids)):
            n += int(conn.execute(q, {"ids": chunk}).scalar_one())
    return n


# The pure half is re-exported: callers (UI, CLI, tests) use one module for both.
__all__ = [
    "CheckedFile",
    "ColumnMapping",
    "ColumnSpec",
    "ExportResult",
    "ImportPlan",
    "ImportResult",
    "ImportRow",
    "RowIssue",
    "check_file",
    "commit_import",
    "dry_run",
    "export_records",
    "export_rows",
    "issue_lines",
    "load_mapping",
    "make_plan",
    "no_id_key",
    "parse_mapping",
    "read_table",
    "row_to_person",
    "write_table",
]
