"""``site_lan``: desks working through a site hub (issue 14).

Two figures, each with its baseline measured in the same run:

* **visibility with the province down** — desk A registers a walk-in; how soon does desk
  B find it? Both desks run their real ``SyncEngine`` on the site hub route on their own
  threads (a write wakes the engine; idle, a long-poll waits on the site hub). The site hub
  is the hub app in relay mode (in this process) whose province address refuses
  connections. ``--samples`` registrations spaced 1.0–1.6 s apart. Baseline: the same by
  hand, ``A.run_once()`` then ``B.run_once()`` through the site hub. Target p95 ≤ 1 s.
* **relay drain** — a desk's outbox of ``--ops`` ops (a campaign morning: walk-in, screening
  and dose per person, built once and copied, so every drain sends byte-identical outboxes).
  *Upstream* (the target figure): the site hub already holds the whole outbox (the desk
  pushed it while the site's line was down, through a fault proxy in this process); the
  line comes back: from then until the province has answered every op (the site hub's
  queue empty). Baseline: the same outbox sent directly to the province by the desk
  (cycles until nothing waits). Target ratio ≤ 1.3×. Also reported, *end to end*: the desk
  pushes to a site hub whose line is up, from the start of its cycles until the province
  answered every op (and when the desk was done pushing, and held the province's answers):
  the site hub applies every op itself (so the other desks see it) and forwards it, on one
  process. Every drain gets fresh hubs, each ``tramtiem-hub serve`` in its own process on
  SQLite (the province, and the site hub with ``--relay-to``), as on real machines;
  ``--rounds`` rounds, each kind going first in turn, medians compared.

Everything on 127.0.0.1. ``python -m bench site_lan`` (10,000 ops, 3 rounds, 100 samples);
``--quick``: 1,500 ops, 1 round, 10 samples.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench._util import in_scratch_dir, log, percentile, r3, stop_on_exit

NAME = "site_lan"
HELP = "site hub: visibility between desks with the province down (p50/p95); relay drain / direct drain"
DEFAULT_PEOPLE = 0  # unused: see --ops
DEFAULT_OPS = 10_000
TARGET_P95_S = 1.0
TARGET_RATIO = 1.3
SITE = "BENCH-LAN"
ROOT = Path(__file__).resolve().parent.parent


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--samples", type=int, default=100)
    p.add_argument("--baseline-samples", type=int, default=20)
    p.add_argument("--ops", type=int, default=DEFAULT_OPS, help="ops in the drained outbox (10,000)")
    p.add_argument("--rounds", type=int, default=3, help="alternated direct/relay drain rounds (3)")
    p.add_argument("--quick", action="store_true", help="1,500 ops, 1 round, 10 samples")
    p.add_argument("--skip-visibility", action="store_true", help="only the drains")


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.quick:
        args.ops, args.rounds, args.samples, args.baseline_samples = 1500, 1, 10, 5
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

    cheap_hasher()
    vis = {} if args.skip_visibility else _visibility(base, args)
    drain = _drains(base, args)
    ratio = float(drain["relay_upstream_to_direct_ratio"])
    vis_ok = args.skip_visibility or float(vis["visibility_p95_s"]) <= TARGET_P95_S
    return {
        "bench": NAME,
        **vis,
        **drain,
        "target_p95_s": TARGET_P95_S,
        "target_ratio": TARGET_RATIO,
        "cpus": os.cpu_count(),
        "load_avg_1m": r3(os.getloadavg()[0]),
        "pass": vis_ok and ratio <= TARGET_RATIO and bool(drain["all_answered"]),
    }


def _visibility(base: Path, args: argparse.Namespace) -> dict[str, Any]:
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

        return {
            "visibility_samples": len(samples),
            "visibility_p50_s": r3(percentile(samples, 50)),
            "visibility_p95_s": r3(percentile(samples, 95)),
            "visibility_max_s": r3(max(samples)),
            "baseline_manual_sync_p50_s": r3(percentile(base_s, 50)),
            "ops_held_by_site_hub_while_down": waiting_down,
        }


def _with_url(hub: Any, url: str) -> Any:
    """The site hub's tasks aimed at ``url`` once (setup while "the line was up")."""
    from dataclasses import replace

    from hub.site_hub import SiteHub

    return SiteHub(hub.db, replace(hub.link, province_url=url))


def _pull_all(hub: Any) -> None:
    for _ in range(1000):
        if hub.pull_once(0) <= 0:
            return


# ---- drain: relay vs direct, each on fresh hub processes ------------------------------------


