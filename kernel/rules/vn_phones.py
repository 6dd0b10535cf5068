"""Vietnamese phone numbers: mobile prefixes, the 2018 11-to-10-digit conversion, masking.

Part of :mod:`kernel.rules.vietnam` (import from there); facts from vietnam.md §1.5.
"""

from __future__ import annotations

import re

from kernel.errors import FieldIssue
from kernel.rules.vn_names import HYPHENS

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
_PHONE_SEPARATORS = re.compile(r"[\s.()" + re.escape(HYPHENS) + r"]")
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
