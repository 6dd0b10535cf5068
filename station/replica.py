"""Applying the hub's changes to the local replica (the pull side of sync).

The rules (DESIGN §5, research §2.4/§2.8):

* A pulled page is applied **and** ``sync_state.pull_cursor`` advanced in ONE
  transaction (``Station.pull_writer``): a crash mid-apply rolls both back, so
  the page is simply pulled again (pouchdb#1240 was a checkpoint written apart
  from its docs).
* Applying is idempotent: a row is written only when the change's
  ``row_version`` is newer than the local ``version``.
* Local state = last hub state + pending local ops. Fields that pending (or
  in-flight) ops changed are kept as edited until those ops are answered; the
  hub row that arrived meanwhile is kept aside ("deferred", in ``meta``) and
  settled when the ops are answered (:func:`settle`): applied if it already
  contains the ops' effects or they were refused, dropped when a newer change
  is on its way.
* A change that cannot be applied (a parent row outside this station's scope,
  a malformed row) is parked in ``meta`` and retried on later pages, so one bad
  row never stalls the cursor.
* Redirects (hub merges): the loser person is marked ``merged`` and local rows
  re-pointed to the survivor.
* A changed ``hub_epoch`` (hub restored or replaced) means must-refetch: the
  cursor goes back to 0, local versions are forgotten (the new hub numbers
  rows afresh) and everything is pulled again; the outbox is kept.

This module takes pages duck-typed (``station`` never imports ``sync``): any
object with the attributes of ``sync.protocol.PullResponse``/``Change`` works.
Nothing here logs row contents: they hold personal data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy import Connection, bindparam, text
from sqlalchemy.exc import IntegrityError, OperationalError, StatementError

from kernel.clock import iso
from kernel.rules.vietnam import PartialDate, fold
from station.store import Station

log = logging.getLogger(__name__)

DEFERRED_PREFIX = "deferred:"
PARKED_PREFIX = "parked:"
MAX_PARKED_RETRIES_PER_PAGE = 200
MAX_DEFERRED_SETTLE = 2000
ALL = "*"  # protection marker: the whole row is local (its creating op is unanswered)

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
# Values for NOT NULL columns a hub row might omit (older hub, narrower scope);
# without them one such row would park instead of landing.
_INSERT_DEFAULTS: dict[str, dict[str, Any]] = {
    "person": {"status": "active", "id_type": "none", "origin_site": ""},
    "registration": {"source": "app", "status": "expected"},
    "dose": {"kind": "primary", "source": "site", "voided": 0},
    "vaccine_lot": {"active": 1, "doses_received": 0},
    "app_user": {"active": 1},
}
_TIMESTAMP_COLUMNS = ("created_at", "updated_at")


class MustRefetch(Exception):
    """The hub's epoch changed (or the cursor is past its head): pull again from 0."""

    def __init__(self, hub_epoch: str, reason: str) -> None:
        super().__init__(reason)
        self.hub_epoch = hub_epoch
        self.reason = reason


class StaleCursor(Exception):
    """The page was pulled from a cursor that is no longer the stored one."""


class ChangeLike(Protocol):
    @property
    def server_seq(self) -> int: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def row_version(self) -> int: ...
    @property
    def data(self) -> dict[str, Any]: ...


class PageLike(Protocol):
    @property
    def changes(self) -> Sequence[ChangeLike]: ...
    @property
    def next_cursor(self) -> int: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def hub_epoch(self) -> str: ...
    @property
    def head_seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class _Change:
    """A change as stored in ``meta`` (deferred or parked)."""

    server_seq: int
    entity_type: str
    entity_id: str
    kind: str
    row_version: int
    data: dict[str, Any]

    @classmethod
    def of(cls, ch: ChangeLike) -> _Change:
        return cls(ch.server_seq, ch.entity_type, ch.entity_id, ch.kind, ch.row_version, dict(ch.data))

    def dump(self) -> dict[str, Any]:
        return {
            "server_seq": self.server_seq,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "kind": self.kind,
            "row_version": self.row_version,
            "data": self.data,
        }

    @classmethod
    def load(cls, d: Mapping[str, Any]) -> _Change:
        return cls(
            int(d["server_seq"]), str(d["entity_type"]), str(d["entity_id"]), str(d["kind"]),
            int(d["row_version"]), dict(d["data"]),
        )


