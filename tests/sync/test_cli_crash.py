"""``tramtiem enroll`` and ``tramtiem sync`` as IT staff run them, killed at the named crash points.

Real subprocesses against a real hub on 127.0.0.1: enrollment creates the
station with the hub's site code and keeps the token in the keyring; a sync
killed (``os._exit(137)``) after the push was sent but before the acks were
committed, or halfway through applying a pulled page, leaves nothing half
done: the next run resends (duplicates at the hub) and every op is applied
exactly once.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import RunningHub, run_hub

ROOT = Path(__file__).resolve().parents[2]
SITE = "DN-CLI-01"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[RunningHub, Database]]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with run_hub(HubSettings(database_url=url)) as running:
        db = Database(url)
        service.add_site(db, SITE, "Điểm tiêm CLI", "75", now=utc_now())
        try:
            yield running, db
        finally:
            db.dispose()


def run(args: list[str], tmp_path: Path, **env_over: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("TRAMTIEM_CRASH_AT", None)
    env["PYTHON_KEYRING_BACKEND"] = "keyrings.alt.file.PlaintextKeyring"
    env["XDG_DATA_HOME"] = str(tmp_path / "xdg")
    env.update(env_over)
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=180)


def scalar(db: Database, sql: str) -> int:
    with db.read() as s:
        return int(s.execute(text(sql)).scalar() or 0)


@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_enroll_then_sync_survives_kills_exactly_once(hub, tmp_path: Path) -> None:
    running, db = hub
    d = tmp_path / "st"
    code = service.new_enrollment_code(db, SITE, ttl_hours=1, now=utc_now())
    r = run(["enroll", "--hub", running.url, "--code", code, "--data-dir", str(d), "--site-letter", "B"], tmp_path)
    assert r.returncode == 0, r.stderr
    meta = json.loads((d / "station.json").read_text())
    assert meta["site_code"] == SITE and meta["install_id"] in r.stdout
    # The token is in the keyring, not in the data directory.
    assert not any("token" in p.name for p in d.iterdir())
    # A used code cannot enroll again.
    r = run(["enroll", "--hub", running.url, "--code", code, "--data-dir", str(tmp_path / "st2")], tmp_path)
    assert r.returncode == 5 and "enroll" in r.stderr
    r = run(["demo-data", "--data-dir", str(d), "--people", "25", "--seed", "3", "--quiet"], tmp_path)
    assert r.returncode == 0, r.stderr

    r = run(["sync", "--data-dir", str(d), "--once"], tmp_path,
            TRAMTIEM_CRASH_AT="after_push_send_before_ack_commit")
    assert r.returncode == 137, (r.returncode, r.stderr[-2000:])
    applied_after_crash = scalar(db, "SELECT count(*) FROM applied_op")
    assert applied_after_crash > 0  # the hub committed, the station never heard

    r = run(["sync", "--data-dir", str(d), "--once"], tmp_path, TRAMTIEM_CRASH_AT="mid_pull_apply")
    assert r.returncode == 137, (r.returncode, r.stderr[-2000:])

    r = run(["sync", "--data-dir", str(d), "--once"], tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sync ok" in r.stdout and "pending left 0" in r.stdout

    r = run(["doctor", "--data-dir", str(d), "--json"], tmp_path)
    report = json.loads(r.stdout)
    ob = report["outbox"]
    assert ob["pending"] == 0 and report["ok"]
    total_ops = ob["acked"] + ob["rejected"] + ob["conflict"]
    # Exactly once: one ledger entry per station op, doses not doubled.
    assert scalar(db, "SELECT count(*) FROM applied_op") == total_ops
    assert scalar(db, "SELECT count(*) FROM dose") == report["counts"]["dose"]


@pytest.mark.slow  # CLI subprocesses
def test_sync_without_enrollment_says_so(tmp_path: Path) -> None:
    d = tmp_path / "st"
    assert run(["init", "--data-dir", str(d), "--site", SITE], tmp_path).returncode == 0
    r = run(["sync", "--data-dir", str(d), "--once"], tmp_path)
    assert r.returncode == 2 and "not enrolled" in r.stderr


@pytest.mark.slow  # CLI subprocesses
def test_sync_unreachable_hub_fails_nonzero(tmp_path: Path) -> None:
    d = tmp_path / "st"
    assert run(["init", "--data-dir", str(d), "--site", SITE], tmp_path).returncode == 0
    # Pretend an enrollment: a token in the (file) keyring for this install id.
    install_id = json.loads((d / "station.json").read_text())["install_id"]
    code = (
        f"import keyring; keyring.set_password('tramtiem', 'station-token:{install_id}', 'x' * 40)"
    )
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               XDG_DATA_HOME=str(tmp_path / "xdg"))
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    r = run(["sync", "--data-dir", str(d), "--once", "--hub", "http://127.0.0.1:9"], tmp_path)
    assert r.returncode == 5 and "FAILED [hub.unreachable]" in r.stdout
