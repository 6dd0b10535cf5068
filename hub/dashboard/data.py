"""The dashboard's numbers: given against received, per province, area and site.

Definitions (shown on the page too):

* **received**: valid doses the hub holds for the site (not voided, ``source =
  'site'``). Doses copied from paper certificates (``source = 'history'``) were
  not given here; the station's tally leaves them out, so must we.
* **gap**: over the days the stations' latest tallies cover, doses the
  stations entered minus doses the hub received. A station's tally covers the
  last 30 days plus any older day with doses still pending, so an older day is
  one the hub already holds in full.
* **given** = received + gap: the true count, whole campaign. For a new
  campaign it is exactly the sum of the tallies' ``entered``.
* **pending**: doses (and ops) the stations reported not yet acknowledged,
  less what the hub has applied from them since that tally (the engine sends
  the tally *before* pushing, so the raw tally would still say "pending" after
  a full sync).
* **allocated**: from the ``allocation`` table; an area or province without its
  own figure sums its parts. ``administered / allocated`` is the directive's
  "54.55%", shown both for the true count and for what the hub received.

Counts only: no person data is read here.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.sql import Select

from hub.dashboard.auth import Scope
from hub.db import Database
from hub.errors import HubError
from hub.ingest import SKEW_TOLERANCE_MS
from hub.models import Allocation, AppliedOp, Dose, Site, Station, StationTally
from hub.service import iso, parse_ts
from station import refdata
from station.clock import VN_TZ

CHART_DAYS = 14
NO_AREA = ""  # the group of sites not yet assigned to an area


@dataclass
class Numbers:
    given: int = 0
    received: int = 0
    gap: int = 0
    pending_doses: int = 0
    pending_ops: int = 0
    oldest_pending_at: datetime | None = None
    last_contact: datetime | None = None
    skew_ms: int | None = None  # the largest magnitude among the stations
    stations: int = 0
    tallied_stations: int = 0
    allocated: int | None = None

    @property
    def skew_flag(self) -> bool:
        return self.skew_ms is not None and abs(self.skew_ms) > SKEW_TOLERANCE_MS

    def pct(self, count: int) -> float | None:
        if not self.allocated:
            return None
        return 100.0 * count / self.allocated

    def add(self, o: Numbers) -> None:
        self.given += o.given
        self.received += o.received
        self.gap += o.gap
        self.pending_doses += o.pending_doses
        self.pending_ops += o.pending_ops
        self.stations += o.stations
        self.tallied_stations += o.tallied_stations
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
            "pending_doses": self.pending_doses,
            "pending_ops": self.pending_ops,
            "oldest_pending_at": iso(self.oldest_pending_at) if self.oldest_pending_at else None,
            "last_contact": iso(self.last_contact) if self.last_contact else None,
            "clock_skew_ms": self.skew_ms,
            "clock_skew_flag": self.skew_flag,
            "stations": self.stations,
            "tallied_stations": self.tallied_stations,
            "allocated": self.allocated,
            "given_pct_allocated": self.pct(self.given),
            "received_pct_allocated": self.pct(self.received),
        }


@dataclass
class SiteRow:
    code: str
    name: str
    n: Numbers


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


@dataclass
class DayPoint:
    day: date
    given: int
    received: int


@dataclass
class Dashboard:
    scope: Scope
    scope_name: str
    now: datetime
    total: Numbers
    provinces: list[ProvinceGroup]
    days: list[DayPoint]

    def as_json(self) -> dict[str, Any]:
        return {
            "scope": str(self.scope),
            "generated_at": iso(self.now),
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
                {"day": d.day.isoformat(), "given": d.given, "received": d.received}
                for d in self.days
            ],
        }


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
        name = s.execute(
            select(Site.area_name).where(Site.area_code == scope.code, Site.area_name.is_not(None))
        ).scalar()
    return area_name(scope.code, name)


def _sites_in(scope: Scope) -> Select[Any]:
    q = select(Site.code)
    if scope.role == "province":
        return q.where(Site.province_code == scope.code)
    if scope.role == "site":
        return q.where(Site.code == scope.code)
    return q.where(Site.area_code == scope.code)


MAX_COUNT = 1_000_000_000  # the wire's bound on a tally count (sync.protocol.Count)


def _int(v: Any) -> int:
    """A stored count as a reader can use it: 0 for junk, clamped to the wire's range."""
    if isinstance(v, bool) or not isinstance(v, int | str):
        return 0
    try:
        return min(MAX_COUNT, max(0, int(v)))
    except (TypeError, ValueError):
        return 0


