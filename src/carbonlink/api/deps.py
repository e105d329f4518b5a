"""What every route is handed: the service context and the authenticated caller."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

import sqlalchemy as sa
from babel.support import NullTranslations
from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from carbonlink.api.auth_schemes import CSRF_HEADER, SESSION_COOKIE, declared
from carbonlink.api.dashboard import RunViewCache
from carbonlink.api.file_check import FileChecker
from carbonlink.api.overview import OverviewCache
from carbonlink.api.results import LiveAlerting
from carbonlink.api.security import (
    API_KEY_PREFIX,
    Accounts,
    AuthenticationError,
    ForbiddenError,
    LoginLimiter,
    Principal,
    same_secret,
)
from carbonlink.settings import Settings
from carbonlink.store.tenants import TenantData

LANG_COOKIE = "carbonlink_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PASSWORD_CHANGE_PATH = "/api/v1/me/password"


@dataclass
class ServiceContext:
    """Everything the routes share, built once by ``create_app()``."""

    settings: Settings
    engine: sa.Engine
    accounts: Accounts
    data: TenantData
    limiter: LoginLimiter
    templates: Jinja2Templates
    catalogues: dict[str, NullTranslations]
    overviews: OverviewCache
    alerting: LiveAlerting
    runs: RunViewCache = field(default_factory=RunViewCache)
    file_checks: FileChecker = field(default_factory=FileChecker)


async def context(request: Request) -> ServiceContext:
    """The service context of the app serving ``request``.

    A coroutine although it awaits nothing: FastAPI would run a plain function in a worker
    thread, a hand-off that costs more than the attribute lookup.
    """
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Context = Annotated[ServiceContext, Depends(context)]


def identify(request: Request, ctx: ServiceContext) -> Principal | None:
    """The caller from a bearer token, an API key header or the session cookie, else None."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
        found = (
            ctx.accounts.api_key_principal(token)
            if token.startswith(API_KEY_PREFIX)
            else ctx.accounts.token_principal(token)
        )
        if found is None:
            raise AuthenticationError("invalid or expired bearer token")
        return found
    key = request.headers.get("x-api-key")
    if key:
        found = ctx.accounts.api_key_principal(key)
        if found is None:
            raise AuthenticationError("invalid or revoked API key")
        return found
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        return ctx.accounts.session_principal(cookie)
    return None


def api_principal(
    request: Request, ctx: Context, _schemes: Annotated[None, Depends(declared)]
) -> Principal:
    """The authenticated caller of an API route; cookie callers must send the CSRF header."""
    found = identify(request, ctx)
    if found is None:
        raise AuthenticationError(
            "authentication required",
            hint="send 'Authorization: Bearer <token or API key>' or log in",
        )
    if found.must_change_password and request.url.path != PASSWORD_CHANGE_PATH:
        raise ForbiddenError(
            "choose a new password first",
            hint=f"POST your current and a new password to {PASSWORD_CHANGE_PATH}",
        )
    if found.via == "session" and request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not same_secret(found.csrf_token, sent):
            raise ForbiddenError(
                "missing or wrong CSRF token", hint=f"send the page's token in {CSRF_HEADER}"
            )
    return found


Caller = Annotated[Principal, Depends(api_principal)]


def requires(permission: str) -> Any:
    """Dependency: the caller, after checking that its role grants ``permission``."""

    def check(caller: Caller) -> Principal:
        caller.require(permission)
        return caller

    return Depends(check)


Reader = Annotated[Principal, requires("read")]
Writer = Annotated[Principal, requires("write")]
Admin = Annotated[Principal, requires("admin")]
