"""``ui_start``: how fast the login window appears, and memory at Reception on a big station.

Both figures are measured in fresh child processes (``python -m bench.ui_start
--child …``), so imports, Qt start-up and the page cache of earlier runs in
this process do not flatter them:

* ``start_to_login_ms``: from just before the child process is spawned until
  the login window has been shown and painted (offscreen platform). The
  station file opens in the background after that; ``start_to_login_ready_ms``
  is when the login fields are enabled (station open).
* ``rss_mb_300k``: resident memory of a child that opened the cached
  300,000-person station (the ``search`` benchmark's dataset), logged in as the
  supervisor and shows Reception with today's list and one type-ahead search.

Prints one JSON object (the last line of stdout). Standalone use:
``python -m bench.ui_start`` (same as ``python -m bench ui_start``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

NAME = "ui_start"
HELP = "process start -> login window (ms) and RSS at Reception on the 300k station (MB)"
DEFAULT_PEOPLE = 300_000
TARGETS = {"start_to_login_ms": 1500.0, "rss_mb_300k": 300.0}
ROOT = Path(__file__).resolve().parent.parent


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=int, default=5, help="child processes for the start-up figure")


def _spawn(args: list[str]) -> tuple[float, dict[str, Any]]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    t0 = time.time()
    proc = subprocess.run(
        [sys.executable, "-m", "bench.ui_start", "--child", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child failed: {proc.stderr[-2000:]}")
    last = [line for line in proc.stdout.splitlines() if line.startswith("{")][-1]
    return t0, json.loads(last)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench._util import log
    from bench.datagen import KEY_FILE, ensure_dataset

    ds = ensure_dataset(args.people, args.seed, args.keep)
    key_file = str(ds.path / KEY_FILE)
    starts: list[float] = []
    readies: list[float] = []
    _spawn(["start", str(ds.data_dir), key_file])  # warm the OS file cache once
    for i in range(max(1, args.runs)):
        t0, out = _spawn(["start", str(ds.data_dir), key_file])
        starts.append((out["shown_at"] - t0) * 1000)
        readies.append((out["ready_at"] - t0) * 1000)
        log(f"run {i + 1}: login shown {starts[-1]:.0f} ms, ready {readies[-1]:.0f} ms")
    _t0, mem = _spawn(["rss", str(ds.data_dir), key_file])
    log(f"RSS at Reception: {mem['rss_mb']:.1f} MB (peak {mem['peak_mb']:.1f} MB)")
    start_ms = statistics.median(starts)
    result = {
        "bench": NAME,
        "people": ds.people,
        "runs": len(starts),
        "start_to_login_ms": round(start_ms, 1),
        "start_to_login_ready_ms": round(statistics.median(readies), 1),
        "start_to_login_all_ms": [round(x, 1) for x in starts],
        "rss_mb_300k": round(mem["rss_mb"], 1),
        "rss_peak_mb_300k": round(mem["peak_mb"], 1),
        "baseline_python_qt_rss_mb": round(mem["baseline_mb"], 1),
        "today_rows": mem["today_rows"],
        "search_hits": mem["search_hits"],
        "targets": TARGETS,
    }
    result["pass"] = {k: result[k] <= v for k, v in TARGETS.items()}
    return result


# ---- children ---------------------------------------------------------------------------


def _rss_mb() -> tuple[float, float]:
    fields: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                fields[line.split(":")[0]] = int(line.split()[1]) / 1024
    return fields.get("VmRSS", 0.0), fields.get("VmHWM", 0.0)


def _child(mode: str, data_dir: str, key_file: str) -> None:
    from PySide6.QtWidgets import QApplication

    baseline_mb = _rss_mb()[0]
    from bench._util import memory_keyring
    from bench.datagen import load_keyring

    memory_keyring()
    load_keyring(Path(key_file))
    from ui.app import StationApp

    qapp = QApplication([sys.argv[0]])
    app = StationApp(qapp, Path(data_dir))
    app.start()
    qapp.processEvents()  # the first paint of the login window
    shown_at = time.time()

    def wait(pred: Any, timeout: float = 120.0) -> None:
        end = time.monotonic() + timeout
        while not pred():
            qapp.processEvents()
            if time.monotonic() > end:
                raise TimeoutError(mode)
            time.sleep(0.002)

    wait(app.login.panel.username.isEnabled)
    ready_at = time.time()
    out: dict[str, Any] = {"shown_at": shown_at, "ready_at": ready_at}
    if mode == "rss":
        from station.demo import DEMO_PASSWORD

        panel = app.login.panel
        panel.username.setText("giamsat")
        panel.password.setText(DEMO_PASSWORD)
        panel.submit()
        wait(lambda: app.main is not None and app.main.isVisible())
        assert app.main is not None
        rec = app.main.workspaces["reception"]
        wait(lambda: app.tasks.in_flight() == 0)
        rec.search_box.setText("nguyen van h")
        wait(lambda: rec.hits_model.rowCount() > 0)
        wait(lambda: app.tasks.in_flight() == 0)
        rss, peak = _rss_mb()
        out |= {
            "rss_mb": rss, "peak_mb": peak, "baseline_mb": baseline_mb,
            "today_rows": rec.today_model.rowCount(), "search_hits": rec.hits_model.rowCount(),
        }
    app.shutdown()
    print(json.dumps(out), flush=True)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "--child":
        _child(argv[1], argv[2], argv[3])
        return 0
    from bench.__main__ import main as bench_main

    return bench_main([NAME, *argv])


if __name__ == "__main__":
    raise SystemExit(main())
