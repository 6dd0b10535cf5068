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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

# The bounded values (timestamps, days, ids, op types): the pure kernel's (kernel.ops builds
# op payloads with them without importing sync), re-exported here for the protocol's readers.
from kernel.wire import (
    ID_PATTERN as ID_PATTERN,
)
from kernel.wire import (
    MAX_INT as MAX_INT,
)
from kernel.wire import (
    MAX_YEAR as MAX_YEAR,
)
from kernel.wire import (
    MIN_YEAR as MIN_YEAR,
)
from kernel.wire import (
    OP_TYPES as OP_TYPES,
)
from kernel.wire import (
    UUID_PATTERN as UUID_PATTERN,
)
from kernel.wire import (
    Count as Count,
)
from kernel.wire import (
    Day as Day,
)
from kernel.wire import (
    Epoch as Epoch,
)
from kernel.wire import (
    Ident as Ident,
)
from kernel.wire import (
    OpType as OpType,
)
from kernel.wire import (
    ResolveAction as ResolveAction,
)
from kernel.wire import (
    SiteCode as SiteCode,
)
from kernel.wire import (
    Timestamp as Timestamp,
)
from kernel.wire import (
    Uuid as Uuid,
)
from kernel.wire import (
    VaccineCode as VaccineCode,
)
from kernel.wire import (
    parse_day as parse_day,
)
from kernel.wire import (
    parse_timestamp as parse_timestamp,
)
from sync import wire_constants  # the constants, one definition (pydantic-free)

if TYPE_CHECKING:  # the payload models (kernel.ops): the hub's; a station's sync never loads them
    from kernel.ops import OpPayload

PROTOCOL_VERSION = wire_constants.PROTOCOL_VERSION
MIN_PROTOCOL_VERSION = 1
API_PREFIX = wire_constants.API_PREFIX
TOKEN_HEADER = wire_constants.TOKEN_HEADER  # "Bearer <station token>"
MAX_BODY_BYTES = 4 * 1024 * 1024  # after gunzip
MAX_OPS_PER_PUSH = 1000
PUSH_WINDOW_HEADER = wire_constants.PUSH_WINDOW_HEADER
PUSH_FOLLOWS_HEADER = wire_constants.PUSH_FOLLOWS_HEADER
MAX_PULL_LIMIT = wire_constants.MAX_PULL_LIMIT
# A long-poll pull waits at most this long for a change (below common proxy idle limits).
MAX_PULL_WAIT_S = 30
# A pull page also stops once its rows' data reach this many bytes (JSON): a page of large rows
# (review items, long screening answers) stays small for a slow line; one row is always sent.
MAX_PULL_BYTES = 1024 * 1024

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


# JSON objects whose values this module does not type (an op's payload is typed per op
# type by kernel.ops, a row by its table) are ``dict[str, object]``: pydantic takes any
# value for ``object`` (no check, the same JSON schema as before); readers narrow each value.


class _Model(BaseModel):
    # defer_build: each validator built at first use; the hub builds all at its start (hub.app).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class ErrorBody(_Model):
    """Every error response: a stable code and a human message (never a stack trace)."""

    code: str = Field(examples=["auth.invalid_token"])
    message: str
    detail: dict[str, object] = Field(default_factory=dict)


# ---- enrollment ----------------------------------------------------------------------


class EnrollRequest(_Model):
    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    code: str = Field(min_length=6, max_length=64, description="one-time enrollment code")
    station_id: Uuid = Field(description="the station's install id (UUID)")
    station_name: str = Field(default="", max_length=100)


class EnrollResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    station_id: str
    site_code: str
    site_name: str
    token: str = Field(description="the station's bearer token; shown once, stored hashed at the hub")
    hub_epoch: str
    # The province's relay CA (PEM): the station trusts a site hub on its LAN only with a
    # certificate chaining to it that names the station's own site (sync.pinning).
    relay_ca_pem: str | None = Field(default=None, max_length=8192)


# ---- push ----------------------------------------------------------------------------


