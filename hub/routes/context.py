"""What the hub's routes share: the database, settings, clock and change watch; the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from hub import service
from hub.db import Database
from hub.errors import HubError
from hub.hygiene import check_safe
from hub.settings import HubSettings
from hub.watch import ChangeWatch
from sync.protocol import Op, OpResult, PushRequest, TallyRequest


@dataclass
class HubContext:
    """One app's shared state, handed to each routes module when the app is built."""

    db: Database
    settings: HubSettings
    watch: ChangeWatch
    epoch: str  # the hub epoch, read once at start
    # Long-polls waiting, per station (this process).
    waits: dict[str, int] = field(default_factory=dict)
    # Relay mode (a site hub, hub/site_hub.py): keeps each push's ops to forward, in the
    # push's transaction; None at a province hub.
    relay_record: Callable[[Session, PushRequest, list[Op], list[OpResult]], None] | None = None
    # A site hub's roster refresh on an unknown token (True: the roster changed).
    refresh_roster: Callable[[], bool] | None = None
    # The province's answers for a station's relayed ops (a site hub), and whether its line works.
    province_answers: Callable[[str, list[str]], tuple[list[OpResult], bool]] | None = None
    # A desk's verified tally, kept to forward unchanged (a site hub).
    relay_tally: Callable[[TallyRequest], None] | None = None
    # A site hub's link to the province: reachable at the last attempt, last answer (UTC ISO).
    relay_status: Callable[[], tuple[bool, str | None]] | None = None

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.settings.clock


# ---- auth ----------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="the station token from /enroll")


async def get_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> service.Caller:
    """The calling station, from its bearer token (401 missing/unknown, 403 revoked).

    A coroutine: a caller that BodyMiddleware authenticated costs no hop to a worker
    thread (FastAPI runs a plain function dependency in one; issue 15, phase 9); the
    database is read in a worker thread as before."""
    known = getattr(request.state, "caller", None)
    if isinstance(known, service.Caller):
        return known  # authenticated by BodyMiddleware before the body was read
    if creds is None:
        if request.headers.get("authorization"):
            raise HubError(401, "auth.invalid_token", "malformed Authorization header")
        raise HubError(401, "auth.missing_token", "Authorization: Bearer <token> is required")
    check_safe(creds.credentials, "authorization")
    db: Database = request.app.state.db
    refresh = getattr(request.app.state, "refresh_roster", None)
    return await run_in_threadpool(authenticate_station, db, f"Bearer {creds.credentials}", refresh)


def authenticate_station(
    db: Database, authorization: str, refresh: Callable[[], bool] | None = None
) -> service.Caller:
    """:func:`service.authenticate`; at a site hub an unknown token first refreshes the
    roster from the province once (a desk enrolled since the last refresh)."""
    try:
        return service.authenticate(db, authorization)
    except HubError as exc:
        if exc.code != "auth.invalid_token" or refresh is None or not refresh():
            raise
    return service.authenticate(db, authorization)


Auth = Annotated[service.Caller, Depends(get_caller)]


