"""The bounds of the wire's values and their parses, without pydantic.

``kernel.wire`` builds its pydantic types on these and re-exports them; a reader that
must not load pydantic (``sync.lean``: a sync with nothing to do) takes them from here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

# Wall-clock years a record can carry. Far wider than any campaign, narrow enough
# that no reader's date arithmetic (time zones, ages) can overflow on a stored value.
MIN_YEAR = 2000
MAX_YEAR = 2100
# A dose copied from a paper certificate (``source = "history"``) may be older: a routine
# vaccine (MR) given in the 1990s. Only those fields of a history dose take it.
HISTORY_MIN_YEAR = 1900
MAX_INT = 2**62  # PostgreSQL BIGINT holds 2**63-1; anything near it is garbage, not data


def parse_timestamp(raw: str) -> datetime | None:
    """An ISO 8601 timestamp with an offset, years MIN_YEAR..MAX_YEAR; None otherwise.

    Also the readers' parse: a stored value that fails it is shown as unknown,
    never raised on.
    """
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if dt.tzinfo is None or not MIN_YEAR <= dt.year <= MAX_YEAR:
        return None
    try:
        dt.astimezone(UTC)  # an offset can still push a boundary year out of range
    except (OverflowError, ValueError):
        return None
    return dt


def parse_day(raw: str, *, min_year: int = MIN_YEAR) -> date | None:
    """A calendar day ``YYYY-MM-DD`` (a real one: no 2026-13-45), years min_year..MAX_YEAR."""
    if not isinstance(raw, str) or len(raw) != 10 or raw[4] != "-" or raw[7] != "-":
        return None
    try:
        d = date.fromisoformat(raw)
    except ValueError:
        return None
    return d if min_year <= d.year <= MAX_YEAR else None
