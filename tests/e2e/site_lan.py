"""A site on loopback: a province hub, a site hub relaying to it, real desks (issue 14).

The province is a real hub over HTTP; the site hub is the same app in relay mode
(``hub.site_hub``) on its own SQLite file, reaching the province through our fault proxy
so a test can cut and restore the site's line. Desks are real encrypted stations with
real sync engines, one per route. Namespaces (issue 14's LAN part) are built beside this;
here everything is on 127.0.0.1.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from sqlalchemy import text

from hub import relay, service, site_hub
from hub.app import HubSettings, create_app
from hub.db import Database
from hub.ingest import utc_now
from hub.routes.context import HubContext
from hub.server import RunningHub, run_hub, serve_app
from station.dto import LotInput, UserInput
from station.services import admin
from station.store import Actor, Station, init_station
from sync.client import HubClient
from sync.engine import SyncEngine, SyncSettings
from sync.protocol import EnrollRequest
from tests.faults.faultproxy import FaultProxy, Faults
from tests.pg import migrated_sqlite_url

PASSWORD = "mat-khau-123"
ROLES = {"tnv": "volunteer", "thuky": "clerk", "bacsi": "screener", "giamsat": "supervisor"}


def wait_until(cond: Callable[[], bool], *, timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``cond`` (bounded in time and rounds); fail the test if it never holds."""
    deadline = time.monotonic() + timeout_s
    for _ in range(100_000):
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


@dataclass
class Desk:
    name: str
    st: Station
    token: str
    province_url: str
    site_hub_url: str | None = None

    def staff(self) -> dict[str, Actor]:
        return {role: admin.login(self.st, user, PASSWORD) for user, role in ROLES.items()}

    def engine(self, route: str = "province", url: str | None = None) -> SyncEngine:
        base = url or (self.site_hub_url if route == "site_hub" else self.province_url)
        assert base is not None

        def factory() -> HubClient:
            return HubClient(base, self.token, connect_timeout_s=2.0, read_timeout_s=15.0)

        return SyncEngine(self.st, factory, settings=SyncSettings(seed=1, long_poll_s=0), route=route)

    def sync(self, route: str = "site_hub") -> Any:
        report = self.engine(route).run_once()
        assert report.ok, (self.name, route, report.error)
        return report

    def states(self) -> dict[str, int]:
        with self.st.read() as conn:
            return {str(k): int(v) for k, v in conn.execute(
                text("SELECT state, count(*) FROM sync_outbox GROUP BY state"))}

    def op_ids(self) -> set[str]:
        with self.st.read() as conn:
            return {str(r) for r in conn.execute(text("SELECT op_id FROM sync_outbox")).scalars()}


@dataclass
class SiteHubProc:
    running: RunningHub
    db: Database
    hub: site_hub.SiteHub

    @property
    def url(self) -> str:
        return self.running.url

    def waiting(self) -> int:
        return site_hub.waiting_ops(self.db)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.db.read() as s:
            return s.execute(text(sql), params).scalar()


