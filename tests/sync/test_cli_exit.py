"""``tramtiem sync`` as a process: its start without the garbage collector, its end without
the interpreter's teardown (issue 15, phase 9).

Real parts: a real hub over HTTP on 127.0.0.1, a station enrolled through ``tramtiem
enroll`` with demo data, the command in a fresh interpreter run as ``python -m ui.cli``
runs it (``runpy`` with ``__main__``), with an ``atexit`` handler and an object whose
``__del__`` runs only when the interpreter tears its modules down.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.sync.builders import HubFixture, site_hub
from tests.sync.test_sync_start_work import _cli, _enrolled_desk

SITE = "DN-EXIT-01"

# ``python -m ui.cli sync --once --json`` with notes in a file: "atexit" (a handler
# registered before the command), "thread" (a non-daemon thread left running, with
# ``hold``), and the collections of the garbage collector within ``ui.cli.main`` before
# the cycle's first request, by generation. Run with PYTHONVERBOSE, the interpreter says
# on stderr when it tears its modules down ("# cleanup[...").
PROBE = """
import atexit, gc, importlib.abc, importlib.machinery, runpy, sys, threading, time
data_dir, notes, hold = sys.argv[1], sys.argv[2], sys.argv[3] == "hold"
def note(text):
    with open(notes, "a") as fh:
        fh.write(text + "\\n")
atexit.register(note, "atexit")
collections, first_request = [], []
def on_gc(phase, info):
    if phase == "start" and not first_request:
        f = sys._getframe(1)
        while f is not None and not (f.f_code.co_name == "main" and f.f_code.co_filename.endswith("cli.py")):
            f = f.f_back
        if f is not None:  # within ui.cli.main: the command's own work
            collections.append(info["generation"])
