"""``GET /pull``: the changes in a station's scope after its cursor, held open as a long-poll."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import FastAPI, Query, Request
from starlette.concurrency import run_in_threadpool

from hub import service
from hub.middleware import SLOT_KEY, ConcurrencySlot, retake_slot
from hub.routes.context import Auth, HubContext
from sync.protocol import (
    API_PREFIX,
    ID_PATTERN,
    MAX_INT,
    MAX_PULL_LIMIT,
    MAX_PULL_WAIT_S,
    PullResponse,
)


def add_pull_route(app: FastAPI, ctx: HubContext) -> None:
    db, clock = ctx.db, ctx.clock

    @app.get(API_PREFIX + "/pull", response_model=PullResponse, tags=["sync"])
    async def pull(
        request: Request,
        who: Auth,
        cursor: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = 500,
        replica_epoch: Annotated[
            str | None, Query(min_length=1, max_length=64, pattern=ID_PATTERN)
        ] = None,
        wait: Annotated[float, Query(ge=0, le=MAX_PULL_WAIT_S, allow_inf_nan=False)] = 0,
    ) -> PullResponse:
        """Changes in the station's scope after ``cursor`` (a hub sequence number, never a clock).

        With ``replica_epoch`` (the station's current one), rows that merely echo
        what that replica pushed (answered ``no_echo``) are left out. With
        ``wait`` (seconds, long-poll) an empty answer is held until a change in
        the station's scope is committed, or ``wait`` seconds pass.
        """
        await run_in_threadpool(service.touch_station, db, who.station_id, now=clock())
        return await long_poll_pull(ctx, request, who, cursor, limit, replica_epoch, wait)


async def long_poll_pull(
    ctx: HubContext,
    request: Request,
    who: service.Caller,
    cursor: int,
    limit: int,
    replica_epoch: str | None,
    wait: float,
) -> PullResponse:
    """A page of ``who``'s site scope after ``cursor``; held open up to ``wait`` s when empty
    (a station's pull, and a site hub's ``/relay/pull``)."""
    db, settings, watch, waits = ctx.db, ctx.settings, ctx.watch, ctx.waits
    max_bytes = settings.max_pull_bytes
    page = await run_in_threadpool(
        service.pull, db, who, cursor, limit, replica_epoch, max_bytes=max_bytes
    )
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max(0.0, min(wait, settings.long_poll_max_s))
    if page.changes or page.has_more or deadline <= loop.time():
        return page
    # A waiting pull is not a request in flight: it holds no database connection
    # and no thread, so it gives its slot back while it waits (else a site's idle
    # laptops would fill the limit and turn pushes away). One station holds at most
    # `max_waits_per_station` waits: more answer at once (a hostile station cannot
    # park connections).
    slot: ConcurrencySlot | None = request.scope.get(SLOT_KEY)
    if waits.get(who.station_id, 0) >= settings.max_waits_per_station:
        return page
    waits[who.station_id] = waits.get(who.station_id, 0) + 1
    if slot is not None:
        slot.release()
    try:
        # Bounded: each round waits for a commit in scope; only echoes of this
        # replica's own ops send it round again.
        for _ in range(1000):
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            if not await watch.wait(who.site_code, page.next_cursor, remaining):
                break
            # Read again as a request in flight: wait for a place (requests in
            # flight take milliseconds); none before the deadline, the empty page
            # is still a true answer (the station pulls again at once).
            if slot is not None and not await retake_slot(slot, deadline):
                break
            try:
                page = await run_in_threadpool(
                    service.pull, db, who, cursor, limit, replica_epoch, max_bytes=max_bytes
                )
            finally:
                if slot is not None:
                    slot.release()
            if page.changes or page.has_more:
                break
    finally:
        left = waits.get(who.station_id, 1) - 1
        if left > 0:
            waits[who.station_id] = left
        else:
            waits.pop(who.station_id, None)
    return page
