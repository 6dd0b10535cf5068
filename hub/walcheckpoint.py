"""The SQLite hub's WAL checkpoints, off the push's path (issue 15, phase 8).

SQLite checkpoints a WAL database in the COMMIT that takes the log past its threshold
(``wal_autocheckpoint``, 1,000 pages): that push's COMMIT copied the log's pages into
the database file and fsynced it before the push could answer. Here the hub's writer
connections only checkpoint once the log is far past that (:data:`WRITER_FALLBACK_PAGES`,
a safety net should this thread not keep up), and a :class:`Checkpointer` thread with its
own connection runs ``PRAGMA wal_checkpoint(PASSIVE)`` after the commits, at most once
every :data:`INTERVAL_S` while they keep coming (their pages copied together). SQLite
releases the GIL while it copies and syncs, so the checkpoint no longer holds up a push.

The log's size is not read from its ``-shm`` file: opening and closing any of a
database's files in a process that has it open drops that process's POSIX locks on it
(https://www.sqlite.org/howtocorrupt.html, 2.2), and another process then re-initialises
the shared memory under it (a first version did: the site hub died of SIGBUS).

Durability is SQLite's, unchanged: every COMMIT still appends its pages to the WAL and
fsyncs it (``synchronous=FULL``) before the push answers; a checkpoint copies committed
pages into the database file, syncs that file, and only then records how far it got.
A power cut or a kill at any point of a checkpoint leaves the committed pages in the WAL,
and the next connection recovers from it: nothing committed is lost (the tests kill a
writer with its checkpointer running and count the rows).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

log = logging.getLogger(__name__)

# At most one checkpoint this often while commits keep coming (seconds).
INTERVAL_S = 0.5
# The writer's own auto-checkpoint: only if the thread fell this far behind (64 MB of log).
WRITER_FALLBACK_PAGES = 16000
# The thread ends after this long without a commit (a new one starts with the next).
IDLE_EXIT_S = 10.0


class Checkpointer:
    """One SQLite database's checkpoints, on a thread of their own.

    :meth:`poke` after each write transaction's COMMIT (``hub.db.Database.write``): the
    thread wakes and checkpoints (PASSIVE), waiting first until ``interval_s`` has passed
    since its last one. ``runs`` counts the checkpoints it made and ``last`` is SQLite's
    answer to the latest (busy, frames in the log, frames checkpointed), for the tests."""

    def __init__(self, path: str, *, interval_s: float = INTERVAL_S, idle_s: float = IDLE_EXIT_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.idle_s = idle_s
        self.runs = 0
        self.last: tuple[int, int, int] | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def poke(self) -> None:
        """A write transaction committed: checkpoint soon, not on the caller's thread."""
        self._wake.set()
        with self._lock:
            if self._thread is None and not self._stop.is_set():
                self._thread = threading.Thread(target=self._run, name="hub-wal-checkpoint", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be making)."""
        with self._lock:
            self._stop.set()
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        done_at = float("-inf")
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=FULL")
            while True:
                self._wake.wait(self.idle_s)
                with self._lock:  # a poke sets the flag before it looks at the thread
                    if self._stop.is_set() or not self._wake.is_set():
                        self._thread = None
                        return
                # The commits of the next moment wait with these: one copy of their pages.
                if self._stop.wait(max(0.0, done_at + self.interval_s - time.monotonic())):
                    continue
                self._wake.clear()
                got = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                done_at = time.monotonic()
                self.last = (int(got[0]), int(got[1]), int(got[2]))
                self.runs += 1
        except sqlite3.Error as exc:
            # The writer's own fallback checkpoint still bounds the log; the next commit
            # starts a new thread.
            log.warning("WAL checkpoint failed: %s", type(exc).__name__)
        finally:
            with self._lock:
                if self._thread is threading.current_thread():  # ended by an error
                    self._thread = None
            if conn is not None:
                conn.close()


def checkpointer_for(url_database: str | None) -> Checkpointer | None:
    """A checkpointer for a SQLite database file (none for an in-memory database)."""
    if not url_database or url_database == ":memory:" or url_database.startswith("file::memory:"):
        return None
    return Checkpointer(os.fspath(url_database), interval_s=INTERVAL_S)
