"""The types of :mod:`kernel.refdata`: vaccines, intervals, screening forms, administrative units.

Frozen dataclasses, filled from the JSON files under ``kernel/data`` by the loaders.
"""

from __future__ import annotations

from dataclasses import dataclass

DOSE_KINDS = ("primary", "additional", "booster")


class RefDataError(ValueError):
    """A reference data file is missing or malformed."""


# --------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class Interval:
    """Gap between two consecutive primary doses, in days.

    ``min_days``: shorter needs a confirmation; ``recommended_days`` (>= min): shorter is
    recorded with a note; ``max_days``: longer needs a confirmation (None: no limit).
    """

    min_days: int
    max_days: int | None
    recommended_days: int | None = None

    @property
    def recommended(self) -> int:
        return self.min_days if self.recommended_days is None else self.recommended_days


@dataclass(frozen=True, slots=True)
class MixRule:
    """A product of family ``next`` may continue a primary series of family ``series``.

    Only for doses given ``valid_from``..``valid_to`` (inclusive, ISO days; None = open)
    to people aged ``min_age_years``..``max_age_years``. ``condition`` is
    ``"first_unavailable"`` (the first vaccine is not available: the clerk confirms) or
    ``None``.
    """

    id: str
    series: str
    next: tuple[str, ...]
    valid_from: str | None
    valid_to: str | None
    min_age_years: int | None
    max_age_years: int | None
    condition: str | None
    source: str

    def valid_on(self, day: str) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class IntervalOverride:
    """A province's own min/max gap before primary dose ``dose_number`` of ``vaccine``."""

    vaccine: str
    dose_number: int
    min_days: int
    max_days: int | None
    valid_from: str | None
    valid_to: str | None
    source: str

    def valid_on(self, day: str) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_to is None or day <= self.valid_to
        )


@dataclass(frozen=True, slots=True)
class ProvinceProfile:
    id: str
    province_code: str | None
    name_vi: str
    name_en: str
    intervals: tuple[IntervalOverride, ...]


@dataclass(frozen=True, slots=True)
class Vaccine:
    code: str
    name: str
    name_vi: str
    manufacturer: str
    platform: str
    disease: str
    primary_doses: int
    intervals: tuple[Interval, ...]
    booster_vaccines: tuple[str, ...]
    """Codes that may be used as additional dose / booster after a series of this vaccine."""
    additional_min_days: int | None
    booster_min_days: int | None
    booster2_min_days: int | None
    min_age_years: int | None
    max_age_years: int | None
    active: bool
    # Additions beyond the agreed API (all defaulted).
    half_dose_booster: bool = False
    contraindications: tuple[str, ...] = ()
    """E.g. ``("pregnancy", "breastfeeding")`` for Sputnik V."""
    aliases: tuple[str, ...] = ()
    """Other names seen on records (Vaxzevria, Comirnaty, ...)."""
    family: str = ""
    """The vaccine this product belongs to for a series (Pfizer 5-11 -> PFIZER); own code if empty."""
    lot_product: str = ""
    """The product whose lots this one draws from (Moderna 6-11 -> MODERNA); own code if empty."""
    dose_volume_ml: float | None = None
    booster_volume_ml: float | None = None
    in_use_from: str | None = None
    """First day this vaccine can have been given (ISO); an earlier past dose is queried."""

    @property
    def series_family(self) -> str:
        return self.family or self.code

    @property
    def lot_code(self) -> str:
        return self.lot_product or self.code

    def volume_for(self, kind: str) -> float | None:
        """Volume of one injection of ``kind`` (a half-dose booster is half)."""
        if kind == "booster" and self.booster_volume_ml is not None:
            return self.booster_volume_ml
        return self.dose_volume_ml


@dataclass(frozen=True, slots=True)
class PriorityGroup:
    code: int
    name_vi: str
    name_en: str


@dataclass(frozen=True, slots=True)
class ScreeningItem:
    id: str
    text_vi: str
    text_en: str
    outcome_if_yes: str
    needs_detail: bool
    sex: str | None = None
    """``"F"``: asked of women (and of people whose sex is unknown), never of men."""
    flags: tuple[str, ...] = ()
    """Facts a "yes" establishes for the dose check: ``pregnancy``, ``anaphylaxis_covid_vaccine``."""
    detail_vi: str = ""
    detail_en: str = ""
    confidence: str = ""
    source: str = ""

    def applies_to(self, sex: str | None) -> bool:
        return self.sex is None or sex is None or sex == self.sex


@dataclass(frozen=True, slots=True)
class VitalRule:
    """``value < low`` or ``value > high`` gives ``outcome``."""

    name: str
    unit: str
    low: float | None
    high: float | None
    outcome: str
    plausible_min: float | None = None
    plausible_max: float | None = None

    def is_abnormal(self, value: float) -> bool:
        return (self.low is not None and value < self.low) or (
            self.high is not None and value > self.high
        )


@dataclass(frozen=True, slots=True)
class ScreeningForm:
    id: str
    title_vi: str
    title_en: str
    valid_from: str
    items: tuple[ScreeningItem, ...]
    vitals: tuple[VitalRule, ...]
    valid_to: str | None = None
    decision: str = ""
    min_age_years: int | None = None
    max_age_years: int | None = None
    selectable: bool = True
    """False for a retired form: it only reads the screenings recorded with it."""
    guardian: bool = False
    """A parent's or guardian's name and phone are recorded (children's checklists)."""
    source: str = ""
    confidence: str = ""

    def valid_on(self, day: str) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def fits_age(self, age: int) -> bool:
        return (self.min_age_years is None or age >= self.min_age_years) and (
            self.max_age_years is None or age <= self.max_age_years
        )

    def item(self, item_id: str) -> ScreeningItem | None:
        for it in self.items:
            if it.id == item_id:
                return it
        return None


@dataclass(frozen=True, slots=True)
class OutcomeLabel:
    code: str
    name_vi: str
    name_en: str
    record_code: str
    short_vi: str = ""
    short_en: str = ""


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class Ward:
    code: str
    province_code: str
    name: str
    kind: str
