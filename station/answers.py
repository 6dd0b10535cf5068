"""What the station does with the hub's answers to its pushed ops, in one transaction per batch.

For each answer (``Ack``, read from the hub's per-op result by ``sync.push.ack_of``):

* **mark it answered**: the outbox row becomes ``acked`` (applied or
  duplicate), ``rejected`` (the queue moves on) or ``conflict`` (a review item
  was queued; delivered all the same), with the hub's change-log seq of the
  op's effect (``ack_server_seq``) when the op changed its own entity;
* **echoes**: rows an applied op created that the hub will not send back
  (``no_echo``) are numbered version 1 now, as the hub holds them;
* **kept edits**: hub rows kept aside behind the answered ops are applied,
  dropped, or parked if they cannot land (:func:`settle`), and a refused
  person edit is undone field by field;
* the push time and the hub's clock skew go to ``sync_state``.

Sending bookkeeping (``inflight``, putting unanswered ops back) stays with the
queue in ``station.outbox``. Everything here runs on the sync writer's
connection (``Station.sync_writer``); nothing logs payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Connection, bindparam, text

from kernel.chunks import in_chunks
from kernel.clock import iso
from kernel.rules.vietnam import PartialDate, fold
from station import held_changes
from station.ack import ACK_STATE, Ack, AckSummary
from station.db import raw_connection
from station.protection import Protection, compute_protection
from station.replica_rows import (
    COLS,
    DB_FAULTS,
    ROW_FAULTS,
    apply_review,
    failure_code,
    keep_for,
    write_rows,
)
from station.store import Station

MAX_DEFERRED_SETTLE = 2000

# One attempt per send, counted with its outcome (``outbox.mark_inflight`` counted its own).
_COUNT_ATTEMPT = ", attempts = attempts + (state <> 'inflight')"


def apply_acks(
    conn: Connection, acks: Iterable[Ack], *, now: datetime, count_attempt: bool = False
) -> AckSummary:
    """Record answers on an open write connection (the caller owns the transaction).

    ``count_attempt``: the answers are to a send of these ops (the push), which counts
    one attempt each in the same UPDATE (nothing marks an op as it is sent; an op
    ``outbox.mark_inflight`` marked had its attempt counted there).
    """
    counts = {"acked": 0, "duplicate": 0, "rejected": 0, "conflict": 0, "unknown": 0}
    now_iso = iso(now)
    acks = list(acks)
    known = [(a, ACK_STATE[a.status]) for a in acks if a.status in ACK_STATE]
    counts["unknown"] += len(acks) - len(known)
    if not known:
        return AckSummary(**counts)
    by_seq: list[tuple[object, ...]] = []
    by_id: list[tuple[object, ...]] = []
    for ack, state in known:
        row = (state, ack.server_seq, now_iso, (ack.reason or None) if state in ("rejected", "conflict") else None)
        if ack.op_seq is None:
            by_id.append((*row, ack.op_id))
        else:
            by_seq.append((*row, ack.op_seq, ack.op_id))
    # On the transaction's raw DB-API connection: SQLAlchemy's per-row parameter handling
    # cost more than the UPDATEs themselves (bench peer). By primary key when the op_seq
    # is known (half the CPU of the look-up through op_id's index), op_id checked too.
    raw = raw_connection(conn)
    sets = f"UPDATE sync_outbox SET state = ?, ack_server_seq = ?, ack_at = ?, last_error = ?{_COUNT_ATTEMPT if count_attempt else ''}"
    updated = 0
    if by_seq:
        updated += raw.executemany(f"{sets} WHERE op_seq = ? AND op_id = ?", by_seq).rowcount
    if by_id:
        updated += raw.executemany(f"{sets} WHERE op_id = ?", by_id).rowcount
    present: set[str] | None = None
    if updated != len({a.op_id for a, _ in known}):
        # Answers for ops we do not hold (a hub bug, a foreign answer): count them apart.
        present = {
            str(r)
            for chunk in in_chunks([a.op_id for a, _ in known])
            for r in conn.execute(
                text("SELECT op_id FROM sync_outbox WHERE op_id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": chunk},
            ).scalars()
        }
    for ack, state in known:
        if present is not None and ack.op_id not in present:
            counts["unknown"] += 1
        elif ack.status == "duplicate":
            counts["duplicate"] += 1
        elif state == "acked":
            counts["acked"] += 1
        else:
            counts[state] += 1
    _number_unechoed(
        conn,
        [
            a.op_id
            for a, st in known
            if a.no_echo and st == "acked" and (present is None or a.op_id in present)
        ],
    )
    return AckSummary(**counts)


# The rows an op creates, which the hub may answer ``no_echo`` for (hub/apply/rows.py, echo_for).
_CREATES = {"register_person": "person", "record_screening": "screening", "record_dose": "dose"}


def _number_unechoed(conn: Connection, op_ids: list[str]) -> None:
    """Rows the hub will not send back: number them version 1, as the hub holds them.

    Only rows still at version 0 (never pulled): a newer hub row that arrived
    first keeps its number.
    """
    if not op_ids:
        return
    raw = raw_connection(conn)
    by_table: dict[str, list[str]] = {}
    for chunk in in_chunks(op_ids):
        for op_type, entity_id, reg_id in raw.execute(
            "SELECT op_type, entity_id, CASE WHEN op_type = 'register_person' "
            "THEN json_extract(payload, '$.registration.id') END "
            f"FROM sync_outbox WHERE op_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        ):
            table = _CREATES.get(str(op_type))
            if table is None:
                continue
            by_table.setdefault(table, []).append(str(entity_id))
            if isinstance(reg_id, str) and reg_id:
                by_table.setdefault("registration", []).append(reg_id)
    for table, keys in by_table.items():
        # One statement per table and chunk (was one per row: ~30% more CPU, bench micro).
        for ids in in_chunks(keys):
            raw.execute(
                f"UPDATE {table} SET version = 1 WHERE version = 0 AND id IN ({', '.join('?' * len(ids))})",
                ids,
            )


def record_acks(
    st: Station,
    acks: Sequence[Ack],
    *,
    now: datetime,
    clock_skew_ms: int | None = None,
    count_attempt: bool = False,
) -> AckSummary:
    """Record a push response's answers in one transaction (with last_push_ok and the skew).

    Also settles locally-kept edits (see :func:`settle`) in the
    same transaction, so a crash never leaves an op acked with its deferred hub
    row forgotten.
    """
    with st.sync_writer() as conn:
        summary = apply_acks(conn, acks, now=now, count_attempt=count_attempt)
        settle(conn, [a for a in acks if a.status in ACK_STATE], now=now)
        note_push(conn, now=now, clock_skew_ms=clock_skew_ms)
    return summary


def record_relay_accepts(
    st: Station, acks: Sequence[Ack], *, now: datetime
) -> AckSummary:
    """The site hub's answers to a push: the ops it now holds become ``relay_accepted``.

    Not acknowledged: only the province's answer acks an op (:func:`record_acks`, which
    the site hub passes on, or the direct route). Whatever the site hub answered
    (applied, refused: the province decides), the op is kept and still counts as pending
    in the tally. Rows the site hub created as sent and will not echo back are numbered
    version 1, as it holds them. An op already answered by the province keeps its state.
    """
    known = [a for a in acks if a.status in ACK_STATE]
    with st.sync_writer() as conn:
        updated = raw_connection(conn).executemany(
            "UPDATE sync_outbox SET state = 'relay_accepted', last_error = NULL, "
            f"{_COUNT_ATTEMPT.lstrip(', ')} WHERE op_id = ? AND state IN ('pending', 'inflight')",
            [(a.op_id,) for a in known],
        ).rowcount
        _number_unechoed(conn, [a.op_id for a in known if a.no_echo and ACK_STATE[a.status] == "acked"])
        conn.execute(text("UPDATE sync_state SET last_relay_ok = :t WHERE id = 1"), {"t": iso(now)})
    return AckSummary(acked=max(0, int(updated or 0)), unknown=len(acks) - len(known))


# ---- settling hub rows kept aside when their ops are answered ---------------------------


def settle(conn: Connection, answers: Sequence[Ack], *, now: datetime) -> None:
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
    waiting = held_changes.deferred(conn, limit=MAX_DEFERRED_SETTLE)
    refused_updates = [
        a.op_id
        for a in answers
        if a.status == "rejected" or (a.status == "conflict_queued" and a.server_seq is None)
    ]
    if not waiting and not refused_updates:
        return
    prot = compute_protection(conn)
    for ch, ops in waiting:
        keep, still = keep_for(prot, ch)
        if keep:
            if not still.issubset(ops):
                held_changes.set_deferred_ops(conn, ch.entity_type, ch.entity_id, ops | still)
            continue
        held_changes.drop_deferred(conn, ch.entity_type, ch.entity_id)
        if ch.server_seq >= _newest_effect(conn, ops):
            _apply_kept(conn, ch, iso(now))
    if refused_updates:
        _undo_refused_updates(conn, refused_updates, prot)


def _newest_effect(conn: Connection, ops: set[str]) -> int:
    """The newest change-log seq the hub gave these ops' effects (0: none)."""
    seqs = conn.execute(
        text("SELECT ack_server_seq FROM sync_outbox WHERE op_id IN :ids AND ack_server_seq IS NOT NULL")
        .bindparams(bindparam("ids", expanding=True)),
        {"ids": sorted(ops) or [""]},
    ).scalars().all()
    return max((int(s) for s in seqs), default=0)


