"""`carbonlink index …`: build a composite index from a spec and indicator data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.indices.spec import IndexSpec

app = typer.Typer(help="Composite indicators: build an index, its diagnostics and report.")


def _read_spec(path: Path, steps_path: Path | None = None) -> IndexSpec:
    """A YAML spec, or COINr's iMeta table (CSV, or XLSX with an iMeta sheet) plus steps."""
    import pandas as pd
    import yaml

    from carbonlink.indices.data import spec_from_coinr_meta
    from carbonlink.indices.errors import IndexSpecError
    from carbonlink.indices.spec import load_spec

    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        if steps_path is not None:
            raise IndexSpecError("--steps applies to an iMeta table; a YAML spec has its steps")
        return load_spec(path)
    steps = None
    if steps_path is not None:
        try:
            steps = yaml.safe_load(steps_path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise IndexSpecError(f"cannot read the steps: {exc}", file=str(steps_path)) from exc
    try:
        if suffix == ".csv":
            meta = pd.read_csv(path)
        elif suffix in (".xlsx", ".xlsm"):
            meta = pd.read_excel(path, sheet_name="iMeta", engine="openpyxl")
        else:
            raise IndexSpecError(
                f"unsupported spec file {suffix!r}", file=str(path), hint="use YAML or iMeta"
            )
    except (OSError, ValueError) as exc:
        raise IndexSpecError(f"cannot read iMeta: {exc}", file=str(path)) from exc
    return spec_from_coinr_meta(meta, name=path.stem, steps=steps)


@app.command("build")
def build_command(
    spec_path: Annotated[Path, typer.Argument(metavar="SPEC", help="YAML spec or COINr iMeta.")],
    data_path: Annotated[Path, typer.Argument(metavar="DATA", help="iData table (CSV/XLSX).")],
    out: Annotated[Path, typer.Option(help="Folder for tables and report.")] = Path("index-out"),
    uncertainty: Annotated[
        bool, typer.Option(help="Run the spec's uncertainty analysis if it declares one.")
    ] = True,
    steps: Annotated[
        Path | None,
        typer.Option(help="YAML with the `steps` of a spec, for an iMeta table given as SPEC."),
    ] = None,
) -> None:
    """Build the index: scores, ranks, every intermediate table (CSV, XLSX) and report.html."""
    from rich.table import Table

    from carbonlink.indices.data import read_table
    from carbonlink.indices.pipeline import build
    from carbonlink.indices.report import write_outputs
    from carbonlink.indices.uncertainty import run_uncertainty

    spec = _read_spec(spec_path, steps)
    data = read_table(data_path)
    result = build(spec, data)
    ua = run_uncertainty(spec, data) if uncertainty and spec.uncertainty else None
    paths = write_outputs(result, out, ua)
    table = Table(title=f"{spec.name} — spec {result.spec_hash[:12]}")
    for col in ("rank", "unit", "score"):
        table.add_column(col, justify="left" if col == "unit" else "right")
    for _, row in result.index_table().iterrows():
        table.add_row(f"{int(row['rank'])}", str(row["uName"]), f"{row['score']:.3f}")
    console.print(table)
    console.print(f"report: {paths['html']}\nworkbook: {paths['xlsx']}\ntables: {paths['csv']}/")
