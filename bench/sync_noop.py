"""``sync_noop``: ``tramtiem sync --once`` with nothing to send, as a new process (issue 15).

Setup (not timed): a station (``tramtiem init`` through the library) enrolled with a
``tramtiem-hub serve`` on 127.0.0.1 over SQLite, drained once, so every timed run is a
real cycle with nothing to send: health, tally, an empty push, one empty pull page.

Timed, alternating in one run (``--runs`` rounds, default 11), wall from process start to
exit, as ``bench peer`` measures it:

* ``python -c pass``: the interpreter's own start (the floor);
* ``python -c "import station.db"``: the station's database layer alone (the SQLCipher
  driver; SQLAlchemy's engine too before issue 15's phase 6, which made it on first use);
* ``python -c "import sqlalchemy, pydantic, sync.protocol"``: what an empty cycle no
  longer loads (phase 6: its statements on raw connections, its answers read by
  ``sync.lean``), for scale;
* ``tramtiem sync --once --json`` (``python -m ui.cli``), its CPU seconds too and the
  engine's own cycle (``duration_s`` of its report).

The key lives in a file keyring chosen with ``PYTHON_KEYRING_BACKEND`` (this machine has
no OS keyring), as in ``bench peer``. Beside it, as new processes: ``keyring_detect_s``,
keyring's automatic detection (``keyring.get_keyring()`` with nothing configured: what a
laptop paid at each start before ``station.keys.keyring_backend``), and
``keyring_named_s``, the same with the backend named (what the station now does on
Windows and macOS).

The project is byte-compiled first (as an installed station or the bundle is): a checkout
run with ``PYTHONDONTWRITEBYTECODE=1`` would otherwise compile every module at each start.

``python -m bench sync_noop --runs 15``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench._util import in_scratch_dir, log, r3

NAME = "sync_noop"
HELP = "tramtiem sync --once with nothing to send: wall from process start, against python's own start"
DEFAULT_PEOPLE = 0  # unused
TARGETS = {"noop_wall_s": 0.5}
ROOT = Path(__file__).resolve().parent.parent
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runs", type=int, default=11, help="rounds of each command (≥ 9 for a median)")
    p.add_argument("--profile", type=Path, default=None,
                   help="also record one py-spy profile (raw folded stacks) of the sync into this file")


def _env(xdg: Path, *, keyring_backend: str | None = PLAINTEXT) -> dict[str, str]:
    env = dict(os.environ, XDG_DATA_HOME=str(xdg), XDG_CONFIG_HOME=str(xdg / "config"), PYTHONPATH=str(ROOT))
    env.pop("PYTHON_KEYRING_BACKEND", None)
    if keyring_backend:
        env["PYTHON_KEYRING_BACKEND"] = keyring_backend
    return env


def _timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall seconds from spawn to exit, CPU seconds of the child, stdout)."""
    before = os.times()
    t0 = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, cwd=ROOT)
    wall = time.perf_counter() - t0
    after = os.times()
    if res.returncode != 0:
        raise RuntimeError(f"{cmd[1:4]} failed ({res.returncode}): {res.stdout[-500:]} {res.stderr[-2000:]}")
    cpu = (after.children_user - before.children_user) + (after.children_system - before.children_system)
    return wall, cpu, res.stdout


