"""The first batch goes out before SQLAlchemy is imported (issue 15, phase 8).

A new ``tramtiem sync --once`` with ops to send needs pydantic and the protocol models to
encode its first batch and read the answer, but SQLAlchemy (``station.answers``,
``station.replica``) only to record an answer. ``sync.preload`` imports it on its thread
once the first batch is on its way. Real parts: a real hub over HTTP on 127.0.0.1, a
station enrolled through ``tramtiem enroll``, the CLI in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import types
from pathlib import Path

import pytest

from station.db import RawConnection, as_raw
from sync.preload import THREAD_NAME
from tests.sync.builders import site_hub
from tests.sync.test_sync_start_work import _cli, _enrolled_desk

SITE = "DN-FIRST-01"

# The CLI as the command runs it, noting at its first push whether SQLAlchemy was loaded,
# and which thread imported it (an import hook and a wrapper that only look).
PROBE = """
import contextlib, importlib.abc, io, json, sys, threading
seen = {}
class Look(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in ("sync.push", "sqlalchemy", "pydantic", "station.answers"):
            seen.setdefault(name, threading.current_thread().name)
        return None
sys.meta_path.insert(0, Look())
import ui.cli
from sync.client import HubClient
at_push = []
real = HubClient.push
def push(self, *a, **k):
    at_push.append("sqlalchemy" in sys.modules)
    return real(self, *a, **k)
HubClient.push = push
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = ui.cli.main(["sync", "--once", "--json", "--data-dir", sys.argv[1]])
print(json.dumps({"rc": rc, "report": json.loads(out.getvalue().strip().splitlines()[-1]), "seen": seen,
                  "at_push": at_push}))
"""


def test_the_first_batch_is_sent_before_sqlalchemy_is_imported(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               XDG_DATA_HOME=str(tmp_path / "xdg"))
    env.pop("TRAMTIEM_CRASH_AT", None)
    desk = tmp_path / "a"
    with site_hub(tmp_path, SITE) as h:
        _enrolled_desk(h, SITE, desk, env, people=30, seed=3)
        r = _cli(["-c", PROBE, str(desk)], env)
        assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    rep = got["report"]
    assert got["rc"] == 0 and rep["ok"] and rep["pushed"] > 0 and rep["pending_left"] == 0
    # Before: sync.push imported station.answers, and SQLAlchemy with it, before any send.
    assert got["at_push"][0] is False
    # All of it on the preload thread: the push's models first, the record modules after.
    assert got["seen"] == {"sync.push": THREAD_NAME, "pydantic": THREAD_NAME, "sqlalchemy": THREAD_NAME,
                           "station.answers": THREAD_NAME}


def test_a_half_imported_sqlalchemy_is_no_connection_of_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the preload thread imports SQLAlchemy, ``sqlalchemy.engine`` may be in
    ``sys.modules`` without its ``Connection`` yet: a raw connection is still itself
    (before: AttributeError in the cycle's progress report)."""
    monkeypatch.setitem(sys.modules, "sqlalchemy.engine", types.ModuleType("sqlalchemy.engine"))
    conn = sqlite3.connect(":memory:")
    try:
        raw: RawConnection = conn
        assert as_raw(raw) is conn
    finally:
        conn.close()
