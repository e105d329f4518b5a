"""A small recorded chain, meter to report, in the ``engine`` fixture's database."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ledger import Ledger, generate_ledger_key, load_ledger_signer
from carbonlink.provenance import account_recorded, record_import_batch, record_rendered_report
from carbonlink.store import Store

READINGS_CSV = """\
day_start,grid_kWh
2024-12-31 00:00,9999
2025-01-01 00:00,1000
2025-01-02 00:00,2000
2025-01-03 00:00,3000
"""
"""Daily readings: three inside 2025 (6 MWh) and one before it, which the period leaves out."""

MAPPING = {
    "encoding": "utf-8",
    "timestamp": {
        "column": "day_start",
        "format": "%Y-%m-%d %H:%M",
        "time_zone": "Asia/Shanghai",
        "labelling": "start",
    },
    "values": [{"column": "grid_kWh", "meter": "m-grid", "unit": "kWh"}],
    "meters": [
        {
            "id": "m-grid",
            "kind": "interval",
            "unit": "kWh",
            "time_zone": "Asia/Shanghai",
            "labelling": "start",
            "interval_s": 86400,
        }
    ],
}


def inventory_text(quantity_mwh: float | None = None) -> str:
    """An inventory with one electricity source (from the meter unless a quantity is given)
    and one typed-in boiler."""
    activity = (
        "{meter: m-grid, unit: MWh}"
        if quantity_mwh is None
        else f"{{quantity: {quantity_mwh}, unit: MWh}}"
    )
    return f"""\
organization: Example Steel Co.
period: {{start: 2025-01-01, end: 2025-12-31}}
gwp: AR5
jurisdiction: CN
facilities:
  - id: plant-1
    grid: CN-North
    timezone: Asia/Shanghai
    sources:
      - {{id: power, method: electricity, activity: {activity}}}
      - {{id: boiler, method: combustion, fuel: natural_gas,
         activity: {{quantity: 100000, unit: Nm3}}}}
"""


def user_factor_table() -> str:
    """A user factor table: one shipped row under a new id and subject."""
    text = resources.files("carbonlink.data").joinpath("factors", "cn_grid.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    row = dict(rows[0], factor_id="plant-1/own-grid/2025", subject="own_grid", value="0.4321")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(row), lineterminator="\n")
    writer.writeheader()
    writer.writerow(row)
    return buffer.getvalue()


@dataclass
class Chain:
    """Indices and files of the recorded chain."""

    engine: Engine
    workspace: Path
    env: dict[str, str]
    batch_id: str
    import_index: int
    factor_indices: list[int]
    run_index: int
    report_index: int
    report_file: Path
    receipt: Path
    tco2e: float


@pytest.fixture
def chain(engine: Engine, tmp_path: Path) -> Chain:
    """Readings imported, factors and a calculation run recorded, a report receipted."""
    workspace = tmp_path / "ws"
    generate_ledger_key(workspace, "example.com/plant-1")
    (workspace / "factors").mkdir()
    (workspace / "factors" / "own.csv").write_text(user_factor_table(), "utf-8")
    readings = tmp_path / "grid.csv"
    readings.write_text(READINGS_CSV, "utf-8")
    store, ledger = Store(engine), Ledger(engine)
    report = import_file(readings, FileMapping.model_validate(MAPPING), store)
    import_index = record_import_batch(store, ledger, report.batch_id)
    run = account_recorded(
        ledger,
        store,
        workspace,
        inventory_text(),
        file_name="inventory.yaml",
    )
    rendered = tmp_path / "out"
    rendered.mkdir()
    report_file = rendered / "inventory.json"
    report_file.write_text(json.dumps(run.document, indent=2), "utf-8")
    report_index, receipt = record_rendered_report(
        store,
        ledger,
        load_ledger_signer(workspace),
        "inventory-2025",
        report_kind="inventory",
        paths=[report_file],
        inputs=[run.index],
    )
    url = engine.url
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    env = {
        "CARBONLINK_WORKSPACE": str(workspace),
        "CARBONLINK_DATABASE_URL": url.render_as_string(hide_password=False),
    }
    return Chain(
        engine,
        workspace,
        env,
        report.batch_id,
        import_index,
        list(run.inputs[:2]),
        run.index,
        report_index,
        report_file,
        receipt,
        sum(line["tco2e"] for line in run.document["lines"] if line["source"] == "power"),
    )
