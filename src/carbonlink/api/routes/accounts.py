"""Log-in and passwords: the login form, changing one's password, reset links.

The login form counts each attempt against shared budgets before checking the password (see
`security.LoginLimiter`). An address may have an account in several organizations: the password
is tried against each, and when it opens more than one the form asks which organization to
enter (only those it opened are named, so nobody learns of an account without its password).

Passwords change three ways: a user changes its own with the current one; an administrator
issues a one-time reset link (valid ``password_reset_hours``) that the user redeems; a user
created with a first password from an administrator must choose its own at the first log-in.
Every change ends all the user's sessions (the caller's own is replaced by a new one).
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from carbonlink.api.deps import (
    LANG_COOKIE,
    SESSION_COOKIE,
    Admin,
    Caller,
    Context,
    ServiceContext,
    identify,
)
from carbonlink.api.i18n import LANGUAGES
from carbonlink.api.problems import problem_responses
from carbonlink.api.routes.pages import LOGIN_CSRF_COOKIE, LoginRequired, _render, signed_in
from carbonlink.api.security import (
    DEVICE_COOKIE,
    DEVICE_LIFETIME,
    ForbiddenError,
    RateLimitedError,
    ServiceKey,
    same_secret,
    throttle_key,
)
from carbonlink.errors import CarbonlinkError, InputError

pages = APIRouter(include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["accounts"])
CHOICE_LIFETIME = timedelta(minutes=5)
CHANGE_PAGE = "/account/password"
Secret = Annotated[str, Form(max_length=1000)]
Password = Annotated[str, Field(min_length=1, max_length=1000)]


# login ---------------------------------------------------------------------------------------
def _login_form(
    request: Request, ctx: ServiceContext, csrf: str, status: int, **shown: object
) -> HTMLResponse:
    return _render(request, ctx, "login.html", None, status, login_csrf=csrf, **shown)


@pages.post("/login")
def login(
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    password: Secret = "",
    organization: Annotated[str, Form(max_length=64)] = "",
    choice: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Check the form's token, spend the budgets, try the password, open a session."""
    if not same_secret(request.cookies.get(LOGIN_CSRF_COOKIE), csrf_token):
        raise ForbiddenError("the login form expired", hint="reload the login page")
    key = ServiceKey(ctx.settings.key_bytes)
    if choice:
        return _chosen(request, ctx, key, csrf_token, choice, organization)
    address = email.strip().lower()
    client = request.client.host if request.client else "-"
    try:
        spent = ctx.limiter.begin(client, address, request.cookies.get(DEVICE_COOKIE))
    except RateLimitedError as exc:
        response = _login_form(request, ctx, csrf_token, 429, error="rate")
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    opened = ctx.accounts.authenticate(address, password)
    if not opened:
        return _login_form(request, ctx, csrf_token, 401, error="bad")
    ctx.limiter.succeeded(spent)
    if len(opened) == 1:
        return _signed_in(ctx, opened[0][0], address, _chosen_language(request))
    accounts = {org: user for user, org in opened}
    token = key.sign("login-choice", json.dumps([address, accounts]), CHOICE_LIFETIME)
    return _choose(request, ctx, csrf_token, token, accounts, 200)


def _choose(
    request: Request,
    ctx: ServiceContext,
    csrf: str,
    token: str,
    accounts: dict[str, str],
    status: int,
) -> HTMLResponse:
    choices = []
    for org_id in sorted(accounts):
        org = ctx.data.organization(org_id)
        choices.append({"id": org_id, "name": org.name if org else org_id})
    return _login_form(request, ctx, csrf, status, error=None, choice=token, choices=choices)


def _chosen(
    request: Request, ctx: ServiceContext, key: ServiceKey, csrf: str, choice: str, org: str
) -> Response:
    payload = key.unsign("login-choice", choice)
    if payload is None:
        return _login_form(request, ctx, csrf, 401, error="choice")
    address, accounts = json.loads(payload)
    user_id = accounts.get(org)
    if user_id is None:
        return _choose(request, ctx, csrf, choice, accounts, 422)
    return _signed_in(ctx, user_id, address, _chosen_language(request))


