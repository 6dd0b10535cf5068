"""Reference data: vaccines, priority groups, screening forms, administrative units.

The facts live in JSON files under ``kernel/data`` (see ``kernel/data/README.md``);
this module only loads, validates and types them.  Every loader is cached
(``functools.lru_cache``), so repeated calls are free and return the *same*
objects: the dataclasses are frozen, and callers must not mutate the returned
dicts (``wards()`` returns a fresh list each call).

Loading errors (a malformed data file) raise :class:`RefDataError`, a
``ValueError`` naming the file and the offending entry; they indicate a packaging
bug, never a user error.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "Interval",
    "IntervalOverride",
    "MixRule",
    "OutcomeLabel",
    "PriorityGroup",
    "Province",
    "ProvinceProfile",
    "RefDataError",
    "ScreeningForm",
    "ScreeningItem",
    "Vaccine",
    "VitalRule",
    "Ward",
    "admin_units_info",
    "catalog_version",
    "default_screening_form",
    "fold",
    "legacy_province_map",
    "mix_rules",
    "outcome_precedence",
    "precedence_note",
    "priority_groups",
    "products_for_lot",
    "province_profile",
    "province_profiles",
    "provinces",
    "screening_form_for",
    "screening_forms",
    "screening_outcomes",
    "vaccine",
    "vaccines",
    "ward",
    "wards",
]

_PACKAGE = "kernel.data"
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


# --------------------------------------------------------------------------- helpers


def fold(text: str) -> str:
    """Diacritic-insensitive, lower-case form of ``text`` (đ -> d, Eth -> d)."""
    s = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower())
    s = "".join(c for c in s if unicodedata.category(c) != "Mn")
    s = s.replace("đ", "d").replace("ð", "d")
    return unicodedata.normalize("NFC", s)


_UNIT_PREFIXES = ("thanh pho ", "dac khu ", "phuong ", "tinh ", "xa ")


def _sort_key(name: str, code: str) -> tuple[str, str, str]:
    folded = fold(name)
    bare = folded
    for prefix in _UNIT_PREFIXES:
        if bare.startswith(prefix):
            bare = bare[len(prefix) :]
            break
    return (bare, folded, code)


@lru_cache(maxsize=8)
def _load(filename: str) -> Any:
    try:
        text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise RefDataError(f"{filename}: missing from {_PACKAGE}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefDataError(f"{filename}: invalid JSON ({exc})") from exc


def _req(obj: Any, key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise RefDataError(f"{where}: missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) and typ is not bool and not (isinstance(typ, tuple) and bool in typ):
        raise RefDataError(f"{where}: {key!r} must not be a boolean")
    if not isinstance(value, typ):
        raise RefDataError(f"{where}: {key!r} has type {type(value).__name__}")
    return value


def _opt_int(obj: Any, key: str, where: str) -> int | None:
    value = _req(obj, key, (int, type(None)), where)
    if value is not None and value < 0:
        raise RefDataError(f"{where}: {key!r} must be >= 0")
    return value  # type: ignore[no-any-return]


def _opt_float(obj: Any, key: str, where: str) -> float | None:
    if key not in obj:
        return None
    value = _req(obj, key, (int, float, type(None)), where)
    return None if value is None else float(value)


def _str_tuple(obj: Any, key: str, where: str, default: bool = False) -> tuple[str, ...]:
    if default and key not in obj:
        return ()
    values = _req(obj, key, list, where)
    if not all(isinstance(v, str) for v in values):
        raise RefDataError(f"{where}: {key!r} must be a list of strings")
    return tuple(values)


# --------------------------------------------------------------------------- vaccines


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _opt_day(obj: Any, key: str, where: str) -> str | None:
    """An optional ISO day (``YYYY-MM-DD``): rules compare days as strings."""
    if key not in obj or obj[key] is None:
        return None
    value = _req(obj, key, str, where)
    if not _ISO_DAY.match(value):
        raise RefDataError(f"{where}: {key!r} must be YYYY-MM-DD")
    return value  # type: ignore[no-any-return]


def _opt_volume(obj: Any, key: str, where: str) -> float | None:
    value = _opt_float(obj, key, where)
    if value is not None and not 0 < value <= 5:
        raise RefDataError(f"{where}: {key!r} must be a volume in ml (0-5]")
    return value


def _parse_vaccine(raw: Any, where: str) -> Vaccine:
    code = _req(raw, "code", str, where)
    where = f"{where} {code}"
    intervals = []
    for i, iv in enumerate(_req(raw, "intervals", list, where)):
        w = f"{where} intervals[{i}]"
        lo = _req(iv, "min_days", int, w)
        hi = _opt_int(iv, "max_days", w)
        rec = _opt_int(iv, "recommended_days", w) if "recommended_days" in iv else None
        if lo < 0 or (hi is not None and hi < lo):
            raise RefDataError(f"{w}: incoherent interval {lo}..{hi}")
        if rec is not None and (rec < lo or (hi is not None and rec > hi)):
            raise RefDataError(f"{w}: recommended_days {rec} outside {lo}..{hi}")
        intervals.append(Interval(lo, hi, rec))
    v = Vaccine(
        code=code,
        name=_req(raw, "name", str, where),
        name_vi=_req(raw, "name_vi", str, where),
        manufacturer=_req(raw, "manufacturer", str, where),
        platform=_req(raw, "platform", str, where),
        disease=_req(raw, "disease", str, where),
        primary_doses=_req(raw, "primary_doses", int, where),
        intervals=tuple(intervals),
        booster_vaccines=_str_tuple(raw, "booster_vaccines", where),
        additional_min_days=_opt_int(raw, "additional_min_days", where),
        booster_min_days=_opt_int(raw, "booster_min_days", where),
        booster2_min_days=_opt_int(raw, "booster2_min_days", where),
        min_age_years=_opt_int(raw, "min_age_years", where),
        max_age_years=_opt_int(raw, "max_age_years", where),
        active=_req(raw, "active", bool, where),
        half_dose_booster=bool(raw.get("half_dose_booster", False)),
        contraindications=_str_tuple(raw, "contraindications", where, default=True),
        aliases=_str_tuple(raw, "aliases", where, default=True),
        family=str(raw.get("family") or ""),
        lot_product=str(raw.get("lot_product") or ""),
        dose_volume_ml=_opt_volume(raw, "dose_volume_ml", where),
        booster_volume_ml=_opt_volume(raw, "booster_volume_ml", where),
        in_use_from=_opt_day(raw, "in_use_from", where),
    )
    if v.primary_doses < 1:
        raise RefDataError(f"{where}: primary_doses must be >= 1")
    if len(v.intervals) != v.primary_doses - 1:
        raise RefDataError(f"{where}: needs {v.primary_doses - 1} intervals")
    if (
        v.min_age_years is not None
        and v.max_age_years is not None
        and v.max_age_years < v.min_age_years
    ):
        raise RefDataError(f"{where}: max_age_years < min_age_years")
    return v


def _parse_mix_rule(raw: Any, where: str, catalog: dict[str, Vaccine]) -> MixRule:
    rule_id = _req(raw, "id", str, where)
    w = f"{where} mix rule {rule_id}"
    series = _req(raw, "series", str, w)
    nxt = _str_tuple(raw, "next", w)
    for code in (series, *nxt):
        if code not in catalog:
            raise RefDataError(f"{w}: unknown code {code}")
        if catalog[code].series_family != code:
            raise RefDataError(f"{w}: {code} is a product, name its family")
        if catalog[code].disease != catalog[series].disease:
            raise RefDataError(f"{w}: {code} is another disease")
    condition = raw.get("condition")
    if condition not in (None, "first_unavailable"):
        raise RefDataError(f"{w}: unknown condition {condition!r}")
    lo, hi = _opt_int(raw, "min_age_years", w), _opt_int(raw, "max_age_years", w)
    if lo is not None and hi is not None and hi < lo:
        raise RefDataError(f"{w}: max_age_years < min_age_years")
    return MixRule(
        id=rule_id,
        series=series,
        next=nxt,
        valid_from=_opt_day(raw, "valid_from", w),
        valid_to=_opt_day(raw, "valid_to", w),
        min_age_years=lo,
        max_age_years=hi,
        condition=condition,
        source=_req(raw, "source", str, w),
    )


@lru_cache(maxsize=1)
def _vaccine_catalog() -> tuple[str, dict[str, Vaccine], tuple[MixRule, ...]]:
    data = _load("vaccines.json")
    version = _req(data, "catalog_version", str, "vaccines.json")
    result: dict[str, Vaccine] = {}
    for raw in _req(data, "vaccines", list, "vaccines.json"):
        v = _parse_vaccine(raw, "vaccines.json")
        if v.code in result:
            raise RefDataError(f"vaccines.json: duplicate code {v.code}")
        result[v.code] = v
    for v in result.values():
        for ref in (*v.booster_vaccines, v.series_family, v.lot_code):
            other = result.get(ref)
            if other is None:
                raise RefDataError(f"vaccines.json {v.code}: unknown code {ref}")
            if other.disease != v.disease:
                raise RefDataError(f"vaccines.json {v.code}: {ref} is another disease")
        # One level only: a family or lot product is itself a base product.
        if result[v.series_family].family or result[v.lot_code].lot_product:
            raise RefDataError(f"vaccines.json {v.code}: family/lot_product must be a base product")
    rules = tuple(
        _parse_mix_rule(raw, "vaccines.json", result) for raw in data.get("mix_rules", [])
    )
    if len({r.id for r in rules}) != len(rules):
        raise RefDataError("vaccines.json: duplicate mix rule id")
    return version, result, rules


@lru_cache(maxsize=1)
def vaccines() -> dict[str, Vaccine]:
    """All vaccines (products) by code, in catalog order."""
    return dict(_vaccine_catalog()[1])


def vaccine(code: str) -> Vaccine:
    """The vaccine with ``code``; ``KeyError`` if unknown."""
    return _vaccine_catalog()[1][code]


def catalog_version() -> str:
    return _vaccine_catalog()[0]


def mix_rules() -> tuple[MixRule, ...]:
    """When a primary series may be continued with another vaccine (date and age bound)."""
    return _vaccine_catalog()[2]


@lru_cache(maxsize=32)
def products_for_lot(lot_vaccine: str) -> tuple[str, ...]:
    """Products a lot of ``lot_vaccine`` can give: itself first, then its variants."""
    catalog = _vaccine_catalog()[1]
    if lot_vaccine not in catalog:
        return ()
    return (lot_vaccine, *(c for c, v in catalog.items() if v.lot_product == lot_vaccine))


# --------------------------------------------------------------------------- profiles


@lru_cache(maxsize=1)
def _profiles() -> tuple[dict[str, ProvinceProfile], str]:
    f = "province_profiles.json"
    data = _load(f)
    catalog = _vaccine_catalog()[1]
    result: dict[str, ProvinceProfile] = {}
    for raw in _req(data, "profiles", list, f):
        pid = _req(raw, "id", str, f)
        w = f"{f} profile {pid}"
        overrides = []
        for i, ov in enumerate(_req(raw, "intervals", list, w)):
            wi = f"{w} intervals[{i}]"
            code = _req(ov, "vaccine", str, wi)
            v = catalog.get(code)
            if v is None:
                raise RefDataError(f"{wi}: unknown vaccine {code}")
            number = _req(ov, "dose_number", int, wi)
            if not 2 <= number <= v.primary_doses:
                raise RefDataError(f"{wi}: {code} has no primary dose {number} after another")
            lo, hi = _req(ov, "min_days", int, wi), _opt_int(ov, "max_days", wi)
            if lo < 0 or (hi is not None and hi < lo):
                raise RefDataError(f"{wi}: incoherent interval {lo}..{hi}")
            overrides.append(
                IntervalOverride(
                    code, number, lo, hi, _opt_day(ov, "valid_from", wi),
                    _opt_day(ov, "valid_to", wi), _req(ov, "source", str, wi),
                )
            )
        if pid in result:
            raise RefDataError(f"{w}: duplicate")
        province = raw.get("province_code")
        result[pid] = ProvinceProfile(
            pid,
            province if isinstance(province, str) else None,
            _req(raw, "name_vi", str, w),
            _req(raw, "name_en", str, w),
            tuple(overrides),
        )
    default = _req(data, "default_profile", str, f)
    if default not in result:
        raise RefDataError(f"{f}: default_profile {default!r} is not a profile")
    return result, default


def province_profiles() -> dict[str, ProvinceProfile]:
    """Interval profiles by id (``national`` and the provinces' own decisions)."""
    return dict(_profiles()[0])


def province_profile(profile_id: str | None) -> ProvinceProfile:
    """The profile ``profile_id``, or the default one when None or unknown."""
    profiles, default = _profiles()
    return profiles.get(profile_id or default) or profiles[default]


# --------------------------------------------------------------------------- groups


@lru_cache(maxsize=1)
def _priority_groups() -> dict[int, PriorityGroup]:
    data = _load("priority_groups.json")
    result: dict[int, PriorityGroup] = {}
    for raw in _req(data, "groups", list, "priority_groups.json"):
        code = _req(raw, "code", int, "priority_groups.json")
        where = f"priority_groups.json {code}"
        if code in result:
            raise RefDataError(f"{where}: duplicate")
        result[code] = PriorityGroup(
            code, _req(raw, "name_vi", str, where), _req(raw, "name_en", str, where)
        )
    return result


@lru_cache(maxsize=1)
def priority_groups() -> dict[int, PriorityGroup]:
    """The 16 priority groups of QĐ 3355/QĐ-BYT, by numeric code."""
    return dict(_priority_groups())


# --------------------------------------------------------------------------- screening


_FLAGS = frozenset({"pregnancy", "anaphylaxis_covid_vaccine"})


@lru_cache(maxsize=1)
def _screening() -> tuple[
    tuple[str, ...], dict[str, OutcomeLabel], dict[str, ScreeningForm], str, str
]:
    data = _load("screening_forms.json")
    f = "screening_forms.json"
    outcomes = _str_tuple(data, "outcome_precedence", f)
    labels: dict[str, OutcomeLabel] = {}
    for raw in _req(data, "outcomes", list, f):
        code = _req(raw, "code", str, f)
        w = f"{f} outcome {code}"
        name_vi, name_en = _req(raw, "name_vi", str, w), _req(raw, "name_en", str, w)
        labels[code] = OutcomeLabel(
            code,
            name_vi,
            name_en,
            _req(raw, "record_code", str, w),
            str(raw.get("short_vi") or name_vi),
            str(raw.get("short_en") or name_en),
        )
    if set(labels) != set(outcomes) or len(outcomes) != len(set(outcomes)):
        raise RefDataError(f"{f}: outcomes and outcome_precedence differ")
    if outcomes[0] != "eligible":
        raise RefDataError(f"{f}: outcome_precedence must start with 'eligible'")

    def outcome(raw: Any, key: str, where: str) -> str:
        value: str = _req(raw, key, str, where)
        if value not in outcomes:
            raise RefDataError(f"{where}: unknown outcome {value!r}")
        return value

    def vital_rules(rows: Any, where: str) -> tuple[VitalRule, ...]:
        rules = []
        for raw in rows:
            name = _req(raw, "name", str, where)
            w = f"{where} vital {name}"
            rules.append(
                VitalRule(
                    name=name,
                    unit=_req(raw, "unit", str, w),
                    low=_opt_float(raw, "low", w),
                    high=_opt_float(raw, "high", w),
                    outcome=outcome(raw, "outcome", w),
                    plausible_min=_opt_float(raw, "plausible_min", w),
                    plausible_max=_opt_float(raw, "plausible_max", w),
                )
            )
        return tuple(rules)

    vitals = vital_rules(_req(data, "vitals", list, f), f)
    forms: dict[str, ScreeningForm] = {}
    for raw in _req(data, "forms", list, f):
        form_id = _req(raw, "id", str, f)
        w = f"{f} form {form_id}"
        if len(form_id) > 32:
            raise RefDataError(f"{w}: id longer than 32 (the screening.form_id column)")
        items = []
        for it in _req(raw, "items", list, w):
            item_id = _req(it, "id", str, w)
            wi = f"{w} item {item_id}"
            sex = it.get("sex")
            if sex not in (None, "M", "F"):
                raise RefDataError(f"{wi}: sex must be M, F or absent")
            flags = _str_tuple(it, "flags", wi, default=True)
            if not set(flags) <= _FLAGS:
                raise RefDataError(f"{wi}: unknown flag in {flags}")
            items.append(
                ScreeningItem(
                    id=item_id,
                    text_vi=_req(it, "text_vi", str, wi),
                    text_en=_req(it, "text_en", str, wi),
                    outcome_if_yes=outcome(it, "outcome_if_yes", wi),
                    needs_detail=bool(it.get("needs_detail", False)),
                    sex=sex,
                    flags=flags,
                    detail_vi=str(it.get("detail_vi", "")),
                    detail_en=str(it.get("detail_en", "")),
                    confidence=str(it.get("confidence", "")),
                    source=str(it.get("source", "")),
                )
            )
        if len({i.id for i in items}) != len(items):
            raise RefDataError(f"{w}: duplicate item id")
        valid_from = _opt_day(raw, "valid_from", w)
        if valid_from is None:
            raise RefDataError(f"{w}: missing 'valid_from'")
        valid_to = _opt_day(raw, "valid_to", w)
        if valid_to is not None and valid_to < valid_from:
            raise RefDataError(f"{w}: valid_to before valid_from")
        lo, hi = _opt_int(raw, "min_age_years", w), _opt_int(raw, "max_age_years", w)
        if lo is not None and hi is not None and hi < lo:
            raise RefDataError(f"{w}: max_age_years < min_age_years")
        forms[form_id] = ScreeningForm(
            id=form_id,
            title_vi=_req(raw, "title_vi", str, w),
            title_en=_req(raw, "title_en", str, w),
            valid_from=valid_from,
            items=tuple(items),
            vitals=vital_rules(raw["vitals"], w) if "vitals" in raw else vitals,
            valid_to=valid_to,
            decision=str(raw.get("decision", "")),
            min_age_years=lo,
            max_age_years=hi,
            selectable=bool(raw.get("selectable", True)),
            guardian=bool(raw.get("guardian", False)),
            source=str(raw.get("source", "")),
            confidence=str(raw.get("confidence", "")),
        )
    default = _req(data, "default_form", str, f)
    if default not in forms or not forms[default].selectable:
        raise RefDataError(f"{f}: default_form {default!r} is not a selectable form")
    note = str(data.get("precedence_note", ""))
    return outcomes, labels, forms, default, note


@lru_cache(maxsize=1)
def screening_forms() -> dict[str, ScreeningForm]:
    """Every form by id, retired ones included (they read old screenings)."""
    return dict(_screening()[2])


def default_screening_form() -> ScreeningForm:
    """The current adult form (what a new adult screening uses today)."""
    _, _, forms, default, _ = _screening()
    return forms[default]


def screening_form_for(day: str, age_min: int | None, age_max: int | None) -> ScreeningForm | None:
    """The selectable form for a screening on ``day`` (ISO) of a person aged
    ``age_min``..``age_max`` (a range: a birth year alone leaves the age uncertain).

    The form that fits the *youngest* possible age wins: the children's checklists ask
    more (a guardian) and refer more to hospital, so an uncertain 17/18 is screened as a
    child. None when no form covers the age on that day (COVID-19 forms start at 5).
    Several forms valid the same day for the same age: the one that started last.
    """
    candidates = sorted(
        (f for f in _screening()[2].values() if f.selectable and f.valid_on(day)),
        key=lambda f: f.valid_from,
        reverse=True,
    )
    for age in dict.fromkeys(a for a in (age_min, age_max) if a is not None):
        for form in candidates:
            if form.fits_age(age):
                return form
    if age_min is None and age_max is None:
        adult = [f for f in candidates if f.min_age_years is None or f.min_age_years >= 18]
        return adult[0] if adult else None
    return None


@lru_cache(maxsize=1)
def screening_outcomes() -> dict[str, OutcomeLabel]:
    """Outcome labels in precedence order, lowest (``eligible``) first."""
    outcomes, labels, _, _, _ = _screening()
    return {o: labels[o] for o in outcomes}


def outcome_precedence() -> tuple[str, ...]:
    """Outcome codes from the weakest (``eligible``) to the strongest (``contraindicated``)."""
    return _screening()[0]


def precedence_note() -> str:
    """Why the order is what it is (English; shown in the doctor's view)."""
    return _screening()[4]


# --------------------------------------------------------------------------- admin units


@lru_cache(maxsize=1)
def _admin() -> tuple[
    dict[str, Province],
    tuple[Ward, ...],
    dict[str, tuple[Ward, ...]],
    dict[str, Ward],
    dict[str, tuple[str, ...]],
    dict[str, str],
]:
    data = _load("admin_units.json")
    f = "admin_units.json"
    provs: dict[str, Province] = {}
    for row in _req(data, "provinces", list, f):
        if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)):
            raise RefDataError(f"{f}: bad province row {row!r}")
        provs[row[0]] = Province(row[0], row[1], row[2])
    all_wards: list[Ward] = []
    for row in _req(data, "wards", list, f):
        if not (isinstance(row, list) and len(row) == 4 and all(isinstance(x, str) for x in row)):
            raise RefDataError(f"{f}: bad ward row {row!r}")
        if row[1] not in provs:
            raise RefDataError(f"{f}: ward {row[0]} has unknown province {row[1]}")
        all_wards.append(Ward(row[0], row[1], row[2], row[3]))
    all_wards.sort(key=lambda w: _sort_key(w.name, w.code))
    by_province: dict[str, list[Ward]] = {code: [] for code in provs}
    for w in all_wards:
        by_province[w.province_code].append(w)
    legacy: dict[str, tuple[str, ...]] = {}
    for row in data.get("legacy_provinces", []):
        legacy[str(row[0])] = tuple(str(c) for c in row[2])
    info = {
        k: str(data[k])
        for k in ("source", "package", "package_version", "as_of", "generated")
        if k in data
    }
    return (
        provs,
        tuple(all_wards),
        {k: tuple(v) for k, v in by_province.items()},
        {w.code: w for w in all_wards},
        legacy,
        info,
    )


@lru_cache(maxsize=1)
def provinces() -> dict[str, Province]:
    """The 34 provinces (post 1/7/2025) by 2-digit code, in code order."""
    return dict(_admin()[0])


def wards(province_code: str | None = None) -> list[Ward]:
    """All wards, or those of one province (empty if unknown), sorted by folded name.

    The sort ignores the unit prefix (``Phường``/``Xã``/``Đặc khu``) and diacritics.
    """
    _, all_wards, by_province, _, _, _ = _admin()
    if province_code is None:
        return list(all_wards)
    return list(by_province.get(province_code, ()))


def ward(code: str) -> Ward | None:
    return _admin()[3].get(code)


@lru_cache(maxsize=1)
def legacy_province_map() -> dict[str, tuple[str, ...]]:
    """Pre-2025 (63) province code -> current province code(s); empty if not shipped."""
    return dict(_admin()[4])


@lru_cache(maxsize=1)
def admin_units_info() -> dict[str, str]:
    """Provenance of admin_units.json (source, package, package_version, as_of, generated)."""
    return dict(_admin()[5])
