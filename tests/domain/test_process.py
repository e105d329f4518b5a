"""Carbonates, process materials, carbon fixed in products and carbon mass balance."""

from __future__ import annotations

import pytest
from inventory_builders import line, run


def material(method: str, name: str, quantity: float, **extra: object) -> dict[str, object]:
    key = "product" if method == "carbon_fixed" else "material"
    return {
        "id": name,
        "method": method,
        key: name,
        "activity": {"quantity": quantity, "unit": "t"},
        **extra,
    }


def test_limestone_china_guideline_and_ipcc_stoichiometry_stay_apart() -> None:
    cn = line(run(material("carbonate", "limestone", 1000)))
    assert cn["tco2e"] == pytest.approx(440.0)
    assert cn["factor"]["id"] == "cn-steel-2013/limestone/ef/CO2"
    elsewhere = line(run(material("carbonate", "limestone", 1000), jurisdiction="DE", grid=""))
    assert elsewhere["tco2e"] == pytest.approx(439.71)


def test_dolomite_with_partial_calcination() -> None:
    result = run(material("carbonate", "dolomite", 1000, fraction=0.5), jurisdiction="DE", grid="")
    assert line(result)["tco2e"] == pytest.approx(0.47732 * 1000 * 0.5)


@pytest.mark.parametrize(
    ("name", "factor"),
    [("electrodes", 3.663), ("pig_iron", 0.172), ("dri", 0.073), ("ferrochrome", 0.275)],
)
def test_process_materials_of_the_steel_guideline(name: str, factor: float) -> None:
    assert line(run(material("process", name, 100)))["tco2e"] == pytest.approx(100 * factor)


def test_carbon_fixed_in_crude_steel_is_subtracted() -> None:
    result = run(material("carbon_fixed", "crude_steel", 1_000_000))
    assert line(result)["tco2e"] == pytest.approx(-15_400.0)
    assert result.totals()["scope1"] == pytest.approx(-15_400.0)


def test_mass_balance_inputs_minus_outputs() -> None:
    # (100 t coke × 0.83 − 1 000 t steel × 0.01) × 44/12 = 267.67 t CO2 (IPCC Vol. 3 Table 4.3)
    source = {
        "id": "bof",
        "method": "mass_balance",
        "inputs": [{"material": "coke", "quantity": 100, "unit": "t"}],
        "outputs": [{"material": "crude_steel", "quantity": 1000, "unit": "t"}],
    }
    result = run(source)
    assert result.totals()["scope1"] == pytest.approx((83 - 10) * 44 / 12)
    streams = {x["stream"]: x["tco2e"] for x in result.lines()}
    assert streams["input:coke"] == pytest.approx(83 * 44 / 12)
    assert streams["output:crude_steel"] == pytest.approx(-10 * 44 / 12)


def test_mass_balance_measured_carbon_content_wins() -> None:
    source = {
        "id": "bf",
        "method": "mass_balance",
        "inputs": [
            {
                "material": "coke",
                "quantity": 10,
                "unit": "kt",
                "carbon_content": {"value": 0.86, "unit": "t/t"},
            }
        ],
    }
    only = line(run(source))
    assert only["tco2e"] == pytest.approx(10_000 * 0.86 * 44 / 12)
    assert only["parameters"]["carbon_fraction"]["measured"] is True
