"""Seeded fault schedules between a station's sync engine and a real hub: exactly once, nothing lost.

For each of 100 seeds: a fresh site and station at one shared SQLite hub
(uvicorn on 127.0.0.1), a seeded workload written through the station's
services (walk-ins, screenings, doses, voids, observations, AEFIs, edits,
expected lists; more of it written between sync cycles; on some seeds one op
the hub must refuse), and our :class:`~tests.faults.faultproxy.FaultProxy` in front of
the hub. Every request uses its own connection, so the proxy decides per
request; it follows a seeded schedule whose third connection — the first push —
is always ``drop_response`` (the hub commits, the answer is lost), then more
scripted actions (a black hole and another lost answer among them), then
seeded probabilities of reset, black hole, truncated answer and lost answer,
with latency and a bandwidth cap on some seeds.
``SyncEngine.run_once`` runs until the outbox is drained and the pull is at the
head (bounded in cycles and time), then the faults are switched off and a
clean cycle finishes; a second clean cycle must find nothing to do.

Checked per seed (:func:`tests.faults.conftest.check_exactly_once`): every
station op is in the hub's ledger exactly once with the same payload hash, no
op rejected but the deliberate one, no effect written twice, the outbox
drained, the hub's change log gap-free, the station's rows equal the hub's rows
for its site, the station's integrity check and audit chain ok. Every seed
must have had at least one op answered as a duplicate (the lost ack of its
first push), and in each batch of seeds every fault kind must really have
happened many times.

Seeds run in batches of 10 (one test per batch) so a failure names its batch
and every failing seed, and no single test comes near the suite's timeout.
"""

from __future__ import annotations

import random
import time
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from station.store import init_station
from sync.client import HubClient
from sync.engine import SyncEngine, SyncSettings
from tests.faults.conftest import Hub, Workload, check_exactly_once, start_hub
from tests.faults.faultproxy import ACTIONS, FaultProxy, Faults

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

SEEDS = 100
BATCH = 10
FAULT_KINDS = ("reset", "blackhole", "truncate", "drop_response")
# Each batch of 10 seeds must have hit every fault kind at least this often.
MIN_PER_BATCH = {"drop_response": 20, "reset": 8, "truncate": 8, "blackhole": 4}
MAX_FAULTY_CYCLES = 40
SEED_TIME_BUDGET_S = 20.0
# Short enough that a black hole costs little, long enough for a loopback push.
FAULTY_READ_TIMEOUT_S = 0.25
BLACKHOLE_MAX_S = 0.3
CLEAN_READ_TIMEOUT_S = 10.0

TOTALS: Counter[str] = Counter()


@dataclass
class SeedResult:
    seed: int
    stats: dict[str, int]
    cycles: int
    converged_under_faults: bool
    duplicates: int
    timeouts: int
    errors: Counter[str] = field(default_factory=Counter)
    counts: dict[str, int] = field(default_factory=dict)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with start_hub(tmp_path_factory.mktemp("faulthub") / "hub.db") as h:
        yield h


def schedule_for(rng: random.Random) -> list[str]:
    """health, tally, then the first push loses its answer; then a seeded mix (with a black hole)."""
    tail = rng.choices(ACTIONS, weights=[5, 2, 1, 2, 3], k=rng.randint(6, 14))
    for must in ("blackhole", "drop_response"):
        if must not in tail:
            tail[rng.randrange(len(tail))] = must
    return ["pass", "pass", "drop_response", *tail]


def faults_for(rng: random.Random) -> Faults:
    slow = rng.random() < 0.3
    return Faults(
        latency_ms=rng.choice([2, 5, 15]) if slow else 0,
        jitter_ms=rng.choice([0, 2]) if slow else 0,
        bandwidth_bps=rng.choice([400_000, 1_000_000, 4_000_000])
        if slow and rng.random() < 0.6
        else None,
        reset_prob=rng.uniform(0.02, 0.10),
        blackhole_prob=rng.uniform(0.0, 0.02),
        truncate_prob=rng.uniform(0.03, 0.10),
        drop_response_prob=rng.uniform(0.05, 0.15),
        blackhole_max_s=BLACKHOLE_MAX_S,
    )


