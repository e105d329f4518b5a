"""`carbonlink report inventory|china|reconcile FILE`: reports built from an inventory file."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonlink.commands.console import console
from carbonlink.errors import InputError


class ReportFormat(StrEnum):
    """The formats a report is written in (those of `carbonlink.reports.render.ReportFormat`,
    repeated here so that the command's help does not load the renderers)."""

    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"
    json = "json"


FileArgument = Annotated[Path, typer.Argument(help="Inventory YAML file.")]
OutOption = Annotated[Path, typer.Option("--out", "-o", help="Output file.")]
FormatOption = Annotated[
    ReportFormat, typer.Option("--format", "-f", help="html, pdf, xlsx or json.")
]


def _write(kind: str, file: Path, out: Path, output_format: ReportFormat, **options: Any) -> None:
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import read_inventory
    from carbonlink.reports import render
    from carbonlink.reports.china import build_china_report
    from carbonlink.reports.inventory import build_inventory_report
    from carbonlink.reports.reconcile import build_reconciliation

    inventory = read_inventory(file)
    result = account(inventory, file=str(file))
    spec_file = options.pop("uncertainty_file", None)
    if spec_file is not None:
        from carbonlink.reports.uncertainty import read_uncertainty_spec, uncertainty_section

        spec = read_uncertainty_spec(spec_file)
        options["uncertainty"] = uncertainty_section(result, spec, assumptions=spec_file.name)
    builders = {
        "inventory": build_inventory_report,
        "china": build_china_report,
        "reconcile": build_reconciliation,
    }
    document = builders[kind](inventory, result, source_file=file.name, **options)
    written = render.write_report(document, out, render.ReportFormat(output_format.value))
    console.print(f"wrote {written}", highlight=False)


def inventory_report(
    file: FileArgument,
    out: OutOption,
    output_format: FormatOption = ReportFormat.html,
    base_year: Annotated[
        int | None, typer.Option(help="Base year (default: the reporting year).")
    ] = None,
    consolidation: Annotated[
        str, typer.Option(help="Consolidation approach of the organizational boundary.")
    ] = "operational control",
    uncertainty: Annotated[
        Path | None,
        typer.Option(
            help="YAML with activity_u95 and factor_u95 (relative 95 % half-widths): adds the "
            "95 % interval by error propagation and Monte Carlo."
        ),
    ] = None,
) -> None:
    """Corporate GHG inventory (ISO 14064-1 / GHG Protocol): scopes, gases, factors, quality."""
    _write(
        "inventory",
        file,
        out,
        output_format,
        base_year=base_year,
        consolidation=consolidation,
        uncertainty_file=uncertainty,
    )


def china_report(
    file: FileArgument, out: OutOption, output_format: FormatOption = ReportFormat.html
) -> None:
    """China enterprise GHG report (GB/T 32150-2015, iron and steel guideline), in Chinese."""
    _write("china", file, out, output_format)


def reconcile_report(
    file: FileArgument,
    out: OutOption,
    output_format: FormatOption = ReportFormat.html,
    cbam: Annotated[
        Path | None,
        typer.Option(
            help="The installation's CBAM input YAML, or its communication JSON (as written by "
            "`carbonlink report cbam`), to reconcile."
        ),
    ] = None,
    cbam_facility: Annotated[
        str | None,
        typer.Option(help="Inventory facility that is the CBAM installation (default: by name)."),
    ] = None,
) -> None:
    """Why the inventory, China guideline and CBAM totals differ, line by line."""
    communication = _cbam_communication(cbam) if cbam else None
    _write("reconcile", file, out, output_format, cbam=communication, cbam_facility=cbam_facility)


def _cbam_communication(path: Path) -> dict[str, Any]:
    """A CBAM communication: computed from a CBAM input YAML, or read from its JSON."""
    if path.suffix.lower() in (".yaml", ".yml"):
        from carbonlink.domain.cbam import compute_see
        from carbonlink.reports.cbam import build_communication
        from carbonlink.reports.cbam_input import load_cbam_input

        data = load_cbam_input(path)
        return build_communication(data, compute_see(data))
    return _read_json(path)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the CBAM communication: {exc}", file=str(path)) from exc
    if not isinstance(document, dict) or "processes" not in document:
        raise InputError(
            "not a CBAM communication document (no 'processes')",
            file=str(path),
            hint="write it with `carbonlink report cbam --format json`",
        )
    return document
