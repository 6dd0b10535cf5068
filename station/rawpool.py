"""Raw sqlcipher connections of an open station, without SQLAlchemy (issue 15, no-op start).

A sync cycle with nothing to send or apply runs a handful of statements (``sync_state``,
the outbox counts, the tally, an empty page's cursor, the purge). On the SQLAlchemy
engine they cost its import (~150 ms of a ``tramtiem sync`` start); here they run on the
DB-API connections ``station.db.open_raw`` makes — the same key, the same pragmas
(WAL, ``synchronous=FULL``, foreign keys, busy timeout) and the same ``tt_ctx()`` guard
function as the engine's connections, under the station's one write lock.

Transactions are explicit (``isolation_level=None``): ``BEGIN`` for a read, ``BEGIN
IMMEDIATE`` for a writer (as ``station.db.make_engine`` does), ``COMMIT`` or ``ROLLBACK``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from kernel.errors import StoreError
from station.db import GuardState, RawConnection, install_guard, open_raw

if TYPE_CHECKING:
    import sqlcipher3.dbapi2 as sqlcipher

MAX_IDLE = 2  # connections kept open between units of work


class RawPool:
    """A few raw connections to one station file, reused; thread-safe."""

    def __init__(self, path: Path, key: bytes, first: sqlcipher.Connection | None = None) -> None:
        self._path = path
        self._key = key
        self._lock = threading.Lock()
        self._idle: list[tuple[sqlcipher.Connection, GuardState]] = (
            [] if first is None else [(first, install_guard(first))]
        )
        self._closed = False

    def _take(self) -> tuple[sqlcipher.Connection, GuardState]:
        with self._lock:
            if self._closed:
                raise StoreError("store.closed")
            if self._idle:
                return self._idle.pop()
        conn = open_raw(self._path, self._key)
        return conn, install_guard(conn)

    def _give_back(self, item: tuple[sqlcipher.Connection, GuardState], reusable: bool) -> None:
        with self._lock:
            if reusable and not self._closed and len(self._idle) < MAX_IDLE:
                self._idle.append(item)
                return
        item[0].close()

    @contextmanager
    def transaction(self, begin: str, ctx: str | None) -> Iterator[RawConnection]:
        """One transaction (``begin``: ``BEGIN`` or ``BEGIN IMMEDIATE``) with write context ``ctx``;
        committed when the block ends, rolled back if it raises."""
        item = self._take()
        conn, state = item
        reusable = False
        try:
            conn.execute(begin)
            state.ctx = ctx
            try:
                yield cast(RawConnection, conn)
            except BaseException:
                conn.execute("ROLLBACK")
                reusable = True
                raise
            conn.execute("COMMIT")
            reusable = True
        finally:
            state.ctx = None
            self._give_back(item, reusable)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn, _state in idle:
            conn.close()


__all__ = ["MAX_IDLE", "RawPool"]
