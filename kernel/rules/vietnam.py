"""Vietnam-specific input rules: names, phones, ID numbers, dates, the CCCD QR.

Pure functions, standard library only. Each ``check_*`` / ``parse_*`` function
returns ``(value_or_None, issues)``; issues with severity ``"error"`` mean the
value was refused (the value is then ``None``), ``"warning"`` issues are for
the user to confirm. Issue params never carry personal data (names, numbers,
dates), only lengths, limits and similar non-identifying details.

Facts come from the shared domain note ``vietnam.md`` sections 1 and 4.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from kernel.errors import FieldIssue

__all__ = [
    "LEGACY_MOBILE_PREFIXES",
    "MOBILE_PREFIXES",
    "NAME_MAX_LENGTH",
    "PROVINCE_CODES_2021",
    "PROVINCE_CODE_TO_2025",
    "CccdQr",
    "PartialDate",
    "cccd_facts",
    "check_full_name",
    "check_id_number",
    "check_phone",
    "check_sex",
    "clean_name",
    "fold",
    "fold_tokens",
    "given_name_sort_key",
    "id_tail",
    "mask_phone",
    "parse_cccd_qr",
    "parse_date",
]

# --------------------------------------------------------------------------
# Partial dates
# --------------------------------------------------------------------------

_ISO_PARTIAL = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A calendar date of which only the year may be known (birth dates).

    ``month`` may be set without ``day``; ``day`` requires ``month``. The
    constructor refuses impossible dates with ``ValueError``.
    """

    year: int
    month: int | None = None
    day: int | None = None

    def __post_init__(self) -> None:
        # Messages name the rule only, never the values: a birth date is personal.
        if not 1 <= self.year <= 9999:
            raise ValueError("partial date: year out of range")
        if self.month is None:
            if self.day is not None:
                raise ValueError("partial date: day without month")
            return
        if not 1 <= self.month <= 12:
            raise ValueError("partial date: month out of range")
        if self.day is not None:
            try:
                date(self.year, self.month, self.day)
            except ValueError:
                raise ValueError("partial date: impossible day") from None

    def iso(self) -> str:
        """``"1985-03-07"``, ``"1985-03"`` or ``"1985"``."""
        out = f"{self.year:04d}"
        if self.month is not None:
            out += f"-{self.month:02d}"
            if self.day is not None:
                out += f"-{self.day:02d}"
        return out

    @classmethod
    def from_iso(cls, s: str) -> PartialDate:
        """Inverse of :meth:`iso`; ``ValueError`` on anything else."""
        m = _ISO_PARTIAL.fullmatch(s) if isinstance(s, str) else None
        if m is None:
            raise ValueError("partial date: not an ISO year, year-month or date")
        year, month, day = m.groups()
        return cls(
            int(year),
            None if month is None else int(month),
            None if day is None else int(day),
        )

    def display(self) -> str:
        """Vietnamese order: ``"07/03/1985"``, ``"03/1985"`` or ``"1985"``."""
        if self.month is None:
            return f"{self.year:04d}"
        if self.day is None:
            return f"{self.month:02d}/{self.year:04d}"
        return f"{self.day:02d}/{self.month:02d}/{self.year:04d}"

    def as_date(self) -> date | None:
        """The full date, or ``None`` when the day or month is unknown."""
        if self.month is None or self.day is None:
            return None
        return date(self.year, self.month, self.day)


# --------------------------------------------------------------------------
# Text folding and names
# --------------------------------------------------------------------------

# đ/Đ have no canonical decomposition, so NFD cannot strip them; Ð (Eth,
# lowercased to ð) is a look-alike found in mistyped data.
_D_MAP = str.maketrans({"đ": "d", "Đ": "d", "Ð": "d", "ð": "d"})
_APOSTROPHES = "'’ʼ‘"
_HYPHENS = "-‐‑‒–—"
_FOLD_PUNCT = str.maketrans(dict.fromkeys(_APOSTROPHES + _HYPHENS + ".,", " "))


