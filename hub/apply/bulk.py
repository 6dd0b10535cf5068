"""The bulk executor: walk-ins, screenings and doses planned from look-ups, written in bulk.

A campaign day's outbox is almost all ``register_person``, ``record_screening``
and ``record_dose`` ops for new rows with nothing to reconcile. For these the
executor plans each op from a handful of ``IN (...)`` look-ups made for a whole
run of ops (:meth:`BulkRun.load`): the rows it creates (built by
:mod:`hub.apply.rows`), the registration it moves, its change rows and their
echo marks. :meth:`BulkRun.flush` then writes a run's rows with one multi-row
INSERT per table and hands its change rows and ledger rows to the transaction's
:class:`hub.effects.Numbering`, which numbers and writes them with the rest of
the push at its end.

This is the only path for these ops: a push applies a run of them at once, the
op-by-op push (``process_push(fast=False)``) and a lone op apply a run of one.
An op is planned only when its outcome is certain from what was looked up and
involves none of the reconciling rules: no redirect to follow, no merge, no
possible duplicate, no new person-site relation with a backlog, nothing to
refuse. Anything else the planner declines, and the op goes to its ORM
applier (:mod:`hub.apply.orm`; the caller writes the buffered rows first, and
looks up again after).

The rows an op created exactly as sent (version 1, at the op's own site) are
marked ``echo_for`` that replica (:func:`hub.apply.rows.planned_change`), and the
answer says ``no_echo``: the station already holds them, so its pull skips them
(half the pull-back of a campaign day) and it numbers them version 1 itself
when the answer arrives.

If the database still refuses a buffered write (a value it finds too long, a
concurrent insert of the same key), :class:`BulkRefused` is raised; the caller
rolls back and applies those ops through their ORM appliers.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

from pydantic import BaseModel
from sqlalchemy import bindparam, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from hub import authz, counters
from hub.apply.orm import Ledgered
from hub.apply.rows import (
    DOSE,
    PERSON,
    PERSON_SITE,
    REGISTRATION,
    SCREENING,
    change_data,
    dose_row,
    person_row,
    planned_change,
    registration_row,
    replica_key,
    screening_row,
)
from hub.db import pipelined
from hub.effects import Numbering, insert_rows, scoped_data
from hub.errors import Rejected
from hub.payloads import DoseP, RegisterPersonP, ScreeningP, parse, remember, series
from hub.rowtypes import (
    DoseRow,
    LedgerResult,
    PersonRow,
    PersonSiteRow,
    RegistrationRow,
    ScreeningRow,
)
from kernel.chunks import in_chunks
from kernel.rules.vietnam import fold
from sync.protocol import Op

PLANNED_TYPES = frozenset({"register_person", "record_screening", "record_dose"})
# Each planned type's payload model (the one its ORM applier parses too).
_PLANNED_MODELS: dict[str, type[BaseModel]] = {
    "register_person": RegisterPersonP,
    "record_screening": ScreeningP,
    "record_dose": DoseP,
}


class BulkRefused(Exception):
    """The database refused a buffered write: apply those ops through their ORM appliers."""


def planned_runs(ops: Sequence[Op], *, batch: bool = True) -> list[int]:
    """For each op: the length of the run of plannable ops it starts (0 inside a run or
    for an op the executor never plans). ``batch`` False: every run is one op long."""
    out = [0] * len(ops)
    i = 0
    while i < len(ops):
        j = i
        while j < len(ops) and ops[j].op_type in PLANNED_TYPES and (batch or j == i):
            j += 1
        if j > i:
            out[i] = j - i
        i = max(j, i + 1)
    return out


def ids_in(s: Session, sql: str, ids: Sequence[str]) -> list[tuple[object, ...]]:
    """Rows of ``sql`` whose one ``IN :ids`` is ``ids``, straight to the driver (issue 15).

    SQLAlchemy compiled each ``IN (...)`` of a run's look-ups anew (its 500 expanded
    bind parameters; on PostgreSQL a 500-cast statement psycopg had to split each time):
    a tenth of the hub's CPU on a push. PostgreSQL gets one array parameter
    (``= ANY(%s)``: one short statement, the same index look-ups), SQLite its ``?`` list.
    """
    if not ids:
        return []
    conn = s.connection()
    if conn.dialect.name == "postgresql":
        return [tuple(r) for r in conn.exec_driver_sql(sql.replace("IN :ids", "= ANY(%b)"), (list(ids),))]
    sql = sql.replace(":ids", f"({', '.join('?' * len(ids))})")
    raw = conn.connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        # The transaction's own DB-API connection, rows as the driver's tuples (issue 15,
        # phase 8: SQLAlchemy's result fetched them one by one, ~3% of a push's CPU).
        try:
            return raw.execute(sql, tuple(ids)).fetchall()
        except sqlite3.Error as exc:
            raise DBAPIError.instance(sql, None, exc, sqlite3.Error, hide_parameters=True) from None
    return [tuple(r) for r in conn.exec_driver_sql(sql, tuple(ids))]


def id_chunks(s: Session, ids: Sequence[str]) -> list[list[str]]:
    """``ids`` as the lists :func:`ids_in` takes: all in one on PostgreSQL (an array
    parameter has no length limit), in slices of 500 on SQLite (its host-parameter limit)."""
    if not ids:
        return []
    if s.get_bind().dialect.name == "postgresql":
        return [list(ids)]
    return list(in_chunks(ids))


def ids_in_all(s: Session, lookups: Sequence[tuple[str, Sequence[str]]]) -> list[list[tuple[object, ...]]]:
    """The rows of several :func:`ids_in` look-ups, in their order (issue 15, branch pgpush2).

    PostgreSQL: each look-up one statement with its whole array, all of them sent in one
    round trip (:func:`hub.db.pipelined`): the hub waited for its backend once per
    statement and per 500 ids, about 15 times a push. SQLite: each in slices of 500."""
    conn = s.connection()
    if conn.dialect.name != "postgresql":
        return [[r for chunk in in_chunks(ids) for r in ids_in(s, sql, chunk)] for sql, ids in lookups]
    wanted = [(i, sql.replace("IN :ids", "= ANY(%b)"), list(ids)) for i, (sql, ids) in enumerate(lookups) if ids]
    out: list[list[tuple[object, ...]]] = [[] for _ in lookups]
    got = pipelined(conn, [(sql, (ids,)) for _, sql, ids in wanted])
    for (i, _, _), rows in zip(wanted, got, strict=True):
        out[i] = rows
    return out


_REG_COLS = [c.name for c in REGISTRATION.columns]
_REG_SQL = f"SELECT {', '.join(_REG_COLS)} FROM registration WHERE "
_DOSE_SQL = "SELECT id, person_id, vaccine_code, dose_number, day, voided FROM dose WHERE "


@dataclass(slots=True)
class PlannedOp:
    """An op the executor planned, answered once its change rows are numbered."""

    index: int
    op: Op
    digest: str
    changes: list[list[object]]  # change_log's values (hub.apply.rows.planned_change)


@dataclass
class _Wanted:
    """The ids a run's ops may touch, gathered before the look-ups."""

    pids: set[str] = field(default_factory=set)
    rids: set[str] = field(default_factory=set)
    sids: set[str] = field(default_factory=set)
    dids: set[str] = field(default_factory=set)
    numbers: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)
    lots: set[str] = field(default_factory=set)

    def add(self, op: Op) -> None:
        # The payload is not parsed yet: only values of the right type are looked up.
        pl = op.payload
        if op.op_type == "register_person":
            self.pids.add(op.entity_id)
            person, reg = _dict(pl.get("person")), _dict(pl.get("registration"))
            rid, number, phone = reg.get("id"), person.get("id_number"), person.get("phone")
            if isinstance(rid, str):
                self.rids.add(rid)
            if isinstance(number, str) and number:
                self.numbers.add(number)
            elif isinstance(phone, str) and phone:
                self.phones.add(phone)
            return
        pid = pl.get("person_id")
        if isinstance(pid, str):
            self.pids.add(pid)
        if op.op_type == "record_screening":
            self.sids.add(op.entity_id)
            rid = pl.get("registration_id")
            if isinstance(rid, str):
                self.rids.add(rid)
        else:
            self.dids.add(op.entity_id)
            lot = pl.get("lot_id")
            if isinstance(lot, str):
                self.lots.add(lot)


