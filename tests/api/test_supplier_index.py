"""The supplier index page and API: ranking, roles, empty state, translations."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import chromium, log_in, new_page
from plant_fixture import DEMO_ORG_ID

from carbonlink.api.i18n import read_catalogue
from carbonlink.indices.suppliers import supplier_spec
from supplier_records import AS_OF, seed_four_coke_suppliers

if TYPE_CHECKING:
    from conftest import Service

API = "/api/v1/supply-chain/supplier-index"
PAGE = "/supply-chain/suppliers/index"
DAY = AS_OF.strftime("%Y-%m-%d")


def test_api_ranks_the_suppliers_as_recomputed_by_hand(service: Service, engine: sa.Engine) -> None:
    """The scores of tests/indices/test_suppliers.py (73.333, 40, 26.667, 25.833), as JSON."""
    seed_four_coke_suppliers(engine, DEMO_ORG_ID)
    client, _ = service.login(service.users["viewer"])
    body = client.get(API, params={"as_of": AS_OF.isoformat()}).json()
    assert body["spec_hash"] == supplier_spec().content_hash()
    assert body["spec_version"] == "2"
    assert body["as_of"].startswith("2026-03-01T00:00:00")
    ranked = body["suppliers"]
    assert [s["code"] for s in ranked] == ["coke-a", "coke-b", "coke-d", "coke-c"]
    assert [s["rank"] for s in ranked] == [1, 2, 3, 4]
    assert [round(s["score"], 3) for s in ranked] == [73.333, 40.0, 26.667, 25.833]
    assert ranked[0]["dimensions"] == pytest.approx({"GREEN": 60.0, "DIGITAL": 260 / 3})
    delta = {i["code"]: i for i in ranked[2]["indicators"]}
    assert delta["EMISSION_INTENSITY"] == {
        "code": "EMISSION_INTENSITY",
        "name": "Product footprint relative to peers",
        "unit": "% of peer median",
        "measured": None,
        "used": 100.0,
        "score": 50.0,
        "imputed": True,
    }
    assert delta["DATA_COMPLETENESS"]["measured"] == 0.0
    assert delta["DATA_COMPLETENESS"]["imputed"] is False
    assert ranked[2]["available"] == 2
    assert ranked[1]["weaknesses"] == ["REPORTING_TIMELINESS", "PRIMARY_DATA_SHARE"]
    assert (ranked[1]["footprints"], ranked[1]["requests_due"]) == (1, 1)
    assert ranked[1]["median_answer_days"] == 40.0
    assert body["not_ranked"] == []
    assert body["empty_reason"] is None
    assert len(body["notes"]) == 1 and "stranger" in body["notes"][0]
    # A zone-less date is read as UTC; an absurd one is refused.
    assert client.get(API, params={"as_of": "2026-03-01T00:00:00"}).json()["suppliers"] == ranked
    refused = client.get(API, params={"as_of": "1900-01-01T00:00:00Z"})
    assert refused.status_code == 422
    assert "1970" in refused.json()["hint"]


@pytest.mark.parametrize("role", ["admin", "editor", "viewer", "auditor", "supplier"])
def test_roles(service: Service, engine: sa.Engine, role: str) -> None:
    seed_four_coke_suppliers(engine, DEMO_ORG_ID)
    client, _ = service.login(service.users[role])
    page = client.get(PAGE, params={"as_of": DAY, "lang": "en"})
    api = client.get(API, params={"as_of": AS_OF.isoformat()})
    if role == "supplier":
        assert (page.status_code, api.status_code) == (403, 403)
        assert "Alpha Coking" not in page.text + api.text
    else:
        assert (page.status_code, api.status_code) == (200, 200)
        assert "Alpha Coking" in page.text
        assert len(api.json()["suppliers"]) == 4
    anonymous = service.client()
    assert anonymous.get(API).status_code == 401
    assert anonymous.get(PAGE, follow_redirects=False).status_code in (302, 303, 307)


def test_page_shows_the_ranking_chart_and_imputed_values(
    service: Service, engine: sa.Engine
) -> None:
    seed_four_coke_suppliers(engine, DEMO_ORG_ID)
    client, _ = service.login(service.users["editor"])
    text = client.get(PAGE, params={"as_of": DAY, "lang": "en"}).text
    body = html.unescape(text)
    rows = re.findall(
        r"<tr>\s*<td class=\"num\">(\d)</td>\s*<td class=\"supplier-cell\">([^<]+)<", body
    )
    assert rows == [
        ("1", "Alpha Coking"),
        ("2", "Beta Coke Works"),
        ("3", "Delta Fuels"),
        ("4", "Charlie Carbon"),
    ]
    assert "73.3" in body and "25.8" in body
    # Imputed and marked: coke-b's renewable share (30); coke-d's footprint ratio, renewable
    # share and primary data share (100, 30, 40).
    assert body.count('class="imputed"') == 1 + 3
    assert re.findall(r'class="imputed"[^>]*>([^<]+)<', body) == [
        "30.0*",
        "100.0*",
        "30.0*",
        "40.0*",
    ]
    data = re.search(r'id="supplier-index-data">(.*?)</script>', text, re.S)
    assert data
    chart = json.loads(data.group(1))
    assert chart["suppliers"] == [
        "Charlie Carbon",
        "Delta Fuels",
        "Beta Coke Works",
        "Alpha Coking",
    ]
    assert chart["score"] == [25.8, 26.7, 40.0, 73.3]
    assert chart["green"] == [5.0, 40.0, 40.0, 60.0]
    script = re.search(r'<script src="(/static/supplier_index\.[0-9a-f]{12}\.js)" defer>', text)
    assert script, "the page loads its chart script under its content-hashed name"
    assert supplier_spec().content_hash() in body
    assert "https://stranger.example" in body
    assert client.get(script.group(1)).status_code == 200
    zh = html.unescape(client.get(PAGE, params={"as_of": DAY, "lang": "zh"}).text)
    assert "供应商绿色与数字化指数" in zh and "足迹对比同类" in zh and "优势" in zh
    assert "2026年3月1日" in zh  # the date in the locale's format


def test_empty_state_tells_what_to_do(service: Service, engine: sa.Engine) -> None:
    from carbonlink.exchange.fulfilment import EventWorker
    from carbonlink.exchange.portal import create_supplier_request, register_supplier
    from carbonlink.exchange.repository import ExchangeRepository

    client, _ = service.login(service.users["admin"])
    page = html.unescape(client.get(PAGE, params={"lang": "en"}).text)
    assert "No supplier has answered yet" in page
    assert "send them footprint requests" in page
    assert 'id="chart-supplier-index"' not in page
    body = client.get(API).json()
    assert body["suppliers"] == [] and body["empty_reason"]
    # A supplier asked today (in the portal) is listed as waiting, still with no ranking.
    repository = ExchangeRepository(engine, organization_id=DEMO_ORG_ID)
    register_supplier(repository, "coke-x", name="X Coke", organization="X Coke")
    worker = EventWorker(repository, source="https://lead.example.cn")
    create_supplier_request(repository, worker, "coke-x", {"productId": ["urn:pact:x:coke"]})
    body = client.get(API).json()
    assert (body["suppliers"], body["not_ranked"]) == ([], ["X Coke"])
    page = html.unescape(client.get(PAGE, params={"lang": "zh"}).text)
    assert "尚无供应商答复" in page and "X Coke" in page


def test_every_spec_name_is_translated() -> None:
    catalog = read_catalogue("zh")
    assert catalog is not None
    translated = {m.id for m in catalog if m.id and m.string}
    spec = supplier_spec()
    names = {spec.name} | {n.name for n in spec.framework} | {i.name for i in spec.indicators}
    assert names - translated == set()


def test_another_organization_sees_none_of_the_suppliers(
    service: Service, engine: sa.Engine
) -> None:
    """The exchange belongs to the demo organization; Other Works' admin sees the empty state."""
    seed_four_coke_suppliers(engine, DEMO_ORG_ID)
    client, _ = service.login(service.users["other"])
    body = client.get(API, params={"as_of": AS_OF.isoformat()}).json()
    assert (body["suppliers"], body["not_ranked"], body["notes"]) == ([], [], [])
    page = client.get(PAGE, params={"as_of": DAY, "lang": "en"}).text
    assert "No supplier has answered yet" in page
    assert "Alpha" not in page and "stranger" not in page


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_page_in_chromium_draws_the_chart(
    service: Service, engine: sa.Engine, base_url: str, tmp_path: Path
) -> None:
    """Under the service's content security policy the chart script runs and draws a canvas."""
    seed_four_coke_suppliers(engine, DEMO_ORG_ID)
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors, locale=None)
        log_in(page, base_url, service.users["viewer"])
        page.goto(f"{base_url}{PAGE}?as_of={DAY}&lang=en")
        page.wait_for_selector("#chart-supplier-index canvas")
        assert page.locator("h1").inner_text() == "Supplier green-and-digital index"
        ranks = page.locator(".sgdi tbody td.supplier-cell").all_inner_texts()
        assert [r.splitlines()[0] for r in ranks] == [
            "Alpha Coking",
            "Beta Coke Works",
            "Delta Fuels",
            "Charlie Carbon",
        ]
        table = page.locator(".sgdi table").bounding_box()
        card = page.locator("section.sgdi").bounding_box()
        assert table and card and table["width"] <= card["width"]
        page.screenshot(path=tmp_path / "supplier-index.png", full_page=True)
    assert errors == []
