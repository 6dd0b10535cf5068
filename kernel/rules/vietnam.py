"""Vietnam-specific input rules: names, phones, ID numbers, dates, the CCCD QR.

Pure functions, standard library only. Each ``check_*`` / ``parse_*`` function
returns ``(value_or_None, issues)``; issues with severity ``"error"`` mean the
value was refused (the value is then ``None``), ``"warning"`` issues are for
the user to confirm. Issue params never carry personal data (names, numbers,
dates), only lengths, limits and similar non-identifying details.

Facts come from the shared domain note ``vietnam.md`` sections 1 and 4.

Names and folding live in :mod:`kernel.rules.vn_names`, phones in
:mod:`kernel.rules.vn_phones`, ID numbers in :mod:`kernel.rules.vn_ids`; this
module holds partial dates, sex, dates and the CCCD QR, and is the one to import.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date

from kernel.errors import FieldIssue
from kernel.rules.vn_dates import DMY8_RE, YEAR_RE, PartialDate, parse_date
from kernel.rules.vn_ids import (
    CCCD_RE,
    CMND_RE,
    PROVINCE_CODE_TO_2025,
    PROVINCE_CODES_2021,
    cccd_facts,
    check_id_number,
    id_tail,
)
from kernel.rules.vn_names import (
    NAME_MAX_LENGTH,
    check_full_name,
    clean_name,
    fold,
    fold_tokens,
    given_name_sort_key,
)
from kernel.rules.vn_phones import (
    LEGACY_MOBILE_PREFIXES,
    MOBILE_PREFIXES,
    check_phone,
    mask_phone,
)

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
    m = DMY8_RE.fullmatch(text)
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

    if not CCCD_RE.fullmatch(id_raw):
        errors.append(FieldIssue(f, "qr.bad_id", {"length": len(id_raw)}))

    old_id: str | None = None
    if old_raw:
        if CMND_RE.fullmatch(old_raw) or CCCD_RE.fullmatch(old_raw):
            old_id = old_raw
        else:
            warnings.append(FieldIssue(f, "qr.bad_old_id", severity="warning"))

    name, name_issues = check_full_name(name_raw, field=f)
    if name is None:
        reason = name_issues[0].code if name_issues else "name.required"
        errors.append(FieldIssue(f, "qr.bad_name", {"reason": reason}))

    birth: PartialDate | None = None
    if YEAR_RE.fullmatch(birth_raw):
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
