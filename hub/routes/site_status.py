"""``GET /sync/v1/site/hub-status``: a site hub's link to the province, for a desk (issue 14).

Read-only, with the desk's own token (the same as for push and pull at the site hub):
whether the province answered the site hub at its last attempt, when it last did, and
the ops the site hub holds that the province has not answered (all desks', and the
asking desk's). A province hub answers 404 ``relay.not_site_hub``. The desk shows it in
its Sync workspace (``ui/widgets/site_hub_panel.py``).
"""

from __future__ import annotations

from fastapi import FastAPI

from hub import timestamps
from hub.dashboard import site_hub as figures
from hub.errors import HubError
from hub.routes.context import Auth, HubContext
from sync.protocol import API_PREFIX
from sync.site_hub_status import SITE_HUB_STATUS_PATH, SiteHubStatus


def add_site_status_route(app: FastAPI, ctx: HubContext) -> None:
    db, clock = ctx.db, ctx.clock

    @app.get(API_PREFIX + SITE_HUB_STATUS_PATH, response_model=SiteHubStatus, tags=["relay"])
    def site_hub_status(who: Auth) -> SiteHubStatus:
        """At a site hub: its link to the province and what waits there (counts and times)."""
        if ctx.relay_status is None:
            raise HubError(404, "relay.not_site_hub", "this hub does not relay to a province")
        reachable, contact_at = figures.contact(db, ctx.relay_status)
        waiting, mine = figures.waiting_counts(db, who.station_id)
        return SiteHubStatus(
            site_code=who.site_code,
            province_reachable=reachable,
            province_contact_at=contact_at,
            waiting_ops=waiting,
            waiting_for_you=mine,
            server_time=timestamps.utc_iso_ms(clock()),
        )


__all__ = ["add_site_status_route"]
