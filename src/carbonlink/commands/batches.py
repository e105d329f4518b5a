"""`carbonlink batches …`: production records in, batch passports out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console
from carbonlink.errors import ConfigError

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from carbonlink.settings import Settings

app = typer.Typer(
    help="Batches (heat → slab → coil): import production records, issue passports.",
    no_args_is_help=True,
)
Organization = Annotated[
    str, typer.Option("--organization", help="Organization the batches belong to (its id).")
]


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    from carbonlink.store import engine_from_settings, upgrade

    engine = engine_from_settings(settings)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@app.command("import")
def import_records(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="CSV or XLSX file of production records.")],
    organization: Organization,
    handle_prefix: Annotated[
        str | None,
        typer.Option(help="Handle prefix (default: CARBONLINK_HANDLE_PREFIX)."),
    ] = None,
) -> None:
    """Import production records; every row becomes a batch or is listed with its reason."""
    from carbonlink.batches.records import import_production_records

    settings: Settings = ctx.obj
    prefix = handle_prefix or settings.handle_prefix
    if not prefix:
        raise ConfigError(
            "no Handle prefix is set",
            hint="give --handle-prefix or set CARBONLINK_HANDLE_PREFIX to your node's prefix",
        )
    with _engine(settings) as engine:
        report = import_production_records(engine, organization, file, handle_prefix=prefix)
    console.print(
        f"{file.name}: {report.records} records, {len(report.new)} new batches, "
        f"{len(report.unchanged)} unchanged, {len(report.rejected)} rejected",
        highlight=False,
    )
    for item in report.rejected:
        console.print(f"  line {item.line}: {item.reason}", highlight=False, markup=False)


@app.command("passport")
def issue(
    ctx: typer.Context,
    batch: Annotated[str, typer.Argument(help="The batch id (e.g. coil-2025-000123).")],
    organization: Organization,
    producer: Annotated[str, typer.Option(help="The producer's name as the passport shows it.")],
    producer_id: Annotated[
        list[str] | None, typer.Option(help="A producer identifier URN (repeatable).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the passport files and the receipt.")
    ] = None,
) -> None:
    """Issue a batch's passport: record it in the ledger and write it with its receipt."""
    from carbonlink.batches.passport import (
        PUBLIC_SUFFIX,
        RESTRICTED_SUFFIX,
        Producer,
        issue_passport,
        prepare_passport,
    )
    from carbonlink.ledger import load_ledger_signer

    settings: Settings = ctx.obj
    signer = load_ledger_signer(settings.workspace)
    with _engine(settings) as engine:
        passport = prepare_passport(
            engine,
            organization,
            batch,
            producer=Producer(producer, tuple(producer_id or ())),
            resolver=settings.service_url,
        )
        stored = issue_passport(engine, organization, passport, signer=signer)
    folder = out or Path.cwd()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{batch}{PUBLIC_SUFFIX}").write_text(stored.public, "utf-8")
    (folder / f"{batch}{RESTRICTED_SUFFIX}").write_text(stored.restricted, "utf-8")
    receipt = folder / f"{batch}.tlog-proof"
    receipt.write_bytes(stored.receipt)
    console.print(
        f"passport of {batch}, version {stored.version}: ledger entry {stored.ledger_index}; "
        f"{receipt} (check with: carbonlink verify {receipt})",
        highlight=False,
        soft_wrap=True,
    )
