"""The ways to authenticate an API call, declared so the OpenAPI document lists them.

`declared` is a dependency of every route that needs a caller: FastAPI then writes the four
schemes into the document's ``securitySchemes`` and each such operation's ``security``, which
is what Swagger UI's "Authorize" button offers. It checks nothing itself (`identify` does):
each scheme is optional here, and which one applies is decided by the headers sent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import APIKeyCookie, APIKeyHeader, HTTPBearer, OAuth2

GRANT_URL = "/api/v1/oauth/token"
SESSION_COOKIE = "carbonlink_session"
CSRF_HEADER = "X-CSRF-Token"

bearer = HTTPBearer(
    scheme_name="bearer",
    description="An API key (clk_…) or an OAuth2 access token: 'Authorization: Bearer …'.",
    auto_error=False,
)
api_key = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    description="An API key made by an administrator (Users and access, or POST /api/v1/api-keys).",
    auto_error=False,
)
oauth2 = OAuth2(
    flows=OAuthFlows(clientCredentials=OAuthFlowClientCredentials(tokenUrl=GRANT_URL)),
    scheme_name="oauth2",
    description="OAuth2 client credentials (RFC 6749 §4.4): client_id and client_secret "
    "sent in the request body.",
    auto_error=False,
)
session = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description=f"The dashboard's log-in session; a request that changes data also sends "
    f"the session's CSRF token in the {CSRF_HEADER} header.",
    auto_error=False,
)


def declared(
    _bearer: Annotated[object, Depends(bearer)],
    _api_key: Annotated[object, Depends(api_key)],
    _oauth2: Annotated[object, Depends(oauth2)],
    _session: Annotated[object, Depends(session)],
) -> None:
    """Nothing to do at run time: the parameters only declare the schemes to OpenAPI."""
