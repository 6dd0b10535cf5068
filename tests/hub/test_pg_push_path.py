"""The PostgreSQL push path (issue 15, branch pgpush): plans of the look-ups, locks, indexes."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from hub.apply.bulk import ids_in
from hub.apply.context import lock_rows
from hub.db import Database, migrate
from sync.protocol import Op
from tests.pg import PgCluster, hub_database_url

DOSE_LOOKUP = "SELECT id, person_id, vaccine_code, dose_number, day, voided FROM dose WHERE person_id IN :ids"


def test_the_push_look_ups_are_planned_for_their_own_array(tmp_path: Path, pg: PgCluster | None) -> None:
    """psycopg prepares a statement at its fifth run; PostgreSQL then kept a generic plan of
    ``person_id = ANY($1)`` made for a 10-element array and the table as it was, and on a
    table that grew since (a fresh hub's first drain, before autovacuum analysed it) that
    plan read every dose row per look-up, testing it against the whole array: 60% of the
    backends' time of a drain. Every execution must get a plan of its own (the hub's
    sessions run with ``plan_cache_mode = force_custom_plan``)."""
    url = hub_database_url("postgresql", tmp_path, pg)
    migrate(url)
    db = Database(url)
    try:
        wanted = [f"p{i}" for i in range(1, 501)]
        with db.write() as s:
            _add_doses_in(s, 1, 10)
            # psycopg prepares at the 5th run; PostgreSQL weighs a generic plan after 5
            # custom ones: a dozen runs on a small table, as at the start of a first drain.
            for _ in range(12):
                assert len(ids_in(s, DOSE_LOOKUP, wanted)) == 10
            _add_doses_in(s, 11, 5000)  # the table grows (no ANALYZE in between)
            for _ in range(3):
                assert len(ids_in(s, DOSE_LOOKUP, wanted)) == 500
            plans = s.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%FROM dose WHERE person_id = ANY%'"
                )
            ).all()
        assert plans, "the look-up was prepared (psycopg's prepare threshold)"
        assert all(int(generic) == 0 for generic, _custom in plans), plans
        with db.read() as s:
            assert s.execute(text("SHOW plan_cache_mode")).scalar_one() == "force_custom_plan"
    finally:
        db.dispose()


def _add_doses_in(s: Session, first: int, n: int) -> None:
    s.execute(
        text(
            "INSERT INTO dose (id, person_id, site_code, vaccine_code, lot_number, dose_number, kind, "
            "administered_at, day, recorded_at, vaccinator_id, source, voided, version) "
            "SELECT 'd' || g, 'p' || g, 'S1', 'BCG', 'L1', 1, 'primary', '2026-01-01T08:00:00Z', "
            "'2026-01-01', '2026-01-01T08:00:00Z', 'u1', 'site', 0, 1 "
            "FROM generate_series(CAST(:a AS int), CAST(:b AS int)) AS g"
        ),
        {"a": first, "b": first + n - 1},
    )


def _dose_op(person_id: str) -> Op:
    return Op(
        op_id="018f0000-0000-7000-8000-000000000001",
        op_seq=1,
        op_type="record_dose",
        entity_type="dose",
        entity_id="d-new",
        payload={"person_id": person_id},
        hlc="",
        recorded_at="2026-01-01T08:00:00.000Z",
        user_id=None,
    )


def test_lock_rows_holds_the_persons_and_their_merge_survivors(tmp_path: Path, pg: PgCluster | None) -> None:
    """A push's persons (and the survivors they were merged into) are locked until its
    COMMIT: a second transaction locking one of them waits (``NOWAIT`` fails at once)."""
    url = hub_database_url("postgresql", tmp_path, pg)
    migrate(url)
    db = Database(url)
    try:
        with db.write() as s:
            for pid in ("pa", "pb", "pc"):
                s.execute(
                    text(
                        "INSERT INTO person (id, full_name, name_fold, birth, birth_year, id_type, origin_site, status, "
                        "created_at, updated_at, version) VALUES (:p, 'X', 'x', '2000-01-01', 2000, 'none', 'S1', "
                        "'active', '2026-01-01', '2026-01-01', 1)"
                    ),
                    {"p": pid},
                )
            s.execute(text("INSERT INTO person_redirect (from_id, to_id, created_at, version) "
                           "VALUES ('pa', 'pb', '2026-01-01', 1)"))
        held = threading.Event()
        release = threading.Event()

        def holder() -> None:
            with db.write() as s:
                s.info["locked_persons"] = set()
                lock_rows(s, [_dose_op("pa")])
                assert s.info["locked_persons"] >= {"pa", "pb"}
                held.set()
                release.wait(10)

        t = threading.Thread(target=holder)
        t.start()
        try:
            assert held.wait(10)
            engine = create_engine(url)
            try:
                for pid, locked in (("pa", True), ("pb", True), ("pc", False)):
                    with engine.connect() as c:
                        try:
                            c.execute(text("SELECT id FROM person WHERE id = :p FOR UPDATE NOWAIT"), {"p": pid}).all()
                            got = False
                        except Exception as exc:  # LockNotAvailable, wrapped
                            assert "could not obtain lock" in str(exc), exc
                            got = True
                        c.rollback()
                    assert got is locked, pid
            finally:
                engine.dispose()
        finally:
            release.set()
            t.join(10)
    finally:
        db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0009_drops_the_unread_indexes_and_its_downgrade_builds_them(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    url = hub_database_url(backend, tmp_path, pg)
    dropped = {("applied_op", "ix_applied_op_station_id"), ("person", "ix_person_id_number")}

    def present() -> set[tuple[str, str]]:
        engine = create_engine(url)
        try:
            insp = inspect(engine)
            return {(t, ix["name"]) for t in ("applied_op", "person") for ix in insp.get_indexes(t)} & dropped
        finally:
            engine.dispose()

    migrate(url, "0008")
    assert present() == dropped
    migrate(url)
    assert present() == set()
    from alembic import command
    from alembic.config import Config

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            cfg = Config()
            cfg.set_main_option("script_location", "hub:migrations")
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0008")
    finally:
        engine.dispose()
    assert present() == dropped