@dataclass
class Lan:
    """The province, its line to the site (a fault proxy), the site hub and the desks."""

    tmp: Path
    site: str
    province: RunningHub
    pdb: Database
    line: FaultProxy
    desks: dict[str, Desk]
    site_hub: SiteHubProc | None = None

    def line_down(self) -> None:
        # A cut line: new connections reset, and those already open (a keep-alive pull) too.
        self.line.set_faults(Faults(reset_prob=1.0), drop_open=True)

    def line_up(self) -> None:
        self.line.set_faults(Faults())

    def pscalar(self, sql: str, **params: Any) -> Any:
        with self.pdb.read() as s:
            return s.execute(text(sql), params).scalar()

    def enroll(
        self, name: str, *, installer: bool = False, site: str | None = None, install_id: str | None = None
    ) -> Desk:
        site = site or self.site
        st = init_station(
            self.tmp / name, site, station_letter=chr(ord("A") + len(self.desks)), install_id=install_id
        )
        code = service.new_enrollment_code(self.pdb, site, ttl_hours=1, now=utc_now())
        with HubClient(self.province.url) as c:
            token = c.enroll(EnrollRequest(code=code, station_id=st.install_id, station_name=name)).token
        if installer:
            system = Actor.system(site)
            for user, role in ROLES.items():
                admin.create_user(st, system, UserInput(user, f"Người dùng {role}", role, PASSWORD))
            sup = admin.login(st, "giamsat", PASSWORD)
            admin.upsert_lot(st, sup, LotInput("PFIZER", "FK0891", "30/06/2027", 500))
        desk = Desk(name, st, token, self.province.url,
                    self.site_hub.url if self.site_hub is not None else None)
        self.desks[name] = desk
        return desk

    def wait_settled(self) -> None:
        """Until the site hub has forwarded everything and pulled the province to its head."""
        sh = self.site_hub
        assert sh is not None
        wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
        head = int(self.pscalar("SELECT seq FROM hub_clock WHERE id = 1"))
        wait_until(
            lambda: int(sh.scalar("SELECT value FROM hub_meta WHERE key = 'relay.cursor'") or 0) >= head,
            what="the site hub to pull the province's head",
        )

    def lot_id(self) -> str:
        return str(self.pscalar("SELECT id FROM vaccine_lot WHERE site_code = :s", s=self.site))


@contextmanager
def site_lan(tmp: Path, site: str = "DN-LAN-01", *, province_url: str | None = None) -> Iterator[Lan]:
    """``province_url``: the province's database (a migrated PostgreSQL one, say); SQLite by default."""
    purl = province_url or migrated_sqlite_url(tmp / "province.db")
    with run_hub(HubSettings(database_url=purl)) as province:
        pdb = Database(purl)
        service.add_site(pdb, site, "Trạm Y tế Phường 1", "75", now=utc_now())
        line = FaultProxy("127.0.0.1", province.port, seed=3)
        line.start()
        lan = Lan(tmp, site, province, pdb, line, {})
        try:
            yield lan
        finally:
            for d in lan.desks.values():
                d.st.close()
            line.stop()
            pdb.dispose()


@contextmanager
def run_site_hub(
    lan: Lan, *, data: Path | None = None, enroll: bool = True, tls_dir: Path | None = None,
    on_app: Callable[[FastAPI], None] | None = None,
) -> Iterator[SiteHubProc]:
    """The site hub on its SQLite file (kept across restarts in ``data``), relaying through
    the line; its tasks short-timed for tests. ``tls_dir``: enrolled with a CSR, it serves
    HTTPS with the certificate the province issued (kept there). ``on_app``: called with the
    app before it serves (a test adds a middleware that counts requests)."""
    path = data or (lan.tmp / "site-hub.db")
    url = migrated_sqlite_url(path)
    db = Database(url)
    if enroll and site_hub.load_link(db) is None:
        code = relay.new_relay_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
        site_hub.enroll(db, lan.province.url, code, data_dir=tls_dir)
    site_hub.set_province_url(db, lan.line.url)
    link = site_hub.load_link(db)
    assert link is not None
    made: list[site_hub.SiteHub] = []

    def hook(ctx: HubContext) -> None:
        sh = site_hub.SiteHub(ctx.db, link, long_poll_s=1.0, backoff_max_s=1.0, roster_every_s=60.0,
                              roster_min_gap_s=0.2)
        sh.install(ctx)
        made.append(sh)

    app = create_app(HubSettings(database_url=url, migrate_on_start=False), ctx_hook=hook)
    if on_app is not None:
        on_app(app)
    identity = site_hub.tls_identity(tls_dir) if tls_dir is not None else None
    tls = {"ssl_certfile": str(identity[0]), "ssl_keyfile": str(identity[1])} if identity else {}
    with serve_app(app, **tls) as running:
        made[0].start()
        proc = SiteHubProc(running, db, made[0])
        lan.site_hub = proc
        for d in lan.desks.values():
            d.site_hub_url = running.url
        try:
            yield proc
        finally:
            made[0].stop()
            db.dispose()
