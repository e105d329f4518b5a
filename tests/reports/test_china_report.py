"""The GB/T 32150 / iron and steel guideline report of the small works, by hand."""

from __future__ import annotations

import pytest
from small_works import (
    CHINA_TOTAL,
    COAL_CO2,
    FIXED,
    GAS_CO2,
    GRID_NORTH,
    HEAT_EXPORTED,
    LIMESTONE,
)

from carbonlink.reports.china import build_china_report


def test_totals_follow_the_guideline(small_works) -> None:
    doc = build_china_report(*small_works)
    totals = doc["totals"]
    assert totals["fuel_combustion"] == pytest.approx(GAS_CO2 + COAL_CO2)
    assert totals["process"] == pytest.approx(LIMESTONE)
    assert totals["purchased_electricity"] == pytest.approx(GRID_NORTH)
    assert totals["purchased_heat"] == pytest.approx(HEAT_EXPORTED)
    assert totals["carbon_fixed"] == pytest.approx(FIXED)
    assert totals["total"] == pytest.approx(CHINA_TOTAL)
    assert totals["total_rounded"] == 8899.11


def test_fuel_table_parameters_and_sources(small_works) -> None:
    doc = build_china_report(*small_works)
    fuels = {r["source"]: r for r in doc["tables"]["fuel_combustion"]["rows"]}
    gas = fuels["furnace-gas"]
    assert gas["fuel"] == "天然气"
    assert (gas["ncv"], gas["ncv_unit"], gas["ncv_source"]) == (389.31, "GJ/10^4 Nm3", "缺省")
    assert gas["cc"] == pytest.approx(0.0153)  # 15.30 t C/TJ in t C/GJ
    assert gas["oxidation"] == pytest.approx(99.0)
    assert gas["tco2"] == pytest.approx(GAS_CO2)
    coal = fuels["sinter-coal"]
    assert (coal["fuel"], coal["ncv"], coal["ncv_source"], coal["cc_source"]) == (
        "无烟煤",
        21.10,
        "实测",
        "缺省",
    )


def test_other_gases_are_listed_outside_the_total(small_works) -> None:
    doc = build_china_report(*small_works)
    excluded = {(r["source"], r["gas"]) for r in doc["tables"]["excluded"]["rows"]}
    assert excluded == {("furnace-gas", "CH4"), ("furnace-gas", "N2O"), ("chiller", "HFC-134a")}
    (limestone,) = doc["tables"]["process"]["rows"]
    assert (limestone["material"], limestone["ef"]) == ("石灰石", 0.44)
    (steel,) = doc["tables"]["carbon_fixed"]["rows"]
    assert (steel["product"], steel["tco2"]) == ("粗钢", pytest.approx(FIXED))
    kinds = {r["kind"]: r["tco2"] for r in doc["tables"]["purchased_energy"]["rows"]}
    assert kinds == {"净购入电力": pytest.approx(GRID_NORTH), "输出热力": pytest.approx(-110)}


def test_sources_of_the_parameters(small_works) -> None:
    doc = build_china_report(*small_works)
    sources = {r["id"]: r for r in doc["tables"]["sources"]["rows"]}
    assert sources["cn-steel-2013/natural_gas/oxidation"]["value"] == 0.99
    assert sources["cn-steel-2013/natural_gas/oxidation"]["table"] == "Appendix 2"
    assert "cn-mee-nbs/grid_average/CN-North/2023" in sources
    # factors of gases outside the guideline total are not listed
    assert not any(key.startswith(("ipcc2006/", "gwp/")) for key in sources)


def test_units_are_not_mixed(small_works) -> None:
    """Gas in 10^4 Nm3 beside its NCV per 10^4 Nm3; electricity in MWh with t CO2/MWh."""
    doc = build_china_report(*small_works)
    for row in doc["tables"]["fuel_combustion"]["rows"]:
        assert row["ncv_unit"].endswith("/" + row["unit"]), row
        assert row["tco2"] == pytest.approx(
            row["activity"] * row["ncv"] * row["cc"] * row["oxidation"] / 100 * 44 / 12
        )
    (power,) = [r for r in doc["tables"]["purchased_energy"]["rows"] if r["kind"] == "净购入电力"]
    assert (power["unit"], power["ef_unit"]) == ("MWh", "t/MWh")
    assert power["activity"] * power["ef"] == pytest.approx(GRID_NORTH)
