"""Hub test fixtures: a live hub over real HTTP (SQLite file and PostgreSQL), real stations.

``hub`` is parametrised over both backends. ``make_station(site)`` creates a real
encrypted station (``station.store.init_station``) with staff and a lot, enrolls
it with the hub through the API, and wraps it in a :class:`Sim` that pushes the
station's true outbox ops and pulls its scope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import RunningHub, run_hub
from station.dto import LotInput, UserInput
from station.services import admin
from station.store import Actor, Station, init_station
from sync.protocol import API_PREFIX
from tests.conftest import FakeClock
from tests.pg import PgCluster, migrated_hub_url

PASSWORD = "mat-khau-123"


@dataclass
class Hub:
    running: RunningHub
    db: Database
    backend: str
    client: httpx.Client

    @property
    def api(self) -> str:
        return self.running.url + API_PREFIX

    def add_site(self, code: str) -> None:
        service.add_site(self.db, code, f"Điểm tiêm {code}", "75", now=utc_now())

    def code(self, site: str, ttl_hours: float = 1.0) -> str:
        return service.new_enrollment_code(self.db, site, ttl_hours=ttl_hours, now=utc_now())

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.db.read() as s:
            return s.execute(text(sql), params).scalar()

    def count(self, table: str) -> int:
        return int(self.scalar(f"SELECT count(*) FROM {table}"))


@pytest.fixture(params=["sqlite", "postgresql"])
def hub(request: pytest.FixtureRequest, tmp_path: Path, pg: PgCluster | None) -> Iterator[Hub]:
    url = migrated_hub_url(request.param, tmp_path, pg)  # at head: no migration per test
    with run_hub(HubSettings(database_url=url)) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            yield Hub(running, db, request.param, client)
        finally:
            db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path, pg: PgCluster | None) -> Iterator[Database]:
    """A migrated hub database of each backend, no server (a module's own ``db`` overrides it)."""
    database = Database(migrated_hub_url(request.param, tmp_path, pg))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_hub(tmp_path: Path) -> Iterator[Hub]:
    url = migrated_hub_url("sqlite", tmp_path, None)
    with run_hub(HubSettings(database_url=url)) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            yield Hub(running, db, "sqlite", client)
        finally:
            db.dispose()


@dataclass
class Staff:
    clerk: Actor
    screener: Actor
    supervisor: Actor


@dataclass
class Sim:
    """A real station enrolled with the hub; pushes its outbox as the sync engine would."""

    hub: Hub
    st: Station
    token: str
    staff: Staff
    lot_id: str
    pushed_upto: int = 0
    cursor: int = 0
    pulled: list[dict[str, Any]] = field(default_factory=list)

    @property
    def site(self) -> str:
        return self.st.site_code

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def epoch(self) -> str:
        return str(self.st.sync_state()["replica_epoch"])

    def outbox(self, *, all_ops: bool = False) -> list[dict[str, Any]]:
        import json

        with self.st.read() as conn:
            rows = conn.execute(
                text(
                    "SELECT op_id, op_seq, op_type, op_version, entity_type, entity_id, base_version, "
                    "payload, hlc, recorded_at, user_id FROM sync_outbox WHERE op_seq > :s ORDER BY op_seq"
                ),
                {"s": 0 if all_ops else self.pushed_upto},
            ).mappings()
            return [dict(r) | {"payload": json.loads(r["payload"])} for r in rows]

    def body(self, ops: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
        return {
            "protocol_version": 1,
            "station_id": self.st.install_id,
            "replica_epoch": self.epoch,
            "schema_version": "0002",
            "sent_at": datetime.now(UTC).isoformat(),
            "ops": ops,
        } | over

    def post_push(self, ops: list[dict[str, Any]], **over: Any) -> httpx.Response:
        return self.hub.client.post(
            self.hub.api + "/push", json=self.body(ops, **over), headers=self.headers
        )

    def push(self) -> dict[str, Any]:
        """Push every op not yet pushed; assert 200; remember how far we got."""
        ops = self.outbox()
        r = self.post_push(ops)
        assert r.status_code == 200, r.text
        out: dict[str, Any] = r.json()
        done = {res["op_id"] for res in out["results"]}
        for op in ops:
            if op["op_id"] in done:
                self.pushed_upto = op["op_seq"]
        return out

    def pull(self, limit: int = 500) -> list[dict[str, Any]]:
        """Pull to the head; returns the new changes (also kept in ``pulled``)."""
        new: list[dict[str, Any]] = []
        while True:
            r = self.hub.client.get(
                self.hub.api + "/pull",
                params={"cursor": self.cursor, "limit": limit},
                headers=self.headers,
            )
            assert r.status_code == 200, r.text
            page = r.json()
            new += page["changes"]
            self.cursor = page["next_cursor"]
            if not page["has_more"]:
                break
        self.pulled += new
        return new

    def seen(self, entity_type: str) -> dict[str, dict[str, Any]]:
        """Latest pulled data per entity id of one type."""
        out: dict[str, dict[str, Any]] = {}
        for ch in self.pulled:
            if ch["entity_type"] == entity_type:
                out[ch["entity_id"]] = ch["data"]
        return out


@pytest.fixture
def make_station(tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    opened: list[Station] = []
    n = 0

    def make(hub: Hub, site: str, *, clock: FakeClock | None = None, letter: str = "A") -> Sim:
        nonlocal n
        n += 1
        if hub.scalar("SELECT count(*) FROM site WHERE code = :c", c=site) == 0:
            hub.add_site(site)
        st = init_station(
            tmp_path / f"st{n}", site, clock=clock or FakeClock(), station_letter=letter
        )
        opened.append(st)
        system = Actor.system(site)
        for name, role in (("thuky", "clerk"), ("bacsi", "screener"), ("giamsat", "supervisor")):
            admin.create_user(st, system, UserInput(name, f"Người dùng {role}", role, PASSWORD))
        staff = Staff(
            clerk=admin.login(st, "thuky", PASSWORD),
            screener=admin.login(st, "bacsi", PASSWORD),
            supervisor=admin.login(st, "giamsat", PASSWORD),
        )
        lot = admin.upsert_lot(
            st, staff.supervisor, LotInput("PFIZER", f"FK{n:04d}", "30/06/2027", 500)
        )
        r = hub.client.post(
            hub.api + "/enroll",
            json={"code": hub.code(site), "station_id": st.install_id, "station_name": f"may {n}"},
        )
        assert r.status_code == 200, r.text
        return Sim(hub, st, r.json()["token"], staff, lot.id)

    yield make
    for st in opened:
        st.close()
