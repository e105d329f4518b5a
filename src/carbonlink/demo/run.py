"""The demo enterprise: a Chinese steel maker run end to end on the embedded default.

The demo is a sequence of named steps sharing one `DemoRun`; later capabilities (ingest,
reports, ledger) append their own step to `DEMO_STEPS` instead of editing the ones here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from carbonlink.commands.account import result_table
from carbonlink.demo.cbam import write_demo_cbam
from carbonlink.demo.cbam_importer import step_cbam_importer
from carbonlink.demo.cets import step_cets
from carbonlink.demo.credentials import step_credentials
from carbonlink.demo.passports import step_passports
from carbonlink.domain.engine import Computation, account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.domain.uncertainty import (
    InventoryUncertainty,
    inventory_sources,
    monte_carlo,
    propagate,
)
from carbonlink.settings import Settings
from carbonlink.store.repository import Store

DEMO_INVENTORY = "steel-enterprise.yaml"
DEMO_ENTITIES = "cets-entities.yaml"
"""The legal entities of the demo group under China's national ETS (2025 steel guideline)."""
METERED_INVENTORY = "metered-2018.yaml"
RECEIPTED_SUFFIXES = (".json", ".xlsx", ".pdf", ".html")
"""Rendered outputs the ledger step records as reports (inputs such as YAML files are not)."""


@dataclass
class DemoRun:
    """State shared by the demo steps: settings, output folder, console and what steps made."""

    settings: Settings
    out: Path
    console: Console
    outputs: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    plant_data: Path | None = None
    cbam_template: Path | None = None
    """The user's copy of the official CBAM communication template, filled when given."""
    calculation_runs: list[int] = field(default_factory=list)
    """Ledger indices of the calculation runs the steps recorded (reports cite them)."""


def demo_inventory_text(name: str = DEMO_INVENTORY) -> str:
    """A shipped demo inventory (YAML)."""
    return resources.files("carbonlink.data").joinpath("demo", name).read_text("utf-8")


def demo_settings(run: DemoRun) -> Settings:
    """The demo's own workspace (inside the output folder) unless a database is configured."""
    if run.settings.database_url:
        return run.settings
    return run.settings.model_copy(update={"workspace": run.out / "workspace"})


def step_workspace(run: DemoRun) -> None:
    """Create the demo workspace (embedded database, ledger signing key) inside ``out``."""
    from carbonlink.ledger import ensure_ledger_key
    from carbonlink.store.workspace import init_workspace

    settings = demo_settings(run)
    workspace = init_workspace(settings.workspace, settings)
    key = ensure_ledger_key(workspace.directory)
    run.console.print(f"workspace   {workspace.directory}", highlight=False)
    run.console.print(f"ledger key  {key.vkey()}", highlight=False, soft_wrap=True)


@contextmanager
def _demo_store(run: DemoRun) -> Iterator[Store]:
    from carbonlink.store.workspace import open_store

    store = open_store(demo_settings(run))
    try:
        yield store
    finally:
        store.engine.dispose()


def _announce(run: DemoRun, index: int, inputs: tuple[int, ...], digest: str) -> None:
    run.calculation_runs.append(index)
    run.console.print(
        f"ledger entry {index} (calculation-run) cites entries {', '.join(map(str, inputs))}; "
        f"results sha256 {digest}",
        highlight=False,
    )


def _account_recorded(run: DemoRun, text: str, file_name: str) -> Computation:
    """Account an inventory in the demo workspace and record the run in its ledger."""
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import account_recorded

    with _demo_store(run) as store:
        recorded = account_recorded(
            Ledger(store.engine), store, demo_settings(run).workspace, text, file_name=file_name
        )
    _announce(run, recorded.index, recorded.inputs, recorded.results_sha256)
    return recorded.computation


def step_accounting(run: DemoRun) -> None:
    """Account the demo inventory; write it and ``inventory.json`` and print the table."""
    text = demo_inventory_text()
    source = run.out / DEMO_INVENTORY
    source.write_text(text, "utf-8")
    inventory = parse_inventory(text, file=str(source))
    result = _account_recorded(run, text, DEMO_INVENTORY)
    document = result.to_dict()
    target = run.out / "inventory.json"
    target.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    run.outputs["inventory file"] = source
    run.outputs["inventory result"] = target
    run.results["accounting"] = result
    title = f"{inventory.organization} · {inventory.period.label} · GWP {inventory.gwp}"
    run.console.print(result_table(result, title))


