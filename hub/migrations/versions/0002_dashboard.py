"""Dashboard: committee logins and sessions, allocations, a grouping area on sites.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02 10:00:00

Also stores ``dashboard_secret`` in ``hub_meta``: the key that signs dashboard
session and form cookies. Kept in the database (not in a settings file) so
every hub process behind a load balancer signs and checks with the same key.
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.add_column(sa.Column("area_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("area_name", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_site_area_code"), ["area_code"], unique=False)

    op.create_table(
        "dashboard_user",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("scope_code", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Integer(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("last_login_at", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    op.create_table(
        "dashboard_session",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id_hash"),
    )
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dashboard_session_user_id"), ["user_id"], unique=False)
    op.create_table(
        "allocation",
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("doses", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("level", "code"),
    )
    hub_meta = sa.table("hub_meta", sa.column("key", sa.String), sa.column("value", sa.Text))
    op.bulk_insert(hub_meta, [{"key": "dashboard_secret", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.execute(sa.text("DELETE FROM hub_meta WHERE key = 'dashboard_secret'"))
    op.drop_table("allocation")
    with op.batch_alter_table("dashboard_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dashboard_session_user_id"))
    op.drop_table("dashboard_session")
    op.drop_table("dashboard_user")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_area_code"))
        batch_op.drop_column("area_name")
        batch_op.drop_column("area_code")
