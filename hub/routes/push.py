"""``POST /push``: a station's ops, parsed in one pass from the raw bytes and applied in order.

The route reads the body itself rather than letting FastAPI parse it (issue 15):
the OpenAPI document still shows the request model (:func:`json_body`,
:func:`with_components`).
"""

from __future__ import annotations

import json
import zlib
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from hub import service, timestamps
from hub.errors import HubError
from hub.hygiene import check_safe, check_version
from hub.ingest import process_push
from hub.push_turns import FOLLOWS_HEADER, WINDOW, WINDOW_HEADER, Turn
from hub.routes.context import Auth, HubContext
from kernel import wire_fast
from sync.protocol import (
    API_PREFIX,
    MAX_INT,
    PROTOCOL_VERSION,
    OpResult,
    PushRequest,
    PushResponse,
    RelayPushRequest,
)

# ---- bodies parsed by the route itself ---------------------------------------------

# Their validators with the usual timestamps checked in pydantic-core (kernel.wire_fast),
# built at import, before any request.
wire_fast.prepare(PushRequest, RelayPushRequest)


def json_body(model: type[BaseModel]) -> dict[str, object]:
    """The OpenAPI request body of a route that parses ``model`` from the raw bytes itself
    (the schema is added to the components by :func:`with_components`)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"content": {"application/json": {"schema": ref}}, "required": True}}


def with_components(app: FastAPI, *models: type[BaseModel]) -> None:
    """Put ``models`` (and the models they use) into the app's OpenAPI components."""
    default = app.openapi

    def openapi() -> dict[str, Any]:  # FastAPI's type of the OpenAPI document
        schema = app.openapi_schema
        if schema is None:
            schema = default()  # FastAPI keeps it as app.openapi_schema too
            comps = schema.setdefault("components", {}).setdefault("schemas", {})
            for model in models:
                js = model.model_json_schema(ref_template="#/components/schemas/{model}")
                for name, sub in js.pop("$defs", {}).items():
                    comps.setdefault(name, sub)
                comps.setdefault(model.__name__, js)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _body_errors(exc: ValidationError) -> list[dict[str, object]]:
    """pydantic's errors as FastAPI reports a body's: located under ``body``, no input echoed."""
    return [
        {"loc": ("body", *e["loc"]), "type": e["type"], "msg": e["msg"]}
        for e in exc.errors(include_url=False, include_input=False, include_context=False)
    ]



M = TypeVar("M", bound=BaseModel)


def parse_body(model: type[M], body: bytes) -> M:
    """``model`` from the raw bytes in one pass (422 on a schema mismatch, 400 on bad JSON)."""
    try:
        # The model's own answer; timestamps of the usual shapes checked in pydantic-core.
        return wire_fast.validate_json(model, body)
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
        return model.model_validate(obj)
    except ValidationError as exc2:
        raise RequestValidationError(_body_errors(exc2)) from None


# The answer gzipped as the app's GZipMiddleware does (hub.app gives it these two settings), but in
# the push's worker thread: the middleware hands an answer of 128 KiB or more (1,000 results)
# to a worker thread of its own, one more hop between the COMMIT and the answer on the wire
# (issue 15, phase 9). It passes an answer that has its Content-Encoding through unchanged.
ANSWER_GZIP_LEVEL = 6
ANSWER_GZIP_MIN_BYTES = 1024


