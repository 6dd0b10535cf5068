"""dose volume and supervisor override (issue 12: clinical safety)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00

``dose.volume_ml``: what was injected (a half-dose Moderna booster is 0.25 ml, a
Moderna 6-11 dose too); old rows stay NULL, which counts as one standard dose of
their lot. ``dose.override_by`` / ``dose.override_reason``: a supervisor let an
age limit or a contraindication pass; old rows had no such thing (NULL).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN is native in SQLite, so batch mode does not copy the table and the
    # write-guard triggers on dose stay in place.
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(sa.Column("volume_ml", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("override_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_column("override_reason")
        batch_op.drop_column("override_by")
        batch_op.drop_column("volume_ml")
