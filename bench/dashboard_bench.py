"""``dashboard``: the committee's pages over a province's volume, served from the counters.

Setup (not timed): a hub database (PostgreSQL by default, ``--backend sqlite``) bulk-
loaded, not through ingest: 300 sites in 30 areas of one province, 2 stations each
(600), ``--doses`` doses (1,000,000) spread over 60 days with their origin station
(1% voided), then the counters built by ``hub.counters.rebuild`` (the same grouped
recount ``tramtiem-hub counters rebuild`` runs) and a latest tally per station
claiming a few doses still pending on recent days. ``tramtiem-hub serve`` runs in its
own process; a committee user of the province signs in over HTTP.

Timed (``--requests`` each, 60): the whole province page (``GET /dashboard``: every
site, area and the province, the alerts, 14 days of figures, rendered HTML) and a
site's drill-down page (``GET /dashboard/site/CODE``, a random site: its stations and
their per-day figures). Baseline in the same run: one indexed count query (``SELECT
count(*) FROM dose WHERE site_code = :s AND day = :d``), and, for scale, what the
previous dashboard did on every refresh: one grouped scan of the province's doses.

Target (issue 10): p95 ≤ 300 ms for both pages. ``python -m bench dashboard --doses 200000``.
"""

from __future__ import annotations

import argparse
import random
import re
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench._util import in_scratch_dir, log, percentile, r3

NAME = "dashboard"
HELP = "province and site pages over 1,000,000 doses, 300 sites, 600 stations (p95 ≤ 300 ms)"
DEFAULT_PEOPLE = 0
TARGET_P95_MS = 300.0
PROVINCE = "75"
SITES = 300
STATIONS_PER_SITE = 2
AREAS = 30
DAYS = 60
PASSWORD = "bang-theo-doi-1"

