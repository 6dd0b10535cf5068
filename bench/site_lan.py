"""``site_lan``: desks working through a site hub (issue 14).

Two figures, each with its baseline measured in the same run:

* **visibility with the province down** — desk A registers a walk-in; how soon does desk
  B find it? Both desks run their real ``SyncEngine`` on the site hub route on their own
  threads (a write wakes the engine; idle, a long-poll waits on the site hub). The site hub
  is the hub app in relay mode whose province address refuses connections. ``--samples``
  registrations spaced 1.0–1.6 s apart. Baseline: the same by hand, ``A.run_once()`` then
  ``B.run_once()`` through the site hub. Target p95 ≤ 1 s.
* **relay drain** — ``--people`` walk-ins (one op each) at desk D, sent through a site hub
  whose line is up: from the start of D's site-hub cycle until the province has answered
  every op (the site hub's queue empty). Baseline: the same number of walk-ins at desk C
  sent directly to the province (one ``run_once``). Target ratio ≤ 1.3×.

Everything on 127.0.0.1, province and site hubs on SQLite in this process (uvicorn threads).
``python -m bench site_lan --people 2000 --samples 50``.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench._util import in_scratch_dir, log, percentile, r3

NAME = "site_lan"
HELP = "site hub: visibility between desks with the province down (p50/p95); relay drain / direct drain"
DEFAULT_PEOPLE = 2000
TARGET_P95_S = 1.0
TARGET_RATIO = 1.3
SITE = "BENCH-LAN"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--baseline-samples", type=int, default=20)


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-site-lan-", args.keep, lambda base: _run(base, args))


@contextmanager
def _site_hub(base: Path, name: str, province_db: Any, province_url: str, relay_to: str) -> Iterator[Any]:
    from hub import relay, site_hub
    from hub.app import HubSettings, create_app
    from hub.db import Database, migrate, sqlite_url
    from hub.ingest import utc_now
    from hub.server import serve_app

    url = sqlite_url(base / f"{name}.db")
    migrate(url)
    db = Database(url)
    code = relay.new_relay_code(province_db, SITE, ttl_hours=1, now=utc_now())
    site_hub.enroll(db, province_url, code)
    site_hub.set_province_url(db, relay_to)
    link = site_hub.load_link(db)
    assert link is not None
    made: list[Any] = []

    def hook(ctx: Any) -> None:
        sh = site_hub.SiteHub(ctx.db, link, backoff_max_s=1.0)
        sh.install(ctx)
        made.append(sh)

    with serve_app(create_app(HubSettings(database_url=url, migrate_on_start=False), ctx_hook=hook)) as running:
        made[0].start()
        try:
            yield running, db, made[0]
        finally:
            made[0].stop()
            db.dispose()


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    from bench.sync_loopback import cheap_hasher
    from hub import service, site_hub
    from hub.app import HubSettings
    from hub.db import Database, migrate, sqlite_url
    from hub.ingest import utc_now
    from hub.server import run_hub
    from kernel.errors import DomainError
    from station import demo, search
    from station.services import people
    from station.store import init_station
    from sync.client import HubClient
    from sync.engine import SyncEngine, SyncSettings
    from sync.protocol import EnrollRequest

    text = _sql_text()
    cheap_hasher()
    rng = random.Random(args.seed)
    purl = sqlite_url(base / "province.db")
    migrate(purl)
    with ExitStack() as stack:
        province = stack.enter_context(run_hub(HubSettings(database_url=purl, migrate_on_start=False)))
        pdb = Database(purl)
        stack.callback(pdb.dispose)
        service.add_site(pdb, SITE, "Điểm tiêm thử", "75", now=utc_now())
        tokens: dict[str, str] = {}

        def desk(name: str, letter: str) -> Any:
            st = init_station(base / name, SITE, station_letter=letter)
            stack.callback(st.close)
            code = service.new_enrollment_code(pdb, SITE, ttl_hours=1, now=utc_now())
            with HubClient(province.url) as c:
                tokens[st.install_id] = c.enroll(EnrollRequest(code=code, station_id=st.install_id)).token
            return st

        def engine(st: Any, url: str, route: str, settings: SyncSettings | None = None) -> SyncEngine:
            token = tokens[st.install_id]
            return SyncEngine(st, lambda: HubClient(url, token), settings=settings or SyncSettings(seed=1),
                              route=route)

        a, b = desk("desk-a", "A"), desk("desk-b", "B")
        actors = demo.ensure_users(a)
        assert engine(a, province.url, "province").run_once().ok
        assert engine(b, province.url, "province").run_once().ok
        today = a.today()

        def register(st: Any, who: Any) -> str:
            for _ in range(1000):
                p = demo.fake_person(rng, today)
                try:
                    people.register_walk_in(st, who, p)
                    return str(p.id_number)
                except DomainError:  # a drawn ID number already exists: draw again
                    continue
            raise RuntimeError("no free ID number")

        # ---- visibility through a site hub, the province unreachable --------------------
        with _site_hub(base, "site-hub-down", pdb, province.url, "http://127.0.0.1:9") as (sh, shdb, hub):
            # The roster and the site's users, fetched while the line was still up.
            up = _with_url(hub, province.url)
            up.refresh_roster()
            _pull_all(up)
            settings = SyncSettings(seed=args.seed)
            engines = [engine(st, sh.url, "site_hub", settings) for st in (a, b)]
            for e in engines:
                assert e.run_once().ok

            def seen_at_b(number: str, t0: float, limit_s: float = 60.0) -> float:
                for _ in range(int(limit_s / 0.005)):
                    if search.find_by_id_number(b, number) is not None:
                        return time.perf_counter() - t0
                    time.sleep(0.005)
                raise RuntimeError("desk B never saw the registration")

            base_s = []
            for _ in range(args.baseline_samples):
                t0 = time.perf_counter()
                number = register(a, actors["volunteer"])
                assert engines[0].run_once().ok and engines[1].run_once().ok
                base_s.append(seen_at_b(number, t0, 5.0))
            log(f"baseline (manual sync at both desks): p50 {percentile(base_s, 50):.3f} s")
            for e in engines:
                e.start()
            time.sleep(2.0)
            samples = []
            try:
                for i in range(args.samples):
                    time.sleep(rng.uniform(1.0, 1.6))
                    t0 = time.perf_counter()
                    samples.append(seen_at_b(register(a, actors["volunteer"]), t0))
                    if (i + 1) % 25 == 0:
                        log(f"{i + 1} samples: p50 {percentile(samples, 50):.3f} s")
            finally:
                for e in engines:
                    e.stop(timeout=30)
            waiting_down = site_hub.waiting_ops(shdb)

        # ---- drain: relay vs direct --------------------------------------------------------
        c, d = desk("desk-c", "C"), desk("desk-d", "D")
        for st in (c, d):
            engine(st, province.url, "province").run_once()  # the site's users
        vol_c, vol_d = _actor(c), _actor(d)
        for _ in range(args.people):
            register(c, vol_c)
            register(d, vol_d)
        log(f"{args.people} walk-ins at desks C and D")
        t0 = time.perf_counter()
        assert engine(c, province.url, "province").run_once().ok
        direct_s = time.perf_counter() - t0
        with _site_hub(base, "site-hub-up", pdb, province.url, province.url) as (sh, shdb, _hub):
            t0 = time.perf_counter()
            assert engine(d, sh.url, "site_hub").run_once().ok
            for _ in range(100_000):
                if site_hub.waiting_ops(shdb) == 0:
                    break
                time.sleep(0.01)
            relay_s = time.perf_counter() - t0
        with pdb.read() as s:
            held = int(s.execute(text("SELECT count(*) FROM applied_op WHERE station_id = :s"),
                                 {"s": d.install_id}).scalar_one())
        p95 = percentile(samples, 95)
        ratio = relay_s / direct_s if direct_s > 0 else float("inf")
        return {
            "bench": NAME,
            "visibility_samples": len(samples),
            "visibility_p50_s": r3(percentile(samples, 50)),
            "visibility_p95_s": r3(p95),
            "visibility_max_s": r3(max(samples)),
            "baseline_manual_sync_p50_s": r3(percentile(base_s, 50)),
            "ops_held_by_site_hub_while_down": waiting_down,
            "drain_ops": args.people,
            "direct_drain_s": r3(direct_s),
            "relay_drain_s": r3(relay_s),
            "relay_to_direct_ratio": r3(ratio),
            "relayed_ops_at_province": held,
            "target_p95_s": TARGET_P95_S,
            "target_ratio": TARGET_RATIO,
            "pass": p95 <= TARGET_P95_S and ratio <= TARGET_RATIO,
        }


def _actor(st: Any) -> Any:
    from station import demo
    from station.services import admin

    return admin.login(st, "tinhnguyen", demo.DEMO_PASSWORD)


def _with_url(hub: Any, url: str) -> Any:
    """The site hub's tasks aimed at ``url`` once (setup while "the line was up")."""
    from dataclasses import replace

    from hub.site_hub import SiteHub

    return SiteHub(hub.db, replace(hub.link, province_url=url))


def _pull_all(hub: Any) -> None:
    for _ in range(1000):
        if hub.pull_once(0) <= 0:
            return


def _sql_text() -> Any:
    from sqlalchemy import text

    return text
