"""Who may do what. Checked in the services, not only in the UI."""

from __future__ import annotations

from kernel.errors import PermissionDenied

ROLES = ("volunteer", "clerk", "screener", "supervisor", "admin")

_CLINICAL_READ = {"search", "view_person", "view_queue"}

PERMISSIONS: dict[str, frozenset[str]] = {
    "volunteer": frozenset(_CLINICAL_READ | {"register", "update_contact", "check_in"}),
    "clerk": frozenset(
        _CLINICAL_READ
        | {"register", "update_contact", "update_identity", "check_in", "record_dose",
           "record_past_dose", "record_adverse_event", "end_observation"}
    ),
    "screener": frozenset(
        _CLINICAL_READ
        | {"register", "update_contact", "update_identity", "check_in", "record_screening",
           "record_adverse_event", "end_observation"}
    ),
    "supervisor": frozenset(
        _CLINICAL_READ
        | {"register", "update_contact", "update_identity", "check_in", "record_screening",
           "record_dose", "record_past_dose", "record_adverse_event", "end_observation",
           "void_dose", "manage_lots", "manage_staff", "add_expected", "resolve_review",
           "view_reports", "override_dose_rule", "set_interval_profile"}
    ),
    # IT staff: set-up and stock, not clinical entry.
    "admin": frozenset(
        {"search", "view_person", "manage_lots", "manage_staff", "manage_admins", "add_expected",
         "view_reports", "settings", "view_recovery_code", "set_interval_profile"}
    ),
    # The installer's own actor (CLI init/demo): creates the first users and lots only.
    "system": frozenset({"manage_lots", "manage_staff", "manage_admins", "view_recovery_code"}),
}


def can(role: str, action: str) -> bool:
    return action in PERMISSIONS.get(role, frozenset())


def require(role: str, action: str) -> None:
    if not can(role, action):
        raise PermissionDenied(action=action, role=role)
