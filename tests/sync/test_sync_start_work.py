"""A sync with work to do (issue 15, phase 7): its slow imports while the hub is probed, a
pulled page without the ORM models, and the request's gzip level chosen by the link.

Real parts: a real hub over HTTP on 127.0.0.1, stations enrolled through ``tramtiem
enroll``, ``tramtiem sync --once`` in a fresh interpreter (so this test run's own imports do
not count), and the fault proxy's latency for a line that is not on this machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from hub import service
from hub.ingest import utc_now
from station import outbox
from station.store import Station
from sync import fastlink
from sync.client import GZIP_LEVEL, HubClient
from sync.engine import SyncEngine, SyncSettings
from sync.preload import THREAD_NAME
from tests.faults.faultproxy import FaultProxy, Faults
from tests.sync.builders import HubFixture, site_hub
from tests.sync.test_engine_http import enroll, hub, vaccinate  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
SITE = "DN-WORK-01"

# ``tramtiem sync --once`` as the command runs it, with a note of the thread that first
# imports each slow package (an import hook that only looks).
PROBE = """
import contextlib, importlib.abc, io, json, sys, threading
seen = {}
class Look(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name in ("sync.push", "sqlalchemy", "pydantic"):
            seen.setdefault(name, threading.current_thread().name)
        return None
sys.meta_path.insert(0, Look())
import ui.cli
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = ui.cli.main(["sync", "--once", "--json", "--data-dir", sys.argv[1]])
print(json.dumps({"rc": rc, "report": json.loads(out.getvalue().strip().splitlines()[-1]), "seen": seen,
                  "models": "station.models" in sys.modules}))
"""


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def _enrolled_desk(
    h: HubFixture, site: str, desk: Path, env: dict[str, str], *, people: int, seed: int, letter: str | None = None
) -> None:
    """A desk enrolled through ``tramtiem enroll`` and given demo records (``tramtiem demo-data``)."""
    code = service.new_enrollment_code(h.db, site, ttl_hours=1, now=utc_now())
    more = [] if letter is None else ["--site-letter", letter]
    r = _cli(["-m", "ui.cli", "enroll", "--hub", h.running.url, "--code", code, "--data-dir", str(desk), *more], env)
    assert r.returncode == 0, r.stderr
    r = _cli(["-m", "ui.cli", "demo-data", "--data-dir", str(desk), "--people", str(people), "--seed", str(seed),
              "--quiet"], env)
    assert r.returncode == 0, r.stderr


def test_a_sync_with_work_imports_the_push_on_a_thread_and_applies_a_page_without_the_models(
    tmp_path: Path,
) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               XDG_DATA_HOME=str(tmp_path / "xdg"))
    env.pop("TRAMTIEM_CRASH_AT", None)
    with site_hub(tmp_path, SITE) as h:
        desks = [tmp_path / "a", tmp_path / "b"]
        for i, d in enumerate(desks):
            _enrolled_desk(h, SITE, d, env, people=4, seed=i + 1, letter="AB"[i])
        r = _cli(["-m", "ui.cli", "sync", "--once", "--json", "--data-dir", str(desks[0])], env)
        assert r.returncode == 0, r.stderr
        # B pushes its own records and pulls A's: a page with changes, applied.
        r = _cli(["-c", PROBE, str(desks[1])], env)
        assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    rep = got["report"]
    assert got["rc"] == 0 and rep["ok"] and rep["pushed"] > 0 and rep["pulled"] > 0 and rep["pending_left"] == 0
    # The push's module (and SQLAlchemy and pydantic with it) came in on the preload thread,
    # while the cycle probed the hub and sent the tally.
    assert got["seen"] == {"sync.push": THREAD_NAME, "sqlalchemy": THREAD_NAME, "pydantic": THREAD_NAME}
    # The pulled rows went in by the columns written out in station.replica_rows.
    assert got["models"] is False


class _Recording(HubClient):
    """A real client that notes the gzip header's XFL byte of each push it sends (4: level 1)."""

    xfl: list[int]

    def push(self, req, *, read_timeout_s=None):  # type: ignore[no-untyped-def]
        self.xfl.append(req.data[8] if req.gzipped else -1)
        return super().push(req, read_timeout_s=read_timeout_s)


def _drain(st: Station, url: str, token: str) -> tuple[list[_Recording], int]:
    clients: list[_Recording] = []

    def factory() -> HubClient:
        c = _Recording(url, token, connect_timeout_s=2.0, read_timeout_s=10.0)
        c.xfl = []
        clients.append(c)
        return c

    rep = SyncEngine(st, factory, settings=SyncSettings(seed=1, batch_ops_max=4)).run_once()
    assert rep.ok and rep.pending_left == 0, rep.error
    return clients, rep.batches


def test_requests_are_gzipped_at_level_1_on_this_machine_and_6_over_a_line_with_latency(
    hub: HubFixture, st: Station, staff, lot_id, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    # The hub of this test answers in this process, under the test suite's load: a bound
    # far above its round trip here, and a line far above the bound.
    monkeypatch.setattr(fastlink, "FAST_RTT_S", 0.25)
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 6)
    clients, batches = _drain(st, hub.running.url, token)
    assert batches >= 3
    assert clients[0].gzip_level == fastlink.FAST_GZIP_LEVEL == 1
    assert clients[0].xfl and set(clients[0].xfl) == {4}  # gzip's mark of its fastest level
    with st.sync_writer_raw() as raw:  # the fake clock is days from the hub's: no warning
        raw.execute("UPDATE sync_state SET clock_skew_ms = NULL WHERE id = 1")
    vaccinate(st, staff, lot_id, 6, start=6)
    assert outbox.counts(st).waiting > 0
    port = urlsplit(hub.running.url).port
    assert port is not None
    with FaultProxy("127.0.0.1", port, Faults(latency_ms=300)) as proxy:
        clients, batches = _drain(st, proxy.url, token)
    assert batches >= 3
    assert clients[0].gzip_level == GZIP_LEVEL == 6
    assert clients[0].xfl and set(clients[0].xfl) == {0}  # level 6 (XFL 0: neither 1 nor 9)


def test_the_level_by_round_trip() -> None:
    assert fastlink.FAST_RTT_S == 0.015
    assert fastlink.gzip_level_for(0.0005) == 1
    assert fastlink.gzip_level_for(0.0149) == 1
    assert fastlink.gzip_level_for(0.015) == 6
    assert fastlink.gzip_level_for(0.6) == 6
    assert fastlink.gzip_level_for(-1.0) == 6  # a clock that went backwards proves nothing


class _Stop(Exception):
    pass


def test_the_retention_purge_runs_before_the_push(hub: HubFixture, st: Station, staff, lot_id, clock) -> None:  # noqa: F811
    """Ops answered past retention go before the push, in the wait for its imports (they went
    after the pull, on the cycle's tail); this cycle's answers are never among them."""
    from unittest import mock

    from kernel.clock import iso
    from sync import engine as engine_mod
    from tests.sync.test_engine_http import make_engine

    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 2)
    assert make_engine(st, hub.running.url, token).run_once().ok
    answered = outbox.counts(st).acked
    with st.sync_writer_raw() as raw:  # answered 40 days ago
        raw.execute("UPDATE sync_outbox SET ack_at = ? WHERE state = 'acked'", (iso(clock() - timedelta(days=40)),))
        raw.execute("UPDATE sync_state SET clock_skew_ms = NULL WHERE id = 1")
    vaccinate(st, staff, lot_id, 1, start=2)
    waiting = outbox.counts(st).waiting

    def crash(name: str) -> None:
        if name == "after_push_send_before_ack_commit":
            raise _Stop

    with mock.patch.object(engine_mod, "crash_point", crash), pytest.raises(_Stop):
        make_engine(st, hub.running.url, token).run_once()
    c = outbox.counts(st)
    assert answered > 0 and c.acked == 0  # purged before the push went out
    assert c.waiting == waiting  # the op in flight untouched, still unanswered
