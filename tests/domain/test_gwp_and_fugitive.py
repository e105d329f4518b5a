"""GWP sets and fugitive refrigerant losses."""

from __future__ import annotations

import pytest
from inventory_builders import line, run

from carbonlink.domain.gwp import gwp_set
from carbonlink.errors import UnknownFactorError


@pytest.mark.parametrize(
    ("name", "ch4", "n2o", "sf6"),
    [("AR4", 25, 298, 22_800), ("AR5", 28, 265, 23_500), ("AR6", 27.9, 273, 25_200)],
)
def test_gwp_sets(name: str, ch4: float, n2o: float, sf6: float) -> None:
    gwp = gwp_set(name)
    assert gwp.values["CH4"] == ch4
    assert gwp.gwp("N2O") == n2o
    assert gwp.gwp("SF6") == sf6
    assert gwp.gwp("CO2") == 1


def test_ar6_fossil_and_non_fossil_methane() -> None:
    assert gwp_set("AR6").gwp("CH4", fossil=True) == 29.8
    assert gwp_set("AR6").gwp("CH4", fossil=False) == 27.0
    assert gwp_set("AR5").gwp("CH4", fossil=False) == 28


def test_unknown_gwp_set_and_gas() -> None:
    with pytest.raises(UnknownFactorError, match="AR4, AR5, AR6"):
        gwp_set("SAR")
    with pytest.raises(UnknownFactorError, match="no GWP"):
        gwp_set("AR5").gwp("HFC-9999")


@pytest.mark.parametrize(("name", "expected"), [("AR4", 1.43), ("AR5", 1.30), ("AR6", 1.53)])
def test_hfc_134a_leak_in_each_set(name: str, expected: float) -> None:
    result = run(
        {
            "id": "ac",
            "method": "fugitive",
            "refrigerant": "HFC-134a",
            "activity": {"quantity": 1000, "unit": "kg"},
        },
        gwp=name,
    )
    assert result.totals()["scope1"] == pytest.approx(expected * 1000)
    assert line(result, gas="HFC-134a")["gwp_set"] == name


def test_blend_splits_into_component_gases() -> None:
    # R-410A = 50 % HFC-32 + 50 % HFC-125; 1 t × (0.5 × 677 + 0.5 × 3 170) = 1 923.5 t CO2e
    result = run(
        {
            "id": "chiller",
            "method": "fugitive",
            "refrigerant": "R-410A",
            "activity": {"quantity": 1, "unit": "t"},
        }
    )
    assert result.totals()["scope1"] == pytest.approx(1923.5)
    assert {x["gas"] for x in result.lines()} == {"HFC-32", "HFC-125"}


def test_unknown_refrigerant() -> None:
    with pytest.raises(UnknownFactorError, match="HFC-9999"):
        run(
            {
                "id": "x",
                "method": "fugitive",
                "refrigerant": "HFC-9999",
                "activity": {"quantity": 1, "unit": "kg"},
            }
        )


def test_scope3_generic_line() -> None:
    result = run(
        {
            "id": "freight",
            "method": "generic",
            "scope": 3,
            "scope3_category": 4,
            "activity": {"quantity": 1000, "unit": "t*km"},
            "emission_factor": {"value": 0.1, "unit": "kg/(t*km)"},
        }
    )
    assert result.totals()["scope3"] == pytest.approx(0.1)
    assert line(result)["category"] == "category 4"
