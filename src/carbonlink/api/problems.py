"""The one place where carbonlink errors become HTTP problem responses (RFC 9457)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from carbonlink.api.security import AuthenticationError, ForbiddenError, RateLimitedError
from carbonlink.errors import (
    CarbonlinkError,
    ConfigError,
    InputError,
    StoreError,
)


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

    app.add_exception_handler(CarbonlinkError, handle)
    app.add_exception_handler(RequestValidationError, invalid)


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