class _StripMarks(dict[int, str | None]):
    """``str.translate`` table dropping combining marks (category Mn), filled as seen."""

    def __missing__(self, code: int) -> str | None:
        ch = chr(code)
        out = None if unicodedata.category(ch) == "Mn" else ch
        self[code] = out
        return out


_STRIP_MARKS = _StripMarks()


def fold(text: str) -> str:
    """Search form: lowercase ASCII-ish text without diacritics.

    ``"Nguyễn Thị Đào"`` -> ``"nguyen thi dao"``; old and new tone placement
    (``"Hoà"`` / ``"Hòa"``) fold to the same string.
    """
    s = unicodedata.normalize("NFD", unicodedata.normalize("NFC", text).lower())
    s = unicodedata.normalize("NFC", s.translate(_STRIP_MARKS).translate(_D_MAP))
    return " ".join(s.translate(_FOLD_PUNCT).split())


def fold_tokens(text: str) -> list[str]:
    """``fold(text).split()``: the tokens a name index stores."""
    return fold(text).split()


# Characters after which the next letter starts a new capitalised segment:
# "H'Hen Niê", "Y-Moan" (Tây Nguyên names) keep their inner capitals.
_SEGMENT_BREAKS = frozenset(" " + _APOSTROPHES + _HYPHENS + ".")


def _upper1(ch: str) -> str:
    # Only 1:1 case mappings, so that folding the result equals folding the
    # input ("ß".upper() is "SS", which would change the search form).
    up = ch.upper()
    return up if len(up) == 1 and up.lower() == ch.lower() else ch


def _lower1(ch: str) -> str:
    low = ch.lower()
    return low if len(low) == 1 else ch


def clean_name(raw: str) -> str:
    """Display form of a full name: ``"NGUYỄN văn  AN"`` -> ``"Nguyễn Văn An"``.

    NFC, trimmed, inner whitespace collapsed to one space, each syllable
    capitalised; diacritics are kept.
    """
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    out: list[str] = []
    at_start = True
    for ch in text:
        if ch.isalpha():
            out.append(_upper1(ch) if at_start else _lower1(ch))
            at_start = False
        else:
            out.append(ch)
            if ch in _SEGMENT_BREAKS:
                at_start = True
    return unicodedata.normalize("NFC", "".join(out))


NAME_MAX_LENGTH = 100
_NAME_PUNCT = frozenset(_APOSTROPHES + _HYPHENS + ".")


def _is_latin_letter(ch: str) -> bool:
    # Script test by Unicode name: the stdlib has no script property. The
    # category check keeps out symbols such as U+271D "LATIN CROSS".
    return unicodedata.category(ch).startswith("L") and unicodedata.name(ch, "").startswith(
        "LATIN "
    )


def _name_char_ok(ch: str) -> bool:
    if ch == " " or ch in _NAME_PUNCT or _is_latin_letter(ch):
        return True
    # Non-breaking and other spaces arrive from copy-paste; harmless.
    if unicodedata.category(ch) == "Zs":
        return True
    # Combining diacritics survive NFC when no precomposed letter exists.
    return "\u0300" <= ch <= "\u036f"


def check_full_name(
    raw: str | None, *, field: str = "full_name"
) -> tuple[str | None, list[FieldIssue]]:
    """Validate a full name; return its :func:`clean_name` form when valid."""
    if raw is None or not raw.strip():
        return None, [FieldIssue(field, "name.required")]
    stripped = unicodedata.normalize("NFC", raw).strip()
    cleaned = clean_name(stripped)
    issues: list[FieldIssue] = []
    if len(cleaned) > NAME_MAX_LENGTH:
        issues.append(FieldIssue(field, "name.too_long", {"max": NAME_MAX_LENGTH}))
    # Checked on the uncollapsed text so that tabs/newlines inside the name
    # count as control characters rather than vanishing into spaces.
    bad = sum(1 for ch in stripped if not _name_char_ok(ch))
    if bad:
        # Only the count: echoing the characters could leak the name.
        issues.append(FieldIssue(field, "name.invalid_chars", {"count": bad}))
    elif sum(1 for ch in stripped if _is_latin_letter(ch)) < 2:
        issues.append(FieldIssue(field, "name.too_short", {"min": 2}))
    if issues:
        return None, issues
    return cleaned, []


