"""`carbonlink demo` end to end: every step runs and writes what it lists."""

import json
import subprocess
from pathlib import Path

import pytest

from carbonlink.demo.plant import default_plant_file
from carbonlink.settings import Settings


@pytest.fixture(scope="module")
def demo_run(demo_command: tuple[Path, subprocess.CompletedProcess[str]]) -> tuple[Path, str]:
    """The session's demo run (``demo_command``): its output folder and what it printed."""
    out, done = demo_command
    assert done.returncode == 0, done.stderr
    return out, done.stdout


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
    # Bills of materials from the inventory's tonnes: 360 000 t coke and 1 200 t ferrochrome for
    # 980 000 t of coil; 318 000 t of coil for 300 000 t of cold-rolled coil (1.06).
    # hrc = d_hrc + coke/hrc·coke + alloy/hrc·ferrochrome + 0.01 crs;  crs = d_crs + 1.06 hrc
    per_coke, per_alloy = 360_000 / 980_000, 1_200 / 980_000
    hrc = (d_hrc + per_coke * coke + per_alloy * ferrochrome + 0.01 * d_crs) / (1 - 0.01 * 1.06)
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


def test_inventory_cbam_and_footprints_state_the_same_facts(demo_run: tuple[Path, str]) -> None:
    """Tonnes, MWh and materials: one figure across the inventory, CBAM and the PCF outputs.

    The inventory side is read from the YAML file the demo wrote and from its accounted lines;
    the CBAM and PCF sides from the communications and the supply-chain summary it wrote.
    """
    import yaml

    out, _ = demo_run
    group = yaml.safe_load((out / "steel-enterprise.yaml").read_text("utf-8"))
    sites = {f["id"]: f for f in group["facilities"]}

    def activity(site: str, source: str) -> float:
        found = next(s for s in sites[site]["sources"] if s["id"] == source)
        return float(found["activity"]["quantity"])

    def made(site: str, product: str) -> dict[str, object]:
        return next(p for p in sites[site]["production"] if p["product"] == product)

    accounted = json.loads((out / "inventory.json").read_text("utf-8"))["lines"]
    grid_mwh = {
        line["facility"]: line["activity"]["quantity"]
        for line in accounted
        if line["source"] == "grid-power" and line["scope"] == "2_location"
    }
    tangshan = json.loads((out / "cbam" / "cbam-tangshan.json").read_text("utf-8"))
    jiangsu = json.loads((out / "cbam" / "cbam-jiangsu.json").read_text("utf-8"))
    pcf = json.loads((out / "pact" / "supply-chain.json").read_text("utf-8"))["basis"]
    process = {p["id"]: p for p in tangshan["processes"] + jiangsu["processes"]}
    bought = {
        p["id"]: p for p in tangshan["purchased_precursors"] + jiangsu["purchased_precursors"]
    }

    # Tonnes of product.
    crude_steel = activity("tangshan-works", "crude-steel")
    assert crude_steel == 1_000_000
    assert process["steelmaking"]["activity_level_t"] == crude_steel
    assert process["hot-strip-mill"]["precursors"][0]["mass_t"] == crude_steel
    assert (
        process["ironmaking"]["activity_level_t"] == made("tangshan-works", "hot-metal")["quantity"]
    )
    hrc = made("tangshan-works", "hot-rolled-coil")["quantity"]
    assert (
        process["hot-strip-mill"]["activity_level_t"]
        == hrc
        == pcf["outputs_t"]["tangshan-works"]["hrc"]
    )
    assert (
        pcf["outputs_t"]["tangshan-works"]["bf-slag"]
        == made("tangshan-works", "bf-slag")["quantity"]
    )
    crc = made("jiangsu-coating", "cold-rolled-coil")
    assert (
        process["cold-rolling"]["activity_level_t"]
        == crc["quantity"]
        == pcf["outputs_t"]["jiangsu-coating"]["crs"]
    )
    coil_in = crc["inputs"]["hot-rolled-coil"]
    assert bought["tangshan-hrc"]["purchased_t"] == coil_in
    assert pcf["bills_of_materials_kg_per_kg"]["crs"]["own"]["hrc"] == pytest.approx(
        coil_in / crc["quantity"]
    )
    # MWh: the processes' electricity adds up to the grid power the inventory accounts.
    assert sum(
        process[p]["electricity"]["consumed_mwh"]
        for p in ("sinter", "ironmaking", "steelmaking", "hot-strip-mill")
    ) == pytest.approx(grid_mwh["tangshan-works"], abs=1e-6)
    assert grid_mwh["tangshan-works"] == activity("tangshan-works", "grid-power") == 620_000
    assert (
        process["cold-rolling"]["electricity"]["consumed_mwh"]
        == grid_mwh["jiangsu-coating"]
        == 45_000
    )
    assert process["cold-rolling"]["heat"]["imported_tj"] * 1000 == activity(
        "jiangsu-coating", "steam"
    )
    assert process["sinter"]["heat"]["exported_tj"] * 1000 == activity(
        "tangshan-works", "heat-export"
    )
    # Materials bought: the same alloy and pig iron, in the same tonnes, in all three.
    assert (
        bought["ferrochrome"]["purchased_t"] == activity("tangshan-works", "ferrochrome") == 1_200
    )
    assert pcf["purchases_t"]["ferrochrome"] == 1_200
    assert pcf["bills_of_materials_kg_per_kg"]["hrc"]["purchased"]["ferrochrome"] == pytest.approx(
        1_200 / hrc
    )
    assert pcf["purchases_t"]["coke"] == activity("tangshan-works", "bf-coke") == 360_000
    assert (
        bought["bought-pig-iron"]["purchased_t"]
        == activity("tangshan-works", "bought-pig-iron")
        == 30_000
    )
    steel_inputs = {u["source"]: u["mass_t"] for u in process["steelmaking"]["precursors"]}
    assert steel_inputs["bought-pig-iron"] == 30_000 and steel_inputs["ferrochrome"] == 1_200
    hot_metal = made("tangshan-works", "hot-metal")
    assert steel_inputs["ironmaking"] == hot_metal["quantity"] - hot_metal["sold"]


