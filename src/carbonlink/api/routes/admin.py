"""The administration page: an organization's users, API keys and OAuth2 clients (admins only).

Every form posts with the page's CSRF token and answers with a redirect to the page, except the
two that create a secret: those render the page with the secret shown once.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from carbonlink.api import security
from carbonlink.api.deps import Context, ServiceContext
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.api.schema import ROLES
from carbonlink.api.security import ForbiddenError, Principal
from carbonlink.errors import InputError

router = APIRouter(prefix="/admin", include_in_schema=False)
PAGE = "/admin/users"
# A form sends the token as a field; a script may send the X-CSRF-Token header instead.
Csrf = Annotated[str | None, Form(max_length=100)]
Name = Annotated[str, Form(min_length=1, max_length=200, pattern=r"^[^\x00]*$")]
RoleField = Annotated[str, Form(max_length=16)]


def _admin(request: Request, ctx: ServiceContext, csrf_token: str | None = None) -> Principal:
    """The caller, an administrator; on a form post also checks the CSRF token."""
    caller = _page_caller(request, ctx)
    if request.method == "POST":
        sent = csrf_token or request.headers.get("x-csrf-token", "")
        if not security.same_secret(caller.csrf_token, sent):
            raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    caller.require("admin")
    return caller


def _admin_caller(request: Request, ctx: Context, csrf_token: Csrf = None) -> Principal:
    # A dependency, so that a caller who is not an administrator is refused before the form's
    # fields are validated (403, never 422 naming the fields).
    return _admin(request, ctx, csrf_token)


Admin = Annotated[Principal, Depends(_admin_caller)]


def _role(role: str) -> str:
    if role not in ROLES:
        raise InputError(f"unknown role '{role}'", hint=f"choose one of {', '.join(ROLES)}")
    return role


def _page(
    request: Request, ctx: ServiceContext, caller: Principal, status_code: int = 200, **shown: Any
) -> HTMLResponse:
    org = caller.organization_id
    return _render(
        request,
        ctx,
        "admin_users.html",
        caller,
        status_code,
        nav="admin",
        roles=ROLES,
        users=security.organization_users(ctx.engine, org),
        keys=security.organization_api_keys(ctx.engine, org),
        clients=security.organization_clients(ctx.engine, org),
        **shown,
    )


@router.get("/users")
def admin_users(request: Request, ctx: Context) -> HTMLResponse:
    return _page(request, ctx, _admin(request, ctx))


@router.post("/users")
def admin_invite(
    request: Request,
    ctx: Context,
    caller: Admin,
    email: Annotated[str, Form(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")],
    role: RoleField,
    display_name: Annotated[str, Form(max_length=200, pattern=r"^[^\x00]*$")] = "",
    locale: Annotated[str, Form(pattern=r"^(zh|en)$")] = "zh",
) -> HTMLResponse:
    _user_id, password = security.invite_user(
        ctx.accounts, caller.organization_id, email, _role(role), display_name or None, locale
    )
    return _page(
        request, ctx, caller, 201, secret={"kind": "user", "name": email, "value": password}
    )


def _user_action(ctx: ServiceContext, caller: Principal, user_id: str, **change: Any) -> Response:
    org = caller.organization_id
    if security.organization_user(ctx.engine, org, user_id) is None:
        raise NotFoundError("no user with this id in your organization", record=user_id)
    if "role" in change:
        security.set_user_role(ctx.engine, org, user_id, _role(change["role"]), caller.subject)
    if "disabled" in change:
        security.set_user_disabled(ctx.engine, org, user_id, change["disabled"], caller.subject)
    return RedirectResponse(PAGE, status_code=303)


@router.post("/users/{user_id}/reset-link")
def admin_reset_link(user_id: str, request: Request, ctx: Context, caller: Admin) -> HTMLResponse:
    """A one-time link for the user to set a new password, shown once (as the API issues it)."""
    from datetime import timedelta

    found = security.organization_user(ctx.engine, caller.organization_id, user_id)
    if found is None:
        raise NotFoundError("no user with this id in your organization", record=user_id)
    token, _expires = ctx.accounts.issue_password_reset(
        caller.organization_id,
        user_id,
        lifetime=timedelta(hours=ctx.settings.password_reset_hours),
        issued_by=caller.subject,
    )
    link = f"{ctx.settings.service_url}/password-reset?token={token}"
    return _page(
        request, ctx, caller, 201, secret={"kind": "reset", "name": found.email, "value": link}
    )


@router.post("/users/{user_id}/role")
def admin_user_role(
    user_id: str, request: Request, ctx: Context, caller: Admin, role: RoleField = ""
) -> Response:
    return _user_action(ctx, caller, user_id, role=role)


@router.post("/users/{user_id}/disable")
def admin_user_disable(user_id: str, request: Request, ctx: Context, caller: Admin) -> Response:
    return _user_action(ctx, caller, user_id, disabled=True)


@router.post("/users/{user_id}/enable")
def admin_user_enable(user_id: str, request: Request, ctx: Context, caller: Admin) -> Response:
    return _user_action(ctx, caller, user_id, disabled=False)


@router.post("/api-keys")
def admin_create_key(
    request: Request, ctx: Context, caller: Admin, name: Name, role: RoleField
) -> HTMLResponse:
    key = ctx.accounts.create_api_key(caller.organization_id, name, _role(role))
    return _page(request, ctx, caller, 201, secret={"kind": "key", "name": name, "value": key})


@router.post("/api-keys/{key_id}/revoke")
def admin_revoke_key(key_id: str, request: Request, ctx: Context, caller: Admin) -> Response:
    if not security.revoke_api_key(ctx.engine, caller.organization_id, key_id):
        raise NotFoundError("no active API key with this id in your organization", record=key_id)
    return RedirectResponse(PAGE, status_code=303)


@router.post("/oauth-clients")
def admin_create_client(
    request: Request, ctx: Context, caller: Admin, name: Name, role: RoleField
) -> HTMLResponse:
    client_id, secret = ctx.accounts.create_client(caller.organization_id, name, _role(role))
    return _page(
        request,
        ctx,
        caller,
        201,
        secret={"kind": "client", "name": name, "client_id": client_id, "value": secret},
    )


@router.post("/oauth-clients/{client_id}/delete")
def admin_delete_client(client_id: str, request: Request, ctx: Context, caller: Admin) -> Response:
    if not security.delete_client(ctx.engine, caller.organization_id, client_id):
        raise NotFoundError("no OAuth client with this id in your organization", record=client_id)
    return RedirectResponse(PAGE, status_code=303)
