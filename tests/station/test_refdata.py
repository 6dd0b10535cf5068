"""Reference data loads, is coherent and is cached."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from station import refdata
from station.rules.screening import OUTCOMES


def test_vaccine_catalog_loads() -> None:
    vs = refdata.vaccines()
    assert list(vs)[:8] == [
        "AZ",
        "SPUTNIK",
        "VEROCELL",
        "PFIZER",
        "MODERNA",
        "JANSSEN",
        "HAYAT",
        "ABDALA",
    ]
    assert "MR" in vs and vs["MR"].disease == "measles_rubella"
    assert refdata.catalog_version()
    assert refdata.vaccine("AZ").name == "AstraZeneca"
    with pytest.raises(KeyError):
        refdata.vaccine("NOPE")


@pytest.mark.parametrize("code", list(refdata.vaccines()))
def test_vaccine_coherent(code: str) -> None:
    v = refdata.vaccine(code)
    assert v.primary_doses >= 1
    assert len(v.intervals) == v.primary_doses - 1
    for iv in v.intervals:
        assert iv.min_days >= 0
        assert iv.max_days is None or iv.max_days >= iv.min_days
    for other in (*v.mix_allowed, *v.booster_vaccines):
        assert refdata.vaccine(other).disease == v.disease
    assert code not in v.mix_allowed
    if v.min_age_years is not None and v.max_age_years is not None:
        assert v.min_age_years <= v.max_age_years
    assert code.isascii() and code.isupper()


def test_vaccine_facts() -> None:
    assert refdata.vaccine("JANSSEN").primary_doses == 1
    abdala = refdata.vaccine("ABDALA")
    assert abdala.primary_doses == 3
    assert [i.min_days for i in abdala.intervals] == [14, 14]
    assert (abdala.min_age_years, abdala.max_age_years) == (19, 65)
    assert set(refdata.vaccine("AZ").mix_allowed) == {"PFIZER", "MODERNA"}
    assert refdata.vaccine("PFIZER").mix_allowed == ("MODERNA",)
    assert refdata.vaccine("MODERNA").mix_allowed == ("PFIZER",)
    assert refdata.vaccine("VEROCELL").mix_allowed == ()
    assert refdata.vaccine("MODERNA").half_dose_booster
    assert "pregnancy" in refdata.vaccine("SPUTNIK").contraindications
    assert "AZ" in refdata.vaccine("PFIZER").booster_vaccines
    for v in refdata.vaccines().values():
        if v.disease == "covid19":
            assert {"PFIZER", "MODERNA"} <= set(v.booster_vaccines)
            assert v.booster_min_days == 90
            assert v.booster2_min_days == 120


def test_priority_groups() -> None:
    groups = refdata.priority_groups()
    assert list(groups) == list(range(1, 17))
    assert groups[3].name_vi == "Lực lượng Quân đội"
    assert all(g.name_en and g.name_vi for g in groups.values())


def test_screening_forms() -> None:
    forms = refdata.screening_forms()
    assert {"3802-2021-08", "4355-2021-09"} <= set(forms)
    assert refdata.default_screening_form().id == "4355-2021-09"
    f3802 = forms["3802-2021-08"]
    assert f3802.items[0].outcome_if_yes == "contraindicated"
    assert f3802.items[1].outcome_if_yes == "defer"
    # 10 numbered items (item 4 split into 4a/4b)
    assert len({i.id.rstrip("ab") for i in f3802.items}) == 10
    f4355 = forms["4355-2021-09"]
    assert [i.id for i in f4355.items] == ["1", "2a", "2b", "3", "4", "5", "6", "7", "8", "9"]
    item3 = f4355.item("3")
    assert item3 is not None and item3.needs_detail and item3.outcome_if_yes == "hospital"
    assert f4355.item("nope") is None
    for form in forms.values():
        assert form.valid_from
        assert all(i.outcome_if_yes in OUTCOMES for i in form.items)
        assert {v.name for v in form.vitals} == {
            "temperature",
            "pulse",
            "bp_systolic",
            "bp_diastolic",
            "respiratory_rate",
        }


def test_outcome_precedence_matches_rules() -> None:
    assert tuple(refdata.screening_outcomes()) == OUTCOMES
    assert refdata.screening_outcomes()["eligible"].record_code == "DU_DIEU_KIEN"


def test_admin_units() -> None:
    provs = refdata.provinces()
    assert len(provs) == 34
    assert provs["75"].name == "Tỉnh Đồng Nai"
    assert provs["79"].kind == "thanh_pho"
    all_wards = refdata.wards()
    assert len(all_wards) == 3321
    kinds = {w.kind for w in all_wards}
    assert kinds == {"xa", "phuong", "dac_khu"}
    assert sum(len(refdata.wards(p)) for p in provs) == 3321
    assert refdata.wards("00") == []
    w = refdata.ward("00004")
    assert w is not None and w.name == "Phường Ba Đình" and w.province_code == "01"
    assert refdata.ward("99999") is None


def test_wards_sorted_by_folded_name() -> None:
    dn = refdata.wards("75")
    keys = [refdata._sort_key(w.name, w.code) for w in dn]
    assert keys == sorted(keys)
    assert all(w.province_code == "75" for w in dn)
    # the unit prefix is ignored: Phường and Xã interleave
    assert {w.kind for w in dn[:10]} == {"xa", "phuong"}


def test_legacy_map() -> None:
    legacy = refdata.legacy_province_map()
    provs = refdata.provinces()
    if not legacy:  # optional in the data
        pytest.skip("no legacy map shipped")
    assert len(legacy) == 63
    assert legacy["75"] == ("75",)  # Đồng Nai
    assert legacy["70"] == ("75",)  # Bình Phước -> Đồng Nai
    assert all(c in provs for codes in legacy.values() for c in codes)


def test_fold() -> None:
    assert refdata.fold("Đồng Nai") == "dong nai"
    assert refdata.fold("ÐỒNG") == "dong"
    assert refdata.fold("Hoà") == refdata.fold("Hòa") == "hoa"


def test_cached() -> None:
    assert refdata.vaccines() is refdata.vaccines()
    assert refdata.provinces() is refdata.provinces()
    assert refdata.default_screening_form() is refdata.default_screening_form()
    assert refdata.ward("00004") is refdata.ward("00004")


def test_data_files_packaged_and_compact() -> None:
    base = resources.files("station.data")
    for name in (
        "vaccines.json",
        "priority_groups.json",
        "screening_forms.json",
        "admin_units.json",
        "admin_units.SOURCE.md",
        "README.md",
    ):
        assert base.joinpath(name).is_file(), name
    text = base.joinpath("admin_units.json").read_text(encoding="utf-8")
    assert "\n " not in text  # no indentation
    data = json.loads(text)
    assert data["package"] == "vietnam-provinces"
    assert refdata.admin_units_info()["as_of"] == data["as_of"]
