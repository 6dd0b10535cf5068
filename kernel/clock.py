"""Time at the site, and the hybrid logical clock used to order ops.

Sites are in Vietnam (UTC+7, no daylight saving). Wall-clock readings go through
an injectable ``Clock`` so tests can jump the clock. The HLC orders this
station's ops and breaks ties at the hub; it never ratchets from remote
timestamps (a future-dated remote clock would otherwise poison ours for good).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

VN_TZ = timezone(timedelta(hours=7), "ICT")

# How far a clock may be off before it "looks wrong", on both sides: a station's wall
# clock behind its last op or off from the hub's, a hub seeing a station's skew, a time
# entered in the future (an onset, an administration) beyond the screen's own minute.
CLOCK_TOLERANCE = timedelta(minutes=5)
CLOCK_TOLERANCE_MS = int(CLOCK_TOLERANCE.total_seconds() * 1000)

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def to_site_time(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime")
    return dt.astimezone(VN_TZ)


def site_today(clock: Clock) -> date:
    return to_site_time(clock()).date()


def iso(dt: datetime) -> str:
    """Timestamps stored in the database: site-local ISO 8601 with offset, second precision."""
    return to_site_time(dt).isoformat(timespec="seconds")


def parse_iso(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=VN_TZ)
    return dt


@dataclass(slots=True)
class HLC:
    """Hybrid logical clock: (wall milliseconds, counter), rendered sortable."""

    wall_ms: int = 0
    counter: int = 0

    def tick(self, now: datetime) -> str:
        now_ms = int(now.timestamp() * 1000)
        if now_ms > self.wall_ms:
            self.wall_ms, self.counter = now_ms, 0
        else:
            self.counter += 1
        return self.render()

    def render(self) -> str:
        return f"{self.wall_ms:013d}-{self.counter:05d}"

    @classmethod
    def parse(cls, text: str) -> HLC:
        wall, counter = text.split("-")
        return cls(int(wall), int(counter))
