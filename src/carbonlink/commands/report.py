"""`carbonlink report …`: reports built from carbonlink's accounts (one subcommand per report)."""

from __future__ import annotations

import typer

from carbonlink.commands import report_accounting

app = typer.Typer(
    name="report",
    help="Write reports: GHG inventory, China guideline report, reconciliation.",
    no_args_is_help=True,
)

app.command("inventory")(report_accounting.inventory_report)
app.command("china")(report_accounting.china_report)
app.command("reconcile")(report_accounting.reconcile_report)
