"""Products, BOMs and footprint computation written through the supply-chain API.

The system, per kg of each product (round test numbers, not published data):

    ore (received PACT footprint, 100 % primary data)       0.2 kg CO2e/kg
    iron   = 1.0 site + 1.5 ore × 0.2                        = 1.3
    billet = 0.5 site + 0.9 iron + 0.1 coil (returned scrap, a loop)
    coil   = site + 1.0 billet + 0.05 kg limestone × 0.4      (secondary factor)

The coil's site is the hot-strip mill: 300 000 kg CO2e for 1 000 000 kg coil and 500 000 kg
mill scale (not a product), split by mass: 300 000 × 2/3 / 1 000 000 = 0.2 kg CO2e/kg. So

    coil   = 0.22 + billet
    billet = 0.5 + 1.17 + 0.1 (0.22 + billet) = 1.692 + 0.1 billet  →  billet = 1.88,  coil = 2.10

Only the limestone is secondary data; its share of each product, with the loop:
    coil_s = 0.02 + billet_s,  billet_s = 0.1 coil_s  →  billet_s = 0.002/0.9,  coil_s = 0.02/0.9
    primary share: iron 100 %, billet 100 (1 − 0.0022222/1.88), coil 100 (1 − 0.0222222/2.10)
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.store import ProductStore

if TYPE_CHECKING:
    from conftest import Service

DEMO = "org-demo-steel"
ORE_PF = "5a1c0e2d-8b3f-4c6a-9d7e-0f1a2b3c4d5e"
ROOT = "/api/v1/supply-chain"
BILLET = (0.5 + 0.9 * 1.3 + 0.1 * 0.22) / (1 - 0.1)
COIL = 0.22 + BILLET
BILLET_SECONDARY = 0.1 * 0.02 / (1 - 0.1)
COIL_SECONDARY = 0.02 + BILLET_SECONDARY


def ore_document() -> dict[str, Any]:
    """A supplier's PACT footprint of iron ore: 0.2 kg CO2e/kg, all primary data."""
    zero = {"fossilCarbonContent": "0", "landUseChangeGhgEmissions": "0"}
    zero |= {"landManagementBiogenicCO2Emissions": "0", "landManagementBiogenicCO2Removals": "0"}
    zero |= {"biogenicCO2Uptake": "0", "biogenicNonCO2Emissions": "0"}
    return {
        "id": ORE_PF,
        "specVersion": "3.0.3",
        "created": "2026-01-15T00:00:00Z",
        "status": "Active",
        "companyName": "Test Ore Mine",
        "companyIds": ["urn:pact:ore.example:company-id:1"],
        "productDescription": "Iron ore fines",
        "productIds": ["urn:pact:ore.example:product-id:fines"],
        "productNameCompany": "Iron ore fines",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-01-01T00:00:00Z",
            "geographyCountry": "AU",
            "pcfExcludingBiogenicUptake": "0.2",
            "pcfIncludingBiogenicUptake": "0.2",
            "fossilGhgEmissions": "0.2",
            "primaryDataShare": "100",
            **zero,
            "packagingEmissionsIncluded": False,
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
        },
    }


def product_body(name: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "declared_unit": "kilogram",
        "mass_per_declared_unit": 1.0,
        "identifiers": [f"urn:pact:mill.example:product-id:{name.lower().replace(' ', '-')}"],
        "classifications": ["urn:pact:productclassification:hs:720839"],
        "description": f"{name}, test mill",
        **extra,
    }


BOMS = {
    "iron": [{"kind": "purchased", "pf_id": ORE_PF, "quantity": 1.5, "unit_price": 0.9}],
    "billet": [
        {"kind": "own", "product": "iron", "quantity": 0.9},
        {"kind": "own", "product": "coil", "quantity": 0.1},
    ],
    "coil": [
        {"kind": "own", "product": "billet", "quantity": 1.0},
        {
            "kind": "secondary",
            "name": "Limestone",
            "quantity": 0.05,
            "factor": 0.4,
            "citation": "round test factor",
        },
    ],
}
COMPUTE = {
    "period_start": "2025-01-01",
    "period_end": "2026-01-01",
    "direct": {"iron": {"fossil": 1.0}, "billet": {"fossil": 0.5}},
    "facilities": [
        {
            "name": "Hot-strip mill",
            "emissions": {"fossil": 300_000},
            "outputs": [
                {"product": "coil", "quantity": 1_000_000, "mass": 1_000_000},
                {"product": "mill-scale", "quantity": 500_000, "mass": 500_000},
            ],
            "rule": "mass",
        }
    ],
}


