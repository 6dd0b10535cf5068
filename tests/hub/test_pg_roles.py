"""The PostgreSQL roles of docs/hub-deployment.md: the hub runs, and syncs, without DDL or DELETE.

The schema is created by an owner role; the hub runs as an app role with the
grants the guide prints (kept in step with it by hand: GRANTS below). A real
station then syncs a clinic day through the real engine, and the app role is
shown unable to delete a dose or change the schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from hub import service
from hub.app import HubSettings
from hub.db import Database, migrate
from hub.ingest import utc_now
from hub.server import run_hub
from station import replica
from station.demo import ensure_lots, ensure_users
from station.dto import DoseInput
from station.services import admin, clinical, people
from station.store import init_station
from sync import cli as sync_cli
from sync.client import HubClient
from sync.engine import SyncEngine
from sync.protocol import EnrollRequest
from tests.pg import PgCluster
from tests.station.helpers import ELIGIBLE_4355, person

# docs/hub-deployment.md, section 2 (owner -> app).
GRANTS = """
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA public TO {app};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {app};
GRANT DELETE ON person_redirect, dashboard_session TO {app};
"""


def _connect(pg: PgCluster, user: str, db: str) -> psycopg.Connection:
    return psycopg.connect(f"host=127.0.0.1 port={pg.port} user={user} dbname={db}",
                           autocommit=True)


@pytest.fixture
def roles(pg: PgCluster | None) -> Iterator[tuple[str, str]]:
    """(owner URL, app URL) of a fresh database set up as the guide says."""
    if pg is None:
        pytest.skip("PostgreSQL binaries not installed (CI must have them)")
    tag = uuid.uuid4().hex[:8]
    owner, app, db = f"tt_owner_{tag}", f"tt_app_{tag}", f"tt_{tag}"
    with _connect(pg, "postgres", "postgres") as su:
        su.execute(f"CREATE ROLE {owner} LOGIN")
        su.execute(f"CREATE ROLE {app} LOGIN")
        su.execute(f"CREATE DATABASE {db} OWNER {owner} ENCODING 'UTF8' TEMPLATE template0")
    with _connect(pg, "postgres", db) as su:
        su.execute("REVOKE ALL ON SCHEMA public FROM PUBLIC")
        su.execute(f"GRANT USAGE ON SCHEMA public TO {app}")
        su.execute(f"GRANT CREATE ON SCHEMA public TO {owner}")  # PostgreSQL 15+: not by default
    base = f"postgresql+psycopg://{{}}@127.0.0.1:{pg.port}/{db}"
    migrate(base.format(owner))
    with _connect(pg, owner, db) as conn:
        for stmt in filter(None, (s.strip() for s in GRANTS.format(app=app).split(";"))):
            conn.execute(stmt)
    yield base.format(owner), base.format(app)


def test_hub_syncs_as_the_app_role_which_cannot_delete_or_alter(
    roles: tuple[str, str], pg: PgCluster, tmp_path: Path
) -> None:
    _owner_url, app_url = roles
    db = Database(app_url)
    try:
        service.add_site(db, "DN-PG-01", "Điểm tiêm", "75", now=utc_now())
        code = service.new_enrollment_code(db, "DN-PG-01", ttl_hours=1, now=utc_now())
    finally:
        db.dispose()
    # migrate_on_start: at head, the app role only reads alembic_version.
    with run_hub(HubSettings(database_url=app_url, migrate_on_start=True)) as hub:
        st = init_station(tmp_path / "station", "DN-PG-01")
        try:
            with HubClient(hub.url) as client:
                resp = client.enroll(EnrollRequest(code=code, station_id=st.install_id))
            sync_cli.store_token(st.install_id, resp.token)
            replica.set_meta(st, sync_cli.HUB_URL_KEY, hub.url)
            actors = ensure_users(st)
            ensure_lots(st, actors["supervisor"], st.today())
            lot = admin.list_lots(st)[0]
            pid = people.register_walk_in(st, actors["volunteer"], person()).person.id
            clinical.record_screening(st, actors["screener"], pid, answers=ELIGIBLE_4355,
                                      outcome="eligible")
            dose = clinical.record_dose(st, actors["clerk"], DoseInput(pid, lot.id))
            clinical.void_dose(st, actors["supervisor"], dose.id, "ghi nhầm")
            people.update_person(st, actors["supervisor"], pid, {"phone": "0977111222"})
            report = SyncEngine(st, sync_cli.client_factory_for(st)).run_once()
            assert report.ok and report.pending_left == 0 and report.rejected == 0, report
        finally:
            st.close()

    app_user = app_url.split("//")[1].split("@")[0]
    db_name = app_url.rsplit("/", 1)[1]
    with _connect(pg, app_user, db_name) as conn:
        assert conn.execute("SELECT count(*) FROM dose").fetchone() == (1,)
        for stmt in ("DELETE FROM dose", "DELETE FROM applied_op", "DROP TABLE dose",
                     "CREATE TABLE sneaky (x int)", "TRUNCATE change_log"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(stmt)
