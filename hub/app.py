"""The hub's HTTP API (FastAPI). ``create_app(settings)`` builds one; ``tramtiem-hub serve`` runs it.

Every endpoint but health needs ``Authorization: Bearer <station token>``. Every
error is a JSON :class:`~sync.protocol.ErrorBody` with a stable code: request
validation, malformed JSON, oversize bodies, auth failures and even unexpected
exceptions (a catch-all answers 500 with no detail and logs only the exception
type, since database messages can quote personal data).

Before a request reaches a route (outermost first): the catch-all; a limit on
requests in flight (``503 server.busy``); a check of the path and query string
(no NUL or control characters); the body reader, which authenticates a bearer
token *before* reading the body (a bad token costs the hub no body bytes, and
a request without a token may send at most ``max_preauth_body_bytes``), bounds
and inflates the body, and refuses one that is not UTF-8.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import re
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub import service, timestamps
from hub.dashboard import web as dashboard
from hub.db import Database, hub_epoch, migrate
from hub.errors import HubError
from hub.ingest import hub_origin_op, process_push, utc_now
from hub.watch import DEFAULT_POLL_S, ChangeWatch
from sync.protocol import (
    API_PREFIX,
    ID_PATTERN,
    MAX_BODY_BYTES,
    MAX_INT,
    MAX_PULL_BYTES,
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

MAX_PREAUTH_BODY_BYTES = 64 * 1024  # enrollment and the dashboard login need a few hundred
MAX_CONCURRENT_REQUESTS = 64  # per process; the database pool holds 30 connections
# Long-polls one station holds open at once (per process): its engine keeps one; a
# second covers a reconnect racing the first's end. More answer at once.
MAX_WAITS_PER_STATION = 2


@dataclass(frozen=True)
class HubSettings:
    database_url: str
    migrate_on_start: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    # A request that carries no station token (enroll, dashboard login) may send this much.
    max_preauth_body_bytes: int = MAX_PREAUTH_BODY_BYTES
    # Requests in flight per process; more get 503 server.busy with Retry-After.
    max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS
    clock: Callable[[], datetime] = field(default=utc_now)
    dashboard_refresh_s: int = 30  # how often the dashboard page refetches its figures
    lookup_limit: int = service.LOOKUP_LIMIT  # person look-ups per station per window
    lookup_window_s: int = service.LOOKUP_WINDOW_S
    max_pull_bytes: int = MAX_PULL_BYTES
    watch_poll_s: float = DEFAULT_POLL_S  # long-poll pulls: how often commits of other processes are looked for
    # The longest a pull may wait for a change (0: no long-polls; the station then syncs on
    # its own schedule). A station's ``wait`` is cut to this.
    long_poll_max_s: float = MAX_PULL_WAIT_S
    # Long-polls one station may hold open at once (per process); more answer at once.
    max_waits_per_station: int = MAX_WAITS_PER_STATION

    @classmethod
    def from_env(cls, database_url: str, environ: dict[str, str] | None = None, **over: Any) -> HubSettings:
        """Settings from ``TRAMTIEM_HUB_<FIELD>`` variables (integers), then ``over``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in (
            "max_body_bytes",
            "max_preauth_body_bytes",
            "max_concurrent_requests",
            "lookup_limit",
            "lookup_window_s",
            "max_pull_bytes",
            "max_waits_per_station",
        ):
            raw = env.get(f"TRAMTIEM_HUB_{name.upper()}")
            if raw is not None:
                values[name] = int(raw)
        values |= {k: v for k, v in over.items() if v is not None}
        for name, value in values.items():
            if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
                raise ValueError(f"{name} must be positive")
        return cls(database_url=database_url, **values)


