"""Station-side access to the transactional outbox (``sync_outbox``).

The services write ops (``UnitOfWork.emit``); this module is what the sync
engine and the UI use afterwards: the next batch to send (in ``op_seq`` order,
sized by bytes), the sending bookkeeping (put back after a failed send, with the
error code), counts for the status bar, the rejected list for a supervisor, and the
retention purge. The hub's answers are recorded by ``station.answers``.

States: ``pending`` (not answered: never sent, in flight, or sent without a known
outcome and put back), ``inflight`` (sent, outcome unknown: only ``mark_inflight``
sets it, which the push engine no longer calls), ``relay_accepted`` (the site hub on
the LAN holds it; the province has not answered it yet: still waiting, still counted pending in the
tally, and still sent by the direct route, whose answer the ledger makes a duplicate
if the site hub's copy arrived first), ``acked`` (applied or duplicate at the
hub), ``rejected`` (the hub refused it; the queue moves on), ``conflict`` (the
hub queued a review item; delivered all the same). Acked rows are kept for a
retention window so a hub restored from backup can be refilled.

All writes here run through ``Station.sync_writer`` (the sync engine's write
transaction, under the station's single-writer lock). No function here logs
payloads: they hold personal data.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypedDict

from kernel.chunks import in_chunks
from kernel.clock import iso, parse_iso
from station.db import raw_connection
from station.store import Station

log = logging.getLogger(__name__)

RELAY_ACCEPTED = "relay_accepted"
UNACKED_STATES = ("pending", "inflight", RELAY_ACCEPTED)  # the province has not answered
# What each route sends: the province takes everything it has not answered; the site
# hub only what it does not hold yet.
ROUTE_STATES = {"province": UNACKED_STATES, "site_hub": ("pending", "inflight")}
DEFAULT_RETENTION_DAYS = 30
_COLUMNS = (
    "op_seq, op_id, op_type, op_version, entity_type, entity_id, base_version, payload, hlc, "
    "recorded_at, user_id, state, attempts, last_error, ack_server_seq"
)


class WireOp(TypedDict):
    """An op's fields as ``sync.protocol.Op`` takes them (and a bundle writes them)."""

    op_id: str
    op_seq: int
    op_type: str
    op_version: int
    entity_type: str
    entity_id: str
    base_version: int | None
    payload: dict[str, object]
    hlc: str
    recorded_at: str
    user_id: str | None


# A raw ``sync_outbox`` row in ``_COLUMNS`` order, typed as the schema declares the columns.
_OutboxRow = tuple[
    int, str, str, int, str, str, int | None, str, str, str, str | None, str, int, str | None, int | None
]


@dataclass(frozen=True, slots=True)
class OutboxOp:
    """One op as stored; ``wire()`` gives the fields of ``sync.protocol.Op``."""

    op_seq: int
    op_id: str
    op_type: str
    op_version: int
    entity_type: str
    entity_id: str
    base_version: int | None
    payload_json: str  # the op's JSON object as stored (checked per op type at the hub)
    hlc: str
    recorded_at: str
    user_id: str | None
    state: str
    attempts: int
    size: int  # bytes of the op's JSON on the wire (before gzip): batches are sized by it

    @property
    def payload(self) -> dict[str, object]:
        """The payload parsed (the push splices ``payload_json`` as it is: sync.push_body)."""
        obj: dict[str, object] = json.loads(self.payload_json)
        return obj

    def wire(self) -> WireOp:
        return {
            "op_id": self.op_id,
            "op_seq": self.op_seq,
            "op_type": self.op_type,
            "op_version": self.op_version,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "base_version": self.base_version,
            "payload": self.payload,
            "hlc": self.hlc,
            "recorded_at": self.recorded_at,
            "user_id": self.user_id,
        }


@dataclass(frozen=True, slots=True)
class OutboxCounts:
    pending: int
    inflight: int
    acked: int
    rejected: int
    conflict: int
    relay_accepted: int = 0  # held by the site hub, not answered by the province

    @property
    def waiting(self) -> int:
        """Ops the province has not answered yet (what "N chờ gửi" shows)."""
        return self.pending + self.inflight + self.relay_accepted

    @property
    def unsent(self) -> int:
        """Ops no hub holds yet (what the site hub route still has to send)."""
        return self.pending + self.inflight


@dataclass(frozen=True, slots=True)
class RejectedOp:
    """A refused op for the supervisor's list: codes and ids only, no payload."""

    op_seq: int
    op_id: str
    op_type: str
    entity_type: str
    entity_id: str
    reason: str | None
    recorded_at: str
    user_id: str | None
    attempts: int


