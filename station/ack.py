"""The hub's per-op answer as the station records it, without SQLAlchemy (issue 15).

``station.answers`` records these in one transaction per batch; ``sync.push`` builds
them from the hub's results. They live here so that the push path can read, encode and
send its first batch before ``station.answers`` (and SQLAlchemy with it) is imported:
``sync.preload`` imports that on its thread while the first batch is at the hub.
``station.answers`` re-exports all three names.
"""

from __future__ import annotations

from dataclasses import dataclass

# What each hub answer turns an op into.
ACK_STATE = {
    "applied": "acked",
    "duplicate": "acked",
    "rejected": "rejected",
    "conflict_queued": "conflict",
}


@dataclass(frozen=True, slots=True)
class Ack:
    """The hub's answer for one op (mirrors ``sync.protocol.OpResult``)."""

    op_id: str
    status: str  # applied | duplicate | rejected | conflict_queued
    server_seq: int | None = None
    reason: str | None = None
    # The hub will not send back the rows this op created (they are version 1 there).
    no_echo: bool = False
    # The op's op_seq when the answer is to a push of ours (its row by primary key);
    # the row must still carry ``op_id``, or the answer counts as unknown.
    op_seq: int | None = None


@dataclass(frozen=True, slots=True)
class AckSummary:
    acked: int = 0
    duplicate: int = 0
    rejected: int = 0
    conflict: int = 0
    unknown: int = 0  # answers for op ids this outbox does not hold (ignored)


__all__ = ["ACK_STATE", "Ack", "AckSummary"]
