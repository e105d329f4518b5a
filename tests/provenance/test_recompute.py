"""`carbonlink recompute`: three plants × twelve months accounted in this process and on a Dask
LocalCluster give the same canonical bytes, each run with its ledger entry."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.errors import InputError
from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ledger import Ledger, generate_ledger_key
from carbonlink.provenance import account_recorded, record_import_batch
from carbonlink.provenance import recompute as rc
from carbonlink.store import Store

PLANTS = {"plant-a": 1000.0, "plant-b": 2000.0, "plant-c": 500.0}
"""kWh a day each plant's grid meter reads; plant-c's meter starts on 1 February."""


def inventory_text() -> str:
    facilities = "".join(
        f"""\
  - id: {plant}
    grid: CN-North
    timezone: Asia/Shanghai
    sources:
      - {{id: power, method: electricity, activity: {{meter: m-{plant}, unit: MWh}}}}
"""
        for plant in PLANTS
    )
    return f"""\
organization: Example Steel Group
period: {{start: 2025-01-01, end: 2025-12-31}}
gwp: AR5
jurisdiction: CN
facilities:
{facilities}"""


def readings_csv() -> str:
    lines = ["day_start," + ",".join(f"m-{p}" for p in PLANTS)]
    day = date(2025, 1, 1)
    while day.year == 2025:
        cells = [
            "" if plant == "plant-c" and day.month == 1 else f"{kwh:g}"
            for plant, kwh in PLANTS.items()
        ]
        lines.append(f"{day.isoformat()} 00:00," + ",".join(cells))
        day += timedelta(days=1)
    return "\n".join(lines) + "\n"


def mapping() -> dict[str, object]:
    return {
        "encoding": "utf-8",
        "timestamp": {
            "column": "day_start",
            "format": "%Y-%m-%d %H:%M",
            "time_zone": "Asia/Shanghai",
            "labelling": "start",
        },
        "values": [{"column": f"m-{p}", "meter": f"m-{p}", "unit": "kWh"} for p in PLANTS],
        "meters": [
            {
                "id": f"m-{p}",
                "kind": "interval",
                "unit": "kWh",
                "time_zone": "Asia/Shanghai",
                "labelling": "start",
                "interval_s": 86400,
            }
            for p in PLANTS
        ],
    }


def _workspace(engine: Engine, tmp_path: Path) -> tuple[Path, Store, Ledger]:
    workspace = tmp_path / "ws"
    generate_ledger_key(workspace, "example.com/group")
    store, ledger = Store(engine), Ledger(engine)
    source = tmp_path / "grid.csv"
    source.write_text(readings_csv(), "utf-8")
    report = import_file(source, FileMapping.model_validate(mapping()), store)
    record_import_batch(store, ledger, report.batch_id)
    return workspace, store, ledger


def _url(engine: Engine) -> str:
    """The engine's URL as a worker process must see it (the test schema on PostgreSQL)."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def test_dask_and_one_process_give_the_same_bytes(engine: Engine, tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    workspace, store, ledger = _workspace(engine, tmp_path)
    common = {"file_name": "group.yaml", "period": "2025", "url": _url(engine)}
    single = rc.recompute(store, ledger, workspace, inventory_text(), **common)  # type: ignore[arg-type]
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, dashboard_address=":0", processes=True
        ) as cluster,
        Client(cluster) as client,
    ):
        spread = rc.recompute(
            store,
            ledger,
            workspace,
            inventory_text(),
            runner=rc.dask_runner(client),
            scheduler="Dask LocalCluster",
            workers=2,
            **common,  # type: ignore[arg-type]
        )
    assert spread.canonical == single.canonical
    assert spread.results_sha256 == single.results_sha256
    assert single.partitions == spread.partitions == 3 * 12

    parts = {(p["facility"], p["month"]): p for p in single.document["partitions"]}
    # Hand-worked: plant-a reads 1 000 kWh a day, so January is 31 MWh and February 28 MWh.
    january = parts[("plant-a", "2025-01")]["result"]["lines"][0]
    assert january["activity"]["quantity"] == 31.0
    assert parts[("plant-b", "2025-02")]["result"]["lines"][0]["activity"]["quantity"] == 56.0
    # plant-c has no January: that partition carries the reason, the others their results
    assert "no readings" in parts[("plant-c", "2025-01")]["error"]["message"]
    assert parts[("plant-c", "2025-02")]["result"]["lines"][0]["activity"]["quantity"] == 14.0
    # the engine is the one `carbonlink account` runs: the same month alone gives the same line
    alone = inventory_text().replace("2025-01-01, end: 2025-12-31", "2025-01-01, end: 2025-01-31")
    alone = alone[: alone.index("  - id: plant-b")]
    run = account_recorded(ledger, store, workspace, alone, file_name="alone.yaml")
    assert run.document["lines"][0]["tco2e"] == january["tco2e"]

    # each run has its entry, citing the import batch and the same results digest
    for recorded in (single, spread):
        assert recorded.index is not None
        content = ledger.entry(recorded.index).content()
        assert content["method"] == rc.METHOD
        assert content["results_sha256"] == single.results_sha256
        assert content["settings"]["failed_partitions"] == ["plant-c@2025-01"]
        assert len(content["settings"]["import_batches"]) == 1