def _tuple_to_op(r: _OutboxRow) -> OutboxOp:
    """The op of a raw row (a tuple: no SQLAlchemy result processing on the hot path)."""
    (op_seq, op_id, op_type, op_version, entity_type, entity_id, base_version, payload, hlc,
     recorded_at, user_id, state, attempts, _err, _ack) = r
    size = (
        len(payload.encode()) + len(op_id) + len(op_type) + len(entity_type) + len(entity_id.encode())
        + len(hlc) + len(str(recorded_at)) + len(str(user_id or "")) + _WIRE_OVERHEAD
    )
    return OutboxOp(
        op_seq=int(op_seq),
        op_id=op_id,
        op_type=op_type,
        op_version=int(op_version),
        entity_type=entity_type,
        entity_id=entity_id,
        base_version=None if base_version is None else int(base_version),
        payload_json=payload,
        hlc=hlc,
        recorded_at=recorded_at,
        user_id=user_id,
        state=state,
        attempts=int(attempts),
        size=size,
    )


# The JSON punctuation and key names of an op on the wire, besides its values.
_WIRE_OVERHEAD = 190


def next_batch(
    st: Station,
    *,
    max_bytes: int,
    max_ops: int,
    from_seq: int | None = None,
    after_seq: int | None = None,
    route: str = "province",
) -> list[OutboxOp]:
    """The next ops to send, in ``op_seq`` order, at most ``max_bytes`` (but at least one op).

    Normally only unanswered ops (pending/inflight). With ``from_seq`` (the hub
    reported a gap: it expects an earlier op_seq than our first unanswered
    one, e.g. after a hub restore) every op from there on is sent again,
    answered or not, as long as retention still holds it: the hub's ledger
    turns the ones it has into duplicates. With ``after_seq`` only unanswered
    ops after that op_seq (the batch after the one in flight). ``route``: the
    province route also sends ``relay_accepted`` ops, the site hub route does not.
    """
    max_ops = max(1, max_ops)
    if from_seq is None:
        sql = (
            f"SELECT {_COLUMNS} FROM sync_outbox WHERE state IN ({_states_sql(route)}) "
            "AND op_seq > :a ORDER BY op_seq LIMIT :n"
        )
        params: dict[str, int] = {"n": max_ops, "a": -1 if after_seq is None else after_seq}
    else:
        sql = f"SELECT {_COLUMNS} FROM sync_outbox WHERE op_seq >= :s ORDER BY op_seq LIMIT :n"
        params = {"s": from_seq, "n": max_ops}
    out: list[OutboxOp] = []
    total = 0
    with st.read_raw() as raw:
        # The raw DB-API connection: rows as tuples, no SQLAlchemy result processing (a
        # quarter of the station's cost per op, bench peer), nor its import (issue 15).
        cur = raw.execute(
            sql.replace(":a", "?").replace(":s", "?").replace(":n", "?"),
            (params["a"], params["n"]) if from_seq is None else (params["s"], params["n"]),
        )
        for row in cur:
            op = _tuple_to_op(row)
            if out and total + op.size > max_bytes:
                break
            out.append(op)
            total += op.size
    return out


def _states_sql(route: str) -> str:
    return ", ".join(f"'{state}'" for state in ROUTE_STATES[route])


def _scalar(st: Station, sql: str, params: Sequence[object] = ()) -> Any:
    """The first column of the first row (None: no row), in a read on a raw connection."""
    with st.read_raw() as raw:
        row = raw.execute(sql, params).fetchone()
    return None if row is None else row[0]


def first_unanswered_seq(st: Station, route: str = "province") -> int | None:
    v = _scalar(st, f"SELECT min(op_seq) FROM sync_outbox WHERE state IN ({_states_sql(route)})")
    return None if v is None else int(v)


def min_seq(st: Station) -> int | None:
    """The oldest op still held (older ones were purged after retention)."""
    v = _scalar(st, "SELECT min(op_seq) FROM sync_outbox")
    return None if v is None else int(v)


def mark_inflight(st: Station, op_ids: Sequence[str]) -> None:
    """Mark ops as sent, outcome unknown, and count the attempt (answered ops keep their state).

    The push engine no longer calls it (issue 15, phase 5: it wrote every row a second
    time; the answer or ``mark_error`` counts the attempt); kept for tools and for
    ``inflight`` rows an older version left, which every reader treats as pending.
    """
    if not op_ids:
        return
    # Bookkeeping only: if a power cut takes this commit, the ops are still "pending",
    # they go again and the hub's ledger answers "duplicate" with the stored result. So it
    # does not wait for its own fsync (it is on the way of every batch); the next FULL
    # commit (the answers, or any service write) makes it durable with all before it.
    with st.sync_writer(durable=False) as conn:
        raw = raw_connection(conn)
        for chunk in in_chunks(list(op_ids)):
            raw.execute(
                "UPDATE sync_outbox SET attempts = attempts + 1, "
                "state = CASE WHEN state IN ('pending', 'inflight') THEN 'inflight' ELSE state END "
                f"WHERE op_id IN ({', '.join('?' * len(chunk))})",
                chunk,
            )


