"""Tests for kernel.rules.vietnam (names, phones, IDs, dates, CCCD QR)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kernel.errors import FieldIssue
from kernel.rules.vietnam import (
    LEGACY_MOBILE_PREFIXES,
    MOBILE_PREFIXES,
    PROVINCE_CODE_TO_2025,
    PROVINCE_CODES_2021,
    CccdQr,
    PartialDate,
    cccd_facts,
    check_full_name,
    check_id_number,
    check_phone,
    check_sex,
    clean_name,
    fold,
    fold_tokens,
    given_name_sort_key,
    id_tail,
    mask_phone,
    parse_cccd_qr,
    parse_date,
)

TODAY = date(2021, 9, 15)
HUGE = "a" * 10_000
INJECTIONS = [
    "Robert'); DROP TABLE person;--",
    "<script>alert(1)</script>",
    "${jndi:ldap://x}",
]
WRONG_SCRIPT = ["Иван", "王小明", "Αλέξανδρος", "محمد"]


def codes(issues: list[FieldIssue]) -> list[str]:
    return [i.code for i in issues]


def errors(issues: list[FieldIssue]) -> list[str]:
    return [i.code for i in issues if i.is_error]


def warnings(issues: list[FieldIssue]) -> list[str]:
    return [i.code for i in issues if not i.is_error]


def assert_no_personal_data(issues: list[FieldIssue], *secrets: str) -> None:
    # Issue params must never echo what the user typed.
    blob = repr([(i.field, i.code, i.params) for i in issues])
    for secret in secrets:
        if len(secret) >= 3:
            assert secret not in blob


# Vietnamese alphabet with every tone mark, built from NFD so no letter is missed.
_BASES = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_VOWELS = "aăâeêioôơuưy"
_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
VIET_LETTERS = sorted(
    {unicodedata.normalize("NFC", b + t) for b in _VOWELS for t in _TONES} | set(_BASES) | {"Ð"}
)
VIET_LETTERS += [c.upper() for c in VIET_LETTERS if len(c.upper()) == 1]

viet_letter = st.sampled_from(VIET_LETTERS)
viet_syllable = st.text(viet_letter, min_size=1, max_size=7)
viet_name = st.lists(viet_syllable, min_size=1, max_size=5).map(" ".join)
viet_text = st.text(st.one_of(viet_letter, st.sampled_from(" \t'’-.,")), max_size=60)


# --------------------------------------------------------------------------
# PartialDate
# --------------------------------------------------------------------------


class TestPartialDate:
    def test_full_date(self) -> None:
        d = PartialDate(1985, 3, 7)
        assert d.iso() == "1985-03-07"
        assert d.display() == "07/03/1985"
        assert d.as_date() == date(1985, 3, 7)

    def test_year_only(self) -> None:
        d = PartialDate(1985)
        assert d.iso() == "1985"
        assert d.display() == "1985"
        assert d.as_date() is None

    def test_year_month(self) -> None:
        d = PartialDate(1985, 3)
        assert d.iso() == "1985-03"
        assert d.display() == "03/1985"
        assert d.as_date() is None

    def test_from_iso(self) -> None:
        assert PartialDate.from_iso("1985-03-07") == PartialDate(1985, 3, 7)
        assert PartialDate.from_iso("1985") == PartialDate(1985)
        assert PartialDate.from_iso("1985-03") == PartialDate(1985, 3)

    @pytest.mark.parametrize(
        "bad",
        ["", " ", "85", "1985-3-7", "07/03/1985", "1985-02-30", "1985-13-01", "0000", "x" * 10_000],
    )
    def test_from_iso_rejects(self, bad: str) -> None:
        with pytest.raises(ValueError) as exc:
            PartialDate.from_iso(bad)
        # The message must not echo the (possibly personal) input.
        if bad.strip():
            assert bad not in str(exc.value)

    @pytest.mark.parametrize(
        ("y", "m", "d"),
        [(2001, 2, 29), (2000, 2, 31), (2000, 13, 1), (2000, None, 5), (0, None, None)],
    )
    def test_constructor_rejects_impossible(self, y: int, m: int | None, d: int | None) -> None:
        with pytest.raises(ValueError):
            PartialDate(y, m, d)

    def test_frozen(self) -> None:
        d = PartialDate(1985)
        with pytest.raises(AttributeError):
            d.year = 1990  # type: ignore[misc]

    @given(st.dates())
    def test_iso_roundtrip_full(self, d: date) -> None:
        pd = PartialDate(d.year, d.month, d.day)
        assert PartialDate.from_iso(pd.iso()) == pd
        assert pd.as_date() == d

    @given(st.integers(1, 9999), st.one_of(st.none(), st.integers(1, 12)))
    def test_iso_roundtrip_partial(self, year: int, month: int | None) -> None:
        pd = PartialDate(year, month)
        assert PartialDate.from_iso(pd.iso()) == pd


# --------------------------------------------------------------------------
# fold / names
# --------------------------------------------------------------------------


class TestFold:
    def test_examples(self) -> None:
        assert fold("Nguyễn Thị Đào") == "nguyen thi dao"
        assert fold("Hoà") == fold("Hòa") == "hoa"
        assert fold("Thuỷ") == fold("Thủy")
        assert fold("ÐOÀN") == "doan"  # Eth look-alike
        assert fold("Đoàn") == fold("Doãn")  # same search key, by design

    def test_punctuation_and_whitespace(self) -> None:
        assert fold("  H'Hen  Niê ") == "h hen nie"
        assert fold("Y-Moan,  Ksor.\tH’Luân ʼA") == "y moan ksor h luan a"
        assert fold("") == ""
        assert fold(" \t\n ") == ""

    def test_nfd_input(self) -> None:
        assert fold(unicodedata.normalize("NFD", "Nguyễn Đức")) == "nguyen duc"

    def test_tokens(self) -> None:
        assert fold_tokens("Nguyễn  Thị-Đào") == ["nguyen", "thi", "dao"]
        assert fold_tokens("   ") == []

    @given(st.text())
    def test_idempotent_any_text(self, s: str) -> None:
        assert fold(fold(s)) == fold(s)

    @given(viet_text)
    def test_idempotent_vietnamese(self, s: str) -> None:
        assert fold(fold(s)) == fold(s)

    @given(viet_text)
    def test_ascii_only_for_vietnamese(self, s: str) -> None:
        out = fold(s)
        assert out.isascii()
        assert out == out.lower()
        assert "  " not in out and out == out.strip()

    @given(viet_text)
    def test_tone_placement_insensitive(self, s: str) -> None:
        assert fold(unicodedata.normalize("NFD", s)) == fold(s)


class TestCleanName:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("NGUYỄN văn  AN", "Nguyễn Văn An"),
            ("  trần   thị\tbích ", "Trần Thị Bích"),
            ("ĐẶNG ĐỨC", "Đặng Đức"),
            ("h'hen niê", "H'Hen Niê"),
            ("y-moan ênuôl", "Y-Moan Ênuôl"),
            (unicodedata.normalize("NFD", "lê thị hoà"), "Lê Thị Hoà"),
            ("", ""),
        ],
    )
    def test_examples(self, raw: str, expected: str) -> None:
        assert clean_name(raw) == expected

    def test_keeps_diacritics_and_is_nfc(self) -> None:
        out = clean_name(unicodedata.normalize("NFD", "PHẠM NGỌC THẠCH"))
        assert out == "Phạm Ngọc Thạch"
        assert unicodedata.is_normalized("NFC", out)


class TestCheckFullName:
    def test_ok(self) -> None:
        assert check_full_name("  NGUYỄN văn  AN ") == ("Nguyễn Văn An", [])
        assert check_full_name("Ksor H'Luân") == ("Ksor H'Luân", [])
        assert check_full_name("Mary-Jane O’Neil") == ("Mary-Jane O’Neil", [])

    @pytest.mark.parametrize("raw", [None, "", "   ", "\t\n"])
    def test_required(self, raw: str | None) -> None:
        value, issues = check_full_name(raw)
        assert value is None
        assert codes(issues) == ["name.required"]
        assert issues[0].field == "full_name"

    def test_field_name(self) -> None:
        _, issues = check_full_name("", field="guardian_name")
        assert issues[0].field == "guardian_name"

    def test_too_long(self) -> None:
        value, issues = check_full_name(HUGE)
        assert value is None
        assert codes(issues) == ["name.too_long"]
        assert issues[0].params == {"max": 100}

    def test_length_limit_boundary(self) -> None:
        ok = "An " + "b" * 97  # 100 characters
        assert check_full_name(ok)[0] is not None
        assert codes(check_full_name(ok + "c")[1]) == ["name.too_long"]

    @pytest.mark.parametrize("raw", ["A", "  Ý ", "--", "A-"])
    def test_too_short(self, raw: str) -> None:
        value, issues = check_full_name(raw)
        assert value is None
        assert codes(issues) == ["name.too_short"]

    @pytest.mark.parametrize(
        "raw",
        [
            *INJECTIONS,
            *WRONG_SCRIPT,
            "Nguyễn Văn 2",
            "Nguyen\x00An",
            "Nguyen\tVan An",
            "Lê\u200bAn",
            "An@example",
            'Lê "An"',
            "Lê `An`",
            "Lê \\ An",
            "Lê / An",
            "Lê #1",
            "Lê $An",
            "Lê 100%",
            "Lê = An",
            "Lê; An",
            "Ｌｅ Ａｎ",  # fullwidth Latin: not a real name spelling
            "Lê ✝ An",  # LATIN CROSS is a symbol, not a letter
            "Nguyễn Văn Иван",  # mixed scripts
        ],
    )
    def test_invalid_chars(self, raw: str) -> None:
        value, issues = check_full_name(raw)
        assert value is None
        assert "name.invalid_chars" in codes(issues)
        issue = next(i for i in issues if i.code == "name.invalid_chars")
        assert set(issue.params) == {"count"}
        assert issue.params["count"] >= 1
        assert_no_personal_data(issues, raw.strip())

    def test_invalid_and_too_long_both_reported(self) -> None:
        _, issues = check_full_name("王" * 200)
        assert sorted(codes(issues)) == ["name.invalid_chars", "name.too_long"]

    def test_cyrillic_count(self) -> None:
        _, issues = check_full_name("Иван")
        assert issues[0].params == {"count": 4}

    @given(viet_name)
    def test_fold_clean_equals_fold(self, raw: str) -> None:
        value, issues = check_full_name(raw)
        if value is not None:
            assert fold(clean_name(raw)) == fold(raw)
            assert value == clean_name(raw)
            assert clean_name(value) == value  # display form is stable
        else:
            assert errors(issues)

    @given(st.text(max_size=200))
    def test_never_raises(self, raw: str) -> None:
        value, issues = check_full_name(raw)
        assert (value is None) == bool(errors(issues))


class TestSortKey:
    def test_examples(self) -> None:
        assert given_name_sort_key("Nguyễn Thị Đào") == ("dao", "thi", "nguyen")
        assert given_name_sort_key("Hoàng Phủ Ngọc Tường") == ("tuong", "phu ngoc", "hoang")
        assert given_name_sort_key("Lê An") == ("an", "", "le")
        assert given_name_sort_key("An") == ("an", "", "")
        assert given_name_sort_key("   ") == ("", "", "")

    def test_sorting_by_given_name(self) -> None:
        names = ["Nguyễn Văn Bình", "Trần An", "Lê Thị Ánh", "Đỗ Văn An"]
        ordered = sorted(names, key=given_name_sort_key)
        assert ordered == ["Trần An", "Đỗ Văn An", "Lê Thị Ánh", "Nguyễn Văn Bình"]


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------


class TestCheckPhone:
    @pytest.mark.parametrize(
        "raw",
        [
            "0912345678",
            "+84 912 345 678",
            "+84912345678",
            "84912345678",
            "0912.345.678",
            "0912-345-678",
            "(091) 234 5678",
            " 0912 345 678 ",
            "+84 0912 345 678",
        ],
    )
    def test_normalises(self, raw: str) -> None:
        assert check_phone(raw) == ("0912345678", [])

    @pytest.mark.parametrize(
        ("raw", "expected", "old", "new"),
        [
            ("01662345678", "0362345678", "0166", "036"),
            ("0166 234 5678", "0362345678", "0166", "036"),
            ("+84 166 234 5678", "0362345678", "0166", "036"),
            ("01201234567", "0701234567", "0120", "070"),
            ("01271234567", "0811234567", "0127", "081"),
            ("01991234567", "0591234567", "0199", "059"),
        ],
    )
    def test_legacy_converted(self, raw: str, expected: str, old: str, new: str) -> None:
        value, issues = check_phone(raw)
        assert value == expected
        assert codes(issues) == ["phone.legacy_converted"]
        assert issues[0].severity == "warning"
        assert issues[0].params == {"from": old, "to": new}

    def test_legacy_table_complete(self) -> None:
        assert len(LEGACY_MOBILE_PREFIXES) == 21
        for old, new in LEGACY_MOBILE_PREFIXES.items():
            assert len(old) == 4 and old.startswith("01")
            assert new in MOBILE_PREFIXES

    def test_unknown_legacy_prefix(self) -> None:
        assert codes(check_phone("01001234567")[1]) == ["phone.invalid"]

    @pytest.mark.parametrize(
        ("raw", "number"),
        [
            ("02412345678", "02412345678"),
            ("0251 381 2345", "02513812345"),
            ("+84 24 3825 1234", "02438251234"),
            ("84 251 3812345", "02513812345"),
        ],
    )
    def test_landline_is_kept_with_a_warning(self, raw: str, number: str) -> None:
        # Issue 12: some people have only a landline; it is a way to reach them, it
        # only takes no SMS. A warning, not an error.
        value, issues = check_phone(raw)
        assert value == number
        assert [(i.code, i.severity) for i in issues] == [("phone.landline", "warning")]

    @pytest.mark.parametrize("raw", ["0241234567", "024123456789"])
    def test_landline_of_the_wrong_length_is_invalid(self, raw: str) -> None:
        value, issues = check_phone(raw)
        assert value is None
        assert codes(issues) == ["phone.invalid"]

    def test_unknown_prefix_warns(self) -> None:
        value, issues = check_phone("0501234567")
        assert value == "0501234567"
        assert codes(issues) == ["phone.unknown_prefix"]
        assert issues[0].severity == "warning"
        assert issues[0].params == {"prefix": "050"}

    @pytest.mark.parametrize("prefix", sorted(MOBILE_PREFIXES))
    def test_known_prefixes_clean(self, prefix: str) -> None:
        assert check_phone(prefix + "1234567") == (prefix + "1234567", [])

    @pytest.mark.parametrize(
        "raw",
        [
            "09123456789",  # 11 digits
            "091234567",  # 9 digits
            "091234567a",
            "O912345678",  # letter O
            "abc",
            "1912345678",
            "0112345678",
            "0612345678",
            "+1 212 555 0100",
            "+",
            "++84912345678",
            "0912345678 ext",
            "٠٩١٢٣٤٥٦٧٨",  # Arabic-Indic digits
            *INJECTIONS[:1],
        ],
    )
    def test_invalid(self, raw: str) -> None:
        value, issues = check_phone(raw)
        assert value is None
        assert errors(issues) and errors(issues)[0] in {"phone.invalid", "phone.too_long"}

    @pytest.mark.parametrize("raw", [HUGE, "0" * 21, "<script>alert(1)</script>"])
    def test_too_long(self, raw: str) -> None:
        value, issues = check_phone(raw)
        assert value is None
        assert codes(issues) == ["phone.too_long"]

    @pytest.mark.parametrize("raw", [None, "", "   "])
    def test_empty(self, raw: str | None) -> None:
        assert check_phone(raw) == (None, [])
        value, issues = check_phone(raw, required=True, field="guardian_phone")
        assert value is None
        assert issues == [FieldIssue("guardian_phone", "phone.required")]

    def test_params_never_hold_the_number(self) -> None:
        for raw in ["0501234567", "01662345678", "09123456789", "0241234567"]:
            assert_no_personal_data(check_phone(raw)[1], raw, raw[3:])

    @given(st.text())
    def test_never_raises(self, raw: str) -> None:
        value, issues = check_phone(raw)
        if value is not None:
            assert len(value) == 10 and value.isdigit() and value.startswith("0")
            assert not errors(issues)
        else:
            assert errors(issues) or not raw.strip()

    @given(st.sampled_from(sorted(MOBILE_PREFIXES)), st.text("0123456789", min_size=7, max_size=7))
    def test_all_spellings_agree(self, prefix: str, rest: str) -> None:
        number = prefix + rest
        for spelling in (
            number,
            "+84" + number[1:],
            "84" + number[1:],
            f"{number[:4]}.{number[4:]}",
        ):
            assert check_phone(spelling) == (number, [])


class TestMaskPhone:
    def test_examples(self) -> None:
        assert mask_phone("0912345678") == "••••••• 678"
        assert mask_phone(None) == ""
        assert mask_phone("") == ""
        assert mask_phone("12") == "••"

    def test_hides_all_but_three(self) -> None:
        out = mask_phone("0912345678")
        assert "0912" not in out and sum(c.isdigit() for c in out) == 3


# --------------------------------------------------------------------------
# IDs
# --------------------------------------------------------------------------


class TestProvinces:
    def test_tables(self) -> None:
        assert len(PROVINCE_CODES_2021) == 63
        assert set(PROVINCE_CODE_TO_2025) == set(PROVINCE_CODES_2021)
        assert PROVINCE_CODES_2021["001"] == "Hà Nội"
        assert PROVINCE_CODES_2021["075"] == "Đồng Nai"
        assert PROVINCE_CODE_TO_2025["001"] == "01"
        assert PROVINCE_CODE_TO_2025["070"] == "75"
        assert PROVINCE_CODE_TO_2025["079"] == "79"
        assert len(set(PROVINCE_CODE_TO_2025.values())) == 34
        for code, name in PROVINCE_CODES_2021.items():
            assert len(code) == 3 and code.isdigit()
            assert unicodedata.is_normalized("NFC", name)


class TestCccdFacts:
    @pytest.mark.parametrize(
        ("number", "expected"),
        [
            ("075085001234", ("075", 1985, "M")),
            ("075185001234", ("075", 1985, "F")),
            ("001203001234", ("001", 2003, "M")),
            ("001303001234", ("001", 2003, "F")),
            ("079499001234", ("079", 2199, "M")),
        ],
    )
    def test_examples(self, number: str, expected: tuple[str, int, str]) -> None:
        assert cccd_facts(number) == expected

    @pytest.mark.parametrize(
        "bad", ["", "07508500123", "0750850012345", "07508500123a", "０７５０８５００１２３４"]
    )
    def test_not_12_digits(self, bad: str) -> None:
        assert cccd_facts(bad) is None


class TestCheckIdNumber:
    def test_cccd_ok(self) -> None:
        value, issues = check_id_number(
            "cccd", " 075 085 001 234 ", birth=PartialDate(1985, 3, 7), sex="M"
        )
        assert value == "075085001234"
        assert issues == []

    def test_cccd_without_cross_check_data(self) -> None:
        assert check_id_number("cccd", "075085001234") == ("075085001234", [])

    @pytest.mark.parametrize(
        "raw",
        ["0750850012345", "07508500123", "07508500123a", "075-085-001-234", HUGE, *INJECTIONS],
    )
    def test_cccd_format(self, raw: str) -> None:
        value, issues = check_id_number("cccd", raw)
        assert value is None
        assert codes(issues) == ["id.cccd_format"]
        assert issues[0].params == {"length": len("".join(raw.split()))}

    def test_cccd_13_and_11_digit_lengths(self) -> None:
        assert check_id_number("cccd", "0750850012345")[1][0].params == {"length": 13}
        assert check_id_number("cccd", "07508500123")[1][0].params == {"length": 11}

    def test_province_unknown_warns(self) -> None:
        value, issues = check_id_number("cccd", "003085001234")
        assert value == "003085001234"
        assert codes(issues) == ["id.province_unknown"]
        assert issues[0].severity == "warning"
        assert issues[0].params == {}

    def test_century_mismatch(self) -> None:
        value, issues = check_id_number("cccd", "075285001234", birth=PartialDate(1985))
        assert value == "075285001234"
        assert warnings(issues) == ["id.century_mismatch"]

    def test_birth_year_mismatch(self) -> None:
        _, issues = check_id_number("cccd", "075085001234", birth=PartialDate(1986, 1, 1))
        assert warnings(issues) == ["id.birth_year_mismatch"]

    def test_sex_mismatch(self) -> None:
        _, issues = check_id_number("cccd", "075085001234", sex="F")
        assert warnings(issues) == ["id.sex_mismatch"]
        _, issues = check_id_number("cccd", "075185001234", sex="M")
        assert warnings(issues) == ["id.sex_mismatch"]
        assert check_id_number("cccd", "075185001234", sex="F")[1] == []

    def test_all_warnings_at_once_never_errors(self) -> None:
        value, issues = check_id_number("cccd", "999385001234", birth=PartialDate(1990), sex="M")
        assert value == "999385001234"
        assert set(codes(issues)) == {
            "id.province_unknown",
            "id.century_mismatch",
            "id.sex_mismatch",
        }
        assert not errors(issues)
        assert all(i.params == {} for i in issues)

    @pytest.mark.parametrize("kind", ["cccd", "cmnd", "passport"])
    @pytest.mark.parametrize("raw", [None, "", "   "])
    def test_required(self, kind: str, raw: str | None) -> None:
        value, issues = check_id_number(kind, raw, field="doc")
        assert value is None
        assert issues == [FieldIssue("doc", "id.required")]

    def test_cmnd(self) -> None:
        assert check_id_number("cmnd", " 271 234 567 ") == ("271234567", [])
        for bad in ["27123456", "2712345678", "27123456x", "0750850012345", HUGE]:
            value, issues = check_id_number("cmnd", bad)
            assert value is None
            assert codes(issues) == ["id.cmnd_format"]

    def test_cmnd_of_12_digits_is_accepted_and_cross_checked(self) -> None:
        # 12-digit CMNDs were issued 2012-2016 with the CCCD number's structure
        # (vietnam.md §1.3): accepted, and checked like a CCCD (warnings only).
        assert check_id_number("cmnd", "075085001234") == ("075085001234", [])
        born_1985 = PartialDate(1985, 3, 7)
        value, issues = check_id_number("cmnd", "075185001234", birth=born_1985, sex="M")
        assert value == "075185001234"
        assert [(i.code, i.severity) for i in issues] == [("id.sex_mismatch", "warning")]

    def test_passport(self) -> None:
        assert check_id_number("passport", "c1234567") == ("C1234567", [])
        assert check_id_number("passport", " B 1234567 ") == ("B1234567", [])
        assert check_id_number("passport", "123456") == ("123456", [])
        for bad in [
            "C1234",
            "ABCDEFGH",
            "C1234567890123",
            "C-1234567",
            "С1234567",
            "<script>1</script>",
        ]:
            value, issues = check_id_number("passport", bad)
            assert value is None, bad
            assert codes(issues) == ["id.passport_format"]

    def test_none(self) -> None:
        assert check_id_number("none", None) == (None, [])
        assert check_id_number("none", "  ") == (None, [])
        value, issues = check_id_number("none", "075085001234")
        assert value is None
        assert errors(issues) == ["id.not_expected"]

    @pytest.mark.parametrize("kind", ["", "CCCD2", "ssn", "'; DROP TABLE person;--"])
    def test_unknown_type(self, kind: str) -> None:
        value, issues = check_id_number(kind, "075085001234")
        assert value is None
        assert codes(issues) == ["id_type.invalid"]
        assert issues[0].field == "id_type"

    def test_type_case_insensitive(self) -> None:
        assert check_id_number("CCCD", "075085001234")[0] == "075085001234"

    def test_issues_never_hold_the_number(self) -> None:
        for kind, raw in [
            ("cccd", "999385001234"),
            ("cccd", "0750850012345"),
            ("cmnd", "27123456"),
        ]:
            _, issues = check_id_number(kind, raw, birth=PartialDate(1990), sex="M")
            assert_no_personal_data(issues, raw, raw[:6], raw[-4:])

    @given(st.sampled_from(["cccd", "cmnd", "passport", "none", "x"]), st.text(max_size=30))
    def test_never_raises(self, kind: str, raw: str) -> None:
        value, issues = check_id_number(kind, raw)
        assert (value is None) or not errors(issues)


class TestIdTail:
    def test_examples(self) -> None:
        assert id_tail("075085001234") == "…1234"
        assert id_tail("075085001234", 3) == "…234"
        assert id_tail(None) == ""
        assert id_tail("") == ""
        assert id_tail("075085001234", 0) == "…"


# --------------------------------------------------------------------------
# Sex
# --------------------------------------------------------------------------


class TestCheckSex:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            ("M", "M"),
            ("m", "M"),
            ("Nam", "M"),
            ("NAM", "M"),
            (" nam ", "M"),
            ("male", "M"),
            ("MALE", "M"),
            ("F", "F"),
            ("f", "F"),
            ("Nữ", "F"),
            ("NỮ", "F"),
            ("nữ", "F"),
            (unicodedata.normalize("NFD", "Nữ"), "F"),
            ("Nu", "F"),
            ("Female", "F"),
        ],
    )
    def test_accepts(self, raw: str, expected: str) -> None:
        assert check_sex(raw) == (expected, [])

    @pytest.mark.parametrize("raw", ["x", "nam nữ", "Мужской", "男", HUGE, *INJECTIONS])
    def test_invalid(self, raw: str) -> None:
        value, issues = check_sex(raw)
        assert value is None
        assert codes(issues) == ["sex.invalid"]
        assert_no_personal_data(issues, raw)

    @pytest.mark.parametrize("raw", [None, "", "  "])
    def test_required(self, raw: str | None) -> None:
        assert check_sex(raw, field="gender") == (None, [FieldIssue("gender", "sex.required")])


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------


def pd(raw: str | None, **kw: object) -> tuple[PartialDate | None, list[str]]:
    value, issues = parse_date(raw, field="birth", today=TODAY, **kw)  # type: ignore[arg-type]
    assert all(i.field == "birth" for i in issues)
    return value, codes(issues)


class TestParseDate:
    @pytest.mark.parametrize(
        "raw",
        [
            "07/03/1985",
            "7/3/1985",
            "07-03-1985",
            "07.03.1985",
            "07031985",
            "1985-03-07",
            " 07/03/1985 ",
            "07 / 03 / 1985",
        ],
    )
    def test_formats(self, raw: str) -> None:
        assert pd(raw) == (PartialDate(1985, 3, 7), [])

    def test_leap_day(self) -> None:
        assert pd("29/02/2000") == (PartialDate(2000, 2, 29), [])

    def test_year_only(self) -> None:
        assert pd("1985", allow_year_only=True) == (PartialDate(1985), [])
        assert pd("1985") == (None, ["date.format"])

    @pytest.mark.parametrize(
        "raw", ["31/02/2000", "29/02/2001", "13/13/2000", "00/01/2000", "31/04/2000", "2000-02-30"]
    )
    def test_impossible(self, raw: str) -> None:
        assert pd(raw) == (None, ["date.impossible"])

    @pytest.mark.parametrize(
        "raw",
        [
            "07/03/85",  # two-digit year
            "7/3/85",
            "070385",
            "07/03-1985",  # mixed separators
            "1985/03/07",
            "March 7 1985",
            "07/03/1985 10:00",
            "٠٧/٠٣/١٩٨٥",
            HUGE,
            *INJECTIONS,
        ],
    )
    def test_format(self, raw: str) -> None:
        assert pd(raw) == (None, ["date.format"])

    def test_required(self) -> None:
        assert pd(None) == (None, ["date.required"])
        assert pd("   ") == (None, ["date.required"])
        assert pd("", required=False) == (None, [])

    def test_future(self) -> None:
        assert pd("16/09/2021") == (None, ["date.future"])
        assert pd("15/09/2021") == (PartialDate(2021, 9, 15), [])
        assert pd("2022", allow_year_only=True) == (None, ["date.future"])
        assert pd("2021", allow_year_only=True) == (PartialDate(2021), [])
        assert pd("01/01/2030", allow_future=True) == (PartialDate(2030, 1, 1), [])

    def test_too_old(self) -> None:
        value, issues = parse_date("31/12/1899", field="birth", today=TODAY)
        assert value is None
        assert issues == [FieldIssue("birth", "date.too_old", {"min_year": 1900})]
        assert pd("01/01/1899", min_year=1800) == (PartialDate(1899, 1, 1), [])
        assert pd("2020", allow_year_only=True, min_year=2021) == (None, ["date.too_old"])

    @given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY))
    def test_display_roundtrip(self, d: date) -> None:
        assert pd(d.strftime("%d/%m/%Y")) == (PartialDate(d.year, d.month, d.day), [])
        assert pd(d.isoformat()) == (PartialDate(d.year, d.month, d.day), [])

    @given(st.text(max_size=40))
    def test_never_raises(self, raw: str) -> None:
        value, issues = parse_date(raw, field="d", today=TODAY, allow_year_only=True)
        assert (value is None) == bool(issues)


# --------------------------------------------------------------------------
# CCCD QR
# --------------------------------------------------------------------------

QR_OK = "075085001234|271234567|Nguyễn Văn An|07031985|Nam|Phường Tân Phong, Biên Hòa, Đồng Nai|01022021"
QR_NO_CMND = "075185001234||Trần Thị Bích|15061985|Nữ|Xã An Phước, Long Thành, Đồng Nai|10032021"


class TestParseCccdQr:
    def test_ok(self) -> None:
        qr, issues = parse_cccd_qr(QR_OK)
        assert issues == []
        assert qr == CccdQr(
            id_number="075085001234",
            old_id_number="271234567",
            full_name="Nguyễn Văn An",
            birth=PartialDate(1985, 3, 7),
            sex="M",
            address="Phường Tân Phong, Biên Hòa, Đồng Nai",
            issue_date=date(2021, 2, 1),
            extra=(),
        )

    def test_no_old_cmnd(self) -> None:
        qr, issues = parse_cccd_qr(QR_NO_CMND)
        assert issues == []
        assert qr is not None
        assert qr.old_id_number is None
        assert qr.sex == "F"
        assert qr.full_name == "Trần Thị Bích"

    def test_eight_fields(self) -> None:
        qr, issues = parse_cccd_qr(QR_OK + "|01022046")
        assert issues == []
        assert qr is not None and qr.extra == ("01022046",)
        qr, _ = parse_cccd_qr(QR_OK + "|a||b")
        assert qr is not None and qr.extra == ("a", "", "b")

    @pytest.mark.parametrize(
        "payload",
        [
            QR_OK + "\r\n",
            QR_OK + "\n",
            "\ufeff" + QR_OK,
            "\ufeff\ufeff\r\n\t" + QR_OK + "\t\r\n",
            QR_OK.replace("Nguyễn", "Nguy\r\nễn"),
            unicodedata.normalize("NFD", QR_OK),
        ],
    )
    def test_scanner_junk(self, payload: str) -> None:
        qr, issues = parse_cccd_qr(payload)
        assert issues == []
        assert qr is not None and qr.full_name == "Nguyễn Văn An"
        assert qr.issue_date == date(2021, 2, 1)

    @pytest.mark.parametrize("transform", [str.upper, str.lower, str.title])
    def test_any_case(self, transform: object) -> None:
        qr, issues = parse_cccd_qr(transform(QR_OK))  # type: ignore[operator]
        assert not errors(issues)
        assert qr is not None
        assert qr.full_name == "Nguyễn Văn An"
        assert qr.sex == "M"

    @pytest.mark.parametrize(
        ("word", "sex"), [("NỮ", "F"), ("nữ", "F"), ("Nu", "F"), ("NAM", "M"), ("nam", "M")]
    )
    def test_sex_spellings(self, word: str, sex: str) -> None:
        parts = QR_NO_CMND.split("|")
        parts[4] = word
        qr, _ = parse_cccd_qr("|".join(parts))
        assert qr is not None and qr.sex == sex

    @pytest.mark.parametrize(
        "payload", ["", "abc", "075085001234||Nguyễn Văn An|07031985|Nam|Địa chỉ", "|||||"]
    )
    def test_too_few_fields(self, payload: str) -> None:
        qr, issues = parse_cccd_qr(payload)
        assert qr is None
        assert codes(issues) == ["qr.too_few_fields"]
        assert issues[0].field == "qr"
        assert issues[0].params == {"count": len(payload.split("|"))}

    def _with(self, index: int, value: str) -> tuple[CccdQr | None, list[FieldIssue]]:
        parts = QR_OK.split("|")
        parts[index] = value
        return parse_cccd_qr("|".join(parts))

    @pytest.mark.parametrize(
        "bad", ["", "07508500123", "0750850012345", "07508500123X", "271234567"]
    )
    def test_bad_id(self, bad: str) -> None:
        qr, issues = self._with(0, bad)
        assert qr is None
        assert errors(issues) == ["qr.bad_id"]

    @pytest.mark.parametrize("bad", ["12345", "27123456X", "2712345678"])
    def test_bad_old_id_warns(self, bad: str) -> None:
        qr, issues = self._with(1, bad)
        assert qr is not None and qr.old_id_number is None
        assert warnings(issues) == ["qr.bad_old_id"]

    def test_old_id_12_digits_tolerated(self) -> None:
        qr, issues = self._with(1, "271234567890")
        assert issues == []
        assert qr is not None and qr.old_id_number == "271234567890"

    @pytest.mark.parametrize("bad", ["", "A", "Иван Петров", "<script>alert(1)</script>"])
    def test_bad_name(self, bad: str) -> None:
        qr, issues = self._with(2, bad)
        assert qr is None
        assert errors(issues) == ["qr.bad_name"]

    def test_birth_year_only(self) -> None:
        qr, issues = self._with(3, "1985")
        assert issues == []
        assert qr is not None and qr.birth == PartialDate(1985)

    @pytest.mark.parametrize(
        "bad", ["070385", "31021985", "29022001", "13131985", "", "0703198", "07/03/1985", "0000"]
    )
    def test_bad_birth(self, bad: str) -> None:
        qr, issues = self._with(3, bad)
        assert qr is None
        assert errors(issues) == ["qr.bad_birth"]

    @pytest.mark.parametrize("bad", ["", "M", "Male", "X", "Nam Nữ"])
    def test_bad_sex(self, bad: str) -> None:
        qr, issues = self._with(4, bad)
        assert qr is None
        assert errors(issues) == ["qr.bad_sex"]

    def test_issue_date_empty(self) -> None:
        qr, issues = self._with(6, "")
        assert issues == []
        assert qr is not None and qr.issue_date is None

    @pytest.mark.parametrize("bad", ["31022021", "010221", "x"])
    def test_bad_issue_date_warns(self, bad: str) -> None:
        qr, issues = self._with(6, bad)
        assert qr is not None and qr.issue_date is None
        assert warnings(issues) == ["qr.bad_issue_date"]

    def test_id_cross_check_warnings(self) -> None:
        parts = QR_OK.split("|")
        parts[4] = "Nữ"
        parts[3] = "07031986"
        qr, issues = parse_cccd_qr("|".join(parts))
        assert qr is not None
        assert sorted(warnings(issues)) == ["id.birth_year_mismatch", "id.sex_mismatch"]
        assert all(i.field == "qr" and i.severity == "warning" for i in issues)

    def test_several_errors_reported_together(self) -> None:
        qr, issues = parse_cccd_qr("x||?|xx|?|addr|")
        assert qr is None
        assert set(errors(issues)) == {"qr.bad_id", "qr.bad_name", "qr.bad_birth", "qr.bad_sex"}

    def test_issues_never_hold_personal_data(self) -> None:
        payload = "07508500123|27123|Иван|07031985|Nam|Biên Hòa|31022021"
        _, issues = parse_cccd_qr(payload)
        assert_no_personal_data(issues, "07508500123", "27123", "Иван", "07031985", "Biên Hòa")

    def test_huge_payload(self) -> None:
        qr, issues = parse_cccd_qr(QR_OK + "|" + HUGE)
        assert qr is None
        assert codes(issues) == ["qr.too_long"]

    @given(st.text())
    def test_never_raises(self, payload: str) -> None:
        qr, issues = parse_cccd_qr(payload)
        assert (qr is None) == bool(errors(issues))

    @settings(max_examples=200)
    @given(st.lists(st.text(max_size=15), min_size=0, max_size=10).map("|".join))
    def test_never_raises_pipe_shaped(self, payload: str) -> None:
        qr, issues = parse_cccd_qr(payload)
        assert (qr is None) == bool(errors(issues))
