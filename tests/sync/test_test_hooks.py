"""The engine's crash points are a test hook: outside the test suite they do nothing.

A subprocess each, so that ``os._exit`` ends the probe and not this run.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = "import sync.engine as e; e.crash_point('after_tally'); print('alive')"


def probe(**env_over: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "TRAMTIEM_TESTING"}
    env.update(env_over)
    return subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_crash_point_is_ignored_outside_the_test_suite() -> None:
    res = probe(TRAMTIEM_CRASH_AT="after_tally")
    assert (res.returncode, res.stdout.strip()) == (0, "alive")
    assert "TRAMTIEM_CRASH_AT is set outside the test suite" in res.stderr


def test_crash_point_kills_under_the_test_suite() -> None:
    res = probe(TRAMTIEM_CRASH_AT="after_tally", TRAMTIEM_TESTING="1")
    assert (res.returncode, res.stdout.strip()) == (137, "")
