"""The demo enterprise: a Chinese steel maker run end to end on the embedded default.

The demo is a sequence of named steps sharing one `DemoRun`; later capabilities (ingest,
reports, ledger) append their own step to `DEMO_STEPS` instead of editing the ones here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
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

DEMO_INVENTORY = "steel-enterprise.yaml"


@dataclass
class DemoRun:
    """State shared by the demo steps: settings, output folder, console and what steps made."""

    settings: Settings
    out: Path
    console: Console
    outputs: dict[str, Path] = field(default_factory=dict)
    results: dict[str, Any] = field(default_factory=dict)


def demo_inventory_text() -> str:
    """The shipped demo inventory (YAML)."""
    return resources.files("carbonlink.data").joinpath("demo", DEMO_INVENTORY).read_text("utf-8")


def step_accounting(run: DemoRun) -> None:
    """Account the demo inventory; write it and ``inventory.json`` and print the table."""
    text = demo_inventory_text()
    source = run.out / DEMO_INVENTORY
    source.write_text(text, "utf-8")
    inventory = parse_inventory(text, file=str(source))
    result = account(inventory, file=str(source))
    document = result.to_dict()
    target = run.out / "inventory.json"
    target.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    run.outputs["inventory file"] = source
    run.outputs["inventory result"] = target
    run.results["accounting"] = result
    title = f"{inventory.organization} · {inventory.period.label} · GWP {inventory.gwp}"
    run.console.print(result_table(result, title))


def step_reports(run: DemoRun) -> None:
    """The GHG inventory, China guideline and reconciliation reports in all four formats."""
    from carbonlink.reports.bundle import write_reports

    inventory = parse_inventory(demo_inventory_text(), file=DEMO_INVENTORY)
    result = run.results.get("accounting") or account(inventory, file=DEMO_INVENTORY)
    run.outputs.update(
        write_reports(inventory, result, run.out / "reports", source_file=DEMO_INVENTORY)
    )
    run.console.print(f"reports written to {run.out / 'reports'}", highlight=False)


DemoStep = Callable[[DemoRun], None]
DEMO_STEPS: list[tuple[str, DemoStep]] = [
    ("accounting", step_accounting),
    ("reports", step_reports),
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
