"""``tally_after_outage``: the line is down 10 minutes, then up; how long until the hub's
"given" is true again?

A station of site ``BENCH-OUT`` talks to ``tramtiem-hub serve`` (own process, SQLite,
127.0.0.1) through our fault proxy (``tests/faults/faultproxy.py``). While the line is "down"
the proxy resets every connection (no answer ever reaches the station); the clerk keeps
recording doses (one every 30 s). At 10 minutes the proxy passes traffic again.

Time is simulated where the engine would sleep: the engine's real policy decides each
wait (``SyncEngine.next_delay`` after each real ``run_once``: backoff by kind of
failure, jittered, seeded), and that wait advances a virtual clock instead of the
wall clock; the cycles themselves run for real (their wall time is added). So a 10-
minute outage costs seconds, and the result is the schedule the engine really follows.

Figure: ``seconds`` from the line coming back until the hub's site summary shows the
true given count (every dose the clerk recorded), over ``--runs`` seeds (p50, max).
Baseline in the same run: the same with the backoff of the previous release (one cap,
300 s, for every failure). Also reported: probes per hour while the line is down (each
probe is one ``GET /health``), and the bytes of one answered probe through the proxy.

Target (issue 10): ≤ 60 s. ``python -m bench tally_after_outage --runs 5``.
"""

from __future__ import annotations

import argparse
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench._util import adult_of_known_age, in_scratch_dir, log, percentile, r3, screen_eligible

NAME = "tally_after_outage"
HELP = "line down 10 min then up: seconds until the hub shows the true given count (≤ 60 s)"
DEFAULT_PEOPLE = 0
SITE = "BENCH-OUT"
TARGET_S = 60.0
DOSE_EVERY_S = 30.0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=int, default=20, help="seeds per policy")
    p.add_argument("--outage-s", type=float, default=600.0)


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-outage-", args.keep, lambda base: _run(base, args))


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    from urllib.parse import urlsplit

    from bench.hub_push import _campaign_morning
    from bench.sync_loopback import cheap_hasher, enroll, hub_url_for, start_hub
    from hub import service
    from hub.db import Database
    from station import demo
    from station.store import init_station
    from sync import cli as sync_cli
    from sync.client import HubClient
    from sync.engine import SyncEngine, SyncSettings
    from tests.faults.faultproxy import FaultProxy, Faults

    cheap_hasher()
    with ExitStack() as stack:
        db_url = hub_url_for(stack, base, "sqlite")
        hub_url, _proc = start_hub(stack, base, db_url)
        hub = urlsplit(hub_url)
        proxy = FaultProxy(hub.hostname or "127.0.0.1", int(hub.port or 0), seed=args.seed)
        proxy.start()
        stack.callback(proxy.stop)
        db = Database(db_url)
        stack.callback(db.dispose)
        st = init_station(base / "station", SITE)
        stack.callback(st.close)
        enroll(st, db_url, hub_url, "station")
        _campaign_morning(st, 3, args.seed)  # users, lots, three doses before the outage
        actors = demo.ensure_users(st)
        lot_id = _lot(st)
        token = sync_cli.load_token(st.install_id)

        def factory() -> HubClient:
            return HubClient(proxy.url, token, connect_timeout_s=5.0, read_timeout_s=30.0)

        assert SyncEngine(st, factory).run_once().ok
        people_made = [0]

        def record_dose() -> None:
            import random

            from kernel.errors import DomainError
            from station.dto import DoseInput
            from station.services import clinical, people

            rng = random.Random(args.seed * 100_000 + people_made[0])
            for _ in range(10_000):  # bounded: most draws are adults with a new ID number
                people_made[0] += 1
                drawn = demo.fake_person(rng, st.today())
                if not adult_of_known_age(drawn):
                    continue  # no dose may stop for a confirmation
                try:
                    res = people.register_walk_in(st, actors["volunteer"], drawn)
                    break
                except DomainError:
                    continue
            else:
                raise RuntimeError("no fake person could be registered")
            screen_eligible(st, actors["screener"], res.person.id)
            clinical.record_dose(st, actors["clerk"], DoseInput(res.person.id, lot_id))

        def true_given() -> int:
            with st.read() as conn:
                from sqlalchemy import text

                return int(
                    conn.execute(
                        text("SELECT count(*) FROM dose WHERE voided = 0 AND source = 'site'")
                    ).scalar_one()
                )

        def one_run(settings: SyncSettings) -> tuple[float, int]:
            engine = SyncEngine(st, factory, settings=settings)
            proxy.set_faults(Faults(reset_prob=1.0))  # the line goes down
            vt, next_dose, probes = 0.0, 0.0, 0
            for _ in range(10_000):
                if vt >= args.outage_s and proxy.faults.reset_prob:
                    proxy.set_faults(Faults())  # the line is back
                while next_dose <= vt and next_dose < args.outage_s:
                    record_dose()
                    next_dose += DOSE_EVERY_S
                t0 = time.perf_counter()
                report = engine.run_once()
                vt += time.perf_counter() - t0
                if vt < args.outage_s:
                    probes += 1
                if report.tally_sent and service.site_summary(db, SITE).given == true_given():
                    return vt - args.outage_s, probes
                vt += engine.next_delay(report)
            raise RuntimeError("the count never came right")

        results: dict[str, list[float]] = {"now": [], "before": []}
        probes_h: list[float] = []
        for run_i in range(args.runs):
            seed = args.seed + run_i
            secs, probes = one_run(SyncSettings(seed=seed))
            results["now"].append(secs)
            probes_h.append(probes * 3600.0 / args.outage_s)
            old = SyncSettings(seed=seed, offline_probe_max_s=300.0, server_error_max_s=300.0)
            results["before"].append(one_run(old)[0])
            log(f"run {run_i + 1}: {secs:.1f} s (previous backoff: {results['before'][-1]:.1f} s)")
        # One answered probe, measured on the wire through the proxy.
        before = proxy.stats_snapshot()
        with HubClient(proxy.url, keep_alive=False) as c:
            c.health()
        after = proxy.stats_snapshot()
        probe_bytes = (after["bytes_up"] - before["bytes_up"]) + (after["bytes_down"] - before["bytes_down"])
        worst = max(results["now"])
        return {
            "bench": NAME,
            "outage_s": args.outage_s,
            "runs": args.runs,
            "seconds": r3(percentile(results["now"], 50)),
            "seconds_p50": r3(percentile(results["now"], 50)),
            "seconds_max": r3(worst),
            "baseline_previous_backoff_seconds_p50": r3(percentile(results["before"], 50)),
            "baseline_previous_backoff_seconds_max": r3(max(results["before"])),
            "probes_per_hour_while_down": r3(percentile(probes_h, 50)),
            "bytes_per_answered_probe": probe_bytes,
            "bytes_per_hour_if_every_probe_answered": int(percentile(probes_h, 50) * probe_bytes),
            "doses_recorded_during_outage": int(args.outage_s // DOSE_EVERY_S),
            "target_s": TARGET_S,
            "pass": worst <= TARGET_S,
        }


def _lot(st: Any) -> str:
    from station.services import admin

    return str(admin.list_lots(st)[0].id)
