"""Restore while the station file is held: by the app, or by an antivirus scanning it.

What is simulated, and how (Linux lets a process rename a file another one has
open, Windows does not):

* the app: a real second process takes the data directory's instance lock
  (``station.instance``, what the window holds while it runs) and keeps the
  database open;
* Windows' sharing violation (``PermissionError``, WinError 32 "being used by
  another process"): ``os.replace`` in ``station.backup`` is wrapped to raise
  it for the station's database file, for a few attempts (a scan that ends)
  or for every attempt (a scan that does not).

Before the fix the restore went ahead under the running app, and a held file
surfaced as a raw ``PermissionError`` midway, with the old file already moved.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from kernel.errors import StoreError
from station import backup
from station.store import Station, open_station
from tests.sync.test_engine_http import vaccinate
from ui import cli as tramtiem

ROOT = Path(__file__).resolve().parents[2]
WINERROR_32 = "The process cannot access the file because it is being used by another process"

HOLDER = """
import sys
from station.instance import InstanceLock
from station.store import db_path
lock = InstanceLock(sys.argv[1])
assert lock.acquire()
db = open(db_path(__import__('pathlib').Path(sys.argv[1])), 'rb')  # the app keeps the file open
print('held', flush=True)
sys.stdin.read()  # until the test closes our stdin
"""


def doses(data_dir: Path) -> int:
    st = open_station(data_dir)
    try:
        with st.read() as conn:
            return int(conn.execute(text("SELECT count(*) FROM dose")).scalar_one())
    finally:
        st.close()


def test_restore_is_refused_while_the_app_has_the_station_open(
    st: Station, staff, lot_id: str, data_dir: Path, tmp_path: Path, capsys
) -> None:
    vaccinate(st, staff, lot_id, 1)
    res = backup.backup_to(data_dir, tmp_path / "usb")
    vaccinate(st, staff, lot_id, 1, start=1)
    st.close()
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir)], cwd=ROOT,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert tramtiem.main(["restore", str(res.path), "--data-dir", str(data_dir)]) == 1  # a refused restore
        err = capsys.readouterr().err
        assert "[restore.app_running]" in err and "Close it" in err and "Nothing was changed" in err
        assert "WinError" not in err and "Traceback" not in err
        assert not list((data_dir / "backups").glob("replaced-*"))
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(timeout=30)
    assert doses(data_dir) == 2  # untouched
    # The app closed: the same restore goes through.
    assert tramtiem.main(["restore", str(res.path), "--data-dir", str(data_dir)]) == 0
    assert doses(data_dir) == 1


def _hold_station_db(monkeypatch: pytest.MonkeyPatch, *, attempts: int | None, on: str = "any") -> list[str]:
    """Make os.replace of station.db fail like Windows does while another process has it open."""
    real = os.replace
    calls: list[str] = []

    def replace(src: os.PathLike[str] | str, dst: os.PathLike[str] | str) -> None:
        s, d = Path(src), Path(dst)
        involved = (on in ("any", "src") and s.name == "station.db") or \
                   (on in ("any", "dst") and d.name == "station.db")
        if involved and (attempts is None or len(calls) < attempts):
            calls.append(f"{s.name}->{d.name}")
            raise PermissionError(13, WINERROR_32, str(s))
        real(src, dst)

    monkeypatch.setattr(backup.os, "replace", replace)
    return calls


def test_a_file_held_for_a_moment_is_waited_for(
    st: Station, staff, lot_id: str, data_dir: Path, tmp_path: Path, monkeypatch
) -> None:
    vaccinate(st, staff, lot_id, 1)
    res = backup.backup_to(data_dir, tmp_path / "usb")
    vaccinate(st, staff, lot_id, 1, start=1)
    st.close()
    slept: list[float] = []
    monkeypatch.setattr(backup, "_sleep", slept.append)
    calls = _hold_station_db(monkeypatch, attempts=2)
    r = backup.restore_backup(res.path, data_dir)
    assert len(calls) == 2 and slept == list(backup.HELD_RETRY_DELAYS_S[:2])
    assert r.replaced is not None
    assert doses(data_dir) == 1


@pytest.mark.parametrize("on", ["src", "dst"], ids=["old-file-held", "new-file-blocked"])
def test_a_file_that_stays_held_gets_a_clear_message_and_nothing_changes(
    st: Station, staff, lot_id: str, data_dir: Path, tmp_path: Path, monkeypatch, capsys, on: str
) -> None:
    """``src``: the old station.db cannot be moved aside. ``dst``: it was moved, but the restored
    copy cannot take its place (then the old file is put back)."""
    vaccinate(st, staff, lot_id, 1)
    res = backup.backup_to(data_dir, tmp_path / "usb")
    vaccinate(st, staff, lot_id, 1, start=1)
    st.close()
    monkeypatch.setattr(backup, "_sleep", lambda _s: None)
    calls = _hold_station_db(monkeypatch, attempts=None, on=on)
    with pytest.raises(StoreError) as info:
        backup.restore_backup(res.path, data_dir)
    assert info.value.code == "restore.file_in_use"
    assert len(calls) == len(backup.HELD_RETRY_DELAYS_S) + 1  # bounded
    assert tramtiem.main(["restore", str(res.path), "--data-dir", str(data_dir)]) == 1  # a refused restore
    err = capsys.readouterr().err
    assert "[restore.file_in_use]" in err and "antivirus" in err and "Nothing was changed" in err
    assert "WinError" not in err and "Traceback" not in err
    monkeypatch.undo()
    assert doses(data_dir) == 2  # the station as it was
    assert not list((data_dir / "backups").glob("replaced-*"))
    assert not list((data_dir / "backups" / "staging").glob("*.db"))
