"""tail search: indexes on the last 3 digits of the ID number and the phone

People read out the end of a number ("…678"), and the UI itself shows only the
tails; expression indexes on ``substr(x, -3)`` find those rows without a scan.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 10:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Only indexes: the person table, its guard and FTS triggers are untouched.
    # The number itself is in the index too: the full tail ("…45678") is checked there,
    # without reading the person rows that only share the last 3 digits.
    op.execute("CREATE INDEX IF NOT EXISTS ix_person_id_tail3 ON person (substr(id_number, -3), id_number)")
    op.execute("CREATE INDEX IF NOT EXISTS ix_person_phone_tail3 ON person (substr(phone, -3), phone)")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS ix_person_phone_tail3")
    op.execute("DROP INDEX IF EXISTS ix_person_id_tail3")
