"""`carbonlink init`: create a workspace folder with its configuration and database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carbonlink.commands.console import console


def init(
    ctx: typer.Context,
    directory: Annotated[
        Path | None,
        typer.Argument(
            help="Folder for the workspace (created if missing). Default: CARBONLINK_WORKSPACE "
            "or ./carbonlink-workspace.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a workspace: a config file and a database migrated to the newest schema.

    Safe to run again: it keeps an existing config file and only migrates the database forward.
    """
    from carbonlink.store.workspace import init_workspace

    settings = ctx.obj
    workspace = init_workspace(directory or settings.workspace, settings)
    console.print(f"workspace  {workspace.directory}")
    console.print(f"config     {workspace.config_file}")
    console.print(f"database   {workspace.database_url} (schema {workspace.revision})")
    from carbonlink.ledger import ensure_ledger_key

    console.print(f"ledger key {ensure_ledger_key(workspace.directory).vkey()}")
