"""`carbonlink account FILE`: account an inventory file and print totals and lines."""

from __future__ import annotations

import csv
import io
import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carbonlink.commands.console import console, err_console

if TYPE_CHECKING:
    from rich.table import Table

    from carbonlink.domain.engine import Computation
    from carbonlink.ingest.metered_activity import MeteredUse
    from carbonlink.settings import Settings

CSV_COLUMNS = (
    "facility",
    "source",
    "stream",
    "period",
    "scope",
    "category",
    "gas",
    "mass_t",
    "gwp",
    "tco2e",
    "method",
    "activity_id",
    "activity_quantity",
    "activity_unit",
    "factor_id",
    "factor_version",
    "factor_value",
    "factor_unit",
    "factor_source",
    "gwp_set",
)


class OutputFormat(StrEnum):
    """How `carbonlink account` prints its result."""

    table = "table"
    json = "json"
    csv = "csv"


def result_table(result: Computation, title: str) -> Table:
    """A Rich table of the lines and the totals, for people."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for name, justify in (
        ("facility", "left"),
        ("source", "left"),
        ("scope", "left"),
        ("gas", "left"),
        ("activity", "right"),
        ("t CO2e", "right"),
        ("factor", "left"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for line in result.lines():
        activity = line["activity"]
        source = line["source"] + (f" / {line['stream']}" if line["stream"] else "")
        table.add_row(
            line["facility"],
            source,
            line["scope"] + (f" ({line['category']})" if line["category"] else ""),
            line["gas"],
            f"{activity['quantity']:,.2f} {activity['unit']}",
            f"{line['tco2e']:,.3f}",
            line["factor"]["id"],
        )
    table.add_section()
    for key, value in result.totals().items():
        table.add_row("total", key, "", "", "", f"{value:,.3f}", "")
    return table


def _csv(lines: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for line in lines:
        f, a = line["factor"], line["activity"]
        writer.writerow(
            [
                *(line[k] for k in CSV_COLUMNS[:11]),
                a["id"],
                a["quantity"],
                a["unit"],
                f["id"],
                f["version"],
                f["value"],
                f["unit"],
                f["source"],
                line["gwp_set"],
            ]
        )
    return buffer.getvalue()


def _account_recorded(settings: Settings, file: Path) -> tuple[Computation, list[MeteredUse]]:
    """Account in the workspace, append the calculation run and say where it went."""
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import account_recorded
    from carbonlink.store.workspace import open_store

    store = open_store(settings)
    try:
        run = account_recorded(
            Ledger(store.engine),
            store,
            settings.workspace,
            file.read_text("utf-8"),
            file_name=str(file),
        )
    finally:
        store.engine.dispose()
    err_console.print(
        f"ledger entry {run.index}: calculation run {run.run_id}, inputs "
        f"{', '.join(map(str, run.inputs))}, results sha256 {run.results_sha256}",
        highlight=False,
    )
    return run.computation, list(run.uses)


def account_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Inventory YAML file.")],
    format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = OutputFormat.table,
    record: Annotated[
        bool,
        typer.Option(
            "--record",
            help="Record the run in the workspace's ledger, citing the inventory file, the "
            "factor sets and the import batches it used (always done when a source's "
            "activity comes from a meter).",
        ),
    ] = False,
) -> None:
    """Account an inventory file: emissions per source, gas and scope with their lineage.

    Sources whose activity names a meter (``activity: {meter: ID, unit: kWh}``) take the sum
    of that meter's readings over the period from the workspace (CARBONLINK_WORKSPACE); such
    a run, and any run with ``--record``, is appended to the workspace's ledger.
    """
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import read_inventory
    from carbonlink.ingest.metered_activity import has_metered_activity

    inventory = read_inventory(file)
    uses: list[MeteredUse] = []
    if record or has_metered_activity(inventory):
        result, uses = _account_recorded(ctx.obj, file)
    else:
        result = account(inventory, file=str(file))
    if format is OutputFormat.json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    elif format is OutputFormat.csv:
        typer.echo(_csv(result.lines()), nl=False)
    else:
        title = f"{inventory.organization} · {inventory.period.label} · GWP {inventory.gwp}"
        console.print(result_table(result, title))
        for use in uses:
            console.print(
                f"{use.facility}/{use.source}: {use.quantity:,.2f} {use.unit} from meter "
                f"{use.meter_id} over {use.days} days"
                + (
                    f", {use.estimated_quantity:,.2f} estimated ({', '.join(use.rules)})"
                    if use.rules
                    else ""
                ),
                style="dim",
            )