def step_reports(run: DemoRun) -> None:
    """The GHG inventory (with uncertainty), the China national ETS reports (2025 steel
    guideline, one per legal entity) and the reconciliation (with the CBAM communications of the
    Tangshan works and the Jiangsu site) in HTML, PDF, XLSX and JSON."""
    from carbonlink.demo.cbam import DEMO_CBAM_INPUTS, demo_cbam_input
    from carbonlink.domain.cbam import compute_see
    from carbonlink.reports.bundle import write_reports
    from carbonlink.reports.cbam import build_communication
    from carbonlink.reports.cbam_input import load_cbam_input
    from carbonlink.reports.cets_entities import load_entities
    from carbonlink.reports.iso_statement import parse_statement
    from carbonlink.reports.uncertainty import read_uncertainty_spec, uncertainty_section

    written = run.outputs.get("inventory file")  # with the supply chain's scope 3 category 1
    text = written.read_text("utf-8") if written else demo_inventory_text()
    inventory = parse_inventory(text, file=DEMO_INVENTORY)
    result = run.results.get("accounting") or account(inventory, file=DEMO_INVENTORY)
    spec_file = demo_cbam_input("uncertainty.yaml")
    uncertainty = uncertainty_section(
        result, read_uncertainty_spec(spec_file), assumptions=f"demo/{spec_file.name}"
    )
    cbam = []
    for name in DEMO_CBAM_INPUTS:
        data = load_cbam_input(demo_cbam_input(name))
        cbam.append(build_communication(data, compute_see(data)))
    entities = load_entities(demo_cbam_input(DEMO_ENTITIES)).entities
    folder = run.out / "reports"
    run.outputs.update(
        write_reports(
            inventory,
            result,
            folder,
            source_file=DEMO_INVENTORY,
            uncertainty=uncertainty,
            cbam=cbam,
            statement=parse_statement(
                demo_cbam_input("iso-statement.yaml").read_text("utf-8"),
                file="demo/iso-statement.yaml",
            ),
            entities=entities,
        )
    )
    run.console.print(f"reports written to {folder}", highlight=False)


def step_plant_data(run: DemoRun) -> None:
    """Import the steel plant's 2018 electricity (real file when present) and derive its activity.

    The result (``run.results["plant"]``, a `carbonlink.demo.plant.PlantData`) carries the
    annual activity for the accounting step to use.
    """
    from carbonlink.demo.plant import ingest_plant_data
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import record_import_batch

    plant = ingest_plant_data(demo_settings(run), run.plant_data, run.console)
    run.results["plant"] = plant
    with _demo_store(run) as store:
        index = record_import_batch(store, Ledger(store.engine), plant.report.batch_id)
    run.console.print(
        f"  ledger entry {index} (import-batch): file sha256 {plant.report.file_sha256}",
        highlight=False,
    )


REAL_PROFILE = "(metered; real 2018 profile)"
GENERATED_PROFILE = "(metered; GENERATED 2018 series, illustrative, not the plant's data)"


def metered_inventory_text(origin: str) -> str:
    """The metered works' inventory, its facility named after where its readings came from.

    The shipped file names the works after the real plant year; when the demo had to generate
    the series (the real file absent), every page that shows the facility says so.
    """
    text = demo_inventory_text(METERED_INVENTORY)
    return text.replace(REAL_PROFILE, GENERATED_PROFILE) if origin == "generated" else text


