"""The dashboard's administration (``tramtiem-hub dashboard`` commands): allocations and areas."""

from __future__ import annotations

from datetime import datetime

from hub.db import Database
from hub.errors import HubError
from hub.models import Allocation, Site
from hub.timestamps import utc_iso_ms


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
