"""`carbonlink cets`: China's national ETS month by month for a legal entity (steel).

plan (data-quality control plan), import (monthly ledger), check (plausibility), deposit (the
month's evidence pack with its ledger receipt), verify, calendar (deadlines, reminders) and
allocation (surplus or shortfall at a price). Every command imports what it uses when it runs.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.settings import Settings
    from carbonlink.store.repository import Store

app = typer.Typer(
    help="China national ETS operations: control plan, monthly parameters, deposits, calendar.",
    no_args_is_help=True,
)

OrgOption = Annotated[
    str | None,
    typer.Option("--org", help="Organization id (default: the workspace's organization)."),
]
EntityOption = Annotated[str, typer.Option("--entity", help="Legal entity id (e.g. tangshan).")]


def _settings(ctx: typer.Context) -> Settings:
    from carbonlink.settings import Settings

    return ctx.obj if isinstance(ctx.obj, Settings) else Settings()


def _store(ctx: typer.Context) -> Store:
    from carbonlink.store.workspace import open_store

    return open_store(_settings(ctx))


def _organization(ctx: typer.Context, org: str | None) -> str:
    from carbonlink.errors import InputError
    from carbonlink.store.workspace import load_workspace_config

    if org:
        return org
    config = load_workspace_config(_settings(ctx).workspace)
    if config.organization is None:
        raise InputError(
            "no organization given and the workspace names none",
            hint="pass --org ORG_ID or add an organization: section to the workspace file",
        )
    return config.organization.id


@app.command("plan")
def plan_command(
    ctx: typer.Context,
    entity: EntityOption,
    entities: Annotated[
        Path | None, typer.Option(help="Entities file (YAML) to draft the plan from.")
    ] = None,
    inventory: Annotated[
        Path | None, typer.Option(help="Enterprise dataset (inventory YAML) of the entity.")
    ] = None,
    laboratory: Annotated[str, typer.Option(help="Laboratory named in the plan.")] = "",
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan-file",
            help="A plan edited as JSON (from --write-json) to save as the next version.",
        ),
    ] = None,
    write_json: Annotated[
        Path | None, typer.Option(help="Write the saved plan as JSON, to edit and save again.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder for the plan's PDF and XLSX (Chinese).")
    ] = None,
    org: OrgOption = None,
) -> None:
    """Draft and save the entity's control plan (from --entities and --inventory), save an edited
    one (--plan-file), or export the saved one; a changed plan is saved as the next version."""
    from carbonlink.cets.operations import plan_for_entity
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.errors import InputError
    from carbonlink.reports.cets_entities import load_entities
    from carbonlink.reports.cets_reports import control_plan_document
    from carbonlink.reports.render import write_report
    from carbonlink.store import cets as cets_store

    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        if plan_file is not None:
            from pydantic import ValidationError

            from carbonlink.cets.control_plan import ControlPlan

            try:
                edited = ControlPlan.model_validate_json(plan_file.read_bytes())
            except ValidationError as exc:
                first = exc.errors()[0]
                raise InputError(
                    f"{'.'.join(str(p) for p in first['loc'])}: {first['msg']}",
                    file=str(plan_file),
                    hint="edit the JSON that --write-json wrote",
                ) from None
            if edited.entity_id != entity:
                raise InputError(
                    f"the plan file is for {edited.entity_id!r}, not {entity!r}",
                    file=str(plan_file),
                )
            plan = cets_store.save_control_plan(store.engine, organization, edited, "cli")
        elif entities is not None and inventory is not None:
            group = load_entities(entities)
            found = next((e for e in group.entities if e.id == entity), None)
            if found is None:
                raise InputError(
                    f"entity {entity!r} is not in {entities}",
                    hint=f"use one of {', '.join(e.id for e in group.entities)}",
                )
            dataset = parse_inventory(inventory.read_text("utf-8"), file=str(inventory))
            draft = plan_for_entity(found, dataset, laboratory=laboratory)
            plan = cets_store.save_control_plan(store.engine, organization, draft, "cli")
        else:
            latest = cets_store.latest_control_plan(store.engine, organization, entity)
            if latest is None:
                raise InputError(
                    f"entity {entity!r} has no saved control plan",
                    hint="draft one with --entities FILE --inventory FILE",
                )
            plan = latest.plan
    finally:
        store.engine.dispose()
    console.print(
        f"control plan {plan.entity_id} v{plan.version}: {len(plan.parameters)} parameters, "
        f"content hash {plan.content_hash}",
        highlight=False,
    )
    if write_json is not None:
        write_json.write_text(plan.model_dump_json(indent=2), "utf-8")
        console.print(f"  {write_json}", highlight=False)
    if out is not None:
        document = control_plan_document(plan)
        for suffix in ("pdf", "xlsx"):
            path = out / f"control-plan-{plan.entity_id}-v{plan.version}.{suffix}"
            write_report(document, path, suffix)
            console.print(f"  {path}", highlight=False)


@app.command("import")
def import_command(
    ctx: typer.Context,
    ledger: Annotated[Path, typer.Argument(help="Monthly parameter ledger (XLSX).")],
    evidence: Annotated[
        list[Path] | None,
        typer.Option(help="Evidence file or folder the ledger names (repeat)."),
    ] = None,
    org: OrgOption = None,
) -> None:
    """Store a ledger's monthly parameters with their evidence; bad rows are quarantined."""
    from carbonlink.cets.operations import import_ledger
    from carbonlink.errors import InputError

    files: dict[str, bytes] = {}
    for item in evidence or []:
        paths = sorted(p for p in item.iterdir() if p.is_file()) if item.is_dir() else [item]
        for path in paths:
            if not path.is_file():
                raise InputError("evidence file not found", file=str(path))
            files[path.name] = path.read_bytes()
    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        summary = import_ledger(
            store.engine, organization, ledger.read_bytes(), ledger.name, files, "cli"
        )
    finally:
        store.engine.dispose()
    console.print(
        f"{summary.stored} record(s) stored, {summary.evidence} evidence file(s), "
        f"{len(summary.quarantined)} row(s) quarantined",
        highlight=False,
    )
    for number, entity, _, error in summary.quarantined:
        console.print(f"  row {number} ({entity or '?'}): {error}", highlight=False)


