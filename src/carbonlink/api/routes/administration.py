"""Administration under /api/v1: users, API keys and OAuth2 clients of an organization."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from carbonlink.api import security
from carbonlink.api.deps import Admin, Context
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.me import ApiKeyIn, ClientOut
from carbonlink.api.routes.v1 import PREFIX, ApiModel, Role

router = APIRouter(prefix=PREFIX)
ADMIN = problem_responses(401, 403, 404, 422)


class UserOut(BaseModel):
    id: str = Field(examples=["9b2f4c1d8e7a4b6c9d0e1f2a3b4c5d6e"])
    email: str = Field(examples=["li.wei@plant.example"])
    display_name: str = Field(examples=["Li Wei"])
    role: Role = Field(examples=["editor"])
    locale: str = Field(examples=["zh"])
    disabled: bool = Field(examples=[False])
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])


class UserIn(ApiModel):
    email: str = Field(
        min_length=3,
        max_length=254,
        pattern=r"^[^@\s]+@[^@\s]+$",
        examples=["li.wei@plant.example"],
    )
    role: Role = Field(examples=["editor"])
    display_name: str | None = Field(default=None, max_length=200, examples=["Li Wei"])
    locale: Literal["zh", "en"] = Field(default="zh", examples=["zh"])


class UserInvited(UserOut):
    password: str = Field(
        examples=["…"], description="First password, shown once: hand it to the person invited."
    )


class UserChange(ApiModel):
    role: Role | None = Field(default=None, examples=["viewer"])
    disabled: bool | None = Field(
        default=None,
        examples=[True],
        description="A disabled user cannot log in; its sessions end.",
    )


class ApiKeyInfoOut(BaseModel):
    id: str = Field(examples=["5f0c9a1e2b3d4c5e6f708192a3b4c5d6"])
    name: str = Field(examples=["ERP nightly export"])
    role: Role = Field(examples=["editor"])
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])
    revoked_at: datetime | None = Field(default=None, examples=[None])


class ClientInfoOut(BaseModel):
    client_id: str = Field(examples=["client-0a1b2c3d4e5f6a7b"])
    name: str = Field(examples=["MES gateway"])
    role: Role = Field(examples=["editor"])
    created_at: datetime = Field(examples=["2026-11-29T02:51:39Z"])


def _user_out(user: security.UserInfo) -> UserOut:
    return UserOut.model_validate(user, from_attributes=True)


def _admin_not_found(kind: str, ident: str, listing: str) -> NotFoundError:
    return NotFoundError(
        f"{kind} '{ident}' not found in your organization",
        record=ident,
        hint=f"list them with GET /api/v1/{listing}",
    )


@router.get("/users", response_model=list[UserOut], responses=ADMIN, tags=["administration"])
def list_users(caller: Admin, ctx: Context) -> list[UserOut]:
    """Users of the caller's organization (admin only)."""
    return [_user_out(u) for u in security.organization_users(ctx.engine, caller.organization_id)]


@router.post(
    "/users", response_model=UserInvited, status_code=201, responses=ADMIN, tags=["administration"]
)
def invite_user(body: UserIn, caller: Admin, ctx: Context) -> UserInvited:
    """Invite a user into the caller's organization with a role; the first password shows once."""
    user_id, password = security.invite_user(
        ctx.accounts,
        caller.organization_id,
        body.email,
        body.role,
        body.display_name,
        body.locale,
    )
    user = security.organization_user(ctx.engine, caller.organization_id, user_id)
    assert user is not None
    return UserInvited(**_user_out(user).model_dump(), password=password)


@router.patch("/users/{user_id}", response_model=UserOut, responses=ADMIN, tags=["administration"])
def change_user(user_id: str, body: UserChange, caller: Admin, ctx: Context) -> UserOut:
    """Change a user's role, or disable (log-in refused, sessions ended) or enable it."""
    org = caller.organization_id
    if security.organization_user(ctx.engine, org, user_id) is None:
        raise _admin_not_found("user", user_id, "users")
    if body.role is not None:
        security.set_user_role(ctx.engine, org, user_id, body.role, caller.subject)
    if body.disabled is not None:
        security.set_user_disabled(ctx.engine, org, user_id, body.disabled, caller.subject)
    user = security.organization_user(ctx.engine, org, user_id)
    assert user is not None
    return _user_out(user)


@router.get(
    "/api-keys", response_model=list[ApiKeyInfoOut], responses=ADMIN, tags=["administration"]
)
def list_api_keys(caller: Admin, ctx: Context) -> list[ApiKeyInfoOut]:
    """API keys of the caller's organization, revoked ones included (never their secrets)."""
    return [
        ApiKeyInfoOut.model_validate(k, from_attributes=True)
        for k in security.organization_api_keys(ctx.engine, caller.organization_id)
    ]


@router.delete("/api-keys/{key_id}", status_code=204, responses=ADMIN, tags=["administration"])
def revoke_api_key(key_id: str, caller: Admin, ctx: Context) -> Response:
    """Revoke an API key: the next request made with it is refused."""
    if not security.revoke_api_key(ctx.engine, caller.organization_id, key_id):
        raise _admin_not_found("active API key", key_id, "api-keys")
    return Response(status_code=204)


@router.get(
    "/oauth-clients", response_model=list[ClientInfoOut], responses=ADMIN, tags=["administration"]
)
def list_oauth_clients(caller: Admin, ctx: Context) -> list[ClientInfoOut]:
    """OAuth2 clients of the caller's organization (never their secrets)."""
    return [
        ClientInfoOut.model_validate(c, from_attributes=True)
        for c in security.organization_clients(ctx.engine, caller.organization_id)
    ]


@router.post(
    "/oauth-clients",
    response_model=ClientOut,
    status_code=201,
    responses=ADMIN,
    tags=["administration"],
)
def add_oauth_client(body: ApiKeyIn, caller: Admin, ctx: Context) -> ClientOut:
    """Register an OAuth2 client-credentials client; its secret is shown once."""
    client_id, secret = ctx.accounts.create_client(caller.organization_id, body.name, body.role)
    return ClientOut(name=body.name, role=body.role, client_id=client_id, client_secret=secret)


@router.delete(
    "/oauth-clients/{client_id}", status_code=204, responses=ADMIN, tags=["administration"]
)
def delete_oauth_client(client_id: str, caller: Admin, ctx: Context) -> Response:
    """Delete an OAuth2 client; the tokens it was issued stop working at once."""
    if not security.delete_client(ctx.engine, caller.organization_id, client_id):
        raise _admin_not_found("OAuth client", client_id, "oauth-clients")
    return Response(status_code=204)
