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

import bisect
import gc
import itertools
import subprocess
import sys
import threading
import time
import traceback
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QTimer
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
        self.db_url = f"sqlite:///{directory / 'hub.db'}"
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


class StallMeter:
    """How long the GUI thread's event loop stalls, and whose fault a stall was.

    A 10 ms QTimer ticks on the GUI thread: the longest gap between two ticks is
    the worst stall a user would feel. A plain Python thread (the probe) wakes
    every 10 ms at the same time: while the whole process is paused (a full
    garbage collection, the GIL held by another thread, the machine's CPU taken
    by other processes) the probe is late too. The part of a GUI gap during
    which the probe kept waking is the GUI thread's own doing: a blocking call
    on the GUI thread, or slow work in a slot. When the GUI thread is late, its
    Python stack is sampled, so a failure says where it was.
    """

    def __init__(self, interval_ms: int = 10, sample_after_ms: int = 120) -> None:
        self.ticks: list[float] = []  # monotonic times of the GUI timer's ticks
        self.wakes: list[float] = []  # monotonic times of the probe's wake-ups
        self.gc_pauses: list[tuple[float, int, int]] = []  # (start, ms, generation), any thread
        self.samples: list[tuple[int, str]] = []  # (ms late, GUI thread stack)
        self._interval_ms = interval_ms
        self._sample_after = sample_after_ms / 1000
        self._timer = QTimer()
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._gui_ident = threading.get_ident()
        self._stop = threading.Event()
        self._probe: threading.Thread | None = None
        self._gc_started = 0.0

    def _tick(self) -> None:
        self.ticks.append(time.monotonic())

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_started = time.monotonic()
        else:
            ms = int((time.monotonic() - self._gc_started) * 1000)
            self.gc_pauses.append((self._gc_started, ms, info["generation"]))

    def _run_probe(self) -> None:
        sampled_for = 0.0
        while not self._stop.wait(self._interval_ms / 1000):
            now = time.monotonic()
            self.wakes.append(now)
            last = self.ticks[-1] if self.ticks else now
            if now - last >= self._sample_after and sampled_for != last:
                sampled_for = last
                frame = sys._current_frames().get(self._gui_ident)
                stack = "".join(traceback.format_stack(frame, limit=8)) if frame else "(no frame)"
                self.samples.append((int((now - last) * 1000), stack))

    def start(self) -> None:
        self.ticks.append(time.monotonic())
        gc.callbacks.append(self._gc)
        self._timer.start()
        self._stop.clear()
        self._probe = threading.Thread(target=self._run_probe, name="stall-probe", daemon=True)
        self._probe.start()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        if self._probe is not None:
            self._probe.join(5)
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)

    # ---- figures ------------------------------------------------------------------------------

    def gaps_ms(self) -> list[int]:
        return [int((b - a) * 1000) for a, b in itertools.pairwise(self.ticks)]

    @property
    def worst_ms(self) -> int:
        return max(self.gaps_ms(), default=0)

    def over(self, ms: int) -> int:
        return sum(1 for g in self.gaps_ms() if g > ms)

    def _paused_within(self, a: float, b: float) -> float:
        """The longest stretch of [a, b] during which the probe did not wake (process paused)."""
        lo = bisect.bisect_left(self.wakes, a)
        hi = bisect.bisect_right(self.wakes, b)
        points = [a, *self.wakes[lo:hi], b]
        return max((q - p for p, q in itertools.pairwise(points)), default=b - a)

    def worst_own_ms(self) -> int:
        """The worst GUI gap minus the process-wide pause inside it: the GUI thread's own stall."""
        worst = 0.0
        for a, b in itertools.pairwise(self.ticks):
            if b - a > 0.05:
                worst = max(worst, (b - a) - self._paused_within(a, b))
        return int(worst * 1000)

    def worst_probe_ms(self) -> int:
        return int(max((b - a for a, b in itertools.pairwise(self.wakes)), default=0) * 1000)

    def long_gc_pauses(self, ms: int = 50) -> list[tuple[int, int]]:
        """(ms, generation) of the garbage collections longer than ``ms``."""
        return [(d, g) for _t, d, g in self.gc_pauses if d > ms]

    def where(self, limit: int = 3) -> str:
        """The GUI thread's stack during the first few stalls (for a failure message)."""
        return "\n".join(f"--- GUI late by {ms} ms:\n{stack}" for ms, stack in self.samples[:limit])


__all__ = ["LiveHub", "StallMeter", "WallClock", "build_engine", "fast_settings"]