def editor(service: Service, role: str = "editor") -> TestClient:
    client, csrf = service.login(service.users[role])
    client.headers["X-CSRF-Token"] = csrf
    return client


@pytest.fixture
def ore(engine: sa.Engine) -> None:
    ExchangeRepository(engine, organization_id=DEMO).store_received(
        json.dumps(ore_document()), source="ore-mine", via="pull"
    )


def build_system(client: TestClient) -> None:
    for key, name in (("iron", "Pig iron"), ("billet", "Steel billet"), ("coil", "Hot coil")):
        response = client.put(f"{ROOT}/products/{key}", json=product_body(name))
        assert response.status_code == 200, response.text
        assert response.json() == {"key": key, "created": True}
    for key, lines in BOMS.items():
        response = client.put(f"{ROOT}/products/{key}/bom", json={"lines": lines})
        assert response.status_code == 200, response.text
        assert response.json() == {"key": key, "lines": len(lines)}


def test_three_products_with_a_loop_are_computed_stored_and_published(
    service: Service, engine: sa.Engine, ore: None
) -> None:
    client = editor(service)
    build_system(client)
    response = client.post(
        f"{ROOT}/footprints/compute",
        json=COMPUTE
        | {"publish": True, "owner": {"name": "Test Mill", "company_ids": ["urn:x:1"]}},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    got = {row["key"]: row for row in body["footprints"]}
    assert set(got) == {"iron", "billet", "coil"}
    assert got["iron"]["pcf_excluding_biogenic_uptake"] == pytest.approx(1.3)
    assert got["billet"]["pcf_excluding_biogenic_uptake"] == pytest.approx(1.88)
    assert got["coil"]["pcf_excluding_biogenic_uptake"] == pytest.approx(2.10)
    assert got["coil"]["fossil"] == pytest.approx(COIL)
    assert got["iron"]["primary_data_share"] == pytest.approx(100.0)
    assert got["billet"]["primary_data_share"] == pytest.approx(
        100 * (1 - BILLET_SECONDARY / BILLET)
    )
    assert got["coil"]["primary_data_share"] == pytest.approx(100 * (1 - COIL_SECONDARY / COIL))
    assert "mass allocation" in got["coil"]["allocation_rule"]
    # the coil's tree: own site (allocated), the billet and the limestone add up to the coil
    tree = got["coil"]["contributions"]
    parts = {child["kind"]: child["kgco2e"] for child in tree["children"]}
    assert parts["direct"] == pytest.approx(0.2)
    assert parts["secondary"] == pytest.approx(0.02)
    assert sum(parts.values()) == pytest.approx(COIL)

    # stored as one run, published on the exchange with the same numbers
    latest = ProductStore(engine, DEMO).latest()
    assert {stored.run_id for stored in latest.values()} == {body["run_id"]}
    assert latest["billet"].pcf_excluding_biogenic_uptake == pytest.approx(1.88)
    published = {
        row["pf_id"]: json.loads(row["document"])
        for row in ExchangeRepository(engine, organization_id=DEMO).published()
    }
    for key, row in got.items():
        assert row["pf_id"] in published
        assert latest[key].pf_id == row["pf_id"]
        document = published[row["pf_id"]]
        assert document["companyName"] == "Test Mill"
        assert float(document["pcf"]["pcfExcludingBiogenicUptake"]) == pytest.approx(
            row["pcf_excluding_biogenic_uptake"], rel=1e-6
        )

    # the read API shows the stored footprint and the BOM with the received footprint's source
    detail = client.get(f"{ROOT}/products/coil").json()
    assert detail["footprint"]["pcf_excluding_biogenic_uptake"] == pytest.approx(COIL)
    iron = client.get(f"{ROOT}/products/iron").json()
    [line] = iron["bom"]
    assert (line["supplier_pf_id"], line["supplier_client_id"]) == (ORE_PF, "ore-mine")
    assert line["supplier_product_id"] == "urn:pact:ore.example:product-id:fines"
    assert (line["unit"], line["unit_price"]) == ("kilogram", 0.9)


def test_replacing_a_product_and_its_bom(service: Service, ore: None) -> None:
    client = editor(service, "admin")
    build_system(client)
    response = client.put(f"{ROOT}/products/coil", json=product_body("Hot coil S355"))
    assert response.json() == {"key": "coil", "created": False}
    lines = [{"kind": "own", "product": "billet", "quantity": 1.02}]
    assert client.put(f"{ROOT}/products/coil/bom", json={"lines": lines}).status_code == 200
    detail = client.get(f"{ROOT}/products/coil").json()
    assert detail["name"] == "Hot coil S355"
    assert [(b["kind"], b["input_product"], b["quantity"]) for b in detail["bom"]] == [
        ("own", "billet", 1.02)
    ]
    # without a publish the run is stored, no PACT id given
    response = client.post(f"{ROOT}/footprints/compute", json=COMPUTE)
    got = {row["key"]: row for row in response.json()["footprints"]}
    billet = (0.5 + 0.9 * 1.3 + 0.1 * 0.2) / (1 - 0.1 * 1.02)
    assert got["billet"]["pcf_excluding_biogenic_uptake"] == pytest.approx(billet)
    assert got["coil"]["pcf_excluding_biogenic_uptake"] == pytest.approx(0.2 + 1.02 * billet)
    assert {row["pf_id"] for row in got.values()} == {None}


def _problem(response: Any, status: int = 422) -> str:
    assert response.status_code == status, response.text
    return json.dumps(response.json())


def test_bad_input_is_422_naming_the_field_or_record(service: Service, ore: None) -> None:
    client = editor(service)
    bad_urn = client.put(
        f"{ROOT}/products/iron", json=product_body("Pig iron", identifiers=["GTIN 4006381333931"])
    )
    text = _problem(bad_urn)
    assert "identifiers" in text and "GTIN 4006381333931" in text and "urn:" in text
    bad_unit = client.put(f"{ROOT}/products/iron", json=product_body("x", declared_unit="tonne"))
    assert "declared_unit" in _problem(bad_unit)
    bad_key = client.put(f"{ROOT}/products/a b", json=product_body("x"))
    assert "key" in _problem(bad_key)
    build_system(client)

    unknown_own = client.put(
        f"{ROOT}/products/coil/bom",
        json={"lines": [{"kind": "own", "product": "slab", "quantity": 1}]},
    )
    text = _problem(unknown_own)
    assert "lines[0].product" in text and "slab" in text
    unknown_pf = client.put(
        f"{ROOT}/products/iron/bom",
        json={"lines": [{"kind": "purchased", "pf_id": "0" * 8 + ORE_PF[8:], "quantity": 1}]},
    )
    text = _problem(unknown_pf)
    assert "lines[0].pf_id" in text and "00000000-8b3f" in text and "received" in text
    negative = client.put(
        f"{ROOT}/products/iron/bom",
        json={"lines": [{"kind": "purchased", "pf_id": ORE_PF, "quantity": -1}]},
    )
    assert "quantity" in _problem(negative)
    no_citation = client.put(
        f"{ROOT}/products/coil/bom",
        json={"lines": [{"kind": "secondary", "name": "Lime", "quantity": 1, "factor": 1}]},
    )
    assert "citation" in _problem(no_citation)
    assert _problem(client.put(f"{ROOT}/products/slab/bom", json={"lines": []}), 404)

    unknown_direct = client.post(
        f"{ROOT}/footprints/compute", json=COMPUTE | {"direct": {"slab": {"fossil": 1}}}
    )
    assert "'slab'" in _problem(unknown_direct)
    twice = client.post(
        f"{ROOT}/footprints/compute", json=COMPUTE | {"direct": {"coil": {"fossil": 1}}}
    )
    assert "Hot-strip mill" in _problem(twice)
    no_owner = client.post(f"{ROOT}/footprints/compute", json=COMPUTE | {"publish": True})
    assert "owner" in _problem(no_owner)
    uptake = client.post(
        f"{ROOT}/footprints/compute",
        json=COMPUTE | {"direct": {"iron": {"biogenic_co2_uptake": 1}}},
    )
    assert "biogenic_co2_uptake" in _problem(uptake)
    # a product without identifiers cannot be published: nothing is published then
    no_ids = product_body("Pig iron", identifiers=[])
    assert client.put(f"{ROOT}/products/iron", json=no_ids).status_code == 200
    owner = {"name": "Test Mill", "company_ids": ["urn:x:1"]}
    refused = client.post(
        f"{ROOT}/footprints/compute", json=COMPUTE | {"publish": True, "owner": owner}
    )
    assert "iron" in _problem(refused)
    assert ExchangeRepository(service.app.state.ctx.engine, organization_id=DEMO).published() == []


def test_viewer_is_refused(service: Service, ore: None) -> None:
    build_system(editor(service))
    client = editor(service, "viewer")
    assert client.put(f"{ROOT}/products/slab", json=product_body("Slab")).status_code == 403
    assert client.put(f"{ROOT}/products/coil/bom", json={"lines": []}).status_code == 403
    assert client.post(f"{ROOT}/footprints/compute", json=COMPUTE).status_code == 403
    assert len(client.get(f"{ROOT}/products/coil").json()["bom"]) == 2


def test_another_organization_cannot_reach_the_products(
    service: Service, engine: sa.Engine, ore: None
) -> None:
    build_system(editor(service))
    other = editor(service, "other")
    assert other.get(f"{ROOT}/products/coil").status_code == 404
    assert other.put(f"{ROOT}/products/coil/bom", json={"lines": []}).status_code == 404
    # a key is per organization: the other one makes its own "coil", not a change to this one
    assert other.put(f"{ROOT}/products/coil", json=product_body("Their coil")).status_code == 200
    lines = [{"kind": "purchased", "pf_id": ORE_PF, "quantity": 1}]
    text = _problem(other.put(f"{ROOT}/products/coil/bom", json={"lines": lines}))
    assert ORE_PF in text  # this organization's received footprint is not theirs
    response = other.post(f"{ROOT}/footprints/compute", json={**COMPUTE, "direct": {}})
    assert [row["key"] for row in response.json()["footprints"]] == ["coil"]
    ours = ProductStore(engine, DEMO)
    coil = ours.product("coil")
    assert coil is not None and coil.name == "Hot coil"
    assert len(ours.bom("coil")) == 2 and ours.latest() == {}


def test_supply_chain_page_shows_a_product_created_by_api(service: Service, ore: None) -> None:
    client = editor(service)
    body = product_body("Galvanised strip", description="made through the API")
    assert client.put(f"{ROOT}/products/strip", json=body).status_code == 200
    page = client.get("/supply-chain")
    assert page.status_code == 200
    assert "Galvanised strip" in page.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_computed_products_in_the_browser(service: Service, ore: None, base_url: str) -> None:
    from browser_support import OUT, chromium, log_in, new_page

    client = editor(service)
    build_system(client)
    assert client.post(f"{ROOT}/footprints/compute", json=COMPUTE).status_code == 200
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors, locale="en-GB")
        log_in(page, base_url, service.users["editor"])
        page.goto(f"{base_url}/supply-chain")
        main = page.inner_text("main")
        assert "Hot coil" in main and "2.1000" in main
        page.screenshot(path=OUT / "supply-api-01-products.png", full_page=True)
        page.click("a[href='/supply-chain/products/coil']")
        page.wait_for_url(f"{base_url}/supply-chain/products/coil")
        assert "Steel billet" in page.inner_text("main")
        page.screenshot(path=OUT / "supply-api-02-coil.png", full_page=True)
    assert errors == []