@dataclass(slots=True)
class ApplyReport:
    applied: int = 0
    stale: int = 0  # already had this version or newer (idempotent replays)
    kept_local: int = 0  # rows whose local edits were kept (deferred hub row)
    parked: int = 0
    unparked: int = 0
    redirects: int = 0
    reviews: int = 0
    next_cursor: int = 0


# ---- protection: what pending ops changed locally ------------------------------------


@dataclass(slots=True)
class Protection:
    """Fields kept local because unanswered ops changed them, with those ops' ids."""

    fields: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    ops: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Registration status changes as a side effect of screening/dose ops on the person.
    reg_status_persons: dict[str, set[str]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], fields: Iterable[str], op_id: str) -> None:
        self.fields.setdefault(key, set()).update(fields)
        self.ops.setdefault(key, set()).add(op_id)

    def touches(self, etype: str, eid: str, person_id: str | None) -> bool:
        """Whether :meth:`for_row` may keep anything of this row (cheap: no sets built)."""
        if (etype, eid) in self.fields:
            return True
        return etype == "registration" and bool(person_id) and person_id in self.reg_status_persons

    def for_row(self, etype: str, eid: str, person_id: str | None) -> tuple[set[str], set[str]]:
        key = (etype, eid)
        fields = set(self.fields.get(key, ()))
        ops = set(self.ops.get(key, ()))
        if etype == "registration" and person_id and person_id in self.reg_status_persons:
            fields |= {"status", "updated_at"}
            ops |= self.reg_status_persons[person_id]
        return fields, ops


def compute_protection(conn: Connection) -> Protection:
    """Scan unanswered ops (bounded by the outbox size, typically small)."""
    prot = Protection()
    rows = conn.execute(
        text(
            "SELECT op_id, op_type, entity_type, entity_id, base_version, payload FROM sync_outbox "
            "WHERE state IN ('pending', 'inflight') ORDER BY op_seq"
        )
    ).mappings()
    dose_ops: list[tuple[str, str]] = []
    for r in rows:
        op_id, op_type, eid = r["op_id"], r["op_type"], r["entity_id"]
        key = (r["entity_type"], eid)
        try:
            payload = json.loads(r["payload"])
        except ValueError:  # pragma: no cover - services always write JSON
            payload = {}
        if op_type == "register_person":
            prot.add(("person", eid), {ALL}, op_id)
            reg = payload.get("registration") or {}
            if reg.get("id"):
                prot.add(("registration", str(reg["id"])), {ALL}, op_id)
        elif op_type == "update_person":
            flds = set((payload.get("fields") or {}).keys())
            if "full_name" in flds:
                flds.add("name_fold")
            if "birth" in flds:
                flds.add("birth_year")
            prot.add(key, flds | {"updated_at"}, op_id)
        elif op_type == "check_in":
            prot.add(key, {"status", "queue_label", "checked_in_at", "updated_at"}, op_id)
        elif op_type in ("add_registration", "record_adverse_event"):
            prot.add(key, {ALL}, op_id)
        elif op_type in ("record_screening", "record_dose"):
            prot.add(key, {ALL}, op_id)
            if payload.get("person_id"):
                prot.reg_status_persons.setdefault(str(payload["person_id"]), set()).add(op_id)
        elif op_type == "void_dose":
            prot.add(key, {"voided", "void_reason", "voided_by", "voided_at"}, op_id)
        elif op_type == "end_observation":
            prot.add(key, {"observed_at"}, op_id)
            dose_ops.append((eid, op_id))
        elif op_type in ("upsert_lot", "upsert_user"):
            # The payload carries the whole row as edited.
            prot.add(key, {ALL} if r["base_version"] is None else set(payload) - {"id"}, op_id)
        elif op_type == "resolve_review":
            prot.add(("review", eid), {"status", "resolution"}, op_id)
    for dose_id, op_id in dose_ops:
        pid = conn.execute(text("SELECT person_id FROM dose WHERE id = :i"), {"i": dose_id}).scalar()
        if pid:
            prot.reg_status_persons.setdefault(str(pid), set()).add(op_id)
    return prot


