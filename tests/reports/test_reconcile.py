"""The reconciliation bridge closes and names each cause with its amount."""

from __future__ import annotations

import pytest
from small_works import (
    CHINA_TOTAL,
    COAL_CO2,
    FIXED,
    GAS_CH4,
    GAS_CO2,
    GAS_GJ,
    GAS_N2O,
    GRID_NORTH,
    HFC,
    LIMESTONE,
    SCOPE1,
)

from carbonlink.errors import InputError
from carbonlink.reports.reconcile import build_reconciliation


def test_bridge_from_inventory_to_china_total(small_works) -> None:
    doc = build_reconciliation(*small_works)
    steps = {r["what"]: r for r in doc["tables"]["bridge"]["rows"]}
    assert steps["CH4 in Scope 1"]["amount"] == pytest.approx(-GAS_CH4)
    assert steps["N2O in Scope 1"]["amount"] == pytest.approx(-GAS_N2O)
    assert steps["HFC-134a in Scope 1"]["amount"] == pytest.approx(-HFC)
    assert steps["exported heat and electricity"]["amount"] == pytest.approx(-110)
    assert steps["exported heat and electricity"]["kind"] == "boundary"
    assert steps["unexplained"]["amount"] == pytest.approx(0, abs=1e-6)
    assert doc["totals"]["inventory_scope1_2_location"] == pytest.approx(SCOPE1 + GRID_NORTH)
    assert doc["totals"]["china_total"] == pytest.approx(CHINA_TOTAL)
    last = doc["tables"]["bridge"]["rows"][-1]
    assert last["kind"] == "rounding"
    assert last["running"] == pytest.approx(8899.11)


def test_gwp_sensitivity(small_works) -> None:
    doc = build_reconciliation(*small_works)
    rows = {r["gwp_set"]: r for r in doc["tables"]["gwp_sensitivity"]["rows"]}
    assert rows["AR5"]["difference"] == pytest.approx(0, abs=1e-5)  # totals keep 6 decimals
    # AR4: CH4 25, N2O 298, HFC-134a 1430 instead of 28, 265, 1300
    tj = GAS_GJ / 1000
    expected = tj * 1e-3 * (25 - 28) + tj * 0.1e-3 * (298 - 265) + 0.010 * (1430 - 1300)
    assert rows["AR4"]["difference"] == pytest.approx(expected)
    assert doc["cbam"]["computed"] is False


# A CBAM communication for the small works (keys of carbonlink.cbam.communication/1), by hand:
# sinter DirEm* 300 t + 10 t of imported heat; steel DirEm* 2 000 t − 50 t of exported waste gas.
def attributed(direct_em: float, heat_in: float, wg_out: float, indirect: float) -> dict:
    return {
        "direct_emissions_t": direct_em,
        "heat_imported_t": heat_in,
        "heat_exported_t": 0.0,
        "waste_gas_imported_t": 0.0,
        "waste_gas_exported_t": wg_out,
        "electricity_exported_t": 0.0,
        "direct_t": direct_em + heat_in - wg_out,
        "indirect_t": indirect,
    }


COMMUNICATION = {
    "schema": "carbonlink.cbam.communication/1",
    "installation": {"name": "Small works"},
    "installation_emissions": {"direct_t": 2500.0, "indirect_t": 5600.0},
    "processes": [
        {"id": "sinter", "produced_for_market_t": 0.0,
         "attributed_emissions": attributed(300.0, 10.0, 0.0, 500.0)},
        {"id": "steel", "produced_for_market_t": 800.0,
         "attributed_emissions": attributed(2000.0, 0.0, 50.0, 5000.0)},
    ],
    "goods": [{"cn_code": "72083900", "name": "coil", "process_id": "steel",
               "see_direct": 2.5, "see_indirect": 0.6}],
}  # fmt: skip


