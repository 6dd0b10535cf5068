"""dose volume and supervisor override (issue 12: clinical safety)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 09:00:00

The station records what was injected (``volume_ml``: a half-dose Moderna booster
is 0.25 ml) and a supervisor's override of an age limit or a contraindication
(``override_by``, ``override_reason``). The hub stores them and passes them on to
the other stations of the site. Existing rows stay NULL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(sa.Column("volume_ml", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("override_by", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("override_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_column("override_reason")
        batch_op.drop_column("override_by")
        batch_op.drop_column("volume_ml")