class Op(_Model):
    op_id: Uuid
    op_seq: int = Field(ge=1, le=MAX_INT)
    op_type: OpType
    op_version: int = Field(default=1, ge=1, le=1000)
    entity_type: EntityType
    entity_id: str = Field(min_length=1, max_length=64, pattern=ID_PATTERN)
    base_version: int | None = Field(default=None, ge=0, le=2**31 - 1)
    payload: dict[str, object] = Field(max_length=64, description="checked per op type at the hub: typed_payload()")
    # kernel.clock.HLC: 13 digits of wall milliseconds, a counter of 5 digits (more after
    # long clock jumps back); empty for ops the hub makes itself.
    hlc: str = Field(max_length=32, pattern=r"^([0-9]{13}-[0-9]{5,9})?$")
    recorded_at: Timestamp
    user_id: Ident | None = None

    def typed_payload(self) -> OpPayload:
        """The payload parsed with its op type's model (kernel.ops); pydantic's
        ``ValidationError`` if it does not fit (the hub answers ``payload.invalid``)."""
        from kernel.ops import payload_model
        return payload_model(self.op_type).model_validate(self.payload)


class PushRequest(_Model):
    model_config = ConfigDict(defer_build=False)  # built at import: a push encodes one at once
    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    station_id: Uuid
    replica_epoch: Epoch
    schema_version: str = Field(max_length=16, pattern=r"^[A-Za-z0-9._-]*$", description="the station's database schema revision")
    sent_at: Timestamp = Field(description="the station's wall clock when sending (skew measurement)")
    ops: list[Op] = Field(max_length=MAX_OPS_PER_PUSH)


class LwwOutcome(BaseModel):
    """A contact field an ``update_person`` settled by last writer wins."""

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    field: str = Field(max_length=32)
    won: StrictBool


class AckDetail(BaseModel):
    """The declared keys of an op result's ``detail`` (docs/protocol.md), read as attributes.

    The wire keeps ``detail`` a JSON object with these keys (absent when they do not
    apply), so a station of any release reads any hub's answers. Keys this release
    does not know (a rejection's parameters, a resolution's effect, a newer hub's
    keys) are kept as extras.
    """

    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    # Did the op change its own entity? False for a losing edit (LWW lost, identity
    # held): its seq is its review item's, and the station keeps the hub's row it holds.
    # An older hub sends no key: the op changed its entity.
    entity_changed: StrictBool = True
    # The op's effect was written by the batched path and marked as this station's own
    # echo: its change rows will not come back in the station's pull.
    no_echo: StrictBool = False
    # The person the op landed on (after redirects).
    person_id: Ident | None = None
    # register_person: the earlier person with the same ID number it was merged into.
    merged_into: Ident | None = None
    # A review item the op opened (a possible duplicate, a field conflict, an edit after
    # a void) or resolved.
    review_id: Ident | None = None
    possible_duplicate_of: list[Ident] | None = Field(default=None, max_length=100)
    # update_person: the fields applied, settled by last writer wins, queued for review;
    # ``noop`` is those fields already equal, or true for an op with nothing left to do.
    applied: list[str] | None = Field(default=None, max_length=40)
    noop: StrictBool | Annotated[list[str], Field(max_length=40)] | None = None
    lww: list[LwwOutcome] | None = Field(default=None, max_length=40)
    queued: list[str] | None = Field(default=None, max_length=40)
    already_voided: StrictBool | None = None
    already_resolved: StrictBool | None = None
    # check_in of a registration already past ``expected``: its status at the hub.
    status: str | None = Field(default=None, max_length=32)
    # A retried op's first verdict (its answer is then ``duplicate``).
    original_status: AckStatus | None = None

    @classmethod
    def read(cls, detail: Mapping[str, object]) -> AckDetail:
        """``detail`` parsed; a key that does not fit is read as absent (never a failed push)."""
        try:
            return cls.model_validate(detail)
        except ValidationError as exc:
            bad = {e["loc"][0] for e in exc.errors() if e["loc"]}
        try:
            return cls.model_validate({k: v for k, v in detail.items() if k not in bad})
        except ValidationError:
            return cls()

    def wire(self) -> dict[str, object]:
        """As ``detail`` on the wire: the keys that were given, none added."""
        return self.model_dump(exclude_unset=True)


class OpResult(_Model):
    op_id: str
    status: AckStatus
    server_seq: int | None = Field(default=None, description="change_log seq of the effect, if any")
    reason: str | None = Field(default=None, description="rejection code, e.g. dose.person_unknown")
    detail: dict[str, object] = Field(default_factory=dict, description="keys: see AckDetail")

    def ack(self) -> AckDetail:
        """The declared fields of ``detail`` (entity_changed, no_echo, ids), typed."""
        return AckDetail.read(self.detail)


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
    data: dict[str, object] = Field(description="the full row as the hub holds it")


class PullResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    changes: list[Change]
    next_cursor: int
    has_more: bool
    hub_epoch: str
    head_seq: int


# ---- tally ---------------------------------------------------------------------------