def _apply_kept(conn: Connection, ch: held_changes.Change, now_iso: str) -> None:
    """Apply a kept hub row now that nothing local protects it (parked if it cannot land)."""
    sp = conn.begin_nested()
    try:
        if ch.entity_type == "review":
            apply_review(conn, ch, set())
        else:
            write_rows(raw_connection(conn), [ch], now_iso, allow_equal=True)
    except DB_FAULTS:
        sp.rollback()
        raise  # the database failed, not the row: nothing of this answer is kept
    except ROW_FAULTS as exc:
        sp.rollback()
        held_changes.park(conn, ch, failure_code(exc))
    else:
        sp.commit()


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
        if held_changes.is_deferred(conn, "person", pid):
            continue  # the hub's own row is kept aside and will be applied instead
        still_kept = prot.fields.get(("person", pid), set())
        fields = (json.loads(r["payload"]).get("fields") or {})
        for fld, change in fields.items():
            if fld in still_kept or fld not in COLS["person"]:
                continue
            sets: dict[str, object] = {fld: change.get("old")}
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


# ---- sync_state ------------------------------------------------------------------------


def note_push(conn: Connection, *, now: datetime, clock_skew_ms: int | None) -> None:
    conn.execute(
        text(
            "UPDATE sync_state SET last_push_ok = :t, "
            "clock_skew_ms = coalesce(:s, clock_skew_ms) WHERE id = 1"
        ),
        {"t": iso(now), "s": clock_skew_ms},
    )


__all__ = [
    "ACK_STATE",
    "MAX_DEFERRED_SETTLE",
    "Ack",
    "AckSummary",
    "apply_acks",
    "note_push",
    "record_acks",
    "record_relay_accepts",
    "settle",
]
