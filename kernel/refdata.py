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

import unicodedata
from functools import lru_cache

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

from kernel.refdata_files import (
    get,
    has,
    load_json,
    opt_day,
    opt_int,
    opt_volume,
    req,
    req_list,
    str_tuple,
)
from kernel.refdata_screening import (
    default_screening_form,
    outcome_precedence,
    precedence_note,
    screening_form_for,
    screening_forms,
    screening_outcomes,
)
from kernel.refdata_types import (
    Interval,
    IntervalOverride,
    MixRule,
    OutcomeLabel,
    PriorityGroup,
    Province,
    ProvinceProfile,
    RefDataError,
    ScreeningForm,
    ScreeningItem,
    Vaccine,
    VitalRule,
    Ward,
)

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


# --------------------------------------------------------------------------- vaccines


def _parse_vaccine(raw: object, where: str) -> Vaccine:
    code = req(raw, "code", str, where)
    where = f"{where} {code}"
    intervals = []
    for i, iv in enumerate(req_list(raw, "intervals", where)):
        w = f"{where} intervals[{i}]"
        lo = req(iv, "min_days", int, w)
        hi = opt_int(iv, "max_days", w)
        rec = opt_int(iv, "recommended_days", w) if has(iv, "recommended_days") else None
        if lo < 0 or (hi is not None and hi < lo):
            raise RefDataError(f"{w}: incoherent interval {lo}..{hi}")
        if rec is not None and (rec < lo or (hi is not None and rec > hi)):
            raise RefDataError(f"{w}: recommended_days {rec} outside {lo}..{hi}")
        intervals.append(Interval(lo, hi, rec))
    v = Vaccine(
        code=code,
        name=req(raw, "name", str, where),
        name_vi=req(raw, "name_vi", str, where),
        manufacturer=req(raw, "manufacturer", str, where),
        platform=req(raw, "platform", str, where),
        disease=req(raw, "disease", str, where),
        primary_doses=req(raw, "primary_doses", int, where),
        intervals=tuple(intervals),
        booster_vaccines=str_tuple(raw, "booster_vaccines", where),
        additional_min_days=opt_int(raw, "additional_min_days", where),
        booster_min_days=opt_int(raw, "booster_min_days", where),
        booster2_min_days=opt_int(raw, "booster2_min_days", where),
        min_age_years=opt_int(raw, "min_age_years", where),
        max_age_years=opt_int(raw, "max_age_years", where),
        active=req(raw, "active", bool, where),
        half_dose_booster=bool(get(raw, "half_dose_booster", False)),
        contraindications=str_tuple(raw, "contraindications", where, default=True),
        aliases=str_tuple(raw, "aliases", where, default=True),
        family=str(get(raw, "family") or ""),
        lot_product=str(get(raw, "lot_product") or ""),
        dose_volume_ml=opt_volume(raw, "dose_volume_ml", where),
        booster_volume_ml=opt_volume(raw, "booster_volume_ml", where),
        in_use_from=opt_day(raw, "in_use_from", where),
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


def _parse_mix_rule(raw: object, where: str, catalog: dict[str, Vaccine]) -> MixRule:
    rule_id = req(raw, "id", str, where)
    w = f"{where} mix rule {rule_id}"
    series = req(raw, "series", str, w)
    nxt = str_tuple(raw, "next", w)
    for code in (series, *nxt):
        if code not in catalog:
            raise RefDataError(f"{w}: unknown code {code}")
        if catalog[code].series_family != code:
            raise RefDataError(f"{w}: {code} is a product, name its family")
        if catalog[code].disease != catalog[series].disease:
            raise RefDataError(f"{w}: {code} is another disease")
    condition = get(raw, "condition")
    if condition not in (None, "first_unavailable"):
        raise RefDataError(f"{w}: unknown condition {condition!r}")
    lo, hi = opt_int(raw, "min_age_years", w), opt_int(raw, "max_age_years", w)
    if lo is not None and hi is not None and hi < lo:
        raise RefDataError(f"{w}: max_age_years < min_age_years")
    return MixRule(
        id=rule_id,
        series=series,
        next=nxt,
        valid_from=opt_day(raw, "valid_from", w),
        valid_to=opt_day(raw, "valid_to", w),
        min_age_years=lo,
        max_age_years=hi,
        condition=condition if isinstance(condition, str) else None,
        source=req(raw, "source", str, w),
    )


@lru_cache(maxsize=1)
def _vaccine_catalog() -> tuple[str, dict[str, Vaccine], tuple[MixRule, ...]]:
    data = load_json("vaccines.json")
    version = req(data, "catalog_version", str, "vaccines.json")
    result: dict[str, Vaccine] = {}
    for raw in req_list(data, "vaccines", "vaccines.json"):
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
        _parse_mix_rule(raw, "vaccines.json", result) for raw in (req_list(data, "mix_rules", "vaccines.json") if has(data, "mix_rules") else [])
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
    data = load_json(f)
    catalog = _vaccine_catalog()[1]
    result: dict[str, ProvinceProfile] = {}
    for raw in req_list(data, "profiles", f):
        pid = req(raw, "id", str, f)
        w = f"{f} profile {pid}"
        overrides = []
        for i, ov in enumerate(req_list(raw, "intervals", w)):
            wi = f"{w} intervals[{i}]"
            code = req(ov, "vaccine", str, wi)
            v = catalog.get(code)
            if v is None:
                raise RefDataError(f"{wi}: unknown vaccine {code}")
            number = req(ov, "dose_number", int, wi)
            if not 2 <= number <= v.primary_doses:
                raise RefDataError(f"{wi}: {code} has no primary dose {number} after another")
            lo, hi = req(ov, "min_days", int, wi), opt_int(ov, "max_days", wi)
            if lo < 0 or (hi is not None and hi < lo):
                raise RefDataError(f"{wi}: incoherent interval {lo}..{hi}")
            overrides.append(
                IntervalOverride(
                    code, number, lo, hi, opt_day(ov, "valid_from", wi),
                    opt_day(ov, "valid_to", wi), req(ov, "source", str, wi),
                )
            )
        if pid in result:
            raise RefDataError(f"{w}: duplicate")
        province = get(raw, "province_code")
        result[pid] = ProvinceProfile(
            pid,
            province if isinstance(province, str) else None,
            req(raw, "name_vi", str, w),
            req(raw, "name_en", str, w),
            tuple(overrides),
        )
    default = req(data, "default_profile", str, f)
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
    data = load_json("priority_groups.json")
    result: dict[int, PriorityGroup] = {}
    for raw in req_list(data, "groups", "priority_groups.json"):
        code = req(raw, "code", int, "priority_groups.json")
        where = f"priority_groups.json {code}"
        if code in result:
            raise RefDataError(f"{where}: duplicate")
        result[code] = PriorityGroup(
            code, req(raw, "name_vi", str, where), req(raw, "name_en", str, where)
        )
    return result


@lru_cache(maxsize=1)
def priority_groups() -> dict[int, PriorityGroup]:
    """The 16 priority groups of QĐ 3355/QĐ-BYT, by numeric code."""
    return dict(_priority_groups())


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
    data = load_json("admin_units.json")
    f = "admin_units.json"
    provs: dict[str, Province] = {}
    for row in req_list(data, "provinces", f):
        if not (isinstance(row, list) and len(row) == 3 and all(isinstance(x, str) for x in row)):
            raise RefDataError(f"{f}: bad province row {row!r}")
        provs[row[0]] = Province(row[0], row[1], row[2])
    all_wards: list[Ward] = []
    for row in req_list(data, "wards", f):
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
    for row in req_list(data, "legacy_provinces", f) if has(data, "legacy_provinces") else []:
        if not (isinstance(row, list) and len(row) >= 3 and isinstance(row[2], list)):
            raise RefDataError(f"{f}: bad legacy province row {row!r}")
        legacy[str(row[0])] = tuple(str(c) for c in row[2])
    info = {
        k: str(get(data, k))
        for k in ("source", "package", "package_version", "as_of", "generated")
        if has(data, k)
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
