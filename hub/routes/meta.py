"""Health (no auth) and enrollment: a one-time code exchanged for a station token."""

from __future__ import annotations

from fastapi import FastAPI

from hub import relay_pki, service, timestamps
from hub.hygiene import check_safe, check_version
from hub.routes.context import HubContext
from sync.protocol import API_PREFIX, EnrollRequest, EnrollResponse, Health


def add_meta_routes(app: FastAPI, ctx: HubContext) -> None:
    db, clock, epoch = ctx.db, ctx.clock, ctx.epoch

    def health_body() -> Health:
        return Health(hub_epoch=epoch, server_time=timestamps.utc_iso_ms(clock()))

    @app.get("/health", include_in_schema=False)
    def root_health() -> Health:
        return health_body()

    @app.get(API_PREFIX + "/health", response_model=Health, tags=["meta"])
    def health() -> Health:
        """Liveness and identity (no auth): the hub epoch and clock."""
        return health_body()

    @app.post(API_PREFIX + "/enroll", response_model=EnrollResponse, tags=["stations"])
    def enroll(req: EnrollRequest) -> EnrollResponse:
        """Exchange a one-time enrollment code for the station's bearer token."""
        check_version(req.protocol_version)
        check_safe(req.model_dump())
        resp = service.enroll(db, req, now=clock())
        # The province's relay CA: how the station will know its site's hub on the LAN
        # (sync.pinning; docs/site-hub.md, "Trust"). Made at first use, shared by all.
        return resp.model_copy(update={"relay_ca_pem": relay_pki.province_ca_pem(db)})
