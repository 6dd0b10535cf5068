"""Long-poll pulls over real HTTP, SQLite and PostgreSQL: the hub answers as soon as the
station's scope changes (a sibling's push, or a commit made by another process), and keeps
waiting while only the caller's own echoes arrive."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hub.app import HubSettings
from hub.db import Database
from hub.ingest import process_push
from hub.server import run_hub
from sync.protocol import PushRequest
from tests.hub.conftest import Hub, Sim
from tests.station.helpers import person

SITE = "DN-LP-01"


def register(sim: Sim, i: int) -> str:
    from station.services import people

    res = people.register_walk_in(
        sim.st, sim.staff.clerk, person(id_number=f"07518500{i:04d}", phone=f"09120{i:05d}")
    )
    return res.person.id


class Poll(threading.Thread):
    """A long-poll pull in the background, as a station's watcher makes it."""

    def __init__(self, sim: Sim, cursor: int, wait: float, **params: Any) -> None:
        super().__init__(daemon=True)
        self.sim, self.cursor, self.wait, self.params = sim, cursor, wait, params
        self.page: dict[str, Any] | None = None

    def run(self) -> None:
        with httpx.Client(timeout=self.wait + 30) as c:
            r = c.get(
                self.sim.hub.api + "/pull",
                params={"cursor": self.cursor, "limit": 100, "wait": self.wait, **self.params},
                headers=self.sim.headers,
            )
            assert r.status_code == 200, r.text
            self.page = r.json()


def waiting(hub: Hub, n: int = 1) -> None:
    """Until the hub holds ``n`` waiting pulls (bounded)."""
    watch = hub.running.app.state.watch
    for _ in range(2000):
        if watch.waiting >= n:
            return
        threading.Event().wait(0.005)
    raise AssertionError("the pull never started waiting")


def head(sim: Sim) -> int:
    r = sim.hub.client.get(sim.hub.api + "/pull", params={"cursor": 0, "limit": 1}, headers=sim.headers)
    return int(r.json()["head_seq"])


def test_a_waiting_pull_answers_with_a_siblings_push(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE)
    b = make_station(hub, SITE, letter="B")
    a.push()
    b.push()
    cursor = head(b)
    poll = Poll(b, cursor, wait=25)
    poll.start()
    waiting(hub)
    pid = register(a, 1)
    a.push()
    poll.join(40)
    assert poll.page is not None
    assert pid in {c["entity_id"] for c in poll.page["changes"] if c["entity_type"] == "person"}


def test_a_commit_by_another_process_wakes_the_pull(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    """No poke from this server process: the poller sees the committed head move."""
    a = make_station(hub, SITE)
    b = make_station(hub, SITE, letter="B")
    a.push()
    b.push()
    cursor = head(b)
    pid = register(a, 2)
    ops = a.outbox()
    poll = Poll(b, cursor, wait=25)
    poll.start()
    waiting(hub)
    other = Database(hub.db.url)  # "another process": its own engine, no access to the app
    try:
        req = PushRequest(
            station_id=a.st.install_id,
            replica_epoch=a.epoch,
            schema_version="0003",
            sent_at=datetime.now(UTC).isoformat(),
            ops=ops,  # type: ignore[arg-type]
        )
        results, _ = process_push(other, a.st.install_id, req, now=datetime.now(UTC).isoformat())
        assert {r.status for r in results} == {"applied"}
    finally:
        other.dispose()
    poll.join(40)
    assert poll.page is not None
    assert pid in {c["entity_id"] for c in poll.page["changes"]}


def test_own_echoes_do_not_end_the_wait(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE)
    a.push()
    cursor = head(a)
    poll = Poll(a, cursor, wait=2, replica_epoch=a.epoch)
    poll.start()
    waiting(hub)
    # Walk-ins through the fast path: rows that only echo A's own ops.
    register(a, 3)
    register(a, 4)
    out = a.push()
    assert all(r["detail"].get("no_echo") for r in out["results"])
    poll.join(40)
    assert poll.page is not None and poll.page["changes"] == []
    assert poll.page["next_cursor"] > cursor  # it moved past the echoes


def test_wait_is_bounded(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE)
    r = hub.client.get(hub.api + "/pull", params={"cursor": 0, "wait": 31}, headers=a.headers)
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"
    r = hub.client.get(hub.api + "/pull", params={"cursor": 0, "wait": -1}, headers=a.headers)
    assert r.status_code == 422



def _servers() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name == "hub-uvicorn" and t.is_alive()}


def test_a_held_pull_is_answered_when_the_hub_shuts_down(
    tmp_path: Path, make_station: Callable[..., Sim]
) -> None:
    """Stopping the hub (a restart, an upgrade) answers the pulls it holds at once, with an
    empty page, instead of keeping the restart waiting for each to run out: the server's
    thread ends and the desk's pull returns, long before the 30 s the pull asked to wait."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    before = _servers()
    with run_hub(HubSettings(database_url=url)) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            hub = Hub(running, db, "sqlite", client)
            sim = make_station(hub, SITE)
            sim.push()
            poll = Poll(sim, head(sim), wait=30)
            poll.start()
            waiting(hub)
            [server] = _servers() - before
        finally:
            db.dispose()
    # Leaving run_hub waited (at most 10 s) for the server's thread: it ended, it did not
    # time out with the pull still held.
    assert not server.is_alive()
    poll.join(10)
    assert not poll.is_alive(), "the pull was still held after the hub stopped"
    assert poll.page is not None and poll.page["changes"] == []
