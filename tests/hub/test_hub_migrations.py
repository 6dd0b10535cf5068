"""Hub schema migrations: an older hub database upgrades in place and matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, text

from hub.db import migrate
from hub.models import Base
from tests.pg import PgCluster, hub_database_url

# The revision just before issue 11's (0004_hardening re-chained after the other branches).
BEFORE_HARDENING = "0004"


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0002_hub_upgrades_keeping_its_change_log(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    url = hub_database_url(backend, tmp_path, pg)
    migrate(url, "0002")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO change_log (server_seq, scope, entity_type, entity_id, kind, "
                    "row_version, data, origin_op_id) VALUES (7, 'S1', 'dose', 'd1', 'upsert', 1, "
                    "'{\"id\": \"d1\"}', NULL)"
                )
            )
        migrate(url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT server_seq, scope, echo_for FROM change_log")).one()
            assert tuple(row) == (7, "S1", None)
            # The models and the migrations describe the same schema.
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0003_hub_upgrades_its_doses_to_volume_and_override(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    """Issue 12: doses stored before 0004 keep everything; volume and override are NULL."""
    url = hub_database_url(backend, tmp_path, pg)
    migrate(url, "0003")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO dose (id, person_id, site_code, vaccine_code, lot_id, lot_number, "
                    "dose_number, kind, administered_at, day, recorded_at, vaccinator_id, "
                    "screening_id, injection_site, source, observe_until, observed_at, voided, "
                    "void_reason, voided_by, voided_at, version, merged_from) VALUES ('d1', 'p1', "
                    "'S1', 'AZ', NULL, 'NJ0359', 1, 'primary', '2021-09-01T09:00:00+07:00', "
                    "'2021-09-01', '2021-09-01T09:01:00+07:00', 'u1', NULL, 'left_deltoid', 'site', "
                    "NULL, NULL, 0, NULL, NULL, NULL, 1, NULL)"
                )
            )
        migrate(url)
        with engine.connect() as conn:
            row = conn.execute(
                text("SELECT lot_number, injection_site, volume_ml, override_by, override_reason "
                     "FROM dose WHERE id = 'd1'")
            ).one()
            assert tuple(row) == ("NJ0359", "left_deltoid", None, None, None)
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hardening_keys_the_earliest_active_holder_of_each_id_number(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    """Persons stored before the hardening migration, the race's double included: the earliest active holder
    of a number gets its key, later ones (and merged persons) none; lockout counts move to
    login_guard."""
    url = hub_database_url(backend, tmp_path, pg)
    migrate(url, BEFORE_HARDENING)
    engine = create_engine(url)
    person = (
        "INSERT INTO person (id, full_name, name_fold, birth, birth_year, id_type, id_number, "
        "status, origin_site, version, created_at, updated_at) VALUES (:id, 'A', 'a', '1985', "
        "1985, 'cccd', :n, :st, 'S1', 1, :at, :at)"
    )
    try:
        with engine.begin() as conn:
            for pid, number, status, at in (
                ("p-late", "075185000001", "active", "2026-12-01T10:00:00+07:00"),
                ("p-early", "075185000001", "active", "2026-12-01T09:00:00+07:00"),
                ("p-merged", "075185000001", "merged", "2026-12-01T08:00:00+07:00"),
                ("p-alone", "075185000002", "active", "2026-12-01T09:00:00+07:00"),
                ("p-none", None, "active", "2026-12-01T09:00:00+07:00"),
            ):
                conn.execute(text(person), {"id": pid, "n": number, "st": status, "at": at})
            conn.execute(
                text(
                    "INSERT INTO dashboard_user (username, password_hash, role, scope_code, active, "
                    "failed_logins, locked_until, created_at) VALUES ('tinh75', 'h', 'province', "
                    "'75', 1, 3, NULL, '2026-12-01T00:00:00+00:00')"
                )
            )
        migrate(url)
        with engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT id, id_key FROM person")).all())
            assert keys == {
                "p-late": None,
                "p-early": "075185000001",
                "p-merged": None,
                "p-alone": "075185000002",
                "p-none": None,
            }
            assert conn.execute(text("SELECT username FROM dashboard_user")).scalar() == "tinh75"
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff
    finally:
        engine.dispose()
