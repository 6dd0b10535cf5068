"""Service functions: each call is one unit of work (domain rows + outbox op + audit).

The UI and the CLI call these; nothing else writes synced tables (the guard
triggers refuse it). Every function takes the open :class:`~station.store.Station`
and the acting :class:`~station.store.Actor` first, checks the actor's role,
validates all input (raising ``ValidationError`` with every field issue at once)
and returns frozen DTOs.
"""

from __future__ import annotations

import importlib
from typing import Any

# The services load on first use (PEP 562): importing one submodule, e.g.
# ``station.services.common`` for the sync engine, must not load them all (argon2, the
# clinical rules...): `tramtiem sync --once` starts faster without them.
_WHERE = {
    "change_password": "admin",
    "create_user": "admin",
    "list_lots": "admin",
    "list_users": "admin",
    "login": "admin",
    "set_user_active": "admin",
    "upsert_lot": "admin",
    "dose_history": "clinical",
    "end_observation": "clinical",
    "record_adverse_event": "clinical",
    "record_dose": "clinical",
    "record_past_dose": "clinical",
    "record_screening": "clinical",
    "suggest_dose": "clinical",
    "void_dose": "clinical",
    "add_expected": "people",
    "add_registration": "people",
    "check_in": "people",
    "get_person": "people",
    "register_walk_in": "people",
    "registrations_for_day": "people",
    "update_person": "people",
}


def __getattr__(name: str) -> Any:
    mod = _WHERE.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"station.services.{mod}"), name)


__all__ = [
    "add_expected",
    "add_registration",
    "change_password",
    "check_in",
    "create_user",
    "dose_history",
    "end_observation",
    "get_person",
    "list_lots",
    "list_users",
    "login",
    "record_adverse_event",
    "record_dose",
    "record_past_dose",
    "record_screening",
    "register_walk_in",
    "registrations_for_day",
    "set_user_active",
    "suggest_dose",
    "update_person",
    "upsert_lot",
    "void_dose",
]
