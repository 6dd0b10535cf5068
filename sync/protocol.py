"""The sync wire protocol, shared by the station engine and the hub.

Pydantic 2 models; the hub publishes them through OpenAPI. Every request and
response carries ``protocol_version``; the hub accepts versions in
``[MIN_PROTOCOL_VERSION, PROTOCOL_VERSION]``. See docs/protocol.md.

Principles (DESIGN §5): intent ops with client-made UUIDv7 ``op_id``s; a per-
replica ``op_seq`` order; one ack per op; the pull cursor is the hub's sequence
number, never a clock.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

PROTOCOL_VERSION = 1
MIN_PROTOCOL_VERSION = 1
API_PREFIX = "/sync/v1"
TOKEN_HEADER = "Authorization"  # "Bearer <station token>"
MAX_BODY_BYTES = 4 * 1024 * 1024  # after gunzip
MAX_OPS_PER_PUSH = 1000
MAX_PULL_LIMIT = 2000

OpType = Literal[
    "register_person",
    "add_registration",
    "update_person",
    "check_in",
    "record_screening",
    "record_dose",
    "void_dose",
    "end_observation",
    "record_adverse_event",
    "upsert_lot",
    "upsert_user",
    "resolve_review",
]
OP_TYPES: tuple[str, ...] = OpType.__args__  # type: ignore[attr-defined]

AckStatus = Literal["applied", "duplicate", "rejected", "conflict_queued"]
EntityType = Literal[
    "person",
    "registration",
    "screening",
    "dose",
    "adverse_event",
    "vaccine_lot",
    "app_user",
    "person_redirect",
    "review",
]


class _Model(BaseModel):
    # defer_build: a model's validator is built when first used, not at import (a CLI start
    # with nothing to send never builds the ops' and pushes' validators).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ErrorBody(_Model):
    """Every error response: a stable code and a human message (never a stack trace)."""

    code: str = Field(examples=["auth.invalid_token"])
    message: str
    detail: dict[str, Any] = Field(default_factory=dict)


# ---- enrollment ----------------------------------------------------------------------


class EnrollRequest(_Model):
    protocol_version: int = PROTOCOL_VERSION
    code: str = Field(min_length=6, max_length=64, description="one-time enrollment code")
    station_id: str = Field(min_length=36, max_length=36, description="the station's install id (UUID)")
    station_name: str = Field(default="", max_length=100)


class EnrollResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    station_id: str
    site_code: str
    site_name: str
    token: str = Field(description="the station's bearer token; shown once, stored hashed at the hub")
    hub_epoch: str


# ---- push ----------------------------------------------------------------------------


class Op(_Model):
    op_id: str = Field(min_length=36, max_length=36)
    op_seq: int = Field(ge=1)
    op_type: OpType
    op_version: int = Field(default=1, ge=1)
    entity_type: EntityType
    entity_id: str = Field(min_length=1, max_length=64)
    base_version: int | None = None
    payload: dict[str, Any]
    hlc: str = Field(max_length=32)
    recorded_at: str = Field(max_length=40)
    user_id: str | None = Field(default=None, max_length=36)


class PushRequest(_Model):
    protocol_version: int = PROTOCOL_VERSION
    station_id: str
    replica_epoch: str
    schema_version: str = Field(max_length=16, description="the station's database schema revision")
    sent_at: str = Field(description="the station's wall clock when sending (skew measurement)")
    ops: list[Op] = Field(max_length=MAX_OPS_PER_PUSH)


class OpResult(_Model):
    op_id: str
    status: AckStatus
    server_seq: int | None = Field(default=None, description="change_log seq of the effect, if any")
    reason: str | None = Field(default=None, description="rejection code, e.g. dose.person_unknown")
    detail: dict[str, Any] = Field(default_factory=dict)


class PushResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    results: list[OpResult]
    expected_next_op_seq: int = Field(description="the next op_seq the hub expects from this replica")
    hub_epoch: str
    server_time: str
    clock_skew_ms: int = Field(description="station clock minus hub clock, from sent_at")


# ---- pull ----------------------------------------------------------------------------


class Change(_Model):
    server_seq: int
    entity_type: EntityType
    entity_id: str
    kind: Literal["upsert", "redirect"]
    row_version: int
    data: dict[str, Any] = Field(description="the full row as the hub holds it")


class PullResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    changes: list[Change]
    next_cursor: int
    has_more: bool
    hub_epoch: str
    head_seq: int


# ---- tally ---------------------------------------------------------------------------


class TallyRow(_Model):
    day: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    vaccine_code: str = Field(max_length=16)
    lot_number: str | None = Field(default=None, max_length=32)
    entered: int = Field(ge=0, description="valid doses entered at the station")
    pending: int = Field(ge=0, description="of which not yet acknowledged by the hub")
    acknowledged: int = Field(ge=0)


class TallyRequest(_Model):
    protocol_version: int = PROTOCOL_VERSION
    station_id: str
    generated_at: str
    rows: list[TallyRow] = Field(max_length=5000)
    outbox_pending: int = Field(ge=0)
    oldest_pending_at: str | None = None
    signature: str = Field(description="hex HMAC-SHA256 of the canonical rows, keyed with the token hash: see tally_signature()")


def token_hash(token: str) -> str:
    """The hub stores only this (hex SHA-256 of the bearer token); it also keys tally HMACs."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def canonical_tally_rows(rows: Sequence[TallyRow]) -> bytes:
    """The bytes a tally signature covers: rows as compact, key-sorted UTF-8 JSON, in order."""
    data = [row.model_dump(mode="json") for row in rows]
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def tally_signature_with_key(key_hex: str, rows: Sequence[TallyRow]) -> str:
    """HMAC-SHA256 (hex) of the canonical rows keyed with ``token_hash(token)``.

    Keyed with the token's hash rather than the token itself because the hub
    never stores tokens in the clear; the station knows both.
    """
    return hmac.new(key_hex.encode("ascii"), canonical_tally_rows(rows), hashlib.sha256).hexdigest()


