"""The station keeps two push batches in flight when the hub says it may (issue 15).

A real station drains its outbox to a real hub over HTTP on 127.0.0.1 in small
batches. With a hub that answers ``X-Tramtiem-Push-Window: 2`` (started with
``TRAMTIEM_HUB_PUSH_WINDOW=2``; one by default) the batches after the
first go out while the one before is still at the hub (marked as following it); with
a hub that does not say so (an older hub) one at a time, as before. A batch that
fails at the hub makes the one behind it a gap; both go again and every op is
applied once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import text

import hub.routes.push as push_route
from hub import push_turns
from hub.errors import HubError
from station import outbox
from station.store import Station
from sync import client as client_module
from sync.client import HubClient
from sync.protocol import PUSH_WINDOW_HEADER
from tests.sync.test_engine_http import enroll, hub, make_engine, vaccinate  # noqa: F401 (fixture)


class Seen:
    """What the hub (in this process) saw: how each following push's wait ended, and
    the most pushes of one station under way at once."""

    def __init__(self) -> None:
        self.waits: list[str] = []
        self.most_at_once = 0
        self.pushes = 0


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    got = Seen()
    real_wait, real_enter = push_turns.Turn.wait, push_turns.Turn.__enter__

    def wait(self: push_turns.Turn, db: Any, epoch: str, first_seq: int) -> str:
        why = real_wait(self, db, epoch, first_seq)
        got.waits.append(why)
        return why

    def enter(self: push_turns.Turn) -> push_turns.Turn:
        t = real_enter(self)
        got.pushes += 1
        got.most_at_once = max(got.most_at_once, push_turns._STATIONS[self.station_id].active)
        return t

    monkeypatch.setattr(push_turns.Turn, "wait", wait)
    monkeypatch.setattr(push_turns.Turn, "__enter__", enter)
    yield got


@pytest.fixture
def window2(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hub says two (``TRAMTIEM_HUB_PUSH_WINDOW=2``; one by default)."""
    monkeypatch.setattr(push_route, "WINDOW", 2)


def _outbox(st: Station) -> dict[str, tuple[str, int]]:
    with st.read() as conn:
        return {str(r[0]): (str(r[1]), int(r[2]))
                for r in conn.execute(text("SELECT op_id, state, attempts FROM sync_outbox"))}


def test_the_header_names_agree() -> None:
    # The client reads the header the protocol (and so the hub) names: one definition.
    assert client_module.PUSH_WINDOW_HEADER == PUSH_WINDOW_HEADER


def test_a_hub_says_one_unless_told_two(hub, st, staff, lot_id, seen: Seen) -> None:  # noqa: F811
    """The default (two in flight did not pay on a quiet 2-core machine): as before."""
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 3)
    rep = make_engine(st, hub.running.url, token, batch_ops_max=3).run_once()
    assert rep.ok and rep.pending_left == 0 and rep.batches >= 3
    assert seen.waits == [] and seen.most_at_once == 1


def test_the_station_keeps_two_batches_in_flight_and_each_op_is_applied_once(
    hub, st, staff, lot_id, seen: Seen, window2: None  # noqa: F811
) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 8)
    waiting = outbox.counts(st).waiting
    rep = make_engine(st, hub.running.url, token, batch_ops_max=3).run_once()
    assert rep.ok and rep.pending_left == 0 and rep.duplicate == 0
    assert rep.pushed == waiting and rep.batches >= 8
    # Every batch after the first two went out behind one still in flight, and was
    # applied after it (no gap answered, no resend: one attempt per op).
    assert len(seen.waits) >= rep.batches - 2 and set(seen.waits) == {"ready"}
    assert seen.pushes == rep.batches
    assert set(_outbox(st).values()) == {("acked", 1)}
    assert hub.scalar("SELECT count(*) FROM applied_op") == waiting
    assert hub.scalar("SELECT count(*) FROM dose") == 8
    assert push_turns.pending() == 0


def test_a_hub_that_does_not_say_it_takes_more_gets_one_batch_at_a_time(
    hub, st, staff, lot_id, seen: Seen, window2: None, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    # An older hub: its push answers carry no window header.
    monkeypatch.setattr(push_route, "WINDOW_HEADER", "X-Something-Else")
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 5)
    waiting = outbox.counts(st).waiting
    rep = make_engine(st, hub.running.url, token, batch_ops_max=3).run_once()
    assert rep.ok and rep.pending_left == 0 and rep.pushed == waiting and rep.batches >= 5
    assert seen.waits == [] and seen.most_at_once == 1
    assert set(_outbox(st).values()) == {("acked", 1)}


def test_a_batch_failing_at_the_hub_makes_the_next_a_gap_and_both_go_again_once(
    hub, st, staff, lot_id, seen: Seen, window2: None, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    calls: list[int] = []
    real = push_route.process_push

    def flaky(db: Any, station_id: str, req: Any, **kw: Any) -> Any:
        calls.append(min(op.op_seq for op in req.ops))
        if len(calls) == 3:  # a batch with one behind it: the hub is busy for it, once
            raise HubError(503, "server.busy", "the hub is busy; retry later")
        return real(db, station_id, req, **kw)

    monkeypatch.setattr(push_route, "process_push", flaky)
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 6)
    waiting = outbox.counts(st).waiting
    rep = make_engine(st, hub.running.url, token, batch_ops_max=3).run_once()
    assert rep.ok and rep.pending_left == 0
    assert "stalled" in seen.waits  # the follower of the failed batch: a gap, at once
    assert calls.count(calls[2]) == 2  # the failed batch went again, once
    assert rep.pushed == waiting and rep.duplicate == 0  # nothing applied twice
    assert hub.scalar("SELECT count(*) FROM applied_op") == waiting
    assert hub.scalar("SELECT count(*) FROM dose") == 6
    assert outbox.counts(st).waiting == 0


def test_a_twin_client_has_its_own_connection(hub) -> None:  # noqa: F811
    with HubClient(hub.running.url) as c:
        c.health()
        twin = c.twin()
        try:
            assert twin._conn is None and twin._lock is not c._lock
            twin.health()
            assert twin._conn is not None and twin._conn is not c._conn
            assert twin.base_url == c.base_url and twin.token == c.token
        finally:
            twin.close()
        assert c._conn is not None  # the original's connection is untouched