# ---- row writes ----------------------------------------------------------------------


class _Columns(dict[str, list[str]]):
    """Each synced table's columns, read from the ORM models on first use: the models
    take a quarter of a second to import, which a sync with nothing to pull never needs."""

    def __missing__(self, table: str) -> list[str]:
        from station.models import Base

        for t in ENTITY_TABLE.values():
            self[t] = [c.name for c in Base.metadata.tables[t].columns if c.name != "rid"]
        return self[table]


_COLS: dict[str, list[str]] = _Columns()


def _meta_get(conn: Connection, key: str) -> str | None:
    v = conn.execute(text("SELECT value FROM meta WHERE key = :k"), {"k": key}).scalar()
    return None if v is None else str(v)


def _meta_put(conn: Connection, key: str, value: str) -> None:
    conn.execute(
        text("INSERT INTO meta (key, value) VALUES (:k, :v) ON CONFLICT(key) DO UPDATE SET value = :v"),
        {"k": key, "v": value},
    )


def _meta_del(conn: Connection, key: str) -> None:
    conn.execute(text("DELETE FROM meta WHERE key = :k"), {"k": key})


def _deferred_key(etype: str, eid: str) -> str:
    return f"{DEFERRED_PREFIX}{etype}:{eid}"


def resolve_person(conn: Connection, person_id: str) -> str:
    """Follow merge redirects: the services' own helper (one definition).

    Imported here, on a merge only: ``station.services.common`` brings the DTOs and
    reference data, which ``tramtiem sync`` otherwise never loads (issue 15: start-up).
    """
    from station.services.common import resolve_person_id

    return resolve_person_id(conn, person_id)


def _prepare_row(table: str, ch: _Change) -> dict[str, Any]:
    cols = _COLS[table]
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


def _fill_for_insert(table: str, row: dict[str, Any], now_iso: str) -> None:
    """NOT NULL columns a hub row may omit: defaults, and the timestamps as of now."""
    for c, v in _INSERT_DEFAULTS.get(table, {}).items():
        row.setdefault(c, v)
    for c in _TIMESTAMP_COLUMNS:
        if c in _COLS[table]:
            row.setdefault(c, now_iso)


def _upsert(
    conn: Connection,
    ch: _Change,
    now_iso: str,
    keep: set[str],
    *,
    allow_equal: bool = False,
) -> str:
    """Write one entity row; returns 'applied', 'stale' or 'kept' (nothing written)."""
    table = ENTITY_TABLE[ch.entity_type]
    row = _prepare_row(table, ch)
    current = conn.execute(
        text(f"SELECT version FROM {table} WHERE id = :i"), {"i": ch.entity_id}
    ).scalar()
    if current is not None:
        cur = int(current)
        if cur > ch.row_version or (cur == ch.row_version and not allow_equal):
            return "stale"
        if ALL in keep:
            return "kept"
        sets = {c: v for c, v in row.items() if c != "id" and c not in keep}
        assignments = ", ".join(f"{c} = :{c}" for c in sets)
        conn.execute(text(f"UPDATE {table} SET {assignments} WHERE id = :id"), sets | {"id": ch.entity_id})
        return "applied"
    _fill_for_insert(table, row, now_iso)
    cols = ", ".join(row)
    conn.execute(text(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row)
    if table == "person":
        # A survivor that arrives after its redirect: pick up the loser's rows now.
        losers = conn.execute(
            text("SELECT from_id FROM person_redirect WHERE to_id = :i"), {"i": ch.entity_id}
        ).scalars().all()
        for loser in losers:
            _repoint(conn, str(loser), ch.entity_id)
    return "applied"


def _repoint(conn: Connection, loser: str, survivor: str) -> None:
    """Re-point this station's own rows the hub has not sent back yet (version 0).

    Rows the hub holds come back from it with their authoritative person_id, so
    they are left alone here; only local rows waiting for their op's answer
    follow the redirect now, so the UI shows them under the survivor.
    """
    for table in PERSON_CHILDREN:
        # OR IGNORE: a registration the survivor already has that day stays on the
        # merged person, as the hub does (one registration per person, site and day).
        conn.execute(
            text(
                f"UPDATE OR IGNORE {table} SET person_id = :to "
                "WHERE person_id = :frm AND version = 0"
            ),
            {"to": survivor, "frm": loser},
        )


def _apply_redirect(conn: Connection, ch: _Change, now_iso: str) -> None:
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
        _repoint(conn, loser, final)


def _json_text(v: Any) -> str | None:
    if v is None:
        return None
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, sort_keys=True)


