"""A station's pushes in ``op_seq`` order when it keeps more than one in flight (issue 15).

A station that has the hub's word for it (the ``X-Tramtiem-Push-Window`` header of a
push answer, :data:`WINDOW`) sends batch N+1 while batch N is still at the hub, and
marks it (``X-Tramtiem-Follows``). The two requests travel on two connections, so
N+1 may reach the hub first, or be parsed while N is being applied. Such a push
waits here, before its transaction, until the replica's next expected ``op_seq``
(committed) reaches its first op, or until an earlier push of the same station
ended short of it (failed, or answered a gap), or for :data:`WAIT_S` at most: then
it goes on and the usual rules answer (a gap: ``expected_next_op_seq``, which the
station's ``GapRecovery`` resends from). Nothing is applied out of order or twice
whatever this decides: the order and ledger checks run inside the transaction as
for any push; this only spares the station a gap answer and a resend.

A push without the mark (an older station, or the first of a window) never waits.
Within one process the waiters are woken by the push they wait for; the committed
order is read from the database, so hub workers in other processes (``serve
--workers N``) are seen too, by polling every :data:`POLL_S` (a failure in another
process is not seen: the waiter then goes on at :data:`WAIT_S`).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import text

from hub.db import Database
from sync.protocol import PUSH_FOLLOWS_HEADER, PUSH_WINDOW_HEADER

# Batches a station may keep in flight (the push answer's header says so). 1 unless the
# hub's environment says 2: on the 2-core machines it was measured on, two in flight took
# the hand-over idle away but the hub's time per batch grew as much (docs/perf-sync.md,
# phase 7); on a quiet machine it did not pay, under load it did.
WINDOW = 2 if os.environ.get("TRAMTIEM_HUB_PUSH_WINDOW", "1").strip() == "2" else 1
WINDOW_HEADER = PUSH_WINDOW_HEADER
FOLLOWS_HEADER = PUSH_FOLLOWS_HEADER
WAIT_S = 10.0  # at most this long for the batch before (the station reads for 30 s)
POLL_S = 0.05  # the committed order is read again this often while waiting
STALL_S = 30.0

_LOCK: threading.Lock = threading.Lock()


@dataclass(slots=True)
class _Station:
    active: int = 0  # pushes of this station between their arrival and their answer
    waiting: int = 0  # of those, waiting in Turn.wait
    # When an earlier push ended short of where it was sent to (failed, or a gap): a
    # push waiting for it goes on to its gap answer. Cleared by a push that ends clean;
    # it holds for STALL_S only (a late batch of a window, not of another cycle).
    stalled_at: float | None = None
    version: int = 0  # pushes of this station that ended (a wake-up is never missed)
    changed: threading.Condition = field(default_factory=lambda: threading.Condition(_LOCK))


_STATIONS: dict[str, _Station] = {}


def _committed_next(db: Database, station_id: str, epoch: str) -> int | None:
    """The replica's next expected op_seq as committed (None: no push of it yet)."""
    with db.read_engine.connect() as conn:
        got = conn.execute(
            text("SELECT next_op_seq FROM replica WHERE station_id = :s AND epoch = :e"),
            {"s": station_id, "e": epoch},
        ).scalar()
    return int(got) if got is not None else None


def _forget(station_id: str, rep: _Station, now: float) -> None:
    stalled = rep.stalled_at is not None and now - rep.stalled_at < STALL_S
    if rep.active == 0 and not stalled:
        _STATIONS.pop(station_id, None)


class Turn:
    """One push of a station, from its arrival to its answer: ``with Turn(station_id) as t``.

    On leaving, the station's waiting pushes are woken; ``clean`` False (the default,
    so an exception counts) marks the station stalled until a push ends clean.
    """

    def __init__(self, station_id: str, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.station_id, self.clock = station_id, clock
        self.clean = False
        self._rep = _Station()

    def __enter__(self) -> Turn:
        with _LOCK:
            self._rep = _STATIONS.setdefault(self.station_id, _Station())
            self._rep.active += 1
        return self

    def __exit__(self, *exc: object) -> None:
        with _LOCK:
            rep = self._rep
            rep.active -= 1
            rep.version += 1
            now = self.clock()
            rep.stalled_at = None if self.clean else now
            rep.changed.notify_all()
            _forget(self.station_id, rep, now)

    def wait(self, db: Database, epoch: str, first_seq: int) -> str:
        """Wait until the replica's pushes before ``first_seq`` are committed (bounded).

        Returns why it went on: ``ready`` (the replica's order reached ``first_seq``),
        ``stalled`` (a push of this station ended short, and none other is under
        way), ``timeout`` (:data:`WAIT_S`).
        """
        rep = self._rep
        deadline = self.clock() + WAIT_S
        with _LOCK:
            rep.waiting += 1
        try:
            while True:
                with _LOCK:
                    seen = rep.version
                expected = _committed_next(db, self.station_id, epoch)
                if expected is not None and expected >= first_seq:
                    return "ready"
                with _LOCK:
                    now = self.clock()
                    stalled = rep.stalled_at is not None and now - rep.stalled_at < STALL_S
                    if stalled and rep.active == rep.waiting:
                        return "stalled"
                    if now >= deadline:
                        return "timeout"
                    if rep.version == seen:  # else a push ended meanwhile: read again at once
                        rep.changed.wait(min(deadline - now, POLL_S))
        finally:
            with _LOCK:
                rep.waiting -= 1


def pending() -> int:
    """Stations with state kept (tests: nothing is left behind but recent stalls)."""
    with _LOCK:
        now = time.monotonic()
        for sid, rep in list(_STATIONS.items()):
            _forget(sid, rep, now)
        return len(_STATIONS)


__all__ = ["FOLLOWS_HEADER", "WAIT_S", "WINDOW", "WINDOW_HEADER", "Turn", "pending"]