def stats(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"min": None, "median": None, "max": None}
    return {"min": r3(min(xs)), "median": r3(statistics.median(xs)), "max": r3(max(xs))}


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-sync-noop-", str(args.keep) if args.keep else None, lambda base: _run(base, args))


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    import compileall

    import keyring
    from keyrings.alt.file import PlaintextKeyring

    from bench.sync_loopback import enroll, hub_url_for, start_hub
    from station.store import init_station

    for pkg in ("kernel", "station", "sync", "ui"):
        compileall.compile_dir(ROOT / pkg, quiet=1)
    xdg = base / "xdg"
    # The bench process and the CLI processes share one keyring: a file under xdg.
    os.environ["XDG_DATA_HOME"] = str(xdg)
    os.environ["PYTHON_KEYRING_BACKEND"] = PLAINTEXT
    keyring.set_keyring(PlaintextKeyring())
    env = _env(xdg)
    data = base / "station"
    py = sys.executable
    sync_cmd = [py, "-m", "ui.cli", "sync", "--once", "--json", "--data-dir", str(data)]
    cmds = {
        "python_pass": [py, "-c", "pass"],
        "import_station_db": [py, "-c", "import station.db"],
        "import_sqlalchemy_pydantic": [py, "-c", "import sqlalchemy, pydantic, sync.protocol"],
        "sync_noop": sync_cmd,
    }
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    cpus: list[float] = []
    cycles: list[float] = []
    with ExitStack() as stack:
        db_url = hub_url_for(stack, base, "sqlite")
        hub_url, _proc = start_hub(stack, base, db_url)
        st = init_station(data, "BENCH-NOOP")
        try:
            enroll(st, db_url, hub_url, "bench noop")
        finally:
            st.close()
        # Drain what init made (the first sync also pulls the site's rows): not timed.
        first = json.loads(_timed(sync_cmd, env)[2].strip().splitlines()[-1])
        log(f"hub at {hub_url}; first sync pushed {first['pushed']}, pulled {first['pulled']}")
        for _ in range(2):  # warm the page cache and the bytecode caches
            for cmd in cmds.values():
                _timed(cmd, env)
        load_before = _load()
        for rnd in range(args.runs):
            for name, cmd in cmds.items():
                wall, cpu, out = _timed(cmd, env)
                walls[name].append(wall)
                if name == "sync_noop":
                    rep = json.loads(out.strip().splitlines()[-1])
                    if not rep["ok"] or rep["pushed"] or rep["pulled"] or rep["pending_left"]:
                        raise RuntimeError(f"not a no-op cycle: {rep}")
                    cpus.append(cpu)
                    cycles.append(float(rep["duration_s"]))
            log(f"round {rnd + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in walls.items()))
        load_after = _load()
        detect: list[float] = []
        named: list[float] = []
        for _ in range(5):
            detect.append(_timed([py, "-c", _KEYRING], _env(xdg, keyring_backend=None))[0])
            named.append(_timed([py, "-c", _KEYRING], _env(xdg, keyring_backend=NULL_KEYRING))[0])
        pass_med = statistics.median(walls["python_pass"])
        if args.profile is not None:
            spy = str(Path(py).parent / "py-spy")
            subprocess.run([spy, "record", "-r", "500", "-f", "raw", "--nonblocking", "-o", str(args.profile),
                            "--", *sync_cmd], env=env, capture_output=True, timeout=600, check=True)
            log(f"profile in {args.profile}")
    noop_med = statistics.median(walls["sync_noop"])
    return {
        "bench": NAME,
        "runs": args.runs,
        "load_1min": [load_before, load_after],
        "noop_wall_s": stats(walls["sync_noop"]),
        "noop_cpu_s": stats(cpus),
        "noop_cycle_s": stats(cycles),
        "baseline_python_pass_s": stats(walls["python_pass"]),
        "baseline_import_station_db_s": stats(walls["import_station_db"]),
        "baseline_import_sqlalchemy_pydantic_s": stats(walls["import_sqlalchemy_pydantic"]),
        "noop_above_python_s": r3(noop_med - pass_med),
        "ratio_noop_to_import_station_db": r3(noop_med / statistics.median(walls["import_station_db"])),
        "keyring_detect_s": stats(detect),
        "keyring_named_s": stats(named),
        "target_noop_wall_s": TARGETS["noop_wall_s"],
        "met": noop_med <= TARGETS["noop_wall_s"],
    }


# keyring's backend choice as a process: with nothing configured keyring detects (entry
# points, every backend module imported and asked for its priority); with the backend
# named (PYTHON_KEYRING_BACKEND, or what station.keys does on Windows and macOS) it loads one.
_KEYRING = "import keyring; keyring.get_keyring()"
NULL_KEYRING = "keyring.backends.null.Keyring"


def _load() -> float | None:
    return r3(os.getloadavg()[0]) if hasattr(os, "getloadavg") else None