def build(db: Database, scope: Scope, *, now: datetime) -> Dashboard:
    """Everything the page shows for ``scope``, from six grouped queries."""
    in_scope = _sites_in(scope)
    with db.read() as s:
        sites = list(s.execute(select(Site).where(Site.code.in_(in_scope))).scalars())
        stations = list(
            s.execute(
                select(Station).where(Station.site_code.in_(in_scope), Station.revoked == 0)
            ).scalars()
        )
        tallies = {
            t.station_id: t
            for t in s.execute(
                select(StationTally).where(
                    StationTally.station_id.in_(
                        select(Station.id).where(
                            Station.site_code.in_(in_scope), Station.revoked == 0
                        )
                    )
                )
            ).scalars()
        }
        # What the hub applied from each station since its latest tally (see module doc).
        since = {
            str(sid): (int(ops), int(doses or 0))
            for sid, ops, doses in s.execute(
                select(
                    AppliedOp.station_id,
                    func.count(),
                    func.sum(case((AppliedOp.op_type == "record_dose", 1), else_=0)),
                )
                .join(StationTally, StationTally.station_id == AppliedOp.station_id)
                .where(
                    AppliedOp.received_at >= StationTally.received_at,
                    AppliedOp.station_id.in_(
                        select(Station.id).where(Station.site_code.in_(in_scope))
                    ),
                )
                .group_by(AppliedOp.station_id)
            ).all()
        }
        received_by: dict[str, dict[str, int]] = defaultdict(dict)
        for site_code, day, count in s.execute(
            select(Dose.site_code, Dose.day, func.count())
            .where(Dose.site_code.in_(in_scope), Dose.voided == 0, Dose.source == "site")
            .group_by(Dose.site_code, Dose.day)
        ).all():
            received_by[str(site_code)][str(day)] = int(count)
        allocations = {
            (a.level, a.code): int(a.doses) for a in s.execute(select(Allocation)).scalars()
        }

    by_site_stations: dict[str, list[Station]] = defaultdict(list)
    for st in stations:
        by_site_stations[st.site_code].append(st)

    today = now.astimezone(VN_TZ).date()
    chart_from = today - timedelta(days=CHART_DAYS - 1)
    chart_given: dict[date, int] = defaultdict(int)
    chart_received: dict[date, int] = defaultdict(int)

    provinces: dict[str, ProvinceGroup] = {}
    for site in sorted(sites, key=lambda x: (x.province_code or "", x.area_code or "", x.code)):
        n = Numbers(allocated=allocations.get(("site", site.code)))
        entered_by_day: dict[str, int] = defaultdict(int)
        for st in by_site_stations.get(site.code, []):
            n.stations += 1
            seen = parse_ts(st.last_seen) if st.last_seen else None
            if seen and (n.last_contact is None or seen > n.last_contact):
                n.last_contact = seen
            if st.clock_skew_ms is not None and (
                n.skew_ms is None or abs(st.clock_skew_ms) > abs(n.skew_ms)
            ):
                n.skew_ms = int(st.clock_skew_ms)
            tally = tallies.get(st.id)
            if tally is None:
                continue
            n.tallied_stations += 1
            body = tally.tally if isinstance(tally.tally, dict) else {}
            rows = body.get("rows", [])
            pending_doses = 0
            for r in rows if isinstance(rows, list) else []:
                if not isinstance(r, dict):
                    continue
                entered_by_day[str(r.get("day", ""))] += _int(r.get("entered"))
                pending_doses += _int(r.get("pending"))
            ops_since, doses_since = since.get(st.id, (0, 0))
            station_pending_ops = max(0, _int(body.get("outbox_pending")) - ops_since)
            n.pending_doses += max(0, pending_doses - doses_since)
            n.pending_ops += station_pending_ops
            oldest = body.get("oldest_pending_at")
            at = parse_ts(oldest) if isinstance(oldest, str) and station_pending_ops else None
            if at and (n.oldest_pending_at is None or at < n.oldest_pending_at):
                n.oldest_pending_at = at
        received_days = received_by.get(site.code, {})
        n.received = sum(received_days.values())
        n.gap = sum(entered_by_day.values()) - sum(received_days.get(d, 0) for d in entered_by_day)
        n.given = n.received + n.gap
        for day_s in set(entered_by_day) | set(received_days):
            try:
                d = date.fromisoformat(day_s)
            except ValueError:
                continue
            if d < chart_from or d > today:
                continue
            got = received_days.get(day_s, 0)
            chart_received[d] += got
            chart_given[d] += entered_by_day.get(day_s, got)

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
        area.sites.append(SiteRow(site.code, site.name, n))

    total = Numbers()
    for prov in provinces.values():
        for area in prov.areas:
            for row in area.sites:
                area.n.add(row.n)
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

    days = [
        DayPoint(d, chart_given.get(d, 0), chart_received.get(d, 0))
        for d in (chart_from + timedelta(days=i) for i in range(CHART_DAYS))
    ]
    return Dashboard(
        scope=scope,
        scope_name=scope_name(scope, db),
        now=now.astimezone(UTC),
        total=total,
        provinces=[provinces[k] for k in sorted(provinces)],
        days=days,
    )


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
            s.add(Allocation(level=level, code=code, doses=doses, updated_at=iso(now)))
        else:
            row.doses = doses
            row.updated_at = iso(now)


def assign_area(db: Database, site_codes: list[str], area_code: str, name: str | None) -> None:
    """Put sites in a dashboard area (a 2025 commune/ward code, or a former district's code)."""
    with db.write() as s:
        for code in site_codes:
            site = s.get(Site, code)
            if site is None:
                raise HubError(404, "site.not_found", f"no such site: {code}")
            site.area_code = area_code or None
            site.area_name = name or None
