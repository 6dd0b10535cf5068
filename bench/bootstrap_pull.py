"""``bootstrap_pull``: a new station pulls a site holding 50,000 pre-registrations.

Setup (not timed): a SQLite hub (``--postgres`` for PostgreSQL) in its own
process; a CSV pre-registration list of ``--rows`` people (demo.fake_person),
imported at the hub for site ``BOOT-000`` for tomorrow through the hub's own
importer (hub/importer.py ``dry_run`` + ``commit``: one hub-origin
``register_person`` op per row); a NEW empty station enrolled at that site.

Timed: ``SyncEngine.run_once`` until nothing is left to pull (the station has
nothing to push). ``seconds``; ``seconds_scaled_to_50k`` when ``--rows`` is
smaller. Baseline in the same run: the same number of pull pages fetched
raw with ``HubClient.pull`` (HTTP + hub query + JSON decode, no station apply).

``python -m bench bootstrap_pull --rows 10000``.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench._util import in_scratch_dir, log, r3

NAME = "bootstrap_pull"
HELP = "a new station pulls a site with 50,000 pre-registrations from the hub"
DEFAULT_PEOPLE = 0  # unused: see --rows
TARGETS = {"seconds": 20.0}
SITE = "BOOT-000"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--rows", type=int, default=50_000, help="pre-registrations (50,000)")
    p.add_argument("--postgres", action="store_true", help="a PostgreSQL hub instead of SQLite")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-bootstrap-", args.keep, lambda base: _run(base, args))


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    from bench.import_bench import person_cells
    from bench.sync_loopback import (
        add_site,
        cheap_hasher,
        drain,
        enroll,
        hub_url_for,
        load,
        start_hub,
    )
    from hub import importer
    from hub.db import Database
    from station import demo, exchange
    from station.store import init_station
    from sync import cli as sync_cli
    from sync.client import HubClient
    from sync.engine import SyncSettings

    cheap_hasher()
    with ExitStack() as stack:
        backend = "postgres" if args.postgres else "sqlite"
        db_url = hub_url_for(stack, base, backend)
        add_site(db_url, SITE)
        st = init_station(base / "station", SITE)
        stack.callback(st.close)
        m = exchange.load_mapping()
        rng = random.Random(args.seed)
        day = st.today() + timedelta(days=1)
        rows = [person_cells(demo.fake_person(rng, st.today()), n, m) for n in range(1, args.rows + 1)]
        path = base / "list.csv"
        exchange.write_table(path, m, rows)
        t = time.perf_counter()
        db = Database(db_url)
        try:
            plan = importer.dry_run(db, SITE, path, day, m)
            imp = importer.commit(db, SITE, plan)
        finally:
            db.dispose()
        import_s = time.perf_counter() - t
        log(f"hub import: {imp.registrations_added} registrations in {import_s:.1f} s")
        hub_url, _proc = start_hub(stack, base, db_url)
        enroll(st, db_url, hub_url, "bootstrap")
        res = drain(st, hub_url)
        log(f"pulled {res['pulled']} changes in {res['pull_pages']} pages, {res['seconds']:.2f} s")
        with st.read() as conn:
            n_people = int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())
            n_regs = int(conn.execute(text("SELECT count(*) FROM registration")).scalar_one())
        # Baseline: the same pages fetched raw (no station-side apply).
        client = HubClient(hub_url, sync_cli.load_token(st.install_id))
        stack.callback(client.close)
        limit = SyncSettings().pull_limit  # the engine's page size: the same pages
        t, cursor, pages, changes = time.perf_counter(), 0, 0, 0
        while True:
            page = client.pull(cursor, limit)
            pages += 1
            changes += len(page.changes)
            if not page.changes or cursor == page.next_cursor:
                break
            cursor = page.next_cursor
            if not getattr(page, "has_more", True):
                break
        raw_s = time.perf_counter() - t
    secs = res["seconds"]
    result: dict[str, Any] = {
        "bench": NAME,
        "backend": backend,
        "rows": args.rows,
        "seconds": r3(secs),
        "seconds_scaled_to_50k": r3(secs * 50_000 / max(1, args.rows)),
        "changes_pulled": res["pulled"],
        "pull_pages": res["pull_pages"],
        "people_at_station": n_people,
        "registrations_at_station": n_regs,
        "baseline_raw_pull_seconds": r3(raw_s),
        "baseline_raw_pull_pages": pages,
        "baseline_raw_changes": changes,
        "hub_import_seconds": r3(import_s),
        "cpus": os.cpu_count(),
        "load_avg_1m": load(),
        "targets": TARGETS,
    }
    complete = n_regs >= imp.registrations_added and res["pending_left"] == 0
    result["pass"] = {
        "complete": complete,
        "seconds": complete and secs * 50_000 / max(1, args.rows) <= TARGETS["seconds"],
    }
    return result
