"""The PostgreSQL push path, A against B in one run (issue 15, branch pgpush).

``python -m bench.pg_drain --a /work/main [--rounds 3] [--records 10000]``: the ``bench
peer`` station (the peer's records as 16,118 ops) drained by ``tramtiem sync --once`` to
a hub on one durable PostgreSQL cluster (fsync and synchronous_commit on, as production),
alternately a hub running the code of checkout A and of this checkout (B), each on a
fresh database migrated by its own code (A without B's migrations). The order of A and B
is swapped every round. Per run: wall (process start to exit), the engine's cycle, CPU
seconds of the hub process and of the cluster (backends) per op, statements the backends
ran per push (``pg_stat_statements``, preloaded) and the 1-minute load. Prints JSON: the
runs and the medians with B / A (the baseline is A, measured in the same run).

The station side is this checkout's for both (only the hub differs). Needs Node and npm
(the records come from the peer's generator, as ``bench peer``'s do).

``--replay`` (branch pgpush2): no station; the 17 pushes ``python -m bench.hub_replay
capture`` kept are posted as sent, by a test client in one process with the checkout's hub
(its app, middlewares, route; not uvicorn's HTTP parsing), to a fresh database of the same
durable cluster: the hub and its backend alone, so the hub's waits for its backend are
less hidden by the station's work. Per run: wall and CPU of that process, the backends'.

``--replay --waits`` (branch pg9): before the timed rounds, one replay per checkout with
libpq's trace on every connection of its hub (opened after the enrollment): the round
trips the hub waited for per push (a client ``Sync`` or simple ``Query`` ends one; a
COPY's end is one more), and the statements that open them, most frequent first. The
trace slows the hub: that replay is not timed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import peer


def _hub(stack: ExitStack, base: Path, root: Path, db_url: str) -> tuple[str, subprocess.Popen[bytes], Path]:
    """``hub.cli serve`` of checkout ``root`` (its code on PYTHONPATH, this interpreter)."""
    from bench._util import stop_on_exit
    from bench.hub_push import _free_port, _wait_healthy

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log_path = base / f"hub-{port}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by the stack
    stack.callback(log.close)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1", "--database-url", db_url],
        stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ, PYTHONPATH=str(root)), cwd=root,
    )

    stop_on_exit(stack, proc)
    _wait_healthy(url, proc)
    return url, proc, log_path


def _database(cl: Any, root: Path) -> str:
    """A new database migrated by checkout ``root``'s own migrations."""
    import psycopg

    name = f"drain_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"host=127.0.0.1 port={cl.port} user=postgres dbname=postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:{cl.port}/{name}"
    subprocess.run(
        [sys.executable, "-c", "import sys; from hub.db import migrate; migrate(sys.argv[1])", url],
        check=True, env=dict(os.environ, PYTHONPATH=str(root)), cwd=root, timeout=300,
    )
    return url


def _statements(c: Any) -> dict[str, Any]:
    """The statements this database ran since the reset, and their execution time (ms)."""
    row = c.execute(
        "SELECT sum(calls), sum(total_exec_time) FROM pg_stat_statements s "
        "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database() "
        "AND query NOT LIKE '%pg_stat_statements%'"
    ).fetchone()
    top = c.execute(
        "SELECT calls, total_exec_time, rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 90) "
        "FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid "
        "WHERE d.datname = current_database() AND query NOT LIKE '%pg_stat_statements%' "
        "ORDER BY total_exec_time DESC LIMIT 12"
    ).fetchall()
    return {
        "statements": int(row[0] or 0) if row else 0,
        "exec_ms": float(row[1] or 0) if row else 0.0,
        # the costliest statements: calls, execution ms, rows, the statement's start
        "top": [[int(n), round(float(ms), 1), int(r), str(q)] for n, ms, r, q in top],
    }


def one_run(base: Path, src: Path, xdg: Path, cl: Any, root: Path, tag: str) -> dict[str, Any]:
    import psycopg

    from bench.sync_loopback import enroll
    from station.store import open_station

    data = base / f"station-{tag}"
    shutil.copytree(src, data)
    try:
        with ExitStack() as stack:
            url = _database(cl, root)
            hub_url, proc, log_path = _hub(stack, base, root, url)
            st = open_station(data)
            try:
                enroll(st, url, hub_url, f"pg_drain {tag}")
            finally:
                st.close()
            dsn = f"host=127.0.0.1 port={cl.port} user=postgres dbname={url.rsplit('/', 1)[1]}"
            with psycopg.connect(dsn, autocommit=True) as c:
                c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                c.execute("SELECT pg_stat_statements_reset()")
            hub0, pg0 = peer._cpu_of(proc.pid), peer._pg_cpu(cl.root / "data")
            wait0 = sum(peer.sched_of(proc.pid).values())
            out = peer.run_cli_sync(data, xdg)
            out["hub_cpu_s"] = peer._cpu_of(proc.pid) - hub0
            out["hub_runqueue_wait_s"] = sum(peer.sched_of(proc.pid).values()) - wait0
            hub_log = log_path.read_text(errors="replace")
            out["hub_retries"] = hub_log.count("retrying a write transaction")
            out["hub_op_by_op"] = hub_log.count("applying them op by op")
            out["pg_cpu_s"] = peer._pg_cpu(cl.root / "data") - pg0
            out["load_1m"] = os.getloadavg()[0]
            with psycopg.connect(dsn, autocommit=True) as c:
                out.update(_statements(c))
                out["doses"] = int(c.execute("SELECT count(*) FROM dose").fetchone()[0])  # type: ignore[index]
            report = out.pop("report", {}) or {}
            out["pushes"] = report.get("batches") or report.get("pushes")
            return out
    finally:
        shutil.rmtree(data, ignore_errors=True)


