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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    Subquery,
    case,
    cast,
    func,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from hub import counters
from hub.dashboard.admin import assign_area, set_allocation
from hub.dashboard.auth import Scope
from hub.dashboard.figures import (
    ALERT_ORDER,
    CHART_DAYS,
    NO_AREA,
    NO_CONTACT_ALERT_S,
    STALE_CONTACT_S,
    Alert,
    AlertKind,
    AreaGroup,
    Dashboard,
    DayPoint,
    Numbers,
    ProvinceGroup,
    SiteRow,
    StationRow,
    WriteOffRow,
)
from hub.db import Database
from hub.errors import HubError
from hub.models import (
    OPEN_ROWS_SQL,
    Allocation,
    EnrolledStation,
    Site,
    StationDay,
    StationTally,
    StationTotal,
    WriteOff,
)
from hub.timestamps import parse_ts
from kernel import refdata
from kernel.clock import VN_TZ


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


def _sites_in(scope: Scope, view: Scope | None) -> Select[str]:
    """The site codes of ``scope``, narrowed to ``view`` (a subquery)."""
    conds = [_cond(scope)] + ([_cond(view)] if view is not None else [])
    return select(Site.code).where(*conds)


MAX_COUNT = 1_000_000_000  # the wire's bound on a tally count (sync.protocol.Count)


def _int(v: object) -> int:
    """A stored count as a reader can use it: 0 for junk, clamped to the wire's range."""
    if isinstance(v, bool) or not isinstance(v, int | str):
        return 0
    try:
        return min(MAX_COUNT, max(0, int(v)))
    except (TypeError, ValueError):
        return 0


def _day(raw: object) -> date | None:
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        return None


def _time(raw: object, now: datetime) -> datetime | None:
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



@dataclass
class _ScopeRows:
    """What one page reads, in one read transaction: grouped rows, never single doses."""

    sites: list[_SiteInfo]
    stations: list[_StationInfo]
    received_by: dict[tuple[str, str], int]  # (site, station) -> received
    owed_by: dict[tuple[str, str], list[int]]  # (site, station) -> missing, written off, voids
    today_rows: Sequence[tuple[str, int, int, int, int]]  # site, received, missing, written off, voids
    chart_rows: Sequence[tuple[str, int, int, int, int]]  # day, received, missing, written off, voids
    station_days: Sequence[tuple[str, str, int, int, int, int]]  # station, day, and the same four
    allocations: dict[tuple[str, str], int]
    offs: list[WriteOff]


def build(db: Database, scope: Scope, *, now: datetime, view: Scope | None = None) -> Dashboard:
    """Everything a page shows for ``scope`` (narrowed to ``view``): a handful of grouped queries.

    ``view`` is a drill-down (a province, an area or a site) inside the user's
    scope; a view outside it has no sites and answers 404.
    """
    if view is not None and scope.role == "district" and view.role == "province":
        # An area's login sees its area, never a province figure made of it alone.
        raise HubError(404, "dashboard.not_found", "nothing to show here for this login")
    today = now.astimezone(VN_TZ).date()
    chart_from = today - timedelta(days=CHART_DAYS - 1)
    got = _read_scope(db, scope, view, today=today, chart_from=chart_from)
    rows, by_site, orphans = _station_rows(got, now)
    chart = _chart(got, rows)
    today_by_site: dict[str, tuple[int, int]] = {
        site_code: (int(rc) + int(m) - int(v), int(rc)) for site_code, rc, m, _w, v in got.today_rows
    }
    alerts: list[Alert] = []
    provinces: dict[str, ProvinceGroup] = {}
    for site in sorted(got.sites, key=lambda x: (x.province_code or "", x.area_code or "", x.code)):
        n = _site_numbers(site, by_site.get(site.code, []), orphans.get(site.code), alerts, now)
        n.allocated = got.allocations.get(("site", site.code))
        n.today_given, n.today_received = today_by_site.get(site.code, (0, 0))
        _place_site(provinces, site, n, by_site.get(site.code, []))
    total = _totals(provinces, got.allocations, view)
    names = {st.id: (st.name or st.id[:8]) for st in got.stations}
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
            for w in got.offs
        ],
    )


# ---- reading ---------------------------------------------------------------------------


