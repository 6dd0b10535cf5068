"""What a dashboard page shows: the numbers per station, site, area and province, and the alerts.

Plain dataclasses filled by :func:`hub.dashboard.data.build`; ``as_json`` gives
``/dashboard/data.json`` (a JSON object, ``dict[str, object]``: written, never read back).
The definitions of given, received and gap are in :mod:`hub.dashboard.data`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal

from hub.dashboard.auth import Scope
from hub.timestamps import utc_iso_ms
from kernel.clock import CLOCK_TOLERANCE_MS

CHART_DAYS = 14
NO_AREA = ""  # the group of sites not yet assigned to an area
NO_CONTACT_ALERT_S = 15 * 60
STALE_CONTACT_S = 60 * 60  # the page marks a site's last contact red after this

AlertKind = Literal["stale_pending", "clock_skew", "ack_mismatch", "revoked_gap", "old_version"]
ALERT_ORDER: tuple[AlertKind, ...] = (
    "revoked_gap",
    "stale_pending",
    "ack_mismatch",
    "clock_skew",
    "old_version",
)


@dataclass
class Numbers:
    given: int = 0
    received: int = 0
    gap: int = 0  # open: given − received − written off (negative: voids waiting)
    written_off: int = 0
    pending_doses: int = 0  # open gap held by live stations
    revoked_gap: int = 0  # open gap owed by revoked stations
    voids_unsent: int = 0
    pending_ops: int = 0
    oldest_pending_at: datetime | None = None
    last_contact: datetime | None = None
    skew_ms: int | None = None  # the largest magnitude among the live stations
    stations: int = 0  # live (not revoked)
    tallied_stations: int = 0
    revoked_stations: int = 0
    today_given: int = 0
    today_received: int = 0
    allocated: int | None = None

    @property
    def skew_flag(self) -> bool:
        return self.skew_ms is not None and abs(self.skew_ms) > CLOCK_TOLERANCE_MS

    def pct(self, count: int) -> float | None:
        if not self.allocated:
            return None
        return 100.0 * count / self.allocated

    def add(self, o: Numbers) -> None:
        for k in (
            "given",
            "received",
            "gap",
            "written_off",
            "pending_doses",
            "revoked_gap",
            "voids_unsent",
            "pending_ops",
            "stations",
            "tallied_stations",
            "revoked_stations",
            "today_given",
            "today_received",
        ):
            setattr(self, k, getattr(self, k) + getattr(o, k))
        if o.oldest_pending_at and (
            self.oldest_pending_at is None or o.oldest_pending_at < self.oldest_pending_at
        ):
            self.oldest_pending_at = o.oldest_pending_at
        if o.last_contact and (self.last_contact is None or o.last_contact > self.last_contact):
            self.last_contact = o.last_contact
        if o.skew_ms is not None and (self.skew_ms is None or abs(o.skew_ms) > abs(self.skew_ms)):
            self.skew_ms = o.skew_ms

    def as_json(self) -> dict[str, object]:
        return {
            "given": self.given,
            "received": self.received,
            "gap": self.gap,
            "written_off": self.written_off,
            "pending_doses": self.pending_doses,
            "revoked_gap": self.revoked_gap,
            "voids_unsent": self.voids_unsent,
            "pending_ops": self.pending_ops,
            "oldest_pending_at": utc_iso_ms(self.oldest_pending_at) if self.oldest_pending_at else None,
            "last_contact": utc_iso_ms(self.last_contact) if self.last_contact else None,
            "clock_skew_ms": self.skew_ms,
            "clock_skew_flag": self.skew_flag,
            "stations": self.stations,
            "tallied_stations": self.tallied_stations,
            "revoked_stations": self.revoked_stations,
            "today_given": self.today_given,
            "today_received": self.today_received,
            "allocated": self.allocated,
            "given_pct_allocated": self.pct(self.given),
            "received_pct_allocated": self.pct(self.received),
        }


@dataclass
class DayPoint:
    day: date
    given: int
    received: int
    written_off: int = 0

    @property
    def gap(self) -> int:
        return self.given - self.received - self.written_off


@dataclass
class StationRow:
    """One laptop of a site (the last drill-down level)."""

    id: str
    name: str
    site_code: str
    revoked: bool
    revoked_at: str | None
    last_seen: datetime | None
    skew_ms: int | None
    tally_received_at: datetime | None
    legacy: bool
    mismatch: int
    received: int = 0
    missing: int = 0  # not at the hub (written off or not)
    written_off: int = 0
    voids_unsent: int = 0
    pending_ops: int = 0
    oldest_pending_at: datetime | None = None
    days: dict[date, DayPoint] = field(default_factory=dict)

    @property
    def open_gap(self) -> int:
        return self.missing - self.written_off

    @property
    def given(self) -> int:
        return self.received + self.missing - self.voids_unsent

    @property
    def skew_flag(self) -> bool:
        return self.skew_ms is not None and abs(self.skew_ms) > CLOCK_TOLERANCE_MS

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "name": self.name,
            "revoked": self.revoked,
            "revoked_at": self.revoked_at,
            "last_contact": utc_iso_ms(self.last_seen) if self.last_seen else None,
            "clock_skew_ms": self.skew_ms,
            "tally_received_at": utc_iso_ms(self.tally_received_at) if self.tally_received_at else None,
            "old_version": self.legacy,
            "mismatch": self.mismatch,
            "given": self.given,
            "received": self.received,
            "gap": self.open_gap,
            "written_off": self.written_off,
            "voids_unsent": self.voids_unsent,
            "pending_ops": self.pending_ops,
            "oldest_pending_at": utc_iso_ms(self.oldest_pending_at) if self.oldest_pending_at else None,
        }


@dataclass
class SiteRow:
    code: str
    name: str
    n: Numbers
    province_code: str = ""
    area_code: str = NO_AREA
    stations: list[StationRow] = field(default_factory=list)


@dataclass
class AreaGroup:
    code: str  # NO_AREA for sites without one
    name: str
    n: Numbers = field(default_factory=Numbers)
    sites: list[SiteRow] = field(default_factory=list)


@dataclass
class ProvinceGroup:
    code: str
    name: str
    n: Numbers = field(default_factory=Numbers)
    areas: list[AreaGroup] = field(default_factory=list)


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    site_code: str
    site_name: str
    station_id: str
    station_name: str
    value: int  # doses (pending, gap, mismatch) or milliseconds (clock)
    since: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "site_code": self.site_code,
            "site_name": self.site_name,
            "station_id": self.station_id,
            "station_name": self.station_name,
            "value": self.value,
            "since": utc_iso_ms(self.since) if self.since else None,
        }


@dataclass(frozen=True)
class WriteOffRow:
    id: str
    station_id: str
    station_name: str
    site_code: str
    doses: int
    reason: str
    actor: str
    created_at: datetime | None

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "station_id": self.station_id,
            "site_code": self.site_code,
            "doses": self.doses,
            "reason": self.reason,
            "by": self.actor,
            "at": utc_iso_ms(self.created_at) if self.created_at else None,
        }


@dataclass
class Dashboard:
    scope: Scope
    scope_name: str
    now: datetime
    total: Numbers
    provinces: list[ProvinceGroup]
    days: list[DayPoint]
    alerts: list[Alert] = field(default_factory=list)
    view: Scope | None = None  # a drill-down inside the user's scope
    write_offs: list[WriteOffRow] = field(default_factory=list)

    def sites(self) -> list[SiteRow]:
        return [s for p in self.provinces for a in p.areas for s in a.sites]

    def as_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "scope": str(self.scope),
            "view": str(self.view) if self.view else None,
            "generated_at": utc_iso_ms(self.now),
            "total": self.total.as_json(),
            "provinces": [
                {
                    "code": p.code,
                    "name": p.name,
                    **p.n.as_json(),
                    "areas": [
                        {
                            "code": a.code or None,
                            "name": a.name,
                            **a.n.as_json(),
                            "sites": [
                                {"code": s.code, "name": s.name, **s.n.as_json()} for s in a.sites
                            ],
                        }
                        for a in p.areas
                    ],
                }
                for p in self.provinces
            ],
            "days": [
                {
                    "day": d.day.isoformat(),
                    "given": d.given,
                    "received": d.received,
                    "written_off": d.written_off,
                    "gap": d.gap,
                }
                for d in self.days
            ],
            "alerts": [a.as_json() for a in self.alerts],
            "write_offs": [w.as_json() for w in self.write_offs],
        }
        if self.view is not None and self.view.role == "site":
            out["stations"] = [
                st.as_json()
                | {
                    "days": [
                        {"day": d.day.isoformat(), "given": d.given, "received": d.received}
                        for d in sorted(st.days.values(), key=lambda x: x.day)
                    ]
                }
                for s in self.sites()
                for st in s.stations
            ]
        return out
