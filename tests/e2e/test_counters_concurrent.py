"""The dose counters under concurrent pushes on PostgreSQL (SQLite serialises writers and
would hide a lost update).

Four laptops of one site push at the same moment, round after round: each brings new
doses (the batched fast path) and voids a dose that laptop A entered, so every push of
the round changes A's counter row for the day while A's own push adds to it. The
counters are upserts that add (``n = n + excluded.n``); a read-then-write would lose
increments here. After every round the counters equal a recount of the doses, and the
site's figures equal the truth.
"""

from __future__ import annotations

import threading

import pytest

from hub import counters, service
from tests.e2e.harness import Cluster, Node, People

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

SITE = "DN-CC-01"
ROUNDS = 8


def _push(node: Node, barrier: threading.Barrier, failures: list[str]) -> None:
    barrier.wait(timeout=30)
    rep = node.push_only()
    if rep.rejected or rep.answered == 0:
        failures.append(f"{node.name}: {rep}")


@pytest.mark.parametrize("backend", ["postgres"])
def test_concurrent_pushes_never_lose_a_count(cluster: Cluster) -> None:
    people = People(seed=41)
    nodes = [cluster.add_node(SITE, letter) for letter in "ABCD"]
    a = nodes[0]
    mine: list[str] = [a.vaccinate(a.walk_in(people.make())) for _ in range(3 * ROUNDS)]
    cluster.sync_all()
    voided: set[str] = set()
    total = len(mine)
    for r in range(ROUNDS):
        for i, node in enumerate(nodes):
            for _ in range(2):
                node.vaccinate(node.walk_in(people.make()))
                total += 1
            if i > 0:
                target = mine.pop()
                node.void(target)
                voided.add(target)
        barrier = threading.Barrier(len(nodes))
        failures: list[str] = []

        threads = [threading.Thread(target=_push, args=(n, barrier, failures)) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert not failures, failures
        with cluster.hub_db.read() as s:
            assert counters.verify(s) == [], f"round {r}"
        summ = service.site_summary(cluster.hub_db, SITE)
        assert summ.received == total - len(voided), f"round {r}"
        cluster.sync_all()  # every laptop pulls the others' doses before the next round
    for n in nodes:
        n.engine.run_once()
    summ = service.site_summary(cluster.hub_db, SITE)
    assert (summ.given, summ.received, summ.gap) == (total - len(voided), total - len(voided), 0)
