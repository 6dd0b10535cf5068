"""Change rows a station need not pull back: ``change_log.echo_for``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:00:00

A row an op created exactly as its station sent it comes back to that very
replica as an echo it already holds. The batched fast path marks such change
rows with ``"<station id>:<replica epoch>"``; a pull that names its replica
epoch skips them (every other station of the site still receives them). The
push answer tells the station (``detail.no_echo``), which then numbers its own
rows as the hub did. Existing rows stay NULL: nothing is skipped for them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("echo_for", sa.String(length=110), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_column("echo_for")
