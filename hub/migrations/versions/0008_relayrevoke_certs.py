"""Relay certificates (issue 14, per-certificate revocation): what the province issued.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:45:00

* ``relay_cert`` (province): every site hub certificate the relay CA signed (its SHA-256
  fingerprint, relay, site, validity) and when it was revoked (a re-enrollment of its
  relay, or ``tramtiem-hub relay revoke``). Certificates issued before this revision were
  not recorded: they cannot be listed as revoked (docs/site-hub.md, Replacing the site hub);
* ``relay_code.replaces``: the relay a new site hub replaces (``relay code --replaces``),
  revoked when the code is used.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "relay_cert",
        sa.Column("fingerprint", sa.String(length=64), primary_key=True),
        sa.Column("relay_id", sa.String(length=36), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("issued_at", sa.String(length=40), nullable=False),
        sa.Column("not_after", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.String(length=40), nullable=True),
    )
    op.create_index("ix_relay_cert_relay_id", "relay_cert", ["relay_id"])
    op.create_index("ix_relay_cert_site", "relay_cert", ["site_code", "not_after"])
    with op.batch_alter_table("relay_code") as batch:
        batch.add_column(sa.Column("replaces", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("relay_code") as batch:
        batch.drop_column("replaces")
    op.drop_index("ix_relay_cert_site", table_name="relay_cert")
    op.drop_index("ix_relay_cert_relay_id", table_name="relay_cert")
    op.drop_table("relay_cert")
