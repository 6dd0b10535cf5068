"""What a site hub's own dashboard page shows the site's supervisor (issue 14, no Internet).

A site hub (``tramtiem-hub serve --relay-to URL``) holds one site. Its figures are the
site's own as the site hub applied the desks' ops: **provisional** until the province has
answered each op (the province decides: merges, refusals). The page says so, and shows
beside them what is still waiting to reach the province, per desk, and when the province
last answered. Counts and times only: no personal data.

The same numbers feed the desks' Sync workspace (``GET /sync/v1/site/hub-status``,
:mod:`hub.routes.site_status`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from hub.db import Database
from hub.models import Dose, EnrolledStation, PersonSite, Registration, RelayOp, Site
from hub.site_rows import waiting_counts as waiting_counts  # the site hub's backlog, counted once

# A site hub's link to the province: (reachable at the last attempt, last answer UTC ISO).
LinkStatus = Callable[[], tuple[bool, str | None]]
MAX_DESKS_SHOWN = 50
MAX_VACCINES_SHOWN = 30


@dataclass(frozen=True, slots=True)
class DeskToday:
    station_id: str
    name: str
    doses: int  # valid doses given today that this desk entered
    waiting: int  # its ops the site hub holds that the province has not answered


@dataclass(frozen=True, slots=True)
class SiteHubFigures:
    site_code: str
    site_name: str
    day: str  # the site's today (ISO)
    doses_today: int
    doses_by_vaccine: tuple[tuple[str, int], ...]
    desks: tuple[DeskToday, ...]
    registered_today: int  # registrations for today at the site
    people: int  # people the site hub knows at the site
    waiting_ops: int  # every desk's ops not yet answered by the province
    oldest_waiting_at: str | None  # when the oldest of those reached the site hub
    province_reachable: bool
    province_contact_at: str | None


def last_answer_at(db: Database) -> str | None:
    """When the site hub last stored a province answer (its contact, across a restart)."""
    with db.read() as s:
        v = s.execute(select(func.max(RelayOp.answered_at))).scalar()
    return None if v is None else str(v)


def contact(db: Database, link: LinkStatus) -> tuple[bool, str | None]:
    """The link now: reachable, and the later of the live contact time and the stored one."""
    reachable, live = link()
    stored = last_answer_at(db)
    return reachable, max((t for t in (live, stored) if t), default=None)


def figures(db: Database, site_code: str, today: date, link: LinkStatus) -> SiteHubFigures:
    """The site's figures for ``today`` (the site's day) as this site hub holds them."""
    day = today.isoformat()
    with db.read() as s:
        site = s.get(Site, site_code)
        by_vaccine = s.execute(
            select(Dose.vaccine_code, func.count())
            .where(Dose.site_code == site_code, Dose.day == day, Dose.voided == 0)
            .group_by(Dose.vaccine_code)
            .order_by(func.count().desc(), Dose.vaccine_code)
            .limit(MAX_VACCINES_SHOWN)
        ).all()
        by_desk = dict(
            s.execute(
                select(Dose.origin_station, func.count())
                .where(Dose.site_code == site_code, Dose.day == day, Dose.voided == 0)
                .group_by(Dose.origin_station)
            ).all()
        )
        waiting_by_desk = dict(
            s.execute(
                select(RelayOp.station_id, func.count())
                .where(RelayOp.province_status.is_(None))
                .group_by(RelayOp.station_id)
            ).all()
        )
        oldest = s.execute(
            select(func.min(RelayOp.received_at)).where(RelayOp.province_status.is_(None))
        ).scalar()
        stations = s.execute(
            select(EnrolledStation.id, EnrolledStation.name)
            .where(EnrolledStation.site_code == site_code)
            .order_by(EnrolledStation.name, EnrolledStation.id)
        ).all()
        registered = s.execute(
            select(func.count()).select_from(Registration).where(
                Registration.site_code == site_code, Registration.day == day
            )
        ).scalar_one()
        people = s.execute(
            select(func.count()).select_from(PersonSite).where(PersonSite.site_code == site_code)
        ).scalar_one()
    names = {str(i): str(n or "") for i, n in stations}
    desk_ids = sorted(set(names) | {str(k) for k in by_desk if k} | {str(k) for k in waiting_by_desk},
                      key=lambda i: (names.get(i, "~"), i))
    desks = tuple(
        DeskToday(i, names.get(i, ""), int(by_desk.get(i, 0)), int(waiting_by_desk.get(i, 0)))
        for i in desk_ids[:MAX_DESKS_SHOWN]
    )
    reachable, contact_at = contact(db, link)
    return SiteHubFigures(
        site_code=site_code,
        site_name=str(site.name) if site is not None and site.name else site_code,
        day=day,
        doses_today=sum(int(n) for n in by_desk.values()),
        doses_by_vaccine=tuple((str(v), int(n)) for v, n in by_vaccine),
        desks=desks,
        registered_today=int(registered),
        people=int(people),
        waiting_ops=sum(int(n) for n in waiting_by_desk.values()),
        oldest_waiting_at=None if oldest is None else str(oldest),
        province_reachable=reachable,
        province_contact_at=contact_at,
    )


__all__ = ["DeskToday", "LinkStatus", "SiteHubFigures", "contact", "figures", "last_answer_at", "waiting_counts"]
