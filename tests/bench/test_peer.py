"""``python -m bench peer --quick``: the side-by-side bench runs end to end (not how fast).

It needs Node.js and npm (the peer is PouchDB) and the npm registry for the first
``npm ci``. Node comes with the machine image here (``node`` 20, ``npm`` 11), not from
the project's apt lists: Debian's ``npm`` package would clash with it. So the test
skips where there is no node, except under ``CI=true``: there a missing node is a
failure, not a silent skip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.peer import node_tools

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

ROOT = Path(__file__).resolve().parents[2]


def test_bench_peer_quick_delivers_everything_on_both_sides() -> None:
    if node_tools() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs node and npm for bench peer (the machine image provides them)")
        pytest.skip("node/npm not installed")
    res = subprocess.run(
        [sys.executable, "-m", "bench", "peer", "--quick"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["bench"] == "peer" and out["quick"] is True
    assert out["all_delivered"] is True
    # The same records on both sides: every dose and person reached our hubs.
    ours = [r for r in out["runs"] if r["side"].startswith("ours_")]
    assert {r["side"] for r in ours} == {"ours_sqlite", "ours_postgres"}
    for r in ours:
        assert r["hub_doses"] == out["records"]
        assert r["hub_persons"] == out["persons"]
        assert r["pushed"] == out["ops"]
    peers = [r for r in out["runs"] if r["side"] in ("peer_b100", "peer_b500")]
    assert len(peers) == 2 and all(r["seconds"] > 0 for r in peers)
    slow = out["slow_line"]
    assert slow is not None and slow["bytes_median"]["ours"] > 0 and slow["bytes_median"]["peer_b500"] > 0
    for key in ("sqlite_wall_vs_b500", "postgres_wall_vs_b500"):
        assert out["ratios"][key] is not None
