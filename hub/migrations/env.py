"""Alembic environment for the hub: runs on a connection handed in by ``hub.db.migrate``."""

from __future__ import annotations

from alembic import context

from hub.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - migrations run through `tramtiem-hub migrate`
    raise RuntimeError("hub migrations run through hub.db.migrate()")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite lacks most ALTER TABLE forms
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
