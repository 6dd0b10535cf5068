"""Vietnamese ID numbers: CCCD (12 digits: province, century and sex, birth year), CMND, passport.

Part of :mod:`kernel.rules.vietnam` (import from there); facts from vietnam.md §1 and §4.
"""

from __future__ import annotations

import re
import unicodedata

from kernel.errors import FieldIssue
from kernel.rules.vn_dates import PartialDate

# --------------------------------------------------------------------------
# ID numbers
# --------------------------------------------------------------------------

_PROVINCES_2021: list[tuple[str, str, str]] = [
    ("001", "Hà Nội", "01"),
    ("002", "Hà Giang", "08"),
    ("004", "Cao Bằng", "04"),
    ("006", "Bắc Kạn", "19"),
    ("008", "Tuyên Quang", "08"),
    ("010", "Lào Cai", "15"),
    ("011", "Điện Biên", "11"),
    ("012", "Lai Châu", "12"),
    ("014", "Sơn La", "14"),
    ("015", "Yên Bái", "15"),
    ("017", "Hòa Bình", "25"),
    ("019", "Thái Nguyên", "19"),
    ("020", "Lạng Sơn", "20"),
    ("022", "Quảng Ninh", "22"),
    ("024", "Bắc Giang", "24"),
    ("025", "Phú Thọ", "25"),
    ("026", "Vĩnh Phúc", "25"),
    ("027", "Bắc Ninh", "24"),
    ("030", "Hải Dương", "31"),
    ("031", "Hải Phòng", "31"),
    ("033", "Hưng Yên", "33"),
    ("034", "Thái Bình", "33"),
    ("035", "Hà Nam", "37"),
    ("036", "Nam Định", "37"),
    ("037", "Ninh Bình", "37"),
    ("038", "Thanh Hóa", "38"),
    ("040", "Nghệ An", "40"),
    ("042", "Hà Tĩnh", "42"),
    ("044", "Quảng Bình", "44"),
    ("045", "Quảng Trị", "44"),
    ("046", "Thừa Thiên Huế", "46"),
    ("048", "Đà Nẵng", "48"),
    ("049", "Quảng Nam", "48"),
    ("051", "Quảng Ngãi", "51"),
    ("052", "Bình Định", "52"),
    ("054", "Phú Yên", "66"),
    ("056", "Khánh Hòa", "56"),
    ("058", "Ninh Thuận", "56"),
    ("060", "Bình Thuận", "68"),
    ("062", "Kon Tum", "51"),
    ("064", "Gia Lai", "52"),
    ("066", "Đắk Lắk", "66"),
    ("067", "Đắk Nông", "68"),
    ("068", "Lâm Đồng", "68"),
    ("070", "Bình Phước", "75"),
    ("072", "Tây Ninh", "80"),
    ("074", "Bình Dương", "79"),
    ("075", "Đồng Nai", "75"),
    ("077", "Bà Rịa - Vũng Tàu", "79"),
    ("079", "Hồ Chí Minh", "79"),
    ("080", "Long An", "80"),
    # The package also lists 80 for Tiền Giang; 82 is its main successor.
    ("082", "Tiền Giang", "82"),
    ("083", "Bến Tre", "86"),
    ("084", "Trà Vinh", "86"),
    ("086", "Vĩnh Long", "86"),
    ("087", "Đồng Tháp", "82"),
    ("089", "An Giang", "91"),
    ("091", "Kiên Giang", "91"),
    ("092", "Cần Thơ", "92"),
    ("093", "Hậu Giang", "92"),
    ("094", "Sóc Trăng", "92"),
    ("095", "Bạc Liêu", "96"),
    ("096", "Cà Mau", "96"),
]

#: Birth-registration province codes (digits 1-3 of the ID) -> pre-2025 name.
PROVINCE_CODES_2021: dict[str, str] = {
    code: unicodedata.normalize("NFC", name) for code, name, _ in _PROVINCES_2021
}
#: Pre-2025 3-digit code -> 2-digit code of the post-merger (2025) province.
PROVINCE_CODE_TO_2025: dict[str, str] = {code: new for code, _, new in _PROVINCES_2021}

ID_TYPES = frozenset({"cccd", "cmnd", "passport", "none"})
CCCD_RE = re.compile(r"[0-9]{12}")
CMND_RE = re.compile(r"[0-9]{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{6,12}")
_ANY_DIGIT = re.compile(r"[0-9]")


def cccd_facts(number: str) -> tuple[str, int, str] | None:
    """(province code, birth year, "M"/"F") encoded in a 12-digit ID, else None."""
    if not isinstance(number, str) or not CCCD_RE.fullmatch(number):
        return None
    century_sex = int(number[3])
    year = (century_sex // 2 + 19) * 100 + int(number[4:6])
    return number[:3], year, ("F" if century_sex % 2 == 1 else "M")


def check_id_number(
    id_type: str,
    raw: str | None,
    *,
    birth: PartialDate | None = None,
    sex: str | None = None,
    field: str = "id_number",
) -> tuple[str | None, list[FieldIssue]]:
    """Validate an ID number of the given type; cross-check a CCCD.

    CCCD cross-checks against ``birth`` and ``sex`` only warn: the ID has no
    check digit and either side may hold the typo.
    """
    kind = id_type.strip().lower() if isinstance(id_type, str) else ""
    if kind not in ID_TYPES:
        return None, [FieldIssue("id_type", "id_type.invalid", {"allowed": sorted(ID_TYPES)})]
    empty = raw is None or not raw.strip()
    if kind == "none":
        if empty:
            return None, []
        return None, [FieldIssue(field, "id.not_expected")]
    if empty or raw is None:
        return None, [FieldIssue(field, "id.required")]
    compact = "".join(raw.split())
    if kind == "cmnd":
        # Old 9-digit cards, and the 12-digit CMND issued 2012-2016, which shares the
        # CCCD number's structure (vietnam.md §1.3) and gets the same cross-checks.
        if CMND_RE.fullmatch(compact):
            return compact, []
        if not CCCD_RE.fullmatch(compact):
            return None, [FieldIssue(field, "id.cmnd_format", {"length": len(compact)})]
    if kind == "passport":
        number = compact.upper()
        if not (_PASSPORT.fullmatch(number) and _ANY_DIGIT.search(number)):
            return None, [FieldIssue(field, "id.passport_format", {"length": len(number)})]
        return number, []
    facts = cccd_facts(compact)
    if facts is None:
        return None, [FieldIssue(field, "id.cccd_format", {"length": len(compact)})]
    province, id_year, id_sex = facts
    warnings: list[FieldIssue] = []
    # No params on these: they would disclose digits of the ID or the birth year.
    if province not in PROVINCE_CODES_2021:
        warnings.append(FieldIssue(field, "id.province_unknown", severity="warning"))
    if birth is not None:
        if birth.year // 100 != id_year // 100:
            warnings.append(FieldIssue(field, "id.century_mismatch", severity="warning"))
        elif birth.year != id_year:
            warnings.append(FieldIssue(field, "id.birth_year_mismatch", severity="warning"))
    if sex in ("M", "F") and sex != id_sex:
        warnings.append(FieldIssue(field, "id.sex_mismatch", severity="warning"))
    return compact, warnings


def id_tail(number: str | None, n: int = 4) -> str:
    """``"…8901"``: an ellipsis and the last ``n`` characters; ``""`` for None."""
    if not number:
        return ""
    if n <= 0:
        return "…"
    return "…" + number[-n:]
