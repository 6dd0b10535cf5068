"""Applying pushed ops: the ledger, per-replica order, domain rules and DESIGN §6 conflicts.

A push runs in one write transaction: ledger check and order check per op,
then its effect, the ``applied_op`` row and the change-log rows, all committed
together (one COMMIT per batch). A retried op therefore answers exactly what
the first attempt committed.

Rules as implemented (docs/protocol.md has the full table):

* known ``op_id`` + same payload hash → ``duplicate`` with the stored result;
  different hash → ``rejected`` ``op.id_reused``;
* ``op_seq`` below the replica's next with an unknown ``op_id`` → HTTP 409
  ``replica.regressed``; above it → stop and answer ``expected_next_op_seq``;
* a rejected op is recorded and the replica moves on (the queue never blocks).

The effects themselves live in :mod:`hub.apply`: new walk-ins, screenings and
doses with nothing to reconcile are planned and written by the bulk executor
(:mod:`hub.apply.bulk`), a run of them at once or, op by op, a run of one;
everything else (merges, redirects, possible duplicates, review resolutions,
refusals, edits of existing rows) by its ORM applier (:mod:`hub.apply.orm`),
each in its own savepoint.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import inspect, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from hub import counters
from hub.apply.bulk import BulkRefused, BulkRun, id_chunks, ids_in, planned_runs
from hub.apply.context import SKEW_TOLERANCE_MS, lock_rows, payload_hash, utc_now
from hub.apply.orm import Ledgered, answer, apply_op, record_applied
from hub.db import Database, begin_with
from hub.effects import Effects, Numbering
from hub.errors import HubError
from hub.models import EnrolledStation, Replica, ReviewItem
from hub.payloads import parsed_once
from hub.rowtypes import LedgerResult
from kernel.ids import uuid7
from sync.protocol import AckStatus, Op, OpResult, PushRequest

__all__ = [
    "SKEW_TOLERANCE_MS",
    "apply_op",
    "hub_origin_op",
    "note_clock_skew",
    "payload_hash",
    "process_push",
    "record_applied",
    "utc_now",
]

log = logging.getLogger(__name__)


def _stored(led: Ledgered) -> OpResult:
    """The answer to a retried op: the stored result, never a different verdict.

    An op applied the first time is answered ``duplicate``; one refused or queued
    for review keeps that status, or a lost answer would turn a refusal into an
    acknowledgement at the station (and hide it from the supervisor).
    """
    r = led.result
    return OpResult(
        op_id=led.op_id,
        status="duplicate" if led.status in ("applied", "duplicate") else led.status,
        server_seq=r["server_seq"],
        reason=r["reason"],
        detail=r["detail"] | {"original_status": led.status},
    )


# The statuses :func:`hub.apply.orm.ledger_row` stores; a ledger row is read back through it.
_ACK_STATUS: dict[str, AckStatus] = {
    "applied": "applied",
    "duplicate": "duplicate",
    "rejected": "rejected",
    "conflict_queued": "conflict_queued",
}


def _stored_result(raw: object) -> LedgerResult:
    """``applied_op.result`` as read back (JSON): the :class:`LedgerResult` the hub wrote,
    narrowed value by value (a value of another type reads as absent)."""
    got = raw if isinstance(raw, dict) else {}
    seq, reason, detail = got.get("server_seq"), got.get("reason"), got.get("detail")
    return {
        "server_seq": seq if isinstance(seq, int) else None,
        "reason": reason if isinstance(reason, str) else None,
        "detail": dict(detail) if isinstance(detail, dict) else {},
    }


def _ledger_rows(session: Session, op_ids: list[str]) -> dict[str, Ledgered]:
    """The ledger rows of a push's op ids: one query (per 500 ids on SQLite), straight to
    the driver (:func:`hub.apply.bulk.ids_in`; ``result`` is JSON text on SQLite)."""
    rows = [r for chunk in id_chunks(session, sorted(set(op_ids))) for r in ids_in(session, _LEDGER_SQL, chunk)]
    return _ledgered(rows)


_LEDGER_SQL = "SELECT op_id, station_id, payload_sha256, status, result FROM applied_op WHERE op_id IN :ids"
_LEDGER_PG = _LEDGER_SQL.replace("IN :ids", "= ANY(%b)")
_REPLICA_SQL = "SELECT next_op_seq, created_at FROM replica WHERE station_id = %s AND epoch = %s FOR UPDATE"
_REPLICA_SEQ = "UPDATE replica SET next_op_seq = %s WHERE station_id = %s AND epoch = %s"
# The push's station row on PostgreSQL (issue 15, branch pg9), read by hand in the start's
# round trip: its clock skew written and the row returned, or (no skew measured) read.
_STATION_COLS = tuple(c.name for c in EnrolledStation.__table__.columns)
_STATION_SKEW = (
    f"UPDATE station SET clock_skew_ms = %s, last_seen = %s WHERE id = %s RETURNING {', '.join(_STATION_COLS)}"
)
_STATION_READ = f"SELECT {', '.join(_STATION_COLS)} FROM station WHERE id = %s"
# The same on SQLite: its parameters as ``?``; no FOR UPDATE (the write transaction, BEGIN
# IMMEDIATE, holds the whole database).
_SQLITE = {
    sql: sql.replace("%s", "?").replace(" FOR UPDATE", "")
    for sql in (_REPLICA_SQL, _REPLICA_SEQ, _STATION_SKEW, _STATION_READ)
}


def _op_ids(ops: list[Op]) -> list[str]:
    return sorted({op.op_id for op in ops})


def _held(key: tuple[str, str], rows: list[tuple[Any, ...]]) -> Replica | None:
    """The replica row read (and locked) by hand, kept out of the session: its new
    ``next_op_seq`` is written once, with the hub clock (:func:`_run_push`)."""
    if not rows:
        return None
    return Replica(station_id=key[0], epoch=key[1], next_op_seq=int(rows[0][0]), created_at=str(rows[0][1]))


def _station(rows: list[tuple[Any, ...]]) -> EnrolledStation:
    """The station row read by hand, out of the session (the appliers read its id and site;
    a run's ``expire_all`` must not send the ORM to read it again)."""
    assert rows, "the pushing station's row is gone"
    return EnrolledStation(**dict(zip(_STATION_COLS, rows[0], strict=True)))


def _ledgered(rows: list[tuple[Any, ...]]) -> dict[str, Ledgered]:
    found: dict[str, Ledgered] = {}
    for op_id, station_id, digest, status, result in rows:
        got = json.loads(result) if isinstance(result, str) else result
        found[str(op_id)] = Ledgered(
            str(op_id), str(station_id), str(digest), _ACK_STATUS[str(status)], _stored_result(got)
        )
    return found


# An op's answer until the push is numbered: an ORM applier's result and its first
# change row; a planned op's fresh ledger row; or a ledger row answering a retried op.
Answer = tuple[OpResult, int | None] | tuple[str, Ledgered] | Ledgered


class _Push:
    """One push inside its transaction: the replica's order, the ledger, runs and answers.

    Locks are taken in one order: the station row, the replica row, the rows the
    ops touch (:func:`hub.apply.context.lock_rows`), the dose counters, the hub
    clock last (:meth:`Numbering.write`).
    """

    def __init__(
        self, s: Session, station_id: str, req: PushRequest, ops: list[Op], now: str, numbering: Numbering, *, batch: bool
    ) -> None:
        self.s, self.station_id, self.ops, self.now = s, station_id, ops, now
        self.station: EnrolledStation
        self.skewed = False
        self.epoch = req.replica_epoch
        self.numbering = numbering
        self.results: list[Answer | None] = []
        self.run: BulkRun | None = None  # the look-ups and buffers of the current run
        # Where the run of plannable ops holding each op ends (0: not plannable).
        starts = planned_runs(ops, batch=batch)
        self.ends = [0] * len(ops)
        for i, n in enumerate(starts):
            for j in range(i, i + n):
                self.ends[j] = i + n
        self.rep: Replica | None = None
        self.rep_seq: int | None = None  # PostgreSQL: the held replica's next_op_seq as read
        # The replica's next op_seq after the planned ops, not yet set on its row object
        # (an ORM attribute set per op: ~1 µs). Set before anything flushes or reads it (_settle).
        self.seq: int | None = None
        self.ledger: dict[str, Ledgered] = {}
        self.pg = s.get_bind().dialect.name == "postgresql"

    def start(self, skew_ms: int | None) -> None:
        """The station row (its clock skew written), the replica row's lock, the rows the
        ops touch, the ledger: in that order."""
        s, ops, key = self.s, self.ops, (self.station_id, self.epoch)
        first = (_STATION_SKEW, (skew_ms, self.now, key[0])) if skew_ms is not None else (_STATION_READ, key[:1])
        if self.pg:
            # All in one round trip, the transaction's BEGIN with them (issue 15, branches
            # pgwaits and pg9): the station's UPDATE takes its row lock first, as its flush did.
            begin = begin_with(s)
            got, (led,) = lock_rows(s, ops, before=[*begin, first, (_REPLICA_SQL, key)], after=[(_LEDGER_PG, (_op_ids(ops),))])
            st, rep = got[len(begin) :]
            self.ledger = _ledgered(led)
        else:
            # Read (and written) by hand as on PostgreSQL, out of the session (issue 15, phase
            # 10: the ORM's two loads and their flushes were ~0.7 ms a push): the station row
            # with its clock skew, the replica row, whose next_op_seq is written once at the end.
            conn = s.connection()
            st = [tuple(r) for r in conn.exec_driver_sql(_SQLITE[first[0]], first[1])]
            rep = [tuple(r) for r in conn.exec_driver_sql(_SQLITE[_REPLICA_SQL], key)]
        self.station, self.rep = _station(st), _held(key, rep)
        self.rep_seq = self.rep.next_op_seq if self.rep is not None else None
        if skew_ms is not None:
            _flag_skew(s, self.station, skew_ms, now=self.now, numbering=self.numbering)
        if not self.pg:
            self.ledger = _ledger_rows(s, _op_ids(ops))
        skew = self.station.clock_skew_ms
        self.skewed = skew is not None and abs(skew) > SKEW_TOLERANCE_MS

    def run_all(self) -> None:
        ops = self.ops
        for i, op in enumerate(ops):
            if not self._one(i, op):
                break  # a gap: answer what came before and the next expected op_seq
        self._flush_run()

    def _one(self, i: int, op: Op) -> bool:
        """Answer op ``i``; False at a gap in op_seq."""
        digest = payload_hash(op)
        if self.run is not None and op.op_id in self.run.pending_ids:
            self._flush_run()  # the same op id twice in one push: answer from its ledger row
        led = self.ledger.get(op.op_id)
        if led is not None:
            self._retried(op, digest, led)
            return True
        rep = self._replica_at(op)
        if op.op_seq > (rep.next_op_seq if self.seq is None else self.seq):
            return False
        self.results.append(None)
        if self.run is None and self.ends[i]:
            self._settle()
            self.run = BulkRun(self.s, self.station.site_code, self.station.id, self.epoch, self.now, self.numbering)
            self.run.load(self.ops[i : self.ends[i]])
        if self.run is None or not self.run.try_apply(i, op, digest):
            self._flush_run()
            self._apply_orm(i, op, digest)
            rep.next_op_seq = op.op_seq + 1
        else:
            self.seq = op.op_seq + 1  # on the row before the run is written (_settle)
        if self.run is not None and i + 1 >= self.ends[i]:
            self._flush_run()  # the run ends here
        return True

    def _settle(self) -> None:
        """The replica row's next op_seq as the planned ops left it."""
        if self.seq is not None:
            assert self.rep is not None
            self.rep.next_op_seq, self.seq = self.seq, None

    def _retried(self, op: Op, digest: str, led: Ledgered) -> None:
        self._settle()
        if self.rep is None:
            self.rep = Replica(station_id=self.station.id, epoch=self.epoch, next_op_seq=op.op_seq + 1, created_at=self.now)
            self.s.add(self.rep)
        elif op.op_seq == self.rep.next_op_seq:
            self.rep.next_op_seq += 1
        if led.payload_sha256 != digest or led.station_id != self.station.id:
            # An op id belongs to the station that made it, with the payload it had.
            self.results.append((OpResult(op_id=op.op_id, status="rejected", reason="op.id_reused"), None))
        else:
            self.results.append(led)

    def _replica_at(self, op: Op) -> Replica:
        """The replica row, made on first contact; a new op id behind its order is refused."""
        if self.rep is None:
            # A new replica (first contact, or a restored backup's new epoch) starts where it starts.
            self.rep = Replica(station_id=self.station.id, epoch=self.epoch, next_op_seq=op.op_seq, created_at=self.now)
            self.s.add(self.rep)
        nxt = self.rep.next_op_seq if self.seq is None else self.seq
        if op.op_seq < nxt:
            raise HubError(
                409,
                "replica.regressed",
                "op_seq went backwards with a new op id: rotate the replica epoch",
                expected_next_op_seq=nxt,
            )
        return self.rep

    def _apply_orm(self, i: int, op: Op, digest: str) -> None:
        res, first = apply_op(self.s, self.station, op, now=self.now, skewed=self.skewed, numbering=self.numbering)
        self.ledger[op.op_id] = record_applied(self.numbering, self.station, self.epoch, op, digest, res, first, self.now)
        self.results[i] = (res, first)

    def _flush_run(self) -> None:
        """Write the current run; if the database refuses its rows, apply its ops through
        their ORM appliers instead (each op's savepoint then turns a refused value into
        that op's rejection, and a number another push just committed into a merge)."""
        self._settle()
        run, self.run = self.run, None
        if run is None or not run.pending:
            return
        s = self.s
        s.flush()  # the ORM's own writes (a new replica row) stay outside the savepoint
        seq = self.rep.next_op_seq if self.rep is not None else None
        noted = counters.mark(s)
        try:
            with s.begin_nested():
                written = run.flush()
            if self.rep is not None and inspect(self.rep).persistent:
                # as flushed: not read again after the run's expire_all
                set_committed_value(self.rep, "next_op_seq", seq)
        except BulkRefused as exc:
            log.info("push: the database refused a run's rows (%s); applying them op by op", exc)
            counters.rollback_to(s, noted)
            for p in run.pending:
                self._apply_orm(p.index, p.op, p.digest)
            return
        for index, _first, led in written:
            self.results[index] = ("fresh", led)
            self.ledger[led.op_id] = led

    def answers(self) -> list[OpResult]:
        numbering = self.numbering
        answered: list[OpResult] = []
        for r in self.results:
            assert r is not None, "every op processed is answered"
            if type(r) is tuple and type(r[0]) is str:  # a planned op: _answer's first case, inline
                led = r[1]
                assert isinstance(led, Ledgered)
                res = led.result
                answered.append(answer(led.op_id, "applied", res["server_seq"], None, res["detail"]))
            else:
                answered.append(_answer(r, numbering))
        return answered


def _run_push(
    s: Session,
    station_id: str,
    req: PushRequest,
    ops: list[Op],
    now: str,
    *,
    batch: bool,
    skew_ms: int | None,
) -> tuple[list[OpResult], int]:
    """The push in one transaction: ledger and order checks per op, effects in runs or op by op."""
    s.info["locked_persons"] = set()
    numbering = Numbering()
    push = _Push(s, station_id, req, ops, now, numbering, batch=batch)
    push.start(skew_ms)
    push.run_all()
    push._settle()  # the planned ops' order on the replica row object (run_all's last run did)
    rep = push.rep
    if rep is not None and push.rep_seq is not None and rep.next_op_seq != push.rep_seq:
        # PostgreSQL: the held replica row's order, written once, with the clock's round trip
        # (SQLite: run just before the clock's update as well, Numbering.write)
        sql = _REPLICA_SEQ if push.pg else _SQLITE[_REPLICA_SEQ]
        numbering.before.append((sql, (rep.next_op_seq, station_id, req.replica_epoch)))
    # The dose counters move in this same transaction (hub/counters.py), before the
    # clock: their rows are taken in sorted order, the hub clock after everything.
    counters.flush(s, station_id=station_id, answered=len(push.results), numbering=numbering)
    push.numbering.write(s)  # the hub clock: the transaction's last lock
    expected = rep.next_op_seq if rep is not None else (ops[0].op_seq if ops else 1)
    return push.answers(), expected


def _answer(a: Answer, numbering: Numbering) -> OpResult:
    if isinstance(a, Ledgered):
        return _stored(a)
    first_item, second = a
    if isinstance(first_item, str):  # ("fresh", led): a planned op, its ledger row numbered
        assert isinstance(second, Ledgered)
        r = second.result
        return answer(second.op_id, "applied", r["server_seq"], None, r["detail"])
    assert isinstance(first_item, OpResult) and not isinstance(second, Ledgered)
    if second is None:
        return first_item
    # Built without validating again: the fields are the validated result's.
    return answer(first_item.op_id, first_item.status, numbering.seq(second), first_item.reason, first_item.detail)


def process_push(
    db: Database,
    station_id: str,
    req: PushRequest,
    *,
    now: str,
    fast: bool = True,
    skew_ms: int | None = None,
    record: Callable[[Session, PushRequest, list[Op], list[OpResult]], None] | None = None,
) -> tuple[list[OpResult], int]:
    """Apply a push in one transaction (one COMMIT per batch, not per op).

    Every answer describes committed work: the results are returned only after
    the batch commits; a transient conflict re-runs the whole batch, and an error
    (e.g. ``replica.regressed``) leaves none of it applied, so the station simply
    sends the same op ids again. ``fast`` False applies the ops one at a time
    (each plannable op a run of one): the same executor, the same rows and answers.

    ``skew_ms`` (station clock minus hub clock, measured on this request) is
    stored in the same transaction (:func:`note_clock_skew`).

    ``record`` (a site hub) is called with the push's answers inside the same
    transaction: it keeps the ops to forward to the province (``hub.site_hub``), so an
    op answered here is never an op the site hub forgets.
    """
    ops = sorted(req.ops, key=lambda o: o.op_seq)

    def run(s: Session) -> tuple[list[OpResult], int]:
        with parsed_once():  # the planner's parsed payloads serve the ORM appliers too
            results, expected = _run_push(s, station_id, req, ops, now, batch=fast, skew_ms=skew_ms)
        if record is not None:
            record(s, req, ops, results)
        return results, expected

    results, expected = db.run_write(run)
    for res, op in zip(results, ops, strict=False):
        if res.status == "rejected":
            log.info("op rejected: type=%s reason=%s", op.op_type, res.reason)
    return results, expected


def hub_origin_op(
    db: Database,
    station_id: str,
    review_id: str,
    action: str,
    params: dict[str, object],
    user_id: str | None,
    *,
    now: str,
) -> OpResult:
    """A resolution made through the hub API: a ``resolve_review`` op of hub origin, ledgered."""
    op = Op(
        op_id=uuid7(),
        op_seq=1,
        op_type="resolve_review",
        entity_type="review",
        entity_id=review_id,
        payload={"review_id": review_id, "action": action, "params": params},
        hlc="",
        recorded_at=now,
        user_id=user_id,
    )

    def run(s: Session) -> OpResult:
        s.info["locked_persons"] = set()
        numbering = Numbering()
        station = s.get(EnrolledStation, station_id)
        assert station is not None
        lock_rows(s, [op])
        item = s.get(ReviewItem, review_id)
        if item is None or station.site_code not in item.site_codes:
            raise HubError(404, "review.not_found", "no such review item for this site")
        res, first = apply_op(s, station, op, now=now, skewed=False, numbering=numbering)
        record_applied(numbering, station, "hub", op, payload_hash(op), res, first, now)
        counters.flush(s)  # the dose counters, before the clock: the clock is the last lock
        numbering.write(s)
        return _answer((res, first), numbering)

    return db.run_write(run)


def note_clock_skew(
    s: Session, station: EnrolledStation, skew_ms: int, *, now: str, numbering: Numbering
) -> None:
    """Store the measured skew; open one ``clock_skew`` review the first time it is too large."""
    station.clock_skew_ms = skew_ms
    station.last_seen = now
    _flag_skew(s, station, skew_ms, now=now, numbering=numbering)


def _flag_skew(s: Session, station: EnrolledStation, skew_ms: int, *, now: str, numbering: Numbering) -> None:
    """One ``clock_skew`` review, the first time the skew is too large. A station row read
    by hand (PostgreSQL, already written and locked by the push's start) is flagged by an
    UPDATE of its own; the ORM's flushes that of one it loaded."""
    if abs(skew_ms) > SKEW_TOLERANCE_MS and not station.skew_flagged:
        if inspect(station).transient:
            s.execute(update(EnrolledStation).where(EnrolledStation.id == station.id).values(skew_flagged=1))
        station.skew_flagged = 1
        fx = Effects(s, None, now, numbering)
        fx.review(
            "clock_skew",
            "low",
            "station",
            station.id,
            [station.site_code],
            {"station_id": station.id, "clock_skew_ms": skew_ms},
        )
        fx.flush()