@app.command("derive")
def derive_command(
    ctx: typer.Context,
    entity: EntityOption,
    source: Annotated[str, typer.Option(help="Source stream (or process) in the control plan.")],
    parameter: Annotated[str, typer.Option(help="Parameter, e.g. purchased_electricity.")],
    meter: Annotated[str, typer.Option(help="Interval meter whose readings are summed.")],
    month: Annotated[str, typer.Option(help="Month, YYYY-MM (the meter's local month).")],
    org: OrgOption = None,
) -> None:
    """Store a month's value summed from a meter's readings in the store."""
    from carbonlink.cets.operations import derive_from_meter

    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        record = derive_from_meter(
            store.engine, organization, entity, source, parameter, meter, month, "cli"
        )
    finally:
        store.engine.dispose()
    console.print(
        f"{record.month} {record.source}/{record.parameter} = {record.value:,.3f} {record.unit} "
        f"({record.standard})",
        highlight=False,
    )


@app.command("check")
def check_command(
    ctx: typer.Context,
    entity: EntityOption,
    year: Annotated[int, typer.Option(help="Compliance year.")],
    org: OrgOption = None,
) -> None:
    """Run the plausibility checks (CETS-P1 … P7) over the entity's records of the year."""
    from carbonlink.cets.operations import findings_of
    from carbonlink.cets.plausibility import RULES

    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        found = findings_of(store.engine, organization, entity, year)
    finally:
        store.engine.dispose()
    for f in found:
        console.print(
            f"{f.month} {f.rule} {RULES[f.rule].title}: {f.source}/{f.parameter} — {f.detail}",
            highlight=False,
        )
    console.print(f"{len(found)} finding(s)", highlight=False)


@app.command("deposit")
def deposit_command(
    ctx: typer.Context,
    entity: EntityOption,
    month: Annotated[str, typer.Option(help="Month to deposit, YYYY-MM.")],
    on: Annotated[
        str | None, typer.Option("--on", help="Upload date YYYY-MM-DD (default: today).")
    ] = None,
    org: OrgOption = None,
) -> None:
    """Build the month's deposit pack, record it in the ledger and write its zip."""
    from carbonlink.cets.operations import deposit_month
    from carbonlink.ledger import load_ledger_signer

    settings = _settings(ctx)
    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        deposit = deposit_month(
            store.engine,
            settings.workspace,
            load_ledger_signer(settings.workspace),
            organization,
            entity,
            month,
            deposited_on=date.fromisoformat(on) if on else date.today(),
        )
    finally:
        store.engine.dispose()
    folder = settings.workspace / deposit.folder
    console.print(
        f"{deposit.pack_id}: {len(deposit.files)} files, {deposit.findings} finding(s), "
        f"ledger entry {deposit.ledger_index}\n  {folder}\n  {folder}.zip",
        highlight=False,
    )


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    entity: EntityOption,
    month: Annotated[str | None, typer.Option(help="Only this month, YYYY-MM.")] = None,
    org: OrgOption = None,
) -> None:
    """Check the entity's deposit packs against their receipts (exit 1 on any changed file)."""
    from carbonlink.cets.operations import verify_deposit
    from carbonlink.errors import CarbonlinkError
    from carbonlink.ledger import load_ledger_verifier
    from carbonlink.store import cets as cets_store

    settings = _settings(ctx)
    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        deposits = cets_store.deposits_of(store.engine, organization, entity)
    finally:
        store.engine.dispose()
    key = load_ledger_verifier(settings.workspace)
    failed = 0
    for deposit in deposits:
        if month and deposit.month != month:
            continue
        try:
            verify_deposit(settings.workspace, deposit, key)
            console.print(f"{deposit.pack_id}: unchanged", highlight=False)
        except CarbonlinkError as exc:
            failed += 1
            console.print(f"{deposit.pack_id}: FAILED — {exc}", highlight=False)
    if failed:
        raise typer.Exit(1)


