"""Hardening: a unique key per active ID number, permanent revocation, look-up audit, login guard.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05 00:00:00

* ``person.id_key`` (unique): the ID number of the one active person holding it.
  Filled for the earliest active holder of each number (by ``created_at``, as the
  merge rule picks); later active holders (a supervisor's unmerge, or a race
  this index now prevents) keep NULL.
* (``station.revoked_at``, added by 0005 for the count, also makes a revocation
  permanent until ``station unrevoke``: re-enrolling no longer lifts it.)
* ``lookup_audit``: every person look-up by ID number (and the rate limit's log).
* ``login_guard`` replaces ``dashboard_user.failed_logins``/``locked_until``: the
  dashboard lockout counts per typed username, known or not.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("id_key", sa.String(length=20), nullable=True))
    op.execute(
        "UPDATE person SET id_key = id_number WHERE status = 'active' AND id_number IS NOT NULL "
        "AND id = (SELECT p2.id FROM person p2 WHERE p2.id_number = person.id_number "
        "AND p2.status = 'active' ORDER BY p2.created_at, p2.id LIMIT 1)"
    )
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.create_unique_constraint("uq_person_id_key", ["id_key"])

    op.create_table(
        "lookup_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.String(length=36), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=False),
        sa.Column("person_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lookup_audit", schema=None) as batch_op:
        batch_op.create_index("ix_lookup_audit_station_at", ["station_id", "at"], unique=False)

    op.create_table(
        "login_guard",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.String(length=40), nullable=True),
        sa.Column("updated_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    with op.batch_alter_table("login_guard", schema=None) as batch_op:
        batch_op.create_index("ix_login_guard_updated_at", ["updated_at"], unique=False)
    with op.batch_alter_table("dashboard_user", schema=None) as batch_op:
        batch_op.drop_column("failed_logins")
        batch_op.drop_column("locked_until")


def downgrade() -> None:
    with op.batch_alter_table("dashboard_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locked_until", sa.String(length=40), nullable=True))
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("login_guard", schema=None) as batch_op:
        batch_op.drop_index("ix_login_guard_updated_at")
    op.drop_table("login_guard")
    with op.batch_alter_table("lookup_audit", schema=None) as batch_op:
        batch_op.drop_index("ix_lookup_audit_station_at")
    op.drop_table("lookup_audit")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint("uq_person_id_key", type_="unique")
        batch_op.drop_column("id_key")
