"""``GET /sync/v1/site/revoked-certs``: the site hub certificates the province revoked (issue 14).

With a station token, at the province only: the revoked, not yet expired certificate
fingerprints of **the caller's own site** (``hub.relay.revoked_certs``, at most
``MAX_REVOKED_CERTS``). A site hub answers 404 ``relay.province_only``: it knows no
revocation, and a revoked one must not be the one that tells. The desk reads it on its
direct route (``sync.revocations``) and refuses those certificates on the LAN.
"""

from __future__ import annotations

from fastapi import FastAPI

from hub import relay, timestamps
from hub.errors import HubError
from hub.routes.context import Auth, HubContext
from sync.protocol import API_PREFIX
from sync.revoked_certs import REVOKED_CERTS_PATH, RevokedCerts


def add_revoked_certs_route(app: FastAPI, ctx: HubContext) -> None:
    db, clock = ctx.db, ctx.clock

    @app.get(API_PREFIX + REVOKED_CERTS_PATH, response_model=RevokedCerts, tags=["relay"])
    def revoked_certs(who: Auth) -> RevokedCerts:
        """At the province: the revoked, unexpired site hub certificates of the caller's site."""
        if ctx.province_answers is not None:
            raise HubError(404, "relay.province_only", "ask the province hub, not a site hub")
        now = clock()
        return RevokedCerts(
            site_code=who.site_code,
            fingerprints=relay.revoked_certs(db, who.site_code, now=now),
            server_time=timestamps.utc_iso_ms(now),
        )


__all__ = ["add_revoked_certs_route"]
