"""`carbonlink cbam-import`: customs lines in, the annual CBAM declaration out (EU importers)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from sqlalchemy import Engine

app = typer.Typer(
    help="EU importer's CBAM: load customs lines and communications, declare a year.",
    no_args_is_help=True,
)

OrganizationOption = Annotated[
    str, typer.Option("--organization", "-o", help="The importer's organization id.")
]


def _engine(ctx: typer.Context) -> Engine:
    from carbonlink.settings import Settings
    from carbonlink.store import engine_from_settings, upgrade

    settings: Settings = ctx.obj if isinstance(ctx.obj, Settings) else Settings()
    engine = engine_from_settings(settings)
    upgrade(engine)
    return engine


def _pair(text: str, what: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise typer.BadParameter(f"{text!r}: write {what}")
    return key, value


def _structured(path: Path) -> object:
    import json

    import yaml

    text = path.read_text(encoding="utf-8")
    return json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)


@app.command("load")
def load(
    ctx: typer.Context,
    organization: OrganizationOption,
    files: Annotated[
        list[Path] | None, typer.Argument(help="Customs lines, .csv or .xlsx.", exists=True)
    ] = None,
    communication: Annotated[
        list[str] | None,
        typer.Option(help="INSTALLATION_ID=communication.json (carbonlink's CBAM JSON)."),
    ] = None,
    carbon_price_paid: Annotated[
        list[str] | None,
        typer.Option(
            help="INSTALLATION_ID=file.yaml|json with carbon_price_paid: [{cn_code, "
            "amount_eur_per_t_co2e, evidence}]"
        ),
    ] = None,
    price: Annotated[
        list[str] | None,
        typer.Option(help="YEAR-Qn=EUR[@PUBLISHED-DATE], a certificate price to enter."),
    ] = None,
) -> None:
    """Store customs lines (bad rows quarantined, re-import changes nothing), communications
    and certificate prices for an importer."""
    import json
    from datetime import date

    from carbonlink.cbam_import.declaration import PriceEntry
    from carbonlink.cbam_import.lines import read_lines
    from carbonlink.cbam_import.store import save_communication, save_lines, save_price

    engine = _engine(ctx)
    paid: dict[str, object] = {}
    for text in carbon_price_paid or []:
        installation, paid_file = _pair(text, "INSTALLATION_ID=file.yaml")
        block = _structured(Path(paid_file))
        paid[installation] = block.get("carbon_price_paid") if isinstance(block, dict) else block
    for text in communication or []:
        installation, document_file = _pair(text, "INSTALLATION_ID=communication.json")
        document = json.loads(Path(document_file).read_text(encoding="utf-8"))
        saved = save_communication(
            engine, organization, installation, document, paid.get(installation)
        )
        console.print(
            f"communication {installation}: {saved.installation_name}, "
            f"{len(saved.goods)} good(s), {saved.period_start}–{saved.period_end}",
            highlight=False,
        )
    for text in price or []:
        quarter_text, value = _pair(text, "2026-Q1=75.36@2026-04-07")
        year_text, _, q = quarter_text.upper().partition("-Q")
        amount, _, published = value.partition("@")
        try:
            entry = PriceEntry(
                int(year_text),
                int(q),
                float(amount),
                date.fromisoformat(published) if published else None,
                "entered with carbonlink cbam-import load --price",
            )
        except ValueError:
            raise typer.BadParameter(f"{text!r}: write 2026-Q1=75.36@2026-04-07") from None
        if not 1 <= entry.quarter <= 4:
            raise typer.BadParameter(f"{text!r}: the quarter is 1 to 4")
        save_price(engine, organization, entry)
        console.print(
            f"price {entry.year} Q{entry.quarter}: {entry.price_eur} EUR", highlight=False
        )
    for path in files or []:
        read = read_lines(path)
        summary = save_lines(engine, organization, read)
        console.print(
            f"{path.name}: {summary.inserted} new, {summary.unchanged} unchanged, "
            f"{summary.changed} changed, {summary.quarantined} quarantined",
            highlight=False,
        )
        for bad in read.quarantined:
            console.print(f"  row {bad.row} ({bad.key}): {bad.reason}", highlight=False)


@app.command("declare")
def declare_command(
    ctx: typer.Context,
    organization: OrganizationOption,
    year: Annotated[int, typer.Option(help="The year of import declared.")],
    out: Annotated[Path, typer.Option(help="Folder for the JSON and XLSX.")] = Path("."),
    projected_price: Annotated[
        float | None, typer.Option(help="A certificate price (EUR) to project the cost under.")
    ] = None,
) -> None:
    """The annual declaration of a year: emissions, adjustments, certificates and cost."""
    from carbonlink.cbam_import.declaration import declare, prices_with_shipped
    from carbonlink.cbam_import.outputs import write_declaration_json, write_declaration_xlsx
    from carbonlink.cbam_import.store import communications, load_lines, prices

    engine = _engine(ctx)
    lines = [r.line for r in load_lines(engine, organization)]
    result = declare(
        year,
        lines,
        communications(engine, organization),
        prices_with_shipped(prices(engine, organization)),
        projected_price_eur=projected_price,
    )
    json_path = write_declaration_json(result, out / f"cbam-declaration-{year}.json")
    xlsx_path = write_declaration_xlsx(result, out / f"cbam-declaration-{year}.xlsx")
    console.print(
        f"{year}: {len(result.lines)} line(s), {result.total_mass_t:,.1f} t, embedded "
        f"{result.embedded_t:,.1f} t CO2e ({result.actual_share:.0%} actual), free allocation "
        f"adjustment {result.free_allocation_t:,.1f} t, carbon price deduction "
        f"{result.deduction_certificates:,.1f}; {result.certificates} certificates due "
        f"{result.due_date}",
        highlight=False,
    )
    if result.cost_published_eur is not None:
        state = "" if result.cost_complete else " (some quarters have no price yet)"
        console.print(
            f"cost at entered prices {result.cost_published_eur:,.2f} EUR{state}", highlight=False
        )
    if result.projected_cost_eur is not None:
        console.print(
            f"projected at {projected_price} EUR: {result.projected_cost_eur:,.2f} EUR",
            highlight=False,
        )
    for note in result.notes:
        console.print(f"note: {note}", highlight=False)
    console.print(f"wrote {json_path} and {xlsx_path}", highlight=False)


@app.command("quarterly")
def quarterly_command(
    ctx: typer.Context,
    organization: OrganizationOption,
    eori: Annotated[str, typer.Option(help="The reporting declarant's EORI number.")],
    name: Annotated[str, typer.Option(help="The reporting declarant's name.")],
    country: Annotated[str, typer.Option(help="Its country (ISO two letters).")],
    city: Annotated[str, typer.Option(help="Its city.")],
    out: Annotated[Path, typer.Option(help="Folder for the XML files.")] = Path("."),
) -> None:
    """Transitional quarterly reports (2023 Q4 – 2025 Q4) as validated QReport XML."""
    from carbonlink.cbam_import.qreport import Declarant, write_quarterly_reports
    from carbonlink.cbam_import.store import communications, load_lines

    engine = _engine(ctx)
    lines = [r.line for r in load_lines(engine, organization)]
    written = write_quarterly_reports(
        lines,
        communications(engine, organization),
        Declarant(eori, name, country.upper(), city),
        out,
    )
    for path in written:
        console.print(f"wrote {path}", highlight=False)
    if not written:
        console.print("no customs lines in 2023 Q4 – 2025 Q4", highlight=False)
