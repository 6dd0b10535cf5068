"""One station program per data directory: an OS file lock on ``<data dir>/app.lock``.

A double-click too many opened a second process with its own sync engine and
backup scheduler on the same database. The window takes this lock at start
(``ui.single_instance``: a second launch then brings the first window forward
instead), and maintenance commands that replace the database file (restore)
check it, so they refuse while the app has the file open.

The lock is the operating system's (``msvcrt.locking`` on Windows, ``flock``
elsewhere), not the file's existence: it disappears with the process, so a
crash or a power cut never leaves a stale lock behind. The file holds the
owner's process id, for people reading it; nothing else.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import IO

LOCK_NAME = "app.lock"


class InstanceLock:
    """``acquire()`` → True when this process now holds the data directory; ``release()``."""

    def __init__(self, data_dir: Path) -> None:
        self.path = Path(data_dir) / LOCK_NAME
        self._fh: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._fh is not None

    def acquire(self) -> bool:
        if self._fh is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # "a+": never truncate a file another process holds (its pid stays readable).
        fh = open(self.path, "a+", encoding="ascii")  # noqa: SIM115 - kept open while held
        try:
            _lock(fh)
        except OSError:
            fh.close()
            return False
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return True

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            _unlock(fh)
        finally:
            fh.close()

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def is_held(data_dir: Path) -> bool:
    """True while a holder (the app, in another process) has ``data_dir``'s lock.

    Probing takes the lock through a new handle, so a lock held by this very process
    counts as held too.
    """
    if not (Path(data_dir) / LOCK_NAME).exists():
        return False
    probe = InstanceLock(data_dir)
    if probe.acquire():
        probe.release()
        return False
    return True


if sys.platform == "win32":
    import msvcrt

    def _lock(fh: IO[str]) -> None:
        fh.seek(0)
        # One byte, non-blocking: raises OSError when another handle holds it.
        msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)

    def _unlock(fh: IO[str]) -> None:
        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _lock(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)

    def _unlock(fh: IO[str]) -> None:
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


__all__ = ["LOCK_NAME", "InstanceLock", "is_held"]
