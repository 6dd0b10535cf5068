"""The SQLite hub's WAL checkpoints, off the push's path (issue 15, phase 8).

SQLite checkpoints a WAL database in the COMMIT that takes the log past its threshold
(``wal_autocheckpoint``, 1,000 pages): that push's COMMIT copied the log's pages into
the database file and fsynced it before the push could answer. Here the hub's writer
connections only checkpoint once the log is far past that (:data:`WRITER_FALLBACK_PAGES`,
a safety net should this thread not keep up), and a :class:`Checkpointer` thread with its
own connection runs ``PRAGMA wal_checkpoint(PASSIVE)`` once a commit has left
:data:`WAL_PAGES` pages in the log that are not in the database file yet. SQLite releases
the GIL while it copies and syncs, so the checkpoint no longer holds up the push.

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
import struct
import threading

log = logging.getLogger(__name__)

# A checkpoint once this many committed pages wait in the WAL (SQLite's own default).
WAL_PAGES = 1000
# The writer's own auto-checkpoint: only if the thread fell this far behind (64 MB of log).
WRITER_FALLBACK_PAGES = 16000
# The thread ends after this long without a commit (a new one starts with the next).
IDLE_EXIT_S = 10.0

# The wal-index header (https://www.sqlite.org/walformat.html, 2.1): mxFrame at byte 16,
# the checkpoint's nBackfill at byte 96, both 32-bit in the host's byte order.
_HEADER = struct.Struct("=16xI76xI")


def wal_pending(path: str) -> int | None:
    """Pages committed to the WAL of the database at ``path`` and not yet checkpointed, as
    its wal-index says; None when it cannot be read (then checkpoint anyway)."""
    try:
        with open(path + "-shm", "rb") as f:
            head = f.read(_HEADER.size)
    except OSError:
        return None
    if len(head) < _HEADER.size:
        return None
    frames, backfilled = _HEADER.unpack(head)
    return max(0, int(frames) - int(backfilled))


class Checkpointer:
    """One SQLite database's checkpoints, on a thread of their own.

    :meth:`poke` after each write transaction's COMMIT (``hub.db.Database.write``): the
    thread wakes, reads how much of the log waits, and checkpoints once it is
    ``pages`` or more. ``runs`` counts the checkpoints it made (for the tests)."""

    def __init__(self, path: str, *, pages: int = WAL_PAGES, idle_s: float = IDLE_EXIT_S) -> None:
        self.path = path
        self.pages = pages
        self.idle_s = idle_s
        self.runs = 0
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def poke(self) -> None:
        """A write transaction committed: look at the log soon, not on the caller's thread."""
        self._wake.set()
        with self._lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="hub-wal-checkpoint", daemon=True)
                self._thread.start()

    def close(self) -> None:
        """Stop the thread (after the checkpoint it may be making)."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout=30)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA synchronous=FULL")
            while True:
                self._wake.wait(self.idle_s)
                with self._lock:  # a poke sets the flag before it looks at the thread
                    if self._closed or not self._wake.is_set():
                        self._thread = None
                        return
                    self._wake.clear()
                pending = wal_pending(self.path)
                if pending is None or pending >= self.pages:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
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
    return Checkpointer(os.fspath(url_database), pages=WAL_PAGES)
