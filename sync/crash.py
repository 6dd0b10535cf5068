"""Crash points for the kill tests: die like ``kill -9`` at a named step of a sync cycle.

``TRAMTIEM_CRASH_AT=<name>[:<n>]`` makes the process ``os._exit(137)`` the n-th
time it reaches ``<name>`` (see CRASH_POINTS). Only under the test suite
(``TRAMTIEM_TESTING=1``, set by tests/conftest.py and inherited by the processes
the tests start), never in the shipped bundle: a stray variable on a site laptop
must not make the engine kill itself.
"""

from __future__ import annotations

import logging
import os
import sys
import threading

log = logging.getLogger(__name__)

CRASH_ENV = "TRAMTIEM_CRASH_AT"
TESTING_ENV = "TRAMTIEM_TESTING"
CRASH_POINTS = (
    "after_tally",
    "after_push_send_before_ack_commit",
    "after_ack_commit",
    "mid_pull_apply",
)
_crash_hits: dict[str, int] = {}
_crash_lock = threading.Lock()
_crash_refused: list[str] = []  # logged once per process


def test_hooks_allowed() -> bool:
    """True only under the test suite: never in a frozen (shipped) bundle."""
    return os.environ.get(TESTING_ENV) == "1" and not getattr(sys, "frozen", False)


def crash_point(name: str) -> None:
    """Die like ``kill -9`` here if ``TRAMTIEM_CRASH_AT`` names this point (no-op otherwise)."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    if not test_hooks_allowed():
        if not _crash_refused:
            _crash_refused.append(spec)
            log.warning("%s is set outside the test suite: ignored", CRASH_ENV)
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    with _crash_lock:
        _crash_hits[name] = _crash_hits.get(name, 0) + 1
        hits = _crash_hits[name]
    if hits >= (int(nth) if nth.isdigit() else 1):
        os._exit(137)


__all__ = ["CRASH_ENV", "CRASH_POINTS", "TESTING_ENV", "crash_point", "test_hooks_allowed"]
