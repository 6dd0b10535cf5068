"""Typed SQLAlchemy models of the hub database.

Two groups of tables:

* sync bookkeeping: ``site``, ``station``, ``enrollment_code``, ``replica``,
  ``applied_op`` (the idempotency ledger, written in the same transaction as
  each op's effect), ``hub_clock`` (one row; its row lock numbers the change
  log in commit order), ``change_log`` (the pull feed, one row per scope
  site), ``person_site``, ``field_meta``, ``review_item``, ``station_tally``
  and ``hub_meta``;
* domain tables mirroring the station's synced tables column for column (the
  station's ``version`` column *is* the hub row version), so a pulled row's
  ``data`` can be written to the station as it is. Hub-only bookkeeping
  columns are listed in :data:`HUB_ONLY_COLUMNS` and never leave the hub.

No foreign keys between domain tables: the hub must accept a dose whose lot
it has not seen yet (ops of different stations interleave) and re-point rows
on merges without cascading surprises; the apply code checks what matters.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import (
    JSON,
    BigInteger,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from sync.protocol import EntityType

# station_day rows where a station may still owe doses or hold unsent voids (hub/counters.py).
OPEN_ROWS_SQL = "t_all_entered > held_all OR carried > 0 OR t_voids_unsent > 0"

# What a change row does at the station (sync.protocol.Change.kind).
ChangeKind = Literal["upsert", "redirect"]

# Long enough for every id the protocol allows (Op.entity_id is at most 64).
ID = String(64)
TS = String(40)
SITE = String(32)


class Base(DeclarativeBase):
    pass


def table_of(model: type[Base]) -> Table:
    """The :class:`Table` of a declarative model, for Core statements and bulk writes.

    SQLAlchemy types ``__table__`` as any ``FromClause`` (a model may map a join);
    every hub model maps one table, which this checks once, where the name is bound.
    """
    table = model.__table__
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} does not map a single table")
    return table


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
    station_id: Mapped[str] = mapped_column(String(36), index=True)
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


# ---- relay (issue 14): site hubs forwarding a site's ops -------------------------------


class Relay(Base):
    """At the province: a site hub's relay credential (0007). It speaks for one site only."""

    __tablename__ = "relay"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE, index=True)
    name: Mapped[str] = mapped_column(Text, default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked: Mapped[int] = mapped_column(Integer, default=0)
    revoked_at: Mapped[str | None] = mapped_column(TS)
    enrolled_at: Mapped[str] = mapped_column(TS)
    last_seen: Mapped[str | None] = mapped_column(TS)


class RelayCode(Base):
    """At the province: a one-time code a site hub exchanges for its relay token (0007)."""

    __tablename__ = "relay_code"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE)
    created_at: Mapped[str] = mapped_column(TS)
    expires_at: Mapped[str] = mapped_column(TS)
    used_at: Mapped[str | None] = mapped_column(TS)
    used_by: Mapped[str | None] = mapped_column(String(36))


class RelayOp(Base):
    """At a site hub: every op a desk pushed, as it came (0007), until the province answers.

    Written in the push's own transaction, so an op the site hub answered is an op it
    will forward (a SIGKILL loses neither). ``op`` is the wire op unchanged; the
    province's answer is kept for the station to collect (``POST /site/answers``).
    """

    __tablename__ = "relay_op"
    op_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # The order the site hub applied ops in, across its desks: forwarded in this order, so
    # a desk's dose of a person another desk registered reaches the province after it.
    arrival: Mapped[int] = mapped_column(BigInteger)
    station_id: Mapped[str] = mapped_column(String(36))
    replica_epoch: Mapped[str] = mapped_column(String(64))
    op_seq: Mapped[int] = mapped_column(BigInteger)
    # What the op touches (its entity; a walk-in's registration): rows the province's
    # pulled state must not overwrite while the op is on its way (hub/site_hub.py).
    entity_type: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[str] = mapped_column(ID)
    extra_id: Mapped[str | None] = mapped_column(ID)
    op: Mapped[dict[str, object]] = mapped_column(JSON)
    schema_version: Mapped[str] = mapped_column(String(16), default="")
    received_at: Mapped[str] = mapped_column(TS)
    # NULL until the province answered; then applied | duplicate | rejected | conflict_queued.
    province_status: Mapped[str | None] = mapped_column(String(16))
    province_result: Mapped[dict[str, object] | None] = mapped_column(JSON)
    answered_at: Mapped[str | None] = mapped_column(TS)

    __table_args__ = (
        Index("ix_relay_op_waiting", "province_status", "arrival"),
        Index("ix_relay_op_entity", "entity_id"),
    )


