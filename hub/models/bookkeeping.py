"""Sync bookkeeping: sites, stations, the op ledger, the clock, the change log, reviews, tallies, counters and the hub's audit."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import ID, OPEN_ROWS_SQL, SITE, TS, Base, ChangeKind
from sync.protocol import EntityType

# ---- sync bookkeeping ----------------------------------------------------------------


class HubMeta(Base):
    __tablename__ = "hub_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Site(Base):
    __tablename__ = "site"
    code: Mapped[str] = mapped_column(SITE, primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    province_code: Mapped[str | None] = mapped_column(String(4))
    created_at: Mapped[str] = mapped_column(TS)
    # Dashboard grouping below the province (0002): a commune/ward code of the 2025
    # two-level scheme, or a local code for a former district; free text name.
    area_code: Mapped[str | None] = mapped_column(String(16), index=True)
    area_name: Mapped[str | None] = mapped_column(Text)


class EnrolledStation(Base):
    """A station enrolled at the hub (its token, site, clock skew): the hub's row for it.

    Not :class:`station.store.Station`, the station's own local store.
    """

    __tablename__ = "station"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE, index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[int] = mapped_column(Integer, default=0)
    enrolled_at: Mapped[str] = mapped_column(TS)
    last_seen: Mapped[str | None] = mapped_column(TS)
    clock_skew_ms: Mapped[int | None] = mapped_column(BigInteger)
    # Set once a clock_skew review item exists, so a skewed station is flagged once.
    skew_flagged: Mapped[int] = mapped_column(Integer, default=0)
    # When it was revoked (0005): its last tally still counts, marked revoked. A revocation
    # is permanent: re-enrolling does not lift it, only `station unrevoke` (issue 11).
    revoked_at: Mapped[str | None] = mapped_column(TS)


class EnrollmentCode(Base):
    __tablename__ = "enrollment_code"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE)
    created_at: Mapped[str] = mapped_column(TS)
    expires_at: Mapped[str] = mapped_column(TS)
    used_at: Mapped[str | None] = mapped_column(TS)
    used_by: Mapped[str | None] = mapped_column(String(36))


class Replica(Base):
    """A station's op stream: (station, epoch). Restoring a backup starts a new epoch."""

    __tablename__ = "replica"
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    epoch: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_op_seq: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[str] = mapped_column(TS)


class AppliedOp(Base):
    __tablename__ = "applied_op"
    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36))  # read with the row, never searched (0009)
    replica_epoch: Mapped[str] = mapped_column(String(64))
    op_seq: Mapped[int] = mapped_column(BigInteger)
    op_type: Mapped[str] = mapped_column(String(32))
    payload_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    # hub.rowtypes.LedgerResult as written; read back through hub.ingest (narrowed there).
    result: Mapped[dict[str, object]] = mapped_column(JSON)
    received_at: Mapped[str] = mapped_column(TS)


class HubClock(Base):
    """One row. ``UPDATE hub_clock SET seq = seq + n RETURNING seq`` numbers changes."""

    __tablename__ = "hub_clock"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)


class ChangeLog(Base):
    __tablename__ = "change_log"
    server_seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    scope: Mapped[str] = mapped_column(SITE)
    # Written by hub.effects.Numbering only, from the entity types and kinds of the protocol.
    entity_type: Mapped[EntityType] = mapped_column(String(24))
    entity_id: Mapped[str] = mapped_column(ID)
    kind: Mapped[ChangeKind] = mapped_column(String(12))
    row_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, object]] = mapped_column(JSON)  # the row's station columns
    origin_op_id: Mapped[str | None] = mapped_column(String(36))
    # "<station id>:<replica epoch>" when this row only echoes back what that replica
    # sent (a row its op created as sent): a pull naming that replica skips it (0003).
    echo_for: Mapped[str | None] = mapped_column(String(110))

    __table_args__ = (Index("ix_change_scope_seq", "scope", "server_seq"),)


class PersonSite(Base):
    """Which sites a person is relevant to (registered, vaccinated, merged there)."""

    __tablename__ = "person_site"
    person_id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE, primary_key=True)


class FieldMeta(Base):
    """Who last wrote a person field and when (HLC), for last-writer-wins on contact fields."""

    __tablename__ = "field_meta"
    entity_id: Mapped[str] = mapped_column(ID, primary_key=True)
    field: Mapped[str] = mapped_column(String(32), primary_key=True)
    hlc: Mapped[str] = mapped_column(String(32))
    op_id: Mapped[str] = mapped_column(String(36))
    site_code: Mapped[str] = mapped_column(SITE)
    # The writer's clock was off by more than the tolerance: its HLC cannot be trusted.
    skewed: Mapped[int] = mapped_column(Integer, default=0)


class ReviewItem(Base):
    __tablename__ = "review_item"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="open")
    entity_type: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[str] = mapped_column(ID)
    site_codes: Mapped[list[str]] = mapped_column(JSON)
    candidates: Mapped[dict[str, object]] = mapped_column(JSON)
    created_at: Mapped[str] = mapped_column(TS)
    resolution: Mapped[dict[str, object] | None] = mapped_column(JSON)
    origin_op_id: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_review_status", "status", "kind"),)


