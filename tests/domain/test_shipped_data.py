"""The shipped data and documents stay consistent with the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from inventory_builders import run

from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.domain.methods.biomass import fuels

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("fuel", sorted({f.id for f in fuels().values()}))
def test_every_listed_fuel_accounts_in_china(fuel: str) -> None:
    result = run(
        {
            "id": "f",
            "method": "combustion",
            "fuel": fuel,
            "activity": {"quantity": 1, "unit": "t" if fuel not in GASES else "10^4 Nm3"},
        }
    )
    assert result.totals()["scope1"] + result.totals()["biogenic_co2"] > 0


GASES = {"natural_gas", "coke_oven_gas", "blast_furnace_gas", "converter_gas"}


def test_readme_inventory_example_accounts() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.S)
    assert block, "README has no yaml example"
    result = account(parse_inventory(block.group(1), file="README.md"))
    assert result.totals()["scope2_market"] == pytest.approx(20_000 * 0.6096)


def test_demo_document_totals_match_the_demo() -> None:
    from carbonlink.demo import demo_inventory_text

    totals = account(parse_inventory(demo_inventory_text())).totals()
    text = (ROOT / "docs" / "demo.md").read_text("utf-8")
    row = re.search(r"\| scope1 \|.*\n\|[-| ]+\|\n\| (.*) \|", text)
    assert row, "docs/demo.md lost its totals table"
    printed = [float(x.replace(" ", "").replace("−", "-")) for x in row.group(1).split("|")]
    expected = [
        totals[k]
        for k in (
            "scope1",
            "scope2_location",
            "scope2_market",
            "scope3",
            "biogenic_co2",
            "exported",
        )
    ]
    assert printed == pytest.approx(expected, abs=1e-3)


def test_demo_inventory_is_valid_yaml_with_two_facilities() -> None:
    from carbonlink.demo import demo_inventory_text

    assert len(yaml.safe_load(demo_inventory_text())["facilities"]) == 2


def test_us_units_added_for_the_epa_hub() -> None:
    from carbonlink.domain.units import conversion_factor

    assert conversion_factor("mmBtu", "GJ") == pytest.approx(1.055056, rel=1e-6)
    # 1 scf at 60 °F = 0.0283168 m3 × 273.15 / 288.706 at 0 °C (same pressure)
    assert conversion_factor("scf", "Nm3") == pytest.approx(0.0283168 * 273.15 / 288.706, rel=1e-5)