def given_name_sort_key(full_name: str) -> tuple[str, str, str]:
    """Vietnamese list order: (given, middle names, family), all folded.

    A one-token name sorts as a given name with empty middle and family.
    """
    tokens = fold_tokens(full_name)
    if not tokens:
        return ("", "", "")
    if len(tokens) == 1:
        return (tokens[0], "", "")
    return (tokens[-1], " ".join(tokens[1:-1]), tokens[0])


# --------------------------------------------------------------------------
# Phones
# --------------------------------------------------------------------------

# 10-digit mobile prefixes -> the carrier they were allocated to. Portability
# means this is NOT the subscriber's current carrier; it only tells a plausible
# prefix from a typo (unknown prefixes warn, they are not refused).
MOBILE_PREFIXES: dict[str, str] = {
    **dict.fromkeys(["086", "096", "097", "098"], "Viettel"),
    **{f"03{d}": "Viettel" for d in range(2, 10)},
    **dict.fromkeys(["088", "091", "094", "081", "082", "083", "084", "085"], "VinaPhone"),
    **dict.fromkeys(["089", "090", "093", "070", "076", "077", "078", "079"], "MobiFone"),
    **dict.fromkeys(["092", "056", "058", "052"], "Vietnamobile"),
    **dict.fromkeys(["099", "059"], "Gmobile"),
    "087": "Itelecom",
    "055": "Reddi",
}

# 11-digit -> 10-digit conversion of 2018-2019 (vietnam.md §1.5).
LEGACY_MOBILE_PREFIXES: dict[str, str] = {
    **{f"016{d}": f"03{d}" for d in range(2, 10)},
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}

PHONE_MAX_INPUT = 20
_PHONE_SEPARATORS = re.compile(r"[\s.()" + re.escape(_HYPHENS) + r"]")
_DIGITS = re.compile(r"[0-9]+")
_MOBILE = re.compile(r"0[35789][0-9]{8}")


def check_phone(
    raw: str | None, *, field: str = "phone", required: bool = False
) -> tuple[str | None, list[FieldIssue]]:
    """Normalise a Vietnamese phone number: a mobile to 10 digits starting with 0.

    A landline (02x + 8 digits) is kept with the warning ``phone.landline``: it is
    a real way to reach the person, it only cannot receive an SMS.
    """
    if raw is None or not raw.strip():
        return None, ([FieldIssue(field, "phone.required")] if required else [])
    if len(raw) > PHONE_MAX_INPUT:
        return None, [FieldIssue(field, "phone.too_long", {"max": PHONE_MAX_INPUT})]
    invalid = [FieldIssue(field, "phone.invalid")]
    compact = _PHONE_SEPARATORS.sub("", raw)
    if compact.startswith("+"):
        if not compact.startswith("+84"):
            return None, invalid  # foreign numbers cannot receive the SMS
        rest = compact[3:]
        # "+84 0912…" keeps the trunk zero by mistake; drop it.
        digits = "0" + (rest[1:] if rest.startswith("0") else rest)
    else:
        digits = compact
        # Country code without "+": 84 + 9 digits (mobile) or + 10 digits
        # (legacy mobile or landline). Domestic numbers always start with 0.
        if digits.startswith("84") and len(digits) in (11, 12):
            digits = "0" + digits[2:]
    if not _DIGITS.fullmatch(digits):
        return None, invalid
    issues: list[FieldIssue] = []
    if len(digits) == 11 and digits.startswith("01"):
        new_prefix = LEGACY_MOBILE_PREFIXES.get(digits[:4])
        if new_prefix is None:
            return None, invalid
        issues.append(
            FieldIssue(
                field,
                "phone.legacy_converted",
                {"from": digits[:4], "to": new_prefix},
                severity="warning",
            )
        )
        digits = new_prefix + digits[4:]
    elif digits.startswith("02"):
        # Landlines are 02x + 8 digits (11 in all since the 2017 area-code change).
        # Some people have no mobile: keep the number, warn that it takes no SMS.
        if len(digits) != 11:
            return None, invalid
        return digits, [FieldIssue(field, "phone.landline", severity="warning")]
    if not _MOBILE.fullmatch(digits):
        return None, invalid
    if digits[:3] not in MOBILE_PREFIXES:
        issues.append(
            FieldIssue(field, "phone.unknown_prefix", {"prefix": digits[:3]}, severity="warning")
        )
    return digits, issues


