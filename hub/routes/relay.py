"""The province's relay endpoints (``/sync/v1/relay/*``), used by site hubs (hub/relay.py).

``POST /relay/enroll`` (a one-time relay code), and with a relay token:
``GET /relay/stations``, ``POST /relay/push``, ``POST /relay/tally``, ``GET /relay/pull``.
A station token is refused on these paths, and a relay token on a station's.
With a station token, at the province: ``GET /site/revoked-certs`` (the revoked site hub
certificates of the caller's own site) is in ``hub/routes/site_certs.py``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from hub import relay, relay_pki, service, timestamps
from hub.errors import HubError
from hub.hygiene import check_safe, check_version
from hub.routes.context import Auth, HubContext
from hub.routes.pull import long_poll_pull
from hub.routes.push import json_body, parse_body
from sync.protocol import (
    API_PREFIX,
    MAX_INT,
    MAX_PULL_LIMIT,
    MAX_PULL_WAIT_S,
    RELAY_PREFIX,
    PullResponse,
    RelayEnrollRequest,
    RelayEnrollResponse,
    RelayPushRequest,
    RelayPushResponse,
    RelayStations,
    RelayTallyRequest,
    RelayTallyResponse,
    SiteAnswersRequest,
    SiteAnswersResponse,
)

_bearer = HTTPBearer(auto_error=False, description="the relay token from /relay/enroll")


def get_relay(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> service.Caller:
    """The calling site hub, from its relay token (401 missing/unknown, 403 revoked)."""
    known = getattr(request.state, "relay", None)
    if isinstance(known, service.Caller):
        return known  # authenticated by BodyMiddleware before the body was read
    if creds is None:
        if request.headers.get("authorization"):
            raise HubError(401, "auth.invalid_token", "malformed Authorization header")
        raise HubError(401, "auth.missing_token", "Authorization: Bearer <token> is required")
    check_safe(creds.credentials, "authorization")
    return relay.authenticate_relay(request.app.state.db, f"Bearer {creds.credentials}")


RelayAuth = Annotated[service.Caller, Depends(get_relay)]


def add_relay_routes(app: FastAPI, ctx: HubContext) -> None:
    db, clock, epoch, watch = ctx.db, ctx.clock, ctx.epoch, ctx.watch

    @app.post(RELAY_PREFIX + "/enroll", response_model=RelayEnrollResponse, tags=["relay"])
    def relay_enroll(req: RelayEnrollRequest) -> RelayEnrollResponse:
        """A one-time relay code for a site hub's relay token (with a CSR: its certificate)."""
        check_version(req.protocol_version)
        check_safe(req.model_dump())
        tls = relay_pki.issue_for_enrollment(db, req.code, req.csr, now=clock()) if req.csr else None
        return relay.enroll_relay(db, req, now=clock(), tls=tls)

    @app.get(RELAY_PREFIX + "/stations", response_model=RelayStations, tags=["relay"])
    def relay_stations(who: RelayAuth) -> RelayStations:
        """The relay's site's stations (ids, names, token hashes, revoked): never a token."""
        relay.touch_relay(db, who.station_id, now=clock())
        return relay.site_stations(db, who)

    def push_sync(body: bytes, who: service.Caller, plain: bool) -> Response:
        req = parse_body(RelayPushRequest, body)
        if req.relay_id != who.station_id:
            raise HubError(403, "auth.relay_mismatch", "relay_id does not match the token")
        check_version(req.protocol_version)
        for g in req.groups:
            check_version(g.protocol_version)
        if sum(len(g.ops) for g in req.groups) > 1000:
            raise HubError(422, "request.invalid", "at most 1000 ops per relay push")
        if not plain:
            check_safe(req.model_dump())
        groups = relay.relay_push(db, who, req.groups, now=timestamps.utc_iso_ms(clock()))
        watch.poke()
        answer = RelayPushResponse(
            groups=groups, hub_epoch=epoch, server_time=timestamps.utc_iso_ms(clock())
        )
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.post(
        RELAY_PREFIX + "/push",
        response_model=RelayPushResponse,
        tags=["relay"],
        openapi_extra=json_body(RelayPushRequest),
    )
    async def relay_push(request: Request, who: RelayAuth) -> Response:
        """The site's stations' ops, grouped by replica, each group applied as its station's push."""
        body = await request.body()
        await run_in_threadpool(relay.touch_relay, db, who.station_id, now=clock())
        return await run_in_threadpool(
            push_sync, body, who, bool(getattr(request.state, "body_plain", False))
        )

    @app.post(RELAY_PREFIX + "/tally", response_model=RelayTallyResponse, tags=["relay"])
    def relay_tally(req: RelayTallyRequest, who: RelayAuth) -> RelayTallyResponse:
        """The site's stations' signed tallies, forwarded unchanged."""
        if req.relay_id != who.station_id:
            raise HubError(403, "auth.relay_mismatch", "relay_id does not match the token")
        check_version(req.protocol_version)
        check_safe(req.model_dump())
        results = relay.relay_tally(db, who, req.tallies, now=clock())
        return RelayTallyResponse(results=results, server_time=timestamps.utc_iso_ms(clock()))

    @app.post(API_PREFIX + "/site/answers", response_model=SiteAnswersResponse, tags=["relay"])
    def site_answers(req: SiteAnswersRequest, who: Auth) -> SiteAnswersResponse:
        """At a site hub: the province's answers to ops this desk sent through it."""
        if req.station_id != who.station_id:
            raise HubError(403, "auth.station_mismatch", "station_id does not match the token")
        if ctx.province_answers is None:
            raise HubError(404, "relay.not_site_hub", "this hub does not relay to a province")
        results, reachable = ctx.province_answers(who.station_id, list(req.op_ids))
        return SiteAnswersResponse(results=results, province_reachable=reachable, hub_epoch=epoch)

    @app.get(RELAY_PREFIX + "/pull", response_model=PullResponse, tags=["relay"])
    async def relay_pull(
        request: Request,
        who: RelayAuth,
        cursor: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = 500,
        wait: Annotated[float, Query(ge=0, le=MAX_PULL_WAIT_S, allow_inf_nan=False)] = 0,
    ) -> PullResponse:
        """The site's scope after ``cursor``, every row (no echo filter), long-polled."""
        await run_in_threadpool(relay.touch_relay, db, who.station_id, now=clock())
        return await long_poll_pull(ctx, request, who, cursor, limit, None, wait)