def _apply_review(conn: Connection, ch: _Change, keep: set[str]) -> None:
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


def _defer(conn: Connection, ch: _Change, ops: set[str]) -> None:
    """Keep the hub's row aside until the ops that changed it locally are answered."""
    key = _deferred_key(ch.entity_type, ch.entity_id)
    old = _meta_get(conn, key)
    prev_ops: list[str] = []
    if old is not None:
        prev = json.loads(old)
        prev_ops = list(prev.get("ops", []))
        if int(prev["change"]["row_version"]) > ch.row_version:
            ch = _Change.load(prev["change"])  # keep the newer hub row
    _meta_put(conn, key, json.dumps({"change": ch.dump(), "ops": sorted(set(prev_ops) | ops)}))


def _apply_one(conn: Connection, ch: _Change, prot: Protection, now_iso: str, report: ApplyReport) -> None:
    if ch.kind == "redirect" or ch.entity_type == "person_redirect":
        _apply_redirect(conn, ch, now_iso)
        report.redirects += 1
        return
    if ch.entity_type == "review":
        keep, ops = prot.for_row("review", ch.entity_id, None)
        _apply_review(conn, ch, keep)
        if keep:
            _defer(conn, ch, ops)
        report.reviews += 1
        return
    if ch.entity_type not in ENTITY_TABLE:
        raise ValueError("unknown entity type")
    person_id = ch.data.get("person_id") if ch.entity_type == "registration" else None
    keep, ops = prot.for_row(ch.entity_type, ch.entity_id, str(person_id) if person_id else None)
    outcome = _upsert(conn, ch, now_iso, keep)
    if outcome == "stale":
        report.stale += 1
        return
    if keep:
        _defer(conn, ch, ops)
        report.kept_local += 1
    else:
        # A newer hub row supersedes anything kept aside earlier.
        _meta_del(conn, _deferred_key(ch.entity_type, ch.entity_id))
    if outcome == "applied":
        report.applied += 1


def _park(conn: Connection, ch: _Change, code: str) -> None:
    _meta_put(conn, f"{PARKED_PREFIX}{ch.server_seq:015d}", json.dumps({"change": ch.dump(), "error": code}))


def _try_apply(
    conn: Connection, ch: _Change, prot: Protection, now_iso: str, report: ApplyReport
) -> str | None:
    """Apply inside a savepoint; returns an error code (the change is not applied) or None."""
    sp = conn.begin_nested()
    try:
        _apply_one(conn, ch, prot, now_iso, report)
    except IntegrityError:
        sp.rollback()
        return "pull.integrity"  # usually a parent row not (yet) in this station's scope
    except OperationalError:
        # The database itself failed (locked, disk): not this change's fault. The page
        # fails whole (cursor unchanged) and is pulled again next cycle.
        sp.rollback()
        raise
    except (StatementError, ValueError, KeyError, TypeError):
        sp.rollback()
        return "pull.malformed"
    sp.commit()
    return None


# ---- the fast path: runs of plain upserts, written in bulk ---------------------------------
#
# Nearly every change in a page is a plain upsert of a row with no local edit
# pending (a bootstrap, the pull-back after a push). Consecutive such changes
# form a *run*, written on the transaction's raw DB-API connection inside one
# savepoint: one version lookup per table, each row written once (a row sent
# several times ends as the changes one after the other would leave it), then
# ``executemany`` updates and inserts per table and column set, parents' tables
# before children's. Everything else (redirects, reviews, rows with kept local
# edits or a deferred hub row, a survivor person arriving after its redirect)
# goes through the per-change path above, in page order. When a run fails (a
# parent outside this station's scope, a malformed row), its savepoint is rolled
# back and the run is split until the failing changes are applied one by one by
# the per-change path, which parks them exactly as before.

