"""``peer``: our engine and PouchDB side by side, on the same records, in one run.

The peer is the harness of ``shared/peer-pouchdb`` (vendored in ``bench/peer/``:
``gen.js``, ``server.js``, ``slowlink.js`` and the lock file, unchanged; ``push.js``
and ``link.js`` are ours): a local PouchDB 9 (LevelDB) pushed one-shot to
express-pouchdb (LevelDB) on 127.0.0.1. Node and npm must be on the PATH; the
packages are installed once with ``npm ci`` into ``bench/out/peer-node-<lock>/``.

Records: ``node gen.js --n N`` (seed 1): N dose records of ``N × 0.61`` persons
(10,000 doses of 6,113 persons). The peer stores each record as one document.
Our station gets the same records as ops, written through its own unit of work:
one ``register_person`` per person (``people.add_expected``: the person as the
record has them, expected tomorrow) and one ``record_dose`` per record (a dose
given elsewhere, as ``clinical.record_past_dose`` writes it: the record's vaccine,
lot, dose number and day; the schedule rules are not re-run, the peer's series
are not all in our catalogue). The station is built once and copied per run.

Each round (``--rounds``, at least 3 by default) runs, one after the other:

- ``peer``: ``node push.js`` (one process): the records loaded into a fresh local
  PouchDB (not timed), then pushed with ``batch_size`` 100 and 500 to fresh remote
  databases; wall time of each ``replicate()``, bytes on the client's sockets;
- ``ours_sqlite``, ``ours_postgres``: a fresh copy of the station, a fresh hub
  database and ``tramtiem-hub serve`` (not timed), then ``tramtiem sync --once
  --json`` as a new process: ``wall_s`` from process start to exit (imports,
  opening SQLCipher, the keyring: all of it) and ``cycle_s``, the engine's own
  cycle (health, tally, push until empty, pull to the head). Then ``tramtiem
  sync --once`` again with nothing to send: ``noop_wall_s``. PostgreSQL runs
  with fsync on (``--no-durable-pg`` turns it off), as production does.

Slow line (``--slow-records``, default 2,000; ``--slow-rounds``, default 1: the
link dominates and runs agree to 0.2%): the same with ``slowlink.js`` in front
of both servers (``--latency-ms`` 300 each way, ``--kbps`` 256), SQLite hub;
bytes are what crossed the link (ours: counted by the link; the peer: its socket
counters, which the harness found equal to the link's byte for byte).

Result: per-run figures, min/median/max per series, and the ratios of medians
measured in this run: ours / PouchDB batch 500 (and / batch 100).

``python -m bench peer --quick`` is a smoke run (200 records, 1 round, 40 on a
20 ms line): it checks that everything works, not how fast.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench._util import log, r3

NAME = "peer"
HELP = "our engine vs PouchDB 9 on the same dose records: loopback (SQLite, PostgreSQL) and slow line"
DEFAULT_PEOPLE = 0  # unused: see --records
ROOT = Path(__file__).resolve().parent.parent
HARNESS = Path(__file__).resolve().parent / "peer"
HARNESS_FILES = ("package.json", "package-lock.json", "gen.js", "server.js", "slowlink.js", "push.js", "link.js")
SITE = "PEER-01"
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
# Acceptance of issue 15: ours / PouchDB batch 500, medians of the same run.
TARGETS = {
    "ratio_sqlite_vs_b500": 1.0,
    "ratio_postgres_vs_b500": 1.3,
    "ratio_slow_vs_b500": 0.35,
    "ratio_slow_bytes_vs_b500": 0.25,
    "noop_wall_s": 0.5,
}
# The peer's vaccine codes, as our catalogue names them (those it has; the others keep
# their own code, shortened to our 16 characters).
VACCINE_MAP = {
    "COVID19-PFZ": "PFIZER",
    "COVID19-AZ": "AZ",
    "COVID19-MOD": "MODERNA",
    "COVID19-VERO": "VEROCELL",
    "MMR": "MR",
    "DTAP-IPV-HIB-HEPB": "DTAP-IPV-HIB-HB",
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--records", type=int, default=10_000, help="dose records on loopback (10,000)")
    p.add_argument("--rounds", type=int, default=3, help="loopback rounds, each side (3)")
    p.add_argument("--slow-records", type=int, default=2_000, help="records on the slow line (2,000)")
    p.add_argument("--slow-rounds", type=int, default=1, help="slow-line rounds (1; 0 skips)")
    p.add_argument("--latency-ms", type=float, default=300.0, help="slow line: delay each way")
    p.add_argument("--kbps", type=float, default=256.0, help="slow line: kbit/s each way")
    p.add_argument("--skip-postgres", action="store_true", help="no PostgreSQL hub")
    p.add_argument("--no-durable-pg", action="store_true", help="PostgreSQL with fsync off")
    p.add_argument("--quick", action="store_true", help="smoke run: tiny sizes, 1 round")
    p.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="py-spy the station and the hub of every run into this folder (folded stacks, py-spy raw format)",
    )


# ---- the peer harness ----------------------------------------------------------------------


def node_tools() -> tuple[str, str] | None:
    """(node, npm) on the PATH, or None."""
    node, npm = shutil.which("node"), shutil.which("npm")
    return (node, npm) if node and npm else None


def harness_dir(cache_root: Path) -> Path:
    """The harness with its node_modules: ``npm ci`` once per lock file (npm registry only)."""
    tools = node_tools()
    if tools is None:
        raise RuntimeError("bench peer needs node and npm on the PATH (see bench/README.md)")
    lock = hashlib.sha256((HARNESS / "package-lock.json").read_bytes()).hexdigest()[:12]
    target = cache_root / f"peer-node-{lock}"
    target.mkdir(parents=True, exist_ok=True)
    for name in HARNESS_FILES:  # our scripts may change without the lock file changing
        shutil.copy2(HARNESS / name, target / name)
    done = target / "node_modules" / ".tramtiem-installed"
    if not done.exists():
        log(f"npm ci in {target} (once)")
        subprocess.run(
            [tools[1], "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=target, check=True, timeout=600, stdout=subprocess.DEVNULL,
        )
        done.write_text("ok\n", encoding="utf-8")
    return target


def generate(hdir: Path, n: int) -> tuple[Path, dict[str, Any]]:
    out = hdir / "data" / f"doses-{n}.jsonl"
    res = subprocess.run(
        ["node", "gen.js", "--n", str(n), "--out", str(out)],
        cwd=hdir, check=True, capture_output=True, text=True, timeout=120,
    )
    return out, json.loads(res.stdout.strip().splitlines()[-1])


def peer_round(hdir: Path, data: Path, *, latency_ms: float | None = None, kbps: float = 256) -> dict[str, Any]:
    cmd = ["node", "push.js", "--data", str(data), "--workdir", str(hdir / "data" / "work")]
    if latency_ms is not None:
        cmd += ["--latency-ms", str(latency_ms), "--kbps", str(kbps)]
    res = subprocess.run(cmd, cwd=hdir, check=True, capture_output=True, text=True, timeout=3600)
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


# ---- our station, built from the same records ----------------------------------------------


def read_records(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def build_station(path: Path, records: list[dict[str, Any]]) -> dict[str, int]:
    """A closed station at ``path`` holding the records as ops: persons, then their doses."""
    from sqlalchemy import text

    from bench.sync_loopback import cheap_hasher
    from kernel.ids import uuid7
    from station import demo
    from station.dto import PersonInput
    from station.services import people
    from station.store import init_station

    cheap_hasher()
    st = init_station(path, SITE)
    try:
        actors = demo.ensure_users(st)
        sup = actors["supervisor"]
        persons: dict[str, dict[str, Any]] = {}
        for r in records:
            persons.setdefault(r["person_id"], r)
        peer_ids = list(persons)
        ours: dict[str, str] = {}
        tomorrow = st.today() + timedelta(days=1)
        for i in range(0, len(peer_ids), 5000):
            chunk = peer_ids[i : i + 5000]
            rows = [
                PersonInput(
                    full_name=persons[p]["full_name"],
                    birth=persons[p]["date_of_birth"],
                    sex=persons[p]["sex"],
                    id_type="cccd",
                    id_number=persons[p]["national_id"],
                    phone=persons[p]["phone"],
                )
                for p in chunk
            ]
            res = people.add_expected(st, sup, rows, day=tomorrow, source="import")
            for p, r in zip(chunk, res, strict=True):
                ours[p] = r.person.id
        cols = ["id", "person_id", "site_code", "vaccine_code", "lot_id", "lot_number", "dose_number", "kind", "administered_at", "day", "recorded_at", "vaccinator_id", "screening_id", "injection_site", "source", "observe_until", "observed_at", "voided", "void_reason", "voided_by", "voided_at", "version", "volume_ml", "override_by", "override_reason"]
        not_sent = {"version", "voided", "void_reason", "voided_by", "voided_at", "observed_at"}
        sql = text(f"INSERT INTO dose ({', '.join(cols)}) VALUES ({', '.join(':' + c for c in cols)})")
        for i in range(0, len(records), 1000):
            with st.unit_of_work(sup) as uow:
                rows_: list[dict[str, Any]] = []
                for r in records[i : i + 1000]:
                    at = r["administered_at"].replace(".000Z", "Z")
                    row: dict[str, Any] = dict.fromkeys(cols)
                    row.update(
                        id=uuid7(),
                        person_id=ours[r["person_id"]],
                        site_code=SITE,
                        vaccine_code=VACCINE_MAP.get(r["vaccine_code"], r["vaccine_code"])[:16],
                        lot_number=r["lot_number"],
                        dose_number=int(r["dose_number"]),
                        kind="primary",
                        administered_at=at,
                        day=at[:10],
                        recorded_at=uow.now_iso,
                        source="history",
                        voided=0,
                        version=0,
                    )
                    uow.emit("record_dose", "dose", row["id"], {k: v for k, v in row.items() if k not in not_sent})
                    rows_.append(row)
                uow.conn.execute(sql, rows_)
        with st.read() as conn:
            ops = int(conn.execute(text("SELECT count(*) FROM sync_outbox WHERE state = 'pending'")).scalar_one())
        return {"persons": len(peer_ids), "doses": len(records), "ops": ops}
    finally:
        st.close()


# ---- one run of ours -----------------------------------------------------------------------


def _cpu_of(pid: int, *, with_children: bool = False) -> float:
    """CPU seconds (user + system) of a process from /proc (0.0 where there is no /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _pg_cpu(data_dir: Path) -> float:
    """CPU of a PostgreSQL cluster: the postmaster, its reaped children and the live ones."""
    try:
        pm = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 0.0
    total = _cpu_of(pm, with_children=True)
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pm:
                total += _cpu_of(int(d.name))
    return total


def sched_of(pid: int) -> dict[int, float]:
    """Seconds each thread of ``pid`` spent runnable but waiting for a CPU (``schedstat``'s
    run-queue wait; empty where there is no /proc). Issue 15's "2× under load": this is
    the time the machine's other work took from us, measured, not inferred."""
    out: dict[int, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for t in tids:
        try:
            fields = Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()
            out[int(t)] = int(fields[1]) / 1e9
        except (OSError, ValueError, IndexError):
            continue
    return out


def cli_env(xdg: Path) -> dict[str, str]:
    """The CLI's environment: a file keyring chosen explicitly (the bench has no OS keyring)."""
    return dict(os.environ, PYTHON_KEYRING_BACKEND=PLAINTEXT, XDG_DATA_HOME=str(xdg), PYTHONPATH=str(ROOT))


def run_cli_sync(data: Path, xdg: Path, hub: str | None = None, profile: Path | None = None) -> dict[str, Any]:
    """``tramtiem sync --once --json`` as a new process: wall from start to exit, its report."""
    cmd = [sys.executable, "-m", "ui.cli", "sync", "--once", "--json", "--data-dir", str(data)]
    if hub:
        cmd += ["--hub", hub]
    if profile is not None:
        cmd = [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200", "-f", "raw", "--nonblocking",
               "-o", str(profile), "--", *cmd]
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=cli_env(xdg), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The station's run-queue wait, per thread, read every 20 ms until it exits (a thread's
    # last reading stands for it): pipes drained by threads so a full pipe cannot block it.
    waits: dict[int, float] = {}
    outs: dict[str, str] = {}
    readers = [
        threading.Thread(target=lambda k=k, f=f: outs.__setitem__(k, f.read()), daemon=True)
        for k, f in (("out", proc.stdout), ("err", proc.stderr))
    ]
    for r in readers:
        r.start()
    deadline = time.monotonic() + 3600
    while proc.poll() is None and time.monotonic() < deadline:
        waits.update(sched_of(proc.pid))
        time.sleep(0.02)
    rc = proc.wait(timeout=60)
    wall = time.perf_counter() - t0
    for r in readers:
        r.join(60)
    after = os.times()
    res = subprocess.CompletedProcess(cmd, rc, outs.get("out", ""), outs.get("err", ""))
    if res.returncode != 0:
        raise RuntimeError(f"tramtiem sync failed ({res.returncode}): {res.stdout[-500:]} {res.stderr[-2000:]}")
    # The report is the last JSON line (py-spy, when profiling, prints its own lines).
    report = json.loads([ln for ln in res.stdout.splitlines() if ln.startswith("{")][-1])
    return {
        "wall_s": wall,
        "cycle_s": float(report["duration_s"]),
        "cpu_s": (after.children_user - before.children_user) + (after.children_system - before.children_system),
        "wait_s": sum(waits.values()) if profile is None else None,
        "report": report,
    }


class Hubs:
    """A fresh hub database and ``tramtiem-hub serve`` per run; one PostgreSQL cluster for all."""

    def __init__(self, stack: ExitStack, base: Path, durable_pg: bool, with_pg: bool) -> None:
        self.stack, self.base = stack, base
        self.cluster: Any = None
        if with_pg:
            sys.path.insert(0, str(ROOT))
            from tests.pg import pg_cluster

            self.cluster = stack.enter_context(pg_cluster(durable=durable_pg))

    def db_url(self, backend: str) -> str:
        from hub.db import migrate, sqlite_url

        url = self.cluster.create_database() if backend == "postgres" else sqlite_url(
            self.base / f"hub-{time.monotonic_ns()}.db"
        )
        migrate(url)
        return str(url)


def ours_run(
    base: Path, src: Path, xdg: Path, hubs: Hubs, backend: str, tag: str, *,
    link: tuple[Path, float, float] | None = None, profile: Path | None = None,
) -> dict[str, Any]:
    from sqlalchemy import text

    from bench.sync_loopback import enroll, start_hub
    from hub.db import Database
    from station.store import open_station

    data = base / f"station-{tag}"
    shutil.copytree(src, data)
    try:
        with ExitStack() as stack:
            db_url = hubs.db_url(backend)
            hub_url, proc = start_hub(stack, base, db_url)
            st = open_station(data)
            try:
                enroll(st, db_url, hub_url, f"bench peer {tag}")
            finally:
                st.close()
            via, link_proc = hub_url, None
            if link is not None:
                hdir, latency, kbps = link
                link_proc = subprocess.Popen(
                    ["node", "link.js", "--target", hub_url.rsplit(":", 1)[1], "--latency-ms", str(latency),
                     "--kbps", str(kbps)],
                    cwd=hdir, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                )
                stack.callback(link_proc.wait, 20)
                stack.callback(link_proc.stdin.close)  # type: ignore[union-attr]
                via = f"http://127.0.0.1:{json.loads(link_proc.stdout.readline())['port']}"  # type: ignore[union-attr]
            hub_cpu0 = _cpu_of(proc.pid)
            hub_wait0 = sum(sched_of(proc.pid).values())
            pg_dir = hubs.cluster.root / "data" if backend == "postgres" else None
            pg_cpu0 = _pg_cpu(pg_dir) if pg_dir else 0.0
            prof = profile / f"{tag}-station.folded" if profile else None
            hub_prof = None
            if profile:
                hub_prof = subprocess.Popen(
                    [str(Path(sys.executable).parent / "py-spy"), "record", "-r", "200", "-f", "raw", "--nonblocking",
                     "-p", str(proc.pid), "-o", str(profile / f"{tag}-hub.folded")],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )
                time.sleep(1.0)  # py-spy attaches
            out = run_cli_sync(data, xdg, via if link else None, prof)
            if hub_prof is not None:
                hub_prof.send_signal(2)  # SIGINT: py-spy writes its file
                hub_prof.wait(60)
            out["hub_cpu_s"] = _cpu_of(proc.pid) - hub_cpu0
            out["hub_wait_s"] = sum(sched_of(proc.pid).values()) - hub_wait0
            out["pg_cpu_s"] = (_pg_cpu(pg_dir) - pg_cpu0) if pg_dir else None
            if link_proc is not None:
                link_proc.stdin.write("stats\n")  # type: ignore[union-attr]
                link_proc.stdin.flush()  # type: ignore[union-attr]
                stats = json.loads(link_proc.stdout.readline())  # type: ignore[union-attr]
                out["bytes_up"], out["bytes_down"] = int(stats["c2s"]), int(stats["s2c"])
                out["bytes_total"] = out["bytes_up"] + out["bytes_down"]
            else:
                noop = run_cli_sync(data, xdg)
                out["noop_wall_s"], out["noop_cycle_s"] = noop["wall_s"], noop["cycle_s"]
            db = Database(db_url)
            try:
                with db.read_engine.connect() as conn:
                    out["hub_doses"] = int(conn.execute(text("SELECT count(*) FROM dose")).scalar_one())
                    out["hub_persons"] = int(conn.execute(text("SELECT count(*) FROM person")).scalar_one())
            finally:
                db.dispose()
            return out
    finally:
        shutil.rmtree(data, ignore_errors=True)


# ---- the bench -----------------------------------------------------------------------------


def stats(xs: list[float]) -> dict[str, float | None]:
    if not xs:
        return {"n": 0, "min": None, "median": None, "max": None}
    return {"n": len(xs), "min": r3(min(xs)), "median": r3(statistics.median(xs)), "max": r3(max(xs))}


def ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or not b else round(a / b, 3)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import tempfile

    if args.quick:
        args.records, args.rounds, args.slow_records = min(args.records, 200), 1, min(args.slow_records, 40)
        args.slow_rounds, args.latency_ms = min(args.slow_rounds, 1), min(args.latency_ms, 20.0)
    cache = Path(args.keep) if args.keep else ROOT / "bench" / "out"
    hdir = harness_dir(cache)
    compile_project()
    base = Path(tempfile.mkdtemp(prefix="bench-peer-", dir=args.keep))
    saved_env = {k: os.environ.get(k) for k in ("PYTHON_KEYRING_BACKEND", "XDG_DATA_HOME")}
    try:
        return _run(base, hdir, args)
    finally:
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


def compile_project() -> None:
    """Bytecode for the project, as an installed station has it (pip and the bundle ship
    .pyc files). A checkout run with PYTHONDONTWRITEBYTECODE=1, as on the project's
    machines, would otherwise compile every module at every CLI start."""
    import compileall

    for pkg in ("station", "sync", "hub", "ui"):
        compileall.compile_dir(ROOT / pkg, quiet=1)


def _use_file_keyring(xdg: Path) -> None:
    """The bench process and the CLI processes share one keyring: a file under ``xdg``."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    os.environ["XDG_DATA_HOME"] = str(xdg)
    os.environ["PYTHON_KEYRING_BACKEND"] = PLAINTEXT
    keyring.set_keyring(PlaintextKeyring())


def _run(base: Path, hdir: Path, args: argparse.Namespace) -> dict[str, Any]:
    xdg = base / "xdg"
    _use_file_keyring(xdg)
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
    load0 = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    data, gen = generate(hdir, args.records)
    records = read_records(data)
    src = base / "station-src"
    t = time.perf_counter()
    built = build_station(src, records)
    log(f"{gen['n']} records: station with {built['persons']} persons, {built['ops']} ops "
        f"in {time.perf_counter() - t:.1f} s")

    runs: list[dict[str, Any]] = []
    series: dict[str, list[dict[str, Any]]] = {"peer_b100": [], "peer_b500": [], "ours_sqlite": [], "ours_postgres": []}
    with ExitStack() as stack:
        hubs = Hubs(stack, base, durable_pg=not args.no_durable_pg, with_pg=not args.skip_postgres)
        for rnd in range(1, args.rounds + 1):
            p = peer_round(hdir, data)
            for b in ("b100", "b500"):
                s = p["steps"][b]
                series[f"peer_{b}"].append(s)
                runs.append({"round": rnd, "side": f"peer_{b}", "seconds": s["seconds"], "bytes": s["bytes_total"],
                             "requests": s["http_requests"], "client_cpu_s": s["client_cpu_s"],
                             "server_cpu_s": s["server_cpu_s"]})
            log(f"round {rnd}: peer b100 {p['steps']['b100']['seconds']:.2f} s, b500 {p['steps']['b500']['seconds']:.2f} s")
            for backend in ("sqlite", "postgres"):
                if backend == "postgres" and args.skip_postgres:
                    continue
                prof = args.profile / f"r{rnd}" if args.profile else None
                if prof:
                    prof.mkdir(exist_ok=True)
                o = ours_run(base, src, xdg, hubs, backend, f"{backend}-r{rnd}", profile=prof)
                series[f"ours_{backend}"].append(o)
                rep = o["report"]
                ok = rep["ok"] and rep["pending_left"] == 0 and rep["rejected"] == 0 and o["hub_doses"] == built["doses"]
                runs.append({"round": rnd, "side": f"ours_{backend}", "wall_s": r3(o["wall_s"]),
                             "cycle_s": r3(o["cycle_s"]), "noop_wall_s": r3(o["noop_wall_s"]),
                             "station_cpu_s": r3(o["cpu_s"]), "hub_cpu_s": r3(o["hub_cpu_s"]),
                             "station_wait_s": r3(o["wait_s"]) if o["wait_s"] is not None else None,
                             "hub_wait_s": r3(o["hub_wait_s"]),
                             "load_1m": r3(os.getloadavg()[0]) if hasattr(os, "getloadavg") else None,
                             "pg_cpu_s": r3(o["pg_cpu_s"]) if o["pg_cpu_s"] is not None else None,
                             "pushed": rep["pushed"], "batches": rep["batches"], "pulled": rep["pulled"],
                             "hub_doses": o["hub_doses"], "hub_persons": o["hub_persons"], "ok": ok})
                log(f"round {rnd}: ours {backend} wall {o['wall_s']:.2f} s, cycle {o['cycle_s']:.2f} s, "
                    f"no-op {o['noop_wall_s']:.2f} s, ok={ok}")

        slow: dict[str, Any] | None = None
        if args.slow_rounds > 0:
            sdata, _ = generate(hdir, args.slow_records)
            srecords = read_records(sdata)
            ssrc = base / "station-slow"
            sbuilt = build_station(ssrc, srecords)
            sp: dict[str, list[dict[str, Any]]] = {"peer_b100": [], "peer_b500": [], "ours": []}
            for rnd in range(1, args.slow_rounds + 1):
                p = peer_round(hdir, sdata, latency_ms=args.latency_ms, kbps=args.kbps)
                for b in ("b100", "b500"):
                    s = p["steps"][b]
                    sp[f"peer_{b}"].append(s)
                    runs.append({"round": rnd, "side": f"slow_peer_{b}", "seconds": s["seconds"],
                                 "bytes": s["bytes_total"], "requests": s["http_requests"]})
                o = ours_run(base, ssrc, xdg, hubs, "sqlite", f"slow-r{rnd}", link=(hdir, args.latency_ms, args.kbps))
                sp["ours"].append(o)
                rep = o["report"]
                ok = rep["ok"] and rep["pending_left"] == 0 and o["hub_doses"] == sbuilt["doses"]
                runs.append({"round": rnd, "side": "slow_ours", "wall_s": r3(o["wall_s"]), "cycle_s": r3(o["cycle_s"]),
                             "bytes": o["bytes_total"], "bytes_up": o["bytes_up"], "bytes_down": o["bytes_down"],
                             "batches": rep["batches"], "ok": ok})
                log(f"slow round {rnd}: peer b100 {p['steps']['b100']['seconds']:.1f} s, b500 "
                    f"{p['steps']['b500']['seconds']:.1f} s; ours {o['wall_s']:.1f} s, {o['bytes_total']} B")
            med = {k: statistics.median([x["seconds"] if "seconds" in x else x["wall_s"] for x in v]) for k, v in sp.items()}
            byt = {k: statistics.median([x["bytes_total"] for x in v]) for k, v in sp.items()}
            slow = {
                "records": len(srecords), "ops": sbuilt["ops"], "latency_ms_each_way": args.latency_ms,
                "kbps_each_way": args.kbps, "rounds": args.slow_rounds,
                "seconds": {k: stats([x.get("seconds", x.get("wall_s")) for x in v]) for k, v in sp.items()},
                "bytes_median": byt,
                "ratio_vs_b500": ratio(med["ours"], med["peer_b500"]),
                "ratio_vs_b100": ratio(med["ours"], med["peer_b100"]),
                "bytes_ratio_vs_b500": ratio(byt["ours"], byt["peer_b500"]),
                "bytes_ratio_vs_b100": ratio(byt["ours"], byt["peer_b100"]),
            }

    def med_of(name: str, key: str) -> float | None:
        xs = [float(x[key]) for x in series[name] if x.get(key) is not None]
        return statistics.median(xs) if xs else None

    b500, b100 = med_of("peer_b500", "seconds"), med_of("peer_b100", "seconds")
    sq_wall, pg_wall = med_of("ours_sqlite", "wall_s"), med_of("ours_postgres", "wall_s")
    noops = [x["noop_wall_s"] for k in ("ours_sqlite", "ours_postgres") for x in series[k]]
    ok_all = all(r.get("ok", True) for r in runs)
    n_ops = max(1, built["ops"])
    result: dict[str, Any] = {
        "bench": NAME,
        "records": gen["n"],
        "records_sha256": gen["sha256"],
        "persons": built["persons"],
        "ops": built["ops"],
        "rounds": args.rounds,
        "postgres_fsync": not args.no_durable_pg and not args.skip_postgres,
        "seconds": {
            "peer_b100": stats([x["seconds"] for x in series["peer_b100"]]),
            "peer_b500": stats([x["seconds"] for x in series["peer_b500"]]),
            "ours_sqlite_wall": stats([x["wall_s"] for x in series["ours_sqlite"]]),
            "ours_sqlite_cycle": stats([x["cycle_s"] for x in series["ours_sqlite"]]),
            "ours_postgres_wall": stats([x["wall_s"] for x in series["ours_postgres"]]),
            "ours_postgres_cycle": stats([x["cycle_s"] for x in series["ours_postgres"]]),
            "ours_noop_wall": stats(noops),
        },
        "ratios": {
            "sqlite_wall_vs_b500": ratio(sq_wall, b500),
            "sqlite_wall_vs_b100": ratio(sq_wall, b100),
            "sqlite_cycle_vs_b500": ratio(med_of("ours_sqlite", "cycle_s"), b500),
            "postgres_wall_vs_b500": ratio(pg_wall, b500),
            "postgres_wall_vs_b100": ratio(pg_wall, b100),
            "postgres_cycle_vs_b500": ratio(med_of("ours_postgres", "cycle_s"), b500),
        },
        "cpu_ms_per_op": {
            "station": r3(1000 * (med_of("ours_sqlite", "cpu_s") or 0) / n_ops),
            "hub_sqlite": r3(1000 * (med_of("ours_sqlite", "hub_cpu_s") or 0) / n_ops),
            "hub_postgres": r3(1000 * (med_of("ours_postgres", "hub_cpu_s") or 0) / n_ops),
            "postgres_backends": r3(1000 * (med_of("ours_postgres", "pg_cpu_s") or 0) / n_ops),
            "peer_b500_client_per_doc": r3(1000 * (med_of("peer_b500", "client_cpu_s") or 0) / gen["n"]),
            "peer_b500_server_per_doc": r3(1000 * (med_of("peer_b500", "server_cpu_s") or 0) / gen["n"]),
        },
        # Run-queue wait (runnable, no CPU free), medians: what the machine's other work
        # added to our wall; with the CPU seconds it accounts for the spread between runs.
        "runqueue_wait_s": {
            "station_sqlite": r3(med_of("ours_sqlite", "wait_s") or 0),
            "hub_sqlite": r3(med_of("ours_sqlite", "hub_wait_s") or 0),
            "station_postgres": r3(med_of("ours_postgres", "wait_s") or 0),
            "hub_postgres": r3(med_of("ours_postgres", "hub_wait_s") or 0),
        },
        "slow_line": slow,
        "runs": runs,
        "all_delivered": ok_all,
        "cpus": os.cpu_count(),
        "load_avg_1m_start": r3(load0) if load0 is not None else None,
        "load_avg_1m_end": r3(os.getloadavg()[0]) if hasattr(os, "getloadavg") else None,
        "quick": bool(args.quick),
        "targets": TARGETS,
    }
    result["pass"] = {
        "all_delivered": ok_all,
        "ratio_sqlite_vs_b500": (result["ratios"]["sqlite_wall_vs_b500"] or 99) <= TARGETS["ratio_sqlite_vs_b500"],
        "ratio_postgres_vs_b500": (result["ratios"]["postgres_wall_vs_b500"] or 99) <= TARGETS["ratio_postgres_vs_b500"],
        "ratio_slow_vs_b500": slow is not None and (slow["ratio_vs_b500"] or 99) <= TARGETS["ratio_slow_vs_b500"],
        "ratio_slow_bytes_vs_b500": slow is not None
        and (slow["bytes_ratio_vs_b500"] or 99) <= TARGETS["ratio_slow_bytes_vs_b500"],
        "noop_wall_s": bool(noops) and statistics.median(noops) <= TARGETS["noop_wall_s"],
    }
    return result
