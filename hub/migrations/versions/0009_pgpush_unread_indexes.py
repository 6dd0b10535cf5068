"""Two indexes nothing reads, dropped (issue 15, branch pgpush): every pushed row paid them.

Revision ID: 0009_pgpush
Revises: 0008
Create Date: 2026-12-04 12:40:00

* ``ix_applied_op_station_id``: the ledger is read by ``op_id`` only (its primary key:
  ``hub.ingest._ledger_rows``); no query of the hub, its dashboard, reports or CLI selects
  ``applied_op`` by station. Every op a push answers inserted one entry into it.
* ``ix_person_id_number``: since 0006 every look-up of a person by ID number goes through
  ``id_key`` (unique, ``uq_person_id_key``: the push's look-ups, merges, the desks' look-up
  by number); ``person.id_number`` is only read as a column of rows found otherwise.
  Every new person inserted one entry into it.

Both are plain B-tree indexes: a downgrade builds them again; dropping them loses no row.
"""

from __future__ import annotations

from alembic import op

revision = "0009_pgpush"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_applied_op_station_id", table_name="applied_op")
    op.drop_index("ix_person_id_number", table_name="person")


def downgrade() -> None:
    op.create_index("ix_person_id_number", "person", ["id_number"], unique=False)
    op.create_index("ix_applied_op_station_id", "applied_op", ["station_id"], unique=False)
