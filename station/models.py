"""Typed SQLAlchemy models of the station database.

Synced tables (written only through services; guarded by triggers):
``person``, ``registration``, ``screening``, ``dose``, ``adverse_event``,
``vaccine_lot``, ``app_user``, ``person_redirect``. Local tables: ``sync_outbox``,
``sync_state``, ``audit_log``, ``conflict``, ``meta``.

Timestamps are ISO 8601 text with the site offset; calendar days are
``YYYY-MM-DD`` text; birth dates are ``YYYY-MM-DD`` or ``YYYY`` (year only).
IDs are client-made UUIDv7 text. ``version`` is the hub's row version (0 until
the hub has acknowledged the row).
"""

from __future__ import annotations

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


SYNCED_TABLES = (
    "person",
    "registration",
    "screening",
    "dose",
    "adverse_event",
    "vaccine_lot",
    "app_user",
    "person_redirect",
)


class Person(Base):
    __tablename__ = "person"
    # Local integer key: the FTS5 index needs a stable rowid; everything else uses ``id``.
    rid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    full_name: Mapped[str] = mapped_column(Text)
    name_fold: Mapped[str] = mapped_column(Text)
    birth: Mapped[str] = mapped_column(String(10))
    birth_year: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    id_type: Mapped[str] = mapped_column(String(10), default="none")
    id_number: Mapped[str | None] = mapped_column(String(20), index=True)
    old_id_number: Mapped[str | None] = mapped_column(String(20))
    phone: Mapped[str | None] = mapped_column(String(15), index=True)
    province_code: Mapped[str | None] = mapped_column(String(4))
    ward_code: Mapped[str | None] = mapped_column(String(8))
    address_line: Mapped[str | None] = mapped_column(Text)
    priority_group: Mapped[int | None] = mapped_column(Integer)
    occupation: Mapped[str | None] = mapped_column(Text)
    bhyt: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(10), default="active")
    # When the registration notice (PDPL 91/2025) was acknowledged; revision 0002.
    consent_at: Mapped[str | None] = mapped_column(String(32))
    origin_site: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        Index("ix_person_dup", "name_fold", "birth"),
        # Tail search ("…678"): the last 3 digits, as the UI shows them; revision 0003.
        Index("ix_person_id_tail3", func.substr(text("id_number"), -3), "id_number"),
        Index("ix_person_phone_tail3", func.substr(text("phone"), -3), "phone"),
    )


class Registration(Base):
    __tablename__ = "registration"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    site_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    queue_label: Mapped[str | None] = mapped_column(String(12))
    checked_in_at: Mapped[str | None] = mapped_column(String(32))
    import_ref: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("person_id", "site_code", "day", name="uq_registration_person_day"),
        UniqueConstraint("site_code", "day", "queue_label", name="uq_registration_queue"),
        Index("ix_registration_day", "site_code", "day", "status"),
    )


class Screening(Base):
    __tablename__ = "screening"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    registration_id: Mapped[str | None] = mapped_column(ForeignKey("registration.id"))
    site_code: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    form_id: Mapped[str] = mapped_column(String(32))
    answers: Mapped[str] = mapped_column(Text)
    vitals: Mapped[str] = mapped_column(Text)
    suggested_outcome: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(16))
    override_reason: Mapped[str | None] = mapped_column(Text)
    screener_id: Mapped[str] = mapped_column(String(36))
    screened_at: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)


class VaccineLot(Base):
    __tablename__ = "vaccine_lot"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(32))
    vaccine_code: Mapped[str] = mapped_column(String(16))
    lot_number: Mapped[str] = mapped_column(String(32))
    expiry: Mapped[str] = mapped_column(String(10))
    doses_received: Mapped[int] = mapped_column(Integer)
    received_on: Mapped[str] = mapped_column(String(10))
    active: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (
        UniqueConstraint("site_code", "vaccine_code", "lot_number", name="uq_lot"),
    )


class Dose(Base):
    """Append-only: a correction is a void plus a new dose, never an update."""

    __tablename__ = "dose"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"), index=True)
    site_code: Mapped[str] = mapped_column(String(32))
    vaccine_code: Mapped[str] = mapped_column(String(16))
    lot_id: Mapped[str | None] = mapped_column(ForeignKey("vaccine_lot.id"), index=True)
    lot_number: Mapped[str | None] = mapped_column(String(32))
    dose_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(12))
    administered_at: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    recorded_at: Mapped[str] = mapped_column(String(32))
    vaccinator_id: Mapped[str | None] = mapped_column(String(36))
    screening_id: Mapped[str | None] = mapped_column(ForeignKey("screening.id"))
    injection_site: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(10))
    observe_until: Mapped[str | None] = mapped_column(String(32))
    observed_at: Mapped[str | None] = mapped_column(String(32))
    voided: Mapped[int] = mapped_column(Integer, default=0)
    void_reason: Mapped[str | None] = mapped_column(Text)
    voided_by: Mapped[str | None] = mapped_column(String(36))
    voided_at: Mapped[str | None] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)
    # 0004: what was injected (a half-dose booster is 0.25 ml; NULL before 0004 and
    # for doses copied from paper), and a supervisor's override of an age limit or a
    # contraindication (who, why; the codes are in the audit log).
    volume_ml: Mapped[float | None] = mapped_column(Float)
    override_by: Mapped[str | None] = mapped_column(String(36))
    override_reason: Mapped[str | None] = mapped_column(Text)
    # The install id of the station that entered the dose (revision 0005); NULL for
    # rows pulled before the hub sent origins. The tally counts only its own.
    origin_station: Mapped[str | None] = mapped_column(String(36))

    __table_args__ = (Index("ix_dose_site_day", "site_code", "day"),)


