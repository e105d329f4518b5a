"""`carbonlink demo` end to end: every step runs and writes what it lists."""

import json
from pathlib import Path

import pytest
from rich.console import Console

from carbonlink.demo import run_demo
from carbonlink.demo.plant import default_plant_file
from carbonlink.settings import Settings


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo")
    console = Console(record=True, width=150)
    run_demo(Settings(workspace=out / "unused"), out, console)
    return out, console.export_text()


def test_demo_writes_every_output_it_lists(demo_run: tuple[Path, str]) -> None:
    out, text = demo_run
    assert (out / "inventory.json").exists()
    assert (out / "inventory-metered-2018.json").exists()
    assert f"demo outputs in {out.resolve()}" in text


@pytest.mark.skipif(not default_plant_file().exists(), reason="real plant file not beside project")
def test_metered_account_uses_the_real_plant_year(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    document = json.loads((out / "inventory-metered-2018.json").read_text("utf-8"))
    [location] = [line for line in document["lines"] if line["scope"] == "2_location"]
    # 959 636.71 kWh in 2018 (35 040 readings) × 0.5568 kg/kWh, the pinned 2021 national average.
    assert location["activity"]["quantity"] == pytest.approx(959.63671, abs=1e-6)
    assert location["tco2e"] == pytest.approx(959.63671 * 0.5568, rel=1e-9)
    assert "pinned" in location["factor"]["reason"]


def test_supply_chain_footprints_add_up_by_hand(demo_run: tuple[Path, str]) -> None:
    """HRC and CRS from the chain file and the accounted works, solved here by hand (2 × 2)."""
    from carbonlink.demo import demo_inventory_text
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.exchange.pact import parse_decimal

    out, text = demo_run
    summary = json.loads((out / "pact" / "supply-chain.json").read_text("utf-8"))
    by_scope = account(parse_inventory(demo_inventory_text())).summary("facility", "scope")

    def site(facility: str) -> float:  # kg CO2e: scope 1 + market-based scope 2
        return 1000 * (by_scope[(facility, "1")] + by_scope[(facility, "2_market")])

    coke = 198_000e3 * 1260 / (1260 + 140) / 600_000e3 + 1.32 * 0.16
    ferrochrome = 14_500 / 2_400 + 2.1 * 0.05
    d_hrc = site("tangshan-works") * 3724 / (3724 + 28) / 980_000e3
    d_crs = site("jiangsu-coating") / 300_000e3
    # hrc = d_hrc + 0.3673 coke + 0.001224 ferrochrome + 0.01 crs;  crs = d_crs + 1.06 hrc
    hrc = (d_hrc + 0.3673 * coke + 0.001224 * ferrochrome + 0.01 * d_crs) / (1 - 0.01 * 1.06)
    crs = d_crs + 1.06 * hrc
    products = summary["products"]
    assert products["hrc"]["pcf_kgco2e_per_kg"] == pytest.approx(hrc, rel=1e-9)
    assert products["crs"]["pcf_kgco2e_per_kg"] == pytest.approx(crs, rel=1e-9)
    document = json.loads((out / "pact" / "pcf-hrc.json").read_text("utf-8"))
    assert parse_decimal(document["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(
        hrc, rel=1e-6
    )
    supplier = json.loads((out / "pact" / "supplier-coke.json").read_text("utf-8"))
    assert parse_decimal(supplier["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(coke)
    assert summary["suppliers"]["coke"]["provenance"]["via"] == "event"
    assert summary["listed_by_customer"] == 2
    assert "via the supplier portal" in text


def test_scope3_category1_uses_the_suppliers_footprints(demo_run: tuple[Path, str]) -> None:
    """Purchased coke and ferrochrome × the PCFs their suppliers sent, in the inventory."""
    out, text = demo_run
    document = json.loads((out / "inventory.json").read_text("utf-8"))
    lines = {line["source"]: line for line in document["lines"] if line["category"] == "category 1"}
    coke = 198_000e3 * 1260 / (1260 + 140) / 600_000e3 + 1.32 * 0.16
    ferrochrome = 14_500 / 2_400 + 2.1 * 0.05
    assert lines["purchased-coke"]["tco2e"] == pytest.approx(360_000 * coke, rel=1e-9)
    assert lines["purchased-ferrochrome"]["tco2e"] == pytest.approx(1_200 * ferrochrome, rel=1e-9)
    supplier = json.loads((out / "pact" / "supplier-coke.json").read_text("utf-8"))
    cited = lines["purchased-coke"]["factor"]
    assert cited["tier"] == "supplier_specific"
    assert cited["source"].startswith(
        f"PACT footprint {supplier['id']} of Demo Coking Co., SHA-256 "
    )
    assert len(cited["source"].rsplit(" ", 1)[1]) == 64
    assert "scope 3 category 1 from the suppliers' footprints" in text


def test_monitoring_has_plan_target_and_ets(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    report = json.loads((out / "monitoring.json").read_text("utf-8"))
    assert report["plan"]["template_id"] == "iron_steel"
    methods = {e["source_id"]: e["method"] for e in report["plan"]["entries"]}
    assert methods["lf-electrodes"] == "process"  # as the inventory accounts it
    assert methods["crude-steel"] == "carbon_fixed"
    # Tangshan's plan lacks purchased heat and its meter has no readings in the workspace.
    kinds = {(f["kind"], f["subject"]) for f in report["completeness"]}
    assert ("missing_source", "purchased_heat") in kinds
    assert ("meter_without_data", "tangshan-main-incomer") in kinds
    # 2 650 000 t in 2020 less 4.2 % of it a year: 2 093 500 t allowed in 2025.
    assert report["target"]["progress"]["allowed"] == pytest.approx(2_093_500)
    # Whether the metered works' budget alert opens depends on its year of readings: checked
    # on the real plant year below, where it does.
    assert all(a["rule_id"].startswith("target:") for a in report["target_alerts"])
    ets = report["ets"]
    assert ets["allocation_t"] == pytest.approx(1_550_000)
    assert ets["balance_t"] == pytest.approx(ets["allocation_t"] - ets["emissions_t"])


@pytest.mark.skipif(not default_plant_file().exists(), reason="real plant file not beside project")
def test_monitoring_finds_the_real_sunday_run(demo_run: tuple[Path, str]) -> None:
    out, _ = demo_run
    report = json.loads((out / "monitoring.json").read_text("utf-8"))
    starts = [e["start_local"][:10] for e in report["metered_works"]["anomalies"]["episodes"]]
    assert "2018-03-11" in starts
    # The metered works' 2018 budget is projected over its pathway at the end of September.
    [alert] = report["target_alerts"]
    assert (alert["rule_id"], alert["action"]) == (
        "target:rolling-works-electricity-2018",
        "opened",
    )


def test_exchanged_footprints_have_receipts_that_verify_offline(
    demo_run: tuple[Path, str],
) -> None:
    from carbonlink.ledger import load_ledger_verifier, verify_receipt
    from carbonlink.ledger.receipt import Receipt

    out, text = demo_run
    folder = out / "pact" / "receipts"
    names = sorted(path.stem for path in folder.glob("*.tlog-proof"))
    assert names == ["pcf-crs", "pcf-hrc", "supplier-coke", "supplier-ferrochrome"]
    verifier = load_ledger_verifier(out / "workspace")
    for name in names:
        receipt = Receipt.parse((folder / f"{name}.tlog-proof").read_bytes())
        verified = verify_receipt(receipt, verifier, files=[folder / f"{name}.json"])
        assert verified.content["kind"] == "footprint"
        assert verified.content["direction"] == ("sent" if name.startswith("pcf") else "received")
        assert f"pact/receipts/{name}.json" in text


def test_demo_ranks_its_suppliers(demo_run: tuple[Path, str]) -> None:
    """Both demo suppliers answered at once with footprints stating their primary data share."""
    _, text = demo_run
    [line] = [row for row in text.splitlines() if "supplier green-and-digital index" in row]
    assert "Demo Ferroalloy Co." in line and "Demo Coking Co." in line
    assert line.index("1. ") < line.index("2. ")


def test_the_demo_ships_alert_rules_open_alerts_and_its_cbam_inputs(
    demo_run: tuple[Path, str],
) -> None:
    """The README promises demo alerts: the rules are the organization's, and some are open."""
    from carbonlink.demo.service import DEMO_ORG_ID
    from carbonlink.reports.cbam_input import CBAM_INPUT_MEDIA_TYPE
    from carbonlink.store import operations, results
    from carbonlink.store.workspace import open_store

    out, text = demo_run
    store = open_store(Settings(workspace=out / "workspace"))
    try:
        rules = results.alert_rules_of(store.engine, DEMO_ORG_ID)
        opened = operations.open_alert_count(store.engine, DEMO_ORG_ID)
        found = results.alerts_of(store.engine, DEMO_ORG_ID)
        cbam_inputs = operations.kept_documents(store.engine, CBAM_INPUT_MEDIA_TYPE)
    finally:
        store.engine.dispose()
    assert {r.kind for r in rules} == {"threshold", "rate_of_change", "meter_offline"}
    assert opened >= 1
    assert any(a.rule_id == "works-meter-silent" and a.status == "open" for a in found)
    assert f"({opened} open)" in text
    # the service writes the installations' CBAM communications on demand from these
    assert sorted(name for name, _ in cbam_inputs) == ["cbam-jiangsu.yaml", "cbam-tangshan.yaml"]
