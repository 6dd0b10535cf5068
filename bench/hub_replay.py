"""The hub's CPU per pushed op, without the station: captured pushes replayed in one process.

    python bench/hub_replay.py capture [--records 10000]          # once (needs the peer's data)
    python bench/hub_replay.py replay --code /work/main --code . [--rounds 3] [--profile DIR]

``capture`` drains the peer's records (the station of ``bench peer``) through a recording
proxy in front of a real ``tramtiem-hub serve``: the station's ``/push`` requests are kept
as sent (headers, gzip body) in ``bench/out/hub_replay/``. ``replay`` runs, for each
checkout given (alternating A, B, B, A, …), a fresh SQLite hub migrated by that checkout's
own code, enrolls the captured station in process and posts the captured pushes to the
app in order through starlette's test client (the hub's middlewares, route, parsing,
``process_push``, COMMIT and the answer; not uvicorn's HTTP parsing). Figure: the
process's CPU seconds over the pushes / ops (``hub_cpu_ms_per_op``), checked: every op
answered ``applied``. The last line of stdout is one JSON object with the medians.
"""

from __future__ import annotations

import argparse
import http.client
import http.server
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "hub_replay"
HELP = "the hub's CPU per op over captured pushes, in process (see the module's doc)"
DEFAULT_PEOPLE = 0


