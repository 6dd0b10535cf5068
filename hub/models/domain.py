"""Domain tables mirroring the station's synced tables column for column."""

from __future__ import annotations

from sqlalchemy import (
    Float,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.models.base import ID, SITE, TS, Base

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
    id_number: Mapped[str | None] = mapped_column(String(20))  # found through id_key (0009)
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