def _drains(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Alternated rounds of the direct drain, the upstream relay drain and the end-to-end
    relay drain of the same outbox (medians)."""
    from bench.sync_loopback import build_station

    t = time.perf_counter()
    src = base / "drain-src"
    persons, ops = build_station(src, SITE, args.ops, args.seed)
    log(f"drain station: {persons} persons, {ops} ops in the outbox ({time.perf_counter() - t:.1f} s)")
    kinds = ("direct", "upstream", "through")
    got: dict[str, list[dict[str, float]]] = {k: [] for k in kinds}
    for i in range(args.rounds):
        for kind in kinds[i % 3:] + kinds[: i % 3]:  # each kind first in turn
            tag = f"{kind}-{i}"
            if kind == "direct":
                r = {"s": _direct_drain(base, src, tag), "answered": 1.0}
            elif kind == "upstream":
                r = _upstream_drain(base, src, tag)
            else:
                r = _relay_drain(base, src, tag)
            got[kind].append(r)
            log(f"round {i + 1}: {kind} {r['s']:.2f} s")

    def med(kind: str, key: str = "s") -> float:
        return statistics.median(r[key] for r in got[kind])

    d, up, th = med("direct"), med("upstream"), med("through")
    return {
        "drain_ops": ops,
        "drain_rounds": args.rounds,
        "direct_drain_s": r3(d),
        "relay_upstream_drain_s": r3(up),
        "relay_upstream_to_direct_ratio": r3(up / d if d > 0 else float("inf")),
        "relay_end_to_end_drain_s": r3(th),
        "relay_end_to_end_to_direct_ratio": r3(th / d if d > 0 else float("inf")),
        "relay_end_to_end_desk_pushed_s": r3(med("through", "desk_pushed_s")),
        "relay_end_to_end_desk_acked_s": r3(med("through", "desk_acked_s")),
        "rounds_s": {k: [r3(r["s"]) for r in v] for k, v in got.items()},
        "all_answered": all(r["answered"] == 1.0 for v in got.values() for r in v),
    }


def _hub_process(
    stack: ExitStack, base: Path, tag: str, province: tuple[str, str] | None = None,
    relay_to: str | None = None,
) -> tuple[str, str]:
    """``tramtiem-hub serve`` in its own process on a fresh SQLite file: a province hub, or
    (``province``: its URL and database URL) a site hub enrolled there and relaying to it.
    Returns (URL, database URL); stopped by the stack."""
    from bench.hub_push import _free_port, _wait_healthy
    from hub import relay, site_hub
    from hub.db import Database, migrate, sqlite_url
    from hub.ingest import utc_now

    data = base / tag
    data.mkdir(parents=True, exist_ok=True)
    url = sqlite_url(data / "hub.db")
    migrate(url)
    cmd = [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--database-url", url]
    if province is not None:
        pdb, db = Database(province[1]), Database(url)
        try:
            code = relay.new_relay_code(pdb, SITE, ttl_hours=1, now=utc_now())
            site_hub.enroll(db, province[0], code)
        finally:
            db.dispose()
            pdb.dispose()
        # Plain HTTP on loopback: the drains measure relaying, not TLS (the LAN's is measured apart).
        cmd += ["--relay-to", relay_to or province[0], "--relay-retry-max-s", "0.5", "--insecure-http"]
    port = _free_port()
    out = open(data / "hub.log", "wb")  # noqa: SIM115 - closed by the stack
    stack.callback(out.close)
    proc = subprocess.Popen([*cmd, "--port", str(port)], stdout=out, stderr=subprocess.STDOUT,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)), cwd=ROOT)

    stop_on_exit(stack, proc)
    hub_url = f"http://127.0.0.1:{port}"
    _wait_healthy(hub_url, proc)
    log(f"{tag}: {'site hub' if province else 'hub'} pid {proc.pid} at {hub_url}")
    return hub_url, url


def _province(stack: ExitStack, base: Path, tag: str, src: Path) -> tuple[Any, str, str, str]:
    """A fresh province with the site, and a copy of the drain station enrolled there:
    (station, its token, province URL, province database URL)."""
    from hub import service
    from hub.db import Database
    from hub.ingest import utc_now
    from station.store import open_station
    from sync.client import HubClient
    from sync.protocol import EnrollRequest

    purl_http, purl = _hub_process(stack, base, f"{tag}-province")
    pdb = Database(purl)
    try:
        service.add_site(pdb, SITE, "Điểm tiêm thử", "75", now=utc_now())
        code = service.new_enrollment_code(pdb, SITE, ttl_hours=1, now=utc_now())
    finally:
        pdb.dispose()
    data = base / f"{tag}-station"
    shutil.copytree(src, data)
    st = open_station(data)
    stack.callback(st.close)
    with HubClient(purl_http) as c:
        token = c.enroll(EnrollRequest(code=code, station_id=st.install_id, station_name=tag)).token
    return st, token, purl_http, purl


def _direct_drain(base: Path, src: Path, tag: str) -> float:
    """The station sends its outbox to the province itself: cycles until nothing waits."""
    from station import outbox
    from sync.client import HubClient
    from sync.engine import SyncEngine

    with ExitStack() as stack:
        st, token, url, _ = _province(stack, base, tag, src)
        engine = SyncEngine(st, lambda: HubClient(url, token))
        t0 = time.perf_counter()
        for _ in range(50):
            if engine.run_once().ok and outbox.counts(st).waiting == 0:
                break
        took = time.perf_counter() - t0
        assert outbox.counts(st).waiting == 0, "the direct drain left ops waiting"
        return took


def _relay_drain(base: Path, src: Path, tag: str) -> dict[str, float]:
    """The same outbox through a site hub whose line is up: from the start of the desk's
    site-hub cycle until the province has answered every op (the site hub's queue empty);
    also when the desk was done pushing, and when it held the province's answers."""
    from hub import site_hub
    from hub.db import Database
    from station import outbox
    from sync.client import HubClient
    from sync.engine import SyncEngine

    with ExitStack() as stack:
        st, token, purl_http, purl = _province(stack, base, tag, src)
        sh_url, sh_db_url = _hub_process(stack, base, f"{tag}-site-hub", (purl_http, purl))
        shdb = Database(sh_db_url)
        stack.callback(shdb.dispose)
        engine = SyncEngine(st, lambda: HubClient(sh_url, token), route="site_hub")
        t0 = time.perf_counter()
        for _ in range(50):
            if engine.run_once().ok and outbox.counts(st).unsent == 0:
                break
        pushed = time.perf_counter() - t0
        for _ in range(200_000):
            if site_hub.waiting_ops(shdb) == 0:
                break
            time.sleep(0.005)
        answered_s = time.perf_counter() - t0
        for _ in range(50):
            if engine.run_once().ok and outbox.counts(st).waiting == 0:
                break
        acked = time.perf_counter() - t0
        return {
            "desk_pushed_s": pushed,
            "s": answered_s,
            "desk_acked_s": acked,
            "answered": 1.0 if site_hub.waiting_ops(shdb) == 0 and outbox.counts(st).waiting == 0 else 0.0,
        }


def _upstream_drain(base: Path, src: Path, tag: str) -> dict[str, float]:
    """The site hub holds the whole outbox (the desk pushed it while the site's line was
    down); the line comes back: from then until the province has answered every op."""
    sys.path.insert(0, str(ROOT))
    from hub import site_hub
    from hub.db import Database
    from station import outbox
    from sync.client import HubClient
    from sync.engine import SyncEngine
    from tests.faults.faultproxy import FaultProxy, Faults

    with ExitStack() as stack:
        st, token, purl_http, purl = _province(stack, base, tag, src)
        line = FaultProxy("127.0.0.1", int(purl_http.rsplit(":", 1)[1]), seed=1)
        line.start()
        stack.callback(line.stop)
        sh_url, sh_db_url = _hub_process(stack, base, f"{tag}-site-hub", (purl_http, purl), line.url)
        shdb = Database(sh_db_url)
        stack.callback(shdb.dispose)
        for _ in range(3000):  # the roster, fetched while the line is up
            with shdb.read() as s:
                if s.execute(_sql("SELECT count(*) FROM station")).scalar_one():
                    break
            time.sleep(0.01)
        line.set_faults(Faults(reset_prob=1.0))
        time.sleep(1.0)
        engine = SyncEngine(st, lambda: HubClient(sh_url, token), route="site_hub")
        for _ in range(50):
            if engine.run_once().ok and outbox.counts(st).unsent == 0:
                break
        held = site_hub.waiting_ops(shdb)
        t0 = time.perf_counter()
        line.set_faults(Faults())
        for _ in range(100_000):
            if site_hub.waiting_ops(shdb) == 0:
                break
            time.sleep(0.02)
        took = time.perf_counter() - t0
        log(f"{tag}: {held} ops held by the site hub, forwarded in {took:.2f} s")
        return {"s": took, "answered": 1.0 if held >= outbox.counts(st).relay_accepted > 0
                and site_hub.waiting_ops(shdb) == 0 else 0.0}


def _sql(q: str) -> Any:
    from sqlalchemy import text

    return text(q)
