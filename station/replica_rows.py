"""Writing pulled hub rows into the replica: one writer for one row or a run of many.

:func:`write_rows` writes a run of upserts on the transaction's raw DB-API
connection: one version lookup per table, each row written once (a row sent
several times ends as the changes one after the other would leave it), then
``executemany`` updates and inserts per table and column set, parents' tables
before children's. A change of one row is the same call with a run of one,
plus what only a single row can have: fields kept local (``keep``, see
``station.protection``) and, when settling a kept-aside row, a row of the same
version (``allow_equal``). A new person that merge redirects point to picks up
the losers' local rows right after its table is written.

Redirects (hub merges) and review items are the genuinely different changes:
:func:`apply_redirect`, :func:`apply_review`.

Failures are classed once (:func:`failure_code`): the database itself failing
(locked, disk) is raised, since no change is at fault; a refused row (a parent
outside this station's scope) is ``pull.integrity``; anything a malformed row
can raise is ``pull.malformed``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from kernel.rules.vietnam import PartialDate, fold
from station.db import RawConnection, raw_connection
from station.held_changes import Change
from station.protection import ALL, Protection

ENTITY_TABLE = {
    "person": "person",
    "registration": "registration",
    "screening": "screening",
    "dose": "dose",
    "adverse_event": "adverse_event",
    "vaccine_lot": "vaccine_lot",
    "app_user": "app_user",
}
# Child rows that follow a person through a merge.
PERSON_CHILDREN = ("registration", "screening", "dose", "adverse_event")
# The hub's apply order: parents' tables before children's (foreign keys are on).
TABLE_ORDER = (
    "person", "vaccine_lot", "app_user", "registration", "screening", "dose", "adverse_event",
)
# Values for NOT NULL columns a hub row might omit (older hub, narrower scope);
# without them one such row would park instead of landing.
_INSERT_DEFAULTS: dict[str, dict[str, object]] = {
    "person": {"status": "active", "id_type": "none", "origin_site": ""},
    "registration": {"source": "app", "status": "expected"},
    "dose": {"kind": "primary", "source": "site", "voided": 0},
    "vaccine_lot": {"active": 1, "doses_received": 0},
    "app_user": {"active": 1},
}
_TIMESTAMP_COLUMNS = ("created_at", "updated_at")

# The database failed, not a row: the page fails whole and is pulled again.
DB_FAULTS: tuple[type[Exception], ...] = (OperationalError, sqlcipher.OperationalError)
# What a row the station cannot take raises (through SQLAlchemy or the raw connection).
ROW_FAULTS: tuple[type[Exception], ...] = (
    IntegrityError, StatementError, sqlcipher.IntegrityError, sqlcipher.InterfaceError,
    sqlcipher.ProgrammingError, sqlcipher.DataError, ValueError, KeyError, TypeError,
)


def failure_code(exc: Exception) -> str:
    """The parking code for a change that raised ``exc`` (one of ROW_FAULTS)."""
    if isinstance(exc, IntegrityError | sqlcipher.IntegrityError):
        return "pull.integrity"  # usually a parent row not (yet) in this station's scope
    return "pull.malformed"


# Each synced table's columns as the ORM models declare them (``station.models``, without
# ``rid``), written out: the models take ~0.1–0.25 s to import (SQLAlchemy's declarative
# mapping), which a pulled page needs nothing else of (issue 15: the tail of a sync).
# ``tests/station/test_replica_columns.py`` keeps this equal to the models.
COLS: dict[str, list[str]] = {
    "person": [
        "id", "full_name", "name_fold", "birth", "birth_year", "sex", "id_type", "id_number",
        "old_id_number", "phone", "province_code", "ward_code", "address_line", "priority_group",
        "occupation", "bhyt", "status", "consent_at", "origin_site", "version", "created_at",
        "updated_at"
    ],
    "registration": [
        "id", "person_id", "site_code", "day", "source", "status", "queue_label", "checked_in_at",
        "import_ref", "version", "created_at", "updated_at"
    ],
    "screening": [
        "id", "person_id", "registration_id", "site_code", "day", "form_id", "answers", "vitals",
        "suggested_outcome", "outcome", "override_reason", "screener_id", "screened_at", "version"
    ],
    "dose": [
        "id", "person_id", "site_code", "vaccine_code", "lot_id", "lot_number", "dose_number",
        "kind", "administered_at", "day", "recorded_at", "vaccinator_id", "screening_id",
        "injection_site", "source", "observe_until", "observed_at", "voided", "void_reason",
        "voided_by", "voided_at", "version", "volume_ml", "override_by", "override_reason",
        "origin_station"
    ],
    "adverse_event": [
        "id", "dose_id", "person_id", "severity", "description", "onset_at", "recorded_by",
        "recorded_at", "version"
    ],
    "vaccine_lot": [
        "id", "site_code", "vaccine_code", "lot_number", "expiry", "doses_received", "received_on",
        "active", "version", "updated_at"
    ],
    "app_user": [
        "id", "site_code", "username", "display_name", "role", "password_hash", "active",
        "version", "created_at", "updated_at"
    ],
}


def keep_for(prot: Protection, ch: Change) -> tuple[set[str], set[str]]:
    """Fields of this row kept local, and the unanswered ops that changed them."""
    person_id = ch.data.get("person_id") if ch.entity_type == "registration" else None
    return prot.for_row(ch.entity_type, ch.entity_id, str(person_id) if person_id else None)


def resolve_person(conn: Connection, person_id: str) -> str:
    """Follow merge redirects: the services' own helper (one definition).

    Imported here, on a merge only: ``station.services.common`` brings the DTOs and
    reference data, which ``tramtiem sync`` otherwise never loads (issue 15: start-up).
    """
    from station.services.common import resolve_person_id

    return resolve_person_id(conn, person_id)


def prepare_row(table: str, ch: Change) -> dict[str, object]:
    cols = COLS[table]
    row = {c: ch.data[c] for c in cols if c in ch.data}
    row["id"] = ch.entity_id
    row["version"] = ch.row_version
    if table == "person":
        # Local-only search columns, derived exactly as the services derive them.
        if "full_name" in row:
            row["name_fold"] = fold(str(row["full_name"]))
        if "birth" in row:
            row["birth_year"] = PartialDate.from_iso(str(row["birth"])).year
    # Child rows keep the hub's person_id verbatim: the hub is authoritative about
    # which person a row belongs to (after a merge it deliberately leaves a
    # registration on the merged person when the survivor already has one there
    # that day).
    return row


def fill_for_insert(table: str, row: dict[str, object], now_iso: str) -> None:
    """NOT NULL columns a hub row may omit: defaults, and the timestamps as of now."""
    for c, v in _INSERT_DEFAULTS.get(table, {}).items():
        row.setdefault(c, v)
    for c in _TIMESTAMP_COLUMNS:
        if c in COLS[table]:
            row.setdefault(c, now_iso)


# ---- the writer --------------------------------------------------------------------------


@dataclass(slots=True)
class Written:
    """What :func:`write_rows` did, counted per change as applying them one by one would."""

    applied: int = 0
    stale: int = 0  # already had this version or newer (idempotent replays)
    kept: int = 0  # the whole row is local (nothing written)


def write_rows(
    raw: RawConnection,
    run: Sequence[Change],
    now_iso: str,
    *,
    keep: frozenset[str] = frozenset(),
    allow_equal: bool = False,
) -> Written:
    """Write a run of upserts (see the module docstring); raises on the first failure.

    A row sent more than once in the run is written once, as the changes applied
    one after the other would leave it: a change no newer than the row as it
    stands by then is stale, a newer one overlays its columns. ``keep``: columns
    an update leaves as they are (ALL: the whole row, if it exists).
    """
    by_table: dict[str, list[Change]] = {}
    for ch in run:
        by_table.setdefault(ENTITY_TABLE[ch.entity_type], []).append(ch)
    out = Written()
    for table in TABLE_ORDER:
        items = by_table.get(table)
        if items:
            rows = _merge(raw, table, items, out, keep=keep, allow_equal=allow_equal)
            _write_table(raw, table, rows, now_iso, keep)
    return out


# A row to write: (is_insert, columns, its newest version, also in columns["version"]).
_Merged = tuple[bool, dict[str, object], int]


def _merge(
    raw: RawConnection, table: str, items: list[Change], out: Written, *, keep: frozenset[str], allow_equal: bool
) -> dict[str, _Merged]:
    """id -> (is_insert, row, version) for the changes not stale; the version is the newest."""
    current = _current_versions(raw, table, [ch.entity_id for ch in items])
    rows: dict[str, _Merged] = {}
    for ch in items:
        eid = ch.entity_id
        seen = rows.get(eid)
        cur = seen[2] if seen is not None else current.get(eid)
        if cur is not None and (cur > ch.row_version or (cur == ch.row_version and not allow_equal)):
            out.stale += 1
            continue
        if cur is not None and seen is None and ALL in keep:
            out.kept += 1
            continue
        row = prepare_row(table, ch)
        if seen is not None:
            seen[1].update(row)
            rows[eid] = (seen[0], seen[1], ch.row_version)
        else:
            rows[eid] = (cur is None, row, ch.row_version)
        out.applied += 1
    return rows


def _write_table(
    raw: RawConnection, table: str, rows: dict[str, _Merged], now_iso: str, keep: frozenset[str]
) -> None:
    updates: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
    inserts: dict[tuple[str, ...], list[tuple[object, ...]]] = {}
    born: list[str] = []
    for eid, (is_insert, row, _version) in rows.items():
        if is_insert:
            fill_for_insert(table, row, now_iso)
            inserts.setdefault(tuple(row), []).append(tuple(row.values()))
            born.append(eid)
        else:
            sets = {c: v for c, v in row.items() if c != "id" and c not in keep}
            updates.setdefault(tuple(sets), []).append((*sets.values(), eid))
    for cols, params in updates.items():
        assignments = ", ".join(f"{c} = ?" for c in cols)
        raw.executemany(f"UPDATE {table} SET {assignments} WHERE id = ?", params)
    for cols, params in inserts.items():
        marks = ", ".join("?" * len(cols))
        raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", params)
    if table == "person" and born:
        # Survivors that arrive after their redirect: pick up the losers' rows now.
        for loser, survivor in _redirects_to(raw, born):
            repoint(raw, loser, survivor)


def _current_versions(raw: RawConnection, table: str, ids: list[str]) -> dict[str, int]:
    cur = raw.execute(
        f"SELECT id, version FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )
    return {str(i): int(v) for i, v in cur}


def _redirects_to(raw: RawConnection, ids: list[str]) -> list[tuple[str, str]]:
    cur = raw.execute(
        "SELECT from_id, to_id FROM person_redirect WHERE to_id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )
    return [(str(f), str(t)) for f, t in cur]


def repoint(raw: RawConnection, loser: str, survivor: str) -> None:
    """Re-point this station's own rows the hub has not sent back yet (version 0).

    Rows the hub holds come back from it with their authoritative person_id, so
    they are left alone here; only local rows waiting for their op's answer
    follow the redirect now, so the UI shows them under the survivor.
    """
    for table in PERSON_CHILDREN:
        # OR IGNORE: a registration the survivor already has that day stays on the
        # merged person, as the hub does (one registration per person, site and day).
        raw.execute(
            f"UPDATE OR IGNORE {table} SET person_id = ? WHERE person_id = ? AND version = 0",
            (survivor, loser),
        )


# ---- the different changes: merges and review items -----------------------------------------


def apply_redirect(conn: Connection, ch: Change, now_iso: str) -> None:
    loser = str(ch.data.get("from_id") or ch.entity_id)
    if ch.data.get("to_id") is None:
        # An unmerge: the redirect is removed; the person's own row (status active)
        # and the rows moved back arrive as ordinary changes.
        conn.execute(text("DELETE FROM person_redirect WHERE from_id = :f"), {"f": loser})
        return
    survivor = str(ch.data["to_id"])
    if loser == survivor:
        raise ValueError("redirect to itself")
    conn.execute(
        text(
            "INSERT INTO person_redirect (from_id, to_id, created_at) VALUES (:f, :t, :c) "
            "ON CONFLICT(from_id) DO UPDATE SET to_id = :t"
        ),
        {"f": loser, "t": survivor, "c": str(ch.data.get("created_at") or now_iso)},
    )
    conn.execute(
        text("UPDATE person SET status = 'merged' WHERE id = :i AND status != 'merged'"), {"i": loser}
    )
    final = resolve_person(conn, survivor)
    exists = conn.execute(text("SELECT 1 FROM person WHERE id = :i"), {"i": final}).scalar()
    if exists:
        repoint(raw_connection(conn), loser, final)


def _json_text(v: object) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)


def apply_review(conn: Connection, ch: Change, keep: set[str]) -> None:
    d = ch.data
    row = {
        "id": ch.entity_id,
        "kind": str(d.get("kind", "")),
        "priority": str(d.get("priority", "low")),
        "entity_type": str(d.get("entity_type", "")),
        "entity_id": str(d.get("entity_id", "")),
        "status": str(d.get("status", "open")),
        "candidates": _json_text(d.get("candidates") or {}),
        "created_at": str(d.get("created_at", "")),
        "resolution": _json_text(d.get("resolution")),
    }
    exists = conn.execute(text("SELECT 1 FROM conflict WHERE id = :i"), {"i": ch.entity_id}).scalar()
    if exists:
        sets = {c: v for c, v in row.items() if c != "id" and c not in keep}
        conn.execute(
            text(f"UPDATE conflict SET {', '.join(f'{c} = :{c}' for c in sets)} WHERE id = :id"),
            sets | {"id": ch.entity_id},
        )
    else:
        conn.execute(
            text(
                "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, "
                "candidates, created_at, resolution) VALUES (:id, :kind, :priority, :entity_type, "
                ":entity_id, :status, :candidates, :created_at, :resolution)"
            ),
            row,
        )


__all__ = [
    "COLS",
    "DB_FAULTS",
    "ENTITY_TABLE",
    "PERSON_CHILDREN",
    "ROW_FAULTS",
    "TABLE_ORDER",
    "Written",
    "apply_redirect",
    "apply_review",
    "failure_code",
    "fill_for_insert",
    "keep_for",
    "prepare_row",
    "repoint",
    "resolve_person",
    "write_rows",
]