@app.command("calendar")
def calendar_command(
    ctx: typer.Context,
    entity: EntityOption,
    year: Annotated[int, typer.Option(help="Compliance year.")],
    today: Annotated[
        str | None, typer.Option(help="Day to judge on, YYYY-MM-DD (default: today).")
    ] = None,
    remind_within: Annotated[
        int | None,
        typer.Option(help="Send reminders of deadlines this many days away or less."),
    ] = None,
    org: OrgOption = None,
) -> None:
    """The entity's deadlines for the year, what is done and missing; with --remind-within,
    reminders through the organization's alert channels."""
    from carbonlink.cets.operations import calendar_status, deadline_events, notify_deadlines

    organization = _organization(ctx, org)
    day = date.fromisoformat(today) if today else date.today()
    store = _store(ctx)
    try:
        statuses = calendar_status(store.engine, organization, entity, year, day)
        for s in statuses:
            o = s.obligation
            done = f" done {s.done_on}" if s.done_on else ""
            console.print(
                f"{o.due} {o.kind.value:<17} {o.period:<8} {s.state.value}{done}", highlight=False
            )
        if remind_within is not None:
            events = deadline_events(entity, statuses, remind_within, day)
            sent = notify_deadlines(
                store.engine, organization, events, key=_settings(ctx).key_bytes
            )
            console.print(
                f"{len(events)} reminder(s); {sum(1 for s in sent if not s[2])} sent"
                + "".join(f"\n  {c}: {e} failed: {err}" for c, e, err in sent if err),
                highlight=False,
            )
    finally:
        store.engine.dispose()


@app.command("allocation")
def allocation_command(
    ctx: typer.Context,
    entity: EntityOption,
    year: Annotated[int, typer.Option(help="Compliance year.")],
    price: Annotated[float, typer.Option(min=0, help="Allowance price, CNY per t CO2.")],
    intensity: Annotated[
        list[str] | None,
        typer.Option(help="process=t CO2/t of the allocation plan (repeat; needed for 2025)."),
    ] = None,
    intensity_source: Annotated[str, typer.Option(help="Where the intensities come from.")] = "",
    org: OrgOption = None,
) -> None:
    """Expected allocation from the recorded output, emissions from the recorded parameters,
    and the surplus or shortfall at --price."""
    from carbonlink.cets.operations import entity_year
    from carbonlink.errors import InputError

    values: dict[str, float] | None = None
    if intensity:
        values = {}
        for item in intensity:
            process, _, number = item.partition("=")
            try:
                values[process] = float(number)
            except ValueError:
                raise InputError(
                    f"--intensity {item!r} is not process=number",
                    hint="e.g. --intensity steelmaking=1.8",
                ) from None
    organization = _organization(ctx, org)
    store = _store(ctx)
    try:
        result = entity_year(
            store.engine,
            organization,
            entity,
            year,
            price=price,
            intensity=values,
            intensity_source=intensity_source,
        )
    finally:
        store.engine.dispose()
    total = sum(m.tco2 for m in result.emissions)
    console.print(f"direct CO2 {year} from the records: {total:,.0f} t", highlight=False)
    for process, amount in sorted(result.output_t.items()):
        console.print(f"  output {process}: {amount:,.0f}", highlight=False)
    p = result.position
    if p is None:
        raise InputError(f"no allocation position: {result.position_error}")
    word = "surplus" if p.surplus_t >= 0 else "shortfall"
    money: Any = p.surplus_value if p.surplus_t >= 0 else p.shortfall_cost
    console.print(
        f"allocation {p.allocation_t:,.0f} t, {word} {abs(p.surplus_t):,.0f} t, "
        f"{'value' if p.surplus_t >= 0 else 'cost'} {money:,.0f} CNY at {p.price:g} CNY/t\n"
        f"  {p.basis}",
        highlight=False,
    )
