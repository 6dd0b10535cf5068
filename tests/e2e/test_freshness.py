"""Fresh within a minute: real engines on their own threads against a real hub (issue 10).

* A committed local write wakes the engine: the dose reaches the hub with no "Sync now"
  and no periodic round (the engines here would otherwise sleep for an hour).
* A burst of writes is coalesced into a few cycles, not one per write.
* A registration made at one desk reaches the other desk of the site through the
  long-poll pull, again with nothing else to wake it.
* While the hub cannot be reached at all, the engine probes at most 30 s apart (the
  tally reaches the hub within a minute of the line coming back); a hub that refuses
  is left alone for longer.

The waits below are bounded loops for an outcome (a dose at the hub, a person at the
other desk); no test asserts how long anything took (bench/ measures that).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from sync.client import HubClient
from sync.engine import SyncEngine, SyncEvent, SyncSettings
from tests.e2e.harness import Cluster, Node, People

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

SITE = "DN-FR-01"
# Nothing but a write or a remote change may wake these engines.
QUIET = {"interval_s": 3600.0, "seed": 1}


def until(cond: Callable[[], bool], what: str, limit_s: float = 30.0) -> None:
    stop = threading.Event()
    for _ in range(int(limit_s / 0.02)):
        if cond():
            return
        stop.wait(0.02)
    raise AssertionError(f"never happened: {what}")


def engine_for(node: Node, events: list[SyncEvent] | None = None, **settings: float) -> SyncEngine:
    url, token = node.hub_url, node.token

    def factory() -> HubClient:
        return HubClient(url, token, connect_timeout_s=2.0, read_timeout_s=30.0)

    return SyncEngine(
        node.st,
        factory,
        events=events.append if events is not None else None,
        settings=SyncSettings(**(QUIET | settings)),  # type: ignore[arg-type]
    )


@pytest.fixture
def running() -> Iterator[list[SyncEngine]]:
    engines: list[SyncEngine] = []
    yield engines
    for e in engines:
        e.stop(timeout=20)


def idle(engine: SyncEngine) -> None:
    until(lambda: engine.last_report is not None and engine.last_event is not None
          and engine.last_event.state == "idle", "the engine's first cycle")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_committed_write_reaches_the_hub_without_sync_now(
    cluster: Cluster, running: list[SyncEngine]
) -> None:
    node = cluster.add_node(SITE, "A")
    engine = engine_for(node, long_poll_s=0)
    running.append(engine)
    engine.start()
    idle(engine)
    dose = node.vaccinate(node.walk_in(People(seed=21).make()))
    until(
        lambda: cluster.hub_scalar("SELECT count(*) FROM dose WHERE id = :d", d=dose) == 1,
        "the dose at the hub",
    )
    until(lambda: node.waiting() == 0, "the outbox drained")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_burst_of_writes_is_coalesced(cluster: Cluster, running: list[SyncEngine]) -> None:
    node = cluster.add_node(SITE, "A")
    events: list[SyncEvent] = []
    engine = engine_for(node, events, long_poll_s=0, write_debounce_s=3.0)
    running.append(engine)
    engine.start()
    idle(engine)
    people = People(seed=22)
    cycles_before = sum(1 for e in events if e.state == "connecting")
    doses = [node.vaccinate(node.walk_in(people.make())) for _ in range(6)]  # ~20 commits
    until(
        lambda: int(cluster.hub_scalar("SELECT count(*) FROM dose")) == len(doses) and node.waiting() == 0,
        "every dose at the hub",
    )
    cycles = sum(1 for e in events if e.state == "connecting") - cycles_before
    assert 1 <= cycles <= 4, cycles


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_a_registration_at_one_desk_reaches_the_other_through_the_long_poll(
    cluster: Cluster, running: list[SyncEngine]
) -> None:
    a = cluster.add_node(SITE, "A")
    b = cluster.add_node(SITE, "B")
    ea, eb = engine_for(a), engine_for(b)
    running += [ea, eb]
    ea.start()
    eb.start()
    idle(ea)
    idle(eb)
    watch = cluster.running.app.state.watch if cluster.running else None
    assert watch is not None
    until(lambda: watch.waiting >= 1, "a desk waiting on its long-poll pull")
    for i in range(3):
        pid = a.walk_in(People(seed=30 + i).make())
        until(lambda pid=pid: b.person(pid) is not None, f"walk-in {i} at the other desk")


@pytest.mark.parametrize("backend", ["sqlite"])
def test_probing_a_dead_line_is_frequent_and_a_refusing_hub_is_left_alone(cluster: Cluster) -> None:
    node = cluster.add_node(SITE, "A")
    dead = SyncEngine(
        node.st, lambda: HubClient("http://127.0.0.1:9", "t", connect_timeout_s=0.5),
        settings=SyncSettings(seed=3),
    )
    delays = []
    for _ in range(12):
        rep = dead.run_once()
        assert not rep.ok and rep.failure == "offline"
        delays.append(dead.next_delay(rep))
    assert max(delays) <= 30.0 and max(delays[6:]) > 15.0
    # The hub answers, but refuses this station: backing off up to 5 minutes is right.
    refused = SyncEngine(
        node.st, lambda: HubClient(node.hub_url, "not-a-token", connect_timeout_s=0.5),
        settings=SyncSettings(seed=3),
    )
    waits = []
    for _ in range(12):
        rep = refused.run_once()
        assert not rep.ok and rep.failure == "refused", rep
        waits.append(refused.next_delay(rep))
    assert max(waits) > 120.0