# The hub's apply order: parents' tables before children's (foreign keys are on).
_TABLE_ORDER = (
    "person", "vaccine_lot", "app_user", "registration", "screening", "dose", "adverse_event",
)
_PER_CHANGE_BELOW = 8  # a failing run this short is applied change by change


class _SurvivorsArrive(Exception):
    """New person rows that redirects point to: the per-change path re-points for them."""

    def __init__(self, indexes: list[int]) -> None:
        super().__init__(len(indexes))
        self.indexes = indexes  # positions in the run, ascending


def _current_versions(raw: Any, table: str, ids: list[str]) -> dict[str, int]:
    cur = raw.execute(
        f"SELECT id, version FROM {table} WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )
    return {str(i): int(v) for i, v in cur}


def _redirected_to(raw: Any, ids: list[str]) -> set[str]:
    cur = raw.execute(
        "SELECT DISTINCT to_id FROM person_redirect WHERE to_id IN (SELECT value FROM json_each(?))",
        (json.dumps(ids),),
    )
    return {str(r[0]) for r in cur}


def _write_run(raw: Any, run: Sequence[_Change], now_iso: str) -> tuple[int, int]:
    """Write a run of plain upserts; returns (applied, stale), counted as _upsert would.

    A row sent more than once in the run is written once, as the changes applied
    one after the other would leave it: a change no newer than the row as it
    stands by then is stale, a newer one overlays its columns.
    """
    by_table: dict[str, list[tuple[int, _Change]]] = {}
    for i, ch in enumerate(run):
        by_table.setdefault(ENTITY_TABLE[ch.entity_type], []).append((i, ch))
    applied = stale = 0
    for table in _TABLE_ORDER:
        items = by_table.get(table)
        if not items:
            continue
        current = _current_versions(raw, table, [ch.entity_id for _, ch in items])
        # id -> [is_insert, row]; the row's "version" is the newest applied so far.
        rows: dict[str, tuple[bool, dict[str, Any]]] = {}
        born: dict[str, int] = {}
        for i, ch in items:
            eid = ch.entity_id
            seen = rows.get(eid)
            cur = seen[1]["version"] if seen is not None else current.get(eid)
            if cur is not None and cur >= ch.row_version:
                stale += 1
                continue
            row = _prepare_row(table, ch)
            if seen is not None:
                seen[1].update(row)
            else:
                rows[eid] = (cur is None, row)
                if cur is None and table == "person":
                    born[eid] = i
            applied += 1
        if born:
            survivors = _redirected_to(raw, list(born))
            if survivors:
                raise _SurvivorsArrive(sorted(born[p] for p in survivors))
        updates: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        inserts: dict[tuple[str, ...], list[tuple[Any, ...]]] = {}
        for eid, (is_insert, row) in rows.items():
            if is_insert:
                _fill_for_insert(table, row, now_iso)
                inserts.setdefault(tuple(row), []).append(tuple(row.values()))
            else:
                del row["id"]
                updates.setdefault(tuple(row), []).append((*row.values(), eid))
        for cols, params in updates.items():
            sets = ", ".join(f"{c} = ?" for c in cols)
            raw.executemany(f"UPDATE {table} SET {sets} WHERE id = ?", params)
        for cols, params in inserts.items():
            marks = ", ".join("?" * len(cols))
            raw.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", params)
    return applied, stale


def _deferred_keys(raw: Any) -> frozenset[str]:
    # A key range rather than LIKE, so the primary key index is used.
    cur = raw.execute(
        "SELECT key FROM meta WHERE key >= ? AND key < ?",
        (DEFERRED_PREFIX, DEFERRED_PREFIX[:-1] + chr(ord(DEFERRED_PREFIX[-1]) + 1)),
    )
    return frozenset(str(r[0]) for r in cur)


@dataclass(slots=True)
class _PageApplier:
    """Applies a page's changes in order: runs in bulk, the rest change by change."""

    conn: Connection
    raw: Any  # the DB-API connection of ``conn`` (same transaction, same pull context)
    prot: Protection
    deferred: frozenset[str]
    now_iso: str
    report: ApplyReport

    def apply(self, changes: Sequence[_Change]) -> None:
        run: list[_Change] = []
        for ch in changes:
            if self._plain(ch):
                run.append(ch)
            else:
                self._run(run)
                run = []
                self._one(ch)
        self._run(run)

    def _plain(self, ch: _Change) -> bool:
        """An upsert with nothing local to keep: the bulk path writes it as _upsert would."""
        if ch.kind == "redirect" or ch.entity_type not in ENTITY_TABLE:
            return False
        person_id = ch.data.get("person_id") if ch.entity_type == "registration" else None
        if self.prot.touches(ch.entity_type, ch.entity_id, str(person_id) if person_id else None):
            return False
        return not self.deferred or _deferred_key(ch.entity_type, ch.entity_id) not in self.deferred

    def _one(self, ch: _Change) -> None:
        err = _try_apply(self.conn, ch, self.prot, self.now_iso, self.report)
        if err is not None:
            _park(self.conn, ch, err)
            self.report.parked += 1

    def _run(self, run: Sequence[_Change]) -> None:
        if not run:
            return
        sp = self.conn.begin_nested()
        try:
            applied, stale = _write_run(self.raw, run, self.now_iso)
        except _SurvivorsArrive as exc:
            sp.rollback()
            start = 0
            for i in exc.indexes:  # a loop, not recursion: a page may hold many of them
                self._run(run[start:i])
                self._one(run[i])
                start = i + 1
            self._run(run[start:])
            return
        except sqlcipher.OperationalError:
            sp.rollback()
            raise  # the database failed (locked, disk), not a row: splitting cannot help
        except Exception as exc:
            sp.rollback()
            # Counts and the error class only: the message could quote row values.
            log.debug("pull: a run of %d change(s) failed (%s); applying it in parts", len(run), type(exc).__name__)
            if len(run) < _PER_CHANGE_BELOW:
                for ch in run:
                    self._one(ch)
            else:
                mid = len(run) // 2
                self._run(run[:mid])
                self._run(run[mid:])
            return
        sp.commit()
        self.report.applied += applied
        self.report.stale += stale


# ---- the page ------------------------------------------------------------------------


def apply_page(
    st: Station,
    page: PageLike,
    *,
    from_cursor: int,
    now: datetime | None = None,
    hook: Callable[[str], None] | None = None,
) -> ApplyReport:
    """Apply one pulled page and advance the cursor, in one transaction.

    ``from_cursor`` is the cursor the page was requested with; if the stored
    cursor moved meanwhile, :class:`StaleCursor` is raised and nothing is written.
    :class:`MustRefetch` is raised (nothing written) when the hub's epoch
    differs from the stored one or the stored cursor is past the hub's head;
    call :func:`reset_for_refetch` and pull again from 0.

    ``hook`` is called with ``"mid_pull_apply"`` halfway through (crash tests).
    """
    now_dt = now or st.clock()
    now_iso = iso(now_dt)
    report = ApplyReport()
    with st.pull_writer() as conn:
        state = conn.execute(
            text("SELECT hub_epoch, pull_cursor FROM sync_state WHERE id = 1")
        ).mappings().one()
        stored_epoch, cursor = state["hub_epoch"], int(state["pull_cursor"])
        if stored_epoch is not None and stored_epoch != page.hub_epoch:
            raise MustRefetch(page.hub_epoch, "hub_epoch_changed")
        if cursor > page.head_seq:
            raise MustRefetch(page.hub_epoch, "cursor_past_head")
        if cursor != from_cursor:
            raise StaleCursor()
        prot = compute_protection(conn)
        raw = conn.connection.driver_connection
        applier = _PageApplier(conn, raw, prot, _deferred_keys(raw), now_iso, report)
        changes = [_Change.of(c) for c in page.changes]
        half = len(changes) // 2
        applier.apply(changes[:half])
        if hook is not None:
            hook("mid_pull_apply")
        applier.apply(changes[half:])
        report.unparked = _retry_parked(conn, prot, now_iso, report)
        new_cursor = max(cursor, int(page.next_cursor))
        conn.execute(
            text(
                "UPDATE sync_state SET pull_cursor = :c, hub_epoch = :e, last_pull_ok = :t WHERE id = 1"
            ),
            {"c": new_cursor, "e": page.hub_epoch, "t": now_iso},
        )
        report.next_cursor = new_cursor
    if report.parked:
        # Counts and codes only: parked rows hold personal data.
        log.warning("pull: %d change(s) parked (not applicable yet)", report.parked)
    return report


def _retry_parked(conn: Connection, prot: Protection, now_iso: str, report: ApplyReport) -> int:
    rows = conn.execute(
        text("SELECT key, value FROM meta WHERE key LIKE :p ORDER BY key LIMIT :n"),
        {"p": PARKED_PREFIX + "%", "n": MAX_PARKED_RETRIES_PER_PAGE},
    ).all()
    done = 0
    for key, value in rows:
        ch = _Change.load(json.loads(value)["change"])
        scratch = ApplyReport()
        if _try_apply(conn, ch, prot, now_iso, scratch) is None:
            _meta_del(conn, str(key))
            done += 1
            report.applied += scratch.applied
    return done


def reset_for_refetch(st: Station, hub_epoch: str) -> None:
    """Must-refetch: cursor to 0, new hub epoch, local row versions forgotten; outbox kept.

    Versions are zeroed because a restored or replaced hub numbers rows afresh:
    the old numbers would make its rows look stale and be skipped.
    """
    with st.pull_writer() as conn:
        conn.execute(
            text("UPDATE sync_state SET pull_cursor = 0, hub_epoch = :e WHERE id = 1"), {"e": hub_epoch}
        )
        for table in ENTITY_TABLE.values():
            conn.execute(text(f"UPDATE {table} SET version = 0 WHERE version != 0"))
        conn.execute(
            text("DELETE FROM meta WHERE key LIKE :a OR key LIKE :b"),
            {"a": PARKED_PREFIX + "%", "b": DEFERRED_PREFIX + "%"},
        )
    log.warning("hub epoch changed: refetching everything from cursor 0 (outbox kept)")


# ---- settling kept edits when ops are answered -----------------------------------------


def settle(conn: Connection, acks: Sequence[Any], *, now: datetime) -> None:
    """After answers were recorded (same transaction): resolve kept-aside hub rows.

    A deferred hub row is applied once no unanswered op protects it any more,
    if it already includes the answered ops' effects (its ``server_seq`` is at
    least their ack ``server_seq``) or they had no effect (refused). Otherwise a
    newer change is on its way and the kept row is dropped.

    A refused ``update_person`` with no hub row kept aside is undone field by
    field (back to the op's ``old`` values, where the field still shows the
    op's ``new`` value), so the station does not keep showing an edit the hub
    refused.
    """
    now_iso = iso(now)
    deferred = conn.execute(
        text("SELECT key, value FROM meta WHERE key LIKE :p LIMIT :n"),
        {"p": DEFERRED_PREFIX + "%", "n": MAX_DEFERRED_SETTLE},
    ).all()
    refused_updates = [
        a.op_id
        for a in acks
        if a.status == "rejected" or (a.status == "conflict_queued" and a.server_seq is None)
    ]
    if not deferred and not refused_updates:
        return
    prot = compute_protection(conn)
    for key, value in deferred:
        item = json.loads(value)
        ch = _Change.load(item["change"])
        person_id = ch.data.get("person_id") if ch.entity_type == "registration" else None
        keep, ops = prot.for_row(ch.entity_type, ch.entity_id, str(person_id) if person_id else None)
        if keep:
            if not ops.issubset(item["ops"]):
                _meta_put(conn, str(key), json.dumps({"change": item["change"], "ops": sorted(set(item["ops"]) | ops)}))
            continue
        seqs = conn.execute(
            text("SELECT ack_server_seq FROM sync_outbox WHERE op_id IN :ids AND ack_server_seq IS NOT NULL")
            .bindparams(bindparam("ids", expanding=True)),
            {"ids": list(item["ops"]) or [""]},
        ).scalars().all()
        newest_effect = max((int(s) for s in seqs), default=0)
        _meta_del(conn, str(key))
        if ch.server_seq >= newest_effect:
            sp = conn.begin_nested()
            try:
                if ch.entity_type == "review":
                    _apply_review(conn, ch, set())
                else:
                    _upsert(conn, ch, now_iso, set(), allow_equal=True)
            except OperationalError:
                sp.rollback()
                raise  # the database failed, not the row: nothing of this answer is kept
            except (IntegrityError, StatementError, ValueError, KeyError, TypeError):
                sp.rollback()
                _park(conn, ch, "pull.integrity")
            else:
                sp.commit()
    if refused_updates:
        _undo_refused_updates(conn, refused_updates, prot)


def _undo_refused_updates(conn: Connection, op_ids: list[str], prot: Protection) -> None:
    rows = conn.execute(
        text(
            "SELECT op_id, entity_id, payload FROM sync_outbox WHERE op_type = 'update_person' "
            "AND op_id IN :ids ORDER BY op_seq DESC"
        ).bindparams(bindparam("ids", expanding=True)),
        {"ids": op_ids},
    ).mappings().all()
    for r in rows:
        pid = str(r["entity_id"])
        if _meta_get(conn, _deferred_key("person", pid)) is not None:
            continue  # the hub's own row is kept aside and will be applied instead
        still_kept = prot.fields.get(("person", pid), set())
        fields = (json.loads(r["payload"]).get("fields") or {})
        for fld, change in fields.items():
            if fld in still_kept or fld not in _COLS["person"]:
                continue
            sets: dict[str, Any] = {fld: change.get("old")}
            if fld == "full_name" and change.get("old"):
                sets["name_fold"] = fold(str(change["old"]))
            if fld == "birth" and change.get("old"):
                sets["birth_year"] = PartialDate.from_iso(str(change["old"])).year
            conn.execute(
                text(
                    f"UPDATE person SET {', '.join(f'{c} = :{c}' for c in sets)} "
                    f"WHERE id = :pid AND {fld} IS :new"
                ),
                sets | {"pid": pid, "new": change.get("new")},
            )


# ---- sync_state helpers ----------------------------------------------------------------


def note_push(conn: Connection, *, now: datetime, clock_skew_ms: int | None) -> None:
    conn.execute(
        text(
            "UPDATE sync_state SET last_push_ok = :t, "
            "clock_skew_ms = coalesce(:s, clock_skew_ms) WHERE id = 1"
        ),
        {"t": iso(now), "s": clock_skew_ms},
    )


def parked_count(st: Station) -> int:
    with st.read() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM meta WHERE key LIKE :p"), {"p": PARKED_PREFIX + "%"}
            ).scalar_one()
        )


