"""The hub's HTTP API (FastAPI). ``create_app(settings)`` builds one; ``tramtiem-hub serve`` runs it.

Every endpoint but health needs ``Authorization: Bearer <station token>``. Every
error is a JSON :class:`~sync.protocol.ErrorBody` with a stable code: request
validation, malformed JSON, oversize bodies, auth failures and even unexpected
exceptions (a catch-all answers 500 with no detail and logs only the exception
type, since database messages can quote personal data).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import service
from hub.dashboard import web as dashboard
from hub.db import Database, hub_epoch, migrate
from hub.errors import HubError
from hub.ingest import hub_origin_op, process_push, utc_now
from hub.watch import DEFAULT_POLL_S, ChangeWatch
from sync.protocol import (
    API_PREFIX,
    MAX_BODY_BYTES,
    MAX_PULL_LIMIT,
    MAX_PULL_WAIT_S,
    MIN_PROTOCOL_VERSION,
    PROTOCOL_VERSION,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    Health,
    OpResult,
    PersonLookupResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    ResolveRequest,
    ReviewList,
    SiteSummary,
    TallyRequest,
    TallyResponse,
)

log = logging.getLogger(__name__)

MAX_INT = 2**62  # PostgreSQL BIGINT holds 2**63-1; anything near it is garbage, not data


@dataclass(frozen=True)
class HubSettings:
    database_url: str
    migrate_on_start: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    clock: Callable[[], datetime] = field(default=utc_now)
    dashboard_refresh_s: int = 30  # how often the dashboard page refetches its figures
    watch_poll_s: float = DEFAULT_POLL_S  # long-poll pulls: how often commits of other processes are looked for
    # The longest a pull may wait for a change (0: no long-polls; the station then syncs on
    # its own schedule). A station's ``wait`` is cut to this.
    long_poll_max_s: float = MAX_PULL_WAIT_S


def _error(
    status: int, code: str, message: str, detail: dict[str, Any] | None = None
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, detail=detail or {})
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"))


# ---- ASGI middlewares ----------------------------------------------------------------


class CatchAllMiddleware:
    """Last line: an unexpected exception becomes a bare 500 ErrorBody, logged without detail."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def wrapped_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        except Exception as exc:
            # Type and path only: exception messages may quote the data that failed.
            log.error(
                "unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path")
            )
            if not started:
                await _error(500, "internal", "internal error")(scope, receive, send)


# Anything in raw JSON that check_safe might refuse: a NUL or surrogate escape,
# non-finite numbers, digit runs long enough to exceed BIGINT. A superset: a
# hit only means the body gets the full walk. Substring tests run at C speed
# (a regex alternation over a push body cost more than the walk it saves).
_MARKERS = (b"\\u0000", b"\\ud", b"\\uD", b"NaN", b"Infinity")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _suspect_json(body: bytes) -> bool:
    return any(m in body for m in _MARKERS) or _LONG_NUMBER in body.translate(_DIGITS_TO_ZERO)


