"""`carbonlink serve`: run the REST API and the dashboard with uvicorn."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console
from carbonlink.errors import InputError

if TYPE_CHECKING:
    from fastapi import FastAPI


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workspace: Annotated[
        Path | None,
        typer.Option(help="Workspace folder to serve (make demo writes demo-output/workspace)."),
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="Database URL to serve instead of a workspace's SQLite.")
    ] = None,
    demo: Annotated[
        bool,
        typer.Option("--demo", help="(Re)set the demo enterprise's users (after make demo)."),
    ] = False,
    workers_log: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "warning",
    certfile: Annotated[
        Path | None, typer.Option(help="TLS certificate (PEM): serve HTTPS, as PACT requires.")
    ] = None,
    keyfile: Annotated[Path | None, typer.Option(help="TLS private key (PEM).")] = None,
    dev_tls: Annotated[
        bool,
        typer.Option(
            "--dev-tls", help="Serve HTTPS with a self-signed certificate kept in the workspace."
        ),
    ] = False,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (recommended: the number of CPU cores).")
    ] = 1,
) -> None:
    """Serve the REST API (/api/v1, /openapi.json), the web dashboard and the PACT host (/pact)."""
    import uvicorn

    from carbonlink.api import create_app
    from carbonlink.demo.service import set_demo_users
    from carbonlink.settings import Settings

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    if workspace is not None:
        settings = settings.model_copy(update={"workspace": workspace})
    if database is not None:
        settings = settings.model_copy(update={"database_url": database})
    if dev_tls and certfile is None:
        certfile, keyfile = dev_certificate(settings.workspace, host)
    if (certfile is None) != (keyfile is None):
        raise InputError("give both --certfile and --keyfile", hint="or use --dev-tls")
    scheme = "https" if certfile else "http"
    if not settings.public_url:
        settings = settings.model_copy(update={"public_url": f"{scheme}://{host}:{port}"})
    app = create_app(settings)
    if demo:
        password = os.environ.get("CARBONLINK_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        from carbonlink.demo.cbam_importer import set_importer_users

        users = set_demo_users(app, password) + set_importer_users(app, password)
        console.print("demo enterprise users set; log in as one of:")
        for email, role in users:
            console.print(f"  {email}  ({role})")
        console.print(f"  password: {password}", highlight=False)
    console.print(f"carbonlink at {scheme}://{host}:{port}/  (API docs: /api/docs)")
    console.print(f"PACT host at {settings.public_url}/pact", highlight=False)
    if certfile is not None:
        console.print(f"TLS certificate {certfile}", highlight=False)
    if workers == 1:
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=workers_log,
            access_log=False,
            ssl_certfile=certfile,
            ssl_keyfile=keyfile,
        )
        return
    # Each worker process builds its own app from the environment, so it must name the same
    # workspace, database and public URL as this process.
    os.environ["CARBONLINK_WORKSPACE"] = str(settings.workspace.resolve())
    os.environ["CARBONLINK_DATABASE_URL"] = settings.database_url or ""
    os.environ["CARBONLINK_PUBLIC_URL"] = settings.public_url or ""
    uvicorn.run(
        f"{__name__}:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=workers_log,
        access_log=False,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
        # A worker answers the supervisor's health check only once Python has started and
        # imported the service: on a busy machine that takes longer than uvicorn's 5 s.
        timeout_worker_healthcheck=60,
    )


def dev_certificate(workspace: Path, host: str) -> tuple[Path, Path]:
    """The workspace's self-signed development certificate, made on first use."""
    from carbonlink.exchange.tls import CERT_FILE, KEY_FILE, make_dev_certificate

    folder = workspace / "tls"
    cert, key = folder / CERT_FILE, folder / KEY_FILE
    if cert.is_file() and key.is_file():
        return cert, key
    hosts = ["localhost", "127.0.0.1", "::1"]
    if host not in hosts and host not in ("0.0.0.0", "::"):
        hosts.insert(0, host)
    return make_dev_certificate(folder, hosts)


def app_from_environment() -> FastAPI:
    """The service built from ``CARBONLINK_*`` environment settings (one per worker process)."""
    from carbonlink.api import create_app
    from carbonlink.settings import Settings

    return create_app(Settings())