class RelayShadow(Base):
    """At a site hub: the province's latest row of each entity it sent down (0007).

    The site hub's own tables hold the province's rows plus what its desks did since
    (provisional). When the province has answered every op touching an entity, the
    entity is set back to this row ("province decides": a refusal, a merge, a lost
    edit), numbered above what the desks hold so they take it.
    """

    __tablename__ = "relay_shadow"
    entity_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    entity_id: Mapped[str] = mapped_column(ID, primary_key=True)
    server_seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(12))
    row_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    # 1 while the site hub's own row is kept instead (a desk's op on it is on its way).
    pending: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    __table_args__ = (Index("ix_relay_shadow_pending", "pending"),)


class RelayTally(Base):
    """At a site hub: each station's latest signed tally, to forward unchanged (0007)."""

    __tablename__ = "relay_tally"
    station_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tally: Mapped[dict[str, object]] = mapped_column(JSON)
    received_at: Mapped[str] = mapped_column(TS)
    forwarded_at: Mapped[str | None] = mapped_column(TS)


# ---- dashboard (0002): committee logins, sessions, allocations -------------------------


class DashboardUser(Base):
    """A district/province committee login for the dashboard (never a station credential)."""

    __tablename__ = "dashboard_user"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(10))  # province | district
    scope_code: Mapped[str] = mapped_column(String(16))  # province code or site.area_code
    active: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[str] = mapped_column(TS)
    last_login_at: Mapped[str | None] = mapped_column(TS)


class DashboardSession(Base):
    """Server-side sessions, so logout and deactivation end them at once."""

    __tablename__ = "dashboard_session"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, index=True)
    created_at: Mapped[str] = mapped_column(TS)
    expires_at: Mapped[str] = mapped_column(TS)


class Allocation(Base):
    """Doses allocated to a site, an area or a province (the directive's denominator)."""

    __tablename__ = "allocation"
    level: Mapped[str] = mapped_column(String(10), primary_key=True)  # site | area | province
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    doses: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[str] = mapped_column(TS)


# ---- domain tables (station column names) --------------------------------------------


class Person(Base):
    __tablename__ = "person"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    full_name: Mapped[str] = mapped_column(Text)
    name_fold: Mapped[str] = mapped_column(Text)
    birth: Mapped[str] = mapped_column(String(10))
    birth_year: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    id_type: Mapped[str] = mapped_column(String(10), default="none")
    id_number: Mapped[str | None] = mapped_column(String(20), index=True)
    old_id_number: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(15))
    province_code: Mapped[str | None] = mapped_column(String(4))
    ward_code: Mapped[str | None] = mapped_column(String(8))
    address_line: Mapped[str | None] = mapped_column(Text)
    priority_group: Mapped[int | None] = mapped_column(Integer)
    occupation: Mapped[str | None] = mapped_column(Text)
    bhyt: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="active")
    consent_at: Mapped[str | None] = mapped_column(TS)
    origin_site: Mapped[str] = mapped_column(SITE)
    # Hub-only (0006): the ID number this person holds as *the* active person with it,
    # under a unique index, so two pushes registering the same new number at once
    # cannot both create an active person (the loser retries and merges). NULL for
    # merged persons, persons without a number, and a person a supervisor kept
    # apart from the holder of the same number (unmerge, take_value).
    id_key: Mapped[str | None] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)

    __table_args__ = (
        Index("ix_hub_person_dup", "name_fold", "birth"),
        UniqueConstraint("id_key", name="uq_person_id_key"),
    )


