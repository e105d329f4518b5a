"""The API documentation page: Swagger UI on the package's files.

The OpenAPI document declares the ways to authenticate (`carbonlink.api.auth_schemes`), which
Swagger UI's "Authorize" button offers; "Try it out" then sends the chosen header. A request
made with the session cookie alone is a cookie request like any other and must carry the CSRF
token: the page puts the session's token in a meta tag and its script adds the header, so the
check stays as strict as on every dashboard page.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from fastapi import Request
from fastapi.responses import HTMLResponse

from carbonlink.api.deps import CSRF_HEADER, identify
from carbonlink.api.security import AuthenticationError


def docs_page(request: Request, asset: Callable[[str], str]) -> HTMLResponse:
    """Swagger UI on the package's files, with the session's CSRF token when logged in."""
    csrf = ""
    try:
        caller = identify(request, request.app.state.ctx)
    except AuthenticationError:
        caller = None
    if caller is not None and caller.via == "session" and caller.csrf_token:
        csrf = caller.csrf_token
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>carbonlink API</title>
<link rel="icon" href="{asset("favicon.svg")}">
<link rel="stylesheet" href="{asset("vendor/swagger-ui.css")}">
<link rel="stylesheet" href="{asset("swagger-a11y.css")}">
<meta name="csrf-token" content="{escape(csrf)}">
</head>
<body>
<main id="swagger-ui" data-openapi="/openapi.json" data-csrf-header="{CSRF_HEADER}"></main>
<script src="{asset("vendor/swagger-ui-bundle.js")}"></script>
<script src="{asset("swagger-init.js")}"></script>
</body>
</html>
"""
    return HTMLResponse(html, headers={"cache-control": "no-store"})
