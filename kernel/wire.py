"""Bounded values of the wire: every timestamp, day and id an op or a request carries.

Pure (pydantic only), so both sides share one definition: the station services
build op payloads with them (``kernel.ops``) and the hub parses pushes with them
(``sync.protocol`` re-exports them). See docs/protocol.md for the bounds.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, StringConstraints

from kernel.bounds import HISTORY_MIN_YEAR as HISTORY_MIN_YEAR
from kernel.bounds import MAX_INT as MAX_INT
from kernel.bounds import MAX_YEAR as MAX_YEAR
from kernel.bounds import MIN_YEAR as MIN_YEAR
from kernel.bounds import parse_day as parse_day
from kernel.bounds import parse_timestamp as parse_timestamp


def _timestamp(v: str, min_year: int = MIN_YEAR) -> str:
    # parse_timestamp without its overflow check: years 1900..MAX_YEAR cannot overflow
    # (every op carries timestamps: this runs thousands of times per push).
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        dt = None
    if dt is None or dt.tzinfo is None or not min_year <= dt.year <= MAX_YEAR:
        raise ValueError(f"an ISO 8601 timestamp with an offset, years {min_year}-{MAX_YEAR}")
    return v


def _day(v: str, min_year: int = MIN_YEAR) -> str:
    if parse_day(v, min_year=min_year) is None:
        raise ValueError(f"a calendar day YYYY-MM-DD, years {min_year}-{MAX_YEAR}")
    return v


def _history_timestamp(v: str) -> str:
    return _timestamp(v, HISTORY_MIN_YEAR)


def _history_day(v: str) -> str:
    return _day(v, HISTORY_MIN_YEAR)


#: A timestamp: ISO 8601 with an offset, years 2000-2100 (kept as sent).
Timestamp = Annotated[str, StringConstraints(max_length=40), AfterValidator(_timestamp)]
#: A calendar day YYYY-MM-DD, years 2000-2100.
Day = Annotated[str, StringConstraints(min_length=10, max_length=10), AfterValidator(_day)]
#: When a dose was given, years 1900-2100: a dose's model allows the years before 2000
#: only for a dose from a paper certificate (``kernel.ops.DoseP``).
DoseTimestamp = Annotated[str, StringConstraints(max_length=40), AfterValidator(_history_timestamp)]
DoseDay = Annotated[str, StringConstraints(min_length=10, max_length=10), AfterValidator(_history_day)]
#: Ids made by stations (UUIDs; natural-key UUIDs): letters, digits, '-', '_', '.', ':'.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
Ident = Annotated[str, StringConstraints(min_length=1, max_length=36, pattern=ID_PATTERN)]
#: A station's install id or an op id: a UUID.
UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
Uuid = Annotated[str, StringConstraints(min_length=36, max_length=36, pattern=UUID_PATTERN)]
#: A replica epoch (a UUID at real stations; any short token is accepted).
Epoch = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=ID_PATTERN)]
SiteCode = Annotated[str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")]
VaccineCode = Annotated[str, StringConstraints(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]

OpType = Literal[
    "register_person",
    "add_registration",
    "update_person",
    "check_in",
    "record_screening",
    "record_dose",
    "void_dose",
    "end_observation",
    "record_adverse_event",
    "upsert_lot",
    "upsert_user",
    "resolve_review",
]
OP_TYPES: tuple[str, ...] = get_args(OpType)

ResolveAction = Literal["void_dose", "keep_both", "merge", "unmerge", "keep_current", "take_value"]