def step_metered_accounting(run: DemoRun) -> None:
    """Account the metered works from the readings the plant-data step stored."""
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import account_recorded

    plant = run.results.get("plant")
    text = metered_inventory_text(plant.origin if plant is not None else "real")
    source = run.out / METERED_INVENTORY
    source.write_text(text, "utf-8")
    inventory = parse_inventory(text, file=str(source))
    with _demo_store(run) as store:
        recorded = account_recorded(
            Ledger(store.engine), store, demo_settings(run).workspace, text, file_name=str(source)
        )
    result, uses = recorded.computation, recorded.uses
    _announce(run, recorded.index, recorded.inputs, recorded.results_sha256)
    target = run.out / "inventory-metered-2018.json"
    target.write_text(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8")
    run.outputs["metered inventory file"] = source
    run.outputs["metered inventory result"] = target
    run.results["metered accounting"] = result
    title = f"{inventory.organization} · {inventory.period.label} · GWP {inventory.gwp}"
    run.console.print(result_table(result, title))
    for use in uses:
        run.console.print(
            f"{use.facility}/{use.source}: {use.quantity:,.3f} {use.unit} summed from meter "
            f"{use.meter_id} over {use.days} local days"
        )


def step_uncertainty(run: DemoRun) -> None:
    """95 % interval of scope 1 + location-based scope 2 by IPCC Approach 1 and Monte Carlo."""
    spec_text = resources.files("carbonlink.data").joinpath("demo", "uncertainty.yaml")
    spec_doc = yaml.safe_load(spec_text.read_text("utf-8"))
    spec = InventoryUncertainty(spec_doc["activity_u95"], spec_doc["factor_u95"])
    sources = inventory_sources(run.results["accounting"].lines(), spec)
    document = {}
    for result in (propagate(sources), monte_carlo(sources, draws=10_000)):
        total = result.total
        document[result.method] = {
            "central_tco2e": round(total.central, 3),
            "lower_tco2e": round(total.lower, 3),
            "upper_tco2e": round(total.upper, 3),
            "minus_pct": round(total.minus_pct, 3),
            "plus_pct": round(total.plus_pct, 3),
        }
        run.console.print(
            f"{result.method}: {total.central:,.0f} t CO2e, 95 % interval "
            f"{total.lower:,.0f} – {total.upper:,.0f} (−{total.minus_pct:.1f} % / "
            f"+{total.plus_pct:.1f} %)",
            highlight=False,
        )
    target = run.out / "uncertainty.json"
    target.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    run.outputs["uncertainty"] = target


def step_cbam(run: DemoRun) -> None:
    """EU CBAM communications of the demo installations (JSON and XLSX, and the official
    template filled when it is given); the workspace keeps their input files, from which the
    service writes a communication on demand."""
    from carbonlink.demo.cbam import DEMO_CBAM_INPUTS, demo_cbam_input
    from carbonlink.reports.cbam_input import CBAM_INPUT_MEDIA_TYPE

    run.outputs.update(write_demo_cbam(run.out, run.console, template=run.cbam_template))
    from carbonlink.demo.cbam_exporter import write_demo_cbam_exporter

    run.outputs.update(
        write_demo_cbam_exporter(
            run.out, run.console, demo_settings(run), template=run.cbam_template
        )
    )
    with _demo_store(run) as store:
        for name in DEMO_CBAM_INPUTS:
            store.save_document(name, demo_cbam_input(name).read_bytes(), CBAM_INPUT_MEDIA_TYPE)


def step_monitoring(run: DemoRun) -> None:
    """Monitoring plan and completeness, target pathway, ETS position and real-data anomalies."""
    from carbonlink.demo.monitoring import demo_settings as monitoring_settings
    from carbonlink.demo.monitoring import monitoring_report
    from carbonlink.store.workspace import open_store

    store = open_store(demo_settings(run))
    try:
        report = monitoring_report(
            monitoring_settings(),
            run.results["accounting"],
            run.results["metered accounting"],
            store,
        )
    finally:
        store.engine.dispose()
    target = run.out / "monitoring.json"
    target.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", "utf-8")
    run.outputs["monitoring"] = target
    from carbonlink.monitor.plan import load_template
    from carbonlink.reports.monitoring_plan import build_plan_report
    from carbonlink.reports.render import write_report

    plan_document = build_plan_report(
        report["plan"],
        load_template(report["plan"]["template_id"]).model_dump(mode="json"),
        report["completeness"],
        organization="Demo Steel Co., Ltd.",
    )
    for suffix in ("pdf", "xlsx"):
        path = write_report(plan_document, run.out / f"monitoring-plan.{suffix}", suffix)
        run.outputs[f"monitoring plan ({suffix.upper()})"] = path
    run.results["monitoring"] = report
    progress = report["target"]["progress"]
    ets = report["ets"]
    anomalies = report["metered_works"]["anomalies"]
    run.console.print(
        f"plan {report['plan']['facility_id']} v{report['plan']['version']}: "
        f"{len(report['plan']['entries'])} sources, {len(report['completeness'])} completeness "
        f"findings; target {progress['year']}: {progress['projected']:,.0f} of "
        f"{progress['allowed']:,.0f} t allowed ({'on track' if progress['on_track'] else 'over'}); "
        f"{ets['scheme']} {ets['year']}: balance {ets['balance_t']:,.0f} t, cost "
        f"{ets['cost']:,.0f} {ets['currency']}; {len(anomalies['episodes'])} anomaly episodes "
        f"in the metered works' real data",
        highlight=False,
    )
    if anomalies["episodes"]:
        first = anomalies["episodes"][0]
        run.console.print(
            f"longest: {first['start_local']} → {first['end_local']}, "
            f"{first['readings']} readings, peak {first['peak_kwh']:g} kWh "
            f"where {first['usual_kwh']:g} kWh is usual",
            highlight=False,
        )


def step_ledger(run: DemoRun) -> None:
    """Record every rendered output as a report with its receipt beside it; show how to check.

    Outputs of one name in several formats (``x.json``, ``x.xlsx``) are one report: one entry
    and one receipt ``x.tlog-proof`` in the same folder. Each cites the calculation runs.
    """
    from carbonlink.ledger import Ledger, load_ledger_signer
    from carbonlink.ledger.keys import PUBLIC_KEY_FILE, key_folder
    from carbonlink.provenance import record_rendered_report

    reports: dict[Path, list[Path]] = {}
    for path in run.outputs.values():
        if path.suffix.lower() in RECEIPTED_SUFFIXES and path.is_file():
            reports.setdefault(path.parent / path.stem, []).append(path)
    workspace = demo_settings(run).workspace
    signer = load_ledger_signer(workspace)
    receipts: list[Path] = []
    with _demo_store(run) as store:
        ledger = Ledger(store.engine)
        for stem, paths in reports.items():
            index, receipt = record_rendered_report(
                store,
                ledger,
                signer,
                stem.name,
                report_kind=str(stem.relative_to(run.out))
                if stem.is_relative_to(run.out)
                else stem.name,
                paths=sorted(set(paths)),
                inputs=run.calculation_runs,
            )
            receipts.append(receipt)
            run.console.print(
                f"ledger entry {index} (report {stem.name}): "
                f"{', '.join(p.name for p in sorted(set(paths)))} → {receipt.name}",
                highlight=False,
            )
        latest = ledger.latest_checkpoint()
    for receipt in receipts:
        where = receipt.with_name(receipt.name.removesuffix(".tlog-proof"))
        name = where.relative_to(run.out) if where.is_relative_to(run.out) else where.name
        run.outputs[f"receipt {name}"] = receipt
    if latest is not None:
        run.console.print(f"signed checkpoint of the ledger at {latest.size} entries:")
        run.console.print(latest.note.decode(), highlight=False, markup=False, soft_wrap=True)
    if receipts:
        vkey = key_folder(workspace) / PUBLIC_KEY_FILE
        run.console.print("anyone can check a report offline, with the log's public key only:")
        run.console.print(
            f"  carbonlink verify {receipts[0]} --key {vkey}", highlight=False, soft_wrap=True
        )
        run.console.print("and the whole chain, from meter to report, with the database:")
        run.console.print(
            f"  CARBONLINK_WORKSPACE={workspace} carbonlink ledger verify --full",
            highlight=False,
            soft_wrap=True,
        )


def step_dashboard(run: DemoRun) -> None:
    """Save the results into the workspace and say how to open them in the browser."""
    from carbonlink.demo.monitoring import demo_settings as monitoring_settings
    from carbonlink.demo.service import save_demo_results
    from carbonlink.store.workspace import open_store

    settings = demo_settings(run)
    store = open_store(settings)
    try:
        saved = save_demo_results(
            store,
            [
                (run.outputs["inventory file"], run.results["accounting"]),
                (run.outputs["metered inventory file"], run.results["metered accounting"]),
            ],
            run.results["monitoring"],
            run.outputs,
            monitoring_settings().get("alert_rules", []),
            settings.workspace,
        )
    finally:
        store.engine.dispose()
    where = (
        f"--database {settings.database_url}"
        if settings.database_url
        else f"--workspace {settings.workspace}"
    )
    run.console.print(
        f"2 inventory runs, {saved['alerts']} alerts ({saved['open']} open) and the monitoring "
        "report saved.\n"
        "Open the demo in the browser:\n"
        f"  CARBONLINK_DEMO_PASSWORD=demo-password .venv/bin/carbonlink serve {where} --demo "
        "--dev-tls\n"
        "  then https://127.0.0.1:8000/ (a self-signed development certificate) — log in as "
        "manager@demo.carbonlink.example with that password (Chinese interface; 'English' in "
        "the top bar switches). Partners reach the PACT host at https://127.0.0.1:8000/pact.",
        highlight=False,
    )


def step_supply_chain(run: DemoRun) -> None:
    """Supply chain over PACT v3: suppliers answer, the plant's PCFs are published (HTTPS)."""
    from carbonlink.demo.service import DEMO_ORG_ID
    from carbonlink.demo.supply_chain import run_supply_chain
    from carbonlink.ledger import load_ledger_signer
    from carbonlink.store.workspace import open_store

    store = open_store(demo_settings(run))
    try:
        files = run_supply_chain(
            run.out,
            store.engine,
            run.results["accounting"],
            run.console,
            organization_id=DEMO_ORG_ID,
            signer=load_ledger_signer(demo_settings(run).workspace),
        )
        _print_supplier_index(run, store.engine, DEMO_ORG_ID)
    finally:
        store.engine.dispose()
    run.outputs.update(files)
    # Scope 3 category 1 from the suppliers' footprints joins the inventory before it is reported.
    from carbonlink.demo.supply_chain import with_category1

    text = with_category1(demo_inventory_text(), files["scope 3 category 1 sources"])
    run.outputs["inventory file"].write_text(text, "utf-8")
    result = _account_recorded(run, text, DEMO_INVENTORY)
    run.outputs["inventory result"].write_text(
        json.dumps(result.to_dict(), ensure_ascii=False, indent=2) + "\n", "utf-8"
    )
    run.results["accounting"] = result
    category1 = sum(t for (c,), t in result.summary("category").items() if c == "category 1")
    run.console.print(
        f"scope 3 category 1 from the suppliers' footprints (coke, ferrochrome): "
        f"{category1:,.0f} t CO2e, added to {DEMO_INVENTORY}",
        highlight=False,
    )


def _print_supplier_index(run: DemoRun, engine: Engine, organization_id: str) -> None:
    """The supplier green-and-digital index of the suppliers that just answered."""
    from datetime import UTC, datetime

    from carbonlink.exchange.repository import ExchangeRepository
    from carbonlink.indices.suppliers import supplier_index

    repository = ExchangeRepository(engine, organization_id=organization_id)
    table = supplier_index(repository, as_of=datetime.now(UTC)).index_table()
    ranking = "; ".join(f"{int(r.rank)}. {r.uName} {r.score:.1f}" for r in table.itertuples())
    run.console.print(
        f"supplier green-and-digital index: {ranking} (page /supply-chain/suppliers/index)",
        highlight=False,
    )


DemoStep = Callable[[DemoRun], None]
DEMO_STEPS: list[tuple[str, DemoStep]] = [
    ("workspace", step_workspace),
    ("plant data", step_plant_data),
    ("accounting", step_accounting),
    ("metered accounting", step_metered_accounting),
    ("supply chain", step_supply_chain),
    ("uncertainty", step_uncertainty),
    ("cbam", step_cbam),
    ("cbam importer", step_cbam_importer),
    ("passports", step_passports),
    ("monitoring", step_monitoring),
    ("reports", step_reports),
    ("china ets", step_cets),
    ("ledger", step_ledger),
    ("credentials", step_credentials),
    ("dashboard", step_dashboard),
]


def run_demo(
    settings: Settings,
    out: Path,
    console: Console,
    *,
    plant_data: Path | None = None,
    cbam_template: Path | None = None,
) -> None:
    """Run the demo steps in order and write their outputs into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    run = DemoRun(settings, out, console, plant_data=plant_data, cbam_template=cbam_template)
    for name, step in DEMO_STEPS:
        console.rule(name)
        step(run)
    summary = Table(title="demo outputs")
    summary.add_column("what")
    summary.add_column("file")
    for what, path in run.outputs.items():
        summary.add_row(what, str(path.resolve()))
    console.print(summary)
    console.print(f"demo outputs in {out.resolve()}")
