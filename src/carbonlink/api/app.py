"""The application factory: ``create_app(settings)`` builds the whole service, nothing at import."""

from __future__ import annotations

from datetime import timedelta
from importlib.resources import files

import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonlink.api.deps import ServiceContext
from carbonlink.api.i18n import load_catalogues
from carbonlink.api.overview import OverviewCache
from carbonlink.api.problems import install_problem_handlers, problem_response
from carbonlink.api.routes import (
    admin,
    administration,
    alert_rules,
    catalogue,
    factors,
    inventories,
    ledger,
    me,
    overview,
    pact_admin,
    pages,
    portal,
    readings,
    supplier_index,
    supply,
    supply_api,
)
from carbonlink.api.security import Accounts, LoginLimiter
from carbonlink.errors import InputError
from carbonlink.settings import Settings
from carbonlink.store import Store, engine_from_settings, upgrade
from carbonlink.store.tenant_data import AssignedAccounting, StoreTenantData
from carbonlink.store.tenants import TenantData

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


class SecurityHeaders:
    """ASGI middleware: headers that keep pages out of frames and scripts to the package's files.

    A NUL character in the path or query is refused up front: no identifier contains one, and
    PostgreSQL text cannot hold it.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if "\x00" in path or "%00" in scope.get("query_string", b"").decode("latin-1"):
            response = problem_response(
                InputError("the URL contains a NUL character", hint="remove it from the request")
            )
            await response(scope, receive, send)
            return
        extra = [
            (b"x-content-type-options", b"nosniff"),
            (b"referrer-policy", b"same-origin"),
        ]
        if not path.startswith("/api/docs"):
            extra += [
                (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
                (b"x-frame-options", b"DENY"),
            ]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    settings: Settings,
    *,
    engine: sa.Engine | None = None,
    data: TenantData | None = None,
) -> FastAPI:
    """Build the service: REST API under /api/v1, web pages, PACT host at /pact, static assets.

    The PACT host serves every organization's exchange; its event worker runs in the lifespan.

    The database (the workspace's SQLite file unless settings name another) is migrated to the
    newest schema first, accounts tables included.
    """
    settings.check_secrets()
    engine = engine or engine_from_settings(settings)
    upgrade(engine)
    package = files("carbonlink.api")
    templates = Jinja2Templates(directory=str(package / "templates"))
    app = FastAPI(
        title="carbonlink",
        version="0.1.0",
        summary="Meters to cited, verifiable carbon accounts: REST API of one carbonlink service.",
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="carbonlink API",
            swagger_js_url="/static/vendor/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    app.state.ctx = ServiceContext(
        settings=settings,
        engine=engine,
        accounts=Accounts(
            engine,
            timedelta(hours=settings.session_hours),
            PasswordHasher(
                time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
            ),
        ),
        data=data if data is not None else StoreTenantData(Store(engine), AssignedAccounting()),
        limiter=LoginLimiter(settings.login_attempts, settings.login_window_s),
        templates=templates,
        catalogues=load_catalogues(),
        overviews=OverviewCache(),
    )
    app.add_middleware(SecurityHeaders)
    install_problem_handlers(app, pages.error_page)
    pages.install_page_handlers(app)
    for resource in (
        me,
        catalogue,
        readings,
        alert_rules,
        overview,
        factors,
        inventories,
        administration,
    ):
        app.include_router(resource.router)
    app.include_router(ledger.router)
    app.include_router(supply.router)
    app.include_router(pages.router)
    app.include_router(pact_admin.router)
    pact_admin.mount_pact(app, settings, engine)
    portal.install(app)
    app.include_router(admin.router)
    app.include_router(supplier_index.router)
    app.include_router(supply_api.router)
    app.mount("/static", StaticFiles(directory=str(package / "static")), name="static")
    return app
