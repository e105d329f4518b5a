"""Supply-chain pages and API: products with footprints, a product's tree, suppliers, roles.

The chain is the one of `supply_fixture` (numbers checked by hand there).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page
from supply_fixture import COKE, CRS, FERROCHROME, HRC, SeededChain, seed_supply_chain

from carbonlink.exchange.repository import ExchangeRepository

if TYPE_CHECKING:
    from conftest import Service

DEMO = "org-demo-steel"


@pytest.fixture
def chain(service: Service, engine: sa.Engine) -> SeededChain:
    return seed_supply_chain(engine, DEMO)


def _get(service: Service, role: str, url: str) -> Any:
    client, _ = service.login(service.users[role])
    return client.get(url)


def test_products_page_lists_footprints_publication_and_coverage(
    service: Service, chain: SeededChain
) -> None:
    page = _get(service, "admin", "/supply-chain?lang=en")
    assert page.status_code == 200
    text = page.text
    assert "Hot-rolled coil Q235B" in text and "Cold-rolled sheet DC01" in text
    assert f"{HRC:,.4f}" in text and f"{CRS:,.4f}" in text
    assert f"/supply-chain/footprints/{chain.hrc_pf_id}.json" in text
    assert "not published" in text  # crs was computed but not published
    # coke and ferrochrome both carry primary data: all of hrc's purchased mass is covered
    assert "100.0%" in text
    assert "/supply-chain/suppliers/index" in text


def test_product_page_shows_bom_tree_and_supplier_provenance(
    service: Service, chain: SeededChain, engine: sa.Engine
) -> None:
    text = _get(service, "admin", "/supply-chain/products/hrc?lang=en").text
    assert f"{0.3673 * COKE:,.4f}" in text  # coke's contribution per kg of hrc
    assert f"{0.001224 * FERROCHROME:,.4f}" in text
    assert "Metallurgical coke (Demo Coking Co.)" in text
    assert "urn:pact:steel.example.cn:handle:88.118.8/demo-steel/HRC-Q235B" in text
    assert "urn:pact:productclassification:hs:720839" in text
    assert "economic allocation (test)" in text  # the rule, beside the product
    assert "Own site emissions (allocated)" in text  # the tree's and chart's short label
    received = ExchangeRepository(engine, organization_id=DEMO).received(chain.coke_pf_id)[-1]
    assert received["sha256"] == hashlib.sha256(received["document"].encode()).hexdigest()
    assert received["sha256"][:16] in text
    assert "own PACT host" in text and "supplier portal" in text
    assert 'id="chart-contributions"' in text
    data = text.split('id="contributions-data">')[1].split("</script>")[0]
    chart = json.loads(data)
    assert sum(chart["values"]) == pytest.approx(HRC, rel=1e-5)


def test_suppliers_page_shows_channels_requests_and_coverage(
    service: Service, chain: SeededChain
) -> None:
    text = _get(service, "admin", "/supply-chain/suppliers?lang=en").text
    for name in ("Demo Coking Co.", "Demo Ferroalloy Co.", "Demo Scrap Dealer"):
        assert name in text
    assert text.count("st-fulfilled") >= 2
    assert "st-overdue" in text and "overdue 1" in text
    assert chain.ferrochrome_pf_id[:8] in text and chain.coke_pf_id[:8] in text
    assert "/supply-chain/suppliers/index" in text


def test_chinese_labels_and_nav(service: Service, chain: SeededChain) -> None:
    text = _get(service, "viewer", "/supply-chain/products/hrc?lang=zh").text
    assert "供应链" in text and "物料清单" in text and "贡献树" in text


def test_api_twins(service: Service, chain: SeededChain) -> None:
    client, _ = service.login(service.users["auditor"])
    listed = client.get("/api/v1/supply-chain/products").json()
    by_key = {item["key"]: item for item in listed}
    assert by_key["hrc"]["footprint"]["pcf_excluding_biogenic_uptake"] == pytest.approx(HRC)
    assert by_key["hrc"]["footprint"]["pf_id"] == chain.hrc_pf_id
    assert by_key["hrc"]["purchased_mass_share_primary"] == pytest.approx(1.0)
    detail = client.get("/api/v1/supply-chain/products/hrc").json()
    vias = sorted(line["provenance"]["via"] for line in detail["bom"] if line["provenance"])
    assert vias == ["event", "portal"]
    tree = detail["contributions"]
    assert sum(c["kgco2e"] for c in tree["children"]) == pytest.approx(HRC, rel=1e-9)
    assert client.get("/api/v1/supply-chain/products/nope").status_code == 404
    published = client.get(f"/supply-chain/footprints/{chain.hrc_pf_id}.json")
    assert published.json()["id"] == chain.hrc_pf_id


def test_supplier_role_is_refused_and_has_no_nav_entry(
    service: Service, chain: SeededChain
) -> None:
    client, _ = service.login(service.users["supplier"])
    for url in ("/supply-chain", "/supply-chain/products/hrc", "/supply-chain/suppliers"):
        assert client.get(url).status_code == 403
    assert client.get("/api/v1/supply-chain/products").status_code == 403
    assert 'href="/supply-chain"' not in client.get("/account").text


def test_another_organization_sees_an_empty_supply_chain(
    service: Service, chain: SeededChain
) -> None:
    client, _ = service.login(service.users["other"])
    page = client.get("/supply-chain")
    assert page.status_code == 200 and "No products yet" in page.text
    assert "Hot-rolled" not in page.text
    assert client.get("/supply-chain/products/hrc").status_code == 404
    assert client.get(f"/supply-chain/footprints/{chain.hrc_pf_id}.json").status_code == 404
    assert client.get("/api/v1/supply-chain/products").json() == []
    suppliers = client.get("/supply-chain/suppliers")
    assert "No suppliers yet" in suppliers.text and "Coking" not in suppliers.text


# -- in the browser ---------------------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_browse_to_hrc_and_find_the_coke_contribution(
    service: Service, chain: SeededChain, base_url: str
) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["admin"])
        page.click("nav >> text=供应链")
        page.wait_for_url(f"{base_url}/supply-chain")
        page.screenshot(path=OUT / "supply-01-products.png", full_page=True)
        page.click("a[href='/supply-chain/products/hrc']")
        page.wait_for_url(f"{base_url}/supply-chain/products/hrc")
        page.wait_for_function(
            "document.querySelector('#chart-contributions canvas') !== null", timeout=10_000
        )
        coke = page.locator(".tree .node", has_text="Metallurgical coke").first
        assert coke.is_visible()
        assert f"{0.3673 * COKE:,.4f}" in coke.inner_text()
        # Open the cold-rolled sheet's own inputs inside the tree: hrc again, as a loop.
        page.locator(".tree details details > summary", has_text="Cold-rolled").first.click()
        loop = page.locator(".tree details details .node.leaf", has_text="Hot-rolled").first
        assert loop.is_visible()
        page.screenshot(path=OUT / "supply-02-hrc.png", full_page=True)
        page.click("a[data-lang=en]")  # the session's language is set, then the page reloads
        page.wait_for_selector("main >> text=Bill of materials")
        page.screenshot(path=OUT / "supply-03-hrc-en.png", full_page=True)
        page.goto(f"{base_url}/supply-chain/suppliers")
        assert "overdue" in page.inner_text("main")
        page.screenshot(path=OUT / "supply-04-suppliers.png", full_page=True)
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_bom_citing_an_unreceived_footprint_says_so_on_the_page(
    service: Service, engine: sa.Engine
) -> None:
    from carbonlink.domain.footprint import DeclaredUnit, Product
    from carbonlink.footprints.store import BomLine, ProductStore

    store = ProductStore(engine, "org-other-works")
    store.save_products([Product("widget", "Widget", DeclaredUnit.KILOGRAM, 1.0)])
    missing = "4d2c7a9e-0b1f-4e3a-8c5d-2f6e9a1b3c7d"
    store.save_bom("widget", [BomLine.purchased(missing, 0.5, "kilogram", supplier="x")])
    client, _ = service.login(service.users["other"])
    page = client.get("/supply-chain?lang=en")
    assert page.status_code == 200
    assert f"supplier footprint {missing}, which has not been received" in page.text
    assert "not computed yet" in page.text
    product = client.get("/supply-chain/products/widget?lang=en")
    assert product.status_code == 200 and "No footprint computed yet" in product.text
    assert "not received" in product.text


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the layout, not the database
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_product_and_supplier_index_pages_fit_a_phone(
    service: Service, chain: SeededChain, base_url: str, lang: str
) -> None:
    """At 390 px the contribution tree keeps input, kg CO2e and share, and long hashes break
    instead of widening the page."""
    from test_dashboard_browser import overflow, phone_page

    errors: list[str] = []
    with chromium() as browser:
        page = phone_page(browser, errors)
        log_in(page, base_url, service.users["admin"])
        for path in ("/supply-chain/products/hrc", "/supply-chain/suppliers/index"):
            page.goto(f"{base_url}{path}?lang={lang}")
            page.wait_for_load_state("load")
            if "products" in path:  # the tree is there, with its inputs
                assert page.locator(".tree .node").count() >= 4
            found = overflow(page)
            assert found["scrollWidth"] <= found["innerWidth"] == 390, (path, found)
            name = path.strip("/").replace("/", "-")
            page.screenshot(path=OUT / f"layout-390-{lang}-{name}.png", full_page=True)
    assert errors == []
