"""``record_dose``: one clinical.record_dose call vs one raw INSERT + COMMIT."""

from __future__ import annotations

import argparse
import gc
import random
import secrets
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import event

from bench._util import adult_of_known_age, log, percentile, r3, screen_eligible, summary, time_ms
from bench.datagen import SITE_CODE, add_people, save_keyring
from kernel.errors import DomainError
from kernel.ids import uuid7
from station import demo
from station.db import open_raw
from station.dto import DoseInput
from station.services import admin, clinical, people
from station.store import Station, init_station

NAME = "record_dose"
HELP = "clinical.record_dose latency vs a raw SQLCipher INSERT + COMMIT (same pragmas)"
DEFAULT_PEOPLE = 2_000
TARGETS = {"ratio": 3.0}

RAW_DDL = (
    "CREATE TABLE dose_raw (id TEXT PRIMARY KEY, person_id TEXT NOT NULL, site_code TEXT, "
    "vaccine_code TEXT, lot_id TEXT, lot_number TEXT, dose_number INTEGER, kind TEXT, "
    "administered_at TEXT, day TEXT, recorded_at TEXT, vaccinator_id TEXT, screening_id TEXT, "
    "injection_site TEXT, source TEXT, observe_until TEXT, observed_at TEXT, voided INTEGER, "
    "void_reason TEXT, voided_by TEXT, voided_at TEXT, version INTEGER)"
)
RAW_INSERT = (
    "INSERT INTO dose_raw VALUES (:id, :person_id, :site_code, :vaccine_code, :lot_id, "
    ":lot_number, :dose_number, :kind, :administered_at, :day, :recorded_at, :vaccinator_id, "
    ":screening_id, :injection_site, :source, :observe_until, :observed_at, :voided, "
    ":void_reason, :voided_by, :voided_at, :version)"
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--calls", type=int, default=300, help="timed record_dose calls (300)")
    p.add_argument("--warmup", type=int, default=20, help="untimed calls first (20)")


def _raw_row() -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%S+07:00")
    return {
        "id": uuid7(), "person_id": uuid7(), "site_code": SITE_CODE, "vaccine_code": "PFIZER",
        "lot_id": uuid7(), "lot_number": "FK0891", "dose_number": 1, "kind": "primary",
        "administered_at": now, "day": now[:10], "recorded_at": now, "vaccinator_id": uuid7(),
        "screening_id": uuid7(), "injection_site": "left_deltoid", "source": "site",
        "observe_until": now, "observed_at": None, "voided": 0, "void_reason": None,
        "voided_by": None, "voided_at": None, "version": 0,
    }  # fmt: skip


def _ready_people(st: Station, actors: dict[str, Any], k: int, seed: int) -> list[str]:
    """Register (walk-in, checked in) and screen eligible ``k`` new people."""
    rng = random.Random(seed + 17)
    today = st.today()
    out: list[str] = []
    while len(out) < k:
        drawn = demo.fake_person(rng, today)
        if not adult_of_known_age(drawn):
            continue  # the timed call must never stop for a confirmation
        try:
            res = people.register_walk_in(st, actors["clerk"], drawn)
        except DomainError:
            continue  # a drawn ID number already exists
        screen_eligible(st, actors["screener"], res.person.id)
        out.append(res.person.id)
        if len(out) % 100 == 0:
            log(f"checked in and screened {len(out)}/{k}")
    return out


def run(args: argparse.Namespace) -> dict[str, Any]:
    if args.keep:
        base = Path(args.keep) / f"record_dose-{args.people}-seed-{args.seed}-{int(time.time())}"
        base.mkdir(parents=True)
    else:
        base = Path(tempfile.mkdtemp(prefix="bench-record-dose-"))
    try:
        return _run(base, args)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log(f"kept {base}")


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    t0 = time.perf_counter()
    st = init_station(base / "station", SITE_CODE)
    save_keyring(base / "bench-key.json")
    raw = None
    try:
        actors = demo.ensure_users(st)
        demo.ensure_lots(st, actors["supervisor"], st.today())
        add_people(st, actors["supervisor"], args.people, args.seed)
        lots = [lot.id for lot in admin.list_lots(st)]
        n = args.warmup + args.calls
        pids = _ready_people(st, actors, n, args.seed)
        log(f"station ready in {time.perf_counter() - t0:.1f} s ({len(lots)} lots)")

        raw = open_raw(base / "raw.db", secrets.token_bytes(32))
        raw.execute(RAW_DDL)
        raw.execute("CREATE INDEX ix_dose_raw_person ON dose_raw (person_id)")
        mode = raw.execute("PRAGMA journal_mode").fetchone()[0]
        sync = raw.execute("PRAGMA synchronous").fetchone()[0]

        def raw_insert() -> None:
            raw.execute("BEGIN")
            raw.execute(RAW_INSERT, _raw_row())
            raw.execute("COMMIT")

        clerk = actors["clerk"]
        dose_ms: list[float] = []
        raw_ms: list[float] = []
        statements: list[str] = []

        def count(_conn: Any, _cur: Any, sql: str, *_a: Any) -> None:
            statements.append(sql)

        # Statements per call are counted during the warm-up only (no listener when timed).
        event.listen(st.engine, "before_cursor_execute", count)
        gc.collect()
        # Interleaved (dose, raw, dose, raw, ...) so both see the same machine noise.
        for i, pid in enumerate(pids):
            if i == args.warmup:
                event.remove(st.engine, "before_cursor_execute", count)
                gc.collect()
            inp = DoseInput(person_id=pid, lot_id=lots[i % len(lots)])
            d, _ = time_ms(lambda inp=inp: clinical.record_dose(st, clerk, inp))
            r, _ = time_ms(raw_insert)
            if i >= args.warmup:
                dose_ms.append(d)
                raw_ms.append(r)
            if (i + 1) % 100 == 0:
                log(f"record_dose {i + 1}/{len(pids)}")
    finally:
        if raw is not None:
            raw.close()
        st.close()

    dose_med = percentile(dose_ms, 50)
    raw_med = percentile(raw_ms, 50)
    ratio = dose_med / raw_med
    return {
        "bench": NAME,
        "people": args.people,
        "seed": args.seed,
        "calls": len(dose_ms),
        "record_dose_median_ms": r3(dose_med),
        "record_dose_p95_ms": r3(percentile(dose_ms, 95)),
        "raw_insert_median_ms": r3(raw_med),
        "raw_insert_p95_ms": r3(percentile(raw_ms, 95)),
        "ratio": round(ratio, 2),
        "excess_median_ms": r3(dose_med - raw_med),
        # Counts only statements issued through SQLAlchemy; the hot path uses the raw
        # DB-API connection of the same transaction, which this listener does not see.
        "sqlalchemy_statements_per_call": round(len(statements) / max(1, args.warmup), 1),
        "record_dose": summary(dose_ms),
        "raw_insert": summary(raw_ms),
        "raw_pragmas": {"journal_mode": mode, "synchronous": sync},
        "targets": TARGETS,
        "pass": {"ratio": ratio <= TARGETS["ratio"]},
    }