class AdverseEvent(Base):
    __tablename__ = "adverse_event"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dose_id: Mapped[str] = mapped_column(ForeignKey("dose.id"), index=True)
    person_id: Mapped[str] = mapped_column(ForeignKey("person.id"))
    severity: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text)
    onset_at: Mapped[str] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(36))
    recorded_at: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer, default=0)


class AppUser(Base):
    __tablename__ = "app_user"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    site_code: Mapped[str] = mapped_column(String(32))
    username: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(12))
    password_hash: Mapped[str] = mapped_column(Text)
    active: Mapped[int] = mapped_column(Integer, default=1)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[str] = mapped_column(String(32))

    __table_args__ = (UniqueConstraint("site_code", "username", name="uq_user_name"),)


class PersonRedirect(Base):
    __tablename__ = "person_redirect"
    from_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    to_id: Mapped[str] = mapped_column(String(36))
    created_at: Mapped[str] = mapped_column(String(32))


class SyncOutbox(Base):
    """The transactional outbox: one row per intent op, written with the data."""

    __tablename__ = "sync_outbox"
    op_seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    op_id: Mapped[str] = mapped_column(String(36), unique=True)
    tx_id: Mapped[str] = mapped_column(String(36), index=True)
    op_type: Mapped[str] = mapped_column(String(32))
    op_version: Mapped[int] = mapped_column(Integer, default=1)
    entity_type: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[str] = mapped_column(String(36))
    base_version: Mapped[int | None] = mapped_column(Integer)
    payload: Mapped[str] = mapped_column(Text)
    hlc: Mapped[str] = mapped_column(String(24))
    recorded_at: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(36))
    # pending | inflight | relay_accepted (the site hub holds it, 0007) | acked | rejected | conflict
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    ack_server_seq: Mapped[int | None] = mapped_column(Integer)
    ack_at: Mapped[str | None] = mapped_column(String(32))

    __table_args__ = (Index("ix_outbox_state", "state", "op_seq"),)


class SyncState(Base):
    """One row: this replica's identity and sync cursors."""

    __tablename__ = "sync_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(36))
    site_code: Mapped[str] = mapped_column(String(32))
    station_letter: Mapped[str] = mapped_column(String(2), default="A")
    replica_epoch: Mapped[str] = mapped_column(String(36))
    hub_epoch: Mapped[str | None] = mapped_column(String(36))
    pull_cursor: Mapped[int] = mapped_column(Integer, default=0)
    hlc_last: Mapped[str | None] = mapped_column(String(24))
    clock_skew_ms: Mapped[int | None] = mapped_column(Integer)
    last_push_ok: Mapped[str | None] = mapped_column(String(32))
    last_pull_ok: Mapped[str | None] = mapped_column(String(32))
    # The site hub route (0007): its address, its own cursor and epoch, its last good cycle.
    site_hub_url: Mapped[str | None] = mapped_column(Text)
    relay_cursor: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    relay_hub_epoch: Mapped[str | None] = mapped_column(String(36))
    last_relay_ok: Mapped[str | None] = mapped_column(String(32))


class AuditLog(Base):
    """Hash-chained: each entry's hash covers the previous hash and its own fields."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(32))
    entity_type: Mapped[str | None] = mapped_column(String(24))
    entity_id: Mapped[str | None] = mapped_column(String(36))
    op_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[str] = mapped_column(Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Conflict(Base):
    """Local mirror of hub review items that concern this site."""

    __tablename__ = "conflict"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    entity_type: Mapped[str] = mapped_column(String(24))
    entity_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10))
    candidates: Mapped[str] = mapped_column(Text)
    created_at: Mapped[str] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(Text)


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SyncParked(Base):
    """A pulled change not applicable yet (station.held_changes), retried after every page."""

    __tablename__ = "sync_parked"
    server_seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    row_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # the hub row, JSON
    error: Mapped[str] = mapped_column(String(64))


class SyncDeferred(Base):
    """A hub row kept aside until the local ops that changed the row are answered."""

    __tablename__ = "sync_deferred"
    entity_type: Mapped[str] = mapped_column(String(32), primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    server_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    row_version: Mapped[int] = mapped_column(Integer)
    data: Mapped[str] = mapped_column(Text)  # the hub row, JSON
    ops: Mapped[str] = mapped_column(Text)  # JSON array of op ids