def mark_error(st: Station, op_ids: Sequence[str], code: str) -> None:
    """The send failed without an answer: put the ops back to pending with the error code.

    Counts the attempt (the push marks nothing as it sends: ``sync.push``), unless
    ``mark_inflight`` counted it.

    Only a code is stored (e.g. ``hub.timeout``), never a message that could echo data.
    """
    if not op_ids:
        return
    from sqlalchemy import bindparam, text

    with st.sync_writer() as conn:
        conn.execute(
            text(
                "UPDATE sync_outbox SET last_error = :e, attempts = attempts + (state <> 'inflight'), "
                "state = CASE WHEN state = 'inflight' THEN 'pending' ELSE state END "
                "WHERE op_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(op_ids), "e": code[:200]},
        )


def counts(st: Station) -> OutboxCounts:
    with st.read_raw() as raw:
        rows: dict[str, int] = {
            str(k): int(v) for k, v in raw.execute("SELECT state, count(*) FROM sync_outbox GROUP BY state")
        }
    return OutboxCounts(
        pending=int(rows.get("pending", 0)),
        inflight=int(rows.get("inflight", 0)),
        acked=int(rows.get("acked", 0)),
        rejected=int(rows.get("rejected", 0)),
        conflict=int(rows.get("conflict", 0)),
        relay_accepted=int(rows.get(RELAY_ACCEPTED, 0)),
    )


def relay_accepted_ids(st: Station, *, limit: int = 1000) -> list[str]:
    """Ops the site hub holds that the province has not answered (oldest first)."""
    with st.read_raw() as raw:
        return [
            str(r[0])
            for r in raw.execute(
                "SELECT op_id FROM sync_outbox WHERE state = ? ORDER BY op_seq LIMIT ?", (RELAY_ACCEPTED, limit)
            )
        ]


def oldest_pending_at(st: Station) -> str | None:
    v = _scalar(
        st,
        "SELECT recorded_at FROM sync_outbox "
        "WHERE state IN ('pending', 'inflight', 'relay_accepted') ORDER BY op_seq LIMIT 1",
    )
    return None if v is None else str(v)


def oldest_pending_age_s(st: Station, now: datetime | None = None) -> float | None:
    """Seconds since the oldest unanswered op was recorded (None when nothing waits)."""
    at = oldest_pending_at(st)
    if at is None:
        return None
    return max(0.0, ((now or st.clock()) - parse_iso(at)).total_seconds())


def purge_acked(
    st: Station, *, older_than_days: int = DEFAULT_RETENTION_DAYS, now: datetime | None = None
) -> int:
    """Delete acked ops answered more than ``older_than_days`` ago; returns how many.

    Only ``acked`` rows go: rejected and conflict rows stay for the supervisor,
    and unanswered ops are never touched.
    """
    cutoff = iso((now or st.clock()) - timedelta(days=older_than_days))
    # The sync engine's durable write transaction, on a raw connection (no SQLAlchemy).
    with st.sync_writer_raw() as raw:
        res = raw.execute(
            "DELETE FROM sync_outbox WHERE state = 'acked' AND ack_at IS NOT NULL AND ack_at < ?", (cutoff,)
        )
        n = int(res.rowcount or 0)
    if n:
        log.info("purged %d acked outbox ops past retention", n)
    return n


def rejected(st: Station, *, limit: int = 500) -> list[RejectedOp]:
    """Refused ops, newest first, for the supervisor's screen."""
    from sqlalchemy import text

    with st.read() as conn:
        rows = conn.execute(
            text(
                "SELECT op_seq, op_id, op_type, entity_type, entity_id, last_error, recorded_at, "
                "user_id, attempts FROM sync_outbox WHERE state = 'rejected' "
                "ORDER BY op_seq DESC LIMIT :n"
            ),
            {"n": limit},
        ).mappings().all()
    return [
        RejectedOp(
            op_seq=int(r["op_seq"]),
            op_id=r["op_id"],
            op_type=r["op_type"],
            entity_type=r["entity_type"],
            entity_id=r["entity_id"],
            reason=r["last_error"],
            recorded_at=r["recorded_at"],
            user_id=r["user_id"],
            attempts=int(r["attempts"]),
        )
        for r in rows
    ]


__all__ = [
    "DEFAULT_RETENTION_DAYS",
    "RELAY_ACCEPTED",
    "ROUTE_STATES",
    "UNACKED_STATES",
    "OutboxCounts",
    "OutboxOp",
    "RejectedOp",
    "counts",
    "first_unanswered_seq",
    "mark_error",
    "mark_inflight",
    "min_seq",
    "next_batch",
    "oldest_pending_age_s",
    "oldest_pending_at",
    "purge_acked",
    "rejected",
    "relay_accepted_ids",
]
