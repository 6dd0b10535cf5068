"""``hub_burst``: 50 stations push 1,000 ops each at once to a PostgreSQL hub.

Setup (not timed): a throwaway PostgreSQL cluster (tests/pg.py), the hub as its
own process (``tramtiem-hub serve --workers W``, default 2); ``--stations M``
stations, each at its own site, enrolled, each holding ``--ops N`` ops built as
in ``sync_loopback`` (walk-in + screening + dose: ``ceil(N / 3)`` persons).

Timed: every station runs ``SyncEngine.run_once`` until drained, all starting
at one barrier (threads in this process, real HTTP). ``ops_per_s`` = ops
pushed / wall time from the first start to the last finish (the pull-back and
the tally are in the time: conservative).

Afterwards the hub ledger is checked: ``lost`` = outbox op ids of the stations
missing from ``applied_op``; ``duplicated`` = ``(station_id, op_seq)`` pairs
that appear more than once plus dose rows beyond one per dose op.

Note: the stations' side runs in this one Python process (GIL), on the same
machine as the hub and PostgreSQL; ``stations_cpu_s`` says how much of the
machine it took.

``python -m bench hub_burst --stations 10 --ops 300``.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from bench._util import in_scratch_dir, log, r3

NAME = "hub_burst"
HELP = "M stations (50) push N ops (1,000) each at once to a PostgreSQL hub; lost/duplicated"
DEFAULT_PEOPLE = 0  # unused: see --ops
TARGETS = {"ops_per_s": 2000.0, "lost": 0, "duplicated": 0}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--stations", type=int, default=50)
    p.add_argument("--ops", type=int, default=1000, help="ops per station (1,000)")
    p.add_argument("--workers", type=int, default=2, help="hub worker processes (2)")
    p.add_argument("--sqlite", action="store_true", help="a SQLite hub instead (comparison)")
    p.add_argument(
        "--durable-pg", action="store_true", help="PostgreSQL with fsync on (production-like)"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-hub-burst-", args.keep, lambda base: _run(base, args))


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    from bench.hub_push import _tree_cpu_s
    from bench.sync_loopback import (
        build_station,
        cheap_hasher,
        drain,
        enroll,
        hub_url_for,
        load,
        start_hub,
    )
    from station.store import open_station

    cheap_hasher()
    with ExitStack() as stack:
        backend = "sqlite" if args.sqlite else "postgres"
        db_url = hub_url_for(stack, base, backend, durable=args.durable_pg)
        hub_url, proc = start_hub(stack, base, db_url, workers=args.workers)
        log(f"{backend} hub up at {hub_url} ({args.workers} workers)")
        stations = []
        op_ids: set[str] = set()
        doses = 0
        t = time.perf_counter()
        for i in range(args.stations):
            path = base / f"station-{i}"
            persons, _ops = build_station(path, f"BURST-{i:03d}", args.ops, args.seed + i)
            doses += persons
            st = open_station(path)
            stack.callback(st.close)
            enroll(st, db_url, hub_url, f"burst {i}")
            with st.read() as conn:
                op_ids |= {str(r[0]) for r in conn.execute(text("SELECT op_id FROM sync_outbox"))}
            stations.append(st)
            if (i + 1) % 10 == 0 or i + 1 == args.stations:
                log(f"{i + 1}/{args.stations} stations built")
        log(f"{len(op_ids)} ops at {args.stations} stations in {time.perf_counter() - t:.1f} s")

        results: list[dict[str, Any] | None] = [None] * len(stations)
        spans: list[tuple[float, float]] = [(0.0, 0.0)] * len(stations)
        barrier = threading.Barrier(len(stations))

        def one(i: int) -> None:
            barrier.wait()
            t0 = time.perf_counter()
            results[i] = drain(stations[i], hub_url)
            spans[i] = (t0, time.perf_counter())

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(stations))]
        hub_cpu0, own0 = _tree_cpu_s(proc.pid), time.process_time()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        hub_cpu1, own = _tree_cpu_s(proc.pid), time.process_time() - own0
        wall = max(e for _, e in spans) - min(s for s, _ in spans)

        eng = create_engine(db_url)
        try:
            with eng.connect() as c:
                ledger = {str(r[0]) for r in c.execute(text("SELECT op_id FROM applied_op"))}
                dup_seq = int(
                    c.execute(
                        text(
                            "SELECT count(*) FROM (SELECT station_id, op_seq FROM applied_op "
                            "GROUP BY station_id, op_seq HAVING count(*) > 1) d"
                        )
                    ).scalar_one()
                )
                n_doses = int(c.execute(text("SELECT count(*) FROM dose")).scalar_one())
        finally:
            eng.dispose()
    done = [r for r in results if r is not None]
    pushed = sum(r["pushed"] for r in done)
    lost = len(op_ids - ledger)
    duplicated = dup_seq + max(0, n_doses - doses)
    log(f"{pushed} ops in {wall:.1f} s: {pushed / wall:.0f} ops/s; lost {lost}, dup {duplicated}")
    result: dict[str, Any] = {
        "bench": NAME,
        "backend": backend,
        "workers": args.workers,
        "stations": args.stations,
        "ops_per_station": args.ops,
        "ops": len(op_ids),
        "ops_pushed": pushed,
        "ops_per_s": round(pushed / wall, 1),
        "lost": lost,
        "duplicated": duplicated,
        "wall_s": r3(wall),
        "station_cycle_s": {
            "min": r3(min(e - s for s, e in spans)),
            "max": r3(max(e - s for s, e in spans)),
        },
        "pending_left": sum(r["pending_left"] for r in done),
        "rejected": sum(r["rejected"] for r in done),
        "errors": sorted({e for r in done for e in r["errors"]}),
        "hub_cpu_ms_per_op": (
            r3((hub_cpu1 - hub_cpu0) * 1000 / pushed)
            if hub_cpu0 is not None and hub_cpu1 is not None and pushed
            else None
        ),
        "stations_cpu_s": r3(own),
        "dose_rows": n_doses,
        "dose_ops": doses,
        "full_size": args.stations == 50 and args.ops == 1000,
        "postgres_fsync": bool(args.durable_pg) and backend == "postgres",
        "cpus": os.cpu_count(),
        "load_avg_1m": load(),
        "targets": TARGETS,
    }
    result["pass"] = {
        "ops_per_s": result["ops_per_s"] >= TARGETS["ops_per_s"],
        "lost": lost == 0,
        "duplicated": duplicated == 0,
    }
    return result