def tally_signature(token: str, rows: Sequence[TallyRow]) -> str:
    """The ``TallyRequest.signature`` a station computes with its bearer token."""
    return tally_signature_with_key(token_hash(token), rows)


class TallyResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    accepted: bool
    server_time: str


class SiteSummary(_Model):
    """Given (station tallies) against received (doses the hub holds) for one site."""

    site_code: str
    given: int
    received: int
    gap: int
    pending_at_stations: int
    oldest_pending_at: str | None
    last_contact: str | None
    stations: int


# ---- lookup, reviews, health ---------------------------------------------------------


class PersonLookupResponse(_Model):
    found: bool
    person: dict[str, Any] | None = None
    doses: list[dict[str, Any]] = Field(default_factory=list)


class ReviewItem(_Model):
    id: str
    kind: Literal[
        "possible_duplicate_person",
        "possible_duplicate_dose",
        "field_conflict",
        "edit_after_void",
        "clock_skew",
        "merged_person",
    ]
    priority: Literal["low", "high"]
    status: Literal["open", "resolved"]
    entity_type: str
    entity_id: str
    site_codes: list[str]
    candidates: dict[str, Any]
    created_at: str
    resolution: dict[str, Any] | None = None


class ReviewList(_Model):
    items: list[ReviewItem]


ResolveAction = Literal["void_dose", "keep_both", "merge", "unmerge", "keep_current", "take_value"]


class ResolveRequest(_Model):
    """Body of ``POST /reviews/{id}/resolve``: the hub turns it into a ``resolve_review`` op.

    ``params`` depend on the action: ``void_dose`` {"dose_id", "reason"};
    ``merge`` {"from_id", "to_id"} (defaults from the review's candidates);
    ``take_value`` {"field"} (takes the review's other value); others none.
    """

    action: ResolveAction
    params: dict[str, Any] = Field(default_factory=dict)
    user_id: str | None = Field(default=None, max_length=36)


class Health(_Model):
    status: Literal["ok"] = "ok"
    protocol_version: int = PROTOCOL_VERSION
    hub_epoch: str
    server_time: str