def test_cbam_steps(small_works) -> None:
    doc = build_reconciliation(*small_works, cbam=COMMUNICATION)
    assert doc["cbam"]["facility"] == "works"
    steps = {r["what"]: r for r in doc["tables"]["cbam"]["rows"]}
    co2 = GAS_CO2 + COAL_CO2 + LIMESTONE - FIXED
    assert steps["CO2 only"]["value"] == pytest.approx(co2)
    assert steps["CBAM installation direct emissions"]["amount"] == pytest.approx(2500 - co2)
    assert steps["Σ DirEm* of the CBAM production processes"]["amount"] == pytest.approx(-200)
    assert steps["measurable heat imported"]["value"] == pytest.approx(2310)
    assert steps["waste gas exported (correction)"]["amount"] == pytest.approx(-50)
    assert steps["Σ attributed direct emissions"]["value"] == pytest.approx(2260)
    assert steps["Σ attributed direct emissions"]["amount"] == pytest.approx(0)
    assert steps["Σ attributed indirect emissions"]["amount"] == pytest.approx(5500 - GRID_NORTH)
    (coil,) = doc["tables"]["cbam_goods"]["rows"]
    assert coil["embedded_direct"] == pytest.approx(2000)
    assert doc["totals"]["china_total"] == pytest.approx(CHINA_TOTAL)


def test_cbam_installation_must_match_a_facility(small_works) -> None:
    other = COMMUNICATION | {"installation": {"name": "Elsewhere"}}
    with pytest.raises(InputError, match="--cbam-facility"):
        build_reconciliation(*small_works, cbam=other)
    doc = build_reconciliation(*small_works, cbam=other, cbam_facility="works")
    assert doc["cbam"]["installation"] == "Elsewhere"


def test_demo_cbam_reconciles_with_the_inventory_by_rule_alone() -> None:
    """The demo's CBAM input reads the inventory, so every difference has a rule."""
    from carbonlink.demo.cbam import demo_cbam_input
    from carbonlink.demo.run import demo_inventory_text
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.cbam import build_communication
    from carbonlink.reports.cbam_input import load_cbam_input

    inventory = parse_inventory(demo_inventory_text())
    result = account(inventory)
    communication = build_communication(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))
    doc = build_reconciliation(inventory, result, cbam=communication)
    totals = doc["cbam"]["totals"]
    assert abs(totals["unexplained_direct"]) < 0.01
    assert abs(totals["unexplained_indirect"]) < 0.01
    rows = doc["tables"]["cbam"]["rows"]
    kinds = {r["kind"] for r in rows}
    assert kinds <= {
        "start", "gases", "boundary", "attribution", "exported heat", "factor", "result", "check"
    }  # fmt: skip
    steps = {r["what"]: r for r in rows}
    # The rules' amounts, recomputed apart from the engine's lines: other gases, the loaders and
    # trucks (transport), the exported steam at the inventory's factor (150 000 GJ × 0.11 t/GJ).
    lines = [x for x in result.lines() if x["facility"] == "tangshan-works"]
    other_gases = sum(x["tco2e"] for x in lines if x["scope"] == "1" and x["gas"] != "CO2")
    diesel = sum(
        x["tco2e"]
        for x in lines
        if x["source"] == "mobile-diesel" and x["gas"] == "CO2" and x["scope"] == "1"
    )
    assert steps["CO2 only"]["amount"] == pytest.approx(-other_gases)
    assert steps["sources outside the installation: mobile-diesel"]["amount"] == pytest.approx(
        -diesel
    )
    assert steps["measurable heat exported"]["amount"] == pytest.approx(-150_000 * 0.11)
    # Waste gas to the hot strip mill, 800 TJ × 56.1 t/TJ in, × 0.667 out (Annex III F.1).
    assert steps["waste gas imported (correction)"]["amount"] == pytest.approx(800 * 56.1)
    assert steps["waste gas exported (correction)"]["amount"] == pytest.approx(-800 * 56.1 * 0.667)
    # 620 000 MWh × 0.6361 t/MWh, attributed whole.
    assert steps["Σ attributed indirect emissions"]["value"] == pytest.approx(620_000 * 0.6361)
    assert not any(r["kind"] == "data" for r in rows)