def test_demo_refuses_a_missing_cbam_template_before_it_starts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from carbonlink.cli import app
    from carbonlink.errors import InputError

    out = tmp_path / "out"
    done = CliRunner().invoke(
        app, ["demo", "--out", str(out), "--cbam-template", str(tmp_path / "missing.xlsx")]
    )
    assert isinstance(done.exception, InputError)
    assert "--cbam-template" in done.exception.message
    assert not out.exists()


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


def test_the_tangshan_works_publish_a_verified_communication_with_the_carbon_price_paid(
    demo_run: tuple[Path, str],
) -> None:
    """Definitive period: workbook and Catena-X JSON in ``cbam/``, a DEMO verifier, the carbon
    price paid from the China ETS position, published for partners, receipted by the ledger."""
    from carbonlink.demo.service import DEMO_ORG_ID
    from carbonlink.exchange import cbam
    from carbonlink.ledger import load_ledger_verifier, verify_receipt
    from carbonlink.ledger.receipt import Receipt
    from carbonlink.store.workspace import open_store

    out, text = demo_run
    folder = out / "cbam"
    communication = json.loads((folder / "cbam-tangshan-verified.json").read_text("utf-8"))
    assert communication["status"] == "verified" and communication["verification"]["demo"]
    price = communication["carbon_price_paid"]
    assert price["currency"] == "CNY" and price["amount_paid"] > 0
    assert [g["cn_code"] for g in price["goods"]] == ["72011011", "72083900"]
    catenax = json.loads((folder / "cbam-tangshan-verified.catenax-cbam.json").read_text("utf-8"))
    assert catenax["good"][1]["cnCode"] == "72083900"
    assert (folder / "cbam-tangshan-verified.xlsx").is_file()
    assert "verified by a DEMO verifier" in text
    store = open_store(Settings(workspace=out / "workspace"))
    try:
        [published] = cbam.listed(store.engine, DEMO_ORG_ID)
    finally:
        store.engine.dispose()
    assert published.status == "verified"
    receipt = Receipt.parse((folder / "cbam-tangshan-verified.tlog-proof").read_bytes())
    verified = verify_receipt(
        receipt,
        load_ledger_verifier(out / "workspace"),
        files=[folder / "cbam-tangshan-verified.json"],
    )
    assert verified.content["kind"] == "report"


