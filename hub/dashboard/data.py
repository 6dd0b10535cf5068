"""The dashboard's numbers: given against received, per province, area, site and station.

Served from the counters kept in the ingest transaction (``station_day``, see
hub/counters.py for the arithmetic): a request groups at most stations × days
rows of its scope and never counts doses. Definitions (shown on the page too):

* **received**: valid doses the hub holds for the site (not voided, ``source =
  'site'``; doses copied from paper certificates were not given here).
* **given** = received + what the stations entered that has not reached the
  hub − voids waiting at a station for doses the hub holds. Each station counts
  only the doses it entered itself, so three laptops that pull each other's
  rows count each dose once. A revoked station's last tally keeps counting.
* **gap** (open) = given − received − written off: doses given that have not
  reached the hub and nobody wrote off. Negative when voids are still waiting.
* **pending**: the part of the gap held by live stations (doses), and their
  unanswered ops; **revoked gap**: the part owed by revoked stations.
* **written off**: what a supervisor wrote off (``tramtiem-hub station
  write-off``), shown apart; doses that arrive later move back into received.
* **allocated**: from the ``allocation`` table; an area or province without its
  own figure sums its parts.

Alerts: a live station with doses pending and no contact for 15 minutes; a
station whose clock is off by more than 5 minutes; a station whose tally
disagrees with what the hub holds from it; a revoked station with an open gap;
a station that runs a version from before per-station counting.

Counts only: no person data is read here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.sql.elements import TextClause

from hub import counters
from hub.dashboard.auth import Scope
from hub.db import Database
from hub.errors import HubError
from hub.ingest import SKEW_TOLERANCE_MS
from hub.models import (
    OPEN_ROWS_SQL,
    Allocation,
    EnrolledStation,
    Site,
    StationDay,
    StationTally,
    StationTotal,
)
from hub.timestamps import parse_ts, utc_iso_ms
from kernel import refdata
from kernel.clock import VN_TZ

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
        return self.skew_ms is not None and abs(self.skew_ms) > SKEW_TOLERANCE_MS

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

    def as_json(self) -> dict[str, Any]:
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
        return self.skew_ms is not None and abs(self.skew_ms) > SKEW_TOLERANCE_MS

    def as_json(self) -> dict[str, Any]:
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

    def as_json(self) -> dict[str, Any]:
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

    def as_json(self) -> dict[str, Any]:
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

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
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


def province_name(code: str) -> str:
    p = refdata.provinces().get(code)
    return p.name if p else code


def area_name(code: str | None, name: str | None) -> str:
    if name:
        return name
    if not code:
        return ""
    w = refdata.ward(code)  # a 2025 commune/ward code names itself
    return w.name if w else code


def scope_name(scope: Scope, db: Database) -> str:
    if scope.role == "province":
        return province_name(scope.code)
    with db.read() as s:
        if scope.role == "site":
            name = s.execute(select(Site.name).where(Site.code == scope.code)).scalar()
            return str(name) if name else scope.code
        name = s.execute(
            select(Site.area_name).where(Site.area_code == scope.code, Site.area_name.is_not(None))
        ).scalar()
    return area_name(scope.code, name)


def _cond(scope: Scope) -> ColumnElement[bool]:
    if scope.role == "province":
        return Site.province_code == scope.code
    if scope.role == "site":
        return Site.code == scope.code
    return Site.area_code == scope.code


def _sites_in(scope: Scope, view: Scope | None) -> Select[Any]:
    """The site codes of ``scope``, narrowed to ``view`` (a subquery)."""
    conds = [_cond(scope)] + ([_cond(view)] if view is not None else [])
    return select(Site.code).where(*conds)


MAX_COUNT = 1_000_000_000  # the wire's bound on a tally count (sync.protocol.Count)


def _int(v: Any) -> int:
    """A stored count as a reader can use it: 0 for junk, clamped to the wire's range."""
    if isinstance(v, bool) or not isinstance(v, int | str):
        return 0
    try:
        return min(MAX_COUNT, max(0, int(v)))
    except (TypeError, ValueError):
        return 0


def _day(raw: Any) -> date | None:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        return None


def _time(raw: Any, now: datetime) -> datetime | None:
    """A stored time, bounded: a value no reader can trust is shown as unknown."""
    return counters.bounded_time(raw, now) if isinstance(raw, str) else None


class _SiteInfo(NamedTuple):
    code: str
    name: str
    province_code: str | None
    area_code: str | None
    area_name: str | None


