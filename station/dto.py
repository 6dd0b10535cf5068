"""Frozen DTOs that cross the service boundary (the UI never sees ORM rows)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kernel.errors import FieldIssue

# The input shape lives in the kernel (the hub's importer reads files into it too);
# re-exported because it is the services' input.
from kernel.person import PersonInput as PersonInput


@dataclass(frozen=True, slots=True)
class LastDose:
    vaccine_code: str
    dose_number: int
    kind: str
    day: str


@dataclass(frozen=True, slots=True)
class PersonDTO:
    id: str
    full_name: str
    birth: str  # ISO or year
    birth_display: str
    sex: str | None
    id_type: str
    id_number: str | None
    old_id_number: str | None
    phone: str | None
    province_code: str | None
    ward_code: str | None
    address_line: str | None
    priority_group: int | None
    occupation: str | None
    bhyt: str | None
    status: str
    version: int
    consent_at: str | None = None


@dataclass(frozen=True, slots=True)
class RegistrationDTO:
    id: str
    person_id: str
    site_code: str
    day: str
    source: str
    status: str
    queue_label: str | None
    checked_in_at: str | None


@dataclass(frozen=True, slots=True)
class RegisterResult:
    person: PersonDTO
    registration: RegistrationDTO | None
    op_id: str
    warnings: tuple[FieldIssue, ...] = ()


@dataclass(frozen=True, slots=True)
class ScreeningDTO:
    id: str
    person_id: str
    registration_id: str | None
    day: str
    form_id: str
    suggested_outcome: str
    outcome: str
    override_reason: str | None
    screened_at: str


@dataclass(frozen=True, slots=True)
class DoseInput:
    person_id: str
    lot_id: str | None = None
    vaccine_code: str | None = None  # defaults to the lot's vaccine
    dose_number: int | None = None  # defaults to the suggestion from history
    kind: str | None = None  # "primary" | "additional" | "booster"
    administered_at: str | None = None  # ISO; defaults to now
    injection_site: str = "left_deltoid"  # the UI passes the site the clerk chose
    confirm: frozenset[str] = field(default_factory=frozenset)
    override: frozenset[str] = field(default_factory=frozenset)
    """Clinical refusals (age limits, contraindication) a supervisor overrides."""
    override_reason: str | None = None


@dataclass(frozen=True, slots=True)
class PastDoseInput:
    """A dose given elsewhere, entered from the paper certificate."""

    person_id: str
    vaccine_code: str
    dose_number: int
    kind: str
    given_on: str  # "dd/mm/yyyy" or ISO
    lot_number: str | None = None
    confirm: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class DoseDTO:
    id: str
    person_id: str
    site_code: str
    vaccine_code: str
    lot_id: str | None
    lot_number: str | None
    dose_number: int
    kind: str
    administered_at: str
    day: str
    source: str
    observe_until: str | None
    observed_at: str | None
    voided: bool
    void_reason: str | None
    warnings: tuple[FieldIssue, ...] = ()
    volume_ml: float | None = None
    """What was injected (a half-dose booster is 0.25 ml); None for doses from paper."""
    override_reason: str | None = None
    """Set when a supervisor overrode an age limit or contraindication for this dose."""


@dataclass(frozen=True, slots=True)
class DoseSuggestionDTO:
    dose_number: int
    kind: str
    vaccine_codes: tuple[str, ...]
    earliest: str | None
    latest: str | None
    complete: bool
    recommended: str | None = None
    """From this day the gap is the recommended one (``earliest`` is the minimum)."""
    profile: str = ""
    """The interval profile applied (``national``, ``dong-nai``, ...)."""


@dataclass(frozen=True, slots=True)
class ScreeningFormChoice:
    """The form a person is screened with today, and why (their age and sex)."""

    form_id: str | None
    """None: no form covers this age on this day (COVID-19 forms start at 5)."""
    day: str
    age_min: int | None
    age_max: int | None
    sex: str | None
    guardian: bool


@dataclass(frozen=True, slots=True)
class LotInput:
    vaccine_code: str | None
    lot_number: str | None
    expiry: str | None  # "dd/mm/yyyy" or ISO
    doses_received: int | str | None
    received_on: str | None = None
    active: bool = True
    id: str | None = None  # set to update an existing lot


@dataclass(frozen=True, slots=True)
class LotDTO:
    id: str
    site_code: str
    vaccine_code: str
    lot_number: str
    expiry: str
    doses_received: int
    doses_used: float
    """Standard doses used: a half-dose injection takes half (``station.stock``)."""
    received_on: str
    active: bool


@dataclass(frozen=True, slots=True)
class UserInput:
    username: str | None
    display_name: str | None
    role: str | None
    password: str | None


@dataclass(frozen=True, slots=True)
class UserDTO:
    id: str
    username: str
    display_name: str
    role: str
    active: bool


@dataclass(frozen=True, slots=True)
class AdverseEventDTO:
    id: str
    dose_id: str
    person_id: str
    severity: str
    onset_at: str
    recorded_at: str


@dataclass(frozen=True, slots=True)
class PersonHit:
    """A search result: enough to tell apart people whose names fold alike."""

    person_id: str
    full_name: str
    birth_display: str
    sex: str | None
    id_tail: str
    phone_tail: str
    last_dose: LastDose | None
    score: float
    match: str  # "id" | "phone" | "name"


@dataclass(frozen=True, slots=True)
class DuplicateCandidate:
    person_id: str
    reason: str  # "same_id" | "same_name_birth_phone" | "same_name_birth"
    hit: PersonHit