def test_a_bad_period_is_refused_with_the_form_to_use() -> None:
    with pytest.raises(InputError, match="neither a year nor a month") as caught:
        rc.parse_period("2025-13")
    assert "YYYY-MM" in (caught.value.hint or "")
    assert rc.parse_period("2024-02") == (date(2024, 2, 1), date(2024, 2, 29))


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_command_writes_the_canonical_results(engine: Engine, tmp_path: Path) -> None:
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws")}
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "ws")], env=env).exit_code == 0
    source, rules = tmp_path / "grid.csv", tmp_path / "grid.yaml"
    source.write_text(readings_csv(), "utf-8")
    rules.write_text(yaml.safe_dump(mapping()), "utf-8")
    result = runner.invoke(app, ["ingest", "csv", str(source), "--mapping", str(rules)], env=env)
    assert result.exit_code == 0, result.output
    inventory = tmp_path / "group.yaml"
    inventory.write_text(inventory_text(), "utf-8")
    out = tmp_path / "results.json"
    args = ["recompute", str(inventory), "--period", "2025-02", "--out", str(out)]
    result = runner.invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    assert "3 partition(s) (facility × month) on a single process" in result.stdout
    assert "ledger entry" in result.stdout
    document = json.loads(out.read_bytes())
    assert [p["facility"] for p in document["partitions"]] == list(PLANTS)
    assert all("result" in p for p in document["partitions"])
    bad = runner.invoke(app, ["recompute", str(inventory), "--period", "May"], env=env)
    assert isinstance(bad.exception, InputError) and "YYYY-MM" in (bad.exception.hint or "")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_store_commands_on_an_embedded_workspace(engine: Engine, tmp_path: Path) -> None:
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws")}
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(tmp_path / "ws")], env=env).exit_code == 0
    source, rules = tmp_path / "grid.csv", tmp_path / "grid.yaml"
    source.write_text(readings_csv(), "utf-8")
    rules.write_text(yaml.safe_dump(mapping()), "utf-8")
    assert runner.invoke(app, ["ingest", "csv", str(source), "--mapping", str(rules)], env=env)
    rebuilt = runner.invoke(app, ["store", "rollups", "--rebuild"], env=env)
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "rollups of 3 meter(s) brought up to date" in rebuilt.stdout
    again = runner.invoke(app, ["store", "rollups"], env=env)
    assert "rollups of 0 meter(s)" in again.stdout  # the import kept them current
    plain = runner.invoke(app, ["store", "partitions", "--ahead", "2"], env=env)
    assert "SQLite keeps the readings in one table" in plain.stdout
    bad = runner.invoke(app, ["store", "detach", "--before", "2025/01"], env=env)
    assert isinstance(bad.exception, InputError) and "YYYY-MM" in (bad.exception.hint or "")