def log(msg: str) -> None:
    print(f"[hub_replay {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- capture ---------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    target: tuple[str, int] = ("127.0.0.1", 0)
    kept: list[dict[str, Any]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _forward(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        if self.command == "POST" and self.path.endswith("/push"):
            self.kept.append({"path": self.path, "headers": headers, "body": body.hex()})
        conn = http.client.HTTPConnection(*self.target, timeout=600)
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            self.send_response(resp.status)
            for k, v in resp.getheaders():
                if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        finally:
            conn.close()

    do_GET = _forward
    do_POST = _forward


def capture(records: int) -> Path:
    """Drain the peer's ``records`` through a recording proxy; the pushes and the station id."""
    sys.path.insert(0, str(ROOT))
    from bench import peer
    from bench.sync_loopback import enroll, start_hub
    from hub.db import migrate, sqlite_url
    from station.store import open_station

    data_file = next(iter(sorted((ROOT / "bench" / "out").glob(f"peer-node-*/data/doses-{records}.jsonl"))), None)
    if data_file is None:
        data_file, _ = peer.generate(peer.harness_dir(ROOT / "bench" / "out"), records)
    OUT.mkdir(parents=True, exist_ok=True)
    base = Path(tempfile.mkdtemp(prefix="hub-replay-"))
    try:
        xdg = base / "xdg"
        peer._use_file_keyring(xdg)
        st_dir = base / "station"
        built = peer.build_station(st_dir, peer.read_records(data_file))
        log(f"station: {built}")
        with ExitStack() as stack:
            url = sqlite_url(base / "hub.db")
            migrate(url)
            hub_url, _proc = start_hub(stack, base, str(url))
            st = open_station(st_dir)
            try:
                station_id, site = st.install_id, st.site_code
                enroll(st, str(url), hub_url, "bench hub_replay")
            finally:
                st.close()
            _Recorder.target = ("127.0.0.1", int(hub_url.rsplit(":", 1)[1]))
            srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
            threading.Thread(target=srv.serve_forever, daemon=True).start()
            stack.callback(srv.shutdown)
            out = peer.run_cli_sync(st_dir, xdg, f"http://127.0.0.1:{srv.server_address[1]}")
        target = OUT / f"pushes-{records}.json"
        target.write_text(json.dumps({
            "station_id": station_id, "site": site, "ops": built["ops"], "report": out["report"],
            "pushes": _Recorder.kept,
        }), encoding="utf-8")
        log(f"{len(_Recorder.kept)} pushes kept in {target}")
        return target
    finally:
        shutil.rmtree(base, ignore_errors=True)


# ---- replay (runs inside the checkout under test) --------------------------------------


_GC: dict[str, float] = {"s": 0.0, "t0": 0.0, "n0": 0, "n1": 0, "n2": 0, "s0": 0.0, "s1": 0.0, "s2": 0.0}


def _gc_timer(phase: str, info: dict[str, int]) -> None:
    if phase == "start":
        _GC["t0"] = time.perf_counter()
    else:
        dt = time.perf_counter() - _GC["t0"]
        _GC["s"] += dt
        _GC[f"n{info['generation']}"] += 1
        _GC[f"s{info['generation']}"] = _GC.get(f"s{info['generation']}", 0.0) + dt


def _gc_mode() -> None:
    import gc

    if _gc_timer not in gc.callbacks:
        gc.callbacks.append(_gc_timer)
    mode = os.environ.get("HUB_REPLAY_GC", "")
    if mode == "off":
        gc.disable()
    elif mode == "freeze":
        gc.collect()
        gc.freeze()
    elif mode.startswith("ft"):
        gc.collect()
        gc.freeze()
        gc.set_threshold(int(mode[2:]), 10, 10)
    elif mode.startswith("t"):
        gc.set_threshold(int(mode[1:]), 10, 10)


def worker(capture_file: Path, rounds: int) -> dict[str, Any]:
    """Replay the captured pushes ``rounds`` times on fresh hubs; CPU ms per op each time."""
    from fastapi.testclient import TestClient

    from hub import service
    from hub.app import create_app
    from hub.db import migrate, sqlite_url
    from hub.ingest import utc_now
    from hub.settings import HubSettings

    cap = json.loads(capture_file.read_text(encoding="utf-8"))
    pushes = [(p["path"], p["headers"], bytes.fromhex(p["body"])) for p in cap["pushes"]]
    per_op: list[float] = []
    for _ in range(rounds):
        base = Path(tempfile.mkdtemp(prefix="hub-replay-w-"))
        try:
            url = sqlite_url(base / "hub.db")
            migrate(url)
            app = create_app(HubSettings(database_url=str(url), migrate_on_start=False))
            db = app.state.db
            service.add_site(db, cap["site"], f"Điểm tiêm {cap['site']}", "75", now=utc_now())
            code = service.new_enrollment_code(db, cap["site"], ttl_hours=1, now=utc_now())
            with TestClient(app) as client:
                import hub.app as hub_app

                settle = getattr(hub_app, "settle_heap", None)
                if settle is not None:  # what the checkout's server does once it is up
                    settle()
                got = client.post("/sync/v1/enroll", json={
                    "code": code, "station_id": cap["station_id"], "station_name": "replay"})
                got.raise_for_status()
                auth = f"Bearer {got.json()['token']}"
                ops = 0
                _gc_mode()
                cpu0 = time.process_time()
                gc0 = dict(_GC)
                for path, headers, body in pushes:
                    h = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "content-length")}
                    r = client.post(path, content=body, headers={**h, "Authorization": auth})
                    if r.status_code != 200:
                        raise RuntimeError(f"push answered {r.status_code}: {r.text[:300]}")
                    res = r.json()["results"]
                    bad = [x["status"] for x in res if x["status"] != "applied"]
                    if bad:
                        raise RuntimeError(f"not applied: {bad[:5]}")
                    ops += len(res)
                cpu = time.process_time() - cpu0
            per_op.append(cpu * 1000 / ops)
            gcd = {k: round(_GC[k] - gc0[k], 4) for k in ("s", "n0", "n1", "n2", "s0", "s1", "s2")}
            log(f"{ops} ops in {len(pushes)} pushes: {per_op[-1]:.4f} ms CPU/op; gc {gcd} of {cpu:.2f} s")
        finally:
            shutil.rmtree(base, ignore_errors=True)
    import resource

    return {"hub_cpu_ms_per_op": per_op, "ops": ops, "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}


def replay(codes: list[Path], capture_file: Path, rounds: int, per_run: int, profile: Path | None) -> dict[str, Any]:
    """Alternate the checkouts (A B B A …), one worker process per run."""
    order = [codes[(i // 2 + i) % len(codes)] if len(codes) == 2 else codes[i % len(codes)]
             for i in range(rounds * len(codes))]
    got: dict[str, list[float]] = {str(c): [] for c in codes}
    runs: list[dict[str, Any]] = []
    for i, code in enumerate(order):
        python = code / ".venv" / "bin" / "python"
        cmd = [str(python), str(Path(__file__).resolve()), "_worker", str(capture_file), str(per_run)]
        if profile is not None:
            profile.mkdir(parents=True, exist_ok=True)
            prof_out = profile / f"{i}-{code.name}.folded"
            cmd = [str(python.parent / "py-spy"), "record", "-r", "200", "-f", "raw", "-o", str(prof_out), "--", *cmd]
        env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
        proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, timeout=1800)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise SystemExit(f"replay failed in {code}: {proc.stderr[-2000:]}")
        res = json.loads(lines[-1])
        for ln in proc.stderr.splitlines():
            if ln.startswith("[hub_replay"):
                print("   " + ln, file=sys.stderr)
        load = os.getloadavg()[0]
        got[str(code)] += res["hub_cpu_ms_per_op"]
        runs.append({"code": str(code), "ms": res["hub_cpu_ms_per_op"], "max_rss_mb": res["max_rss_mb"], "load_1m": load})
        log(f"{code}: {[round(x, 4) for x in res['hub_cpu_ms_per_op']]} ms/op, max RSS {res['max_rss_mb']} MB (load {load:.2f})")
    med = {k: round(statistics.median(v), 4) for k, v in got.items()}
    out: dict[str, Any] = {"runs": runs, "median_ms_per_op": med}
    if len(codes) == 2:
        a, b = med[str(codes[0])], med[str(codes[1])]
        out["b_over_a"] = round(b / a, 3)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_worker":
        print(json.dumps(worker(Path(argv[1]), int(argv[2]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["capture", "replay"])
    p.add_argument("--records", type=int, default=10000)
    p.add_argument("--code", type=Path, action="append", default=[])
    p.add_argument("--rounds", type=int, default=3, help="runs per checkout (alternating)")
    p.add_argument("--per-run", type=int, default=1, help="replays inside one worker process")
    p.add_argument("--profile", type=Path, default=None, help="py-spy raw stacks of each run here")
    args = p.parse_args(argv)
    if args.action == "capture":
        capture(args.records)
        return 0
    cap = OUT / f"pushes-{args.records}.json"
    if not cap.exists():
        raise SystemExit(f"no capture at {cap}: run `capture` first")
    codes = [c.resolve() for c in (args.code or [ROOT])]
    print(json.dumps(replay(codes, cap, args.rounds, args.per_run, args.profile)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
