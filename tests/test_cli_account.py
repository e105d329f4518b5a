"""`carbonlink account` and `carbonlink demo` end to end through the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = """\
organization: Example Steel Co.
period: {start: 2025-01-01, end: 2025-12-31}
gwp: AR5
jurisdiction: CN
facilities:
  - id: plant-1
    name: Plant 1
    grid: CN-East
    timezone: Asia/Shanghai
    sources:
      - {id: boiler-1, method: combustion, fuel: natural_gas,
         activity: {quantity: 1200000, unit: Nm3}}
      - {id: flux, method: carbonate, material: limestone, activity: {quantity: 5000, unit: t}}
      - {id: power, method: electricity, activity: {quantity: 25000, unit: MWh},
         instruments: [{type: green_certificate, quantity: 5000, unit: MWh}]}
"""


def carbonlink(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point; stderr with the console's line wrapping undone."""
    done = subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": ""},
    )
    done.stderr = " ".join(done.stderr.split())
    return done


@pytest.fixture
def example(tmp_path: Path) -> Path:
    path = tmp_path / "inventory.yaml"
    path.write_text(EXAMPLE)
    return path


def test_json_output_has_the_documented_shape(example: Path) -> None:
    done = carbonlink("account", str(example), "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["gwp"] == "AR5"
    assert set(doc["totals"]) >= {
        "scope1",
        "scope2_location",
        "scope2_market",
        "scope3",
        "biogenic_co2",
    }
    # 120 × 21.622 t natural gas CO2 + 5 000 t × 0.440 limestone + CH4/N2O of the gas
    assert doc["totals"]["scope2_location"] == pytest.approx(25_000 * 0.55)
    assert doc["totals"]["scope2_market"] == pytest.approx(20_000 * 0.6096)
    first = doc["lines"][0]
    assert {"facility", "source", "scope", "gas", "tco2e", "factor"} <= set(first)
    assert {"id", "value", "unit", "source"} <= set(first["factor"])
    co2 = next(x for x in doc["lines"] if x["source"] == "boiler-1" and x["gas"] == "CO2")
    assert co2["tco2e"] == pytest.approx(120 * 389.31 * 0.0153 * 0.99 * 44 / 12)


def test_csv_and_table_outputs(example: Path) -> None:
    csv_out = carbonlink("account", str(example), "--format", "csv")
    assert csv_out.returncode == 0
    assert csv_out.stdout.splitlines()[0].startswith("facility,source,stream,period,scope")
    assert len(csv_out.stdout.splitlines()) == 1 + 7
    table = carbonlink("account", str(example))
    assert table.returncode == 0 and "scope2_market" in table.stdout


def test_bad_input_exits_non_zero_with_file_and_source(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(EXAMPLE.replace("fuel: natural_gas", "fuel: natrual_gas"))
    done = carbonlink("account", str(path))
    assert done.returncode == 2
    assert "bad.yaml" in done.stderr and "boiler-1" in done.stderr
    assert "unknown fuel 'natrual_gas'" in done.stderr


def test_missing_file_exits_non_zero(tmp_path: Path) -> None:
    done = carbonlink("account", str(tmp_path / "nope.yaml"))
    assert done.returncode == 2 and "cannot read" in done.stderr


def test_demo_writes_inventory_json(
    demo_command: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo_command
    assert done.returncode == 0, done.stderr
    doc = json.loads((out / "inventory.json").read_text())
    assert doc["organization"] == "Demo Steel Co., Ltd."
    facilities = {x["facility"] for x in doc["lines"]}
    assert facilities == {"tangshan-works", "jiangsu-coating"}
    gas = next(x for x in doc["lines"] if x["source"] == "rolling-mill-gas" and x["gas"] == "CO2")
    # docs/demo.md: 1 200 × 389.31 GJ × 0.0153 t C/GJ × 0.99 × 44/12
    assert gas["tco2e"] == pytest.approx(1200 * 389.31 * 0.0153 * 0.99 * 44 / 12)
    assert "scope2_market" in done.stdout


def test_period_without_factor_vintage_exits_non_zero(tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(EXAMPLE.replace("2025-01-01", "2018-01-01").replace("2025-12-31", "2018-12-31"))
    done = carbonlink("account", str(path))
    message = done.stderr
    assert done.returncode == 2
    assert "old.yaml" in message and "source power" in message
    assert "vintages available: 2021, 2022, 2023" in message
