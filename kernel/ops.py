"""The ops' payloads: one typed vocabulary for the station that writes them and the hub.

Every op type has one pydantic model here. The station services build a payload by
constructing its model from values they have already checked (``build``) and
writing ``wire(model)``; the hub parses every payload it receives with the same
model (``hub.payloads.parse``: a payload that does not fit is ``rejected
payload.invalid`` naming the failing fields, never their values); the tests
construct them too. ``payload_model(op_type)`` is the table of op type to model.

Every value is parsed and bounded here, before any rule or table sees it: strings
have a length (and, where the station writes a code, its alphabet), enumerations
are closed, timestamps and days are real ones within
``kernel.wire.MIN_YEAR..MAX_YEAR``, numbers have ranges. Unknown keys are ignored
(an older hub reads a newer station's ops). docs/protocol.md lists the bounds.

Pure (pydantic only): the station may not import ``sync``, so the vocabulary both
sides share lives in the kernel (like ``kernel.wire``, the bounded values).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from kernel.clock import VN_TZ
from kernel.roles import ROLES
from kernel.wire import (
    MAX_YEAR,
    MIN_YEAR,
    Day,
    DoseDay,
    DoseTimestamp,
    Ident,
    ResolveAction,
    SiteCode,
    Timestamp,
    VaccineCode,
    parse_day,
)

# ---- the shared lists -------------------------------------------------------------------

# The person fields an edit may change, in two kinds: identity edits need a role
# allowed to change identity (and are merged field by field at the hub), contact
# edits a role allowed to change contact details.
IDENTITY_FIELDS = frozenset({"full_name", "birth", "sex", "id_type", "id_number", "old_id_number"})
CONTACT_FIELDS = frozenset(
    {"phone", "province_code", "ward_code", "address_line", "priority_group", "occupation", "bhyt"}
)
# Fields that may not be cleared (set to null).
REQUIRED_FIELDS = frozenset({"full_name", "birth", "id_type"})

# The actions a supervisor may take per review kind. The hub is the authority on what an
# action does; the station refuses a wrong one early (offline) so it does not turn into
# a rejected op later.
ACTIONS_BY_KIND: dict[str, frozenset[ResolveAction]] = {
    "possible_duplicate_dose": frozenset({"void_dose", "keep_both"}),
    "possible_duplicate_person": frozenset({"merge", "keep_both"}),
    "merged_person": frozenset({"unmerge", "keep_both"}),
    "field_conflict": frozenset({"keep_current", "take_value"}),
    "edit_after_void": frozenset({"keep_both", "keep_current"}),
    "clock_skew": frozenset({"keep_current", "keep_both"}),
}

# Why a 30-minute observation ends before its time (a code: no free text, no personal data).
EarlyEndReason = Literal["doctor_allowed", "left_against_advice", "transferred_for_care", "other"]
EARLY_END_REASONS: tuple[str, ...] = get_args(EarlyEndReason)

# ---- value types ------------------------------------------------------------------------

BIRTH_RE = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")
MIN_BIRTH_YEAR = 1900  # the station's own bound for a date of birth


def valid_birth(v: str) -> bool:
    """``YYYY`` or a real ``YYYY-MM-DD``, years 1900..MAX_YEAR."""
    if not isinstance(v, str) or not BIRTH_RE.match(v):
        return False
    if len(v) == 4:
        return MIN_BIRTH_YEAR <= int(v) <= MAX_YEAR
    return parse_day(v, min_year=MIN_BIRTH_YEAR) is not None


def _birth(v: str) -> str:
    if not valid_birth(v):
        raise ValueError(f"YYYY or YYYY-MM-DD, years {MIN_BIRTH_YEAR}-{MAX_YEAR}")
    return v


Birth = Annotated[str, StringConstraints(min_length=4, max_length=10), AfterValidator(_birth)]
# Free text: bounded; NUL and other control characters are refused for the whole body
# (hub.app.check_safe), so here only the length.
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
IdNumber = Annotated[str, StringConstraints(min_length=6, max_length=12, pattern=r"^[0-9A-Z]+$")]
Phone = Annotated[str, StringConstraints(min_length=6, max_length=15, pattern=r"^[0-9]+$")]
Digits4 = Annotated[str, StringConstraints(min_length=1, max_length=4, pattern=r"^[0-9]+$")]
Digits8 = Annotated[str, StringConstraints(min_length=1, max_length=8, pattern=r"^[0-9]+$")]
Bhyt = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[A-Z0-9]+$")]
QueueLabel = Annotated[str, StringConstraints(max_length=12, pattern=r"^[A-Za-z0-9._-]*$")]
LongText = Annotated[str, StringConstraints(max_length=1000)]
Group = Annotated[int, Field(ge=0, le=1000)]
# An error or warning code the station's user saw (``dose.interval_short``).
IssueCode = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9_.]+$")]
# The station's usernames (station.services.admin.USERNAME_RE).
Username = Annotated[str, StringConstraints(min_length=3, max_length=32, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
# An argon2 hash in its encoded form, as argon2-cffi writes it: the stations verify
# logins with it offline, so anything else would lock the user out (or be a trap).
ARGON2_RE = r"^\$argon2(id|i|d)\$v=[0-9]{1,3}\$m=[0-9]{1,8},t=[0-9]{1,4},p=[0-9]{1,3}\$[A-Za-z0-9+/]{8,128}\$[A-Za-z0-9+/]{16,256}$"
PasswordHash = Annotated[str, StringConstraints(max_length=512, pattern=ARGON2_RE)]

Sex = Literal["M", "F"]
IdType = Literal["cccd", "cmnd", "passport", "none"]
RegSource = Literal["walk_in", "app", "import"]
RegStatus = Literal["expected", "checked_in", "cleared", "deferred", "vaccinated", "observed"]
Outcome = Literal["eligible", "caution", "defer", "hospital", "contraindicated"]
DoseKind = Literal["primary", "additional", "booster"]
DoseSource = Literal["site", "history"]
InjectionSite = Literal["left_deltoid", "right_deltoid", "left_thigh", "right_thigh"]
Severity = Literal["none", "common", "severe", "other"]
Role = Literal["volunteer", "clerk", "screener", "supervisor", "admin"]
assert set(get_args(Role)) == set(ROLES)  # one list of roles

# The shape of an ID number per type (kernel.rules.vietnam.check_id_number).
ID_SHAPES = {
    "cccd": re.compile(r"^[0-9]{12}$"),
    "cmnd": re.compile(r"^[0-9]{9}$"),
    "passport": re.compile(r"^[A-Z0-9]{6,12}$"),
}

# The person fields an update_person op may set, with the type of a new value.
EDITABLE_FIELDS: dict[str, Any] = {  # type forms (pydantic TypeAdapter)
    "full_name": Name,
    "birth": Birth,
    "sex": Sex,
    "id_type": IdType,
    "id_number": IdNumber,
    "old_id_number": IdNumber,
    "phone": Phone,
    "province_code": Digits4,
    "ward_code": Digits8,
    "address_line": LongText,
    "occupation": LongText,
    "bhyt": Bhyt,
    "priority_group": Group,
}
assert set(EDITABLE_FIELDS) == IDENTITY_FIELDS | CONTACT_FIELDS  # one list of editable fields


class _P(BaseModel):
    # defer_build: a station that never builds a screening never builds its validator.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


# ---- people and registrations -----------------------------------------------------------


class PersonP(_P):
    full_name: Name
    birth: Birth
    sex: Sex | None = None
    id_type: IdType | None = "none"
    id_number: IdNumber | None = None
    old_id_number: IdNumber | None = None
    phone: Phone | None = None
    province_code: Digits4 | None = None
    ward_code: Digits8 | None = None
    address_line: LongText | None = None
    priority_group: Group | None = None
    occupation: LongText | None = None
    bhyt: Bhyt | None = None
    consent: bool = False

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, data: object) -> object:
        # Stations write None for an absent value; an empty string means the same. A
        # payload without one is passed on as it is (issue 15: no copy of every person).
        if isinstance(data, dict) and "" in data.values():
            return {k: (None if v == "" and k != "full_name" else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _id_matches_type(self) -> PersonP:
        if self.id_number is not None:
            shape = ID_SHAPES.get(self.id_type or "none")
            if shape is None or not shape.match(self.id_number):
                raise ValueError("id_number does not fit id_type")
        return self


class RegP(_P):
    id: Ident
    person_id: Ident | None = None
    day: Day
    source: RegSource
    status: RegStatus
    queue_label: QueueLabel | None = None
    import_ref: str | None = Field(default=None, max_length=64)


class RegisterPersonP(_P):
    """``register_person``: a new person, with a registration for a day (or none)."""

    person: PersonP
    registration: RegP | None = None


class AddRegistrationP(_P):
    """``add_registration``: a known person registered for a day."""

    registration: RegP


# A field's old or new value: text up to the widest person column, or a small number.
FieldValue = (
    Annotated[str, Strict(), StringConstraints(max_length=1000)]
    | Annotated[int, Strict(), Field(ge=0, le=1000)]
    | None
)


class FieldChange(_P):
    old: FieldValue = None
    new: FieldValue = None


class UpdatePersonP(_P):
    """``update_person``: old and new value per field (a 3-way merge at the hub)."""

    fields: dict[Annotated[str, StringConstraints(max_length=32)], FieldChange] = Field(
        min_length=1, max_length=20
    )


class CheckInP(_P):
    queue_label: QueueLabel | None = None
    checked_in_at: Timestamp


# ---- clinical ---------------------------------------------------------------------------


class ScreeningP(_P):
    id: Ident
    person_id: Ident
    registration_id: Ident | None = None
    site_code: SiteCode
    day: Day
    form_id: Code
    answers: str = Field(max_length=20000)
    vitals: str = Field(max_length=5000)
    suggested_outcome: Outcome
    outcome: Outcome
    override_reason: str | None = Field(default=None, max_length=1000)
    screener_id: Annotated[str, StringConstraints(max_length=36)] = ""
    screened_at: Timestamp
    registration_status: RegStatus | None = None


# ``+07:00``: the sites' time zone (VN_TZ, no daylight saving) as an ISO 8601 offset.
_SITE_OFFSET = "+07:00"
assert VN_TZ.utcoffset(None) == datetime.fromisoformat("2026-01-01T00:00:00" + _SITE_OFFSET).utcoffset()


def _site_day(text: str) -> tuple[str, int]:
    """The sites' local day and the year of a valid ISO 8601 timestamp (``DoseTimestamp``).

    The two forms stations write, ``YYYY-MM-DDThh:mm:ss+07:00`` and ``…Z`` before 17:00
    UTC, are read off the text (issue 15: a datetime per dose was a fifth of its check);
    any other, through ``datetime``.
    """
    n = len(text)
    if n in (20, 25) and text[4] == text[7] == "-" and text[10] == "T" and text.isascii():
        if n == 25 and text.endswith(_SITE_OFFSET):
            return text[:10], int(text[:4])
        if n == 20 and text[19] == "Z" and text[11:13] < "17":
            return text[:10], int(text[:4])
    at = datetime.fromisoformat(text)
    return at.astimezone(VN_TZ).date().isoformat(), at.year


class DoseP(_P):
    id: Ident
    person_id: Ident
    site_code: SiteCode
    vaccine_code: VaccineCode
    lot_id: Ident | None = None
    lot_number: str | None = Field(default=None, max_length=32)
    dose_number: int = Field(ge=1, le=20)
    kind: DoseKind
    administered_at: DoseTimestamp  # years before 2000 only from a paper certificate (below)
    day: DoseDay
    recorded_at: Timestamp
    vaccinator_id: Ident | None = None
    screening_id: Ident | None = None
    injection_site: InjectionSite | None = None
    source: DoseSource = "site"
    observe_until: Timestamp | None = None
    # Issue 12: what was injected (a half-dose booster is 0.25 ml) and a supervisor's
    # override of an age limit or contraindication. Older stations send none of them.
    # The override's supervisor is a user of the site allowed to override (hub.authz).
    volume_ml: float | None = Field(default=None, gt=0, le=5, allow_inf_nan=False)
    override_by: Ident | None = None
    override_reason: str | None = Field(default=None, min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _day_of_administration(self) -> DoseP:
        # The station's `day` is the administration's date in the sites' time zone.
        local_day, year = _site_day(self.administered_at)  # checked by the field's validator
        if local_day != self.day:
            raise ValueError("day is not the site-local day of administered_at")
        if year < MIN_YEAR and self.source != "history":
            raise ValueError(f"a dose before {MIN_YEAR} is only one copied from a paper certificate")
        if self.source == "site" and self.lot_id is None:
            raise ValueError("a dose given at the site names its lot")
        if (self.override_by is None) != (self.override_reason is None):
            raise ValueError("an override names its supervisor and its reason")
        return self


class RecordDoseP(DoseP):
    """``record_dose`` as the station writes it: the dose (``DoseP``, what the hub's appliers
    read and store) and what the station's user confirmed (warning codes) and which
    refusals a supervisor overrode (codes): kept with the op for the record."""

    confirmed: list[IssueCode] | None = Field(default=None, max_length=50)
    overridden: list[IssueCode] | None = Field(default=None, max_length=50)


class VoidP(_P):
    reason: str = Field(min_length=1, max_length=1000)
    voided_at: Timestamp


class ObserveP(_P):
    observed_at: Timestamp
    early_reason: EarlyEndReason | None = None


class AdverseP(_P):
    id: Ident
    dose_id: Ident
    person_id: Ident | None = None
    severity: Severity
    description: str = Field(min_length=1, max_length=2000)
    onset_at: Timestamp
    recorded_by: Annotated[str, StringConstraints(max_length=36)] = ""
    recorded_at: Timestamp


# ---- the site's set-up ------------------------------------------------------------------


class LotP(_P):
    id: Ident
    site_code: SiteCode
    vaccine_code: VaccineCode
    lot_number: str = Field(min_length=1, max_length=32)
    expiry: Day
    doses_received: int = Field(ge=0, le=10_000_000)
    received_on: Day
    active: int = Field(ge=0, le=1)
    updated_at: Timestamp


class UserP(_P):
    id: Ident
    site_code: SiteCode
    username: Username
    display_name: Name
    role: Role
    password_hash: PasswordHash
    active: int = Field(ge=0, le=1)
    created_at: Timestamp | None = None
    updated_at: Timestamp


# ---- reviews ----------------------------------------------------------------------------

RESOLVE_PARAMS = ("dose_id", "reason", "from_id", "to_id", "field")


class ResolveParamsP(_P):
    dose_id: Ident | None = None
    reason: str | None = Field(default=None, max_length=500)
    from_id: Ident | None = None
    to_id: Ident | None = None
    field: str | None = Field(default=None, max_length=32)


class ResolveP(_P):
    # The station passes a supervisor's parameters through as they were given (each
    # action reads its own, the rest is kept with the op): unknown keys are kept here.
    model_config = ConfigDict(extra="allow", frozen=True, defer_build=True)

    review_id: Ident
    action: ResolveAction
    params: ResolveParamsP | None = None
    # The station writes the parameters as top-level keys of the payload too.
    dose_id: Ident | None = None
    reason: str | None = Field(default=None, max_length=500)
    from_id: Ident | None = None
    to_id: Ident | None = None
    field: str | None = Field(default=None, max_length=32)

    def all_params(self) -> dict[str, str]:
        """``params`` with the top-level keys over them (as the appliers read them)."""
        out: dict[str, str] = {}
        for source in (self.params, self):
            if source is None:
                continue
            for k in RESOLVE_PARAMS:
                v = getattr(source, k)
                if v is not None:
                    out[k] = v
        return out


# ---- the table --------------------------------------------------------------------------

OpPayload = (
    RegisterPersonP
    | AddRegistrationP
    | UpdatePersonP
    | CheckInP
    | ScreeningP
    | RecordDoseP
    | VoidP
    | ObserveP
    | AdverseP
    | LotP
    | UserP
    | ResolveP
)

# Keyed by str: an op's type is checked (OpType) before its payload is looked up.
OP_MODELS: dict[str, type[OpPayload]] = {
    "register_person": RegisterPersonP,
    "add_registration": AddRegistrationP,
    "update_person": UpdatePersonP,
    "check_in": CheckInP,
    "record_screening": ScreeningP,
    "record_dose": RecordDoseP,
    "void_dose": VoidP,
    "end_observation": ObserveP,
    "record_adverse_event": AdverseP,
    "upsert_lot": LotP,
    "upsert_user": UserP,
    "resolve_review": ResolveP,
}


def payload_model(op_type: str) -> type[OpPayload]:
    """The payload model of an op type (``KeyError`` for an unknown type)."""
    return OP_MODELS[op_type]


M = TypeVar("M", bound=_P)

@dataclass(frozen=True, slots=True)
class _Shape:
    """What ``build`` needs of a model, read once (pydantic's class attributes are slow)."""

    fields: frozenset[str]
    allow_extra: bool
    # The defaults of the optional fields when every one is a plain immutable value (None,
    # a string, a number, a bool); None when some is not (then model_construct copies them).
    defaults: dict[str, object] | None


_SHAPES: dict[type[_P], _Shape] = {}
_PLAIN = (str, int, float, bool, type(None))


def _shape(model: type[_P]) -> _Shape:
    shape = _SHAPES.get(model)
    if shape is None:
        defaults: dict[str, object] = {}
        plain = True
        for name, info in model.model_fields.items():
            if info.is_required():
                continue
            if info.default_factory is not None or not isinstance(info.default, _PLAIN):
                plain = False
            defaults[name] = info.default
        shape = _Shape(
            frozenset(model.model_fields), model.model_config.get("extra") == "allow",
            defaults if plain else None,
        )
        _SHAPES[model] = shape
    return shape


def build(model: type[M], /, **fields: object) -> M:
    """A payload from values the station has already checked: constructed, not validated.

    The station's services check every value with their own rules (``kernel.person``,
    ``kernel.rules``) and translated errors first; the hub validates the payload with
    the same model on arrival. Validating here too would refuse at the desk what the
    station's rules allow (a past dose from a paper certificate before 2000). A field
    the model does not declare is a programming error here rather than a key silently
    dropped from the op.

    What ``model_construct`` does, without its per-field default copying: pydantic's
    takes ~30 times a dict's time, and a district list builds 50,000 of these in one
    import (``bench import``). Models with copied defaults or extras take pydantic's.
    """
    shape = _shape(model)
    if not shape.allow_extra:
        unknown = fields.keys() - shape.fields
        if unknown:
            raise TypeError(f"{model.__name__} has no field {sorted(unknown)}")
    if shape.allow_extra or shape.defaults is None:
        return model.model_construct(None, **fields)
    m = model.__new__(model)
    object.__setattr__(m, "__dict__", shape.defaults | fields)
    object.__setattr__(m, "__pydantic_fields_set__", set(fields))
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


def person_payload(values: Mapping[str, object], consent: bool) -> PersonP:
    """The person of a ``register_person`` op, from checked values (``kernel.person.
    validate_person``: a desk, an imported list). The derived ``name_fold`` and
    ``birth_year`` are left out: whoever applies the op derives them again."""
    person = {k: v for k, v in values.items() if k not in ("name_fold", "birth_year")}
    return build(PersonP, **person, consent=consent)


def wire(payload: _P) -> dict[str, object]:
    """The payload as the op carries it: exactly the fields that were given (and, for a
    model that keeps them, the extras), nested models as objects."""
    values = payload.__dict__
    out = {k: _plain(values[k]) for k in payload.__pydantic_fields_set__ if k in values}
    if payload.__pydantic_extra__:
        out.update({k: _plain(v) for k, v in payload.__pydantic_extra__.items()})
    return out


def _plain(value: object) -> object:
    if type(value) in _PLAIN:  # most values: cheaper than pydantic's isinstance check
        return value
    if isinstance(value, _P):
        return wire(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def series(vaccine_code: str) -> str:
    """The disease series a vaccine counts toward (an unknown code is its own series)."""
    from kernel import refdata  # here: the catalog loads on first use, not with the models

    try:
        return refdata.vaccine(vaccine_code).disease
    except (KeyError, ValueError, LookupError):
        return vaccine_code
