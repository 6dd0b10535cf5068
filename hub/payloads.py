"""The payloads of the ops, as the station services write them (unknown keys ignored).

Shared by the op-by-op appliers (hub/ingest.py) and the batched fast path
(hub/fastpath.py): one definition of what a valid payload is.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from hub.errors import Rejected

BIRTH_RE = re.compile(r"^\d{4}(-\d{2}-\d{2})?$")
DAY_RE = r"^\d{4}-\d{2}-\d{2}$"


class _P(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


Id = Field(min_length=1, max_length=36)
Ts = Field(min_length=1, max_length=40)
OptTs = Field(default=None, max_length=40)


class PersonP(_P):
    full_name: str = Field(min_length=1, max_length=200)
    birth: str = Field(pattern=BIRTH_RE.pattern)
    sex: str | None = Field(default=None, max_length=1)
    id_type: str | None = Field(default="none", max_length=10)
    id_number: str | None = Field(default=None, max_length=20)
    old_id_number: str | None = Field(default=None, max_length=20)
    phone: str | None = Field(default=None, max_length=15)
    province_code: str | None = Field(default=None, max_length=4)
    ward_code: str | None = Field(default=None, max_length=8)
    address_line: str | None = Field(default=None, max_length=1000)
    priority_group: int | None = Field(default=None, ge=0, le=1000)
    occupation: str | None = Field(default=None, max_length=1000)
    bhyt: str | None = Field(default=None, max_length=20)
    consent: bool = False


class RegP(_P):
    id: str = Id
    person_id: str | None = Field(default=None, max_length=36)
    day: str = Field(pattern=DAY_RE)
    source: str = Field(max_length=10)
    status: str = Field(max_length=12)
    queue_label: str | None = Field(default=None, max_length=12)
    import_ref: str | None = Field(default=None, max_length=64)


class RegisterPersonP(_P):
    person: PersonP
    registration: RegP | None = None


class AddRegistrationP(_P):
    registration: RegP


class FieldChange(_P):
    old: str | int | None = None
    new: str | int | None = None


class UpdatePersonP(_P):
    fields: dict[str, FieldChange] = Field(min_length=1, max_length=20)


class CheckInP(_P):
    queue_label: str | None = Field(default=None, max_length=12)
    checked_in_at: str = Ts


class ScreeningP(_P):
    id: str = Id
    person_id: str = Id
    registration_id: str | None = Field(default=None, max_length=36)
    site_code: str = Field(max_length=32)
    day: str = Field(pattern=DAY_RE)
    form_id: str = Field(max_length=32)
    answers: str = Field(max_length=20000)
    vitals: str = Field(max_length=5000)
    suggested_outcome: str = Field(max_length=16)
    outcome: str = Field(max_length=16)
    override_reason: str | None = Field(default=None, max_length=1000)
    screener_id: str = Field(default="", max_length=36)
    screened_at: str = Ts
    registration_status: str | None = Field(default=None, max_length=12)


class DoseP(_P):
    id: str = Id
    person_id: str = Id
    site_code: str = Field(max_length=32)
    vaccine_code: str = Field(min_length=1, max_length=16)
    lot_id: str | None = Field(default=None, max_length=36)
    lot_number: str | None = Field(default=None, max_length=32)
    dose_number: int = Field(ge=1, le=20)
    kind: str = Field(max_length=12)
    administered_at: str = Ts
    day: str = Field(pattern=DAY_RE)
    recorded_at: str = Ts
    vaccinator_id: str | None = Field(default=None, max_length=36)
    screening_id: str | None = Field(default=None, max_length=36)
    injection_site: str | None = Field(default=None, max_length=16)
    source: str = Field(default="site", max_length=10)
    observe_until: str | None = OptTs
    # Issue 12: what was injected (a half-dose booster is 0.25 ml) and a supervisor's
    # override of an age limit or contraindication. Older stations send none of them.
    volume_ml: float | None = Field(default=None, gt=0, le=5, allow_inf_nan=False)
    override_by: str | None = Field(default=None, max_length=36)
    override_reason: str | None = Field(default=None, max_length=1000)


class VoidP(_P):
    reason: str = Field(min_length=1, max_length=1000)
    voided_at: str = Ts


class ObserveP(_P):
    observed_at: str = Ts


class AdverseP(_P):
    id: str = Id
    dose_id: str = Id
    person_id: str | None = Field(default=None, max_length=36)
    severity: str = Field(max_length=12)
    description: str = Field(min_length=1, max_length=2000)
    onset_at: str = Ts
    recorded_by: str = Field(default="", max_length=36)
    recorded_at: str = Ts


class LotP(_P):
    id: str = Id
    site_code: str = Field(max_length=32)
    vaccine_code: str = Field(min_length=1, max_length=16)
    lot_number: str = Field(min_length=1, max_length=32)
    expiry: str = Field(pattern=DAY_RE)
    doses_received: int = Field(ge=0, le=10_000_000)
    received_on: str = Field(pattern=DAY_RE)
    active: int = Field(ge=0, le=1)
    updated_at: str = Ts


class UserP(_P):
    id: str = Id
    site_code: str = Field(max_length=32)
    username: str = Field(min_length=1, max_length=32)
    display_name: str = Field(min_length=1, max_length=200)
    role: str = Field(max_length=12)
    password_hash: str = Field(min_length=1, max_length=500)
    active: int = Field(ge=0, le=1)
    created_at: str | None = OptTs
    updated_at: str = Ts


class ResolveP(_P):
    review_id: str = Id
    action: str = Field(max_length=16)
    params: dict[str, Any] | None = None


M = TypeVar("M", bound=BaseModel)


def parse(model: type[M], payload: dict[str, Any]) -> M:
    try:
        return model.model_validate(payload)
    except PydanticValidationError as exc:
        # Locations and error types only: the inputs may be personal data.
        fields = sorted({".".join(str(p) for p in e["loc"]) or "payload" for e in exc.errors()})
        raise Rejected("payload.invalid", fields=fields[:20]) from None


def series(vaccine_code: str) -> str:
    from station import refdata

    try:
        return refdata.vaccine(vaccine_code).disease
    except (KeyError, ValueError, LookupError):
        return vaccine_code  # an unknown code is its own series