class BodyMiddleware:
    """Bounded request bodies, gzip accepted: 413 past the limit (after decompression)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
            await _error(415, "request.unsupported_encoding", "only gzip bodies are accepted")(
                scope, receive, send
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _error(
                413, "request.too_large", "request body too large", {"max_bytes": self.max_bytes}
            )(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        def too_large() -> JSONResponse:
            return _error(
                413, "request.too_large", "request body too large", {"max_bytes": self.max_bytes}
            )

        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if encoding == "gzip":
            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                # max_length bounds memory: a tiny bomb cannot inflate past the limit.
                body = inflater.decompress(body, self.max_bytes + 1)
                too_big = len(body) > self.max_bytes or bool(inflater.unconsumed_tail)
            except zlib.error:
                await _error(400, "request.bad_encoding", "the gzip body does not decompress")(
                    scope, receive, send
                )
                return
            if too_big:
                await too_large()(scope, receive, send)
                return
        new_headers = [
            (k, v)
            for k, v in scope.get("headers", [])
            if k.lower() not in (b"content-encoding", b"content-length")
        ]
        # One regex pass over the raw JSON spares the endpoints a walk of every
        # value when nothing in the body could be what check_safe refuses.
        state = dict(scope.get("state") or {})
        state["body_plain"] = not _suspect_json(body)
        new_headers.append((b"content-length", str(len(body)).encode()))
        scope = dict(scope, headers=new_headers, state=state)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


# ---- input hygiene -------------------------------------------------------------------


def check_safe(obj: Any, where: str = "body") -> None:
    """Refuse what no honest client sends and a database would choke on (→ 422, never 500).

    NUL characters and lone surrogates in text, non-finite floats, integers
    beyond BIGINT.
    """
    if isinstance(obj, str):
        if "\x00" in obj:
            raise HubError(422, "request.invalid", "text contains a NUL character", location=where)
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            raise HubError(
                422, "request.invalid", "text is not valid Unicode", location=where
            ) from None
    elif isinstance(obj, bool):
        return
    elif isinstance(obj, int):
        if abs(obj) > MAX_INT:
            raise HubError(422, "request.invalid", "integer out of range", location=where)
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise HubError(422, "request.invalid", "number is not finite", location=where)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            check_safe(k, where)
            check_safe(v, f"{where}.{k}" if isinstance(k, str) and len(where) < 200 else where)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            check_safe(v, where)


def _check_version(v: int) -> None:
    if not MIN_PROTOCOL_VERSION <= v <= PROTOCOL_VERSION:
        raise HubError(
            400,
            "protocol.unsupported",
            "unsupported protocol version",
            min=MIN_PROTOCOL_VERSION,
            max=PROTOCOL_VERSION,
        )


# ---- auth ----------------------------------------------------------------------------

_bearer = HTTPBearer(auto_error=False, description="the station token from /enroll")


def get_caller(
    request: Request,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> service.Caller:
    """The calling station, from its bearer token (401 missing/unknown, 403 revoked)."""
    if creds is None:
        if request.headers.get("authorization"):
            raise HubError(401, "auth.invalid_token", "malformed Authorization header")
        raise HubError(401, "auth.missing_token", "Authorization: Bearer <token> is required")
    check_safe(creds.credentials, "authorization")
    db: Database = request.app.state.db
    return service.authenticate(db, f"Bearer {creds.credentials}")


Auth = Annotated[service.Caller, Depends(get_caller)]


# ---- the app -------------------------------------------------------------------------

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 500)
}


def create_app(settings: HubSettings) -> FastAPI:
    """Build the hub app over ``settings.database_url`` (migrating it first unless told not to)."""
    if settings.migrate_on_start:
        migrate(settings.database_url)
    db = Database(settings.database_url)
    with db.read() as s:
        epoch = hub_epoch(s)
    clock = settings.clock

    watch = ChangeWatch(db, poll_s=settings.watch_poll_s)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await watch.close()
        db.dispose()

    app = FastAPI(
        title="Trạm Tiêm hub",
        version="1",
        description="Sync hub for Trạm Tiêm stations. See docs/protocol.md.",
        lifespan=lifespan,
        responses=ERRORS,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.watch = watch

    # ---- error handlers --------------------------------------------------------------

    @app.exception_handler(HubError)
    async def _hub_error(_r: Request, exc: HubError) -> JSONResponse:
        return _error(exc.status, exc.code, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return _error(400, "request.malformed_json", "the body is not valid JSON")
        # Locations and error types only: never echo the input back (it may be personal data).
        fields = [
            {"loc": [str(p) for p in e.get("loc", ())][:8], "type": str(e.get("type", ""))}
            for e in errors[:20]
        ]
        return _error(
            422, "request.invalid", "the request does not match the schema", {"errors": fields}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "auth.missing_token"}
        return _error(
            exc.status_code, codes.get(exc.status_code, f"http.{exc.status_code}"), str(exc.detail)
        )

    # ---- routes ----------------------------------------------------------------------

    def health_body() -> Health:
        return Health(hub_epoch=epoch, server_time=service.iso(clock()))

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
        _check_version(req.protocol_version)
        check_safe(req.model_dump())
        return service.enroll(db, req, now=clock())

    @app.post(API_PREFIX + "/push", response_model=PushResponse, tags=["sync"])
    def push(req: PushRequest, who: Auth, request: Request) -> PushResponse:
        """Apply ops in op_seq order; one result per op processed (see docs/protocol.md)."""
        if req.station_id != who.station_id:
            raise HubError(403, "auth.station_mismatch", "station_id does not match the token")
        _check_version(req.protocol_version)
        if not 1 <= len(req.replica_epoch) <= 64:
            raise HubError(422, "request.invalid", "replica_epoch must be 1 to 64 characters")
        if not getattr(request.state, "body_plain", False):
            check_safe(req.model_dump())
        now = clock()
        sent = service.parse_ts(req.sent_at)
        skew_ms = int((sent - now).total_seconds() * 1000) if sent is not None else 0
        skew_ms = max(-MAX_INT, min(MAX_INT, skew_ms))
        results, expected = process_push(
            db, who.station_id, req, now=service.iso(now), skew_ms=skew_ms
        )
        watch.poke()  # siblings waiting on a long-poll pull look now
        return PushResponse(
            results=results,
            expected_next_op_seq=expected,
            hub_epoch=epoch,
            server_time=service.iso(clock()),
            clock_skew_ms=skew_ms,
        )

    @app.get(API_PREFIX + "/pull", response_model=PullResponse, tags=["sync"])
    async def pull(
        who: Auth,
        cursor: Annotated[int, Query(ge=0, le=MAX_INT)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = 500,
        replica_epoch: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
        wait: Annotated[float, Query(ge=0, le=MAX_PULL_WAIT_S)] = 0,
    ) -> PullResponse:
        """Changes in the station's scope after ``cursor`` (a hub sequence number, never a clock).

        With ``replica_epoch`` (the station's current one), rows that merely echo
        what that replica pushed (answered ``no_echo``) are left out. With
        ``wait`` (seconds, long-poll) an empty answer is held until a change in
        the station's scope is committed, or ``wait`` seconds pass.
        """
        await run_in_threadpool(service.touch_station, db, who.station_id, now=clock())
        page = await run_in_threadpool(service.pull, db, who, cursor, limit, replica_epoch)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(0.0, min(wait, settings.long_poll_max_s))
        # Bounded: each round waits for a commit in scope; only echoes of this
        # replica's own ops send it round again.
        for _ in range(1000):
            remaining = deadline - loop.time()
            if page.changes or page.has_more or remaining <= 0:
                break
            if not await watch.wait(who.site_code, page.next_cursor, remaining):
                break
            page = await run_in_threadpool(service.pull, db, who, cursor, limit, replica_epoch)
        return page

    @app.post(API_PREFIX + "/tally", response_model=TallyResponse, tags=["sync"])
    def tally(req: TallyRequest, who: Auth) -> TallyResponse:
        """The station's signed count of doses entered, pending and acknowledged."""
        _check_version(req.protocol_version)
        check_safe(req.model_dump())
        service.record_tally(db, who, req, now=clock())
        return TallyResponse(accepted=True, server_time=service.iso(clock()))

    @app.get(
        API_PREFIX + "/persons/by-id-number/{id_number}",
        response_model=PersonLookupResponse,
        tags=["lookup"],
    )
    def person_by_id_number(
        who: Auth, id_number: Annotated[str, Path(min_length=1, max_length=20)]
    ) -> PersonLookupResponse:
        """Online lookup of a person (and their doses) by ID number, across sites."""
        check_safe(id_number, "id_number")
        return service.lookup_by_id_number(db, id_number)

    @app.get(API_PREFIX + "/reviews", response_model=ReviewList, tags=["reviews"])
    def reviews(who: Auth, status: Literal["open", "resolved"] | None = "open") -> ReviewList:
        """Review items that concern the station's site."""
        return ReviewList(items=service.list_reviews(db, who.site_code, status))

    @app.post(
        API_PREFIX + "/reviews/{review_id}/resolve", response_model=OpResult, tags=["reviews"]
    )
    def resolve(
        review_id: Annotated[str, Path(min_length=1, max_length=36)], req: ResolveRequest, who: Auth
    ) -> OpResult:
        """Resolve a review item: the hub records a ``resolve_review`` op of hub origin."""
        check_safe(review_id, "review_id")
        check_safe(req.model_dump())
        res = hub_origin_op(
            db,
            who.station_id,
            review_id,
            req.action,
            dict(req.params),
            req.user_id,
            now=service.iso(clock()),
        )
        watch.poke()
        return res

    @app.get(
        API_PREFIX + "/sites/{site_code}/summary", response_model=SiteSummary, tags=["reports"]
    )
    def summary(
        who: Auth, site_code: Annotated[str, Path(min_length=1, max_length=32)]
    ) -> SiteSummary:
        """Given (station tallies) against received (doses held here) for the station's site."""
        if site_code != who.site_code:
            raise HubError(403, "auth.cross_site", "a station sees its own site only")
        return service.site_summary(db, site_code)

    dashboard.install(app, db, settings)  # HTML for the committee, its own login

    app.add_middleware(GZipMiddleware, minimum_size=1024)
    app.add_middleware(BodyMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(CatchAllMiddleware)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers (the CLI migrates first)."""
    url = os.environ["TRAMTIEM_HUB_DATABASE_URL"]
    return create_app(HubSettings(database_url=url, migrate_on_start=False))


def openapi_json(app: FastAPI) -> str:
    return json.dumps(app.openapi(), ensure_ascii=False, indent=2)
