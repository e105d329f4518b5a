"""The GHG inventory report of the small works, checked against hand-computed figures."""

from __future__ import annotations

import math

import pytest
from small_works import (
    COAL_CO2,
    FIXED,
    GAS_CH4,
    GAS_CO2,
    GAS_N2O,
    GRID_NORTH,
    HEAT_EXPORTED,
    HFC,
    LIMESTONE,
    MARKET,
    SCOPE1,
)

from carbonlink.errors import InputError
from carbonlink.reports.inventory import build_inventory_report
from carbonlink.reports.uncertainty import read_uncertainty_spec, uncertainty_section


def rows(document: dict, name: str) -> list[dict]:
    return document["tables"][name]["rows"]


def test_scopes_side_by_side(small_works) -> None:
    doc = build_inventory_report(*small_works)
    by_scope = {r["scope"]: r["tco2e"] for r in rows(doc, "by_scope")}
    assert by_scope["1"] == pytest.approx(SCOPE1, abs=1e-5)
    assert by_scope["2_location"] == pytest.approx(GRID_NORTH)
    assert by_scope["2_market"] == pytest.approx(MARKET)
    assert by_scope["exported"] == pytest.approx(HEAT_EXPORTED)
    assert doc["totals"]["scope1_2_location"] == pytest.approx(SCOPE1 + GRID_NORTH, abs=1e-5)
    (power,) = rows(doc, "scope2")
    assert (power["location"], power["market"]) == pytest.approx((GRID_NORTH, MARKET))
    assert "GEC-1" in power["market_basis"] and "residual_mix" in power["market_basis"]


def test_by_gas_and_category(small_works) -> None:
    doc = build_inventory_report(*small_works)
    gases = {r["gas"]: r for r in rows(doc, "by_gas")}
    assert gases["CH4"]["s1"] == pytest.approx(GAS_CH4)
    assert gases["CH4"]["gwp"] == 28
    assert gases["N2O"]["s1"] == pytest.approx(GAS_N2O)
    assert gases["HFC-134a"]["s1"] == pytest.approx(HFC)
    assert gases["HFC-134a"]["mass_t"] == pytest.approx(0.010)
    categories = {r["category"]: r for r in rows(doc, "by_category")}
    assert categories[1]["location"] == pytest.approx(SCOPE1, abs=1e-5)
    assert categories[2]["location"] == pytest.approx(GRID_NORTH)
    assert categories[2]["market"] == pytest.approx(MARKET)
    assert categories[3]["location"] == 0


def test_factors_cite_document_table_and_year(small_works) -> None:
    doc = build_inventory_report(*small_works)
    factors = {r["id"]: r for r in rows(doc, "factors")}
    ncv = factors["cn-steel-2013/natural_gas/ncv"]
    assert (ncv["value"], ncv["unit"], ncv["table"], ncv["year"]) == (
        389.31,
        "GJ/10^4 Nm3",
        "Appendix 2",
        2013,
    )
    assert "iron and steel" in ncv["document"]
    assert ncv["used_by"] == "works/furnace-gas"
    measured = [r for r in factors.values() if r["tier"] == "measured"]
    assert [r["value"] for r in measured] == [21.10]


def test_data_quality_share(small_works) -> None:
    doc = build_inventory_report(*small_works)
    quality = doc["data_quality"]
    gross = quality["gross_tco2e"]
    # every Scope 1, Scope 2 location-based and Scope 3 line, carbon fixed counted as |−154|
    assert gross == pytest.approx(SCOPE1 + 2 * 154 + GRID_NORTH, abs=1e-5)
    # only the anthracite CO2 line has a measured parameter (its NCV) next to defaults
    assert quality["shares"]["partly measured"] == pytest.approx(COAL_CO2 / gross)
    assert quality["shares"]["measured"] == 0
    assert sum(quality["shares"].values()) == pytest.approx(1)


def test_exclusions_and_uncertainty_state(small_works) -> None:
    doc = build_inventory_report(*small_works, base_year=2020)
    reasons: dict[str, list[str]] = {}
    for row in rows(doc, "exclusions"):
        reasons.setdefault(row["what"], []).append(row["reason"])
    assert sorted(reasons["works/sinter-coal"]) == [
        "CH4 not reported: left out by combustion_gases",
        "N2O not reported: left out by combustion_gases",
    ]
    assert any(what.startswith("Scope 3 categories 1, 2") for what in reasons)
    assert doc["uncertainty"]["computed"] is False
    assert doc["base_year"]["year"] == 2020
    assert doc["base_year"]["inventory"].startswith("not provided: no inventory of 2020")
    assert doc["base_year"]["recalculation_policy"] == "not provided"
    assert reasons["SF6 (direct emissions)"] == ["none quantified; reason not provided"]


def test_uncertainty_interval_by_hand(small_works, tmp_path) -> None:
    spec_file = tmp_path / "u.yaml"
    spec_file.write_text("activity_u95: {'*': 0.03}\nfactor_u95: {'*': 0.04}\n", "utf-8")
    inventory, result = small_works
    section = uncertainty_section(result, read_uncertainty_spec(spec_file), assumptions="u.yaml")
    doc = build_inventory_report(inventory, result, uncertainty=section)
    approach1, approach2 = doc["tables"]["uncertainty"]["rows"]
    # every line ±5 % (√(3² + 4²)); IPCC Eq. 3.2: U = √Σ(0.05·x)² / Σx over the nonzero lines
    x = [GAS_CO2, GAS_CH4, GAS_N2O, COAL_CO2, LIMESTONE, -FIXED, HFC, GRID_NORTH]
    u = 0.05 * math.sqrt(sum(v * v for v in x)) / sum(x)
    assert approach1["central"] == pytest.approx(SCOPE1 + GRID_NORTH, abs=1e-5)
    assert approach1["plus_pct"] == pytest.approx(100 * u)
    assert approach1["lower"] == pytest.approx(sum(x) * (1 - u))
    # Monte Carlo: lognormal factor terms, so close to but not exactly Approach 1
    assert approach2["plus_pct"] == pytest.approx(100 * u, rel=0.1)
    assert "10000 draws, seed 20061" in approach2["method"]


def test_uncertainty_file_errors(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("activity_u95: {'*': 0.03}\n", "utf-8")
    with pytest.raises(InputError, match="activity_u95 and factor_u95"):
        read_uncertainty_spec(bad)
    bad.write_text("activity_u95: {'*': five}\nfactor_u95: {}\n", "utf-8")
    with pytest.raises(InputError, match="not a relative half-width"):
        read_uncertainty_spec(bad)
