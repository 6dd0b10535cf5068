"""Background work for the UI: one writer queue, parallel readers, results by signal.

Threading contract
------------------
* ``fn`` runs on a worker thread and must not touch any widget or QObject
  created in the GUI thread; it gets plain values and returns plain values
  (DTOs). Station calls are thread-safe (each opens its own connection).
* Writes go to a single worker thread, in submission order: the station has
  one writer (DESIGN §3.3) and queuing them here keeps the GUI from ever
  waiting on the write lock.
* Reads (and network calls) run in a small pool, in parallel.
* ``on_ok``/``on_err`` run in the GUI thread, delivered through a queued
  signal. If ``owner`` has been deleted in the meantime the result is dropped,
  so a closed dialog never receives a late callback.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, Protocol, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from shiboken6 import isValid

from kernel.errors import StationError

log = logging.getLogger(__name__)

T = TypeVar("T")
ErrCallback = Callable[[BaseException], None]


class _Pending(Protocol):
    """A submitted task as the GUI thread sees it, whatever its result type."""

    owner: QObject | None
    on_err: ErrCallback | None
    label: str

    def run(self) -> None: ...

    def error(self) -> BaseException | None: ...

    def deliver(self) -> None: ...


class _Task(Generic[T]):
    """One call and its callbacks; the worker stores the outcome here, the GUI thread delivers it.

    The outcome stays in the task (typed) rather than travelling through the signal
    as an ``object``: the signal only names the task.
    """

    def __init__(
        self, fn: Callable[[], T], owner: QObject | None, on_ok: Callable[[T], None] | None,
        on_err: ErrCallback | None, label: str,
    ) -> None:
        self.fn = fn
        self.owner = owner
        self.on_ok = on_ok
        self.on_err = on_err
        self.label = label
        self._result: tuple[T] | None = None  # a 1-tuple: None is a valid result
        self._error: BaseException | None = None

    def run(self) -> None:
        # Worker thread. The queued signal emitted afterwards publishes these fields
        # to the GUI thread (the event queue's lock orders the write before the read).
        try:
            self._result = (self.fn(),)
        except BaseException as exc:
            self._error = exc

    def error(self) -> BaseException | None:
        return self._error

    def deliver(self) -> None:
        if self._result is not None and self.on_ok is not None:
            self.on_ok(self._result[0])


class Progress(QObject):
    """Progress of a background task, reported from its worker thread.

    ``report(done, total)`` may be called from any thread; ``sig_progress`` is
    delivered in the thread this object lives in (the GUI thread), queued.
    """

    sig_progress = Signal(int, int)

    def report(self, done: int, total: int) -> None:
        self.sig_progress.emit(done, total)


class TaskManager(QObject):
    """Runs callables off the GUI thread and delivers their results by signal."""

    sig_busy_changed = Signal(bool)
    # Emitted when a task failed and had no error callback (the window shows it).
    sig_unhandled_error = Signal(object)
    _sig_done = Signal(int)  # the task id; its outcome is in the task

    def __init__(self, parent: QObject | None = None, *, readers: int = 4) -> None:
        super().__init__(parent)
        self._reads = ThreadPoolExecutor(max_workers=readers, thread_name_prefix="tt-read")
        self._writes = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tt-write")
        self._tasks: dict[int, _Pending] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._closed = False
        # Queued explicitly: the worker emits, the GUI thread's event loop delivers.
        self._sig_done.connect(self._deliver, Qt.ConnectionType.QueuedConnection)

    # ---- submitting -----------------------------------------------------------------

    def read(
        self,
        fn: Callable[[], T],
        *,
        owner: QObject | None = None,
        on_ok: Callable[[T], None] | None = None,
        on_err: ErrCallback | None = None,
        label: str = "read",
    ) -> int:
        """Run a read-only (or network) call in the parallel pool."""
        return self._submit(self._reads, _Task(fn, owner, on_ok, on_err, label))

    def write(
        self,
        fn: Callable[[], T],
        *,
        owner: QObject | None = None,
        on_ok: Callable[[T], None] | None = None,
        on_err: ErrCallback | None = None,
        label: str = "write",
    ) -> int:
        """Run a call that writes the station, on the single writer thread, in order."""
        return self._submit(self._writes, _Task(fn, owner, on_ok, on_err, label))

    def _submit(self, pool: ThreadPoolExecutor, task: _Pending) -> int:
        if self._closed:
            # A timer of a window being torn down may still fire: nothing to do any more.
            return -1
        task_id = next(self._ids)
        was_idle = not self._tasks
        self._tasks[task_id] = task
        if was_idle:
            self.sig_busy_changed.emit(True)
        pool.submit(self._run, task_id, task)
        return task_id

    def _run(self, task_id: int, task: _Pending) -> None:
        # Worker thread: no widget access here, only the signal emission.
        task.run()
        self._sig_done.emit(task_id)

    # ---- delivering (GUI thread) ------------------------------------------------------

    def _deliver(self, task_id: int) -> None:
        task = self._tasks.pop(task_id, None)
        try:
            if task is None:
                return
            if task.owner is not None and not isValid(task.owner):
                return  # the widget that asked is gone; nobody to tell
            exc = task.error()
            if exc is None:
                task.deliver()
                return
            if not isinstance(exc, StationError):
                # Only the type: exception texts from drivers may quote values.
                log.error("task %s failed: %s", task.label, type(exc).__name__)
            if task.on_err is not None:
                task.on_err(exc)
            else:
                self.sig_unhandled_error.emit(exc)
        finally:
            if not self._tasks:
                self.sig_busy_changed.emit(False)

    # ---- state ------------------------------------------------------------------------

    def in_flight(self) -> int:
        """Tasks submitted whose callbacks have not run yet (tests wait for 0)."""
        return len(self._tasks)

    def shutdown(self) -> None:
        """Wait for running work (a write must finish its transaction), then stop."""
        self._closed = True
        self._writes.shutdown(wait=True)
        self._reads.shutdown(wait=True, cancel_futures=True)
