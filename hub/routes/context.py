"""What the hub's routes share: the database, settings, clock and change watch; the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hub import service
from hub.db import Database
from hub.errors import HubError
from hub.hygiene import check_safe
from hub.settings import HubSettings
from hub.watch import ChangeWatch


@dataclass
class HubContext:
    """One app's shared state, handed to each routes module when the app is built."""

    db: Database
    settings: HubSettings
    watch: ChangeWatch
    epoch: str  # the hub epoch, read once at start
    # Long-polls waiting, per station (this process).
    waits: dict[str, int] = field(default_factory=dict)

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.settings.clock


# ---- auth ----------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="the station token from /enroll")


def get_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> service.Caller:
    """The calling station, from its bearer token (401 missing/unknown, 403 revoked)."""
    known = getattr(request.state, "caller", None)
    if isinstance(known, service.Caller):
        return known  # authenticated by BodyMiddleware before the body was read
    if creds is None:
        if request.headers.get("authorization"):
            raise HubError(401, "auth.invalid_token", "malformed Authorization header")
        raise HubError(401, "auth.missing_token", "Authorization: Bearer <token> is required")
    check_safe(creds.credentials, "authorization")
    db: Database = request.app.state.db
    return service.authenticate(db, f"Bearer {creds.credentials}")


Auth = Annotated[service.Caller, Depends(get_caller)]