class Registration(Base):
    __tablename__ = "registration"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)
    site_code: Mapped[str] = mapped_column(SITE)
    day: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    queue_label: Mapped[str | None] = mapped_column(String(12))
    checked_in_at: Mapped[str | None] = mapped_column(TS)
    import_ref: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)
    # The person this row pointed at before a merge re-pointed it (for unmerge).
    merged_from: Mapped[str | None] = mapped_column(ID)

    __table_args__ = (Index("ix_hub_registration_site_day", "site_code", "day"),)


class Screening(Base):
    __tablename__ = "screening"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)
    registration_id: Mapped[str | None] = mapped_column(ID)
    site_code: Mapped[str] = mapped_column(SITE)
    day: Mapped[str] = mapped_column(String(10))
    form_id: Mapped[str] = mapped_column(String(32))
    answers: Mapped[str] = mapped_column(Text)
    vitals: Mapped[str] = mapped_column(Text)
    suggested_outcome: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    override_reason: Mapped[str | None] = mapped_column(Text)
    screener_id: Mapped[str] = mapped_column(String(36))
    screened_at: Mapped[str] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer, default=0)
    merged_from: Mapped[str | None] = mapped_column(ID)


class VaccineLot(Base):
    __tablename__ = "vaccine_lot"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE, index=True)
    vaccine_code: Mapped[str] = mapped_column(String(16))
    lot_number: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[str] = mapped_column(String(10))
    doses_received: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[str] = mapped_column(String(10))
    active: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[str] = mapped_column(TS)


class Dose(Base):
    """Append-only at the hub too: a void sets flags, nothing is deleted."""

    __tablename__ = "dose"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)
    site_code: Mapped[str] = mapped_column(SITE)
    vaccine_code: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[str | None] = mapped_column(ID)
    lot_number: Mapped[str | None] = mapped_column(String(32))
    dose_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    administered_at: Mapped[str] = mapped_column(TS)
    day: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[str] = mapped_column(TS)
    vaccinator_id: Mapped[str | None] = mapped_column(String(36))
    screening_id: Mapped[str | None] = mapped_column(ID)
    injection_site: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(10))
    observe_until: Mapped[str | None] = mapped_column(TS)
    observed_at: Mapped[str | None] = mapped_column(TS)
    voided: Mapped[int] = mapped_column(Integer, default=0)
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[str | None] = mapped_column(String(36))
    voided_at: Mapped[str | None] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer, default=0)
    merged_from: Mapped[str | None] = mapped_column(ID)
    # 0004: the volume injected and a supervisor's override (issue 12; NULL before).
    volume_ml: Mapped[float | None] = mapped_column(Float)
    override_by: Mapped[str | None] = mapped_column(String(36))
    override_reason: Mapped[str | None] = mapped_column(Text)
    # The station whose push created the dose (0005): never taken from the payload.
    origin_station: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_hub_dose_site_day", "site_code", "day"),)


class AdverseEvent(Base):
    __tablename__ = "adverse_event"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    dose_id: Mapped[str] = mapped_column(ID, index=True)
    person_id: Mapped[str] = mapped_column(ID, index=True)
    severity: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text)
    onset_at: Mapped[str] = mapped_column(TS)
    recorded_by: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[str] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer, default=0)
    merged_from: Mapped[str | None] = mapped_column(ID)


class AppUser(Base):
    __tablename__ = "app_user"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE, index=True)
    username: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(TS)
    updated_at: Mapped[str] = mapped_column(TS)


class PersonRedirect(Base):
    __tablename__ = "person_redirect"
    from_id: Mapped[str] = mapped_column(ID, primary_key=True)
    to_id: Mapped[str] = mapped_column(ID, index=True)
    created_at: Mapped[str] = mapped_column(TS)
    version: Mapped[int] = mapped_column(Integer, default=0)


DOMAIN_MODELS: dict[str, type[Base]] = {
    "person": Person,
    "registration": Registration,
    "screening": Screening,
    "vaccine_lot": VaccineLot,
    "dose": Dose,
    "adverse_event": AdverseEvent,
    "app_user": AppUser,
    "person_redirect": PersonRedirect,
}

# Hub bookkeeping that must never reach a station (not station columns).
HUB_ONLY_COLUMNS = frozenset({"merged_from", "id_key"})
# person_redirect has no version column at the station: its row version rides on the Change only.
STATION_LACKS = {"person_redirect": frozenset({"version"})}