class ReviewSite(Base):
    """Index of review items by concerned site (the JSON list is not indexable everywhere)."""

    __tablename__ = "review_site"
    review_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE, primary_key=True)


class LookupAudit(Base):
    """Every person look-up by ID number (0006): who asked, when, what was found.

    The ID number itself is not stored (it is personal data, and the space of
    valid numbers is small enough to reverse any hash of it); the person found
    is, so "who looked this person up" has an answer. Also the rate limit's log.
    """

    __tablename__ = "lookup_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    station_id: Mapped[str] = mapped_column(String(36))
    site_code: Mapped[str] = mapped_column(SITE)
    at: Mapped[str] = mapped_column(TS)
    outcome: Mapped[str] = mapped_column(String(12))  # found | not_found | limited
    person_id: Mapped[str | None] = mapped_column(ID)

    __table_args__ = (Index("ix_lookup_audit_station_at", "station_id", "at"),)


class LoginGuard(Base):
    """Failed dashboard logins per username, known or not (0006).

    Keyed by an HMAC of the typed username, so an unknown name locks exactly as
    a real one does (no user enumeration) and a password typed into the
    username box is never stored.
    """

    __tablename__ = "login_guard"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[str | None] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)

    __table_args__ = (Index("ix_login_guard_updated_at", "updated_at"),)


class StationTally(Base):
    """The latest tally of each station, as received, and what the hub made of it (0005)."""

    __tablename__ = "station_tally"
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tally: Mapped[dict[str, object]] = mapped_column(JSON)  # the TallyRequest as received (JSON)
    received_at: Mapped[str] = mapped_column(TS)
    # Parsed and bounded at receipt (UTC ISO; NULL when absent or out of bounds).
    generated_at: Mapped[str | None] = mapped_column(TS)
    oldest_pending_at: Mapped[str | None] = mapped_column(TS)
    replica_epoch: Mapped[str | None] = mapped_column(String(64))
    outbox_pending: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Ops the hub answered from this station since the tally (its "pending" minus these).
    ops_since: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # Cross-check at receipt: doses the hub holds from the station outside
    # [acknowledged, acknowledged + pending], summed over the tally's days.
    mismatch: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    # A tally without the all_* counts (a station older than hub 0005): no cross-check.
    legacy: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))
    # Doses a previous replica epoch claimed and the hub did not hold are carried
    # (station_day.carried); arrivals recorded at or before this time pay them off.
    carried_cut: Mapped[str | None] = mapped_column(TS)


class StationDay(Base):
    """Per station and day: what the hub holds from it and what its latest tally claims (0005).

    ``held_*`` are kept in the ingest transaction (atomic upserts), so the
    dashboard never counts doses. ``station_id`` is '' for doses whose origin
    station is unknown (received before origins were recorded). ``t_*`` are the
    latest tally's counts for that day (``sync.protocol.TallyRow``). See
    hub/counters.py for the arithmetic.
    """

    __tablename__ = "station_day"
    site_code: Mapped[str] = mapped_column(SITE, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    held_all: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    held_valid: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_entered: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_pending: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_acked: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_all_entered: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_all_pending: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_all_acked: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    t_voids_unsent: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    carried: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    written_off: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))

    # By site and day: the per-day figures of a scope read only the days they show. The
    # rows where something may still be owed are few (recent days, pending doses, a
    # restored laptop's carried doses): a partial index finds them without the rest.
    __table_args__ = (
        Index("ix_station_day_station", "station_id", "day"),
        Index("ix_station_day_site_day", "site_code", "day"),
        Index(
            "ix_station_day_open",
            "site_code",
            sqlite_where=text(OPEN_ROWS_SQL),
            postgresql_where=text(OPEN_ROWS_SQL),
        ),
    )


class StationTotal(Base):
    """What the hub holds per station over all days (0005): the dashboard's "received"
    without reading every day's row. Kept in the same upserts as ``station_day``."""

    __tablename__ = "station_total"
    site_code: Mapped[str] = mapped_column(SITE, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    held_all: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))
    held_valid: Mapped[int] = mapped_column(BigInteger, default=0, server_default=text("0"))


class WriteOff(Base):
    """A supervisor's write-off of a station's open gap (0005): audited, shown apart."""

    __tablename__ = "write_off"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36), index=True)
    site_code: Mapped[str] = mapped_column(SITE, index=True)
    doses: Mapped[int] = mapped_column(BigInteger)
    days: Mapped[dict[str, int]] = mapped_column(JSON)  # {"YYYY-MM-DD": doses}
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(TS)


class HubAudit(Base):
    """Append-only log of administrative hub actions (0005): revocations, write-offs."""

    __tablename__ = "hub_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(TS)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    target: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, object]] = mapped_column(JSON)