DOSE_COLS = (
    "id", "person_id", "site_code", "vaccine_code", "lot_id", "lot_number", "dose_number", "kind",
    "administered_at", "day", "recorded_at", "vaccinator_id", "screening_id", "injection_site",
    "source", "observe_until", "observed_at", "voided", "void_reason", "voided_by", "voided_at",
    "version", "merged_from", "origin_station",
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--doses", type=int, default=1_000_000)
    p.add_argument("--requests", type=int, default=60)
    p.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-dashboard-", args.keep, lambda base: _run(base, args))


def _site(i: int) -> str:
    return f"DN-{i // 10:02d}-{i:03d}"


def _bulk(db_url: str, backend: str, n_doses: int, seed: int, today: datetime) -> list[str]:
    from sqlalchemy import text

    from hub import counters
    from hub.db import Database

    rng = random.Random(seed)
    db = Database(db_url)
    now = today.astimezone(UTC).isoformat(timespec="milliseconds")
    sites = [_site(i) for i in range(SITES)]
    stations = {s: [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(STATIONS_PER_SITE)] for s in sites}
    days = [(today.date() - timedelta(days=d)).isoformat() for d in range(DAYS)]
    try:
        with db.write() as s:
            s.execute(
                text(
                    "INSERT INTO site (code, name, province_code, created_at, area_code, area_name) "
                    "VALUES (:c, :n, :p, :t, :a, :an)"
                ),
                [
                    {"c": c, "n": f"Điểm tiêm {c}", "p": PROVINCE, "t": now,
                     "a": f"A{i % AREAS:02d}", "an": f"Khu vực {i % AREAS:02d}"}
                    for i, c in enumerate(sites)
                ],
            )
            s.execute(
                text(
                    "INSERT INTO station (id, site_code, name, token_hash, revoked, enrolled_at, "
                    "last_seen, clock_skew_ms, skew_flagged) VALUES (:i, :s, :n, :h, 0, :t, :t, 0, 0)"
                ),
                [
                    {"i": st, "s": c, "n": f"máy {k + 1}", "h": uuid.uuid4().hex + uuid.uuid4().hex, "t": now}
                    for c in sites
                    for k, st in enumerate(stations[c])
                ],
            )
        log(f"loading {n_doses:,} doses ({backend})")
        t0 = time.perf_counter()
        rows = _dose_rows(rng, sites, stations, days, n_doses)
        if backend == "postgres":
            _copy_pg(db, rows)
        else:
            with db.write() as s:
                raw = s.connection().connection.driver_connection
                marks = ", ".join("?" for _ in DOSE_COLS)
                raw.executemany(f"INSERT INTO dose ({', '.join(DOSE_COLS)}) VALUES ({marks})", rows)
        log(f"doses loaded in {time.perf_counter() - t0:.1f} s; building the counters")
        with db.write() as s:
            counters.rebuild(s)
            if backend == "postgres":
                s.execute(text("ANALYZE"))
            # Every station's latest tally: its held doses plus a few still pending lately.
            recent = days[:30]
            s.execute(
                text(
                    "UPDATE station_day SET t_entered = held_valid, t_acked = held_valid, "
                    "t_all_entered = held_all, t_all_acked = held_all WHERE day >= :d AND station_id <> ''"
                ),
                {"d": recent[-1]},
            )
            pend = [
                {"s": c, "st": st, "d": recent[0], "p": rng.randint(0, 4)}
                for c in sites
                for st in stations[c]
            ]
            s.execute(
                text(
                    "UPDATE station_day SET t_entered = t_entered + :p, t_all_entered = t_all_entered + :p, "
                    "t_pending = :p, t_all_pending = :p WHERE site_code = :s AND station_id = :st AND day = :d"
                ),
                pend,
            )
            s.execute(
                text(
                    "INSERT INTO station_tally (station_id, tally, received_at, generated_at, "
                    "oldest_pending_at, replica_epoch, outbox_pending, ops_since, mismatch, legacy) "
                    "VALUES (:st, :j, :t, :t, :o, 'e1', :n, 0, 0, 0)"
                ),
                [
                    {"st": p["st"], "j": "{}", "t": now, "o": now if p["p"] else None, "n": 3 * p["p"]}
                    for p in pend
                ],
            )
            s.execute(
                text("INSERT INTO allocation (level, code, doses, updated_at) VALUES ('site', :c, :n, :t)"),
                [{"c": c, "n": 5000, "t": now} for c in sites],
            )
        with db.read() as s:
            assert counters.verify(s) == []  # a full scan: setup only
        return sites
    finally:
        db.dispose()


def _dose_rows(
    rng: random.Random, sites: list[str], stations: dict[str, list[str]], days: list[str], n: int
) -> list[tuple[Any, ...]]:
    rows = []
    for i in range(n):
        site = sites[i % len(sites)]
        origin = stations[site][(i // len(sites)) % STATIONS_PER_SITE]
        day = days[rng.randrange(len(days))]
        at = f"{day}T09:{i % 60:02d}:00.000+07:00"
        voided = 1 if rng.random() < 0.01 else 0
        rows.append(
            (
                str(uuid.UUID(int=rng.getrandbits(128))), str(uuid.UUID(int=rng.getrandbits(128))),
                site, "PFIZER", None, "FK0891", 1 + i % 3, "primary", at, day, at, None, None,
                "left_deltoid", "site", None, None, voided, "nhập nhầm" if voided else None, None, None,
                1, None, origin,
            )
        )
    return rows


def _copy_pg(db: Any, rows: list[tuple[Any, ...]]) -> None:
    with db.write() as s:
        raw = s.connection().connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY dose ({', '.join(DOSE_COLS)}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)


def _login(client: Any, base: str) -> None:
    form = client.get(base + "/dashboard/login").text
    m = re.search(r'name="csrf" value="([^"]+)"', form)
    assert m, "no login form"
    r = client.post(base + "/dashboard/login", data={"csrf": m.group(1), "username": "tinh75", "password": PASSWORD})
    assert r.status_code == 303, r.status_code


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    import httpx
    from argon2 import PasswordHasher
    from sqlalchemy import create_engine, text

    from bench.sync_loopback import hub_url_for, start_hub
    from hub.dashboard import auth
    from hub.db import Database

    rng = random.Random(args.seed)
    today = datetime.now(UTC)
    with ExitStack() as stack:
        db_url = hub_url_for(stack, base, args.backend)
        t0 = time.perf_counter()
        sites = _bulk(db_url, args.backend, args.doses, args.seed, today)
        setup_s = time.perf_counter() - t0
        auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        db = Database(db_url)
        auth.add_user(db, "tinh75", PASSWORD, auth.parse_scope(f"province:{PROVINCE}"), now=today)
        db.dispose()
        hub_url, _proc = start_hub(stack, base, db_url)
        log(f"hub up at {hub_url} after {setup_s:.0f} s of setup")
        client = stack.enter_context(httpx.Client(timeout=120, follow_redirects=False))
        _login(client, hub_url)

        def timed(path: str) -> float:
            t = time.perf_counter()
            r = client.get(hub_url + path)
            ms = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, (path, r.status_code)
            return ms

        for _ in range(3):  # warm the hub process and the database's caches
            timed("/dashboard")
            timed(f"/dashboard/site/{rng.choice(sites)}")
        province_ms = [timed("/dashboard") for _ in range(args.requests)]
        site_ms = [timed(f"/dashboard/site/{rng.choice(sites)}") for _ in range(args.requests)]
        data_ms = [timed("/dashboard/data.json") for _ in range(max(10, args.requests // 3))]
        html = client.get(hub_url + "/dashboard").text
        assert 'id="total-given"' in html
        # Baselines: one indexed count query; the old per-refresh scan of the province's doses.
        engine = create_engine(db_url)
        stack.callback(engine.dispose)
        day = today.date().isoformat()
        with engine.connect() as conn:
            count_ms = []
            for _ in range(args.requests):
                t = time.perf_counter()
                conn.execute(
                    text("SELECT count(*) FROM dose WHERE site_code = :s AND day = :d"),
                    {"s": rng.choice(sites), "d": day},
                ).scalar_one()
                count_ms.append((time.perf_counter() - t) * 1000)
            scan_ms = []
            for _ in range(3):
                t = time.perf_counter()
                conn.execute(
                    text(
                        "SELECT site_code, day, count(*) FROM dose WHERE voided = 0 AND source = 'site' "
                        "AND site_code IN (SELECT code FROM site WHERE province_code = :p) "
                        "GROUP BY site_code, day"
                    ),
                    {"p": PROVINCE},
                ).all()
                scan_ms.append((time.perf_counter() - t) * 1000)
            rows = conn.execute(text("SELECT count(*) FROM station_day")).scalar_one()
        p95 = max(percentile(province_ms, 95), percentile(site_ms, 95))
        return {
            "bench": NAME,
            "backend": args.backend,
            "doses": args.doses,
            "sites": SITES,
            "stations": SITES * STATIONS_PER_SITE,
            "days": DAYS,
            "station_day_rows": int(rows),
            "province_p50_ms": r3(percentile(province_ms, 50)),
            "province_p95_ms": r3(percentile(province_ms, 95)),
            "site_p50_ms": r3(percentile(site_ms, 50)),
            "site_p95_ms": r3(percentile(site_ms, 95)),
            "data_json_p95_ms": r3(percentile(data_ms, 95)),
            "baseline_indexed_count_p50_ms": r3(percentile(count_ms, 50)),
            "baseline_indexed_count_p95_ms": r3(percentile(count_ms, 95)),
            "previous_dashboard_scan_ms": r3(percentile(scan_ms, 50)),
            "html_bytes_province": len(html.encode()),
            "setup_s": r3(setup_s),
            "target_p95_ms": TARGET_P95_MS,
            "pass": p95 <= TARGET_P95_MS,
        }

