"""Starting the real sync engine for an enrolled station, and the embedded demo hub.

A station is enrolled when its data holds a hub URL and the keyring holds its
token (``tramtiem enroll``). Then the app starts a :class:`sync.engine.SyncEngine`
on its own thread and the UI follows it through :class:`ui.bridge.EngineController`.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kernel.errors import StationError
from station.store import Station
from sync import cli as sync_cli
from sync.engine import SyncEngine, SyncSettings
from ui.bridge import EngineController

log = logging.getLogger(__name__)


@dataclass
class RunningSync:
    engine: SyncEngine
    controller: EngineController

    def stop(self) -> None:
        self.engine.stop(timeout=10.0)


def start_sync(st: Station, *, settings: SyncSettings | None = None) -> RunningSync | None:
    """Start the engine if the station is enrolled; None (and a log line) otherwise."""
    try:
        factory = sync_cli.client_factory_for(st)
    except StationError as exc:
        log.info("sync not started: %s", exc.code)
        return None
    engine = SyncEngine(st, factory, settings=settings or SyncSettings())
    controller = EngineController(engine, st.clock)
    engine.start()
    return RunningSync(engine, controller)


@dataclass(frozen=True)
class DemoSetup:
    data_dir: Path
    hub_url: str
    people: int
    expected_today: int


@contextmanager
def demo_station(people: int = 300, seed: int = 1, data_dir: Path | None = None) -> Iterator[DemoSetup]:
    """A throwaway station with demo data, enrolled with an embedded hub on 127.0.0.1.

    The hub (SQLite, in the same directory) runs on a background thread for as
    long as the context is open. The station key lives in a process-local
    keyring chosen explicitly: demo data is throwaway.
    """
    import shutil

    import keyring

    from station.memkeyring import ProcessKeyring

    keyring.set_keyring(ProcessKeyring())
    # A directory made here is throwaway (its key lives only in this process): removed at
    # the end, even after Ctrl+C. A directory the caller named is the caller's to keep.
    throwaway = data_dir is None
    ddir = data_dir or Path(tempfile.mkdtemp(prefix="tramtiem-demo-"))
    try:
        with _demo_hub(ddir, people, seed) as setup:
            yield setup
    finally:
        if throwaway:
            shutil.rmtree(ddir, ignore_errors=True)


@contextmanager
def _demo_hub(ddir: Path, people: int, seed: int) -> Iterator[DemoSetup]:
    from hub import service
    from hub.app import HubSettings
    from hub.db import Database
    from hub.ingest import utc_now
    from hub.server import run_hub
    from station.demo import generate
    from station.store import init_station
    from sync.client import HubClient
    from sync.protocol import EnrollRequest

    site = "DN-DEMO-01"
    hub_url = f"sqlite:///{ddir / 'hub.db'}"
    with run_hub(HubSettings(database_url=hub_url)) as hub:
        db = Database(hub_url)
        try:
            service.add_site(db, site, "Điểm tiêm thử nghiệm Biên Hòa", "75", now=utc_now())
            code = service.new_enrollment_code(db, site, ttl_hours=1, now=utc_now())
        finally:
            db.dispose()
        st = init_station(ddir / "station", site)
        try:
            summary = generate(st, people_count=people, seed=seed)
            with HubClient(hub.url) as client:
                resp = client.enroll(
                    EnrollRequest(code=code, station_id=st.install_id, station_name="demo")
                )
            sync_cli.store_token(st.install_id, resp.token)
            from station import replica

            replica.set_meta(st, sync_cli.HUB_URL_KEY, hub.url)
            replica.set_meta(st, sync_cli.SITE_NAME_KEY, resp.site_name)
        finally:
            st.close()
        yield DemoSetup(ddir / "station", hub.url, summary.people, summary.expected_today)
