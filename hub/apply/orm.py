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


# Every field of an answer is given. What ``OpResult.model_construct(fields, ...)`` leaves
# on the instance (pydantic 2's: the fields as ``__dict__``, the set given, no extra and no
# private values), written directly: ~0.7 against ~2.3 µs an answer, and a push answers
# every op (issue 15, phase 9). A model that needs more (a post-init, private attributes,
# extra fields kept) takes ``model_construct`` itself; the tests compare the two.
_ANSWER_FIELDS = frozenset(OpResult.model_fields)
_LEAN_ANSWER = (
    list(OpResult.model_fields) == ["op_id", "status", "server_seq", "reason", "detail"]
    and not OpResult.__pydantic_post_init__
    and not OpResult.__private_attributes__
    and not OpResult.__pydantic_root_model__
    and OpResult.model_config.get("extra") != "allow"
)
_new_answer = OpResult.__new__
_set = object.__setattr__


def answer(op_id: str, status: AckStatus, server_seq: int | None, reason: str | None, detail: dict[str, object]) -> OpResult:
    """An op's answer from values already checked, built without validating them again."""
    if not _LEAN_ANSWER:
        return OpResult.model_construct(
            set(_ANSWER_FIELDS), op_id=op_id, status=status, server_seq=server_seq, reason=reason, detail=detail
        )
    got = _new_answer(OpResult)
    _set(got, "__dict__", {"op_id": op_id, "status": status, "server_seq": server_seq, "reason": reason, "detail": detail})
    _set(got, "__pydantic_fields_set__", set(_ANSWER_FIELDS))
    _set(got, "__pydantic_extra__", None)
    _set(got, "__pydantic_private__", None)
    return got


@dataclass(slots=True)
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