def _body(push: dict[str, Any]) -> bytes:
    """A captured push's JSON (the station sends it gzip-compressed)."""
    import gzip

    raw = bytes.fromhex(push["body"])
    return gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw


def _trace_connections(db: Any, path: str) -> None:
    """libpq's trace of every connection the hub opens from now on, appended to ``path``."""
    import psycopg
    from sqlalchemy import event

    db.write_engine.dispose()  # the enrollment's connections are not traced

    def trace(dbapi_conn: Any, _rec: Any) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        dbapi_conn.pgconn.trace(fd)
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    for engine in {db.write_engine, db.read_engine}:
        event.listen(engine, "connect", trace)


def waits(trace: str) -> tuple[int, dict[str, int]]:
    """Round trips in a libpq trace (the client's ``Sync`` or simple ``Query`` ends one, a
    ``CopyDone`` one more), and how many start with each statement (its first 60 characters)."""
    import re

    names: dict[str, str] = {}
    group: list[str] = []
    firsts: dict[str, int] = {}
    n = 0

    def close(extra: str = "") -> None:
        nonlocal n, group
        if group or extra:
            n += 1
            key = (group[0] if group else extra)[:60]
            firsts[key] = firsts.get(key, 0) + 1
        group = []

    for line in trace.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0] != "F":
            continue
        msg, rest = parts[2].strip(), "\t".join(parts[3:]).strip()
        if msg == "Parse":
            m = re.match(r'"([^"]*)" "(.*)', rest)
            if m:
                names[m.group(1)] = sql = re.sub(r'"( \d+)+$', "", m.group(2))
                group.append(sql)
        elif msg == "Bind":
            m = re.match(r'"[^"]*" "([^"]+)"', rest)
            if m:
                group.append(names.get(m.group(1), m.group(1)))
        elif msg == "Query":
            group.append(rest.strip('"'))
            close()
        elif msg == "Sync":
            close()
        elif msg == "CopyDone":
            close("(COPY end)")
    return n, dict(sorted(firsts.items(), key=lambda kv: -kv[1]))


def replay_worker(capture: Path, db_url: str) -> dict[str, Any]:
    """In a process of checkout A or B (its hub on PYTHONPATH): post the captured pushes."""
    from fastapi.testclient import TestClient

    from hub import service
    from hub.app import create_app
    from hub.ingest import utc_now
    from hub.settings import HubSettings

    cap = json.loads(capture.read_text(encoding="utf-8"))
    app = create_app(HubSettings(database_url=db_url, migrate_on_start=False))
    db = app.state.db
    service.add_site(db, cap["site"], f"Site {cap['site']}", "75", now=utc_now())
    code = service.new_enrollment_code(db, cap["site"], ttl_hours=1, now=utc_now())
    ops = 0
    with TestClient(app) as client:
        got = client.post("/sync/v1/enroll", json={"code": code, "station_id": cap["station_id"], "station_name": "replay"})
        got.raise_for_status()
        auth = f"Bearer {got.json()['token']}"
        if os.environ.get("PG_DRAIN_TRACE"):
            _trace_connections(db, os.environ["PG_DRAIN_TRACE"])
        t0, cpu0 = time.perf_counter(), time.process_time()
        for push in cap["pushes"]:
            headers = {k: v for k, v in push["headers"].items() if k.lower() not in ("authorization", "content-length")}
            r = client.post(push["path"], content=bytes.fromhex(push["body"]), headers={**headers, "Authorization": auth})
            if r.status_code != 200 or any(x["status"] != "applied" for x in r.json()["results"]):
                raise RuntimeError(f"push answered {r.status_code}")
            ops += len(r.json()["results"])
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    db.dispose()
    return {"wall_s": wall, "cycle_s": wall, "hub_cpu_s": cpu, "ops": ops}


