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


def _demo_reconciliation() -> tuple[dict, list[dict], list[dict]]:
    """The demo inventory reconciled with the CBAM communication of every installation."""
    from carbonlink.demo.cbam import DEMO_CBAM_INPUTS, demo_cbam_input
    from carbonlink.demo.run import demo_inventory_text
    from carbonlink.domain.cbam import compute_see
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.cbam import build_communication
    from carbonlink.reports.cbam_input import load_cbam_input
    from carbonlink.reports.cets_entities import load_entities

    inventory = parse_inventory(demo_inventory_text())
    result = account(inventory)
    communications = []
    for name in DEMO_CBAM_INPUTS:
        data = load_cbam_input(demo_cbam_input(name))
        communications.append(build_communication(data, compute_see(data)))
    entities = load_entities(demo_cbam_input("cets-entities.yaml")).entities
    doc = build_reconciliation(inventory, result, cbam=communications, entities=entities)
    return doc, result.lines(), communications


def _steps(doc: dict, facility: str) -> dict[str, dict]:
    (section,) = [s for s in doc["cbam"]["installations"] if s["facility"] == facility]
    return {r["what"]: r for r in doc["tables"][section["tables"][0]]["rows"]}


def test_demo_cbam_reconciles_with_the_inventory_by_rule_alone() -> None:
    """Every installation's CBAM input reads the inventory, so every difference has a rule."""
    doc, lines, _ = _demo_reconciliation()
    sections = doc["cbam"]["installations"]
    # Every facility of the demo with direct CO2 is a CBAM installation, and each closes.
    with_co2 = {x["facility"] for x in lines if x["scope"] == "1" and x["gas"] == "CO2"}
    assert {s["facility"] for s in sections} == with_co2 == {"tangshan-works", "jiangsu-coating"}
    for section in sections:
        totals = section["totals"]
        assert abs(totals["unexplained_direct"]) < 0.01, section["facility"]
        assert abs(totals["unexplained_indirect"]) < 0.01, section["facility"]
        rows = [r for key in section["tables"][:1] for r in doc["tables"][key]["rows"]]
        kinds = {r["kind"] for r in rows}
        assert kinds <= {
            "start", "gases", "boundary", "attribution", "exported heat", "factor", "result",
            "check",
        }  # fmt: skip
        assert not any(r["kind"] in ("data", "unexplained") for r in rows)
        by_what = {r["what"]: r for r in rows}
        assert totals["attributed_direct"] == by_what["Σ attributed direct emissions"]["value"]
        assert totals["attributed_indirect"] == by_what["Σ attributed indirect emissions"]["value"]
    assert abs(doc["cbam"]["unexplained_direct"]) < 0.01
    assert abs(doc["cbam"]["unexplained_indirect"]) < 0.01
    summary = {r["total"]: r["tco2e"] for r in doc["tables"]["totals"]["rows"]}
    for site in ("Tangshan integrated works (BF-BOF)", "Jiangsu cold-rolling and coating site"):
        unexplained = summary[
            f"CBAM: unexplained against the inventory, direct + indirect ({site})"
        ]
        assert abs(unexplained) < 0.01

    # Tangshan: the rules' amounts, recomputed apart from the engine's lines: other gases, the
    # loaders and trucks (transport), the exported steam at the inventory's factor
    # (150 000 GJ × 0.11 t/GJ).
    steps = _steps(doc, "tangshan-works")
    own = [x for x in lines if x["facility"] == "tangshan-works"]
    other_gases = sum(x["tco2e"] for x in own if x["scope"] == "1" and x["gas"] != "CO2")
    diesel = sum(
        x["tco2e"]
        for x in own
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
    assert (
        "800 TJ × EF_NG 56.1 t/TJ × Corr_η 0.667" in steps["waste gas exported (correction)"]["why"]
    )
    # 620 000 MWh × 0.6361 t/MWh, attributed whole.
    assert steps["Σ attributed indirect emissions"]["value"] == pytest.approx(620_000 * 0.6361)

    # Jiangsu (steel-enterprise.yaml, jiangsu-coating): 1 500 000 Nm3 of natural gas for the
    # annealing furnaces is the whole installation (the HFC-134a of the air conditioners and
    # the gas's CH4 and N2O leave with "CO2 only"); no source is excluded.
    steps = _steps(doc, "jiangsu-coating")
    own = [x for x in lines if x["facility"] == "jiangsu-coating"]
    scope1 = sum(x["tco2e"] for x in own if x["scope"] == "1")
    annealing = sum(
        x["tco2e"]
        for x in own
        if x["source"] == "annealing-gas" and x["gas"] == "CO2" and x["scope"] == "1"
    )
    assert steps["inventory Scope 1 of jiangsu-coating"]["value"] == pytest.approx(scope1)
    assert steps["CO2 only"]["value"] == pytest.approx(annealing)
    assert steps["sources outside the installation: none"]["amount"] == 0
    assert steps["CBAM installation direct emissions"]["value"] == pytest.approx(annealing)
    # 60 000 GJ of bought steam without a supplier factor: 60 TJ × 56.1 / 0.90 t/TJ = 3 740 t,
    # moved into the cold-rolling mill's direct emissions (Annex III F.1); the inventory holds
    # the same steam in Scope 2 at 0.11 t/GJ (6 600 t).
    heat = steps["measurable heat imported"]
    assert heat["amount"] == pytest.approx(60 * 56.1 / 0.90)
    assert "60 TJ × 62.333333 t/TJ = 3,740.000 t" in heat["why"]
    assert "steam: 60,000.000 GJ → 6,600.000 t" in heat["why"]
    assert steps["Σ attributed direct emissions"]["value"] == pytest.approx(
        annealing + 60 * 56.1 / 0.90
    )
    # 45 000 MWh × 0.55 t/MWh (CN-East grid), all of it to the mill.
    assert steps["Σ attributed indirect emissions"]["value"] == pytest.approx(45_000 * 0.55)
    assert "45,000.000 MWh × 0.55 t/MWh" in steps["Σ attributed indirect emissions"]["why"]


def test_demo_precursor_chain_runs_from_tangshan_to_jiangsu() -> None:
    """The coil Jiangsu buys carries the Tangshan coil's SEE; the template's parts add up."""
    doc, _, communications = _demo_reconciliation()
    tangshan, jiangsu = communications
    (coil,) = [g for g in tangshan["goods"] if g["cn_code"] == "72083900"]
    rows = {r["precursor"]: r for r in doc["tables"]["cbam_precursors"]["rows"]}
    bought = rows["Hot-rolled coil from the Tangshan works"]
    assert bought["installation"] == "Jiangsu cold-rolling and coating site"
    assert bought["supplier"].startswith("Tangshan integrated works (BF-BOF), CN 72083900")
    # 318 000 t of hot-rolled coil (the Jiangsu production inputs in steel-enterprise.yaml).
    assert bought["mass_t"] == pytest.approx(318_000)
    assert bought["see_direct"] == coil["see_direct"]
    assert bought["embedded_direct"] == pytest.approx(318_000 * coil["see_direct"])
    assert bought["embedded_indirect"] == pytest.approx(318_000 * coil["see_indirect"])
    share = bought["default_share"]
    assert 0 < share < 1
    assert bought["default_part_t"] == pytest.approx(318_000 * share)
    assert bought["default_part_t"] + bought["actual_part_t"] == pytest.approx(318_000)
    assert rows["Pig iron bought from a trader"]["supplier"] == "default value"
    # The cold-rolled coil's SEE recomputes from the printed figures:
    # (AttrEm + 318 000 t × SEE_coil) / 300 000 t.
    goods = doc["tables"]["cbam_goods_jiangsu-coating"]["rows"]
    (cold,) = goods
    attributed = jiangsu["processes"][0]["attributed_emissions"]["direct_t"]
    assert cold["precursors_direct"] == pytest.approx(318_000 * coil["see_direct"])
    expected = (attributed + 318_000 * coil["see_direct"]) / 300_000
    assert cold["see_direct_recomputed"] == pytest.approx(expected)
    assert cold["see_direct"] == pytest.approx(expected, abs=5e-7)


def test_several_communications_need_their_own_facility(small_works) -> None:
    with pytest.raises(InputError, match="one CBAM communication, not of several"):
        build_reconciliation(
            *small_works, cbam=[COMMUNICATION, COMMUNICATION], cbam_facility="works"
        )
    with pytest.raises(InputError, match="two CBAM communications for the facility"):
        build_reconciliation(
            *small_works,
            cbam=[COMMUNICATION, COMMUNICATION | {"installation": {"name": "works"}}],
        )


def test_demo_ets_entities_reconcile_with_the_inventory() -> None:
    """Each legal entity's inventory Scope 1 walks to its ETS direct CO2 (2025 guideline)."""
    doc, lines, _ = _demo_reconciliation()
    parts = {p["entity"]: p for p in doc["ets"]}
    assert set(parts) == {"tangshan", "jiangsu"}
    co2_per_t = 44 / 12
    for entity, facility in (("tangshan", "tangshan-works"), ("jiangsu", "jiangsu-coating")):
        part = parts[entity]
        assert abs(part["totals"]["unexplained"]) < 0.001, entity
        own = [x for x in lines if x["facility"] == facility and x["scope"] == "1"]
        assert part["totals"]["inventory_scope1"] == pytest.approx(sum(x["tco2e"] for x in own))
        steps = {r["what"]: r for r in doc["tables"][part["table"]]["rows"]}
        other = sum(x["tco2e"] for x in own if x["gas"] != "CO2")
        assert steps["CO2 only"]["amount"] == pytest.approx(-other)
        assert {r["kind"] for r in doc["tables"][part["table"]]["rows"]} <= {
            "start", "gases", "boundary", "factor", "method", "result", "check"
        }  # fmt: skip
    # Jiangsu: the annealing gas is the whole ETS figure (3 243.283 t), nothing else differs.
    assert parts["jiangsu"]["totals"]["ets_direct_co2"] == pytest.approx(3243.283, abs=1e-3)
    # Tangshan, by hand from the printed quantities and parameters (inventory factor against the
    # guideline's carbon content × 44/12):
    steps = {r["what"]: r for r in doc["tables"][parts["tangshan"]["table"]]["rows"]}
    cases = {
        "flux-dolomite (烧结)": 40_000 * (0.12982 * co2_per_t - 0.471),
        "ferrochrome (炼钢)": 1_200 * (0.09491 * co2_per_t - 0.275),
        "bought-pig-iron (炼钢)": 30_000 * (0.04691 * co2_per_t - 0.172),
        # carbon leaving in crude steel: the inventory deducts 0.0154 t CO2/t, the guideline
        # 0.01009 t C/t × 44/12
        "crude-steel (炼钢)": -1_000_000 * (0.01009 * co2_per_t - 0.0154),
        # 50 000 t of merchant pig iron sold: carbon out, deducted by the guideline only
        "merchant-pig-iron (炼铁)": -50_000 * 0.04691 * co2_per_t,
    }
    for what, amount in cases.items():
        assert steps[what]["amount"] == pytest.approx(amount, abs=1e-6), what
    assert steps["merchant-pig-iron (炼铁)"]["kind"] == "method"
    assert (
        "50,000.000 t × 0.04691 tC/t × 44/12 (carbon out)"
        in steps["merchant-pig-iron (炼铁)"]["why"]
    )
    scope1 = parts["tangshan"]["totals"]["inventory_scope1"]
    other = -steps["CO2 only"]["amount"]
    assert parts["tangshan"]["totals"]["ets_direct_co2"] == pytest.approx(
        scope1 - other + sum(cases.values()), abs=1e-6
    )