class _StationInfo(NamedTuple):
    id: str
    name: str
    site_code: str
    revoked: int
    revoked_at: str | None
    last_seen: str | None
    clock_skew_ms: int | None
    tally_received_at: str | None
    legacy: int | None
    mismatch: int | None
    outbox_pending: int | None
    ops_since: int | None
    oldest_pending_at: str | None


def build(db: Database, scope: Scope, *, now: datetime, view: Scope | None = None) -> Dashboard:
    """Everything a page shows for ``scope`` (narrowed to ``view``): a handful of grouped queries.

    ``view`` is a drill-down (a province, an area or a site) inside the user's
    scope; a view outside it has no sites and answers 404.
    """
    if view is not None and scope.role == "district" and view.role == "province":
        # An area's login sees its area, never a province figure made of it alone.
        raise HubError(404, "dashboard.not_found", "nothing to show here for this login")
    in_scope = _sites_in(scope, view)
    today = now.astimezone(VN_TZ).date()
    chart_from = today - timedelta(days=CHART_DAYS - 1)
    per_station = view is not None and view.role == "site"
    sd = StationDay
    today_s = today.isoformat()

    def rows_where(*conds: ColumnElement[bool] | TextClause) -> Any:
        """The scope's station_day rows meeting ``conds``, with what each still misses."""
        return (
            select(
                sd.site_code,
                sd.station_id,
                sd.day,
                sd.held_valid,
                sd.t_voids_unsent,
                sd.written_off,
                literal_column(counters.MISSING_SQL).label("missing"),
            )
            .where(sd.site_code.in_(in_scope), *conds)
            .subquery()
        )

    def sums(r: Any) -> tuple[ColumnElement[Any], ...]:
        written_off = case((r.written_off < r.missing, r.written_off), else_=r.missing)
        return tuple(
            cast(func.coalesce(func.sum(e), 0), BigInteger)
            for e in (r.held_valid, r.missing, written_off, r.t_voids_unsent)
        )

    # Only rows where something may still be owed need the per-day arithmetic (a partial
    # index finds them); "received" comes from one total row per station.
    owed = rows_where(text(OPEN_ROWS_SQL)).c
    recent = rows_where(sd.day >= chart_from.isoformat(), sd.day <= today_s).c
    with db.read() as s:
        sites = [
            _SiteInfo._make(row)
            for row in s.execute(
                select(Site.code, Site.name, Site.province_code, Site.area_code, Site.area_name).where(
                    Site.code.in_(in_scope)
                )
            )
        ]
        if view is not None and not sites:
            raise HubError(404, "dashboard.not_found", "nothing to show here for this login")
        stations = [
            _StationInfo._make(row)
            for row in s.execute(
                select(
                    EnrolledStation.id,
                    EnrolledStation.name,
                    EnrolledStation.site_code,
                    EnrolledStation.revoked,
                    EnrolledStation.revoked_at,
                    EnrolledStation.last_seen,
                    EnrolledStation.clock_skew_ms,
                    StationTally.received_at,
                    StationTally.legacy,
                    StationTally.mismatch,
                    StationTally.outbox_pending,
                    StationTally.ops_since,
                    StationTally.oldest_pending_at,
                )
                .outerjoin(StationTally, StationTally.station_id == EnrolledStation.id)
                .where(EnrolledStation.site_code.in_(in_scope))
            )
        ]
        received_by = {
            (site_code, station_id): int(v)
            for site_code, station_id, v in s.execute(
                select(StationTotal.site_code, StationTotal.station_id, StationTotal.held_valid).where(
                    StationTotal.site_code.in_(in_scope)
                )
            )
        }
        owed_by = {
            (site_code, station_id): rest
            for site_code, station_id, *rest in s.execute(
                select(owed.site_code, owed.station_id, *sums(owed)[1:]).group_by(
                    owed.site_code, owed.station_id
                )
            )
        }
        on_day = rows_where(sd.day == today_s).c
        today_rows = s.execute(select(on_day.site_code, *sums(on_day)).group_by(on_day.site_code)).all()
        chart_rows = s.execute(select(recent.day, *sums(recent)).group_by(recent.day)).all()
        station_days = (
            s.execute(
                select(recent.station_id, recent.day, *sums(recent)).group_by(
                    recent.station_id, recent.day
                )
            ).all()
            if per_station
            else []
        )
        allocations = {
            (str(level), str(code)): int(doses)
            for level, code, doses in s.execute(
                select(Allocation.level, Allocation.code, Allocation.doses)
            )
        }
        offs = counters.write_offs(s, [x.code for x in sites]) if view is not None else []

    # ---- stations ------------------------------------------------------------------------
    rows: dict[str, StationRow] = {}
    by_site: dict[str, list[StationRow]] = defaultdict(list)
    for st in stations:
        tallied = st.tally_received_at is not None
        row = StationRow(
            id=st.id,
            name=st.name or st.id[:8],
            site_code=st.site_code,
            revoked=bool(st.revoked),
            revoked_at=st.revoked_at,
            last_seen=_time(st.last_seen, now),
            skew_ms=int(st.clock_skew_ms) if st.clock_skew_ms is not None else None,
            tally_received_at=_time(st.tally_received_at, now),
            legacy=bool(st.legacy) if tallied else False,
            mismatch=_int(st.mismatch),
        )
        if tallied:
            row.pending_ops = max(0, _int(st.outbox_pending) - _int(st.ops_since))
            if row.pending_ops:
                row.oldest_pending_at = _time(st.oldest_pending_at, now)
        rows[st.id] = row
        by_site[st.site_code].append(row)
    orphans: dict[str, Numbers] = defaultdict(Numbers)  # doses of no known station ('' origin)
    today_by_site: dict[str, tuple[int, int]] = {
        site_code: (int(rc) + int(m) - int(v), int(rc)) for site_code, rc, m, _w, v in today_rows
    }
    for key in sorted(set(received_by) | set(owed_by)):
        site_code, station_id = key
        received = received_by.get(key, 0)
        missing, w_off, voids = (int(x) for x in owed_by.get(key, (0, 0, 0)))
        row_ = rows.get(station_id)
        if row_ is None or row_.site_code != site_code:
            o = orphans[site_code]
            o.received += received
            o.given += received + missing - voids
            continue
        row_.received = received
        row_.missing = missing
        row_.written_off = w_off
        row_.voids_unsent = voids
    chart: dict[date, DayPoint] = {}
    for day_s, received, missing, w_off, voids in chart_rows:
        d = _day(day_s)
        if d is not None:
            chart[d] = DayPoint(d, int(received) + int(missing) - int(voids), int(received), int(w_off))
    for station_id, day_s, received, missing, w_off, voids in station_days:
        d, row_ = _day(day_s), rows.get(station_id)
        if d is not None and row_ is not None:
            row_.days[d] = DayPoint(d, int(received) + int(missing) - int(voids), int(received), int(w_off))

    # ---- sites, areas, provinces ------------------------------------------------------------
    alerts: list[Alert] = []
    provinces: dict[str, ProvinceGroup] = {}
    for site in sorted(sites, key=lambda x: (x.province_code or "", x.area_code or "", x.code)):
        n = Numbers(allocated=allocations.get(("site", site.code)))
        missing_total = 0
        for row in by_site.get(site.code, []):
            n.received += row.received
            missing_total += row.missing
            n.written_off += row.written_off
            n.voids_unsent += row.voids_unsent
            if row.revoked:
                n.revoked_stations += 1
                n.revoked_gap += row.open_gap
                if row.open_gap > 0:
                    alerts.append(_alert("revoked_gap", site, row, row.open_gap, None))
                continue
            n.stations += 1
            n.pending_doses += row.open_gap
            n.pending_ops += row.pending_ops
            if row.tally_received_at is not None:
                n.tallied_stations += 1
            if row.last_seen and (n.last_contact is None or row.last_seen > n.last_contact):
                n.last_contact = row.last_seen
            if row.skew_ms is not None and (n.skew_ms is None or abs(row.skew_ms) > abs(n.skew_ms)):
                n.skew_ms = row.skew_ms
            if row.oldest_pending_at and (
                n.oldest_pending_at is None or row.oldest_pending_at < n.oldest_pending_at
            ):
                n.oldest_pending_at = row.oldest_pending_at
            silent = row.last_seen is None or (now - row.last_seen).total_seconds() > NO_CONTACT_ALERT_S
            if (row.open_gap > 0 or row.pending_ops > 0) and silent:
                alerts.append(
                    _alert("stale_pending", site, row, max(row.open_gap, 0), row.last_seen)
                )
            if row.skew_flag:
                alerts.append(_alert("clock_skew", site, row, int(row.skew_ms or 0), None))
            if row.mismatch:
                alerts.append(_alert("ack_mismatch", site, row, row.mismatch, row.tally_received_at))
            if row.legacy:
                alerts.append(_alert("old_version", site, row, 0, row.tally_received_at))
        orphan = orphans.get(site.code)
        if orphan is not None:
            n.received += orphan.received
            missing_total += orphan.given - orphan.received
        n.given = n.received + missing_total - n.voids_unsent
        n.gap = n.given - n.received - n.written_off
        n.today_given, n.today_received = today_by_site.get(site.code, (0, 0))

        pcode = site.province_code or ""
        prov = provinces.get(pcode)
        if prov is None:
            prov = provinces[pcode] = ProvinceGroup(pcode, province_name(pcode) if pcode else "—")
        acode = site.area_code or NO_AREA
        area = next((a for a in prov.areas if a.code == acode), None)
        if area is None:
            area = AreaGroup(acode, area_name(site.area_code, site.area_name))
            prov.areas.append(area)
        elif not area.name and site.area_name:
            area.name = site.area_name
        area.sites.append(
            SiteRow(
                site.code,
                site.name,
                n,
                province_code=pcode,
                area_code=acode,
                stations=sorted(by_site.get(site.code, []), key=lambda r: (r.revoked, r.name, r.id)),
            )
        )

    total = Numbers()
    for prov in provinces.values():
        for area in prov.areas:
            for row_s in area.sites:
                area.n.add(row_s.n)
            area.n.allocated = _allocated(
                allocations.get(("area", area.code)) if area.code else None,
                [r.n.allocated for r in area.sites],
            )
            prov.n.add(area.n)
        prov.n.allocated = _allocated(
            allocations.get(("province", prov.code)), [a.n.allocated for a in prov.areas]
        )
        total.add(prov.n)
    total.allocated = _allocated(None, [p.n.allocated for p in provinces.values()])
    if view is not None and len(provinces) == 1:
        # A drill-down to one province, area or site: that node's allocation is the total's.
        only = next(iter(provinces.values()))
        if view.role == "province":
            total.allocated = only.n.allocated
        elif len(only.areas) == 1:
            area_ = only.areas[0]
            total.allocated = area_.n.allocated if view.role == "district" else (
                area_.sites[0].n.allocated if len(area_.sites) == 1 else total.allocated
            )

    names = {st.id: (st.name or st.id[:8]) for st in stations}
    alerts.sort(key=lambda a: (ALERT_ORDER.index(a.kind), a.site_code, a.station_name))
    return Dashboard(
        scope=scope,
        scope_name=scope_name(view or scope, db),
        now=now.astimezone(UTC),
        total=total,
        provinces=[provinces[k] for k in sorted(provinces)],
        days=[
            chart.get(d, DayPoint(d, 0, 0))
            for d in (chart_from + timedelta(days=i) for i in range(CHART_DAYS))
        ],
        alerts=alerts,
        view=view,
        write_offs=[
            WriteOffRow(
                w.id,
                w.station_id,
                names.get(w.station_id, w.station_id[:8]),
                w.site_code,
                int(w.doses),
                w.reason,
                w.actor,
                _time(w.created_at, now),
            )
            for w in offs
        ],
    )


