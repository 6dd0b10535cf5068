"""The true count: dose origins, per-station day counters, write-offs, an admin audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00

* ``dose.origin_station``: the station whose push created the dose. Existing
  doses get it from the ledger: the ``record_dose`` op that created the dose's
  change rows (``change_log.origin_op_id`` → ``applied_op.station_id``). Doses
  with no such op stay NULL (counted under station '').
* ``station_day``: what the hub holds per station and day, kept in the ingest
  transaction from now on; filled here once from the doses (one grouped scan,
  at migration time only: the dashboard never counts doses again), beside the
  latest tally's claims per day. Tallies received before this revision were
  made by stations that counted their siblings' doses too; their claims are
  loaded as ``legacy`` (no cross-check) until each station sends a new one.
* ``station_tally``: parsed receipt fields (bounded times, epoch, pending ops
  and those answered since, the cross-check result).
* ``station.revoked_at``; ``write_off`` (a supervisor's write-off of a station's
  open gap, with its reason) and ``hub_audit`` (revocations and write-offs).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_OPEN_ROWS = "t_all_entered > held_all OR carried > 0 OR t_voids_unsent > 0"
_COUNTERS = (
    "held_all",
    "held_valid",
    "t_entered",
    "t_pending",
    "t_acked",
    "t_all_entered",
    "t_all_pending",
    "t_all_acked",
    "t_voids_unsent",
    "carried",
    "written_off",
)


def upgrade() -> None:
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.add_column(sa.Column("origin_station", sa.String(length=36), nullable=True))
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.String(length=40), nullable=True))
    with op.batch_alter_table("station_tally", schema=None) as batch_op:
        batch_op.add_column(sa.Column("generated_at", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("oldest_pending_at", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("replica_epoch", sa.String(length=64), nullable=True))
        for name in ("outbox_pending", "ops_since", "mismatch"):
            batch_op.add_column(
                sa.Column(name, sa.BigInteger(), nullable=False, server_default="0")
            )
        batch_op.add_column(sa.Column("legacy", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("carried_cut", sa.String(length=40), nullable=True))

    op.create_table(
        "station_day",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=36), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        *[sa.Column(c, sa.BigInteger(), nullable=False, server_default="0") for c in _COUNTERS],
        sa.PrimaryKeyConstraint("site_code", "station_id", "day"),
    )
    with op.batch_alter_table("station_day", schema=None) as batch_op:
        batch_op.create_index("ix_station_day_station", ["station_id", "day"], unique=False)
        batch_op.create_index("ix_station_day_site_day", ["site_code", "day"], unique=False)
        batch_op.create_index(
            "ix_station_day_open",
            ["site_code"],
            unique=False,
            sqlite_where=sa.text(_OPEN_ROWS),
            postgresql_where=sa.text(_OPEN_ROWS),
        )
    op.create_table(
        "station_total",
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=36), nullable=False),
        sa.Column("held_all", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("held_valid", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("site_code", "station_id"),
    )
    op.create_table(
        "write_off",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("station_id", sa.String(length=36), nullable=False),
        sa.Column("site_code", sa.String(length=32), nullable=False),
        sa.Column("doses", sa.BigInteger(), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("write_off", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_write_off_site_code"), ["site_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_write_off_station_id"), ["station_id"], unique=False)
    op.create_table(
        "hub_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=40), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )

    # Origins of the doses already held, from the ledger (one join, no per-dose lookups).
    op.execute(
        "UPDATE dose SET origin_station = m.station_id FROM ("
        "SELECT DISTINCT c.entity_id AS dose_id, a.station_id AS station_id "
        "FROM change_log c JOIN applied_op a ON a.op_id = c.origin_op_id "
        "WHERE c.entity_type = 'dose' AND a.op_type = 'record_dose'"
        ") AS m WHERE dose.id = m.dose_id"
    )
    # What the hub holds, per site, station and day: the one scan of every dose.
    op.execute(
        "INSERT INTO station_day (site_code, station_id, day, held_all, held_valid) "
        "SELECT site_code, coalesce(origin_station, ''), day, count(*), "
        "sum(CASE WHEN voided = 0 THEN 1 ELSE 0 END) FROM dose WHERE source = 'site' "
        "GROUP BY site_code, coalesce(origin_station, ''), day"
    )
    op.execute(
        "INSERT INTO station_total (site_code, station_id, held_all, held_valid) "
        "SELECT site_code, station_id, sum(held_all), sum(held_valid) FROM station_day "
        "GROUP BY site_code, station_id"
    )
    _load_legacy_tallies()


def _load_legacy_tallies() -> None:
    """Old tallies become legacy claims (valid counts only) until each station sends a new one."""
    bind = op.get_bind()
    stations: dict[str, str] = {
        str(i): str(c) for i, c in bind.execute(sa.text("SELECT id, site_code FROM station")).all()
    }
    loaded = 0
    for station_id, raw in bind.execute(sa.text("SELECT station_id, tally FROM station_tally")).all():
        body: object = json.loads(raw) if isinstance(raw, str) else raw
        site = stations.get(station_id)
        if site is None or not isinstance(body, dict):
            continue
        by_day: dict[str, list[int]] = {}
        rows = body.get("rows")
        for r in rows if isinstance(rows, list) else []:
            if not isinstance(r, dict) or not isinstance(r.get("day"), str):
                continue
            sums = by_day.setdefault(r["day"][:10], [0, 0, 0])
            for i, k in enumerate(("entered", "pending", "acknowledged")):
                v = r.get(k)
                sums[i] += v if isinstance(v, int) and 0 <= v <= 1_000_000 else 0
        # Those stations counted every dose of their site they held (their siblings'
        # too); only "pending" was their own. Each is taken to owe exactly its pending.
        for day, (_entered, pending, _acked) in sorted(by_day.items()):
            params = {"s": site, "st": station_id, "d": day, "p": pending}
            updated = bind.execute(
                sa.text(
                    "UPDATE station_day SET t_entered = held_valid + :p, t_pending = :p, "
                    "t_acked = held_valid, t_all_entered = held_all + :p, t_all_pending = :p, "
                    "t_all_acked = held_all WHERE site_code = :s AND station_id = :st AND day = :d"
                ),
                params,
            ).rowcount
            if not updated:
                bind.execute(
                    sa.text(
                        "INSERT INTO station_day (site_code, station_id, day, t_entered, t_pending, "
                        "t_all_entered, t_all_pending) VALUES (:s, :st, :d, :p, :p, :p, :p)"
                    ),
                    params,
                )
        loaded += 1
        ops = body.get("outbox_pending")
        bind.execute(
            sa.text(
                "UPDATE station_tally SET legacy = 1, outbox_pending = :p WHERE station_id = :st"
            ),
            {"p": ops if isinstance(ops, int) and 0 <= ops <= 2**40 else 0, "st": station_id},
        )
    audit = sa.table(
        "hub_audit",
        sa.column("at", sa.String),
        sa.column("actor", sa.String),
        sa.column("action", sa.String),
        sa.column("target", sa.String),
        sa.column("detail", sa.JSON),
    )
    op.bulk_insert(
        audit,
        [
            {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "actor": "migration",
                "action": "counters_built",
                "target": "0005",
                "detail": {"legacy_tallies": loaded},
            }
        ],
    )


def downgrade() -> None:
    op.drop_table("hub_audit")
    with op.batch_alter_table("write_off", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_write_off_station_id"))
        batch_op.drop_index(batch_op.f("ix_write_off_site_code"))
    op.drop_table("write_off")
    op.drop_table("station_total")
    with op.batch_alter_table("station_day", schema=None) as batch_op:
        batch_op.drop_index("ix_station_day_open")
        batch_op.drop_index("ix_station_day_site_day")
        batch_op.drop_index("ix_station_day_station")
    op.drop_table("station_day")
    with op.batch_alter_table("station_tally", schema=None) as batch_op:
        for name in (
            "carried_cut",
            "legacy",
            "mismatch",
            "ops_since",
            "outbox_pending",
            "replica_epoch",
            "oldest_pending_at",
            "generated_at",
        ):
            batch_op.drop_column(name)
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_column("revoked_at")
    with op.batch_alter_table("dose", schema=None) as batch_op:
        batch_op.drop_column("origin_station")
