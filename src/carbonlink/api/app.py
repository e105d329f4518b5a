"""The application factory: ``create_app(settings)`` builds the whole service, nothing at import."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta
from importlib.resources import files
from pathlib import Path

import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonlink.api.assets import StaticAssets
from carbonlink.api.body_limit import BodyLimit
from carbonlink.api.deps import ServiceContext
from carbonlink.api.docs_page import docs_page
from carbonlink.api.domain_text import install_filters
from carbonlink.api.i18n import load_catalogues
from carbonlink.api.overview import OverviewCache
from carbonlink.api.problems import (
    INTERNAL_ERROR,
    install_problem_handlers,
    problem_document,
    problem_response,
)
from carbonlink.api.reminder_task import install_reminders
from carbonlink.api.results import LiveAlerting
from carbonlink.api.routes import (
    accounts,
    activity,
    admin,
    administration,
    alert_rules,
    alerting,
    alerting_pages,
    analytics,
    catalogue,
    catalogue_edits,
    cbam_exporter,
    cbam_importer_pages,
    cets_pages,
    conflicts,
    credentials,
    data_pages,
    factors,
    file_receipts,
    imports,
    inventories,
    inventory_reports,
    ledger,
    me,
    overview,
    pact_admin,
    pages,
    passports,
    period_pages,
    periods,
    plans,
    portal,
    readings,
    report_jobs,
    setup_pages,
    supplier_index,
    suppliers,
    supply,
    supply_api,
    targets,
    witness,
)
from carbonlink.api.security import (
    Accounts,
    LoginLimiter,
    ServiceKey,
    Throttle,
    script_json,
)
from carbonlink.errors import InputError
from carbonlink.settings import Settings
from carbonlink.store import Store, engine_from_settings, upgrade
from carbonlink.store.operations import open_alert_count, seal_plain_channel_secrets
from carbonlink.store.tenant_data import AssignedAccounting, StoreTenantData
from carbonlink.store.tenants import TenantData

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


HSTS = "max-age=31536000; includeSubDomains"
INTERNAL_ERROR_PAGE = (
    "<!doctype html><meta charset=utf-8><title>500 · carbonlink</title>"
    "<h1>The service failed to answer this page</h1><p>Try again; if it fails again, the "
    'service\'s log has the cause.</p><p><a href="/">carbonlink</a></p>'
)
LOG = logging.getLogger("carbonlink.api")


class SecurityHeaders:
    """ASGI middleware: headers that keep pages out of frames and scripts to the package's files.

    A NUL character in the path or query is refused up front: no identifier contains one, and
    PostgreSQL text cannot hold it. Responses over HTTPS (directly, or as the proxy's forwarded
    scheme that the server trusts) carry Strict-Transport-Security. An error no handler caught
    becomes a 500 error document instead of the server's text/plain answer.
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

        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS.encode()))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # A failure no handler knew: answered as an error document (the server would send
            # text/plain and drop the connection), logged here with its traceback.
            if started:
                raise
            LOG.exception("unhandled error on %s %s", scope.get("method"), path)
            answer: Response = (
                problem_document(500, INTERNAL_ERROR)
                if path.startswith("/api/") or path.startswith("/pact/")
                else HTMLResponse(INTERNAL_ERROR_PAGE, status_code=500)
            )
            await answer(scope, receive, send_with_headers)


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
    seal_plain_channel_secrets(engine, settings.key_bytes)
    package = files("carbonlink.api")
    templates = Jinja2Templates(directory=str(package / "templates"))
    templates.env.filters["script_json"] = script_json
    install_filters(templates.env.filters)
    assets = StaticAssets(Path(str(package / "static")))
    templates.env.globals["asset"] = assets.url
    templates.env.globals["open_alerts"] = functools.partial(open_alert_count, engine)
    app = FastAPI(
        title="carbonlink",
        version="0.1.0",
        summary="Meters to cited, verifiable carbon accounts: REST API of one carbonlink service.",
        docs_url=None,
        redoc_url=None,
    )

    @app.get("/api/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        return docs_page(request, assets.url)

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
        limiter=LoginLimiter(
            Throttle(engine, settings.login_window_s),
            ServiceKey(settings.key_bytes),
            account_attempts=settings.login_attempts,
            address_attempts=settings.login_address_attempts,
        ),
        templates=templates,
        catalogues=load_catalogues(),
        overviews=OverviewCache(),
        alerting=LiveAlerting(settings.key_bytes),
    )
    app.add_middleware(BodyLimit, max_bytes=int(settings.max_body_mb * 1024 * 1024))
    app.add_middleware(SecurityHeaders)
    install_problem_handlers(app, pages.error_page)
    pages.install_page_handlers(app)
    for resource in (
        me,
        catalogue,
        catalogue_edits,
        readings,
        conflicts,
        alert_rules,
        alerting,
        targets,
        report_jobs,
        overview,
        factors,
        inventories,
        inventory_reports,
        administration,
        plans,
        imports,
        activity,
        periods,
    ):
        app.include_router(resource.router)
    app.include_router(ledger.router)
    app.include_router(supply.router)
    app.include_router(alerting_pages.router)  # /alerts/rules before /alerts/{alert_id}
    app.include_router(report_jobs.pages)
    app.include_router(pages.router)
    app.include_router(setup_pages.router)
    app.include_router(period_pages.router)
    app.include_router(cbam_importer_pages.router)
    app.include_router(data_pages.router)
    app.include_router(file_receipts.router)
    app.include_router(pact_admin.router)
    pact_admin.mount_pact(app, settings, engine)
    install_reminders(app, settings, engine)
    portal.install(app)
    app.include_router(suppliers.pages)
    app.include_router(suppliers.router)
    app.include_router(admin.router)
    app.include_router(supplier_index.router)
    app.include_router(supply_api.router)
    app.include_router(accounts.pages)
    app.include_router(accounts.router)
    app.include_router(analytics.router)
    app.include_router(witness.router_for(settings.witness_prefix))
    app.include_router(cbam_exporter.router)
    app.include_router(cets_pages.router)
    app.include_router(credentials.router)
    app.include_router(passports.router)
    app.mount("/static", assets, name="static")
    return app
