"""Run benchmarks on two checkouts of the project, interleaved, and compare them.

    python scripts/bench_ab.py --a ../before --b . --rounds 2 \
        sync_loopback hub_burst bootstrap_pull hub_push

Each checkout needs its own `.venv` (`./dev setup`). The runs alternate A, B, B, A, A, B...
so that a change in the machine's load falls on both sides alike; every run's JSON line is kept
(`--out FILE`, JSON lines) and the last line of stdout is one JSON object: per benchmark and
figure, the median of A, the median of B and B/A. Progress goes to stderr.
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

#: The figures that say how fast a benchmark was (lower is better unless named in HIGHER).
PRIMARY = {
    "sync_loopback": ("seconds_sqlite_hub", "seconds_postgres_hub"),
    "hub_burst": ("ops_per_s",),
    "bootstrap_pull": ("seconds",),
    "hub_push": ("hub_cpu_ms_per_op", "stations_cpu_ms_per_op", "wall_s"),
}
HIGHER = {"ops_per_s"}


def run_once(checkout: Path, bench: str, extra: list[str], timeout: float) -> dict[str, object]:
    python = checkout / ".venv" / "bin" / "python"
    started = time.monotonic()
    proc = subprocess.run(
        [str(python), "-m", "bench", bench, *extra],
        cwd=checkout, capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = proc.stderr.strip().splitlines()[-5:]
        raise SystemExit(f"{bench} failed in {checkout} (rc {proc.returncode}): {tail}")
    figures: dict[str, object] = json.loads(lines[-1])
    figures["_wall_s"] = round(time.monotonic() - started, 2)
    figures["_load_1m"] = os.getloadavg()[0]
    return figures


def numeric(figures: dict[str, object]) -> dict[str, float]:
    return {
        k: float(v) for k, v in figures.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("benchmarks", nargs="+")
    parser.add_argument("--a", type=Path, required=True, help="the baseline checkout")
    parser.add_argument("--b", type=Path, required=True, help="the checkout measured against it")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--out", type=Path, help="append every run's figures here (JSON lines)")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 20:
        parser.error("--rounds must be 1..20")
    runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for rnd in range(args.rounds):
        order = ("a", "b") if rnd % 2 == 0 else ("b", "a")
        for bench in args.benchmarks:
            for side in order:
                checkout = args.a if side == "a" else args.b
                print(f"round {rnd + 1}: {bench} on {side} ({checkout})", file=sys.stderr)
                figures = run_once(checkout, bench, [], args.timeout)
                runs.setdefault((bench, side), []).append(numeric(figures))
                if args.out:
                    with args.out.open("a", encoding="utf-8") as fh:
                        row = {"bench": bench, "side": side, "round": rnd + 1, "figures": figures}
                        fh.write(json.dumps(row) + "\n")
    summary: dict[str, dict[str, dict[str, object]]] = {}
    for bench in args.benchmarks:
        keys = PRIMARY.get(bench) or tuple(sorted(runs[(bench, "a")][0]))
        for key in keys:
            a = [r[key] for r in runs[(bench, "a")] if key in r]
            b = [r[key] for r in runs[(bench, "b")] if key in r]
            if not a or not b:
                continue
            ma, mb = statistics.median(a), statistics.median(b)
            ratio = mb / ma if ma else float("inf")
            worse = (1 / ratio if ratio else float("inf")) if key in HIGHER else ratio
            summary.setdefault(bench, {})[key] = {
                "a_median": round(ma, 4), "b_median": round(mb, 4), "b_over_a": round(ratio, 3),
                "a_runs": a, "b_runs": b, "within_10pct": worse <= 1.10,
            }
    print(json.dumps({"rounds": args.rounds, "a": str(args.a), "b": str(args.b), "summary": summary}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
