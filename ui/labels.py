"""Display text for enums and reference data, in the current language.

Enum values from the core (statuses, roles, dose kinds...) are marked for
Qt Linguist here; reference data (vaccines, priority groups, screening items,
outcomes) carries its own Vietnamese and English names, chosen by the language
Qt's default locale was set to (``ui.i18n.install``).
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, QLocale

from kernel import refdata
from kernel.clock import parse_iso, to_site_time
from ui.i18n import QT_TRANSLATE_NOOP

CTX = "Labels"

STATUS = {
    "expected": QT_TRANSLATE_NOOP("Labels", "Expected"),
    "checked_in": QT_TRANSLATE_NOOP("Labels", "Checked in"),
    "cleared": QT_TRANSLATE_NOOP("Labels", "Cleared"),
    "deferred": QT_TRANSLATE_NOOP("Labels", "Deferred"),
    "vaccinated": QT_TRANSLATE_NOOP("Labels", "Vaccinated"),
    "observed": QT_TRANSLATE_NOOP("Labels", "Done"),
}
ROLE = {
    "volunteer": QT_TRANSLATE_NOOP("Labels", "Volunteer"),
    "clerk": QT_TRANSLATE_NOOP("Labels", "Clerk"),
    "screener": QT_TRANSLATE_NOOP("Labels", "Screening doctor"),
    "supervisor": QT_TRANSLATE_NOOP("Labels", "Supervisor"),
    "admin": QT_TRANSLATE_NOOP("Labels", "IT administrator"),
    "system": QT_TRANSLATE_NOOP("Labels", "System"),
}
KIND = {
    "primary": QT_TRANSLATE_NOOP("Labels", "primary"),
    "additional": QT_TRANSLATE_NOOP("Labels", "additional"),
    "booster": QT_TRANSLATE_NOOP("Labels", "booster"),
}
SEX = {
    "M": QT_TRANSLATE_NOOP("Labels", "Male"),
    "F": QT_TRANSLATE_NOOP("Labels", "Female"),
}
SEVERITY = {
    "none": QT_TRANSLATE_NOOP("Labels", "No reaction"),
    "common": QT_TRANSLATE_NOOP("Labels", "Common reaction"),
    "severe": QT_TRANSLATE_NOOP("Labels", "Serious reaction"),
    "other": QT_TRANSLATE_NOOP("Labels", "Other"),
}
ID_TYPE = {
    "cccd": QT_TRANSLATE_NOOP("Labels", "CCCD (12 digits)"),
    "cmnd": QT_TRANSLATE_NOOP("Labels", "CMND (9 or 12 digits)"),
    "passport": QT_TRANSLATE_NOOP("Labels", "Passport"),
    "none": QT_TRANSLATE_NOOP("Labels", "No document"),
}
INJECTION_SITE = {
    "left_deltoid": QT_TRANSLATE_NOOP("Labels", "Left upper arm"),
    "right_deltoid": QT_TRANSLATE_NOOP("Labels", "Right upper arm"),
    "left_thigh": QT_TRANSLATE_NOOP("Labels", "Left thigh"),
    "right_thigh": QT_TRANSLATE_NOOP("Labels", "Right thigh"),
}
SOURCE = {
    "walk_in": QT_TRANSLATE_NOOP("Labels", "Walk-in"),
    "app": QT_TRANSLATE_NOOP("Labels", "Pre-registered"),
    "import": QT_TRANSLATE_NOOP("Labels", "List"),
}
LINE = {
    "unknown": QT_TRANSLATE_NOOP("Labels", "Line: ?"),
    "unconfigured": QT_TRANSLATE_NOOP("Labels", "No hub set"),
    "online": QT_TRANSLATE_NOOP("Labels", "Online"),
    "offline": QT_TRANSLATE_NOOP("Labels", "Offline"),
    "syncing": QT_TRANSLATE_NOOP("Labels", "Syncing…"),
    "error": QT_TRANSLATE_NOOP("Labels", "Sync error"),
    "certificate": QT_TRANSLATE_NOOP("Labels", "Hub certificate problem"),
}
REVIEW_KIND = {
    "possible_duplicate_person": QT_TRANSLATE_NOOP("Labels", "Possible duplicate person"),
    "possible_duplicate_dose": QT_TRANSLATE_NOOP("Labels", "Possible duplicate dose"),
    "field_conflict": QT_TRANSLATE_NOOP("Labels", "Conflicting edits"),
    "edit_after_void": QT_TRANSLATE_NOOP("Labels", "Edit after void"),
    "clock_skew": QT_TRANSLATE_NOOP("Labels", "Clock difference"),
    "merged_person": QT_TRANSLATE_NOOP("Labels", "Merged person"),
}
REVIEW_ACTION = {
    "merge": QT_TRANSLATE_NOOP("Labels", "Merge into one person"),
    "keep_both": QT_TRANSLATE_NOOP("Labels", "Different people: keep both"),
    "void_dose": QT_TRANSLATE_NOOP("Labels", "Void one dose"),
    "keep_current": QT_TRANSLATE_NOOP("Labels", "Keep the current value"),
    "take_value": QT_TRANSLATE_NOOP("Labels", "Take the other value"),
    "unmerge": QT_TRANSLATE_NOOP("Labels", "Undo the merge"),
}
EARLY_END = {
    "doctor_allowed": QT_TRANSLATE_NOOP("Labels", "The doctor allowed it"),
    "left_against_advice": QT_TRANSLATE_NOOP("Labels", "Left against advice"),
    "transferred_for_care": QT_TRANSLATE_NOOP("Labels", "Taken for medical care"),
    "other": QT_TRANSLATE_NOOP("Labels", "Other reason"),
}
PRIORITY = {
    "high": QT_TRANSLATE_NOOP("Labels", "High"),
    "low": QT_TRANSLATE_NOOP("Labels", "Low"),
}
OP_TYPE = {
    "register_person": QT_TRANSLATE_NOOP("Labels", "Registration"),
    "add_registration": QT_TRANSLATE_NOOP("Labels", "Registration for a day"),
    "update_person": QT_TRANSLATE_NOOP("Labels", "Edit of a person"),
    "check_in": QT_TRANSLATE_NOOP("Labels", "Check-in"),
    "record_screening": QT_TRANSLATE_NOOP("Labels", "Screening"),
    "record_dose": QT_TRANSLATE_NOOP("Labels", "Dose"),
    "void_dose": QT_TRANSLATE_NOOP("Labels", "Void of a dose"),
    "end_observation": QT_TRANSLATE_NOOP("Labels", "End of observation"),
    "record_adverse_event": QT_TRANSLATE_NOOP("Labels", "Adverse event"),
    "upsert_lot": QT_TRANSLATE_NOOP("Labels", "Vaccine lot"),
    "upsert_user": QT_TRANSLATE_NOOP("Labels", "User"),
    "resolve_review": QT_TRANSLATE_NOOP("Labels", "Review decision"),
}


def tr(table: dict[str, str], key: str | None) -> str:
    if key is None:
        return ""
    src = table.get(key)
    return QCoreApplication.translate(CTX, src) if src else key


def is_vietnamese() -> bool:
    return QLocale().language() == QLocale.Language.Vietnamese


def vaccine_name(code: str) -> str:
    try:
        v = refdata.vaccine(code)
    except KeyError:
        return code
    return v.name_vi if is_vietnamese() else v.name


def number(value: float) -> str:
    """``12``, ``12,5`` (Vietnamese decimal comma) or ``12.5``; at most 2 decimals."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return text.replace(".", ",") if is_vietnamese() else text


