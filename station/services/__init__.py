"""Service functions: each call is one unit of work (domain rows + outbox op + audit).

The UI and the CLI call these; nothing else writes synced tables (the guard
triggers refuse it). Every function takes the open :class:`~station.store.Station`
and the acting :class:`~station.store.Actor` first, checks the actor's role,
validates all input (raising ``ValidationError`` with every field issue at once)
and returns frozen DTOs.
"""

from station.services.admin import (
    change_password,
    create_user,
    list_lots,
    list_users,
    login,
    set_user_active,
    upsert_lot,
)
from station.services.clinical import (
    dose_history,
    end_observation,
    record_adverse_event,
    record_dose,
    record_past_dose,
    record_screening,
    suggest_dose,
    void_dose,
)
from station.services.people import (
    add_expected,
    add_registration,
    check_in,
    get_person,
    register_walk_in,
    registrations_for_day,
    update_person,
)

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
