"""Reference data: vaccines, priority groups, screening forms, administrative units.

The facts live in JSON files under ``station/data`` (see ``station/data/README.md``);
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
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = [
    "Interval",
    "OutcomeLabel",
    "PriorityGroup",
    "Province",
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
    "priority_groups",
    "provinces",
    "screening_forms",
    "screening_outcomes",
    "vaccine",
    "vaccines",
    "ward",
    "wards",
]

_PACKAGE = "station.data"
DOSE_KINDS = ("primary", "additional", "booster")


class RefDataError(ValueError):
    """A reference data file is missing or malformed."""


# --------------------------------------------------------------------------- types


@dataclass(frozen=True, slots=True)
class Interval:
    """Allowed gap between two consecutive primary doses, in days."""

    min_days: int
    max_days: int | None


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
    mix_allowed: tuple[str, ...]
    """Codes allowed to continue/complete a series of this vaccine, besides itself."""
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


def _parse_vaccine(raw: Any, where: str) -> Vaccine:
    code = _req(raw, "code", str, where)
    where = f"{where} {code}"
    intervals = []
    for i, iv in enumerate(_req(raw, "intervals", list, where)):
        w = f"{where} intervals[{i}]"
        lo = _req(iv, "min_days", int, w)
        hi = _opt_int(iv, "max_days", w)
        if lo < 0 or (hi is not None and hi < lo):
            raise RefDataError(f"{w}: incoherent interval {lo}..{hi}")
        intervals.append(Interval(lo, hi))
    v = Vaccine(
        code=code,
        name=_req(raw, "name", str, where),
        name_vi=_req(raw, "name_vi", str, where),
        manufacturer=_req(raw, "manufacturer", str, where),
        platform=_req(raw, "platform", str, where),
        disease=_req(raw, "disease", str, where),
        primary_doses=_req(raw, "primary_doses", int, where),
        intervals=tuple(intervals),
        mix_allowed=_str_tuple(raw, "mix_allowed", where),
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


@lru_cache(maxsize=1)
def _vaccine_catalog() -> tuple[str, dict[str, Vaccine]]:
    data = _load("vaccines.json")
    version = _req(data, "catalog_version", str, "vaccines.json")
    result: dict[str, Vaccine] = {}
    for raw in _req(data, "vaccines", list, "vaccines.json"):
        v = _parse_vaccine(raw, "vaccines.json")
        if v.code in result:
            raise RefDataError(f"vaccines.json: duplicate code {v.code}")
        result[v.code] = v
    for v in result.values():
        for ref in (*v.mix_allowed, *v.booster_vaccines):
            other = result.get(ref)
            if other is None:
                raise RefDataError(f"vaccines.json {v.code}: unknown code {ref}")
            if other.disease != v.disease:
                raise RefDataError(f"vaccines.json {v.code}: {ref} is another disease")
    return version, result


@lru_cache(maxsize=1)
def vaccines() -> dict[str, Vaccine]:
    """All vaccines by code, in catalog order."""
    return dict(_vaccine_catalog()[1])


def vaccine(code: str) -> Vaccine:
    """The vaccine with ``code``; ``KeyError`` if unknown."""
    return _vaccine_catalog()[1][code]


def catalog_version() -> str:
    return _vaccine_catalog()[0]


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


@lru_cache(maxsize=1)
def _screening() -> tuple[tuple[str, ...], dict[str, OutcomeLabel], dict[str, ScreeningForm], str]:
    data = _load("screening_forms.json")
    f = "screening_forms.json"
    outcomes = _str_tuple(data, "outcome_precedence", f)
    labels: dict[str, OutcomeLabel] = {}
    for raw in _req(data, "outcomes", list, f):
        code = _req(raw, "code", str, f)
        w = f"{f} outcome {code}"
        labels[code] = OutcomeLabel(
            code,
            _req(raw, "name_vi", str, w),
            _req(raw, "name_en", str, w),
            _req(raw, "record_code", str, w),
        )
    if set(labels) != set(outcomes):
        raise RefDataError(f"{f}: outcomes and outcome_precedence differ")

    def outcome(raw: Any, key: str, where: str) -> str:
        value: str = _req(raw, key, str, where)
        if value not in outcomes:
            raise RefDataError(f"{where}: unknown outcome {value!r}")
        return value

    vitals = []
    for raw in _req(data, "vitals", list, f):
        name = _req(raw, "name", str, f)
        w = f"{f} vital {name}"
        vitals.append(
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
    forms: dict[str, ScreeningForm] = {}
    for raw in _req(data, "forms", list, f):
        form_id = _req(raw, "id", str, f)
        w = f"{f} form {form_id}"
        items = []
        for it in _req(raw, "items", list, w):
            item_id = _req(it, "id", str, w)
            wi = f"{w} item {item_id}"
            items.append(
                ScreeningItem(
                    id=item_id,
                    text_vi=_req(it, "text_vi", str, wi),
                    text_en=_req(it, "text_en", str, wi),
                    outcome_if_yes=outcome(it, "outcome_if_yes", wi),
                    needs_detail=bool(it.get("needs_detail", False)),
                )
            )
        if len({i.id for i in items}) != len(items):
            raise RefDataError(f"{w}: duplicate item id")
        valid_to = raw.get("valid_to")
        forms[form_id] = ScreeningForm(
            id=form_id,
            title_vi=_req(raw, "title_vi", str, w),
            title_en=_req(raw, "title_en", str, w),
            valid_from=_req(raw, "valid_from", str, w),
            items=tuple(items),
            vitals=tuple(vitals),
            valid_to=valid_to if isinstance(valid_to, str) else None,
        )
    default = _req(data, "default_form", str, f)
    if default not in forms:
        raise RefDataError(f"{f}: default_form {default!r} is not a form")
    return outcomes, labels, forms, default


@lru_cache(maxsize=1)
def screening_forms() -> dict[str, ScreeningForm]:
    return dict(_screening()[2])


def default_screening_form() -> ScreeningForm:
    """The form new screenings use."""
    _, _, forms, default = _screening()
    return forms[default]


@lru_cache(maxsize=1)
def screening_outcomes() -> dict[str, OutcomeLabel]:
    """Outcome labels in precedence order, lowest (``eligible``) first."""
    outcomes, labels, _, _ = _screening()
    return {o: labels[o] for o in outcomes}


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
