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
