"""The payloads of the ops, as the station services write them (unknown keys ignored).

Shared by the op-by-op appliers (hub/ingest.py) and the batched fast path
(hub/fastpath.py): one definition of what a valid payload is. Every value is
parsed and bounded here, before any rule or table sees it: strings have a
length (and, where the station writes a code, its alphabet), enumerations are
closed, timestamps and days are real ones within
``sync.protocol.MIN_YEAR..MAX_YEAR``, numbers have ranges. A payload that does
not fit is ``rejected payload.invalid`` with the failing fields (never their
values). docs/protocol.md lists the bounds.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    TypeAdapter,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError

from hub.errors import Rejected
from kernel.clock import VN_TZ
from kernel.roles import ROLES
from sync.protocol import (
    MAX_YEAR,
    Day,
    Ident,
    ResolveAction,
    SiteCode,
    Timestamp,
    VaccineCode,
    parse_day,
)

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


class _P(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


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
# The station's usernames (station.services.admin.USERNAME_RE).
Username = Annotated[str, StringConstraints(min_length=3, max_length=32, pattern=r"^[a-z0-9][a-z0-9._-]*$")]
# An argon2 hash in its encoded form, as argon2-cffi writes it: the stations verify
# logins with it offline, so anything else would lock the user out (or be a trap).
ARGON2_RE = r"^\$argon2(id|i|d)\$v=[0-9]{1,3}\$m=[0-9]{1,8},t=[0-9]{1,4},p=[0-9]{1,3}\$[A-Za-z0-9+/]{8,128}\$[A-Za-z0-9+/]{16,256}$"
PasswordHash = Annotated[str, StringConstraints(max_length=512, pattern=ARGON2_RE)]

IdType = Literal["cccd", "cmnd", "passport", "none"]
RegSource = Literal["walk_in", "app", "import"]
RegStatus = Literal["expected", "checked_in", "cleared", "deferred", "vaccinated", "observed"]
Outcome = Literal["eligible", "caution", "defer", "hospital", "contraindicated"]
DoseKind = Literal["primary", "additional", "booster"]
DoseSource = Literal["site", "history"]
InjectionSite = Literal["left_deltoid", "right_deltoid", "left_thigh", "right_thigh"]
Severity = Literal["none", "common", "severe", "other"]
Role = Literal["volunteer", "clerk", "screener", "supervisor", "admin"]
assert set(Role.__args__) == set(ROLES)  # type: ignore[attr-defined]  # one list of roles

# The shape of an ID number per type (kernel.rules.vietnam.check_id_number).
ID_SHAPES = {
    "cccd": re.compile(r"^[0-9]{12}$"),
    "cmnd": re.compile(r"^[0-9]{9}$"),
    "passport": re.compile(r"^[A-Z0-9]{6,12}$"),
}


class PersonP(_P):
    full_name: Name
    birth: Birth
    sex: Literal["M", "F"] | None = None
    id_type: IdType | None = "none"
    id_number: IdNumber | None = None
    old_id_number: IdNumber | None = None
    phone: Phone | None = None
    province_code: Digits4 | None = None
    ward_code: Digits8 | None = None
    address_line: str | None = Field(default=None, max_length=1000)
    priority_group: int | None = Field(default=None, ge=0, le=1000)
    occupation: str | None = Field(default=None, max_length=1000)
    bhyt: Bhyt | None = None
    consent: bool = False

    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, data: Any) -> Any:
        # Stations write None for an absent value; an empty string means the same.
        if isinstance(data, dict):
            return {k: (None if v == "" and k != "full_name" else v) for k, v in data.items()}
        return data

    @model_validator(mode="after")
    def _id_matches_type(self) -> PersonP:
        if self.id_number is not None:
            shape = ID_SHAPES.get(self.id_type or "none")
            if shape is None or not shape.match(self.id_number):
                raise ValueError("id_number does not fit id_type")
        return self


# The person fields an update_person op may set, with the type of a new value.
EDITABLE_FIELDS: dict[str, Any] = {
    "full_name": Name,
    "birth": Birth,
    "sex": Literal["M", "F"],
    "id_type": IdType,
    "id_number": IdNumber,
    "old_id_number": IdNumber,
    "phone": Phone,
    "province_code": Digits4,
    "ward_code": Digits8,
    "address_line": Annotated[str, StringConstraints(max_length=1000)],
    "occupation": Annotated[str, StringConstraints(max_length=1000)],
    "bhyt": Bhyt,
    "priority_group": Annotated[int, Field(ge=0, le=1000)],
}
# Fields that may not be cleared (set to null).
REQUIRED_FIELDS = frozenset({"full_name", "birth", "id_type"})
_FIELD_ADAPTERS = {k: TypeAdapter(t) for k, t in EDITABLE_FIELDS.items()}


def check_field_value(fld: str, value: Any) -> Any:
    """A new value for a person field, parsed (``Rejected`` if it does not fit)."""
    if fld not in EDITABLE_FIELDS:
        raise Rejected("field.not_editable", field=fld)
    if value is None:
        if fld in REQUIRED_FIELDS:
            raise Rejected("payload.invalid", fields=[f"fields.{fld}.new"])
        return None
    if fld == "priority_group" and isinstance(value, str) and value.isdigit() and len(value) <= 4:
        value = int(value)  # stations may write the group as text
    if isinstance(value, bool):
        raise Rejected("payload.invalid", fields=[f"fields.{fld}.new"])
    try:
        return _FIELD_ADAPTERS[fld].validate_python(value, strict=True)
    except PydanticValidationError:
        raise Rejected("payload.invalid", fields=[f"fields.{fld}.new"]) from None


class RegP(_P):
    id: Ident
    person_id: Ident | None = None
    day: Day
    source: RegSource
    status: RegStatus
    queue_label: QueueLabel | None = None
    import_ref: str | None = Field(default=None, max_length=64)


class RegisterPersonP(_P):
    person: PersonP
    registration: RegP | None = None


class AddRegistrationP(_P):
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
    fields: dict[Annotated[str, StringConstraints(max_length=32)], FieldChange] = Field(
        min_length=1, max_length=20
    )


class CheckInP(_P):
    queue_label: QueueLabel | None = None
    checked_in_at: Timestamp


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


class DoseP(_P):
    id: Ident
    person_id: Ident
    site_code: SiteCode
    vaccine_code: VaccineCode
    lot_id: Ident | None = None
    lot_number: str | None = Field(default=None, max_length=32)
    dose_number: int = Field(ge=1, le=20)
    kind: DoseKind
    administered_at: Timestamp
    day: Day
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
        at = datetime.fromisoformat(self.administered_at)  # checked by the field's validator
        if at.astimezone(VN_TZ).date().isoformat() != self.day:
            raise ValueError("day is not the site-local day of administered_at")
        if self.source == "site" and self.lot_id is None:
            raise ValueError("a dose given at the site names its lot")
        if (self.override_by is None) != (self.override_reason is None):
            raise ValueError("an override names its supervisor and its reason")
        return self


class VoidP(_P):
    reason: str = Field(min_length=1, max_length=1000)
    voided_at: Timestamp


class ObserveP(_P):
    observed_at: Timestamp


class AdverseP(_P):
    id: Ident
    dose_id: Ident
    person_id: Ident | None = None
    severity: Severity
    description: str = Field(min_length=1, max_length=2000)
    onset_at: Timestamp
    recorded_by: Annotated[str, StringConstraints(max_length=36)] = ""
    recorded_at: Timestamp


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


class ResolveParamsP(_P):
    dose_id: Ident | None = None
    reason: str | None = Field(default=None, max_length=500)
    from_id: Ident | None = None
    to_id: Ident | None = None
    field: str | None = Field(default=None, max_length=32)


class ResolveP(_P):
    review_id: Ident
    action: ResolveAction
    params: ResolveParamsP | None = None
    # The station writes the parameters as top-level keys of the payload too.
    dose_id: Ident | None = None
    reason: str | None = Field(default=None, max_length=500)
    from_id: Ident | None = None
    to_id: Ident | None = None
    field: str | None = Field(default=None, max_length=32)

    def all_params(self) -> dict[str, Any]:
        """``params`` with the top-level keys over them (as the appliers read them)."""
        out = self.params.model_dump(exclude_none=True) if self.params is not None else {}
        for k in ("dose_id", "reason", "from_id", "to_id", "field"):
            v = getattr(self, k)
            if v is not None:
                out[k] = v
        return out


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: dict[str, Any]) -> M:
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        # Locations and error types only: the inputs may be personal data.
        fields = sorted({".".join(str(p) for p in e["loc"]) or "payload" for e in exc.errors()})
        raise Rejected("payload.invalid", fields=fields[:20]) from None


def series(vaccine_code: str) -> str:
    from kernel import refdata

    try:
        return refdata.vaccine(vaccine_code).disease
    except (KeyError, ValueError, LookupError):
        return vaccine_code  # an unknown code is its own series
