"""`carbonlink ingest …`: bring meter readings into the store, from files and live streams.

Each source kind is one subcommand on the ``app`` below; stream collectors add theirs from
their own modules with ``@app.command()`` on this same sub-app (see `carbonlink.cli`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from rich.table import Table

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.ingest.mapping import FileMapping
    from carbonlink.settings import Settings

app = typer.Typer(
    name="ingest",
    help=(
        "Bring meter readings into carbonlink: CSV and Excel exports from meters, loggers and "
        "energy-management systems, and live streams. Every row ends up either stored as a "
        "reading or kept in quarantine with the reason; importing the same data twice "
        "changes nothing."
    ),
    no_args_is_help=True,
)

MAPPING_HELP = (
    "YAML file telling which column holds the time (and its format, time zone, whether it "
    "marks the start or the end of the interval) and which columns hold which meter's "
    "readings in which unit. A name without .yaml picks a mapping shipped with carbonlink "
    "(e.g. steel_industry)."
)

MappingOption = Annotated[Path, typer.Option("--mapping", "-m", help=MAPPING_HELP)]
EncodingOption = Annotated[
    str | None,
    typer.Option(
        help="Text encoding of the file, overriding the mapping: utf-8, gbk, gb18030, cp1252 … "
        "(default: detect a byte-order mark, else UTF-8, else GB18030)."
    ),
]


def open_mapping(mapping: Path, encoding: str | None = None) -> FileMapping:
    """The mapping from a file or the name of a shipped one, with an encoding override."""
    from carbonlink.ingest.mapping import load_mapping, shipped_mapping

    path = mapping if mapping.suffix in {".yaml", ".yml"} else shipped_mapping(str(mapping))
    loaded = load_mapping(path)
    return loaded if encoding is None else loaded.model_copy(update={"encoding": encoding})


def _run(
    ctx: typer.Context,
    file: Path,
    mapping: Path,
    encoding: str | None,
    kind: Literal["csv", "xlsx"],
) -> None:
    from carbonlink.ingest.file_import import import_file
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import record_import_batch
    from carbonlink.store.workspace import open_store

    settings: Settings = ctx.obj
    loaded = open_mapping(mapping, encoding)
    store = open_store(settings)
    try:
        report = import_file(file, loaded, store, kind=kind, console=console)
        entry = record_import_batch(store, Ledger(store.engine), report.batch_id)
    finally:
        store.engine.dispose()
    summary = Table(show_header=False, box=None, padding=(0, 2))
    summary.add_row("file", f"{file} ({report.encoding})")
    summary.add_row("rows read", f"{report.records:,}")
    summary.add_row("readings new", f"{report.readings_new:,}")
    summary.add_row("already stored", f"{report.readings_duplicate:,}")
    summary.add_row("quarantined", f"{report.quarantined:,}")
    if report.empty_cells:
        summary.add_row("empty cells", f"{report.empty_cells:,}")
    summary.add_row("batch", report.batch_id)
    summary.add_row("ledger entry", str(entry))
    console.print(summary)
    for reason, count in report.reasons.most_common():
        console.print(f"  [yellow]{count:,}[/] × {reason}")
    for example in report.examples:
        console.print(f"  line {example.line}: {example.reason}", highlight=False)


CSV_HELP = (
    "Import a CSV file of meter readings.\n\n"
    "Rows that cannot be read (a time that is not a time, text where a number belongs, an "
    "unknown meter, a unit of the wrong kind, an absurd value) are kept in quarantine with "
    "their line number; the import goes on and prints the counts. The command fails only "
    "when the file or the mapping cannot be used at all.\n\n"
    "Example: carbonlink ingest csv Steel_industry_data.csv --mapping steel_industry"
)

XLSX_HELP = (
    "Import an Excel workbook (.xlsx) of meter readings, from the sheet the mapping names or "
    "the first one.\n\n"
    "Same rules as `carbonlink ingest csv`: bad rows go to quarantine with their row number, "
    "the rest is stored, and importing the same workbook again changes nothing."
)


@app.command("csv", help=CSV_HELP)
def ingest_csv(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The CSV file exported by the meter or system.")],
    mapping: MappingOption,
    encoding: EncodingOption = None,
) -> None:
    """Import a CSV file of meter readings."""
    _run(ctx, file, mapping, encoding, "csv")


@app.command("xlsx", help=XLSX_HELP)
def ingest_xlsx(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="The Excel workbook (.xlsx).")],
    mapping: MappingOption,
) -> None:
    """Import an Excel workbook of meter readings."""
    _run(ctx, file, mapping, None, "xlsx")


PROCESS_HELP = (
    "Turn a meter's stored readings into consumption per day, month or year (validate, "
    "estimate, edit).\n\n"
    "Register meters are differenced in time order; a counter rollover, a meter replacement "
    "and a glitch are told apart. Missing intervals are estimated — linearly for short gaps, "
    "prorated between register reads, otherwise with the conservative substitute of EU MRR "
    "Art. 66 (mean + 2 standard deviations) — and every estimate is flagged with its rule. "
    "The raw readings are never changed. Totals are stored as activity for the accounts."
)


@app.command("process", help=PROCESS_HELP)
def process(
    ctx: typer.Context,
    meter: Annotated[str, typer.Argument(help="Id of the meter, as in the mapping.")],
    period: Annotated[
        list[str] | None,
        typer.Option(help="Accounting period: day, month or year (repeat for several)."),
    ] = None,
    time_zone: Annotated[
        str | None,
        typer.Option(help="IANA time zone of the periods (default: the facility's or meter's)."),
    ] = None,
) -> None:
    """Derive and store a meter's activity per accounting period."""
    from carbonlink.errors import InputError
    from carbonlink.ingest.vee import Period, derive_activity
    from carbonlink.store.schema import from_epoch_us
    from carbonlink.store.workspace import open_store

    periods = period or ["year", "month"]
    bad = [p for p in periods if p not in ("day", "month", "year")]
    if bad:
        raise InputError(f"unknown period {bad[0]!r}", hint="use day, month or year")
    chosen: tuple[Period, ...] = tuple(p for p in ("year", "month", "day") if p in periods)
    store = open_store(ctx.obj)
    try:
        derived = derive_activity(store, meter, periods=chosen, time_zone=time_zone)
    finally:
        store.engine.dispose()
    intervals = derived.intervals
    events = intervals.events
    console.print(
        f"{meter}: {len(intervals.start_us):,} intervals of {intervals.step_us // 60_000_000} min, "
        f"{int(intervals.estimated.sum()):,} estimated; {len(events.rollovers)} rollovers, "
        f"{len(events.replacements)} replacements, {len(events.glitches)} glitches, "
        f"{intervals.implausible} implausible",
        highlight=False,
    )
    for gap in intervals.gaps[:10]:
        console.print(
            f"  gap {from_epoch_us(gap.start_us):%Y-%m-%d %H:%M} – "
            f"{from_epoch_us(gap.end_us):%Y-%m-%d %H:%M} UTC, {gap.intervals} intervals, "
            f"{gap.rule.label}",
            highlight=False,
        )
    table = Table("period", "quantity", "unit", "estimated", "rules")
    for kind in chosen:
        for record in derived.activity[kind]:
            table.add_row(
                record.label,
                f"{record.quantity:,.2f}",
                record.unit,
                f"{record.estimated_quantity:,.2f}",
                ", ".join(record.rules),
            )
    console.print(table)
    console.print(f"{derived.stored} activity records stored")
