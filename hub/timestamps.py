"""How the hub writes and reads its timestamps (UTC, milliseconds).

Its own module so that the dashboard and the service both use it without
importing each other (the dashboard reads the service's tables; the service's
site summary is the dashboard's computation).
"""

from __future__ import annotations

from datetime import UTC, datetime

from sync.protocol import parse_timestamp


def utc_iso_ms(dt: datetime) -> str:
    """The hub's own timestamps (its records, ``server_time``): UTC, milliseconds.

    Not :func:`kernel.clock.iso`, which writes the station's local records in site
    time (UTC+7) to the second: the hub compares instants from many stations, and
    orders a station's requests within one second.
    """
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")


def parse_ts(raw: object) -> datetime | None:
    """A stored or sent timestamp, or None when it is not one a reader can use.

    Readers (dashboard, report, site summary) call this on whatever is stored, also
    values stored before the wire was bounded: a clock reading without an offset,
    year 0001 or 9999, or text gives None (shown as unknown), never an exception.
    """
    return parse_timestamp(raw) if isinstance(raw, str) else None
