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

# The revision just before issue 11's (0006_hardening, after clinical 0004 and truecount 0005).
BEFORE_HARDENING = "0005"


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
def test_0005_counts_existing_doses_by_origin_and_takes_old_tallies_as_legacy(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    """Origins come from the ledger; counters from one grouped scan; an old tally (which
    counted the siblings' doses too) is taken to owe exactly its own pending."""
    import json

    from hub import counters, service
    from hub.db import Database

    url = hub_database_url(backend, tmp_path, pg)
    migrate(url, "0004")
    engine = create_engine(url)
    now = "2026-12-01T02:00:00.000+00:00"
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO site (code, name, province_code, created_at) "
                    "VALUES ('S1', 'Điểm 1', '75', :t)"
                ),
                {"t": now},
            )
            for sid in ("st-a", "st-b"):
                conn.execute(
                    text(
                        "INSERT INTO station (id, site_code, name, token_hash, revoked, enrolled_at, "
                        "skew_flagged) VALUES (:i, 'S1', :nm, :h, 0, :t, 0)"
                    ),
                    {"i": sid, "nm": sid, "h": sid * 8, "t": now},
                )
            doses = [("d1", "st-a", 0), ("d2", "st-a", 1), ("d3", "st-b", 0), ("d4", None, 0)]
            for n, (did, sid, voided) in enumerate(doses, start=1):
                conn.execute(
                    text(
                        "INSERT INTO dose (id, person_id, site_code, vaccine_code, dose_number, kind, "
                        "administered_at, day, recorded_at, source, voided, version) VALUES "
                        "(:i, 'p', 'S1', 'PFIZER', 1, 'primary', :t, '2026-12-01', :t, 'site', :v, 1)"
                    ),
                    {"i": did, "t": now, "v": voided},
                )
                if sid is None:
                    continue  # no ledger entry: origin unknown
                conn.execute(
                    text(
                        "INSERT INTO applied_op (op_id, station_id, replica_epoch, op_seq, op_type, "
                        "payload_sha256, status, result, received_at) VALUES "
                        "(:o, :s, 'e', :n, 'record_dose', 'x', 'applied', '{}', :t)"
                    ),
                    {"o": f"op-{did}", "s": sid, "n": n, "t": now},
                )
                conn.execute(
                    text(
                        "INSERT INTO change_log (server_seq, scope, entity_type, entity_id, kind, "
                        "row_version, data, origin_op_id) VALUES (:n, 'S1', 'dose', :i, 'upsert', 1, "
                        "'{}', :o)"
                    ),
                    {"n": n, "i": did, "o": f"op-{did}"},
                )
            old_tally = {
                "rows": [{"day": "2026-12-01", "vaccine_code": "PFIZER", "lot_number": None,
                          "entered": 4, "pending": 1, "acknowledged": 3}],
                "outbox_pending": 2,
            }
            conn.execute(
                text("INSERT INTO station_tally (station_id, tally, received_at) VALUES ('st-a', :j, :t)"),
                {"j": json.dumps(old_tally), "t": now},
            )
        migrate(url)
        with engine.connect() as conn:
            origins = dict(conn.execute(text("SELECT id, origin_station FROM dose")).all())  # type: ignore[arg-type]
            assert origins == {"d1": "st-a", "d2": "st-a", "d3": "st-b", "d4": None}
            rows = {
                r[0]: tuple(r[1:])
                for r in conn.execute(
                    text(
                        "SELECT station_id, held_all, held_valid, t_all_entered, t_pending "
                        "FROM station_day WHERE day = '2026-12-01'"
                    )
                )
            }
            # st-a holds 2 (1 voided) and owes its 1 pending, not its inflated "entered 4".
            assert rows == {"st-a": (2, 1, 3, 1), "st-b": (1, 1, 0, 0), "": (1, 1, 0, 0)}
            legacy = conn.execute(
                text("SELECT legacy, outbox_pending FROM station_tally WHERE station_id = 'st-a'")
            ).one()
            assert tuple(legacy) == (1, 2)
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == [], diff
        db = Database(url)
        try:
            with db.read() as s:
                assert counters.verify(s) == []
            summ = service.site_summary(db, "S1")
            assert (summ.received, summ.given, summ.gap) == (3, 4, 1)
        finally:
            db.dispose()
    finally:
        engine.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_hardening_keys_the_earliest_active_holder_of_each_id_number(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    """Persons stored before the hardening migration, the race's double included: the
    earliest active holder of a number gets its key, later ones (and merged persons) none;
    lockout counts move to login_guard."""
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
