"""Accounts under /api/v1: who is calling, and machine credentials (API keys, OAuth2 clients)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request, Response
from pydantic import BaseModel, Field

from carbonlink.api import security
from carbonlink.api.deps import SESSION_COOKIE, Admin, Caller, Context
from carbonlink.api.problems import problem_responses
from carbonlink.api.routes.v1 import PREFIX, READ, WRITE, ApiModel, Role
from carbonlink.errors import InputError

router = APIRouter(prefix=PREFIX)


class Me(BaseModel):
    organization_id: str = Field(examples=["org-demo-steel"])
    organization: str = Field(examples=["Demo Steel Co."])
    role: Role = Field(examples=["editor"])
    display_name: str = Field(examples=["Li Wei"])
    via: str = Field(examples=["session"])


class ApiKeyIn(ApiModel):
    name: str = Field(min_length=1, max_length=200, examples=["ERP nightly export"])
    role: Role = Field(examples=["editor"])


class ApiKeyOut(BaseModel):
    id: str | None = Field(default=None, examples=["5f0c9a1e2b3d4c5e6f708192a3b4c5d6"])
    name: str = Field(examples=["ERP nightly export"])
    role: Role = Field(examples=["editor"])
    key: str = Field(examples=["clk_…"], description="Shown once; store it safely.")


class ClientOut(BaseModel):
    name: str = Field(examples=["MES gateway"])
    role: Role = Field(examples=["editor"])
    client_id: str = Field(examples=["client-0a1b2c3d4e5f6a7b"])
    client_secret: str = Field(examples=["…"], description="Shown once; store it safely.")


class TokenOut(BaseModel):
    access_token: str = Field(examples=["…"])
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(examples=[3600])


@router.get("/me", response_model=Me, responses=READ, tags=["accounts"])
def me(caller: Caller, ctx: Context) -> Me:
    """Who is calling: organization, role and how the caller authenticated."""
    org = ctx.data.organization(caller.organization_id)
    return Me(
        organization_id=caller.organization_id,
        organization=org.name if org else caller.organization_id,
        role=caller.role,  # type: ignore[arg-type]
        display_name=caller.display_name,
        via=caller.via,
    )


class LanguageIn(ApiModel):
    language: Literal["zh", "en"] = Field(examples=["en"])


@router.put(
    "/me/language", status_code=204, responses=problem_responses(401, 403, 422), tags=["accounts"]
)
def choose_language(body: LanguageIn, request: Request, caller: Caller, ctx: Context) -> Response:
    """Show the pages of this web session in ``language``; the user's other sessions keep theirs.

    Only a web session has a language of its own; a program calling with a key or token is
    refused (422) and reads the API's documents, which do not depend on a language.
    """
    session = request.cookies.get(SESSION_COOKIE)
    if caller.via != "session" or not session:
        raise InputError(
            "only a web session chooses a language",
            hint="log in through the web pages; API documents are the same in every language",
        )
    ctx.accounts.set_session_locale(session, body.language)
    return Response(status_code=204)


@router.post(
    "/api-keys", response_model=ApiKeyOut, status_code=201, responses=WRITE, tags=["accounts"]
)
def create_api_key(body: ApiKeyIn, caller: Admin, ctx: Context) -> ApiKeyOut:
    """Issue an API key for a machine of the caller's organization (admin only)."""
    key = ctx.accounts.create_api_key(caller.organization_id, body.name, body.role)
    return ApiKeyOut(
        id=security.api_key_id(ctx.engine, key), name=body.name, role=body.role, key=key
    )


@router.post(
    "/oauth/clients", response_model=ClientOut, status_code=201, responses=WRITE, tags=["accounts"]
)
def create_oauth_client(body: ApiKeyIn, caller: Admin, ctx: Context) -> ClientOut:
    """Register an OAuth2 client-credentials client (admin only)."""
    client_id, secret = ctx.accounts.create_client(caller.organization_id, body.name, body.role)
    return ClientOut(name=body.name, role=body.role, client_id=client_id, client_secret=secret)


@router.post(
    "/oauth/token",
    response_model=TokenOut,
    responses=problem_responses(401, 422),
    tags=["accounts"],
)
def oauth_token(
    grant_type: Annotated[Literal["client_credentials"], Form(examples=["client_credentials"])],
    client_id: Annotated[
        str, Form(max_length=64, pattern=r"^[^\x00]*$", examples=["client-0a1b2c3d4e5f6a7b"])
    ],
    client_secret: Annotated[str, Form(max_length=200, pattern=r"^[^\x00]*$", examples=["…"])],
    ctx: Context,
) -> TokenOut:
    """OAuth2 client-credentials grant (RFC 6749 §4.4): a bearer token valid for an hour."""
    token, lifetime = ctx.accounts.issue_token(client_id, client_secret)
    return TokenOut(access_token=token, expires_in=lifetime)
