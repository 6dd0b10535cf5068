"""The hub's ASGI middlewares, outermost first as a request meets them.

The catch-all; a limit on requests in flight (``503 server.busy``); a check of
the path and query string (no NUL or control characters); the body reader,
which authenticates a bearer token *before* reading the body (a bad token costs
the hub no body bytes, and a request without a token may send at most
``max_preauth_body_bytes``), bounds and inflates the body, and refuses one that
is not UTF-8.
"""

from __future__ import annotations

import asyncio
import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.db import Database
from hub.errors import HubError
from hub.http_errors import error_response
from hub.hygiene import check_safe
from sync.protocol import RELAY_PREFIX

log = logging.getLogger(__name__)


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
                await error_response(
                    503, "server.busy", "the hub is busy; retry later", {"retry_after_s": 5}
                )(scope, receive, send)
        except Exception as exc:
            # Type and path only: exception messages may quote the data that failed.
            log.error(
                "unhandled %s on %s %s", type(exc).__name__, scope.get("method"), scope.get("path")
            )
            if not started:
                await error_response(500, "internal", "internal error")(scope, receive, send)


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


async def retake_slot(slot: ConcurrencySlot, deadline: float) -> bool:
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
            await error_response(
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
                await error_response(
                    422,
                    "request.invalid",
                    "the path or query string holds control characters or bad escapes",
                )(scope, receive, send)
                return
        await self.app(scope, receive, send)


# Anything in raw JSON that check_safe might refuse: an escaped control character
# (NUL and the rest of C0 appear only escaped in JSON: ``\u0000``…, ``\b``, ``\f``)
# or surrogate, non-finite numbers, digit runs long enough to exceed BIGINT. A superset
# (an escaped "é" matches too): a hit only means the body gets the full walk. Substring
# tests run at C speed (a regex alternation over a push body cost more than the walk it
# saves). The escapes are looked for only in a body with a backslash, "Infinity" only in
# one with an "I": a one-byte test is a memchr (~0.01 ms for a push's 800 kB against
# ~0.5 ms for each longer marker; issue 15, phase 7), and a push body rarely holds either.
# ``\b`` and ``\f`` (JSON's short escapes of two of those control characters) went
# unchecked before phase 8.
_ESCAPES = (b"\\u00", b"\\ud", b"\\uD", b"\\b", b"\\f")
# Digits all "0", "E" as "e" and "+" left out: every way of writing a number's exponent is
# then one marker below (``1E+400`` reads ``0e000``).
_NORMALIZE = bytes.maketrans(b"123456789E", b"000000000e")
_LONG_NUMBER = b"0" * 19
# A number with an exponent of three digits or more (after the digits are all made 0):
# ``1e400`` is read as infinity, which only check_safe refuses. Only a number's: text that
# looks alike is everywhere in a push (``"…-03e412…"`` in ids, hex digests), and sending
# every such body to the full walk cost a fifth of the hub's push (stop 25's first version).
# One marker, not four (``0e000``, ``0E000``, ``0e+000``, ``0E+000`` until phase 9 of issue 15):
# each is a pass over the body, ~0.5 ms for a push's 800 kB. A superset of what the four found
# (with the "+" left out, text such as ``":+1e400"`` or ``"12+34…"`` may read as a number).
_BIG_EXPONENT = b"0e000"
# What a JSON number follows (or the body's start); text is inside quotes.
_BEFORE_NUMBER = frozenset(b":,[ \t\r\n")
_MANTISSA = frozenset(b"0.")
_MAX_LOOKALIKES = 10_000  # more look-alikes than this: the full walk (the scan stays linear)
_MAX_N = 4_000  # "N"s looked at one by one; past them, one substring search of the rest


def _suspect_json(body: bytes) -> bool:
    if b"\\" in body and any(m in body for m in _ESCAPES):
        return True
    if b"I" in body and b"Infinity" in body:
        return True
    if _has_nan(body):
        return True
    digits = body.translate(_NORMALIZE, b"+")
    return _LONG_NUMBER in digits or _big_exponent(digits)


def _has_nan(body: bytes) -> bool:
    """``b"NaN" in body``, from each "N" (a memchr) while there are few: a substring search
    for "NaN" steps a byte or two at a time through text full of "a" (0.5 ms for a push's
    800 kB, against ~0.1 for its few hundred "N" of names; issue 15, phase 10)."""
    at = body.find(b"N")
    for _ in range(_MAX_N):
        if at < 0:
            return False
        if body.startswith(b"NaN", at):
            return True
        at = body.find(b"N", at + 1)
    return at >= 0 and body.find(b"NaN", at) >= 0


def _big_exponent(digits: bytes) -> bool:
    """Whether a number (not text) in the digit-flattened body has an exponent of 3+ digits."""
    at = digits.find(_BIG_EXPONENT)
    for _ in range(_MAX_LOOKALIKES):
        if at < 0:
            return False
        start = at  # back over the mantissa, then its sign: what comes before says number or text
        while start > 0 and digits[start - 1] in _MANTISSA:
            start -= 1
        if start > 0 and digits[start - 1] == 0x2D:  # "-"
            start -= 1
        if start == 0 or digits[start - 1] in _BEFORE_NUMBER:
            return True
        at = digits.find(_BIG_EXPONENT, at + 1)
    return True  # more look-alikes than that: the full walk


class _Refused(Exception):
    """A request body refused before the app saw it; ``response`` is the answer."""

    def __init__(self, response: JSONResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


class _Disconnected(Exception):
    """The client went away while its body was being read."""


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
        self,
        app: ASGIApp,
        max_bytes: int,
        preauth_bytes: int,
        db: Database | None = None,
        refresh: Callable[[], Callable[[], bool] | None] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.preauth_bytes = preauth_bytes
        self.db = db
        # A site hub's roster refresh (looked up per request: set once relay mode starts).
        self.refresh = refresh

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        headers = {
            k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])
        }
        state = dict(scope.get("state") or {})
        try:
            limit = await self._authenticate(headers, state, str(scope.get("path", "")))
            body = await self._read_body(headers, receive, limit)
        except _Refused as refused:
            await refused.response(scope, receive, send)
            return
        except _Disconnected:
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

    async def _authenticate(self, headers: dict[str, str], state: dict[str, object], path: str) -> int:
        """The body limit for this request; a bearer token is checked here, before any body byte.

        On the relay paths (a site hub calling the province) the token must be a relay's,
        everywhere else a station's: neither opens the other's doors.
        """
        authorization = headers.get("authorization", "")
        if authorization and self.db is not None and authorization[:7].lower() == "bearer ":
            try:
                check_safe(authorization, "authorization")
                if path.startswith(RELAY_PREFIX + "/"):
                    from hub.relay import authenticate_relay

                    state["relay"] = await run_in_threadpool(authenticate_relay, self.db, authorization)
                else:
                    from hub.routes.context import authenticate_station

                    refresh = self.refresh() if self.refresh is not None else None
                    state["caller"] = await run_in_threadpool(
                        authenticate_station, self.db, authorization, refresh
                    )
            except HubError as exc:
                raise _Refused(error_response(exc.status, exc.code, exc.message, exc.detail)) from None
            return self.max_bytes
        return self.preauth_bytes

    async def _read_body(self, headers: dict[str, str], receive: Receive, limit: int) -> bytes:
        """The whole body, inflated and checked: at most ``limit`` bytes, UTF-8."""

        def too_large() -> _Refused:
            return _Refused(
                error_response(413, "request.too_large", "request body too large", {"max_bytes": limit})
            )

        encoding = headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("identity", "gzip", ""):
            raise _Refused(
                error_response(415, "request.unsupported_encoding", "only gzip bodies are accepted")
            )
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large()
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise too_large()
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
                raise _Refused(
                    error_response(400, "request.bad_encoding", "the gzip body does not decompress")
                ) from None
            if too_big:
                raise too_large()
        if not body.isascii():
            try:
                body.decode("utf-8")  # strict: raw surrogates (ED A0 80 …) are not UTF-8
            except UnicodeDecodeError:
                raise _Refused(
                    error_response(422, "request.invalid", "the body is not valid UTF-8")
                ) from None
        return body
