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

from rich.console import Console
from rich.table import Table

from carbonlink.commands.account import result_table
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.settings import Settings
from carbonlink.store.repository import Store

DEMO_INVENTORY = "steel-enterprise.yaml"
DEMO_READINGS = "tangshan-power-2025.csv"
DEMO_MAPPING = "tangshan-power.yaml"
DEMO_METER_BINDING = ("tangshan-works", "grid-power", "tangshan-grid-main")
"""The inventory source whose activity the demo takes from stored meter readings."""


@dataclass
class DemoRun:
    """State shared by the demo steps: settings, output folder, console and what steps made."""

    settings: Settings
    out: Path
    console: Console
    outputs: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)
    workspace: Settings | None = None
    """Settings of the demo workspace once the workspace step made it (None: no database)."""
    reports: dict[str, list[Path]] = field(default_factory=dict)
    """Rendered reports by id, each recorded in the ledger with a receipt by the ledger step."""


def demo_inventory_text() -> str:
    """The shipped demo inventory (YAML)."""
    return resources.files("carbonlink.data").joinpath("demo", DEMO_INVENTORY).read_text("utf-8")


def step_workspace(run: DemoRun) -> None:
    """Create the demo workspace (embedded database, ledger signing key) inside ``out``."""
    from carbonlink.ledger import ensure_ledger_key
    from carbonlink.store.workspace import init_workspace

    folder = run.out / "workspace"
    settings = run.settings.model_copy(update={"workspace": folder, "database_url": None})
    workspace = init_workspace(folder, settings)
    run.workspace = settings.model_copy(update={"workspace": workspace.directory})
    key = ensure_ledger_key(workspace.directory)
    run.console.print(f"workspace   {workspace.directory}", highlight=False)
    run.console.print(f"ledger key  {key.vkey()}", highlight=False)


def step_ingest(run: DemoRun) -> None:
    """Import the Tangshan works' monthly electricity readings and record the batch."""
    from carbonlink.ingest.file_import import import_file
    from carbonlink.ingest.mapping import load_mapping
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import record_import_batch

    folder = resources.files("carbonlink.data").joinpath("demo")
    readings = run.out / DEMO_READINGS
    readings.write_bytes(folder.joinpath(DEMO_READINGS).read_bytes())
    mapping_file = run.out / DEMO_MAPPING
    mapping_file.write_bytes(folder.joinpath(DEMO_MAPPING).read_bytes())
    with _demo_store(run) as store:
        report = import_file(readings, load_mapping(mapping_file), store)
        index = record_import_batch(store, Ledger(store.engine), report.batch_id)
    run.outputs["meter readings"] = readings
    run.console.print(
        f"{report.readings_new} new readings of {report.records} rows, "
        f"{report.quarantined} quarantined; ledger entry {index} (import-batch)",
        highlight=False,
    )


def step_accounting(run: DemoRun) -> None:
    """Account the demo inventory; write it and ``inventory.json`` and print the table.

    With a demo workspace the run is recorded in the ledger and the Tangshan grid power is
    taken from the meter readings the ingest step stored.
    """
    text = demo_inventory_text()
    source = run.out / DEMO_INVENTORY
    source.write_text(text, "utf-8")
    inventory = parse_inventory(text, file=str(source))
    if run.workspace is not None:
        from carbonlink.ledger import Ledger
        from carbonlink.provenance import MeterBinding, account_recorded

        with _demo_store(run) as store:
            recorded = account_recorded(
                Ledger(store.engine),
                store,
                run.workspace.workspace,
                text,
                file_name=DEMO_INVENTORY,
                meters=(MeterBinding(*DEMO_METER_BINDING),),
            )
        result = recorded.computation
        run.results["calculation run"] = recorded.index
        run.console.print(
            f"ledger entry {recorded.index} (calculation-run) cites entries "
            f"{', '.join(map(str, recorded.inputs))}; results sha256 {recorded.results_sha256}",
            highlight=False,
        )
    else:
        result = account(inventory, file=str(source))
    document = result.to_dict()
    target = run.out / "inventory.json"
    target.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    run.outputs["inventory file"] = source
    run.outputs["inventory result"] = target
    run.reports["inventory-result"] = [target]
    run.results["accounting"] = result
    title = f"{inventory.organization} · {inventory.period.label} · GWP {inventory.gwp}"
    run.console.print(result_table(result, title))


def step_ledger(run: DemoRun) -> None:
    """Record every rendered report with its receipt beside it; print how to check one.

    The reports are those the steps listed in ``run.reports`` plus, grouped by file stem, the
    files in ``out/reports`` (one report in several formats is one entry and one receipt).
    """
    from carbonlink.ledger import Ledger, load_ledger_signer, load_ledger_verifier
    from carbonlink.ledger.keys import PUBLIC_KEY_FILE, key_folder
    from carbonlink.ledger.receipt import record_report

    if run.workspace is None:
        return
    reports = dict(run.reports)
    rendered = run.out / "reports"
    if rendered.is_dir():
        for path in sorted(p for p in rendered.iterdir() if p.is_file()):
            if not path.name.endswith(".tlog-proof"):
                reports.setdefault(path.stem, []).append(path)
    workspace = run.workspace.workspace
    signer = load_ledger_signer(workspace)
    inputs = [run.results["calculation run"]] if "calculation run" in run.results else []
    receipts = []
    with _demo_store(run) as store:
        ledger = Ledger(store.engine)
        for report_id, paths in reports.items():
            index, receipt = record_report(
                ledger, signer, report_id, report_kind=report_id, paths=paths, inputs=inputs
            )
            receipts.append(receipt)
            run.outputs[f"receipt {report_id}"] = receipt
            run.console.print(f"ledger entry {index} (report {report_id}) → {receipt.name}")
        latest = ledger.latest_checkpoint()
    verifier = load_ledger_verifier(workspace)
    vkey = key_folder(workspace) / PUBLIC_KEY_FILE
    if latest is not None:
        run.console.print(f"signed checkpoint of {latest.size} entries ({verifier.name}):")
        run.console.print(latest.note.decode(), highlight=False, markup=False)
    if receipts:
        run.console.print("anyone can check a report offline, with the log's public key only:")
        run.console.print(
            f"  carbonlink verify {receipts[0]} --key {vkey}", highlight=False, soft_wrap=True
        )
        run.console.print("and the whole chain, from meter to report:")
        run.console.print(
            f"  CARBONLINK_WORKSPACE={workspace} carbonlink ledger verify --full",
            highlight=False,
            soft_wrap=True,
        )


@contextmanager
def _demo_store(run: DemoRun) -> Iterator[Store]:
    from carbonlink.store.workspace import open_store

    assert run.workspace is not None
    store = open_store(run.workspace)
    try:
        yield store
    finally:
        store.engine.dispose()


DemoStep = Callable[[DemoRun], None]
DEMO_STEPS: list[tuple[str, DemoStep]] = [
    ("workspace", step_workspace),
    ("ingest", step_ingest),
    ("accounting", step_accounting),
    ("ledger", step_ledger),
]


def run_demo(settings: Settings, out: Path, console: Console) -> None:
    """Run the demo steps in order and write their outputs into ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    run = DemoRun(settings, out, console)
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