def run_seed(hub: Hub, tmp: Path, seed: int) -> SeedResult:
    rng = random.Random(seed)
    site = f"DN-F{seed:03d}"
    hub.add_site(site)
    st = init_station(tmp / f"st{seed}", site)
    try:
        token = hub.enroll(site, st.install_id)
        wl = Workload(st, rng, id_base=seed)
        # Some seeds queue an op the hub must refuse, first, so that it is in the
        # first push, whose answer is lost: the resent op must still end refused.
        rejected = frozenset([wl.bogus_void()] if rng.random() < 0.15 else [])
        wl.setup()
        for _ in range(rng.randint(6, 10)):
            wl.step()
        # More writes arrive while sync is struggling: after these cycles.
        more_at = {rng.randint(1, 3): rng.randint(3, 6), rng.randint(4, 7): rng.randint(2, 5)}

        read_timeout = [FAULTY_READ_TIMEOUT_S]

        with FaultProxy(
            "127.0.0.1",
            hub.port,
            faults_for(rng),
            seed=seed,
            schedule=schedule_for(rng),
            connect_timeout_s=2.0,
            idle_timeout_s=5.0,
            response_timeout_s=5.0,
        ) as proxy:

            def factory() -> HubClient:
                # A fresh connection per request: the proxy decides per request (with
                # keep-alive a connection that drew "pass" would carry a whole cycle).
                return HubClient(
                    proxy.url,
                    token,
                    connect_timeout_s=2.0,
                    read_timeout_s=read_timeout[0],
                    keep_alive=False,
                )

            settings = SyncSettings(
                seed=seed,
                batch_bytes_initial=rng.choice([2_000, 6_000, 20_000]),
                batch_bytes_min=1_000,
                batch_ops_max=rng.choice([4, 8, 25]),
                pull_limit=rng.choice([5, 12, 40]),
                max_transient_failures_per_cycle=rng.randint(2, 5),
                cycle_time_budget_s=10.0,
            )
            engine = SyncEngine(st, factory, settings=settings)
            deadline = time.monotonic() + SEED_TIME_BUDGET_S
            duplicates = timeouts = cycles = 0
            errors: Counter[str] = Counter()
            converged = False
            for cycle in range(MAX_FAULTY_CYCLES):
                for _ in range(more_at.pop(cycle, 0)):
                    wl.step()
                rep = engine.run_once()
                cycles += 1
                duplicates += rep.duplicate
                timeouts += rep.timeouts
                if rep.error:
                    errors[rep.error] += 1
                if rep.ok and rep.pending_left == 0:
                    if not more_at:
                        converged = True
                        break
                    # Drained early: the next writes arrive now.
                    for _ in range(more_at.pop(min(more_at))):
                        wl.step()
                if time.monotonic() > deadline:
                    break
            stats = proxy.stats_snapshot()
            # Faults off: the same engine finishes on a clean line.
            proxy.set_schedule([])
            proxy.set_faults(Faults())
            read_timeout[0] = CLEAN_READ_TIMEOUT_S
            for n in more_at.values():
                for _ in range(n):
                    wl.step()
            final = engine.run_once()
            duplicates += final.duplicate
            assert final.ok and final.pending_left == 0, (
                f"seed {seed}: the clean cycle failed: {final.error} pending={final.pending_left}"
            )
            again = engine.run_once()
            assert again.ok and again.answered == 0 and again.pulled == 0, (
                f"seed {seed}: a second clean cycle still had work: answered={again.answered} "
                f"pulled={again.pulled} error={again.error}"
            )
        counts = check_exactly_once(hub, st, site, label=f"seed {seed}", rejected=rejected)
        # Its third connection was the first push, and that answer was lost.
        assert duplicates >= 1, (
            f"seed {seed}: the lost ack of the first push never came back as a duplicate"
        )
        return SeedResult(seed, stats, cycles, converged, duplicates, timeouts, errors, counts)
    finally:
        st.close()


@pytest.mark.parametrize(
    "batch", range(SEEDS // BATCH), ids=lambda b: f"seeds{b * BATCH}-{b * BATCH + BATCH - 1}"
)
def test_fault_schedules_exactly_once(hub: Hub, tmp_path: Path, batch: int) -> None:
    results: list[SeedResult] = []
    failures: list[str] = []
    for seed in range(batch * BATCH, (batch + 1) * BATCH):
        try:
            results.append(run_seed(hub, tmp_path, seed))
        except AssertionError as exc:
            failures.append(str(exc))
        except Exception:
            failures.append(f"seed {seed}: {traceback.format_exc(limit=-8)}")
    assert not failures, f"{len(failures)} seed(s) failed:\n" + "\n".join(failures)

    faults: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r.errors)
        faults.update({k: r.stats[k] for k in ("connections", "pass", *FAULT_KINDS)})
    TOTALS.update(faults)
    TOTALS.update(
        seeds=len(results),
        duplicates=sum(r.duplicates for r in results),
        timeouts=sum(r.timeouts for r in results),
        cycles=sum(r.cycles for r in results),
        ops=sum(r.counts["ops"] for r in results),
        converged_under_faults=sum(r.converged_under_faults for r in results),
    )
    summary = (
        f"batch {batch}: faults {dict(faults)}; failed cycles by code {dict(errors)}; "
        f"totals so far {dict(TOTALS)}; "
        f"per seed (seed, connections, reset, blackhole, truncate, drop_response, cycles, "
        f"duplicates): "
        f"{[(r.seed, r.stats['connections'], *(r.stats[k] for k in FAULT_KINDS), r.cycles, r.duplicates) for r in results]}"
    )
    print(summary)
    short = {k: faults[k] for k in FAULT_KINDS if faults[k] < MIN_PER_BATCH[k]}
    assert not short, f"fault kinds hit too rarely in batch {batch}: {short}; {summary}"


def test_a_refused_op_whose_answer_was_lost_stays_refused(hub: Hub, tmp_path: Path) -> None:
    """The hub refuses an op, the answer is lost, the op goes again: it must end refused.

    Not acked: a refusal answered as a plain duplicate would vanish from the
    supervisor's list of refused ops, and the tally would count the op as received.
    """
    site = "DN-R001"
    hub.add_site(site)
    st = init_station(tmp_path / "st", site)
    try:
        token = hub.enroll(site, st.install_id)
        wl = Workload(st, random.Random(1), id_base=900)
        bogus = wl.bogus_void()
        wl.setup()
        wl.walk_in(vaccinate=True)
        # health, tally, then the push carrying the refused op loses its answer.
        with FaultProxy("127.0.0.1", hub.port, schedule=["pass", "pass", "drop_response"]) as proxy:
            engine = SyncEngine(
                st,
                lambda: HubClient(
                    proxy.url, token, read_timeout_s=CLEAN_READ_TIMEOUT_S, keep_alive=False
                ),
                settings=SyncSettings(seed=1),
            )
            rep = engine.run_once()
            assert proxy.decisions()[:3] == ["pass", "pass", "drop_response"]
        assert rep.ok and rep.pending_left == 0, rep.error
        original = hub.scalar("SELECT status FROM applied_op WHERE op_id = :i", i=bogus)
        assert original == "rejected"
        check_exactly_once(
            hub, st, site, label="refused op, lost answer", rejected=frozenset([bogus])
        )
    finally:
        st.close()
