"""Reference data loads, is coherent and is cached."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from kernel import refdata
from kernel.rules.screening import OUTCOMES


def test_vaccine_catalog_loads() -> None:
    vs = refdata.vaccines()
    assert list(vs)[:10] == [
        "AZ",
        "SPUTNIK",
        "VEROCELL",
        "PFIZER",
        "PFIZER_5_11",
        "MODERNA",
        "MODERNA_6_11",
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
        assert iv.min_days <= iv.recommended <= (iv.max_days or iv.recommended)
    for other in (*v.booster_vaccines, v.series_family, v.lot_code):
        assert refdata.vaccine(other).disease == v.disease
    if v.min_age_years is not None and v.max_age_years is not None:
        assert v.min_age_years <= v.max_age_years
    assert v.dose_volume_ml is not None and 0 < v.dose_volume_ml <= 1
    assert code.isascii() and code.isupper()


def test_vaccine_facts() -> None:
    assert refdata.vaccine("JANSSEN").primary_doses == 1
    abdala = refdata.vaccine("ABDALA")
    assert abdala.primary_doses == 3
    assert [i.min_days for i in abdala.intervals] == [14, 14]
    assert (abdala.min_age_years, abdala.max_age_years) == (19, 65)
    assert refdata.vaccine("MODERNA").half_dose_booster
    assert refdata.vaccine("MODERNA").volume_for("booster") == 0.25
    assert refdata.vaccine("MODERNA").volume_for("primary") == 0.5
    assert refdata.vaccine("PFIZER").volume_for("booster") == 0.3
    assert "pregnancy" in refdata.vaccine("SPUTNIK").contraindications
    assert "AZ" in refdata.vaccine("PFIZER").booster_vaccines
    for v in refdata.vaccines().values():
        if v.disease == "covid19" and not v.family:
            assert {"PFIZER", "MODERNA"} <= set(v.booster_vaccines)
            assert v.booster_min_days == 90
            assert v.booster2_min_days == 120


def test_paediatric_products() -> None:
    """Issue 12: Pfizer 5-11 (10 µg) and Moderna 6-11 (half dose) are their own entries."""
    p = refdata.vaccine("PFIZER_5_11")
    assert (p.family, p.lot_code, p.dose_volume_ml) == ("PFIZER", "PFIZER_5_11", 0.2)
    assert (p.min_age_years, p.max_age_years) == (5, 11)
    m = refdata.vaccine("MODERNA_6_11")
    assert (m.family, m.lot_code, m.dose_volume_ml) == ("MODERNA", "MODERNA", 0.25)
    assert (m.min_age_years, m.max_age_years) == (6, 11)
    assert refdata.products_for_lot("MODERNA") == ("MODERNA", "MODERNA_6_11")
    assert refdata.products_for_lot("PFIZER") == ("PFIZER",)  # the children's Pfizer has its own vials
    assert refdata.products_for_lot("NOPE") == ()


def test_mix_rules_are_dated_and_age_bound() -> None:
    rules = {r.id: r for r in refdata.mix_rules()}
    az_pf = rules["az-pfizer-2021-07"]
    assert (az_pf.series, az_pf.next, az_pf.valid_from) == ("AZ", ("PFIZER",), "2021-07-27")
    assert az_pf.condition == "first_unavailable" and az_pf.min_age_years == 18
    assert rules["az-moderna-2021-12"].valid_from == "2021-12-12"  # none after AZ in Aug 2021
    assert all(r.min_age_years is not None and r.min_age_years >= 12 for r in rules.values())
    assert all(r.source for r in rules.values())


def test_province_profiles() -> None:
    profiles = refdata.province_profiles()
    assert {"national", "dong-nai", "ho-chi-minh"} <= set(profiles)
    assert profiles["national"].intervals == ()
    (dn,) = profiles["dong-nai"].intervals
    assert (dn.vaccine, dn.dose_number, dn.min_days, dn.valid_from) == ("AZ", 2, 28, "2021-10-20")
    assert refdata.province_profile(None).id == "national"
    assert refdata.province_profile("nope").id == "national"


def test_priority_groups() -> None:
    groups = refdata.priority_groups()
    assert list(groups) == list(range(1, 17))
    assert groups[3].name_vi == "Lực lượng Quân đội"
    assert all(g.name_en and g.name_vi for g in groups.values())


def test_screening_forms() -> None:
    forms = refdata.screening_forms()
    assert {"3802-2021-08", "4355-2021-09", "4355-2021-09-r2", "5785-2021-12",
            "5002-2021-10-child12", "1535-2022-03-child5"} <= set(forms)
    assert refdata.default_screening_form().id == "5785-2021-12"
    f3802 = forms["3802-2021-08"]
    assert f3802.items[0].outcome_if_yes == "contraindicated"
    assert f3802.items[1].outcome_if_yes == "defer"
    # 10 numbered items (item 4 split into 4a/4b)
    assert len({i.id.rstrip("ab") for i in f3802.items}) == 10
    old = forms["4355-2021-09"]
    assert not old.selectable  # the incomplete transcription only reads old screenings
    assert [i.id for i in old.items] == ["1", "2a", "2b", "3", "4", "5", "6", "7", "8", "9"]
    item3 = old.item("3")
    assert item3 is not None and item3.needs_detail and item3.outcome_if_yes == "hospital"
    assert old.item("nope") is None
    r2 = forms["4355-2021-09-r2"]
    assert r2.item("1") is not None and r2.item("1").outcome_if_yes == "contraindicated"  # type: ignore[union-attr]
    assert r2.item("2") is not None and r2.item("2").outcome_if_yes == "defer"  # type: ignore[union-attr]
    for form in forms.values():
        assert form.valid_from and form.source
        assert len(form.id) <= 32
        assert all(i.outcome_if_yes in OUTCOMES for i in form.items)
        pregnancy = [i for i in form.items if "pregnancy" in i.flags]
        assert all(i.sex == "F" for i in pregnancy)
        if form.guardian:
            assert {v.name for v in form.vitals} == {"temperature", "pulse"}
            assert form.max_age_years is not None and form.max_age_years < 18
        else:
            assert {v.name for v in form.vitals} == {
                "temperature",
                "pulse",
                "bp_systolic",
                "bp_diastolic",
                "respiratory_rate",
            }
        if form.selectable:
            assert any("anaphylaxis_covid_vaccine" in i.flags and i.outcome_if_yes == "contraindicated"
                       for i in form.items), form.id


@pytest.mark.parametrize(
    ("day", "ages", "form_id"),
    [
        ("2021-08-20", (40, 40), "3802-2021-08"),
        ("2021-09-09", (40, 40), "3802-2021-08"),
        ("2021-09-10", (40, 40), "4355-2021-09-r2"),
        ("2021-12-20", (40, 40), "4355-2021-09-r2"),
        ("2021-12-21", (40, 40), "5785-2021-12"),
        ("2026-12-01", (70, 70), "5785-2021-12"),
        ("2021-10-28", (15, 15), None),  # before the children's checklist
        ("2021-10-29", (15, 15), "5002-2021-10-child12"),
        ("2021-11-01", (17, 18), "5002-2021-10-child12"),  # birth year only: screened as a child
        ("2022-03-27", (8, 8), None),
        ("2022-03-28", (8, 8), "1535-2022-03-child5"),
        ("2022-04-01", (11, 12), "1535-2022-03-child5"),
        ("2022-04-01", (4, 4), None),  # no COVID-19 form under 5
    ],
)
def test_form_chosen_by_date_and_age(day: str, ages: tuple[int, int], form_id: str | None) -> None:
    form = refdata.screening_form_for(day, *ages)
    assert (form.id if form else None) == form_id


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
    base = resources.files("kernel.data")
    for name in (
        "province_profiles.json",
        "vaccines.json",
        "priority_groups.json",
        "screening_forms.json",
        "admin_units.json",
        "admin_units.SOURCE.md",
        "screening_forms.SOURCE.md",
        "vaccines.SOURCE.md",
        "README.md",
    ):
        assert base.joinpath(name).is_file(), name
    text = base.joinpath("admin_units.json").read_text(encoding="utf-8")
    assert "\n " not in text  # no indentation
    data = json.loads(text)
    assert data["package"] == "vietnam-provinces"
    assert refdata.admin_units_info()["as_of"] == data["as_of"]