# Counts are bounded at the edge: a day of one station never holds a million doses.
MAX_TALLY_COUNT = wire_constants.MAX_TALLY_COUNT
TallyCount = Annotated[int, Field(ge=0, le=MAX_TALLY_COUNT)]


class TallyRow(_Model):
    """One day, vaccine and lot of the doses THIS station entered (never its siblings').

    The ``all_*`` counts include voided doses; ``voids_unsent`` counts voids made
    here that the hub does not hold yet, of doses it does hold. Stations from
    before these fields send none of them (``None``): the hub then falls back to
    the valid counts and skips its cross-check for that station.
    """

    day: Day
    vaccine_code: VaccineCode
    lot_number: str | None = Field(default=None, max_length=32)
    entered: TallyCount = Field(description="valid doses this station entered")
    pending: TallyCount = Field(description="of which the hub has not answered the op yet")
    acknowledged: TallyCount = Field(description="of which the hub accepted")
    all_entered: TallyCount | None = Field(default=None, description="entered here, voided ones included")
    all_pending: TallyCount | None = None
    all_acknowledged: TallyCount | None = None
    voids_unsent: TallyCount | None = Field(
        default=None,
        description="doses of this site the hub holds that this station voided, void not yet answered",
    )


# Fields added after the first release: left out of the signed bytes when absent, so
# a tally signed by an older station still verifies.
_TALLY_ROW_OPTIONAL = ("all_entered", "all_pending", "all_acknowledged", "voids_unsent")


class TallyRequest(_Model):
    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    station_id: Uuid
    generated_at: Timestamp
    rows: list[TallyRow] = Field(max_length=5000)
    outbox_pending: Count
    oldest_pending_at: Timestamp | None = None
    replica_epoch: Epoch | None = Field(
        default=None,
        description="the station's replica epoch: a new one (a restored backup) freezes what "
        "the previous one still owed",
    )
    signature: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="hex HMAC-SHA256 of the canonical rows, keyed with the token hash: see tally_signature()")