def replay_run(base: Path, cl: Any, root: Path, capture: Path, trace: Path | None = None) -> dict[str, Any]:
    import psycopg

    url = _database(cl, root)
    dsn = f"host=127.0.0.1 port={cl.port} user=postgres dbname={url.rsplit('/', 1)[1]}"
    with psycopg.connect(dsn, autocommit=True) as c:
        c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        c.execute("SELECT pg_stat_statements_reset()")
    pg0 = peer._pg_cpu(cl.root / "data")
    res = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "_replay", str(capture), url],
        capture_output=True, text=True, cwd=root, timeout=600, check=False,
        env=dict(os.environ, PYTHONPATH=str(root), **({"PG_DRAIN_TRACE": str(trace)} if trace else {})),
    )
    if res.returncode:
        raise RuntimeError(res.stderr[-2000:])
    out: dict[str, Any] = json.loads(res.stdout.strip().splitlines()[-1])
    out["pg_cpu_s"] = peer._pg_cpu(cl.root / "data") - pg0
    out["load_1m"] = os.getloadavg()[0]
    with psycopg.connect(dsn, autocommit=True) as c:
        out.update(_statements(c))
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "_replay":
        print(json.dumps(replay_worker(Path(sys.argv[2]), sys.argv[3])))
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", type=Path, required=True, help="the baseline checkout (its hub code)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--records", type=int, default=10_000)
    p.add_argument("--replay", action="store_true", help="post bench.hub_replay's captured pushes instead of a station's drain")
    p.add_argument("--waits", action="store_true", help="with --replay: first a traced replay per checkout, its round trips")
    args = p.parse_args()
    import psycopg

    from tests.pg import pg_cluster

    roots = {"A": args.a.resolve(), "B": peer.ROOT}
    base = Path(tempfile.mkdtemp(prefix="bench-pgdrain-"))
    xdg = base / "xdg"
    src = base / "src"
    capture = peer.ROOT / "bench" / "out" / "hub_replay" / f"pushes-{args.records}.json"
    if args.replay:
        if not capture.exists():
            raise SystemExit(f"no capture at {capture}: run `python -m bench.hub_replay capture` first")
        n_ops = sum(len(json.loads(_body(p))["ops"]) for p in json.loads(capture.read_text())["pushes"])
    else:
        peer._use_file_keyring(xdg)
        hdir = peer.harness_dir(peer.ROOT / "bench" / "out")
        peer.compile_project()
        data, _ = peer.generate(hdir, args.records)
        n_ops = peer.build_station(src, peer.read_records(data))["ops"]
    runs: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    traced: dict[str, Any] = {}
    try:
        with pg_cluster(durable=True) as cl:
            with psycopg.connect(f"host=127.0.0.1 port={cl.port} user=postgres dbname=postgres", autocommit=True) as c:
                c.execute("ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements")
            opts = f"-p {cl.port} -k {cl.root / 'sock'} -c listen_addresses=127.0.0.1 -c max_connections=200"
            cl._run(str(cl.bindir / "pg_ctl"), "-D", str(cl.root / "data"), "-o", opts,
                    "-l", str(cl.root / "log"), "-w", "restart")
            if args.replay and args.waits:
                n_pushes = len(json.loads(capture.read_text())["pushes"])
                for side in ("A", "B"):
                    trace = base / f"trace-{side}"
                    replay_run(base, cl, roots[side], capture, trace)
                    n, firsts = waits(trace.read_text(errors="replace"))
                    traced[side] = {"waits": n, "waits_per_push": round(n / n_pushes, 2), "first_statements": firsts}
                    print(json.dumps({"side": side, "traced": traced[side]}), file=sys.stderr)
                    trace.unlink()
            for r in range(args.rounds):
                for side in ("A", "B") if r % 2 == 0 else ("B", "A"):
                    if args.replay:
                        got = replay_run(base, cl, roots[side], capture)
                    else:
                        got = one_run(base, src, xdg, cl, roots[side], f"{side}{r}")
                    print(json.dumps({"side": side, "round": r, **got}), file=sys.stderr)
                    runs[side].append(got)
                    time.sleep(2)
    finally:
        shutil.rmtree(base, ignore_errors=True)

    def med(side: str, key: str) -> float:
        return statistics.median(float(x[key]) for x in runs[side])

    summary: dict[str, Any] = {}
    for side in ("A", "B") if args.rounds else ():
        summary[side] = {
            "wall_s": round(med(side, "wall_s"), 3),
            "cycle_s": round(med(side, "cycle_s"), 3),
            "hub_cpu_ms_per_op": round(1000 * med(side, "hub_cpu_s") / n_ops, 4),
            "pg_cpu_ms_per_op": round(1000 * med(side, "pg_cpu_s") / n_ops, 4),
            "statements": med(side, "statements"),
            "backend_exec_ms": round(med(side, "exec_ms"), 1),
        }
    if summary:
        summary["B_over_A"] = {k: round(summary["B"][k] / summary["A"][k], 3) for k in summary["A"] if summary["A"][k]}
    out = {"bench": "pg_drain", "ops": n_ops, "a": str(roots["A"]), "runs": runs, "medians": summary}
    if traced:
        out["waits"] = traced
    print(json.dumps(out))


if __name__ == "__main__":
    main()
