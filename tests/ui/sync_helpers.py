"""Helpers for the UI sync acceptance tests: a real hub on 127.0.0.1, enrollment, a fast engine.

Everything here is real: the hub is ``hub.server.run_hub`` over a SQLite file
(in this process, or in a child process when the GUI thread's stalls are
measured, so the hub's own Python work does not compete for this process's
GIL, as on a real site where the hub is another machine); the station is
enrolled through the hub's ``/enroll`` API and keeps its token and hub URL the
way ``tramtiem enroll`` does; the engine is ``sync.engine.SyncEngine`` with
short intervals so a test does not wait 30 s between cycles.
"""

from __future__ import annotations

import subprocess
import sys
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import run_hub
from station import replica
from station.store import Station
from sync import cli as sync_cli
from sync.client import HubClient
from sync.engine import SyncEngine, SyncSettings
from sync.protocol import EnrollRequest
from tests.pg import migrated_sqlite_url
from ui.bridge import EngineController

HOST = "127.0.0.1"


class WallClock:
    """The station's clock: real time plus an offset that a test can move forward.

    The hub uses real time; a station clock days away from it would (rightly)
    be flagged as skewed and add a ``clock_skew`` review item to every test.
    """

    def __init__(self) -> None:
        self.offset = timedelta()
        self.frozen: datetime | None = None  # a test may stop the clock at a chosen instant

    def __call__(self) -> datetime:
        return (self.frozen or datetime.now(UTC)) + self.offset

    def advance(self, **kw: float) -> None:
        self.offset += timedelta(**kw)


_CHILD_HUB = """
import sys
from hub.app import HubSettings
from hub.server import run_hub
with run_hub(HubSettings(database_url=sys.argv[1]), port=int(sys.argv[2])) as hub:
    print(hub.port, flush=True)
    sys.stdin.read()  # until the parent closes the pipe
"""


class LiveHub:
    """A hub over a SQLite file that a test can stop and start again on the same port."""

    def __init__(self, directory: Path, site: str, *, child_process: bool = False) -> None:
        self.db_url = migrated_sqlite_url(directory / "hub.db")  # at head: no migration per test
        self.site = site
        self.child_process = child_process
        self.port = 0
        self._stack: ExitStack | None = None
        self._proc: subprocess.Popen[str] | None = None
        self._db: Database | None = None

    @property
    def url(self) -> str:
        assert self.port, "the hub was never started"
        return f"http://{HOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._stack is not None or self._proc is not None

    @property
    def db(self) -> Database:
        assert self._db is not None, "the hub was never started"
        return self._db

    def start(self) -> None:
        """Start (again): the first time on a free port, later on the same port."""
        assert not self.running
        if self.child_process:
            proc = subprocess.Popen(
                [sys.executable, "-c", _CHILD_HUB, self.db_url, str(self.port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            assert proc.stdout is not None
            line = proc.stdout.readline()  # blocks until the hub listens (or the child died)
            if not line.strip().isdigit():
                proc.kill()
                proc.wait(10)
                raise RuntimeError("the hub child process did not start")
            self._proc = proc
            self.port = int(line)
        else:
            stack = ExitStack()
            running = stack.enter_context(
                run_hub(HubSettings(database_url=self.db_url), HOST, self.port)
            )
            self._stack = stack
            self.port = running.port
        if self._db is None:
            self._db = Database(self.db_url)
            service.add_site(self._db, self.site, "Điểm tiêm thử", "75", now=utc_now())

    def stop(self) -> None:
        if self._stack is not None:
            self._stack.close()
            self._stack = None
        if self._proc is not None:
            proc, self._proc = self._proc, None
            assert proc.stdin is not None
            proc.stdin.close()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)

    def close(self) -> None:
        self.stop()
        if self._db is not None:
            self._db.dispose()
            self._db = None

    # ---- looking inside the hub ------------------------------------------------------------

    def scalar(self, sql: str, **params: object) -> object:
        with self.db.read() as s:
            return s.execute(text(sql), params).scalar()

    def count(self, sql: str, **params: object) -> int:
        return int(self.scalar(sql, **params) or 0)  # type: ignore[call-overload]

    # ---- enrollment ---------------------------------------------------------------------------

    def enroll(self, st: Station, name: str) -> None:
        """Enroll a station through ``/enroll``; keep token and URL as ``tramtiem enroll`` does."""
        code = service.new_enrollment_code(self.db, self.site, ttl_hours=1, now=utc_now())
        with HubClient(self.url) as client:
            resp = client.enroll(
                EnrollRequest(code=code, station_id=st.install_id, station_name=name)
            )
        assert resp.site_code == self.site
        sync_cli.store_token(st.install_id, resp.token)
        replica.set_meta(st, sync_cli.HUB_URL_KEY, self.url)


def fast_settings(**overrides: object) -> SyncSettings:
    values: dict[str, object] = {
        "interval_s": 0.3,
        "backoff_base_s": 0.2,
        "backoff_max_s": 1.0,
        "seed": 1,
    }
    values.update(overrides)
    return SyncSettings(**values)  # type: ignore[arg-type]


def build_engine(st: Station, **overrides: object) -> tuple[SyncEngine, EngineController]:
    """The engine as ``ui.sync_wiring.start_sync`` builds it (stored URL + token), with fast settings."""
    factory = sync_cli.client_factory_for(st, connect_timeout_s=2.0, read_timeout_s=30.0)
    engine = SyncEngine(st, factory, settings=fast_settings(**overrides))
    return engine, EngineController(engine, st.clock)


__all__ = ["LiveHub", "WallClock", "build_engine", "fast_settings"]