def _error(
    status: int,
    code: str,
    message: str,
    detail: dict[str, Any] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, detail=detail or {})
    headers = None
    retry = (detail or {}).get("retry_after_s")
    if status in (429, 503) and isinstance(retry, int):
        headers = {"Retry-After": str(retry)}
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


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
        except (PoolTimeout, OperationalError) as exc:
            # The database is overloaded or unreachable: a "retry later", not a bug.
            log.warning("database unavailable (%s) on %s", type(exc).__name__, scope.get("path"))
            if not started:
                await _error(
                    503, "server.busy", "the hub is busy; retry later", {"retry_after_s": 5}
                )(scope, receive, send)
        except Exception as exc:
            # Type and path only: exception messages may quote the data that failed.
            log.error(
                "unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path")
            )
            if not started:
                await _error(500, "internal", "internal error")(scope, receive, send)


SLOT_KEY = "tramtiem.slot"  # the request's ConcurrencySlot in its ASGI scope


@dataclass
class ConcurrencySlot:
    """A request's place among those in flight; a long-poll gives it back while it waits."""

    owner: ConcurrencyMiddleware
    held: bool = True

    def release(self) -> None:
        if self.held:
            self.held = False
            self.owner.in_flight -= 1

    def acquire(self) -> bool:
        """Take a place again; False at the limit (the request then answers what it has)."""
        if not self.held:
            if self.owner.in_flight >= self.owner.limit:
                return False
            self.owner.in_flight += 1
            self.held = True
        return True


async def _take(slot: ConcurrencySlot, deadline: float) -> bool:
    """Take ``slot`` again before ``deadline`` (event-loop time); False if there was no room."""
    loop = asyncio.get_running_loop()
    for _ in range(10_000):  # bounded; the deadline ends it first
        if slot.acquire():
            return True
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.02)
    return False


