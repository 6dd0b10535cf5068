"""One op through the ORM appliers, in its own savepoint; and the ledger rows of every op.

Every op type has an ORM applier here. The row-creating ops
(``register_person``, ``record_screening``, ``record_dose``) reach theirs only
when the bulk executor declines them (:mod:`hub.apply.bulk`): a merge, a
redirect, a possible duplicate, a refusal. The rest always come here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from hub import counters
from hub.apply.admin import apply_upsert_lot, apply_upsert_user
from hub.apply.clinical import (
    apply_check_in,
    apply_end_observation,
    apply_record_adverse_event,
    apply_record_dose,
    apply_record_screening,
    apply_void_dose,
)
from hub.apply.context import Ctx, Outcome
from hub.apply.people import apply_add_registration, apply_register_person, apply_update_person
from hub.apply.reviews import apply_resolve_review
from hub.effects import Effects, Numbering
from hub.errors import Rejected
from hub.models import EnrolledStation
from hub.rowtypes import LedgerResult, LedgerRow
from sync.protocol import AckStatus, Op, OpResult

APPLIERS: dict[str, Callable[[Ctx], Outcome]] = {
    "register_person": apply_register_person,
    "add_registration": apply_add_registration,
    "update_person": apply_update_person,
    "check_in": apply_check_in,
    "record_screening": apply_record_screening,
    "record_dose": apply_record_dose,
    "void_dose": apply_void_dose,
    "end_observation": apply_end_observation,
    "record_adverse_event": apply_record_adverse_event,
    "upsert_lot": apply_upsert_lot,
    "upsert_user": apply_upsert_user,
    "resolve_review": apply_resolve_review,
}


@dataclass
class Ledgered:
    """A ledger row as the push loop needs it (looked up, or written by this push)."""

    op_id: str
    station_id: str
    payload_sha256: str
    status: AckStatus
    result: LedgerResult


def apply_op(
    session: Session,
    station: EnrolledStation,
    op: Op,
    *,
    now: str,
    skewed: bool,
    numbering: Numbering,
    trusted: bool = False,
) -> tuple[OpResult, int | None]:
    """Apply one op's effect (no ledger or order checks): its answer and first change row.

    The effect runs in a savepoint: a rejection, or a value the database refuses,
    undoes the effect alone and the op is acked ``rejected``. The answer's
    ``server_seq`` is filled in once the transaction's :class:`Numbering` is written.
    ``trusted``: an op the hub makes itself (an import at the hub's CLI), no user checks.
    """
    fx = Effects(session, op.op_id, now, numbering)
    ctx = Ctx(session, station, op, fx, skewed, trusted)
    mark = len(numbering.changes)
    noted = counters.mark(session)  # the dose counters this op changes, undone with it
    try:
        with session.begin_nested():
            status, detail = APPLIERS[op.op_type](ctx)
            first = fx.flush()
    except Rejected as rej:
        del numbering.changes[mark:]  # nothing of a refused op is numbered
        counters.rollback_to(session, noted)
        return OpResult(op_id=op.op_id, status="rejected", reason=rej.reason, detail=rej.detail), None
    except DataError:
        del numbering.changes[mark:]
        counters.rollback_to(session, noted)
        return OpResult(op_id=op.op_id, status="rejected", reason="payload.invalid", detail={}), None
    # Did the op change its own entity? A losing edit (LWW lost, identity held) only
    # opens a review; the station must then keep the hub's row it already holds
    # rather than wait for a newer one that will never come.
    detail = dict(detail) | {"entity_changed": (op.entity_type, op.entity_id) in set(fx.touched)}
    return OpResult(op_id=op.op_id, status=status, detail=detail), first


def ledger_row(
    station_id: str, epoch: str, op: Op, digest: str, status: AckStatus, result: LedgerResult, now: str
) -> LedgerRow:
    """An ``applied_op`` row; ``result.server_seq`` is filled in when the Numbering writes."""
    return {
        "op_id": op.op_id,
        "station_id": station_id,
        "replica_epoch": epoch,
        "op_seq": op.op_seq,
        "op_type": op.op_type,
        "payload_sha256": digest,
        "status": status,
        "result": result,
        "received_at": now,
    }


def record_applied(
    numbering: Numbering,
    station: EnrolledStation,
    epoch: str,
    op: Op,
    digest: str,
    res: OpResult,
    first: int | None,
    now: str,
) -> Ledgered:
    """The op's ``applied_op`` ledger row, written with the transaction's Numbering (pushes,
    hub-origin ops, imports); its ``server_seq`` is filled in then."""
    result: LedgerResult = {"server_seq": None, "reason": res.reason, "detail": res.detail}
    numbering.add_ledger(ledger_row(station.id, epoch, op, digest, res.status, result, now), first)
    return Ledgered(op.op_id, station.id, digest, res.status, result)