def token_hash(token: str) -> str:
    """The hub stores only this (hex SHA-256 of the bearer token); it also keys tally HMACs."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def canonical_tally_rows(rows: Sequence[TallyRow]) -> bytes:
    """The bytes a tally signature covers: rows as compact, key-sorted UTF-8 JSON, in order."""
    data = []
    for row in rows:
        d = row.model_dump(mode="json")
        for k in _TALLY_ROW_OPTIONAL:
            if d.get(k) is None:
                d.pop(k, None)
        data.append(d)
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
    """Given against received for one site (the dashboard's numbers; docs/dashboard.md).

    given = received + gap + written_off; gap counts what the stations (revoked
    ones included) still owe, less voids they hold for doses the hub counts.
    """

    site_code: str
    given: int
    received: int
    gap: int
    pending_at_stations: int
    oldest_pending_at: str | None
    last_contact: str | None
    stations: int = Field(description="live (not revoked) stations")
    written_off: int = Field(default=0, description="doses a supervisor wrote off, shown apart")
    revoked_gap: int = Field(default=0, description="open gap owed by revoked stations")
    revoked_stations: int = 0


# ---- lookup, reviews, health ---------------------------------------------------------


class LookupPerson(_Model):
    """What a desk needs to recognise the person in front of it (see docs/protocol.md)."""

    full_name: str
    birth_year: int
    sex: str | None


class LookupDose(_Model):
    """A valid dose given anywhere: enough to pick the right next dose, nothing more."""

    vaccine_code: str
    dose_number: int
    kind: str
    day: str
    site_code: str
    source: str


class PersonLookupResponse(_Model):
    found: bool
    person: LookupPerson | None = None
    doses: list[LookupDose] = Field(default_factory=list)


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
    candidates: dict[str, object]
    created_at: str
    resolution: dict[str, object] | None = None


class ReviewList(_Model):
    items: list[ReviewItem]


class ResolveParams(_Model):
    """The parameters a resolution may carry (each action reads its own)."""

    dose_id: Ident | None = None
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    from_id: Ident | None = None
    to_id: Ident | None = None
    field: str | None = Field(default=None, max_length=32, pattern=r"^[a-z_]+$")


class ResolveRequest(_Model):
    """Body of ``POST /reviews/{id}/resolve``: the hub turns it into a ``resolve_review`` op.

    ``params`` depend on the action: ``void_dose`` {"dose_id", "reason"};
    ``merge`` {"from_id", "to_id"} (defaults from the review's candidates);
    ``take_value`` {"field"} (takes the review's other value); others none.
    ``user_id`` is the supervisor resolving it: a user of the station's site
    allowed to resolve reviews (else the resolution is ``rejected``).
    """

    action: ResolveAction
    params: ResolveParams = Field(default_factory=ResolveParams)
    user_id: Ident | None = None


class Health(_Model):
    status: Literal["ok"] = "ok"
    protocol_version: int = PROTOCOL_VERSION
    hub_epoch: str
    server_time: str


# ---- relay: a site hub forwarding its stations' ops to the province (issue 14) ----------
#
# The province issues each site hub a relay credential (one-time code → relay token),
# which speaks for one site. With it the site hub reads the site's station roster (token
# hashes, never tokens), forwards its stations' ops unchanged, forwards their signed
# tallies unchanged, and pulls the site's scope. Stations talk to the site hub with their
# own station token (the site hub knows its hash from the roster). docs/site-hub.md.

RELAY_PREFIX = API_PREFIX + "/relay"
MAX_RELAY_GROUPS = 200  # (station, replica) groups per relay push; ops still ≤ MAX_OPS_PER_PUSH
MAX_ANSWER_IDS = wire_constants.MAX_ANSWER_IDS


class RelayEnrollRequest(_Model):
    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    code: str = Field(min_length=6, max_length=64, description="one-time relay code")
    relay_id: Uuid = Field(description="the site hub's install id (UUID)")
    relay_name: str = Field(default="", max_length=100)
    # The site hub's certificate signing request (PEM): the province signs it for the
    # code's site (hub.relay_pki). The site hub's private key never leaves it.
    csr: str | None = Field(default=None, max_length=8192)


class RelayEnrollResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    relay_id: str
    site_code: str
    site_name: str
    token: str = Field(description="the relay's bearer token; shown once, stored hashed")
    hub_epoch: str
    # The site hub's TLS identity, when the request carried a CSR (hub.relay_pki): keys
    # ``cert_pem`` (signed by the province's relay CA for this site), ``fingerprint`` (its
    # SHA-256) and ``ca_pem`` (the relay CA). None: no CSR was sent.
    # Bounded like every value on the wire: at most 8 keys of ≤ 32 characters, values ≤ 8 KB
    # (a PEM certificate is ~1–2 KB), so a hostile or broken province cannot fill the site hub.
    tls: dict[Annotated[str, Field(max_length=32)], Annotated[str, Field(max_length=8192)]] | None = Field(
        default=None, max_length=8
    )


class RelayStation(_Model):
    """A station of the relay's site as the site hub needs it to authenticate the desk."""

    station_id: str
    name: str
    token_hash: str = Field(description="hex SHA-256 of the station's token (never the token)")
    revoked: bool


class RelayStations(_Model):
    protocol_version: int = PROTOCOL_VERSION
    site_code: str
    site_name: str
    stations: list[RelayStation]
    hub_epoch: str


class RelayPushRequest(_Model):
    """Ops of the site's stations, grouped by replica, each group as the station pushed it."""

    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    relay_id: Uuid
    groups: list[PushRequest] = Field(max_length=MAX_RELAY_GROUPS)


class RelayGroupResult(_Model):
    station_id: str
    replica_epoch: str
    results: list[OpResult] = Field(default_factory=list)
    expected_next_op_seq: int | None = None
    # A group refused as a whole (another site's or a revoked station, a regressed replica).
    error: ErrorBody | None = None


class RelayPushResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    groups: list[RelayGroupResult]
    hub_epoch: str
    server_time: str


class RelayTallyRequest(_Model):
    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    relay_id: Uuid
    tallies: list[TallyRequest] = Field(max_length=MAX_RELAY_GROUPS)


class RelayTallyResult(_Model):
    station_id: str
    accepted: bool
    error: ErrorBody | None = None


class RelayTallyResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    results: list[RelayTallyResult]
    server_time: str


class SiteAnswersRequest(_Model):
    """A station asks its site hub for the province's answers to ops it relayed."""

    protocol_version: int = Field(default=PROTOCOL_VERSION, ge=0, le=1000)
    station_id: Uuid
    op_ids: list[Uuid] = Field(max_length=MAX_ANSWER_IDS)


class SiteAnswersResponse(_Model):
    protocol_version: int = PROTOCOL_VERSION
    # The province's answers known so far (ops still on their way are left out).
    results: list[OpResult]
    # Whether the site hub's line to the province worked at its last attempt.
    province_reachable: bool
    hub_epoch: str
