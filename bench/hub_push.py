"""``hub_push``: how many ops per second a real hub takes from many stations syncing at once.

Setup (not timed): a hub started as its own process (``tramtiem-hub serve``,
``--workers N``) on 127.0.0.1 over SQLite, or over a throwaway PostgreSQL
cluster with ``--postgres`` (tests/pg.py: needs the PostgreSQL server
binaries); ``--stations M`` real encrypted stations, each at its own site,
enrolled, each holding a campaign morning written through the services:
``--people`` walk-ins registered, screened and vaccinated (about three ops
each, plus users and lots).

Timed: all stations start one full sync cycle at the same moment (threads in
this process, the real :class:`sync.engine.SyncEngine` over HTTP: push in
batches, pull their site's changes back, send a tally). The figure is ops
pushed per second of wall time, from the first start to the last finish: a
conservative number, since the pull-back and the tally are in the time too.
Every op must be acknowledged (pending 0 everywhere) or the run fails.

Prints one JSON object (the last line of stdout). ``python -m bench hub_push
--stations 8 --people 100 --workers 2``.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench._util import adult_of_known_age, in_scratch_dir, log, screen_eligible, stop_on_exit

NAME = "hub_push"
HELP = "ops/s a hub process takes from M stations syncing at once over HTTP (SQLite or --postgres)"
DEFAULT_PEOPLE = 100  # vaccinees per station
ROOT = Path(__file__).resolve().parent.parent


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stations", type=int, default=8, help="stations syncing at once (8)")
    p.add_argument("--workers", type=int, default=1, help="uvicorn worker processes of the hub (1)")
    p.add_argument(
        "--postgres",
        action="store_true",
        help="a throwaway PostgreSQL cluster instead of SQLite (tests/pg.py)",
    )
    p.add_argument("--database-url", default=None, help="an existing hub database instead")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60.0) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the hub exited with {proc.returncode} (see its log)")
        try:
            with urllib.request.urlopen(url + "/sync/v1/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the hub did not answer /sync/v1/health")


def _tree_cpu_s(root_pid: int) -> float | None:
    """User+system CPU seconds of a process and its children (Linux /proc; None elsewhere).

    Wall-clock ops/s depends on whatever else the machine runs; the hub's CPU
    time per op does not, and is what the sizing in docs/hub-deployment.md uses.
    """
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        parents[int(entry.name)] = int(fields[1])
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    tree = {root_pid}
    grew = True
    while grew:
        kids = {pid for pid, ppid in parents.items() if ppid in tree} - tree
        grew = bool(kids)
        tree |= kids
    return sum(times.get(pid, 0.0) for pid in tree)


def _campaign_morning(st: Any, people_count: int, seed: int) -> int:
    """Walk-ins registered, screened and vaccinated through the services; returns doses."""
    from kernel.errors import DomainError
    from station import demo
    from station.dto import DoseInput
    from station.services import admin, clinical, people

    actors = demo.ensure_users(st)
    demo.ensure_lots(st, actors["supervisor"], st.today())
    lots = [lot.id for lot in admin.list_lots(st)]
    rng = random.Random(seed)
    doses = 0
    while doses < people_count:
        drawn = demo.fake_person(rng, st.today())
        if not adult_of_known_age(drawn):
            continue  # no dose may stop for a confirmation
        try:
            res = people.register_walk_in(st, actors["volunteer"], drawn)
        except DomainError:
            continue  # a drawn ID number already exists
        screen_eligible(st, actors["screener"], res.person.id)
        clinical.record_dose(st, actors["clerk"], DoseInput(res.person.id, lots[doses % len(lots)]))
        doses += 1
    return doses


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-hub-push-", args.keep, lambda base: _run(base, args))


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    from argon2 import PasswordHasher

    from hub import service
    from hub.db import Database, migrate, sqlite_url
    from hub.ingest import utc_now
    from station import replica
    from station.services import admin
    from station.store import Station, init_station
    from sync import cli as sync_cli
    from sync.client import HubClient
    from sync.engine import SyncEngine, SyncReport
    from sync.protocol import EnrollRequest

    # Setup only: real argon2id with cheap parameters (users are made per station).
    admin._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with ExitStack() as stack:
        if args.database_url:
            url, backend = args.database_url, "given"
        elif args.postgres:
            sys.path.insert(0, str(ROOT))
            from tests.pg import pg_cluster

            cluster = stack.enter_context(pg_cluster())
            url, backend = cluster.create_database(), "postgresql"
        else:
            url, backend = sqlite_url(base / "hub.db"), "sqlite"
        migrate(url)
        port = _free_port()
        hub_url = f"http://127.0.0.1:{port}"
        hub_log = open(base / "hub.log", "wb")  # noqa: SIM115 - closed by the stack
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
                str(args.workers),
                "--database-url",
                url,
            ],
            stdout=hub_log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=ROOT,
        )

        stop_on_exit(stack, proc)
        _wait_healthy(hub_url, proc)
        log(f"hub up at {hub_url} ({backend}, {args.workers} worker(s))")

        db = Database(url)
        stations: list[Station] = []
        doses = 0
        t_setup = time.perf_counter()
        try:
            for i in range(args.stations):
                site = f"BENCH-{i:03d}"
                service.add_site(db, site, f"Điểm tiêm {i}", "75", now=utc_now())
                code = service.new_enrollment_code(db, site, ttl_hours=1, now=utc_now())
                st = init_station(base / f"station-{i}", site)
                with HubClient(hub_url) as client:
                    resp = client.enroll(
                        EnrollRequest(
                            code=code, station_id=st.install_id, station_name=f"bench {i}"
                        )
                    )
                sync_cli.store_token(st.install_id, resp.token)
                replica.set_meta(st, sync_cli.HUB_URL_KEY, hub_url)
                doses += _campaign_morning(st, args.people, args.seed + i)
                stations.append(st)
                log(f"station {i + 1}/{args.stations} ready")
        finally:
            db.dispose()
        log(f"{args.stations} stations, {doses} doses in {time.perf_counter() - t_setup:.1f} s")

        reports: list[SyncReport | None] = [None] * len(stations)
        spans: list[tuple[float, float]] = [(0.0, 0.0)] * len(stations)
        barrier = threading.Barrier(len(stations))

        def one(i: int) -> None:
            engine = SyncEngine(stations[i], sync_cli.client_factory_for(stations[i]))
            barrier.wait()
            t0 = time.perf_counter()
            reports[i] = engine.run_once()
            spans[i] = (t0, time.perf_counter())

        threads = [
            threading.Thread(target=one, args=(i,), name=f"station-{i}")
            for i in range(len(stations))
        ]
        hub_cpu0 = _tree_cpu_s(proc.pid)
        own0 = time.process_time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        hub_cpu1 = _tree_cpu_s(proc.pid)
        client_cpu = time.process_time() - own0
        for st in stations:
            st.close()

    done = [r for r in reports if r is not None]
    failed = [r.error for r in done if not r.ok or r.pending_left]
    if len(done) != len(stations) or failed:
        raise RuntimeError(f"not every station synced everything: {failed}")
    pushed = sum(r.pushed for r in done)
    wall = max(e for _, e in spans) - min(s for s, _ in spans)
    per_station = [e - s for s, e in spans]
    result = {
        "bench": NAME,
        "backend": backend,
        "workers": args.workers,
        "stations": len(stations),
        "doses": doses,
        "ops_pushed": pushed,
        "ops_pulled": sum(r.pulled for r in done),
        "push_batches": sum(r.batches for r in done),
        "wall_s": round(wall, 2),
        "ops_per_s": round(pushed / wall, 1),
        "station_cycle_s": {"min": round(min(per_station), 2), "max": round(max(per_station), 2)},
        # CPU per op: the hub's processes (uvicorn workers; PostgreSQL's own backends are
        # not counted) and this process (the stations' side of the sync).
        "hub_cpu_ms_per_op": (
            round((hub_cpu1 - hub_cpu0) * 1000 / pushed, 2)
            if hub_cpu0 is not None and hub_cpu1 is not None and pushed
            else None
        ),
        "stations_cpu_ms_per_op": round(client_cpu * 1000 / pushed, 2) if pushed else None,
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }
    log(f"{pushed} ops from {len(stations)} stations in {wall:.1f} s: {result['ops_per_s']} ops/s")
    return result


def main(argv: list[str] | None = None) -> int:
    from bench.__main__ import main as bench_main

    return bench_main([NAME, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
