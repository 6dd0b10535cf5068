"""Alembic environment: always runs on a connection handed in by station.store."""

from __future__ import annotations

from alembic import context

from station.models import Base

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - we never run alembic from the shell
    raise RuntimeError("station migrations run through station.store.open_station()")


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    # FTS5 shadow tables are created by raw SQL in 0001, not by the models.
    return not (type_ == "table" and name is not None and name.startswith("person_fts"))


context.configure(
    connection=connection,
    include_object=include_object,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite lacks most ALTER TABLE forms
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