def open_review_count(st: Station) -> int:
    with st.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM conflict WHERE status = 'open'")).scalar_one())


def rotate_replica_epoch(st: Station, new_epoch: str) -> None:
    """The hub saw our op_seq go backwards (restored backup): become a new replica."""
    with st.pull_writer() as conn:
        conn.execute(text("UPDATE sync_state SET replica_epoch = :e WHERE id = 1"), {"e": new_epoch})
    log.warning("replica epoch rotated (hub reported a regressed op sequence)")


# The site's name as the hub knows it (from enrollment): slips, reports, the status bar.
SITE_NAME_KEY = "hub_site_name"


def site_name(conn: Connection) -> str:
    """The enrolled site's name, "" on a station never enrolled."""
    return _meta_get(conn, SITE_NAME_KEY) or ""


def get_meta(st: Station, key: str) -> str | None:
    with st.read() as conn:
        return _meta_get(conn, key)


def set_meta(st: Station, key: str, value: str) -> None:
    with st.pull_writer() as conn:
        _meta_put(conn, key, value)


__all__ = [
    "ApplyReport",
    "ChangeLike",
    "MustRefetch",
    "PageLike",
    "Protection",
    "StaleCursor",
    "apply_page",
    "compute_protection",
    "get_meta",
    "note_push",
    "open_review_count",
    "parked_count",
    "reset_for_refetch",
    "rotate_replica_epoch",
    "set_meta",
    "settle",
]
