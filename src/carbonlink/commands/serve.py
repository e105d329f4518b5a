"""`carbonlink serve`: run the REST API and the dashboard with uvicorn."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from carbonlink.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

console = Console()


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
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (recommended: the number of CPU cores).")
    ] = 1,
) -> None:
    """Serve the REST API (/api/v1, /openapi.json) and the web dashboard."""
    import uvicorn

    from carbonlink.api import create_app
    from carbonlink.api.demo_service import set_demo_users

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    if workspace is not None:
        settings = settings.model_copy(update={"workspace": workspace})
    if database is not None:
        settings = settings.model_copy(update={"database_url": database})
    app = create_app(settings)
    if demo:
        password = os.environ.get("CARBONLINK_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        users = set_demo_users(app, password)
        console.print("demo enterprise users set; log in as one of:")
        for email, role in users:
            console.print(f"  {email}  ({role})")
        console.print(f"  password: {password}", highlight=False)
    console.print(f"carbonlink at http://{host}:{port}/  (API docs: /api/docs)")
    if workers == 1:
        uvicorn.run(app, host=host, port=port, log_level=workers_log, access_log=False)
        return
    # Each worker process builds its own app from the environment, so it must name the same
    # workspace and database as this process.
    os.environ["CARBONLINK_WORKSPACE"] = str(settings.workspace.resolve())
    os.environ["CARBONLINK_DATABASE_URL"] = settings.database_url or ""
    uvicorn.run(
        f"{__name__}:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level=workers_log,
        access_log=False,
        # A worker answers the supervisor's health check only once Python has started and
        # imported the service: on a busy machine that takes longer than uvicorn's 5 s.
        timeout_worker_healthcheck=60,
    )


def app_from_environment() -> FastAPI:
    """The service built from ``CARBONLINK_*`` environment settings (one per worker process)."""
    from carbonlink.api import create_app

    return create_app(Settings())
