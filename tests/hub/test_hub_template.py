"""The tests' migrated hub databases (tests/pg.py ``migrated_hub_url``): copies of one database
migrated once per test process, each indistinguishable from a hub just migrated."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from hub.db import Database, migrate
from tests.pg import PgCluster, hub_database_url, migrated_hub_url


def _facts(url: str) -> tuple[str, str, str, int]:
    db = Database(url)
    try:
        with db.read() as s:
            meta = dict(s.execute(text("SELECT key, value FROM hub_meta")).tuples().all())
            version = s.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
            sites = int(s.execute(text("SELECT count(*) FROM site")).scalar_one())
        return meta["hub_epoch"], meta["dashboard_secret"], version, sites
    finally:
        db.dispose()


def _head() -> str:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "hub:migrations")
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_each_copy_is_at_head_with_its_own_epoch_and_secret(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    a = _facts(migrated_hub_url(backend, tmp_path / "a", pg))
    b = _facts(migrated_hub_url(backend, tmp_path / "b", pg))
    fresh_url = hub_database_url(backend, tmp_path / "c", pg)
    migrate(fresh_url)
    fresh = _facts(fresh_url)
    assert a[2] == b[2] == fresh[2] == _head()
    assert a[3] == b[3] == fresh[3] == 0  # nothing but the schema and its meta rows
    assert len({a[0], b[0], fresh[0]}) == 3, "two hubs share an epoch"
    assert len({a[1], b[1], fresh[1]}) == 3, "two hubs share a dashboard signing key"
    assert len(a[0]) == len(fresh[0]) and len(a[1]) == len(fresh[1])
