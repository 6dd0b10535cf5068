"""A following push is parsed after the push before it is applied (issue 15, phase 8).

Real hub over real HTTP on 127.0.0.1 (SQLite and PostgreSQL), in this process so that
the route's parse and apply can be timed. The hub is one process: a follower's body
parsed while the batch before is applied takes the interpreter from that apply. It now
waits for its turn first (``hub.push_turns.Turn.wait_behind``), and two batches that
arrive out of order still go through without waiting for the bound.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from hub import push_turns
from hub.routes import push as push_route
from tests.hub.conftest import Hub
from tests.hub.ops import Desk
from tests.hub.test_push_window import _post, _statuses

HOLD_S = 0.4  # the first batch's apply is held this long (the follower is at the hub meanwhile)
HOLD_AT: list[int] = []  # the first op_seq of the batch whose apply is held


@pytest.fixture
def timeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[str, int, float]]]:
    """(what, first op_seq, when) for each parse and each apply's end; the apply of the
    batch starting at an op_seq in :data:`HOLD_AT` is held :data:`HOLD_S`."""
    seen: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    real_parse, real_process = push_route.parse_body, push_route.process_push

    def parse_body(model: Any, body: bytes) -> Any:
        with lock:
            seen.append(("parse", -1, time.monotonic()))
        return real_parse(model, body)

    def process_push(db: Any, station_id: str, req: Any, **kw: Any) -> Any:
        first = min(op.op_seq for op in req.ops)
        if first in HOLD_AT:
            time.sleep(HOLD_S)
        out = real_process(db, station_id, req, **kw)
        with lock:
            seen.append(("applied", first, time.monotonic()))
        return out

    monkeypatch.setattr(push_route, "parse_body", parse_body)
    monkeypatch.setattr(push_route, "process_push", process_push)
    yield seen
    HOLD_AT.clear()


def test_a_follower_is_parsed_only_after_the_push_before_it_is_applied(
    hub: Hub, timeline: list[tuple[str, int, float]]
) -> None:
    desk = Desk.enroll(hub, "DN-TURN-01")
    timeline.clear()  # enrolment parses its own body
    first = [desk.walk_in() for _ in range(20)]
    second = [desk.walk_in() for _ in range(20)]
    HOLD_AT.append(first[0]["op_seq"])
    with httpx.Client(timeout=30) as c1, httpx.Client(timeout=30) as c2, ThreadPoolExecutor(1) as pool:
        a = pool.submit(_post, desk, first, c1, follows=False)
        deadline = time.monotonic() + 10
        while sum(1 for w, _, _ in timeline if w == "parse") < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        time.sleep(0.05)  # the first is in its (held) apply now
        r2 = _post(desk, second, c2, follows=True)
        r1 = a.result(timeout=60)
    assert _statuses(r1) == ["applied"] * 20 and _statuses(r2) == ["applied"] * 20
    parses = [t for w, _, t in timeline if w == "parse"]
    first_applied = next(t for w, s, t in timeline if w == "applied" and s == first[0]["op_seq"])
    assert len(parses) == 2
    # Before: the follower's body was parsed as it arrived, during the first one's apply.
    assert parses[1] >= first_applied
    assert hub.count("applied_op") == desk.seq
    assert push_turns.pending() == 0


def test_two_followers_out_of_order_neither_waits_for_the_bound(hub: Hub) -> None:
    """Batch 3 at the hub before batch 2, both behind batch 1: 3 waits for 2's commit in
    ``Turn.wait`` and 2 is not held behind 3 (which arrived earlier) — all applied at once."""
    desk = Desk.enroll(hub, "DN-TURN-02")
    b1 = [desk.walk_in() for _ in range(30)]
    b2 = [desk.walk_in() for _ in range(5)]
    b3 = [desk.walk_in() for _ in range(5)]
    with httpx.Client(timeout=30) as c1, httpx.Client(timeout=30) as c2, httpx.Client(timeout=30) as c3, \
            ThreadPoolExecutor(2) as pool:
        t0 = time.monotonic()
        one = pool.submit(_post, desk, b1, c1, follows=False)
        time.sleep(0.05)
        three = pool.submit(_post, desk, b3, c3, follows=True)
        time.sleep(0.1)
        r2 = _post(desk, b2, c2, follows=True)
        r1, r3 = one.result(timeout=60), three.result(timeout=60)
        took = time.monotonic() - t0
    assert _statuses(r1) == ["applied"] * 30
    assert _statuses(r2) == ["applied"] * 5 and _statuses(r3) == ["applied"] * 5
    assert took < push_turns.WAIT_S / 2  # no wait ran into its bound (a deadlock would)
    assert hub.count("applied_op") == desk.seq
