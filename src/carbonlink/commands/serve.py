"""`carbonlink serve`: run the REST API and the dashboard with uvicorn."""

from __future__ import annotations

import os
import secrets
from typing import Annotated

import typer
from rich.console import Console

from carbonlink.settings import Settings

console = Console()


def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    demo: Annotated[
        bool, typer.Option("--demo", help="Load the demo plant and its users into the service.")
    ] = False,
    workers_log: Annotated[str, typer.Option("--log-level", help="uvicorn log level.")] = "warning",
) -> None:
    """Serve the REST API (/api/v1, /openapi.json) and the web dashboard."""
    import uvicorn

    from carbonlink.api import create_app
    from carbonlink.api.demo_plant import seed_demo_service

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    app = create_app(settings)
    if demo:
        password = os.environ.get("CARBONLINK_DEMO_PASSWORD") or secrets.token_urlsafe(12)
        users = seed_demo_service(app, password)
        console.print("demo plant loaded; log in as one of:")
        for email, role in users:
            console.print(f"  {email}  ({role})")
        console.print(f"  password: {password}", highlight=False)
    console.print(f"carbonlink at http://{host}:{port}/  (API docs: /api/docs)")
    uvicorn.run(app, host=host, port=port, log_level=workers_log, access_log=False)
