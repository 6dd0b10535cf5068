"""``import``: a 50,000-row pre-registration workbook, dry run + commit, vs parsing the file alone."""

from __future__ import annotations

import argparse
import os
import random
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench._util import log, r3
from bench.datagen import SITE_CODE, save_keyring
from station import demo, exchange
from station.dto import PersonInput
from station.store import init_station

NAME = "import"
HELP = "import a pre-registration .xlsx (dry run + commit) vs openpyxl's read-only parse of it"
DEFAULT_PEOPLE = 50_000
TARGETS = {"seconds_50k": 20.0}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--csv", action="store_true", help="also time the same rows as a CSV file")


def person_cells(p: PersonInput, n: int, m: exchange.ColumnMapping) -> list[object]:
    """One pre-registration list row (row number ``n``) for ``p`` in mapping ``m``'s columns."""
    values: dict[str, object] = {
        "row_no": n,
        "full_name": p.full_name,
        "birth": p.birth,
        "sex": m.encode("sex", p.sex),
        "id_type": m.encode("id_type", p.id_type),
        "id_number": p.id_number,
        "phone": p.phone,
        "province_code": p.province_code,
        "ward_code": p.ward_code,
        "address_line": p.address_line,
        "priority_group": m.encode("priority_group", p.priority_group),
    }
    # A pre-registration list has no dose columns filled: those cells stay empty.
    return [values.get(c.field) for c in m.columns]


def _parse_only(path: Path, m: exchange.ColumnMapping) -> int:
    """Baseline: what it costs just to read every cell with openpyxl (read-only mode)."""
    from openpyxl import load_workbook

    wb = load_workbook(str(path), read_only=True, data_only=True)
    try:
        return sum(1 for _ in wb[m.sheet].iter_rows(values_only=True))
    finally:
        wb.close()


def run(args: argparse.Namespace) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix="import-", dir=args.keep)) if args.keep else Path(
        tempfile.mkdtemp(prefix="tramtiem-import-bench-")
    )
    try:
        st = init_station(root / "station", SITE_CODE)
        if args.keep:
            save_keyring(root / "bench-key.json")
        actors = demo.ensure_users(st)
        m = exchange.load_mapping()
        rng = random.Random(args.seed)
        today = st.today()
        log(f"generating {args.people:,} people")
        rows = [person_cells(demo.fake_person(rng, today), n, m) for n in range(1, args.people + 1)]
        path = root / "list.xlsx"
        t = time.perf_counter()
        exchange.write_table(path, m, rows)
        write_s = time.perf_counter() - t
        log(f"wrote {path.name} ({path.stat().st_size / 1e6:.1f} MB) in {write_s:.1f}s")

        t = time.perf_counter()
        parsed = _parse_only(path, m)
        parse_s = time.perf_counter() - t
        log(f"baseline parse: {parse_s:.2f}s ({parsed:,} rows)")

        day = today + timedelta(days=1)
        t, c = time.perf_counter(), time.process_time()
        plan = exchange.dry_run(st, path, day)
        dry_s, dry_cpu = time.perf_counter() - t, time.process_time() - c
        log(f"dry run: {dry_s:.2f}s; {len(plan.rows):,} good rows, {len(plan.bad_rows)} bad")
        t, c = time.perf_counter(), time.process_time()
        res = exchange.commit_import(st, actors["supervisor"], plan)
        commit_s, commit_cpu = time.perf_counter() - t, time.process_time() - c
        log(f"commit: {commit_s:.2f}s; {res.people_added:,} people, {res.registrations_added:,} registrations")

        # The same file again must add nothing (and is timed: sites do re-import by mistake).
        t = time.perf_counter()
        again = exchange.commit_import(st, actors["supervisor"], exchange.dry_run(st, path, day))
        again_s = time.perf_counter() - t
        with st.read() as conn:
            n_people = int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())
        csv_s = None
        if args.csv:
            cpath = root / "list.csv"
            exchange.write_table(cpath, m, rows)
            t = time.perf_counter()
            exchange.dry_run(st, cpath, day + timedelta(days=1))
            csv_s = time.perf_counter() - t
        st.close()
        total = dry_s + commit_s
        figures: dict[str, Any] = {
            "bench": NAME,
            "rows": args.people,
            "seconds_50k": r3(total * 50_000 / max(1, args.people)),
            "seconds_total": r3(total),
            "dry_run_seconds": r3(dry_s),
            "commit_seconds": r3(commit_s),
            # CPU seconds of this process: on a busy machine wall time also counts waiting.
            "cpu_seconds_total": r3(dry_cpu + commit_cpu),
            "load_average_1m": r3(os.getloadavg()[0]) if hasattr(os, "getloadavg") else None,
            "baseline_openpyxl_parse_seconds": r3(parse_s),
            "ratio_to_parse": r3(total / parse_s) if parse_s else None,
            "reimport_seconds": r3(again_s),
            "reimport_added": again.registrations_added,
            "people_added": res.people_added,
            "registrations_added": res.registrations_added,
            "bad_rows": len(plan.bad_rows),
            "people_in_db": n_people,
            "write_xlsx_seconds": r3(write_s),
            "csv_dry_run_seconds": r3(csv_s) if csv_s is not None else None,
            "targets": TARGETS,
        }
        figures["pass"] = {
            "seconds_50k": figures["seconds_50k"] <= TARGETS["seconds_50k"],
            "reimport_adds_nothing": again.registrations_added == 0,
        }
        return figures
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