def _alert(kind: AlertKind, site: _SiteInfo, row: StationRow, value: int, since: datetime | None) -> Alert:
    return Alert(kind, site.code, site.name, row.id, row.name, value, since)


def _allocated(own: int | None, parts: list[int | None]) -> int | None:
    if own is not None:
        return own
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


# ---- administration (CLI) ------------------------------------------------------------


def set_allocation(db: Database, level: str, code: str, doses: int, *, now: datetime) -> None:
    if level not in ("site", "area", "province"):
        raise HubError(400, "allocation.bad_level", "level: site, area or province")
    if not 0 <= doses <= 2**53:
        raise HubError(400, "allocation.bad_doses", "doses must be a non-negative number")
    with db.write() as s:
        if level == "site" and s.get(Site, code) is None:
            raise HubError(404, "site.not_found", "no such site")
        row = s.get(Allocation, (level, code))
        if row is None:
            s.add(Allocation(level=level, code=code, doses=doses, updated_at=utc_iso_ms(now)))
        else:
            row.doses = doses
            row.updated_at = utc_iso_ms(now)


def assign_area(db: Database, site_codes: list[str], area_code: str, name: str | None) -> None:
    """Put sites in a dashboard area (a 2025 commune/ward code, or a former district's code)."""
    with db.write() as s:
        for code in site_codes:
            site = s.get(Site, code)
            if site is None:
                raise HubError(404, "site.not_found", f"no such site: {code}")
            site.area_code = area_code or None
            site.area_name = name or None


__all__ = [
    "ALERT_ORDER",
    "CHART_DAYS",
    "NO_AREA",
    "Alert",
    "AreaGroup",
    "Dashboard",
    "DayPoint",
    "Numbers",
    "ProvinceGroup",
    "SiteRow",
    "StationRow",
    "WriteOffRow",
    "area_name",
    "assign_area",
    "build",
    "parse_ts",
    "province_name",
    "scope_name",
    "set_allocation",
]