def test_tangshan_has_a_china_ets_year(demo_run: tuple[Path, str]) -> None:
    """Control plan, twelve months with (made-up, labelled) laboratory reports, the August
    finding, twelve receipted packs that verify, the calendar and the allocation position."""
    from carbonlink.cets.deposit import verify_deposit_pack
    from carbonlink.ledger import load_ledger_verifier

    out, text = demo_run
    folder = out / "cets"
    assert (folder / "control-plan-tangshan.pdf").read_bytes().startswith(b"%PDF")
    assert (folder / "control-plan-tangshan.xlsx").is_file()
    assert len(list((folder / "ledgers").glob("ledger-tangshan-2025-*.xlsx"))) == 12
    labs = sorted((folder / "lab-reports").glob("LAB-TS-2025*.html"))
    assert len(labs) == 12
    assert all("demo, not a real laboratory report" in p.read_text("utf-8") for p in labs)
    assert all("示例" in p.read_text("utf-8") for p in labs)
    assert "finding 2025-08 CETS-P1 bf-pci: C/NCV 29.00 t C/TJ" in text
    assert "row 31 quarantined: value '—' is not a number" in text
    packs = sorted(p for p in (folder / "deposits").iterdir() if p.is_dir())
    assert [p.name[-7:] for p in packs] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert len(list((folder / "deposits").glob("*.zip"))) == 12
    key = load_ledger_verifier(out / "workspace")
    for pack in packs:
        verify_deposit_pack(pack, key)
    assert "CETS-P1" in (packs[7] / "checks.csv").read_text("utf-8-sig")
    assert "report changed after the deposit: detected" in text
    calendar = json.loads((folder / "calendar-tangshan-2025.json").read_text("utf-8"))
    deposits = [o for o in calendar["obligations"] if o["kind"].endswith("_deposit")]
    assert len(deposits) == 12 and {o["state"] for o in deposits} == {"done"}
    allocation = json.loads((folder / "allocation-tangshan-2025.json").read_text("utf-8"))
    # the demo's illustrative 1.55 t CO2 per t (monitoring.yaml) of the 1 000 000 t crude steel
    assert allocation["output_t"]["steelmaking"] == pytest.approx(1_000_000.0)
    assert allocation["allocation_t"] == pytest.approx(1_550_000.0)
    assert allocation["surplus_t"] == pytest.approx(
        allocation["allocation_t"] - allocation["direct_co2_t"]
    )
    assert "illustrative" in allocation["note"]
    # it replaces the monitoring report's illustrative position of the same works
    ets = json.loads((out / "monitoring.json").read_text("utf-8"))["ets"]
    assert ets["emissions_basis"] == "recorded"
    assert ets["emissions_t"] == pytest.approx(allocation["direct_co2_t"])


