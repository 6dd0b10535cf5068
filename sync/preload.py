"""The push's modules imported on a thread while a cycle's first steps wait (issue 15).

Two steps (phase 8): ``sync.push`` (pydantic and the protocol models: what the first
batch needs to be encoded and its answer read) at once; ``station.answers`` and
``station.replica`` (SQLAlchemy: needed only to record an answer) once the first batch
is on its way (:func:`batch_sent`), so that this import does not take the interpreter
from the first batch's read and encoding. The push phase waits for the first step only.

A new ``tramtiem sync`` with ops to send imports ``sync.push`` at its first push: SQLAlchemy,
pydantic and the protocol models, ~0.25 s of CPU that was a serial step between the tally's
answer and the first batch. :func:`preload_push`, called as the cycle starts, imports it on
a thread while the cycle probes the hub and computes and sends the tally: an import holds
the GIL, but the tally's query (SQLite releases the GIL while it steps) and the two round
trips do not, and the import fills them. The push phase imports the same module and, if
this import is still running, waits for it (the import system's module lock); a failure
here is left to that import to raise where the engine handles it. Nothing is read or
written on the thread; an empty cycle starts none (``tests/sync/test_cold_start.py``).
"""

from __future__ import annotations

import importlib
import logging
import sys
import threading

from station import outbox
from station.store import Station

log = logging.getLogger(__name__)

PUSH_MODULE = "sync.push"
# Imported after PUSH_MODULE once the first batch is on its way (or the cycle ended).
RECORD_MODULES = ("station.answers", "station.replica")
THREAD_NAME = "tramtiem-sync-preload"
JOIN_S = 30.0  # a cycle that ends before its push waits for the import at most this long
SENT_WAIT_S = 5.0  # the record modules wait at most this long for the first batch to go


class _Preload(threading.Thread):
    """Imports ``sync.push`` at once, the record modules once :func:`batch_sent` (or the
    cycle's end) says the first batch no longer needs the interpreter for itself."""

    def __init__(self) -> None:
        super().__init__(name=THREAD_NAME, daemon=True)
        self.go_on = threading.Event()
        self.cycle_over = False

    def run(self) -> None:
        _import_quietly(PUSH_MODULE)
        self.go_on.wait(SENT_WAIT_S)
        if not self.cycle_over:
            _import_quietly(*RECORD_MODULES)


_RUNNING: list[_Preload] = []  # the preload of the cycle under way (at most one per process)


def _import_quietly(*names: str) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the push phase's own import raises it
            log.debug("preloading %s failed", name, exc_info=True)


def preload_push(st: Station, route: str) -> threading.Thread | None:
    """The thread importing ``sync.push``, started; None when it is loaded or nothing waits."""
    if PUSH_MODULE in sys.modules:
        return None
    if not outbox.next_batch(st, max_bytes=1, max_ops=1, route=route):
        return None
    t = _Preload()
    _RUNNING[:] = [t]
    t.start()
    return t


def batch_sent() -> None:
    """A batch went out (``sync.push``): the record modules may load while the hub works."""
    for t in _RUNNING:
        t.go_on.set()


def preload_done(t: threading.Thread | None) -> None:
    """At the end of the cycle: the import finished (bounded by :data:`JOIN_S`)."""
    if t is None:
        return
    if isinstance(t, _Preload):
        if not t.go_on.is_set():  # no batch went: the record modules are not needed
            t.cycle_over = True
        t.go_on.set()
    t.join(JOIN_S)
    if t in _RUNNING:
        _RUNNING.remove(t)


__all__ = [
    "JOIN_S", "PUSH_MODULE", "RECORD_MODULES", "SENT_WAIT_S", "THREAD_NAME", "batch_sent", "preload_done",
    "preload_push",
]
