"""``sync_loopback``: one station drains ~10,000 dose ops (with their persons) to a hub on loopback.

Setup (not timed): a station at site ``BENCH-000`` holding a campaign morning
written through the services (bench/hub_push.py ``_campaign_morning``): for
each vaccinee a walk-in registration, a screening and a dose, i.e. three ops
per person, plus the few ops of the demo users and lots. ``--ops N`` asks for
N ops: ``ceil(N / 3)`` persons are built; the exact number of ops in the
outbox is reported as ``ops``. The station is built once, closed and copied,
so both hubs receive byte-identical outboxes.

Each hub runs as its own process (``tramtiem-hub serve`` on 127.0.0.1): one
over SQLite, one over a throwaway PostgreSQL cluster (tests/pg.py).

Timed: ``SyncEngine.run_once`` repeated until the outbox is drained (push in
batches, the pull-back of the site's changes and the tally included: what a
station really does). Baseline in the same run: the same number of HTTP round
trips (one per push batch and pull page) as empty ``GET /sync/v1/health``
calls over one keep-alive connection: the floor that transport alone costs.

``python -m bench sync_loopback --ops 3000``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench._util import in_scratch_dir, log, r3, stop_on_exit

NAME = "sync_loopback"
HELP = "one station drains 10,000 dose ops to a SQLite and a PostgreSQL hub over loopback HTTP"
DEFAULT_PEOPLE = 0  # unused: see --ops
DEFAULT_OPS = 10_000
TARGETS = {"seconds_sqlite_hub": 2.5, "seconds_postgres_hub": 4.0}
ROOT = Path(__file__).resolve().parent.parent


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ops", type=int, default=DEFAULT_OPS, help="ops to drain (10,000)")
    p.add_argument("--skip-postgres", action="store_true", help="only the SQLite hub")
    p.add_argument(
        "--durable-pg", action="store_true", help="PostgreSQL with fsync on (production-like)"
    )


# ---- helpers shared with the other sync benches ------------------------------------------


def cheap_hasher() -> None:
    """Setup only: real argon2id with cheap parameters (users are made per station)."""
    from argon2 import PasswordHasher

    from station.services import admin

    admin._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def hub_url_for(stack: ExitStack, base: Path, backend: str, *, durable: bool = False) -> str:
    """A migrated hub database URL: ``sqlite`` (a file under base) or ``postgres`` (a cluster:
    fsync off like the tests' unless ``durable``)."""
    from hub.db import migrate, sqlite_url

    if backend == "postgres":
        sys.path.insert(0, str(ROOT))
        from tests.pg import pg_cluster

        cluster = stack.enter_context(pg_cluster(durable=durable))
        url = cluster.create_database()
    else:
        url = sqlite_url(base / f"hub-{time.monotonic_ns()}.db")
    migrate(url)
    return url


def start_hub(stack: ExitStack, base: Path, db_url: str, workers: int = 1) -> tuple[str, Any]:
    """``tramtiem-hub serve`` as its own process; (base URL, Popen); stopped by the stack."""
    from bench.hub_push import _free_port, _wait_healthy

    port = _free_port()
    hub_url = f"http://127.0.0.1:{port}"
    hub_log = open(base / f"hub-{port}.log", "wb")  # noqa: SIM115 - closed by the stack
    stack.callback(hub_log.close)
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "hub.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--database-url",
            db_url,
        ],
        stdout=hub_log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=ROOT,
    )

    stop_on_exit(stack, proc)
    _wait_healthy(hub_url, proc)
    return hub_url, proc


def add_site(db_url: str, site: str) -> str:
    """Create ``site`` on the hub database; returns a fresh enrollment code."""
    from hub import service
    from hub.db import Database
    from hub.ingest import utc_now

    db = Database(db_url)
    try:
        try:
            service.add_site(db, site, f"Điểm tiêm {site}", "75", now=utc_now())
        except Exception:
            pass
        return service.new_enrollment_code(db, site, ttl_hours=1, now=utc_now())
    finally:
        db.dispose()


def enroll(st: Any, db_url: str, hub_url: str, name: str) -> None:
    """Enroll the open station ``st`` at its site on the hub; token + URL stored."""
    from station import replica
    from sync import cli as sync_cli
    from sync.client import HubClient
    from sync.protocol import EnrollRequest

    code = add_site(db_url, st.site_code)
    with HubClient(hub_url) as client:
        resp = client.enroll(EnrollRequest(code=code, station_id=st.install_id, station_name=name))
    sync_cli.store_token(st.install_id, resp.token)
    replica.set_meta(st, sync_cli.HUB_URL_KEY, hub_url)


def pending_ops(st: Any) -> int:
    from station import outbox

    c = outbox.counts(st)
    return c.pending + c.inflight


def build_station(path: Path, site: str, ops: int, seed: int) -> tuple[int, int]:
    """A closed station at ``path`` with ~``ops`` ops in its outbox; (persons, outbox ops)."""
    from bench.hub_push import _campaign_morning
    from station.store import init_station

    st = init_station(path, site)
    try:
        persons = _campaign_morning(st, max(1, math.ceil(ops / 3)), seed)
        return persons, pending_ops(st)
    finally:
        st.close()


