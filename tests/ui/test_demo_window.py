"""The demo as a newcomer starts it: a real X server (Xvfb), Qt's xcb platform, not offscreen.

The window must come up (a screenshot is taken and kept), Ctrl+C in the terminal must
stop it cleanly (no traceback), and the throwaway demo folder must be gone after.
In CI (``CI=true``) a missing Xvfb is an error, never a skip.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

ROOT = Path(__file__).resolve().parents[2]
# Kept for people and CI logs to look at (build/ is git-ignored).
SCREENSHOT = ROOT / "build" / "ci" / "demo-xvfb.png"
GRAB = """
import sys
from PySide6.QtGui import QGuiApplication
app = QGuiApplication(sys.argv[:1])
img = app.primaryScreen().grabWindow(0).toImage()
# How much of the screen is not the X server's black background.
w, h = img.width(), img.height()
lit = sum(1 for x in range(0, w, 16) for y in range(0, h, 16) if img.pixelColor(x, y).lightness() > 40)
img.save(sys.argv[1])
print(lit * 100 // ((w // 16 + 1) * (h // 16 + 1)))
"""


@pytest.fixture
def xvfb(tmp_path: Path) -> Iterator[str]:
    exe = shutil.which("Xvfb")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Xvfb is missing: scripts/apt-packages-dev.txt installs it (./dev setup)")
        pytest.skip("no Xvfb (apt-get install xvfb)")
    read, write = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(write), "-screen", "0", "1366x768x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as f:
        display = f.readline().strip()
    try:
        assert display, "Xvfb did not report its display"
        yield f":{display}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def grab(env: dict[str, str], path: Path) -> int:
    out = subprocess.run([sys.executable, "-c", GRAB, str(path)], env=env, capture_output=True,
                         text=True, timeout=60, check=True)
    return int(out.stdout.strip().splitlines()[-1])


def test_demo_window_on_xcb_then_ctrl_c_stops_it_and_removes_its_data(xvfb: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QT_")}
    env.update(DISPLAY=xvfb, QT_QPA_PLATFORM="xcb", TMPDIR=str(tmp_path), PYTHONUNBUFFERED="1")
    demo = subprocess.Popen([sys.executable, "-m", "ui.cli", "demo", "--people", "60"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shot = tmp_path / "screen.png"
        lit = 0
        deadline = time.monotonic() + 120  # a bound on the wait, not a performance figure
        while time.monotonic() < deadline and demo.poll() is None:
            time.sleep(1)
            lit = grab(env, shot)
            if lit > 50:  # the login window covers the screen
                break
        assert demo.poll() is None, demo.communicate(timeout=10)
        assert lit > 50, f"the window did not come up under Xvfb ({lit}% of the screen lit)"
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, SCREENSHOT)
        demo.send_signal(signal.SIGINT)  # Ctrl+C in the terminal
        out, err = demo.communicate(timeout=60)
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait(timeout=10)
    assert demo.returncode == 0, err
    assert "Traceback" not in err, err
    assert "Demo station in" in out
    assert not list(tmp_path.glob("tramtiem-demo-*")), "the throwaway demo folder was left behind"
