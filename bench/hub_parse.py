"""The hub's work on a push's bytes before and after ``process_push``, per op, A/B over checkouts.

    python bench/hub_parse.py --code /work/main --code . [--rounds 4] [--reps 7]

On the captured pushes of ``bench/hub_replay.py capture`` (``bench/out/hub_replay/``), each
checkout's own functions, in a worker process of its own (its ``.venv``, alternating A B B A):
the body inflated and checked as UTF-8 (what ``BodyMiddleware._read_body`` does), the body
scan (``hub.middleware._suspect_json``), ``hub.routes.push.parse_body`` (the request model
from the bytes) and the answer written and gzipped (``push_answer``; a checkout without it:
``model_dump_json`` and ``answer_response`` as its route did) for 1,000-result answers of
the captured pushes' op ids. Each stage: the minimum over ``--reps`` passes of CPU µs per op,
with the hub's garbage-collector settings (``hub.app.settle_heap``). The last line of stdout
is one JSON object: per stage the medians over the rounds per checkout, and B / A.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CAPTURE = ROOT / "bench" / "out" / "hub_replay" / "pushes-10000.json"
STAGES = ("inflate_utf8", "scan", "parse_body", "answer")


def worker(capture: Path, reps: int) -> dict[str, float]:
    """CPU µs per op of each stage, this process's checkout (``PYTHONPATH``)."""
    from hub import middleware
    from hub.app import settle_heap
    from hub.routes import push as route
    from sync.protocol import OpResult, PushRequest, PushResponse

    cap = json.loads(capture.read_text(encoding="utf-8"))
    zipped = [bytes.fromhex(p["body"]) for p in cap["pushes"]]
    bodies = [gzip.decompress(z) for z in zipped]
    reqs = [route.parse_body(PushRequest, b) for b in bodies]
    ops = sum(len(r.ops) for r in reqs)
    answers = [
        PushResponse.model_construct(
            protocol_version=1, expected_next_op_seq=r.ops[-1].op_seq + 1, hub_epoch=r.replica_epoch,
            server_time="2026-12-04T12:34:56.789Z", clock_skew_ms=-12,
            results=[
                OpResult.model_construct(op_id=o.op_id, status="applied", server_seq=i, reason=None,
                                         detail={"entity_changed": True, "no_echo": True})
                for i, o in enumerate(r.ops, 1)
            ],
        )
        for r in reqs
    ]
    del reqs

    def inflate(z: bytes) -> None:
        body = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(z, 64 << 20)
        if not body.isascii():
            body.decode("utf-8")

    push_answer = getattr(route, "push_answer", None)

    def answer(a: Any) -> None:
        if push_answer is not None:
            push_answer(a, True)
        else:  # the route before phase 10
            route.answer_response(a.model_dump_json().encode(), True, {})

    stages: dict[str, tuple[Callable[[Any], object], list[Any]]] = {
        "inflate_utf8": (inflate, zipped),
        "scan": (middleware._suspect_json, bodies),
        "parse_body": (lambda b: route.parse_body(PushRequest, b), bodies),
        "answer": (answer, answers),
    }
    settle_heap()
    best = {name: float("inf") for name in stages}
    for _ in range(reps):
        for name, (fn, items) in stages.items():
            keep = []
            cpu = time.process_time()
            for item in items:
                keep.append(fn(item))
            best[name] = min(best[name], time.process_time() - cpu)
            del keep  # freed outside the timing (the hub frees a request after its answer)
    return {name: round(sec * 1e6 / ops, 3) for name, sec in best.items()}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "_worker":
        print(json.dumps(worker(Path(argv[1]), int(argv[2]))))
        return 0
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--code", type=Path, action="append", default=[])
    p.add_argument("--rounds", type=int, default=4, help="worker runs per checkout (alternating)")
    p.add_argument("--reps", type=int, default=7, help="passes per stage in a worker (the minimum counts)")
    args = p.parse_args(argv)
    if not CAPTURE.exists():
        raise SystemExit(f"no capture at {CAPTURE}: run `python bench/hub_replay.py capture` first")
    codes = [c.resolve() for c in (args.code or [ROOT])]
    order = [codes[(i // 2 + i) % 2] if len(codes) == 2 else codes[i % len(codes)]
             for i in range(args.rounds * len(codes))]
    got: dict[str, dict[str, list[float]]] = {str(c): {s: [] for s in STAGES} for c in codes}
    for code in order:
        env = {**os.environ, "PYTHONPATH": str(code), "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [str(code / ".venv" / "bin" / "python"), str(Path(__file__).resolve()), "_worker",
               str(CAPTURE), str(args.reps)]
        proc = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise SystemExit(f"worker failed in {code}: {proc.stderr[-2000:]}")
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        for s in STAGES:
            got[str(code)][s].append(res[s])
        print(f"[hub_parse] {code}: {res} (load {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
    med = {c: {s: round(statistics.median(v), 3) for s, v in st.items()} for c, st in got.items()}
    out: dict[str, Any] = {"us_per_op_median": med, "runs": got}
    if len(codes) == 2:
        a, b = med[str(codes[0])], med[str(codes[1])]
        out["b_over_a"] = {s: round(b[s] / a[s], 3) for s in STAGES}
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