def test_the_demo_kpi_pack_states_the_hand_worked_kpis_and_verifies_independently(
    demo_run: tuple[Path, str], tmp_path: Path
) -> None:
    import os
    import shutil

    from typer.testing import CliRunner

    from carbonlink.cli import app

    out, text = demo_run
    folder = out / "credentials"
    pack = json.loads((folder / "kpi-pack.json").read_text())
    subject = pack["credentialSubject"]
    kpis = {k["name"]: k for k in subject["kpi"]}
    # steel-enterprise.yaml, accounted: Scope 1 1 459 993.083327 t, Scope 2 market-based
    # 375 408 t over 980 000 t of hot-rolled coil; certificates 50 000 + PPA 10 000 MWh of
    # 620 000 + 45 000 MWh purchased.
    assert kpis["ghgIntensity"]["value"] == f"{(1459993.083327 + 375408) / 980000:.4f}" == "1.8729"
    assert kpis["ghgIntensity"]["target"]["met"] is True
    assert kpis["renewableElectricityShare"]["value"] == f"{100 * 60000 / 665000:.4f}"
    assert kpis["renewableElectricityShare"]["target"]["met"] is False
    assert subject["evidence"][0]["report"] == "inventory.json"
    assert "KPI pack for lender@demo-bank.carbonlink.example" in text

    runner = CliRunner()
    env = {"CARBONLINK_WORKSPACE": str(out / "workspace")}
    args = ["--did", str(folder / "did.json"), "--status", str(folder / "status.json")]
    for name in ("kpi-pack.json", "pcf-hrc.json"):
        done = runner.invoke(app, ["vc", "verify", str(folder / name), *args], env=env)
        assert done.exit_code == 0 and "verified" in done.output, done.output
    changed = tmp_path / "kpi-pack.json"
    changed.write_text((folder / "kpi-pack.json").read_text().replace('"1.8729"', '"1.8728"', 1))
    done = runner.invoke(app, ["vc", "verify", str(changed), *args], env=env)
    assert done.exit_code == 1 and "signature does not match" in done.output

    node = shutil.which("node")
    assert node
    root = Path(__file__).resolve().parents[1]
    for name, expected in (("kpi-pack.json", 0), ("pcf-hrc.json", 0), (str(changed), 1)):
        checked = subprocess.run(
            [
                node,
                str(root / "tests/credentials/verify_credential.mjs"),
                str(folder / name),
                *args,
            ],
            capture_output=True,
            text=True,
            env={**os.environ, "FRONTEND_DIR": str(root / "frontend")},
            timeout=60,
            check=False,
        )
        assert checked.returncode == expected, checked.stdout + checked.stderr


def test_the_demo_cbam_communication_as_a_credential_verifies_independently(
    demo_run: tuple[Path, str], tmp_path: Path
) -> None:
    """The Tangshan communication (decimal numbers, nested records) signed as a did:key
    credential: Digital Bazaar verifies it, and refuses it with one coordinate digit changed."""
    import os
    import shutil
    from datetime import UTC, datetime

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from carbonlink.credentials.documents import cbam_subject, issue, verify
    from carbonlink.credentials.multikey import did_key, did_key_method
    from carbonlink.credentials.proof import SigningKey

    out, _ = demo_run
    communication = json.loads((out / "cbam" / "cbam-tangshan.json").read_text())
    private = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    public = SigningKey(private, "").public_key
    key = SigningKey(private, did_key_method(public))
    now = datetime(2026, 3, 1, tzinfo=UTC)
    credential = issue(
        "cbam", cbam_subject(communication, "Tangshan"), key, issuer=did_key(public), now=now
    )
    assert verify(credential, now=now).kind == "cbam"
    text = json.dumps(credential)
    assert '"latitude": 39.8326' in text
    root = Path(__file__).resolve().parents[1]
    node = shutil.which("node")
    assert node
    for body, expected in (
        (text, 0),
        (text.replace('"latitude": 39.8326', '"latitude": 39.8327'), 1),
    ):
        path = tmp_path / "cbam.json"
        path.write_text(body)
        checked = subprocess.run(
            [node, str(root / "tests/credentials/verify_credential.mjs"), str(path)],
            capture_output=True,
            text=True,
            env={**os.environ, "FRONTEND_DIR": str(root / "frontend")},
            timeout=60,
            check=False,
        )
        assert checked.returncode == expected, checked.stdout + checked.stderr