class ConcurrencyMiddleware:
    """At most ``limit`` requests in flight in this process; the rest get 503 at once.

    Waiting requests would only pile up on the database pool (whose timeout
    would then answer them late); a quick ``503 server.busy`` with
    ``Retry-After`` lets a station back off and keeps the hub responsive.
    Health checks are not counted, nor a long-poll pull while it waits
    (:class:`ConcurrencySlot`).
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or str(scope.get("path", "")).endswith("/health"):
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.limit:
            await _error(
                503,
                "server.busy",
                "the hub is busy; retry later",
                {"retry_after_s": 2, "max_concurrent_requests": self.limit},
            )(scope, receive, send)
            return
        self.in_flight += 1
        slot = ConcurrencySlot(self)
        scope[SLOT_KEY] = slot
        try:
            await self.app(scope, receive, send)
        finally:
            slot.release()


# Percent-escapes of C0 control characters (NUL included) and DEL in a query string.
_BAD_QUERY = re.compile(rb"%(?:[01][0-9a-fA-F]|7[fF])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class RequestLineMiddleware:
    """Paths and query strings with control characters (NUL, …) are refused with 422.

    PostgreSQL cannot store a NUL in text, and no honest client sends one: a
    query parameter like ``replica_epoch=%00`` must never reach a query.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            qs = scope.get("query_string", b"")
            path = str(scope.get("path", ""))
            if (
                _BAD_QUERY.search(qs)
                or any(b < 0x20 or b == 0x7F for b in qs)
                or _CONTROL.search(path)
                or "\ufffd" in path  # a percent-escape that is not UTF-8
            ):
                await _error(
                    422,
                    "request.invalid",
                    "the path or query string holds control characters or bad escapes",
                )(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Anything in raw JSON that check_safe might refuse: an escaped control character
# (NUL and the rest of C0 appear only escaped in JSON) or surrogate, non-finite
# numbers, digit runs long enough to exceed BIGINT. A superset (an escaped "é"
# matches too): a hit only means the body gets the full walk. Substring tests run at C speed
# (a regex alternation over a push body cost more than the walk it saves).
_MARKERS = (b"\\u00", b"\\ud", b"\\uD", b"NaN", b"Infinity")
_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_NUMBER = b"0" * 19


def _suspect_json(body: bytes) -> bool:
    return any(m in body for m in _MARKERS) or _LONG_NUMBER in body.translate(_DIGITS_TO_ZERO)


class BodyMiddleware:
    """Bounded request bodies, gzip accepted, the bearer token checked before the body is read.

    * A request with ``Authorization: Bearer …`` is authenticated first: an
      unknown or revoked token gets its 401/403 without a byte of the body read.
      The caller found is handed to the route (``scope["state"]["caller"]``).
    * Without a token (enrollment, the dashboard's forms) the body may be at most
      ``preauth_bytes``; with one, ``max_bytes`` (after decompression): else 413.
    * The body must be UTF-8 (422): ``json.loads`` would otherwise turn raw
      surrogate bytes into text no database can store.
    """

    def __init__(
        self, app: ASGIApp, max_bytes: int, preauth_bytes: int, db: Database | None = None
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.preauth_bytes = preauth_bytes
        self.db = db

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        state = dict(scope.get("state") or {})
        limit = self.preauth_bytes
        authorization = headers.get("authorization", "")
        if authorization and self.db is not None and authorization[:7].lower() == "bearer ":
            try:
                check_safe(authorization, "authorization")
                state["caller"] = await run_in_threadpool(service.authenticate, self.db, authorization)
            except HubError as exc:
                await _error(exc.status, exc.code, exc.message, exc.detail)(scope, receive, send)
                return
            limit = self.max_bytes

        def too_large() -> JSONResponse:
            return _error(413, "request.too_large", "request body too large", {"max_bytes": limit})

        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
            await _error(415, "request.unsupported_encoding", "only gzip bodies are accepted")(
                scope, receive, send
            )
            return
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await too_large()(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await too_large()(scope, receive, send)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        body = b"".join(chunks)
        if encoding == "gzip":
            try:
                inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                # max_length bounds memory: a tiny bomb cannot inflate past the limit.
                body = inflater.decompress(body, limit + 1)
                too_big = len(body) > limit or bool(inflater.unconsumed_tail)
            except zlib.error:
                await _error(400, "request.bad_encoding", "the gzip body does not decompress")(
                    scope, receive, send
                )
                return
            if too_big:
                await too_large()(scope, receive, send)
                return
        if not body.isascii():
            try:
                body.decode("utf-8")  # strict: raw surrogates (ED A0 80 …) are not UTF-8
            except UnicodeDecodeError:
                await _error(422, "request.invalid", "the body is not valid UTF-8")(
                    scope, receive, send
                )
                return
        new_headers = [
            (k, v)
            for k, v in scope.get("headers", [])
            if k.lower() not in (b"content-encoding", b"content-length")
        ]
        # One scan of the raw JSON spares the endpoints a walk of every value when
        # nothing in the body could be what check_safe refuses.
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


_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_safe(obj: Any, where: str = "body") -> None:
    """Refuse what no honest client sends and a database would choke on (→ 422, never 500).

    Control characters in text (NUL and the rest of C0 but tab, line feed and
    carriage return), lone surrogates, non-finite floats, integers beyond BIGINT.
    """
    if isinstance(obj, str):
        if _TEXT_CONTROL.search(obj):
            raise HubError(
                422, "request.invalid", "text contains a control character", location=where
            )
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


# ---- bodies parsed by the route itself ---------------------------------------------


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a route that parses ``model`` from the raw bytes itself
    (the schema is added to the components by :func:`_with_components`)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"content": {"application/json": {"schema": ref}}, "required": True}}


def _with_components(app: FastAPI, *models: type[BaseModel]) -> None:
    """Put ``models`` (and the models they use) into the app's OpenAPI components."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = default()
            comps = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                js = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in js.pop("$defs", {}).items():
                    comps.setdefault(name, sub)
                comps.setdefault(model.__name__, js)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as FastAPI reports a body's: located under ``body``, no input echoed."""
    return [
        {"loc": ("body", *e["loc"]), "type": e["type"], "msg": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]


# ---- the app -------------------------------------------------------------------------

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 503)
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
    waits: dict[str, int] = {}  # long-polls waiting, per station (this process)

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
        _check_version(req.protocol_version)
        check_safe(req.model_dump())
        return service.enroll(db, req, now=clock())

    def push_sync(body: bytes, who: service.Caller, plain: bool) -> Response:
        # One pass from bytes to the model (pydantic's JSON parser validates as it
        # reads), and the answer serialized once: FastAPI's own route would json.loads
        # the body, validate the dict, and validate the 500 results again on the way
        # out (issue 15: a tenth of the hub's CPU per push).
        try:
            req = PushRequest.model_validate_json(body)
        except ValidationError as exc:
            if not any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
                raise RequestValidationError(_body_errors(exc)) from None
            # What pydantic's parser refuses but Python's reads (NaN, lone surrogates)
            # goes the old way, so it is refused as before: by the schema or check_safe.
            try:
                obj = json.loads(body)
            except ValueError:
                raise HubError(400, "request.malformed_json", "the body is not valid JSON") from None
            try:
                req = PushRequest.model_validate(obj)
            except ValidationError as exc2:
                raise RequestValidationError(_body_errors(exc2)) from None
        if req.station_id != who.station_id:
            raise HubError(403, "auth.station_mismatch", "station_id does not match the token")
        _check_version(req.protocol_version)
        if not plain:
            check_safe(req.model_dump())
        now = clock()
        sent = timestamps.parse_ts(req.sent_at)
        skew_ms = int((sent - now).total_seconds() * 1000) if sent is not None else 0
        skew_ms = max(-MAX_INT, min(MAX_INT, skew_ms))
        results, expected = process_push(
            db, who.station_id, req, now=timestamps.utc_iso_ms(now), skew_ms=skew_ms
        )
        watch.poke()  # siblings waiting on a long-poll pull look now
        answer = PushResponse.model_construct(
            protocol_version=PROTOCOL_VERSION,
            results=results,
            expected_next_op_seq=expected,
            hub_epoch=epoch,
            server_time=timestamps.utc_iso_ms(clock()),
            clock_skew_ms=skew_ms,
        )
        return Response(answer.model_dump_json(), media_type="application/json")

    @app.post(
        API_PREFIX + "/push",
        response_model=PushResponse,
        tags=["sync"],
        openapi_extra=_json_body(PushRequest),
    )
    async def push(request: Request, who: Auth) -> Response:
        """Apply ops in op_seq order; one result per op processed (see docs/protocol.md)."""
        body = await request.body()
        return await run_in_threadpool(
            push_sync, body, who, bool(getattr(request.state, "body_plain", False))
        )

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
                if slot is not None and not await _take(slot, deadline):
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

    @app.post(API_PREFIX + "/tally", response_model=TallyResponse, tags=["sync"])
    def tally(req: TallyRequest, who: Auth) -> TallyResponse:
        """The station's signed count of doses entered, pending and acknowledged."""
        _check_version(req.protocol_version)
        check_safe(req.model_dump())
        service.record_tally(db, who, req, now=clock())
        return TallyResponse(accepted=True, server_time=timestamps.utc_iso_ms(clock()))

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

    dashboard.install(app, db, settings)  # HTML for the committee, its own login

    # Innermost first: the last one added sees a request first.
    _with_components(app, PushRequest)
    # Level 6: the same bytes within 0.5% as the default 9, in a third of the time.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    app.add_middleware(
        BodyMiddleware,
        max_bytes=settings.max_body_bytes,
        preauth_bytes=settings.max_preauth_body_bytes,
        db=db,
    )
    app.add_middleware(RequestLineMiddleware)
    app.add_middleware(ConcurrencyMiddleware, limit=settings.max_concurrent_requests)
    app.add_middleware(CatchAllMiddleware)
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers (the CLI migrates first)."""
    url = os.environ["TRAMTIEM_HUB_DATABASE_URL"]
    return create_app(HubSettings.from_env(url, migrate_on_start=False))
