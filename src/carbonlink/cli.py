"""The `carbonlink` command: thin Typer wrappers over the layers."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carbonlink.commands import index as index_commands
from carbonlink.commands import ingest as ingest_commands
from carbonlink.commands import ingest_streams
from carbonlink.commands import ledger as ledger_commands
from carbonlink.commands import monitor as monitor_commands
from carbonlink.commands import pact as pact_commands
from carbonlink.commands import report as report_commands
from carbonlink.commands import users as users_commands
from carbonlink.commands import workspace as workspace_commands
from carbonlink.commands.account import account_command
from carbonlink.commands.serve import serve
from carbonlink.errors import CarbonlinkError
from carbonlink.settings import Settings

app = typer.Typer(
    name="carbonlink",
    help="From a plant's meters to cited, verifiable carbon accounts and reports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# Wide enough for the result tables when the output goes to a file or a pipe (make demo).
console = Console(width=None if sys.stdout.isatty() else 150)
# Errors are never wrapped: a message read by a script or a log must keep its phrases whole.
err_console = Console(stderr=True, soft_wrap=True)


@app.callback()
def _root(ctx: typer.Context) -> None:
    ctx.obj = Settings()


@app.command()
def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("demo-output"),
    plant_data: Annotated[
        Path | None,
        typer.Option(help="The steel plant file Steel_industry_data.csv (default: ../shared)."),
    ] = None,
) -> None:
    """Build the demo steel enterprise, account its emissions and write the outputs."""
    from carbonlink.demo import run_demo

    run_demo(ctx.obj, out, console, plant_data=plant_data)


app.command("init")(workspace_commands.init)
app.add_typer(ingest_commands.app, name="ingest")
ingest_streams.register(ingest_commands.app)
app.add_typer(ledger_commands.app, name="ledger")
app.command("verify")(ledger_commands.verify_receipt_command)
app.add_typer(monitor_commands.app, name="monitor")
app.command("account")(account_command)
app.add_typer(report_commands.app, name="report")
app.add_typer(index_commands.app, name="index")
app.add_typer(pact_commands.app, name="pact")
app.add_typer(report_commands.app, name="report")
app.command()(serve)
app.add_typer(users_commands.app, name="users")


def main() -> None:
    """Console-script entry point: carbonlink errors become a message and exit status 2."""
    try:
        app()
    except CarbonlinkError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