def answer_response(data: bytes, gzip_ok: bool, headers: dict[str, str]) -> Response:
    """A JSON answer, gzipped (``gzip_ok``: the request accepts it) from ANSWER_GZIP_MIN_BYTES."""
    if gzip_ok and len(data) >= ANSWER_GZIP_MIN_BYTES:  # else the middleware's as before
        packer = zlib.compressobj(ANSWER_GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        data = packer.compress(data) + packer.flush()
        headers = {**headers, "Content-Encoding": "gzip", "Vary": "Accept-Encoding"}
    return Response(data, media_type="application/json", headers=headers)


def push_answer(answer: PushResponse, gzip_ok: bool) -> Response:
    """A push's answer: the serializer's bytes (``model_dump_json().encode()``'s, without
    the str between and its copy), gzipped when the station accepts it."""
    data = PushResponse.__pydantic_serializer__.to_json(answer)
    # The station may keep WINDOW batches in flight (hub.push_turns keeps their order).
    return answer_response(data, gzip_ok, {WINDOW_HEADER: str(WINDOW)})


async def _let_go(keep: list[object]) -> None:
    keep.clear()


def add_push_route(app: FastAPI, ctx: HubContext) -> None:
    db, clock, epoch, watch = ctx.db, ctx.clock, ctx.epoch, ctx.watch

    def push_sync(
        body: bytes, who: service.Caller, plain: bool, follows: bool, gzip_ok: bool, keep: list[object]
    ) -> Response:
        # A push of this station from here to its answer (hub.push_turns): a batch the
        # station sent behind it waits for it, and goes on at once if this one fails.
        with Turn(who.station_id) as turn:
            req, results, expected, skew_ms = apply_push(body, who, plain, follows, turn)
            turn.clean = not req.ops or expected > max(op.op_seq for op in req.ops)
        keep += (req, results)  # freed once the answer is out (see push below)
        watch.poke()  # siblings waiting on a long-poll pull look now
        answer = PushResponse.model_construct(
            protocol_version=PROTOCOL_VERSION,
            results=results,
            expected_next_op_seq=expected,
            hub_epoch=epoch,
            server_time=timestamps.utc_iso_ms(clock()),
            clock_skew_ms=skew_ms,
        )
        return push_answer(answer, gzip_ok)

    def apply_push(
        body: bytes, who: service.Caller, plain: bool, follows: bool, turn: Turn
    ) -> tuple[PushRequest, list[OpResult], int, int]:
        # One pass from bytes to the model (pydantic's JSON parser validates as it
        # reads), and the answer serialized once: FastAPI's own route would json.loads
        # the body, validate the dict, and validate the 500 results again on the way
        # out (issue 15: a tenth of the hub's CPU per push).
        req = parse_body(PushRequest, body)
        if req.station_id != who.station_id:
            raise HubError(403, "auth.station_mismatch", "station_id does not match the token")
        check_version(req.protocol_version)
        if not plain:
            check_safe(req.model_dump())
        if follows and req.ops:
            turn.wait(db, req.replica_epoch, min(op.op_seq for op in req.ops))
        now = clock()
        sent = timestamps.parse_ts(req.sent_at)
        skew_ms = int((sent - now).total_seconds() * 1000) if sent is not None else 0
        skew_ms = max(-MAX_INT, min(MAX_INT, skew_ms))
        results, expected = process_push(
            db, who.station_id, req, now=timestamps.utc_iso_ms(now), skew_ms=skew_ms,
            record=ctx.relay_record,
        )
        return req, results, expected, skew_ms

    @app.post(
        API_PREFIX + "/push",
        response_model=PushResponse,
        tags=["sync"],
        openapi_extra=json_body(PushRequest),
    )
    async def push(request: Request, who: Auth) -> Response:
        """Apply ops in op_seq order; one result per op processed (see docs/protocol.md)."""
        body = await request.body()
        keep: list[object] = []
        answer = await run_in_threadpool(
            push_sync, body, who, bool(getattr(request.state, "body_plain", False)),
            request.headers.get(FOLLOWS_HEADER) == "1", "gzip" in request.headers.get("accept-encoding", ""),
            keep,
        )
        # The parsed request and its results (tens of thousands of objects for 1,000 ops,
        # 1-2 ms to free) are let go on the event loop after the answer is sent, while the
        # station reads it, not between the COMMIT and the answer (issue 15, phase 9).
        answer.background = BackgroundTask(_let_go, keep)
        return answer
