"""person consent timestamp (registration notice acknowledged, PDPL 91/2025)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 20:33:54.813010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ADD COLUMN is native in SQLite, so batch mode does not copy the table and
    # the guard and FTS triggers on person stay in place.
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("consent_at", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("consent_at")
