"""sync_parked, sync_deferred: held hub changes in tables of their own, out of ``meta``

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 19:00:00

Until now a parked change (not applicable yet) was a JSON string under
``meta['parked:<seq>']`` and a hub row kept aside behind local edits one under
``meta['deferred:<type>:<id>']``. Each becomes a row of its own table, with its
fields as columns (the hub row itself stays JSON: its columns depend on the
entity). Existing entries are moved; an entry that is not valid JSON stays in
``meta`` untouched rather than being lost.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_CHANGE = (
    "json_extract(value, '$.change.server_seq'), json_extract(value, '$.change.entity_type'), "
    "json_extract(value, '$.change.entity_id'), json_extract(value, '$.change.kind'), "
    "json_extract(value, '$.change.row_version'), json(json_extract(value, '$.change.data'))"
)
_COLS = "server_seq, entity_type, entity_id, kind, row_version, data"
_PARKED = "key LIKE 'parked:%' AND json_valid(value)"
_DEFERRED = "key LIKE 'deferred:%' AND json_valid(value)"


def _change_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("server_seq", sa.Integer(), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "sync_parked",
        *_change_columns(),
        sa.Column("error", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("server_seq"),
    )
    op.create_table(
        "sync_deferred",
        *_change_columns(),
        sa.Column("ops", sa.Text(), nullable=False),  # JSON array of the local op ids it waits for
        sa.PrimaryKeyConstraint("entity_type", "entity_id"),
    )
    op.execute(
        f"INSERT OR REPLACE INTO sync_parked ({_COLS}, error) "
        f"SELECT {_CHANGE}, coalesce(json_extract(value, '$.error'), 'pull.integrity') FROM meta WHERE {_PARKED}"
    )
    op.execute(f"DELETE FROM meta WHERE {_PARKED}")
    op.execute(
        f"INSERT OR REPLACE INTO sync_deferred ({_COLS}, ops) "
        f"SELECT {_CHANGE}, coalesce(json(json_extract(value, '$.ops')), '[]') FROM meta WHERE {_DEFERRED}"
    )
    op.execute(f"DELETE FROM meta WHERE {_DEFERRED}")


def _as_json(extra: str) -> str:
    return (
        "json_object('change', json_object('server_seq', server_seq, 'entity_type', entity_type, "
        "'entity_id', entity_id, 'kind', kind, 'row_version', row_version, 'data', json(data)), "
        f"{extra})"
    )


def downgrade() -> None:
    op.execute(
        "INSERT OR REPLACE INTO meta (key, value) SELECT 'parked:' || printf('%015d', server_seq), "
        + _as_json("'error', error") + " FROM sync_parked"
    )
    op.execute(
        "INSERT OR REPLACE INTO meta (key, value) SELECT 'deferred:' || entity_type || ':' || entity_id, "
        + _as_json("'ops', json(ops)") + " FROM sync_deferred"
    )
    op.drop_table("sync_deferred")
    op.drop_table("sync_parked")