def mask_phone(phone: str | None) -> str:
    """``"••••••• 123"``: all but the last 3 digits hidden; ``""`` for None."""
    if not phone:
        return ""
    digits = "".join(ch for ch in phone if "0" <= ch <= "9")
    if len(digits) <= 3:
        return "•" * len(digits)
    return "•" * (len(digits) - 3) + " " + digits[-3:]


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
_CCCD = re.compile(r"[0-9]{12}")
_CMND = re.compile(r"[0-9]{9}")
_PASSPORT = re.compile(r"[A-Z0-9]{6,12}")
_ANY_DIGIT = re.compile(r"[0-9]")


def cccd_facts(number: str) -> tuple[str, int, str] | None:
    """(province code, birth year, "M"/"F") encoded in a 12-digit ID, else None."""
    if not isinstance(number, str) or not _CCCD.fullmatch(number):
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
        if _CMND.fullmatch(compact):
            return compact, []
        if not _CCCD.fullmatch(compact):
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


# --------------------------------------------------------------------------
# Sex
# --------------------------------------------------------------------------

_SEX_WORDS: dict[str, str] = {
    "m": "M",
    "nam": "M",
    "male": "M",
    "f": "F",
    "nu": "F",  # "Nữ" folds to "nu"; the unaccented spelling is also common
    "female": "F",
}


def check_sex(raw: str | None, *, field: str = "sex") -> tuple[str | None, list[FieldIssue]]:
    """``"Nam"``/``"Nữ"``/``"M"``/``"F"``/``"male"``/``"female"`` -> ``"M"``/``"F"``."""
    if raw is None or not raw.strip():
        return None, [FieldIssue(field, "sex.required")]
    value = _SEX_WORDS.get(fold(raw))
    if value is None:
        return None, [FieldIssue(field, "sex.invalid", {"allowed": ["M", "F"]})]
    return value, []


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

_DMY = re.compile(r"([0-9]{1,2})\s*([/.\-])\s*([0-9]{1,2})\s*\2\s*([0-9]{4})")
_YMD = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DMY8 = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")
_YEAR = re.compile(r"[0-9]{4}")