gc.callbacks.append(on_gc)
class Look(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "sync.client":
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        real_exec = spec.loader.exec_module
        def exec_module(module):
            real_exec(module)
            health = module.HubClient.health
            def first(self, *a, **k):
                if not first_request:
                    first_request.append(1)
                    note("collections before the first request: " + repr(collections))
                return health(self, *a, **k)
            module.HubClient.health = first
        spec.loader.exec_module = exec_module
        return spec
sys.meta_path.insert(0, Look())
def held():
    # Alive until the ordinary exit begins (threading._shutdown stops the main thread, then
    # joins this one), whatever the load: a fixed sleep could end before the sync did.
    end = time.monotonic() + 120
    while threading.main_thread().is_alive() and time.monotonic() < end:
        time.sleep(0.01)
    note("thread")
if hold:
    threading.Thread(target=held).start()
sys.argv = ["tramtiem", "sync", "--once", "--json", "--data-dir", data_dir]
runpy.run_module("ui.cli", run_name="__main__", alter_sys=True)
"""


@pytest.fixture
def desk(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               XDG_DATA_HOME=str(tmp_path / "xdg"))
    env.pop("TRAMTIEM_CRASH_AT", None)
    return tmp_path / "a", env


def _enrolled(h: HubFixture, desk: Path, env: dict[str, str]) -> None:
    _enrolled_desk(h, SITE, desk, env, people=12, seed=5)


def _verbose(env: dict[str, str]) -> dict[str, str]:
    return dict(env, PYTHONVERBOSE="1")


def _torn_down(stderr: str) -> bool:
    return "# cleanup[" in stderr


def _errors(stderr: str) -> str:
    return "\n".join(ln for ln in stderr.splitlines() if not ln.startswith(("#", "import ")))[-3000:]


def _report(stdout: str) -> dict[str, object]:
    return dict(json.loads([ln for ln in stdout.splitlines() if ln.startswith("{")][-1]))


@contextmanager
def _probed_sync(
    tmp_path: Path, desk: tuple[Path, dict[str, str]], mode: str
) -> Iterator[tuple[subprocess.CompletedProcess[str], Path]]:
    """An enrolled desk's ``PROBE`` sync (``mode``: "-" or "hold") and its notes file, the hub still up."""
    ddir, env = desk
    notes = tmp_path / "notes.txt"
    with site_hub(tmp_path, SITE) as h:
        _enrolled(h, ddir, env)
        yield _cli(["-c", PROBE, str(ddir), str(notes), mode], _verbose(env)), notes


def test_a_sync_ends_without_the_teardown_after_its_exit_handlers_and_its_log(
    tmp_path: Path, desk: tuple[Path, dict[str, str]]
) -> None:
    ddir, env = desk
    with _probed_sync(tmp_path, desk, "-") as (r, notes):
        again = _cli(["-m", "ui.cli", "sync", "--once", "--json", "--data-dir", str(ddir)], env)
    assert r.returncode == 0, _errors(r.stderr)
    rep = _report(r.stdout)  # stdout flushed before the process ended
    assert rep["ok"] and rep["pushed"] and rep["pending_left"] == 0
    # Before: the interpreter tore every module down after the handlers.
    assert not _torn_down(r.stderr)
    lines = notes.read_text().splitlines()
    assert lines[1:] == ["atexit"], lines
    # The start-up imports ran without the collector: before the first request, only
    # settle_heap's own full collection (of what was made after they were frozen) and
    # young ones of the same. Before: 27, 8 of them of the older generations.
    got = eval(lines[0].rpartition(": ")[2])
    assert len(got) <= 3 and [g for g in got if g] == [2], got
    # logging's atexit handler flushed the log file; the station was closed before the end
    # (its last connection's checkpoint removed the WAL); the next sync finds it whole
    # with nothing left to send.
    assert "sync cycle ok" in (ddir / "logs" / "sync.log").read_text()
    assert not [p.name for p in ddir.iterdir() if p.name.endswith("-wal")]
    assert again.returncode == 0, again.stderr
    rep = _report(again.stdout)
    assert rep["ok"] and rep["pushed"] == 0 and rep["pending_left"] == 0


def test_a_thread_still_running_gets_the_ordinary_exit(
    tmp_path: Path, desk: tuple[Path, dict[str, str]]
) -> None:
    """A non-daemon thread alive at the end: the interpreter waits for it, as before."""
    with _probed_sync(tmp_path, desk, "hold") as (r, notes):
        pass
    assert r.returncode == 0, _errors(r.stderr)
    assert _report(r.stdout)["ok"]
    assert _torn_down(r.stderr)
    assert notes.read_text().splitlines()[1:] == ["thread", "atexit"]  # the thread waited for first


def test_other_commands_end_as_before_and_a_failed_sync_with_its_code(
    tmp_path: Path, desk: tuple[Path, dict[str, str]]
) -> None:
    """Only ``sync`` ends early: ``--help`` and a failing ``doctor`` tear the interpreter
    down, with their exit codes; a sync that fails (no station) ends early with its code."""
    _ddir, env = desk
    probe = PROBE.replace('sys.argv = ["tramtiem", "sync", "--once", "--json", "--data-dir", data_dir]',
                          "sys.argv = ['tramtiem', *sys.argv[4:]]")
    for args in (["--help"], ["doctor", "--data-dir", str(tmp_path / "none")]):
        notes = tmp_path / f"notes-{args[0]}.txt"
        r = _cli(["-c", probe, "-", str(notes), "-", *args], _verbose(env))
        assert r.returncode == (0 if args == ["--help"] else 3), (r.returncode, _errors(r.stderr))
        assert _torn_down(r.stderr)
        assert notes.read_text().splitlines() == ["atexit"]
    notes = tmp_path / "notes-sync.txt"
    r = _cli(["-c", PROBE, str(tmp_path / "none"), str(notes), "-"], _verbose(env))
    assert r.returncode == 3, (r.returncode, _errors(r.stderr))
    assert "error" in _errors(r.stderr).lower()
    assert not _torn_down(r.stderr)
    assert notes.read_text().splitlines() == ["atexit"]
