"""`carbonlink backup` and `carbonlink restore`: a workspace in one archive, and back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.settings import Settings

WorkspaceOption = Annotated[
    Path | None,
    typer.Option(
        "--workspace", help="Workspace folder (default: CARBONLINK_WORKSPACE).", show_default=False
    ),
]


def _settings(ctx: typer.Context, workspace: Path | None) -> Settings:
    settings: Settings = ctx.obj
    if workspace is not None:
        settings = settings.model_copy(update={"workspace": workspace})
    return settings


def backup(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="The archive to write (.tar.gz).")],
    workspace: WorkspaceOption = None,
) -> None:
    """Back up a workspace into one archive: database, keys, stored documents, reports, ledger.

    Safe while the service runs: the database is read as one consistent snapshot (SQLite's
    online backup; one REPEATABLE READ transaction on PostgreSQL). The archive's manifest.json
    lists the SHA-256 of every file in it.
    """
    from carbonlink.store.backup import backup_workspace

    summary = backup_workspace(_settings(ctx, workspace), out)
    rows = sum(summary.tables.values())
    console.print(f"archive   {summary.archive} ({summary.size:,} bytes, {summary.files} files)")
    console.print(
        f"database  {summary.backend}, schema {summary.revision}, "
        f"{len(summary.tables)} tables, {rows:,} rows"
    )


def restore(
    ctx: typer.Context,
    archive: Annotated[Path, typer.Argument(help="An archive written by `carbonlink backup`.")],
    workspace: WorkspaceOption = None,
    database: Annotated[
        str | None,
        typer.Option(
            help="Database to restore into (default: CARBONLINK_DATABASE_URL, else the database "
            "the archived workspace file names, else the new workspace's own SQLite file).",
            show_default=False,
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Overwrite a workspace folder, files or a database that hold data."
        ),
    ] = False,
) -> None:
    """Restore a backup into a workspace folder and its database.

    Every file is checked against the SHA-256 of the archive's manifest. An existing workspace,
    report files beside it or a database holding tables are refused without --force. Check the
    result with `carbonlink ledger verify --full`.
    """
    from carbonlink.store.backup import restore_workspace

    summary = restore_workspace(
        archive, _settings(ctx, workspace), database_url=database, force=force
    )
    rows = sum(summary.tables.values())
    console.print(f"workspace {summary.workspace} ({summary.files - len(summary.beside)} files)")
    if summary.beside:
        console.print(f"beside it {len(summary.beside)} report files in {summary.workspace.parent}")
    console.print(
        f"database  {summary.database_url}, schema {summary.revision}, "
        f"{len(summary.tables)} tables, {rows:,} rows"
    )