@dataclass
class _Buffers:
    """The rows planned ops will write, until :meth:`BulkRun.flush`."""

    persons: list[PersonRow] = field(default_factory=list)
    regs: dict[str, RegistrationRow] = field(default_factory=dict)
    changed_regs: dict[str, RegistrationRow] = field(default_factory=dict)
    screenings: list[ScreeningRow] = field(default_factory=list)
    doses: list[DoseRow] = field(default_factory=list)
    sites: list[PersonSiteRow] = field(default_factory=list)


@dataclass
class BulkRun:
    """What the executor knows about the rows a run of ops touches, and what it buffered."""

    session: Session
    site: str
    station_id: str
    epoch: str
    now: str
    numbering: Numbering
    # Mark rows that only echo the pushing replica's own ops (off for hub-origin ops).
    echo: bool = True
    # Ops the hub makes itself (imports at its command line): no station user to check.
    trusted: bool = False
    persons: set[str] = field(default_factory=set)
    redirected: set[str] = field(default_factory=set)  # persons with a redirect out
    merged_into: set[str] = field(default_factory=set)  # persons with redirects in
    sites: dict[str, set[str]] = field(default_factory=dict)
    regs: dict[str, RegistrationRow] = field(default_factory=dict)
    regs_of: dict[str, list[str]] = field(default_factory=dict)
    screenings: set[str] = field(default_factory=set)
    doses: dict[str, tuple[str, str, int, str, int]] = field(default_factory=dict)
    doses_of: dict[str, list[str]] = field(default_factory=dict)
    id_numbers: set[str] = field(default_factory=set)  # held by active persons (id_key)
    twins: set[tuple[str, str, str]] = field(default_factory=set)  # (name_fold, birth, phone)
    lots: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (site, vaccine)
    new: _Buffers = field(default_factory=_Buffers)
    pending: list[PlannedOp] = field(default_factory=list)
    pending_ids: set[str] = field(default_factory=set)
    allowed: dict[tuple[str | None, tuple[str, ...]], bool] = field(default_factory=dict)  # _allowed's
    replica: str | None = field(init=False)  # the echo marks' replica (None: no marks)

    def __post_init__(self) -> None:
        self.replica = replica_key(self.station_id, self.epoch) if self.echo else None

    def _change(self, op: Op, scope: str, entity_type: str, entity_id: str, version: int, data: dict[str, object]) -> list[object]:
        return planned_change(scope, entity_type, entity_id, version, data, op.op_id, self.site, self.replica)

    # ---- look-ups --------------------------------------------------------------------

    def load(self, ops: Sequence[Op]) -> None:
        """Every row these ops can touch: one look-up per table and key (per 500 ids on
        SQLite), all sent in one round trip on PostgreSQL (:func:`ids_in_all`)."""
        s = self.session
        want = _Wanted()
        for op in ops:
            want.add(op)
        pids, dids = sorted(want.pids), sorted(want.dids)
        (
            persons, redirected_from, redirected_to, sites, regs_of_persons, doses_of_persons,
            regs, screenings, doses, numbers, lots, twins, actors,
        ) = ids_in_all(s, [
            ("SELECT id FROM person WHERE id IN :ids", pids),
            ("SELECT from_id, to_id FROM person_redirect WHERE from_id IN :ids", pids),
            ("SELECT from_id, to_id FROM person_redirect WHERE to_id IN :ids", pids),
            ("SELECT person_id, site_code FROM person_site WHERE person_id IN :ids", pids),
            (_REG_SQL + "person_id IN :ids", pids),
            (_DOSE_SQL + "person_id IN :ids", pids),
            (_REG_SQL + "id IN :ids", sorted(want.rids)),
            ("SELECT id FROM screening WHERE id IN :ids", sorted(want.sids)),
            (_DOSE_SQL + "id IN :ids", dids),
            ("SELECT id_key FROM person WHERE id_key IN :ids", sorted(want.numbers)),
            ("SELECT id, site_code, vaccine_code FROM vaccine_lot WHERE id IN :ids", sorted(want.lots)),
            ("SELECT name_fold, birth, phone FROM person WHERE status = 'active' AND phone IN :ids", sorted(want.phones)),
            (authz.ACTORS_SQL, users := authz.actors_wanted(s, self.site, {o.user_id for o in ops if o.user_id is not None})),
        ])
        self.persons.update(str(r[0]) for r in persons)
        for frm, to in redirected_from + redirected_to:
            self.redirected.add(str(frm))
            self.merged_into.add(str(to))
        for pid, site in sites:
            self.sites.setdefault(str(pid), set()).add(str(site))
        for r in regs_of_persons:
            self._keep_reg(_registration(r))
        self._keep_doses(doses_of_persons)
        for r in regs:
            self._keep_reg(_registration(r))
        self.screenings.update(str(r[0]) for r in screenings)
        self._keep_doses(doses)
        self.id_numbers.update(str(r[0]) for r in numbers)
        for lid, site, vaccine in lots:
            self.lots[str(lid)] = (str(site), str(vaccine))
        authz.keep_actors(s, self.site, users, actors)
        for nf, birth, phone in twins:
            self.twins.add((str(nf), str(birth), str(phone)))

    def _keep_doses(self, rows: list[tuple[object, ...]]) -> None:
        for did, pid, vaccine, number, day, voided in rows:
            self._keep_dose(str(did), str(pid), str(vaccine), int(str(number)), str(day), int(str(voided)))

    def _keep_reg(self, row: RegistrationRow) -> None:
        if row["id"] in self.regs:
            return
        self.regs[row["id"]] = row
        self.regs_of.setdefault(row["person_id"], []).append(row["id"])

    def _keep_dose(self, did: str, pid: str, vaccine: str, number: int, day: str, voided: int) -> None:
        if did in self.doses:
            return
        self.doses[did] = (pid, vaccine, int(number), day, int(voided))
        self.doses_of.setdefault(pid, []).append(did)

    # ---- planning the ops ------------------------------------------------------------

    def try_apply(self, index: int, op: Op, digest: str) -> bool:
        """Plan ``op`` into the buffers if its outcome is certain; False leaves nothing changed.

        A declined op goes to its ORM applier, which gets the payload as parsed here
        (or its refusal) instead of validating it again (:func:`hub.payloads.remember`)."""
        model = _PLANNED_MODELS.get(op.op_type)
        if model is None:
            return False
        try:
            p = parse(model, op.payload)
        except Rejected as exc:
            remember(op.payload, model, exc)  # the ORM applier refuses it, with its exact reason
            return False
        try:
            if isinstance(p, RegisterPersonP):
                changes = self._register_person(op, p)
            elif isinstance(p, ScreeningP):
                changes = self._record_screening(op, p)
            else:
                assert isinstance(p, DoseP)
                changes = self._record_dose(op, p)
        except Rejected:
            changes = None
        if changes is None:
            remember(op.payload, model, p)
            return False
        self.pending.append(PlannedOp(index, op, digest, changes))
        self.pending_ids.add(op.op_id)
        return True

    def _allowed(self, op: Op, *actions: str) -> bool:
        """The op's user may do this at the site (the hub's own imports need no user).

        Remembered for the run per user and actions where the answer does not depend on
        when the op was recorded (an unknown user, an active one): a run's ops are one
        station's, mostly by one user, and no op of a run changes a user."""
        if self.trusted:
            return True
        key = (op.user_id, actions)
        got = self.allowed.get(key)
        if got is None:
            who = authz.actor(self.session, self.site, op.user_id)
            got = authz.allows(who, op.recorded_at, actions)
            if who is None or who.active:
                self.allowed[key] = got
        return got

    def _known_person(self, pid: str) -> bool:
        """A person the ops may refer to directly: exists, no redirect, already at this site."""
        return (
            pid in self.persons
            and pid not in self.redirected
            and self.site in self.sites.get(pid, ())
        )

    def _new_person_certain(self, op: Op, p: RegisterPersonP) -> bool:
        """Nothing to reconcile: a new id, no earlier holder of the number, no twin."""
        pid, v = op.entity_id, p.person
        if (
            not self._allowed(op, "register", "add_expected")
            or len(pid) > 36
            or pid in self.persons
            or pid in self.redirected
            or pid in self.merged_into
            or self.doses_of.get(pid)
            or self.regs_of.get(pid)
        ):
            return False
        if p.registration is not None and p.registration.id in self.regs:
            return False
        if v.id_number:
            return v.id_number not in self.id_numbers  # same ID number: a merge (ORM)
        # Same name, birth and phone as an active person: a possible duplicate, a review (ORM).
        return not (v.phone and (fold(v.full_name), v.birth, v.phone) in self.twins)

    def _register_person(self, op: Op, p: RegisterPersonP) -> list[list[object]] | None:
        if not self._new_person_certain(op, p):
            return None
        pid, v, at = op.entity_id, p.person, op.recorded_at
        person = person_row(pid, v, self.site, at, version=1)
        # Certain now: buffer it.
        self.persons.add(pid)
        self.new.persons.append(person)
        if person["id_number"] is not None:
            self.id_numbers.add(person["id_number"])
        if v.phone:
            self.twins.add((person["name_fold"], v.birth, v.phone))
        scopes = self.sites.setdefault(pid, set())
        if self.site not in scopes:
            scopes.add(self.site)
            self.new.sites.append({"person_id": pid, "site_code": self.site})
        data = change_data("person", person)
        changes = [self._change(op, sc, "person", pid, 1, data) for sc in sorted(scopes)]
        reg = p.registration
        if reg is not None:
            row = registration_row(reg, pid, self.site, at, version=1)
            self._keep_reg(row)
            self.new.regs[reg.id] = row
            changes.append(self._change(op, self.site, "registration", reg.id, 1, change_data("registration", row)))
        return changes

    def _record_screening(self, op: Op, p: ScreeningP) -> list[list[object]] | None:
        if (
            not self._allowed(op, "record_screening")
            or p.screener_id != (op.user_id or "")
            or p.id != op.entity_id
            or p.site_code != self.site
            or p.id in self.screenings
            or not self._known_person(p.person_id)
        ):
            return None
        changes: list[list[object]] = []
        if p.registration_id and p.registration_status:
            reg = self.regs.get(p.registration_id)
            if (
                reg is not None
                and reg["site_code"] == self.site
                and reg["status"] not in ("vaccinated", "observed")
            ):
                changes.append(self._move_registration(op, reg, p.registration_status, p.screened_at))
        row = screening_row(p, p.person_id, version=1)
        self.screenings.add(p.id)
        self.new.screenings.append(row)
        changes.append(self._change(op, self.site, "screening", p.id, 1, change_data("screening", row)))
        return changes

    def _dose_certain(self, op: Op, p: DoseP) -> bool:
        """Allowed, the lot this site's, a known person, and no possible duplicate."""
        lot = self.lots.get(p.lot_id) if p.lot_id is not None else None
        if (
            not self._allowed(op, "record_past_dose" if p.source == "history" else "record_dose")
            or p.vaccinator_id not in (op.user_id, None)
            or p.override_by is not None  # rare: the ORM applier checks the supervisor
            or (p.lot_id is not None and lot != (self.site, p.vaccine_code))
            or p.id != op.entity_id
            or p.site_code != self.site
            or p.id in self.doses
            or not self._known_person(p.person_id)
        ):
            return False
        want = series(p.vaccine_code)
        for did in self.doses_of.get(p.person_id, ()):
            _, vaccine, number, day, voided = self.doses[did]
            if not voided and ((number == p.dose_number and series(vaccine) == want) or day == p.day):
                return False  # a possible duplicate dose: a review (ORM)
        return True

    def _record_dose(self, op: Op, p: DoseP) -> list[list[object]] | None:
        pid = p.person_id
        if not self._dose_certain(op, p):
            return None
        regs = [
            self.regs[r]
            for r in self.regs_of.get(pid, ())
            if self.regs[r]["site_code"] == self.site and self.regs[r]["day"] == p.day
        ]
        if len(regs) > 1:
            return None  # the ORM applier's order of several registrations decides
        changes: list[list[object]] = []
        for reg in regs:
            if reg["status"] != "vaccinated":
                changes.append(self._move_registration(op, reg, "vaccinated", p.recorded_at))
        row = dose_row(p, pid, self.station_id, version=1)
        self._keep_dose(p.id, pid, p.vaccine_code, p.dose_number, p.day, 0)
        self.new.doses.append(row)
        data = change_data("dose", row)
        for scope in sorted(self.sites.get(pid, ())):
            changes.append(self._change(op, scope, "dose", p.id, 1, scoped_data("dose", data, scope)))
        return changes

    def _move_registration(self, op: Op, reg: RegistrationRow, status: str, at: str) -> list[object]:
        """A registration's status changed by a screening or a dose: a new version."""
        reg["status"] = status
        reg["updated_at"] = at
        reg["version"] = int(reg["version"] or 0) + 1
        if reg["id"] not in self.new.regs:
            self.new.changed_regs[reg["id"]] = reg
        return self._change(op, self.site, "registration", reg["id"], reg["version"], change_data("registration", reg))

    # ---- writing ---------------------------------------------------------------------

    def flush(self) -> list[tuple[int, int | None, Ledgered]]:
        """Write the buffered rows; returns (op index, first change row, ledger row) per
        planned op: the answer is the ledger row's (``applied``), its ``server_seq`` the
        Numbering's once written. :class:`BulkRefused` if the database refuses a row
        (the buffers are then dropped: the caller applies ``pending`` otherwise)."""
        if not self.pending:
            return []
        s = self.session
        s.flush()  # the ORM's own pending writes (the replica row) go first
        try:
            self._write_rows()
        except (IntegrityError, DataError) as exc:
            self.new = _Buffers()
            raise BulkRefused(type(exc).__name__) from None
        out = self._number_all()
        # Rows the ORM appliers may read next were written behind the ORM's back.
        s.expire_all()
        self.new = _Buffers()
        self.pending.clear()
        self.pending_ids.clear()
        return out

    def _write_rows(self) -> None:
        s, new = self.session, self.new
        insert_rows(s, PERSON, new.persons)
        insert_rows(s, PERSON_SITE, new.sites)
        insert_rows(s, REGISTRATION, list(new.regs.values()))
        if new.changed_regs:
            s.execute(
                update(REGISTRATION)
                .where(REGISTRATION.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    updated_at=bindparam("b_updated_at"),
                    version=bindparam("b_version"),
                ),
                [
                    {"b_id": r["id"], "b_status": r["status"], "b_updated_at": r["updated_at"], "b_version": r["version"]}
                    for r in new.changed_regs.values()
                ],
            )
        insert_rows(s, SCREENING, new.screenings)
        insert_rows(s, DOSE, new.doses)
        for d in new.doses:
            counters.note_new_dose(
                s,
                dose_id=d["id"],
                site=self.site,
                origin=self.station_id,
                day=d["day"],
                source=d["source"],
                recorded_at=d["recorded_at"],
            )

    def _number_all(self) -> list[tuple[int, int | None, Ledgered]]:
        """Hand each planned op's change rows and ledger row to the Numbering, in order:
        what :meth:`Numbering.add_values` and :meth:`Numbering.add_ledger_values` do, in one
        loop (issue 15, phase 10: no method calls per op)."""
        changes, ledger = self.numbering.changes, self.numbering.ledger
        station, epoch, now, echo = self.station_id, self.epoch, self.now, self.echo
        out: list[tuple[int, int | None, Ledgered]] = []
        for p in self.pending:
            rows = p.changes
            offset: int | None = None
            if rows:
                offset = len(changes)
                changes += rows
            detail: dict[str, object] = {"entity_changed": True, "no_echo": True} if echo else {"entity_changed": True}
            result: LedgerResult = {"server_seq": None, "reason": None, "detail": detail}
            op = p.op
            op_id, digest = op.op_id, p.digest
            # applied_op's values in its column order (hub.effects._LEDGER_COLS; orm.ledger_row's).
            ledger.append(([op_id, station, epoch, op.op_seq, op.op_type, digest, "applied", result, now], result, offset))
            out.append((p.index, offset, Ledgered(op_id, station, digest, "applied", result)))
        return out


def _dict(v: object) -> dict[str, object]:
    """A JSON object of the unparsed payload, or an empty one for anything else."""
    return v if isinstance(v, dict) else {}


def _registration(values: tuple[object, ...]) -> RegistrationRow:
    """A ``registration`` row as read (``_REG_SQL``: every column of the table, which are
    :class:`RegistrationRow`'s). A cast, as a driver row is untyped."""
    return cast(RegistrationRow, dict(zip(_REG_COLS, values, strict=True)))
