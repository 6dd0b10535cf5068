"""One laptop of the site is its site hub: ``tramtiem site-hub serve`` (issue 14, docs/site-hub.md).

Real parts: a province hub over HTTP on 127.0.0.1; two desks enrolled with it the way
``tramtiem enroll`` does (token in the keyring, a plaintext keyring file shared with the
processes the test starts); ``tramtiem site-hub serve --data-dir A --code C`` as a real
process, which enrolls the site hub and runs ``tramtiem-hub serve --relay-to`` as its child
(HTTPS with the province's certificate). Desk B reaches it over HTTPS, trusting it by the
province's relay CA it got at its own enrollment (no insecure flag); desk A, on the laptop,
syncs through its own site hub on 127.0.0.1. SIGTERM stops the child: no orphan.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from hub import relay, service, site_hub
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import RunningHub, run_hub
from station import replica, search
from station.dto import UserInput
from station.services import admin, people
from station.store import Actor, Station, open_station
from sync import site_hub_cli
from sync import site_hub_serve as shs
from sync.cli import enroll_station, site_hub_factory
from sync.engine import SyncEngine, SyncSettings
from tests.pg import migrated_sqlite_url
from tests.station.helpers import person

pytestmark = pytest.mark.slow  # real processes and a real hub: ./dev test runs them

ROOT = Path(__file__).resolve().parents[2]
SITE = "DN-LAP-01"
PASSWORD = "mat-khau-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def pids_using(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (the child hub's --data-dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if str(folder).encode() in cmd:
            found.append(int(entry.name))
    return found


@dataclass
class Province:
    hub: RunningHub
    db: Database

    def code(self) -> str:
        return service.new_enrollment_code(self.db, SITE, ttl_hours=1, now=utc_now())

    def relay_code(self) -> str:
        return relay.new_relay_code(self.db, SITE, ttl_hours=1, now=utc_now())


@pytest.fixture
def plain_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keyring in a plaintext file under tmp_path, shared with the processes started here."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        yield
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def province(tmp_path: Path, plain_keyring: None) -> Iterator[Province]:
    url = migrated_sqlite_url(tmp_path / "province.db")
    with run_hub(HubSettings(database_url=url)) as hub:
        db = Database(url)
        service.add_site(db, SITE, "Trạm Y tế Phường 3", "75", now=utc_now())
        try:
            yield Province(hub, db)
        finally:
            db.dispose()


def enrolled_desk(province: Province, ddir: Path, letter: str) -> Station:
    enroll_station(ddir, province.hub.url, province.code(), site_letter=letter)
    return open_station(ddir)


def serve(ddir: Path, *args: str, lang: str = "en_US.UTF-8") -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "site-hub", "serve", "--data-dir", str(ddir),
         "--host", "127.0.0.1", "--no-announce", *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
        env={**os.environ, "LC_ALL": lang},
    )


def wait_serving(proc: subprocess.Popen[str], port: int, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not shs.accepts(port):
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"site-hub serve ended ({proc.returncode}): {out}\n{err}")
        assert time.monotonic() < deadline, "the site hub did not start"
        time.sleep(0.2)


def leave_nothing(proc: subprocess.Popen[str], ddir: Path) -> None:
    """A test's cleanup: the serve process killed if still running, and any hub left in the desk's folder."""
    if proc.poll() is None:
        proc.kill()
        proc.communicate()
    for pid_left in pids_using(ddir / shs.SUBDIR):
        os.kill(pid_left, signal.SIGKILL)


def sync_via_site_hub(st: Station) -> None:
    report = SyncEngine(st, site_hub_factory(st), settings=SyncSettings(), route="site_hub").run_once()
    assert report.ok, report.error


def test_a_laptop_serves_its_site_and_sigterm_leaves_no_process(tmp_path: Path, province: Province) -> None:
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    a = enrolled_desk(province, a_dir, "A")
    b = enrolled_desk(province, b_dir, "B")
    system = Actor.system(SITE)
    admin.create_user(b, system, UserInput("tnv", "Tình nguyện viên", "volunteer", PASSWORD))
    volunteer = admin.login(b, "tnv", PASSWORD)
    a.close()  # the serving process opens A's station itself
    port = free_port()
    proc = serve(a_dir, "--code", province.relay_code(), "--port", str(port))
    try:
        wait_serving(proc, port)
        child = pids_using(a_dir / shs.SUBDIR)
        assert len(child) == 1, child  # the hub runs as one child process
        # B is set to the laptop's address; it trusts it by the relay CA from its enrollment.
        replica.set_site_hub_url(b, f"https://127.0.0.1:{port}")
        pid = people.register_walk_in(b, volunteer, person()).person.id
        sync_via_site_hub(b)
        # A (the laptop itself) syncs through its own site hub, on 127.0.0.1 over HTTPS.
        a = open_station(a_dir)
        try:
            # `serve` points its own desk at the site hub once the child answers (point_desk
            # after start): the port may answer a moment before that is written.
            deadline = time.monotonic() + 60
            while replica.site_hub_url(a) is None and time.monotonic() < deadline:
                time.sleep(0.1)
            assert replica.site_hub_url(a) == f"https://127.0.0.1:{port}"
            sync_via_site_hub(a)
            assert pid in {h.person_id for h in search.search(a, "Nguyễn Thị Đào")}
        finally:
            a.close()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "site hub stopped" in out
        deadline = time.monotonic() + 10
        while pids_using(a_dir / shs.SUBDIR) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pids_using(a_dir / shs.SUBDIR), "the child hub outlived its parent"
        assert not shs.accepts(port)
        # Its data stays: the site hub's database, key and certificate.
        info = shs.SiteHubInfo.load(a_dir)
        assert info is not None and info.site_code == SITE and len(info.fingerprint) == 64
        status = subprocess.run(
            [sys.executable, "-m", "ui.cli", "site-hub", "status", "--data-dir", str(a_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
        assert status.returncode == 0, status.stderr
        assert f"site hub of {SITE}" in status.stdout and info.fingerprint in status.stdout
        assert "answering on this laptop: no" in status.stdout
    finally:
        leave_nothing(proc, a_dir)
        b.close()


def test_site_hub_stop_ends_a_running_serve(tmp_path: Path, province: Province) -> None:
    a_dir = tmp_path / "a"
    enrolled_desk(province, a_dir, "A").close()
    port = free_port()
    proc = serve(a_dir, "--code", province.relay_code(), "--port", str(port))
    pidfile = shs.hub_dir(a_dir) / site_hub_cli.PIDFILE
    try:
        # ``stop`` as soon as the file is there: the port may not be open yet (the child is
        # starting) and ``stop`` waits for it. And the port never opens before the file exists
        # (it did: a ``stop`` in between said no site hub was running, CI 2026-12-04).
        deadline = time.monotonic() + 90
        while True:
            port_open = shs.accepts(port)  # looked at first: the file must be there already
            if pidfile.exists():
                break
            assert not port_open, "the port opened before serve.json was written"
            assert proc.poll() is None and time.monotonic() < deadline, "the site hub did not start"
            time.sleep(0.005)
        stopped = subprocess.run(
            [sys.executable, "-m", "ui.cli", "site-hub", "stop", "--data-dir", str(a_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert stopped.returncode == 0 and "site hub stopped" in stopped.stdout, stopped.stderr
        _out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert not pids_using(a_dir / shs.SUBDIR) and not shs.accepts(port)
        again = subprocess.run(
            [sys.executable, "-m", "ui.cli", "site-hub", "stop", "--data-dir", str(a_dir)],
            cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert again.returncode == 0 and "no site hub is running" in again.stdout
    finally:
        leave_nothing(proc, a_dir)


def test_the_child_ends_with_its_parent_even_on_sigkill(tmp_path: Path, province: Province) -> None:
    a_dir = tmp_path / "a"
    enrolled_desk(province, a_dir, "A").close()
    port = free_port()
    proc = serve(a_dir, "--code", province.relay_code(), "--port", str(port))
    try:
        wait_serving(proc, port)
        assert len(pids_using(a_dir / shs.SUBDIR)) == 1
        proc.kill()  # no handler runs: the child sees its stdin close
        proc.communicate()
        deadline = time.monotonic() + 20
        while pids_using(a_dir / shs.SUBDIR) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not pids_using(a_dir / shs.SUBDIR), "the child hub outlived a killed parent"
    finally:
        leave_nothing(proc, a_dir)


@pytest.mark.parametrize("problem", ["wrong", "wrong_vi", "used", "missing"])
def test_a_bad_relay_code_is_told_and_leaves_nothing(tmp_path: Path, province: Province, problem: str) -> None:
    a_dir = tmp_path / "a"
    enrolled_desk(province, a_dir, "A").close()
    if problem == "used":
        code = province.relay_code()
        other = Database(migrated_sqlite_url(tmp_path / "other-site-hub.db"))
        try:
            site_hub.enroll(other, province.hub.url, code)
        finally:
            other.dispose()
        args = ["--code", code]
    else:
        args = ["--code", "ABCD-EFGH-JKMN"] if problem.startswith("wrong") else []
    proc = serve(a_dir, *args, "--port", str(free_port()),
                 lang="vi_VN.UTF-8" if problem.endswith("_vi") else "en_US.UTF-8")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 4, (out, err)
    expected = {
        "wrong": ("relay_code.invalid", "The province does not know this relay code"),
        "wrong_vi": ("relay_code.invalid", "Tỉnh không nhận ra mã chuyển tiếp này"),
        "used": ("relay_code.used", "This relay code was already used"),
        "missing": ("relay_code.required", "Type the relay code"),
    }[problem]
    assert f"[{expected[0]}]" in err and expected[1] in err, err
    assert "Traceback" not in err
    # Nothing half-made: no site hub folder, no scratch folder, the desk's route unchanged.
    assert not (a_dir / shs.SUBDIR).exists() and not (a_dir / (shs.SUBDIR + ".enrolling")).exists()
    st = open_station(a_dir)
    try:
        assert replica.site_hub_url(st) is None and shs.serve_setting(st) is None
    finally:
        st.close()
