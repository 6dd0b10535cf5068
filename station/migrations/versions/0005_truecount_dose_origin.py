"""dose.origin_station: which station entered the dose (the count is made by origin)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00

A station's tally must count only the doses it entered, however many of its
siblings' doses it has pulled (three laptops at one site each holding all the
site's doses multiplied "given" by three). Existing rows get their origin from
what this station itself wrote: a ``record_dose`` op in its outbox, or, for ops
already purged after the retention window, the ``record_dose`` entry of its
hash-chained audit log (only services write that log; pulled rows never do).
Every other dose was pulled from the hub and stays NULL ("not ours"); from now
on the hub sends each dose's origin with the row.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN is native in SQLite: batch mode does not copy the table, so the
    # guard triggers on dose stay in place (the migration runs in the 'migrate'
    # write context they allow).
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_station", sa.String(length=36), nullable=True))
    op.execute(
        "UPDATE dose SET origin_station = (SELECT station_id FROM sync_state WHERE id = 1) "
        "WHERE id IN (SELECT entity_id FROM sync_outbox WHERE op_type = 'record_dose') "
        "OR id IN (SELECT entity_id FROM audit_log WHERE action = 'record_dose' "
        "AND entity_type = 'dose')"
    )


def downgrade() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_column("origin_station")
