"""``open``: open_station() + first search() on the large station vs a raw open + count."""

from __future__ import annotations

import argparse
import gc
import json
import time
from typing import Any

from bench._util import log, percentile, r3, summary, time_ms
from bench.datagen import KEY_FILE, ensure_dataset, load_keyring
from station import keys
from station.db import open_raw
from station.search import search
from station.store import db_path, open_station

NAME = "open"
HELP = "open_station() + one search() on the cached large station vs open_raw + count(*)"
DEFAULT_PEOPLE = 300_000
TARGETS = {"open_300k_ms": 1000.0}
FIRST_QUERY = "nguyen van h"

# Statements the open path runs (Station._load_runtime_state, current_revision), timed
# one by one on a raw connection to show where the time goes. The last one is not run
# by the station: it is the unindexed form of the outbox head (a full scan of the
# outbox), kept to show what that shape costs on a big station.
DIAG_SQL = {
    "audit_head": "SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1",
    "outbox_head_hlc": "SELECT hlc FROM sync_outbox ORDER BY op_seq DESC LIMIT 1",
    "sync_state_hlc": "SELECT hlc_last FROM sync_state WHERE id = 1",
    "alembic_version": "SELECT version_num FROM alembic_version",
    "unindexed_outbox_max_hlc": "SELECT max(hlc) FROM sync_outbox",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=int, default=9, help="timed open runs (9, min. 7)")


def run(args: argparse.Namespace) -> dict[str, Any]:
    runs = max(7, args.runs)
    ds = ensure_dataset(args.people, args.seed, args.keep)
    load_keyring(ds.path / KEY_FILE)
    install_id = json.loads((ds.data_dir / "station.json").read_text(encoding="utf-8"))[
        "install_id"
    ]
    path = db_path(ds.data_dir)

    def station_open() -> tuple[float, float, int]:
        t = time.perf_counter_ns()
        st = open_station(ds.data_dir)
        t1 = time.perf_counter_ns()
        hits = search(st, FIRST_QUERY)
        t2 = time.perf_counter_ns()
        st.close()
        return (t2 - t) / 1e6, (t1 - t) / 1e6, len(hits)

    def raw_open() -> int:
        # The key comes from the keyring as open_station's does.
        conn = open_raw(path, keys.load_key(install_id))
        try:
            return int(conn.execute("SELECT count(*) FROM person").fetchone()[0])
        finally:
            conn.close()

    log("warm-up: one untimed open of each kind")
    station_open()
    raw_open()
    total_ms: list[float] = []
    open_only_ms: list[float] = []
    raw_ms: list[float] = []
    gc.collect()
    hits = 0
    for i in range(runs):
        total, open_only, hits = station_open()
        total_ms.append(total)
        open_only_ms.append(open_only)
        raw_ms.append(time_ms(raw_open)[0])
        log(f"run {i + 1}/{runs}: open+search {total:.1f} ms, raw {raw_ms[-1]:.1f} ms")

    diag: dict[str, float] = {}
    conn = open_raw(path, keys.load_key(install_id))
    try:
        for name, sql in DIAG_SQL.items():
            conn.execute(sql).fetchall()
            diag[name] = r3(
                percentile(
                    [time_ms(lambda sql=sql: conn.execute(sql).fetchall())[0] for _ in range(5)], 50
                )
            )
        outbox_rows = int(conn.execute("SELECT count(*) FROM sync_outbox").fetchone()[0])
    finally:
        conn.close()

    med = percentile(total_ms, 50)
    raw_med = percentile(raw_ms, 50)
    return {
        "bench": NAME,
        "people": ds.people,
        "seed": args.seed,
        "runs": runs,
        "open_300k_ms": r3(med),
        "open_p95_ms": r3(percentile(total_ms, 95)),
        "open_only_median_ms": r3(percentile(open_only_ms, 50)),
        "first_search_median_ms": r3(
            percentile([a - b for a, b in zip(total_ms, open_only_ms, strict=True)], 50)
        ),
        "raw_open_ms": r3(raw_med),
        "ratio_vs_raw": round(med / raw_med, 2),
        "first_search_hits": hits,
        "open_plus_search": summary(total_ms),
        "raw_open": summary(raw_ms),
        "diag_statement_median_ms": diag,
        "outbox_rows": outbox_rows,
        "db_bytes": path.stat().st_size,
        "targets": TARGETS,
        "pass": {"open_300k_ms": med <= TARGETS["open_300k_ms"]},
    }
