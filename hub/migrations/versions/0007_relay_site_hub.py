"""Relay (issue 14): site hubs' credentials at the province; the forward queue at a site hub.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03 23:00:00

* ``relay`` / ``relay_code`` (province): a site hub's token (hashed) for one site, and
  the one-time codes it is enrolled with;
* ``relay_op`` / ``relay_tally`` (site hub): the ops and tallies its desks sent, kept
  until the province has answered them (empty at a province hub).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False, unique=True),
        sa.Column("revoked", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
        sa.Column("enrolled_at", sa.String(length=40), nullable=False),
        sa.Column("last_seen", sa.String(length=40), nullable=True),
    )
    op.create_index("ix_relay_site_code", "relay", ["site_code"])
    op.create_table(
        "relay_code",
        sa.Column("code_hash", sa.String(length=64), primary_key=True),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.String(length=40), nullable=False),
        sa.Column("used_at", sa.String(length=40), nullable=True),
        sa.Column("used_by", sa.String(length=36), nullable=True),
    )
    op.create_table(
        "relay_op",
        sa.Column("op_id", sa.String(length=36), primary_key=True),
        sa.Column("arrival", sa.BigInteger(), nullable=False),
        sa.Column("station_id", sa.String(length=36), nullable=False),
        sa.Column("replica_epoch", sa.String(length=64), nullable=False),
        sa.Column("op_seq", sa.BigInteger(), nullable=False),
        sa.Column("entity_type", sa.String(length=24), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=False),
        sa.Column("extra_id", sa.String(length=64), nullable=True),
        sa.Column("op", sa.JSON(), nullable=False),
        sa.Column("schema_version", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.Column("province_status", sa.String(length=16), nullable=True),
        sa.Column("province_result", sa.JSON(), nullable=True),
        sa.Column("answered_at", sa.String(length=40), nullable=True),
    )
    op.create_index(
        "ix_relay_op_waiting", "relay_op", ["province_status", "arrival"]
    )
    op.create_index("ix_relay_op_entity", "relay_op", ["entity_id"])
    op.create_table(
        "relay_shadow",
        sa.Column("entity_type", sa.String(length=24), primary_key=True),
        sa.Column("entity_id", sa.String(length=64), primary_key=True),
        sa.Column("server_seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("pending", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.create_index("ix_relay_shadow_pending", "relay_shadow", ["pending"])
    op.create_table(
        "relay_tally",
        sa.Column("station_id", sa.String(length=36), primary_key=True),
        sa.Column("tally", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.String(length=40), nullable=False),
        sa.Column("forwarded_at", sa.String(length=40), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("relay_tally")
    op.drop_index("ix_relay_shadow_pending", table_name="relay_shadow")
    op.drop_table("relay_shadow")
    op.drop_index("ix_relay_op_entity", table_name="relay_op")
    op.drop_index("ix_relay_op_waiting", table_name="relay_op")
    op.drop_table("relay_op")
    op.drop_table("relay_code")
    op.drop_index("ix_relay_site_code", table_name="relay")
    op.drop_table("relay")