def _chosen_language(request: Request) -> str | None:
    """The language picked on the log-in page, which the new session starts in."""
    picked = request.cookies.get(LANG_COOKIE)
    return picked if picked in LANGUAGES else None


def _signed_in(
    ctx: ServiceContext, user_id: str, address: str, locale: str | None = None
) -> Response:
    session, _csrf = ctx.accounts.open_session(user_id, locale)
    principal = ctx.accounts.session_principal(session)
    if principal is not None and principal.must_change_password:
        landing = CHANGE_PAGE
    elif ctx.accounts.user_can(user_id, "read"):
        landing = "/"
    elif ctx.accounts.user_can(user_id, "exchange"):
        landing = "/portal"
    elif ctx.accounts.user_can(user_id, "lend"):
        landing = "/lender"
    else:
        landing = "/account"
    response = signed_in(ctx, session, landing, LOGIN_CSRF_COOKIE)
    # This browser has proven it knows the password: its later attempts spend its own budget.
    response.set_cookie(
        DEVICE_COOKIE,
        ctx.limiter.device_cookie(address),
        max_age=int(DEVICE_LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=ctx.settings.secure_cookies,
    )
    return response


# own password: page --------------------------------------------------------------------------
@pages.get(CHANGE_PAGE)
def password_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = identify(request, ctx)
    if caller is None or not caller.subject.startswith("user:"):
        raise LoginRequired()
    return _render(request, ctx, "account_password.html", caller, nav="account", error=None)


@pages.post(CHANGE_PAGE)
def change_password_page(
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    current_password: Secret = "",
    new_password: Secret = "",
    new_password_again: Secret = "",
) -> Response:
    caller = identify(request, ctx)
    if caller is None or not caller.subject.startswith("user:"):
        raise LoginRequired()
    if not same_secret(caller.csrf_token, csrf_token):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    try:
        if new_password != new_password_again:
            raise InputError("the two new passwords differ", hint="type the same password twice")
        _change_own(ctx, caller.subject[5:], current_password, new_password)
    except CarbonlinkError as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 422
        return _render(
            request, ctx, "account_password.html", caller, status, nav="account", error=str(exc)
        )
    session, _csrf = ctx.accounts.open_session(caller.subject[5:], caller.session_locale)
    return signed_in(ctx, session, "/account", "carbonlink_unused")


def _change_own(ctx: ServiceContext, user_id: str, current: str, new: str) -> int:
    """Change a user's own password; the number of its sessions ended.

    Each try spends the user's budget first: whoever holds a stolen session must not try
    current passwords without limit. Only a wrong current password keeps it spent.
    """
    budget = ctx.limiter.throttle.spend(
        throttle_key("password-change", user_id), ctx.settings.login_attempts
    )
    try:
        ended = ctx.accounts.change_password(user_id, current, new)
    except ForbiddenError:
        raise
    except CarbonlinkError:
        ctx.limiter.throttle.refund(budget)
        raise
    ctx.limiter.throttle.refund(budget)
    return ended


# reset link: page -----------------------------------------------------------------------------
@pages.get("/password-reset")
def reset_page(
    request: Request, ctx: Context, token: Annotated[str, Query(max_length=200)] = ""
) -> HTMLResponse:
    """The page a reset link opens: a new password, twice."""
    return _render(request, ctx, "password_reset.html", None, token=token, error=None)


@pages.post("/password-reset")
def reset_form(
    request: Request,
    ctx: Context,
    token: Annotated[str, Form(max_length=200)] = "",
    new_password: Secret = "",
    new_password_again: Secret = "",
) -> Response:
    """Redeem a reset link from its page; on success, on to the login form.

    The form carries no CSRF token of its own: the reset token it posts is the secret, and
    whoever has it can redeem it anyway.
    """
    try:
        if new_password != new_password_again:
            raise InputError("the two new passwords differ", hint="type the same password twice")
        _redeem(request, ctx, token, new_password)
    except CarbonlinkError as exc:
        status = 429 if isinstance(exc, RateLimitedError) else 422
        return _render(
            request, ctx, "password_reset.html", None, status, token=token, error=str(exc)
        )
    return RedirectResponse("/login", status_code=303)


def _redeem(request: Request, ctx: ServiceContext, token: str, new_password: str) -> None:
    client = request.client.host if request.client else "-"
    spent = ctx.limiter.throttle.spend(
        throttle_key("reset-addr", client), ctx.settings.login_address_attempts
    )
    ctx.accounts.redeem_password_reset(token, new_password)
    ctx.limiter.throttle.refund(spent)


# own password and resets: API ----------------------------------------------------------------
class PasswordChangeIn(BaseModel):
    current_password: Password = Field(examples=["the password you log in with"])
    new_password: Password = Field(examples=["four unrelated words here"])


class PasswordChanged(BaseModel):
    sessions_ended: int = Field(
        description="Sessions of the user that were ended (a session caller gets a new one).",
        examples=[2],
    )


class ResetIssued(BaseModel):
    user_id: str = Field(examples=["3f2a9c0e5b7d4e1f8a6b2c9d0e3f4a5b"])
    token: str = Field(
        description="Shown once: only its digest is stored.",
        examples=["mA3k…43 URL-safe characters…Q0"],
    )
    url: str = Field(
        description="The link to hand to the user.",
        examples=["https://carbon.example.com/password-reset?token=…"],
    )
    expires_at: datetime = Field(examples=["2026-12-08T09:30:00Z"])


class ResetRedeemIn(BaseModel):
    token: str = Field(min_length=1, max_length=200, examples=["mA3k…the token of the link…Q0"])
    new_password: Password = Field(examples=["four unrelated words here"])


@router.post(
    "/me/password",
    response_model=PasswordChanged,
    responses=problem_responses(401, 403, 422, 429),
)
def change_my_password(
    body: PasswordChangeIn, request: Request, response: Response, caller: Caller, ctx: Context
) -> PasswordChanged:
    """Change the caller's own password, giving the current one; the user's sessions end.

    A caller logged in with a session gets a new session cookie in the answer; API keys and
    OAuth2 clients have no password (403).
    """
    if not caller.subject.startswith("user:"):
        raise ForbiddenError(
            "only a user's log-in has a password", hint="log in as the user whose password it is"
        )
    user_id = caller.subject[5:]
    ended = _change_own(ctx, user_id, body.current_password, body.new_password)
    if caller.via == "session" and request.cookies.get(SESSION_COOKIE):
        session, _csrf = ctx.accounts.open_session(user_id, caller.session_locale)
        response.set_cookie(
            SESSION_COOKIE,
            session,
            max_age=int(ctx.settings.session_hours * 3600),
            httponly=True,
            samesite="lax",
            secure=ctx.settings.secure_cookies,
        )
    return PasswordChanged(sessions_ended=ended)


@router.post(
    "/users/{user_id}/password-reset",
    response_model=ResetIssued,
    status_code=201,
    responses=problem_responses(401, 403, 404, 422),
)
def issue_password_reset(
    user_id: Annotated[str, Path(max_length=64, pattern=r"^[0-9a-f]{1,64}$")],
    caller: Admin,
    ctx: Context,
) -> ResetIssued:
    """Issue a one-time link for one of the organization's users to set a new password (admin).

    The link works once, for ``password_reset_hours``; an earlier open link of the user stops
    working, and the user must choose a new password at the next log-in.
    """
    lifetime = timedelta(hours=ctx.settings.password_reset_hours)
    token, expires = ctx.accounts.issue_password_reset(
        caller.organization_id, user_id, lifetime=lifetime, issued_by=caller.subject
    )
    url = f"{ctx.settings.service_url}/password-reset?token={token}"
    return ResetIssued(user_id=user_id, token=token, url=url, expires_at=expires)


@router.post("/password-reset", status_code=204, responses=problem_responses(400, 422, 429))
def redeem_password_reset(body: ResetRedeemIn, request: Request, ctx: Context) -> Response:
    """Set a new password with a reset token (no log-in needed); the user's sessions end."""
    _redeem(request, ctx, body.token, body.new_password)
    return Response(status_code=204)
