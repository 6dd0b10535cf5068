"""The headless CLI as IT staff run it: real subprocesses, real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], tmp_path: Path, backend: str = "keyrings.alt.file.PlaintextKeyring") -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = backend
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_init_demo_doctor(tmp_path: Path) -> None:
    d = tmp_path / "st"
    r = run(["init", "--data-dir", str(d), "--site", "dn-bh-001"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "DN-BH-001" in r.stdout
    r = run(["demo-data", "--data-dir", str(d), "--people", "120", "--seed", "7", "--quiet"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "120 people" in r.stdout
    r = run(["doctor", "--data-dir", str(d), "--json"], tmp_path)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["ok"] and report["integrity"] == "ok" and report["audit"]["ok"]
    assert report["counts"]["person"] == 120
    assert report["outbox"]["pending"] >= 120
    assert report["synchronous"] == "FULL"
    r = run(["doctor", "--data-dir", str(d)], tmp_path)
    assert r.returncode == 0 and "result          OK" in r.stdout


def test_demo_people_are_deterministic_and_valid() -> None:
    import random
    from datetime import date

    from station.demo import fake_person
    from station.services.common import validate_person

    rng_a, rng_b = random.Random(5), random.Random(5)
    a = [fake_person(rng_a, date(2026, 12, 1)) for _ in range(200)]
    b = [fake_person(rng_b, date(2026, 12, 1)) for _ in range(200)]
    assert a == b
    assert sum(1 for p in a if p.full_name and p.full_name.isascii()) < 20  # diacritics, as in life
    for p in a:
        validate_person(p, today=date(2026, 12, 1), walk_in=True)  # raises on any invalid field


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["init", "--data-dir", "X"], 2),  # --site missing
        (["init", "--data-dir", "X", "--site", "bad code"], 4),
        (["demo-data", "--data-dir", "X", "--people", "-5"], 2),
        (["demo-data", "--data-dir", "X", "--people", "many"], 2),
        (["doctor", "--data-dir", "NOWHERE"], 3),
        (["frobnicate"], 2),
    ],
)
def test_bad_arguments_exit_non_zero(tmp_path: Path, args: list[str], code: int) -> None:
    args = [str(tmp_path / a) if a in ("X", "NOWHERE") else a for a in args]
    r = run(args, tmp_path)
    assert r.returncode == code, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr


def test_no_keyring_backend_message(tmp_path: Path) -> None:
    r = run(["init", "--data-dir", str(tmp_path / "st"), "--site", "DN-1X"], tmp_path, backend="keyring.backends.fail.Keyring")
    assert r.returncode == 3
    assert "No usable OS keyring" in r.stderr and "store.keyring_unavailable" in r.stderr
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "st" / "station.db").exists()
