"""One instance per data directory: a real second launch (another process) raises the first window.

Before the fix the second process opened its own window, sync engine and backup
scheduler on the same database and never exited (this test then timed out).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from station.instance import InstanceLock, is_held
from station.store import Station
from ui.app import StationApp
from ui.single_instance import InstanceGuard, server_name

ROOT = Path(__file__).resolve().parents[2]
LAUNCH_WAIT_MS = 120_000


def launch(data_dir: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", "--data-dir", str(data_dir)],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )


def test_a_second_launch_brings_the_first_window_forward_and_exits(qtbot, app: StationApp, st: Station):
    guard = InstanceGuard(st.data_dir)
    assert guard.claim(), "the first instance takes the data directory"
    raised: list[int] = []
    guard.sig_raise_requested.connect(lambda: raised.append(1))
    guard.sig_raise_requested.connect(app.bring_forward)
    try:
        app.login.hide()  # the window is somewhere behind others (hidden here: offscreen)
        assert is_held(st.data_dir)  # what `tramtiem restore` checks before touching the file
        proc = launch(st.data_dir)
        try:
            # The first instance's event loop must run to answer: spin it until the second exits.
            qtbot.waitUntil(lambda: proc.poll() is not None, timeout=LAUNCH_WAIT_MS)
        finally:
            if proc.poll() is None:
                proc.kill()
            _out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert "already open" in err
        assert raised == [1]
        assert app.login.isVisible()  # brought forward
    finally:
        guard.release()
    # Released: the next launch may take it.
    with InstanceLock(st.data_dir) as again:
        assert again.acquire()


def test_the_lock_belongs_to_one_holder_and_server_names_differ_per_directory(tmp_path: Path):
    a, b = InstanceLock(tmp_path / "a"), InstanceLock(tmp_path / "a")
    assert a.acquire()
    assert not b.acquire()  # a second handle (as a second process would) is refused
    a.release()
    assert b.acquire()
    b.release()
    assert server_name(tmp_path / "a") != server_name(tmp_path / "b")
    assert server_name(tmp_path / "a") == server_name(tmp_path / "x" / ".." / "a")
