"""Every error the hub answers is a JSON :class:`~sync.protocol.ErrorBody` with a stable code."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from hub.errors import HubError
from sync.protocol import ErrorBody

# The error responses every route may give, for the OpenAPI document (FastAPI's `responses` type).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 408, 409, 413, 422, 429, 500, 503)
}


def error_response(
    status: int,
    code: str,
    message: str,
    detail: dict[str, object] | None = None,
) -> JSONResponse:
    body = ErrorBody(code=code, message=message, detail=detail or {})
    headers = None
    retry = (detail or {}).get("retry_after_s")
    if status in (429, 503) and isinstance(retry, int):
        headers = {"Retry-After": str(retry)}
    return JSONResponse(status_code=status, content=body.model_dump(mode="json"), headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """HubError, schema failures and Starlette's own HTTP errors all answer an ErrorBody."""

    @app.exception_handler(HubError)
    async def _hub_error(_r: Request, exc: HubError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "request.malformed_json", "the body is not valid JSON")
        # Locations and error types only: never echo the input back (it may be personal data).
        fields = [
            {"loc": [str(p) for p in e.get("loc", ())][:8], "type": str(e.get("type", ""))}
            for e in errors[:20]
        ]
        return error_response(
            422, "request.invalid", "the request does not match the schema", {"errors": fields}
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 401: "auth.missing_token"}
        return error_response(
            exc.status_code, codes.get(exc.status_code, f"http.{exc.status_code}"), str(exc.detail)
        )

