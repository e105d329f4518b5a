"""`carbonlink report …`: reports built from carbonlink's accounts (one subcommand per report)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from carbonlink.commands import report_accounting
from carbonlink.commands.console import console
from carbonlink.errors import InputError

app = typer.Typer(
    name="report",
    help="Write reports: GHG inventory, China guideline report, EU CBAM communication, "
    "reconciliation.",
    no_args_is_help=True,
)

app.command("inventory")(report_accounting.inventory_report)
app.command("china")(report_accounting.china_report)
app.command("reconcile")(report_accounting.reconcile_report)


XLSX_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
"""The Office Open XML workbook kinds openpyxl reads (the official template is one of them)."""


def check_xlsx_template(path: Path) -> None:
    """Refuse a ``--template`` that is not an Office Open XML workbook (by name and content).

    An XLSX file is a ZIP package holding ``[Content_Types].xml`` and ``xl/workbook.xml``; a CSV
    or a text file renamed ``.xlsx`` is neither.
    """
    import zipfile

    hint = (
        "download the official CBAM communication template for installations (XLSX) and "
        "pass that file, unchanged, as --template"
    )
    if not path.is_file():
        raise InputError("the --template file does not exist", file=str(path), hint=hint)
    if path.suffix.lower() not in XLSX_SUFFIXES:
        raise InputError(
            f"the --template is a {path.suffix or 'suffix-less'} file, not an Excel workbook "
            f"({', '.join(XLSX_SUFFIXES)})",
            file=str(path),
            hint=hint,
        )
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(
            "the --template is not an Excel workbook: its content is not an XLSX (ZIP) package",
            file=str(path),
            hint=hint,
        ) from exc
    if not {"[Content_Types].xml", "xl/workbook.xml"} <= names:
        raise InputError(
            "the --template is a ZIP file but not an Excel workbook (no xl/workbook.xml)",
            file=str(path),
            hint=hint,
        )


class CbamFormat(StrEnum):
    """Output formats of the CBAM communication."""

    json = "json"
    xlsx = "xlsx"


@app.command("cbam")
def cbam(
    input_file: Annotated[
        Path, typer.Option("--input", help="CBAM input YAML (see docs/cbam.md).")
    ],
    out: Annotated[Path, typer.Option(help="Output file.")],
    output_format: Annotated[
        CbamFormat, typer.Option("--format", help="json, or xlsx.")
    ] = CbamFormat.json,
    template: Annotated[
        Path | None,
        typer.Option(
            help="Your copy of the official CBAM communication template (XLSX): fill it instead "
            "of writing carbonlink's own workbook."
        ),
    ] = None,
    year: Annotated[
        int | None, typer.Option(help="Year whose default-value mark-up applies.")
    ] = None,
) -> None:
    """EU CBAM: the data an installation communicates to its EU importers (SEE per good)."""
    from carbonlink.domain.cbam import compute_see
    from carbonlink.reports.cbam import build_communication, write_json, write_xlsx
    from carbonlink.reports.cbam_input import load_cbam_input

    report_accounting.check_out_path(out)
    if template is not None:
        if output_format is not CbamFormat.xlsx:
            raise typer.BadParameter("--template needs --format xlsx")
        check_xlsx_template(template)
    data = load_cbam_input(
        input_file, text=report_accounting.read_text_input(input_file, "CBAM input")
    )
    result = compute_see(data, year=year)
    communication = build_communication(data, result, year=year)
    try:
        if template is not None:
            from carbonlink.reports.cbam_template import fill_official_template

            written = fill_official_template(template, communication, out)
        elif output_format is CbamFormat.xlsx:
            written = write_xlsx(communication, out)
        else:
            written = write_json(communication, out)
    except OSError as exc:
        raise InputError(
            f"cannot write the CBAM communication to {out}: {exc.strerror or exc}",
            hint="choose an output file in a folder you may write to",
        ) from exc

    table = Table(title=f"CBAM SEE · {data.installation.name}")
    for column in ("CN code", "good", "SEE direct", "SEE indirect", "SEE total", "default share"):
        table.add_column(column, justify="right" if column.startswith(("SEE", "def")) else "left")
    for good in communication["goods"]:
        table.add_row(
            good["cn_code"],
            good["name"],
            f"{good['see_direct']:.4f}",
            f"{good['see_indirect']:.4f}",
            f"{good['see_total']:.4f}",
            f"{good['default_share']:.1%}",
        )
    console.print(table)
    for note in result.defaults_used:
        console.print(f"default used: {note}", highlight=False)
    console.print(f"wrote {written}", markup=False, highlight=False)


@app.command("cbam-verified")
def cbam_verified(
    ctx: typer.Context,
    pack: Annotated[
        Path,
        typer.Option("--pack", help="Exporter pack YAML (see docs/cbam-definitive-exporter.md)."),
    ],
    out: Annotated[Path, typer.Option(help="Output folder.")],
    name: Annotated[str, typer.Option(help="File stem, and the published id.")] = "cbam-verified",
    template: Annotated[
        Path | None,
        typer.Option(help="Your copy of the official CBAM communication template (XLSX)."),
    ] = None,
    publish: Annotated[
        str | None,
        typer.Option(
            help="Publish for your PACT partners under this organization id "
            "(/pact/cbam/communications/NAME)."
        ),
    ] = None,
) -> None:
    """EU CBAM definitive period: the verified communication with the carbon price paid, its
    workbook and its Catena-X CBAM JSON."""
    from carbonlink.reports.cbam_exporter import (
        build_exporter_communication,
        load_exporter_pack,
        write_exporter_outputs,
    )

    if template is not None:
        check_xlsx_template(template)
    loaded = load_exporter_pack(pack)
    communication = build_exporter_communication(loaded)
    written = write_exporter_outputs(
        loaded, out, name, template=template, communication=communication
    )
    console.print(f"status: {communication['status']}", highlight=False)
    price = communication["carbon_price_paid"]
    if price:
        for good in price["goods"]:
            console.print(
                f"carbon price paid {good['cn_code']}: {good['eur_per_t_good']:.4f} EUR/t "
                f"({good['price_per_t_good']:.4f} {price['currency']}/t)",
                highlight=False,
            )
    if publish is not None:
        from carbonlink.exchange.cbam import publish as publish_communication
        from carbonlink.store.workspace import open_store

        store = open_store(ctx.obj)
        try:
            stored = publish_communication(store.engine, publish, name, communication)
        finally:
            store.engine.dispose()
        console.print(
            f"published {stored.id} for {publish} (Catena-X SHA-256 {stored.catenax_sha256})",
            highlight=False,
        )
    for label, path in written.items():
        console.print(f"wrote {label}: {path}", markup=False, highlight=False)
