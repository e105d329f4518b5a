"""The one place where carbonlink errors become HTTP problem responses (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from carbonlink.api.security import AuthenticationError, ForbiddenError, RateLimitedError
from carbonlink.errors import (
    CarbonlinkError,
    ConfigError,
    InputError,
    StoreError,
)
from carbonlink.monitor.notify import NotificationError


class NotFoundError(CarbonlinkError, LookupError):
    """The record does not exist in the caller's organization."""


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(examples=[404])
    detail: str = Field(examples=["facility 'fac-0123' not found"])
    hint: str | None = Field(default=None, examples=["list facilities with GET /api/v1/facilities"])
    record: str | None = Field(default=None, examples=["fac-0123"])
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Invalid fields of the request, one entry each (422 only).",
        examples=[[{"loc": ["body", "readings", 0, "ts"], "msg": "Input should be a datetime"}]],
    )


# Order matters: the first matching class wins, so subclasses come before their parents.
STATUS_OF: list[tuple[type[CarbonlinkError], int, str]] = [
    (AuthenticationError, 401, "Unauthorized"),
    (ForbiddenError, 403, "Forbidden"),
    (NotFoundError, 404, "Not Found"),
    (RateLimitedError, 429, "Too Many Requests"),
    (InputError, 422, "Unprocessable Content"),
    (StoreError, 503, "Service Unavailable"),
    (NotificationError, 502, "Bad Gateway"),
    (ConfigError, 500, "Internal Server Error"),
]


def status_of(exc: CarbonlinkError) -> tuple[int, str]:
    """HTTP status and title of a carbonlink error (unlisted: LookupError → 404, else 400)."""
    for cls, status, title in STATUS_OF:
        if isinstance(exc, cls):
            return status, title
    if isinstance(exc, LookupError):
        return 404, "Not Found"
    return 400, "Bad Request"


def problem_response(exc: CarbonlinkError) -> JSONResponse:
    """The problem document for ``exc``."""
    status, title = status_of(exc)
    body = Problem(title=title, status=status, detail=exc.message, hint=exc.hint, record=exc.record)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(exc, RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after_s)
    return JSONResponse(
        body.model_dump(),
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def install_problem_handlers(
    app: FastAPI, html: Callable[[Request, CarbonlinkError, int], Response] | None = None
) -> None:
    """Register the mapping on ``app``; web pages (outside /api) get ``html`` when given."""

    async def handle(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, CarbonlinkError)
        if html is not None and not request.url.path.startswith("/api/"):
            return html(request, exc, status_of(exc)[0])
        return problem_response(exc)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": e.get("type")}
            for e in exc.errors()[:100]
        ]
        body = Problem(
            title="Unprocessable Content",
            status=422,
            detail=f"the request has {len(exc.errors())} invalid field(s)",
            hint="see 'errors' for each field and what it should be",
            errors=errors,
        )
        return JSONResponse(
            body.model_dump(), status_code=422, media_type="application/problem+json"
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        # Raised by routing itself: no route for the path (404), not for the method (405).
        assert isinstance(exc, StarletteHTTPException)
        error = http_error_as_carbonlink(request, exc)
        if html is not None and not request.url.path.startswith("/api/"):
            response = html(request, error, exc.status_code)
        else:
            response = problem_document(exc.status_code, error)
        response.headers.update(exc.headers or {})
        return response

    app.add_exception_handler(CarbonlinkError, handle)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(StarletteHTTPException, http_error)


def http_error_as_carbonlink(request: Request, exc: StarletteHTTPException) -> CarbonlinkError:
    """What a routing error says, worded as carbonlink errors are (message and hint)."""
    path = request.url.path
    if exc.status_code == 404:
        return NotFoundError(
            f"no resource at {path}", record=path, hint="see /api/docs for the API's paths"
        )
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return CarbonlinkError(
            f"{request.method} is not allowed on {path}",
            record=path,
            hint=f"use {allowed}" if allowed else "see /api/docs for the methods of each path",
        )
    return CarbonlinkError(str(exc.detail), record=path)


def problem_document(status: int, exc: CarbonlinkError, title: str | None = None) -> JSONResponse:
    """A problem response of a given status, worded from ``exc``."""
    body = Problem(
        title=title or HTTPStatus(status).phrase,
        status=status,
        detail=exc.message,
        hint=exc.hint,
        record=exc.record,
    )
    return JSONResponse(
        body.model_dump(), status_code=status, media_type="application/problem+json"
    )


INTERNAL_ERROR = CarbonlinkError(
    "the service failed to answer this request",
    hint="try again; if it fails again, the service's log has the cause",
)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses a route can return."""
    titles = {status: title for _cls, status, title in STATUS_OF}
    return {
        status: {
            "model": Problem,
            "description": titles.get(status, "Error"),
            "content": {"application/problem+json": {}},
        }
        for status in statuses
    }