def _read_scope(
    db: Database, scope: Scope, view: Scope | None, *, today: date, chart_from: date
) -> _ScopeRows:
    in_scope = _sites_in(scope, view)
    per_station = view is not None and view.role == "site"
    sd = StationDay
    today_s = today.isoformat()

    def rows_where(*conds: ColumnElement[bool] | TextClause) -> Subquery:
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

    # Only rows where something may still be owed need the per-day arithmetic (a partial
    # index finds them); "received" comes from one total row per station.
    owed_q = rows_where(text(OPEN_ROWS_SQL))
    recent_q = rows_where(sd.day >= chart_from.isoformat(), sd.day <= today_s)
    owed, recent = owed_q.c, recent_q.c
    with db.read() as s:
        sites, stations = _read_sites_and_stations(s, in_scope)
        if view is not None and not sites:
            raise HubError(404, "dashboard.not_found", "nothing to show here for this login")
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
                select(owed.site_code, owed.station_id, *_sums(owed_q)[1:]).group_by(
                    owed.site_code, owed.station_id
                )
            )
        }
        # Rows are typed tuples (SQLAlchemy 2.1): the sums' rows as _ScopeRows declares them.
        on_day_q = rows_where(sd.day == today_s)
        on_day = on_day_q.c
        today_rows = (
            s.execute(select(on_day.site_code, *_sums(on_day_q)).group_by(on_day.site_code)).all()
        )
        chart_rows = s.execute(select(recent.day, *_sums(recent_q)).group_by(recent.day)).all()
        station_days = (
            s.execute(
                select(recent.station_id, recent.day, *_sums(recent_q)).group_by(
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
    return _ScopeRows(
        sites, stations, received_by, owed_by, today_rows, chart_rows, station_days, allocations, offs
    )


def _sums(q: Subquery) -> tuple[ColumnElement[int], ...]:
    """Received, missing, written off (at most what is missing) and unsent voids, summed."""
    r = q.c
    written_off = case((r.written_off < r.missing, r.written_off), else_=r.missing)
    return tuple(
        cast(func.coalesce(func.sum(e), 0), BigInteger)
        for e in (r.held_valid, r.missing, written_off, r.t_voids_unsent)
    )


def _read_sites_and_stations(
    s: Session, in_scope: Select[str]
) -> tuple[list[_SiteInfo], list[_StationInfo]]:
    sites = [
        _SiteInfo._make(row)
        for row in s.execute(
            select(Site.code, Site.name, Site.province_code, Site.area_code, Site.area_name).where(
                Site.code.in_(in_scope)
            )
        )
    ]
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
    return sites, stations


# ---- stations --------------------------------------------------------------------------


def _station_rows(
    got: _ScopeRows, now: datetime
) -> tuple[dict[str, StationRow], dict[str, list[StationRow]], dict[str, Numbers]]:
    """Each station's row; and per site, doses of no known station ('' origin) as orphans."""
    rows: dict[str, StationRow] = {}
    by_site: dict[str, list[StationRow]] = defaultdict(list)
    for st in got.stations:
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
    for key in sorted(set(got.received_by) | set(got.owed_by)):
        site_code, station_id = key
        received = got.received_by.get(key, 0)
        missing, w_off, voids = (int(x) for x in got.owed_by.get(key, (0, 0, 0)))
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
    return rows, by_site, orphans


def _chart(got: _ScopeRows, rows: dict[str, StationRow]) -> dict[date, DayPoint]:
    """The scope's days; and on a site's page, each station's days too (into ``rows``)."""
    chart: dict[date, DayPoint] = {}
    for day_s, received, missing, w_off, voids in got.chart_rows:
        d = _day(day_s)
        if d is not None:
            chart[d] = DayPoint(d, int(received) + int(missing) - int(voids), int(received), int(w_off))
    for station_id, day_s, received, missing, w_off, voids in got.station_days:
        d, row_ = _day(day_s), rows.get(station_id)
        if d is not None and row_ is not None:
            row_.days[d] = DayPoint(d, int(received) + int(missing) - int(voids), int(received), int(w_off))
    return chart


# ---- sites, areas, provinces -------------------------------------------------------------


def _site_numbers(
    site: _SiteInfo,
    stations: list[StationRow],
    orphan: Numbers | None,
    alerts: list[Alert],
    now: datetime,
) -> Numbers:
    """A site's numbers from its stations' rows; the alerts its stations raise go to ``alerts``."""
    n = Numbers()
    missing_total = 0
    for row in stations:
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
    if orphan is not None:
        n.received += orphan.received
        missing_total += orphan.given - orphan.received
    n.given = n.received + missing_total - n.voids_unsent
    n.gap = n.given - n.received - n.written_off
    return n


def _place_site(
    provinces: dict[str, ProvinceGroup], site: _SiteInfo, n: Numbers, stations: list[StationRow]
) -> None:
    """Put the site's row under its area and province (made on first sight)."""
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
            stations=sorted(stations, key=lambda r: (r.revoked, r.name, r.id)),
        )
    )


def _totals(
    provinces: dict[str, ProvinceGroup], allocations: dict[tuple[str, str], int], view: Scope | None
) -> Numbers:
    """Areas, provinces and the total summed from their sites; allocations where none is set."""
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
    return total


def _alert(kind: AlertKind, site: _SiteInfo, row: StationRow, value: int, since: datetime | None) -> Alert:
    return Alert(kind, site.code, site.name, row.id, row.name, value, since)


def _allocated(own: int | None, parts: list[int | None]) -> int | None:
    if own is not None:
        return own
    known = [p for p in parts if p is not None]
    return sum(known) if known else None


__all__ = [
    "ALERT_ORDER",
    "CHART_DAYS",
    "NO_AREA",
    "STALE_CONTACT_S",
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
