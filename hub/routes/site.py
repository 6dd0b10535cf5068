"""Routes about a station's site: its tally, person look-ups, review items, the summary."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import FastAPI, Path

from hub import service, timestamps
from hub.errors import HubError
from hub.hygiene import check_safe, check_version
from hub.ingest import hub_origin_op
from hub.routes.context import Auth, HubContext
from sync.protocol import (
    API_PREFIX,
    ID_PATTERN,
    OpResult,
    PersonLookupResponse,
    ResolveRequest,
    ReviewList,
    SiteSummary,
    TallyRequest,
    TallyResponse,
)


def add_site_routes(app: FastAPI, ctx: HubContext) -> None:
    """In this order (the OpenAPI document lists the paths as they are added)."""
    _add_tally(app, ctx)
    _add_person_lookup(app, ctx)
    _add_reviews(app, ctx)
    _add_summary(app, ctx)


def _add_tally(app: FastAPI, ctx: HubContext) -> None:
    db, clock = ctx.db, ctx.clock

    @app.post(API_PREFIX + "/tally", response_model=TallyResponse, tags=["sync"])
    def tally(req: TallyRequest, who: Auth) -> TallyResponse:
        """The station's signed count of doses entered, pending and acknowledged."""
        check_version(req.protocol_version)
        check_safe(req.model_dump())
        service.record_tally(db, who, req, now=clock())
        if ctx.relay_tally is not None:
            ctx.relay_tally(req)  # a site hub forwards it to the province unchanged
        return TallyResponse(accepted=True, server_time=timestamps.utc_iso_ms(clock()))


def _add_person_lookup(app: FastAPI, ctx: HubContext) -> None:
    db, clock, settings = ctx.db, ctx.clock, ctx.settings

    @app.get(
        API_PREFIX + "/persons/by-id-number/{id_number}",
        response_model=PersonLookupResponse,
        tags=["lookup"],
    )
    def person_by_id_number(
        who: Auth,
        id_number: Annotated[str, Path(min_length=6, max_length=12, pattern=r"^[0-9A-Z]+$")],
    ) -> PersonLookupResponse:
        """Online look-up of a person by ID number across sites: what a desk needs to avoid a
        duplicate (name, birth year, sex, valid doses). Rate-limited per station, audited."""
        return service.lookup_by_id_number(
            db,
            who,
            id_number,
            now=clock(),
            limit=settings.lookup_limit,
            window_s=settings.lookup_window_s,
        )


def _add_reviews(app: FastAPI, ctx: HubContext) -> None:
    db, clock, watch = ctx.db, ctx.clock, ctx.watch

    @app.get(API_PREFIX + "/reviews", response_model=ReviewList, tags=["reviews"])
    def reviews(who: Auth, status: Literal["open", "resolved"] | None = "open") -> ReviewList:
        """Review items that concern the station's site."""
        return ReviewList(items=service.list_reviews(db, who.site_code, status))

    @app.post(
        API_PREFIX + "/reviews/{review_id}/resolve", response_model=OpResult, tags=["reviews"]
    )
    def resolve(
        review_id: Annotated[str, Path(min_length=1, max_length=36, pattern=ID_PATTERN)],
        req: ResolveRequest,
        who: Auth,
    ) -> OpResult:
        """Resolve a review item: the hub records a ``resolve_review`` op of hub origin."""
        check_safe(review_id, "review_id")
        check_safe(req.model_dump())
        res = hub_origin_op(
            db,
            who.station_id,
            review_id,
            req.action,
            req.params.model_dump(exclude_none=True),
            req.user_id,
            now=timestamps.utc_iso_ms(clock()),
        )
        watch.poke()
        return res


def _add_summary(app: FastAPI, ctx: HubContext) -> None:
    db = ctx.db

    @app.get(
        API_PREFIX + "/sites/{site_code}/summary", response_model=SiteSummary, tags=["reports"]
    )
    def summary(
        who: Auth,
        site_code: Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")],
    ) -> SiteSummary:
        """Given (station tallies) against received (doses held here) for the station's site."""
        if site_code != who.site_code:
            raise HubError(403, "auth.cross_site", "a station sees its own site only")
        return service.site_summary(db, site_code)

