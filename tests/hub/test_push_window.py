"""Two batches of one station in flight (issue 15): the hub applies them in op_seq order.

Real hub over real HTTP on 127.0.0.1, SQLite and PostgreSQL. A batch the station marks
as following (``X-Tramtiem-Follows``) may reach the hub before the batch it follows:
it waits for that one (``hub.push_turns``) instead of answering a gap; if that one
fails, it is answered the gap at once, and nothing is applied twice or lost.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from hub import push_turns
from kernel.ids import uuid7
from sync.protocol import PUSH_FOLLOWS_HEADER, PUSH_WINDOW_HEADER
from tests.hub.conftest import Hub
from tests.hub.ops import Desk

TRIALS = 6


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """How each following push's wait ended (the hub runs in this process)."""
    seen: list[str] = []
    real = push_turns.Turn.wait

    def wait(self: push_turns.Turn, db: Any, epoch: str, first_seq: int) -> str:
        why = real(self, db, epoch, first_seq)
        seen.append(why)
        return why

    monkeypatch.setattr(push_turns.Turn, "wait", wait)
    yield seen


def _post(desk: Desk, ops: list[dict[str, Any]], client: httpx.Client, *, follows: bool) -> httpx.Response:
    headers = desk.headers | ({PUSH_FOLLOWS_HEADER: "1"} if follows else {})
    return client.post(desk.hub.api + "/push", json=desk.body(ops), headers=headers)


def _statuses(r: httpx.Response) -> list[str]:
    assert r.status_code == 200, r.text
    return [x["status"] for x in r.json()["results"]]


def test_a_following_batch_that_arrives_first_is_applied_after_the_one_before(
    hub: Hub, waits: list[str]
) -> None:
    desk = Desk.enroll(hub, "DN-WIN-01")
    with httpx.Client(timeout=30) as c1, httpx.Client(timeout=30) as c2, ThreadPoolExecutor(1) as pool:
        for trial in range(TRIALS):
            first = [desk.walk_in() for _ in range(15)]
            second = [desk.walk_in() for _ in range(15)]
            later = pool.submit(_post, desk, second, c2, follows=True)
            time.sleep(0.03 + 0.03 * (trial % 3))  # the follower is at the hub first, waiting
            r1 = _post(desk, first, c1, follows=False)
            r2 = later.result(timeout=60)
            assert _statuses(r1) == ["applied"] * 15
            # Without the wait the follower was answered a gap: no results, expected = first's.
            assert _statuses(r2) == ["applied"] * 15, r2.json()["expected_next_op_seq"]
            assert r2.json()["expected_next_op_seq"] == second[-1]["op_seq"] + 1
            seqs1 = [x["server_seq"] for x in r1.json()["results"]]
            seqs2 = [x["server_seq"] for x in r2.json()["results"]]
            assert max(seqs1) < min(seqs2)  # applied after the first, in op_seq order
            assert r1.headers[PUSH_WINDOW_HEADER] == str(push_turns.WINDOW)
    assert waits == ["ready"] * TRIALS
    assert hub.count("applied_op") == desk.seq  # each op once
    assert hub.count("person") == 2 * 15 * TRIALS
    assert push_turns.pending() == 0


def test_a_follower_sent_while_the_one_before_is_applied_waits_for_its_commit(hub: Hub) -> None:
    """The usual order: the first is under way when the follower arrives (both answered applied)."""
    desk = Desk.enroll(hub, "DN-WIN-02")
    with httpx.Client(timeout=30) as c1, httpx.Client(timeout=30) as c2, ThreadPoolExecutor(2) as pool:
        for _ in range(TRIALS):
            first = [desk.walk_in() for _ in range(60)]
            second = [desk.walk_in() for _ in range(10)]
            a = pool.submit(_post, desk, first, c1, follows=False)
            b = pool.submit(_post, desk, second, c2, follows=True)
            assert _statuses(a.result(timeout=60)) == ["applied"] * 60
            assert _statuses(b.result(timeout=60)) == ["applied"] * 10
    assert hub.count("applied_op") == desk.seq


def test_a_failed_first_batch_makes_the_follower_a_gap_and_nothing_is_lost_or_doubled(
    hub: Hub, waits: list[str]
) -> None:
    desk = Desk.enroll(hub, "DN-WIN-03")
    expected_before = desk.seq + 1
    first = [desk.walk_in() for _ in range(10)]
    second = [desk.walk_in() for _ in range(10)]
    # An op behind the replica's order with a new op id: the hub refuses the whole batch (409).
    broken = [dict(first[0], op_id=uuid7(), op_seq=1), *first[1:]]
    with httpx.Client(timeout=30) as c1, httpx.Client(timeout=30) as c2, ThreadPoolExecutor(1) as pool:
        later = pool.submit(_post, desk, second, c2, follows=True)
        time.sleep(0.05)
        r1 = _post(desk, broken, c1, follows=False)
        r2 = later.result(timeout=60)
        assert r1.status_code == 409 and r1.json()["code"] == "replica.regressed"
        # The follower is answered the gap at once (not after the wait's bound).
        assert _statuses(r2) == []
        assert r2.json()["expected_next_op_seq"] == expected_before
        assert waits == ["stalled"]
        assert hub.count("person") == 0
        # The station resends from where the hub expects: each op applied once.
        assert _statuses(_post(desk, first, c1, follows=False)) == ["applied"] * 10
        assert _statuses(_post(desk, second, c2, follows=True)) == ["applied"] * 10
        assert _statuses(_post(desk, first, c1, follows=False)) == ["duplicate"] * 10
    assert waits == ["stalled", "ready"]
    assert hub.count("person") == 20
    assert hub.count("applied_op") == desk.seq
    assert push_turns.pending() <= 1  # the stall is remembered for a while, then forgotten


def test_a_push_without_the_mark_never_waits_and_is_answered_a_gap(hub: Hub, waits: list[str]) -> None:
    """An older station (no mark): a batch ahead of the hub's order is a gap at once, as before."""
    desk = Desk.enroll(hub, "DN-WIN-04")
    expected = desk.seq + 1
    skipped = [desk.walk_in() for _ in range(3)]
    ahead = [desk.walk_in() for _ in range(3)]
    with httpx.Client(timeout=30) as c:
        r = _post(desk, ahead, c, follows=False)
        assert _statuses(r) == [] and r.json()["expected_next_op_seq"] == expected
        assert _statuses(_post(desk, skipped + ahead, c, follows=False)) == ["applied"] * 6
    assert waits == []
