"""The site hub route (issue 14): its address, its own pull cursor and hub epoch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 23:00:00

A desk may sync through two routes: the province directly (``pull_cursor``,
``hub_epoch``) and the site hub on the LAN (``relay_cursor``, ``relay_hub_epoch``: its
own change log, numbered by it). ``site_hub_url`` is the site hub's address typed by IT
staff (``tramtiem site-hub set URL``) or found on the LAN. The outbox gains a state,
``relay_accepted`` (the site hub holds the op; the province has not answered it): the
column is text, so no change of its own.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.add_column(sa.Column("site_hub_url", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("relay_cursor", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("relay_hub_epoch", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("last_relay_ok", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_state", schema=None) as batch_op:
        batch_op.drop_column("last_relay_ok")
        batch_op.drop_column("relay_hub_epoch")
        batch_op.drop_column("relay_cursor")
        batch_op.drop_column("site_hub_url")