def _split_date(text: str, allow_year_only: bool) -> tuple[int, int | None, int | None] | None:
    if m := _DMY.fullmatch(text):
        return int(m[4]), int(m[3]), int(m[1])
    if m := _YMD.fullmatch(text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _DMY8.fullmatch(text):
        return int(m[3]), int(m[2]), int(m[1])
    if allow_year_only and _YEAR.fullmatch(text):
        return int(text), None, None
    return None


def parse_date(
    raw: str | None,
    *,
    field: str,
    today: date,
    allow_year_only: bool = False,
    min_year: int = 1900,
    allow_future: bool = False,
    required: bool = True,
) -> tuple[PartialDate | None, list[FieldIssue]]:
    """Parse a Vietnamese-order date (day first) or ISO date.

    Two-digit years are refused: "85" cannot tell 1885 from 1985 reliably.
    """
    if raw is None or not raw.strip():
        return None, ([FieldIssue(field, "date.required")] if required else [])
    text = raw.strip()
    parts = _split_date(text, allow_year_only) if len(text) <= 40 else None
    if parts is None:
        return None, [FieldIssue(field, "date.format")]
    year, month, day = parts
    if year < min_year:
        return None, [FieldIssue(field, "date.too_old", {"min_year": min_year})]
    try:
        value = PartialDate(year, month, day)
    except ValueError:
        return None, [FieldIssue(field, "date.impossible")]
    full = value.as_date()
    is_future = full > today if full is not None else value.year > today.year
    if is_future and not allow_future:
        return None, [FieldIssue(field, "date.future")]
    return value, []


# --------------------------------------------------------------------------
# CCCD QR
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CccdQr:
    """The fields of a chip-based CCCD QR (2021 layout), cleaned."""

    id_number: str
    old_id_number: str | None
    full_name: str
    birth: PartialDate
    sex: str  # "M" / "F"
    address: str
    issue_date: date | None
    extra: tuple[str, ...]


QR_MAX_LENGTH = 4000  # a real payload is ~200 chars; refuse garbage early
_QR_FIELDS = 7
_QR_END_JUNK = "\ufeff\r\n\t "


def _qr_date(text: str) -> date | None:
    m = _DMY8.fullmatch(text)
    if m is None:
        return None
    try:
        return date(int(m[3]), int(m[2]), int(m[1]))
    except ValueError:
        return None


def parse_cccd_qr(payload: str) -> tuple[CccdQr | None, list[FieldIssue]]:
    """Parse the ``|``-separated QR text of a CCCD; every issue uses field ``"qr"``.

    Extra trailing fields (newer cards, expiry) are kept in ``extra`` and not
    interpreted. Never raises on any string.
    """
    f = "qr"
    if not isinstance(payload, str):
        return None, [FieldIssue(f, "qr.too_few_fields", {"count": 0})]
    if len(payload) > QR_MAX_LENGTH:
        return None, [FieldIssue(f, "qr.too_long", {"max": QR_MAX_LENGTH})]
    # Scanners in keyboard mode add BOMs, CR/LF and tabs; some emit NFD text.
    text = payload.strip(_QR_END_JUNK).replace("\ufeff", "")
    text = unicodedata.normalize("NFC", text.replace("\r", "").replace("\n", ""))
    parts = text.split("|")
    if len(parts) < _QR_FIELDS:
        return None, [FieldIssue(f, "qr.too_few_fields", {"count": len(parts)})]
    id_raw, old_raw, name_raw, birth_raw, sex_raw, address_raw, issued_raw = (
        p.strip() for p in parts[:_QR_FIELDS]
    )
    errors: list[FieldIssue] = []
    warnings: list[FieldIssue] = []

    if not _CCCD.fullmatch(id_raw):
        errors.append(FieldIssue(f, "qr.bad_id", {"length": len(id_raw)}))

    old_id: str | None = None
    if old_raw:
        if _CMND.fullmatch(old_raw) or _CCCD.fullmatch(old_raw):
            old_id = old_raw
        else:
            warnings.append(FieldIssue(f, "qr.bad_old_id", severity="warning"))

    name, name_issues = check_full_name(name_raw, field=f)
    if name is None:
        reason = name_issues[0].code if name_issues else "name.required"
        errors.append(FieldIssue(f, "qr.bad_name", {"reason": reason}))

    birth: PartialDate | None = None
    if _YEAR.fullmatch(birth_raw):
        year = int(birth_raw)
        birth = PartialDate(year) if year >= 1 else None
    else:
        # Six digits (DDMMYY) are refused: the century would be a guess.
        born = _qr_date(birth_raw)
        birth = None if born is None else PartialDate(born.year, born.month, born.day)
    if birth is None:
        errors.append(FieldIssue(f, "qr.bad_birth"))

    sex = {"nam": "M", "nu": "F"}.get(fold(sex_raw))
    if sex is None:
        errors.append(FieldIssue(f, "qr.bad_sex"))

    issue_date: date | None = None
    if issued_raw:
        issue_date = _qr_date(issued_raw)
        if issue_date is None:
            warnings.append(FieldIssue(f, "qr.bad_issue_date", severity="warning"))

    if errors or name is None or birth is None or sex is None:
        return None, errors + warnings
    _, id_issues = check_id_number("cccd", id_raw, birth=birth, sex=sex, field=f)
    warnings.extend(i for i in id_issues if not i.is_error)
    qr = CccdQr(
        id_number=id_raw,
        old_id_number=old_id,
        full_name=name,
        birth=birth,
        sex=sex,
        address=" ".join(address_raw.split()),
        issue_date=issue_date,
        extra=tuple(parts[_QR_FIELDS:]),
    )
    return qr, warnings
