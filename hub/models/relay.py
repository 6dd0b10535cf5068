"""Relay tables (issue 14): site hubs forwarding a site's ops."""

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

from hub.models.base import ID, SITE, TS, Base

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


class RelayCert(Base):
    """At the province: every site hub certificate it issued (0008, ``hub.relay_certs``).

    A certificate is revoked (``revoked_at``) when its relay enrolls again (a renewed or
    replaced site hub: only the newest one stays) or when the relay is revoked. Desks of the
    site read the revoked, not-yet-expired fingerprints (``GET /sync/v1/site/revoked-certs``)
    and refuse those certificates on the LAN.
    """

    __tablename__ = "relay_cert"
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the DER, hex
    relay_id: Mapped[str] = mapped_column(String(36), index=True)
    site_code: Mapped[str] = mapped_column(SITE)
    issued_at: Mapped[str] = mapped_column(TS)
    not_after: Mapped[str] = mapped_column(TS)
    revoked_at: Mapped[str | None] = mapped_column(TS)

    __table_args__ = (Index("ix_relay_cert_site", "site_code", "not_after"),)


class RelayCode(Base):
    """At the province: a one-time code a site hub exchanges for its relay token (0007)."""

    __tablename__ = "relay_code"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    site_code: Mapped[str] = mapped_column(SITE)
    created_at: Mapped[str] = mapped_column(TS)
    expires_at: Mapped[str] = mapped_column(TS)
    used_at: Mapped[str | None] = mapped_column(TS)
    used_by: Mapped[str | None] = mapped_column(String(36))
    # The relay the enrolling site hub replaces (0008, ``relay code --replaces``): revoked,
    # token and certificates, when this code is used.
    replaces: Mapped[str | None] = mapped_column(String(36))


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
