"""`carbonlink monitor …`: identify sources and watch emissions as readings arrive."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from carbonlink.commands.console import console
from carbonlink.errors import InputError

if TYPE_CHECKING:
    from carbonlink.monitor.plan import Finding, IndustryTemplate, MonitoringPlan
    from carbonlink.settings import Settings

app = typer.Typer(
    name="monitor",
    help=(
        "Identify every emission source a plant must account for (industry templates, "
        "monitoring plans, completeness) and watch its meters: anomalies against a seasonal "
        "baseline, alert rules, targets and the emissions-trading position."
    ),
    no_args_is_help=True,
)


@app.command()
def templates() -> None:
    """List the industry templates and the sources each one expects."""
    from carbonlink.monitor.plan import TEMPLATE_IDS, load_template

    for template_id in TEMPLATE_IDS:
        template = load_template(template_id)
        table = Table(title=f"{template.id}: {template.name.en} / {template.name.zh}")
        for column in ("source", "name", "名称", "category", "gases", "required"):
            table.add_column(column)
        for source in template.sources:
            table.add_row(
                source.id,
                source.name.en,
                source.name.zh,
                source.category,
                ", ".join(source.gases),
                "yes" if source.required else "",
            )
        console.print(table)
        console.print("follows: " + "; ".join(template.sources_of_template), style="dim")


@app.command()
def anomalies(
    ctx: typer.Context,
    meter: Annotated[str, typer.Argument(help="Meter id, as in the import mapping.")],
    k: Annotated[float, typer.Option(help="Band width in robust standard deviations.")] = 6.0,
    window_weeks: Annotated[
        int, typer.Option(help="Weeks of history the baseline is learned from.")
    ] = 8,
    min_readings: Annotated[
        int, typer.Option(help="Show only episodes of at least this many readings.")
    ] = 4,
    top: Annotated[int, typer.Option(help="How many episodes to list, longest first.")] = 15,
) -> None:
    """Find readings outside the meter's usual hour-of-week band (learned from past weeks)."""
    from carbonlink.monitor.anomaly import SeasonalBaseline, episodes, trailing_flags
    from carbonlink.store.workspace import open_store

    settings: Settings = ctx.obj
    store = open_store(settings)
    series = store.series(meter)
    if len(series) == 0:
        raise InputError(
            f"meter {meter!r} has no readings",
            hint="import its data first: carbonlink ingest csv FILE --mapping …",
        )
    known = store.meter(meter)
    timezone = known.time_zone if known is not None else "UTC"
    ts = series.ts_us.astype("datetime64[us]").astype("datetime64[ns]")
    flags, _, _ = trailing_flags(ts, series.value, timezone, window_weeks=window_weeks, k=k)
    baseline = SeasonalBaseline.fit(ts, series.value, timezone)
    found = [e for e in episodes(ts, series.value, flags, baseline) if e.readings >= min_readings]
    found.sort(key=lambda e: -e.readings)
    table = Table(title=f"{meter}: {len(found)} anomalous episodes (k = {k}, {timezone})")
    for column in ("start (local)", "end (local)", "readings", "peak", "usual"):
        table.add_column(column, justify="right")
    for episode in found[:top]:
        table.add_row(
            _local(episode.start, timezone),
            _local(episode.end, timezone),
            str(episode.readings),
            f"{episode.peak_value:g}",
            f"{episode.expected:g}",
        )
    console.print(table)
    console.print(f"{int(flags.sum()):,} of {len(series):,} readings outside the band", style="dim")


def _local(instant: object, timezone: str) -> str:
    import pandas as pd

    return str(
        pd.Timestamp(instant).tz_localize("UTC").tz_convert(timezone).strftime("%Y-%m-%d %H:%M")
    )


@app.command()
def plan(
    template: Annotated[str, typer.Option(help="Industry template id (see 'monitor templates').")],
    facility: Annotated[str, typer.Option(help="Facility id.")],
    sources: Annotated[
        Path,
        typer.Option(
            help="YAML mapping of the facility's source ids to template source ids, e.g. "
            "'boiler-1: fuel_combustion'. Optional keys per source: meters, method."
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            help="Write the plan here; the suffix picks the format: .yaml, .json, .xlsx, "
            ".pdf or .html (bilingual, with the completeness findings)."
        ),
    ] = None,
) -> None:
    """Generate a monitoring plan from an industry template and check its completeness."""
    import yaml

    from carbonlink.monitor.plan import completeness, load_template, plan_from_template

    chosen = load_template(template)
    raw = yaml.safe_load(sources.read_text(encoding="utf-8")) or {}
    if not isinstance(raw, dict):
        raise InputError("expected a mapping of source ids", file=str(sources))
    source_map: dict[str, str] = {}
    meters: dict[str, list[str]] = {}
    methods: dict[str, str | None] = {}
    for source_id, value in raw.items():
        if isinstance(value, str):
            source_map[str(source_id)] = value
            continue
        if not isinstance(value, dict) or "template_source" not in value:
            raise InputError(
                "give the template source id, or a mapping with 'template_source'",
                file=str(sources),
                record=str(source_id),
            )
        source_map[str(source_id)] = str(value["template_source"])
        meters[str(source_id)] = [str(m) for m in value.get("meters", [])]
        if "method" in value:
            methods[str(source_id)] = value["method"]
    monitoring_plan = plan_from_template(facility, chosen, source_map, meters, methods)
    table = Table(title=f"Monitoring plan {facility} v{monitoring_plan.version} ({template})")
    for column in ("source", "template source", "method", "tier", "meters", "data gaps"):
        table.add_column(column)
    for entry in monitoring_plan.entries:
        table.add_row(
            entry.source_id,
            entry.template_source,
            entry.method or "—",
            entry.tier,
            ", ".join(entry.meters) or "—",
            entry.data_gap_procedure,
        )
    console.print(table)
    all_meters = [m for entry in monitoring_plan.entries for m in entry.meters]
    findings = completeness(monitoring_plan, chosen, meters_with_data=all_meters)
    for finding in findings:
        console.print(f"[yellow]•[/] {finding.message_en} / {finding.message_zh}")
    if not findings:
        console.print("[green]complete:[/] every source the template requires is in the plan")
    if out is not None:
        _write_plan(monitoring_plan, chosen, findings, out)
        console.print(f"plan written to {out} (content hash {monitoring_plan.content_hash[:16]}…)")


def _write_plan(
    monitoring_plan: MonitoringPlan,
    template: IndustryTemplate,
    findings: list[Finding],
    out: Path,
) -> None:
    from dataclasses import asdict

    import yaml

    if out.suffix in {".yaml", ".yml"}:
        out.write_text(
            yaml.safe_dump(monitoring_plan.model_dump(mode="json"), allow_unicode=True),
            encoding="utf-8",
        )
        return
    from carbonlink.reports.monitoring_plan import build_plan_report
    from carbonlink.reports.render import write_report

    document = build_plan_report(
        monitoring_plan.model_dump(mode="json") | {"content_hash": monitoring_plan.content_hash},
        template.model_dump(mode="json"),
        [asdict(f) for f in findings],
    )
    write_report(document, out, out.suffix.lstrip("."))