def volume(ml: float | None) -> str:
    """``0,25 ml``; empty when unknown."""
    return "" if ml is None else f"{number(ml)} ml"


def vaccine_short(code: str) -> str:
    """The brand alone ("Pfizer", "Vero Cell"), the same in both languages: for narrow columns."""
    try:
        return refdata.vaccine(code).name
    except KeyError:
        return code


def group_name(code: int | None) -> str:
    if code is None:
        return ""
    g = refdata.priority_groups().get(code)
    if g is None:
        return str(code)
    return g.name_vi if is_vietnamese() else g.name_en


def outcome_name(code: str) -> str:
    label = refdata.screening_outcomes().get(code)
    if label is None:
        return code
    return label.name_vi if is_vietnamese() else label.name_en


def outcome_short(code: str) -> str:
    """"Trì hoãn" for "Trì hoãn tiêm chủng": where several outcomes share a line."""
    label = refdata.screening_outcomes().get(code)
    if label is None:
        return code
    return label.short_vi if is_vietnamese() else label.short_en


def site_time(iso_text: str | None, fmt: str = "%H:%M") -> str:
    if not iso_text:
        return ""
    try:
        return to_site_time(parse_iso(iso_text)).strftime(fmt)
    except ValueError:
        return ""


def site_date(iso_day: str | None) -> str:
    """``2026-12-01`` → ``01/12/2026`` (Vietnamese day-first order in both languages)."""
    if not iso_day:
        return ""
    try:
        return datetime.fromisoformat(iso_day[:10]).strftime("%d/%m/%Y")
    except ValueError:
        return iso_day


def duration(seconds: float) -> str:
    """``mm:ss`` under an hour, else ``h:mm`` with an ``h``."""
    s = max(0, int(seconds))
    if s < 3600:
        return f"{s // 60:02d}:{s % 60:02d}"
    return f"{s // 3600}h{(s % 3600) // 60:02d}"
