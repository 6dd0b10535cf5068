"""A throwaway station enrolled with a hub on 127.0.0.1, and the selftest's hub check."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sync import cli as sync_cli


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


def check_hub(tmp: Path) -> dict[str, object]:
    """The embedded hub can start here: its migrations run, its web stack imports."""
    from hub.db import migrate, sqlite_url

    migrate(sqlite_url(tmp / "hub.db"))
    import fastapi
    import uvicorn

    return {"fastapi": fastapi.__version__, "uvicorn": uvicorn.__version__}