def drain(
    st: Any,
    hub_url: str,
    *,
    settings: Any = None,
    max_cycles: int = 50,
    client_kw: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``run_once`` until the outbox is empty; totals of the reports and the wall time."""
    from sync import cli as sync_cli
    from sync.engine import SyncEngine

    factory = sync_cli.client_factory_for(st, hub_url, **(client_kw or {}))
    engine = SyncEngine(st, factory, settings=settings)
    tot = {
        "pushed": 0,
        "duplicate": 0,
        "rejected": 0,
        "conflict": 0,
        "batches": 0,
        "pulled": 0,
        "pull_pages": 0,
        "cycles": 0,
        "timeouts": 0,
        "errors": [],
    }
    t0 = time.perf_counter()
    for _ in range(max_cycles):
        rep = engine.run_once()
        tot["cycles"] += 1
        for k in (
            "pushed",
            "duplicate",
            "rejected",
            "conflict",
            "batches",
            "pulled",
            "pull_pages",
            "timeouts",
        ):
            tot[k] += getattr(rep, k)
        if rep.error:
            tot["errors"].append(rep.error)
        if rep.ok and rep.pending_left == 0 and pending_ops(st) == 0:
            break
    tot["seconds"] = time.perf_counter() - t0
    tot["pending_left"] = pending_ops(st)
    return tot


def health_baseline(hub_url: str, n: int) -> float:
    """Seconds for ``n`` empty GET /sync/v1/health round trips over one keep-alive connection."""
    import httpx

    with httpx.Client(base_url=hub_url) as c:
        c.get("/sync/v1/health")
        t0 = time.perf_counter()
        for _ in range(n):
            c.get("/sync/v1/health").raise_for_status()
        return time.perf_counter() - t0


def load() -> float | None:
    return r3(os.getloadavg()[0]) if hasattr(os, "getloadavg") else None


# ---- the bench -----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-sync-loopback-", args.keep, lambda base: _run(base, args))


def _one_hub(base: Path, src: Path, backend: str, tag: str, durable: bool = False) -> dict[str, Any]:
    from station.store import open_station

    data = base / f"station-{tag}"
    shutil.copytree(src, data)
    with ExitStack() as stack:
        db_url = hub_url_for(stack, base, backend, durable=durable)
        hub_url, _proc = start_hub(stack, base, db_url)
        log(f"{backend} hub up at {hub_url}")
        st = open_station(data)
        stack.callback(st.close)
        enroll(st, db_url, hub_url, f"bench {tag}")
        before = pending_ops(st)
        res = drain(st, hub_url)
        log(
            f"{backend}: {res['pushed']} applied of {before} in {res['seconds']:.2f} s "
            f"({res['batches']} batches, {res['pull_pages']} pull pages)"
        )
        res["health_baseline_s"] = health_baseline(hub_url, res["batches"] + res["pull_pages"])
        res["ops_before"] = before
        return res


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    cheap_hasher()
    t = time.perf_counter()
    src = base / "station-src"
    persons, ops = build_station(src, "BENCH-000", args.ops, args.seed)
    log(f"built {persons} persons, {ops} ops in the outbox in {time.perf_counter() - t:.1f} s")
    sq = _one_hub(base, src, "sqlite", "sqlite")
    pg = None if args.skip_postgres else _one_hub(base, src, "postgres", "pg", args.durable_pg)

    def ok(r: dict[str, Any] | None) -> bool:
        return r is not None and r["pending_left"] == 0 and r["rejected"] == 0 and not r["errors"]

    result: dict[str, Any] = {
        "bench": NAME,
        "ops": ops,
        "persons": persons,
        "dose_ops": persons,
        "seconds_sqlite_hub": r3(sq["seconds"]),
        "seconds_postgres_hub": r3(pg["seconds"]) if pg else None,
        "ops_per_s_sqlite_hub": round(ops / sq["seconds"], 1),
        "ops_per_s_postgres_hub": round(ops / pg["seconds"], 1) if pg else None,
        "baseline_health_roundtrips": sq["batches"] + sq["pull_pages"],
        "baseline_health_seconds_sqlite_hub": r3(sq["health_baseline_s"]),
        "baseline_health_seconds_postgres_hub": r3(pg["health_baseline_s"]) if pg else None,
        "detail_sqlite_hub": {k: v for k, v in sq.items() if k not in ("seconds",)},
        "detail_postgres_hub": {k: v for k, v in pg.items() if k not in ("seconds",)}
        if pg
        else None,
        "scaled_to_10k": {
            "seconds_sqlite_hub": r3(sq["seconds"] * 10_000 / max(1, ops)),
            "seconds_postgres_hub": r3(pg["seconds"] * 10_000 / max(1, ops)) if pg else None,
        },
        "postgres_fsync": bool(args.durable_pg),
        "cpus": os.cpu_count(),
        "load_avg_1m": load(),
        "targets": TARGETS,
    }
    result["pass"] = {
        "seconds_sqlite_hub": ok(sq) and sq["seconds"] <= TARGETS["seconds_sqlite_hub"],
        "seconds_postgres_hub": ok(pg)
        and pg is not None
        and pg["seconds"] <= TARGETS["seconds_postgres_hub"],
        "all_applied_sqlite": ok(sq),
        "all_applied_postgres": ok(pg),
    }
    return result
