"""The batch passport in headless Chromium: scanned from its GS1 Digital Link, read in
Chinese and English, at desk (1440 px) and phone (390 px) width, by the public and by a
signed-in user of the producer, who also sees the restricted part.

Screenshots: ``passport-{public,owner}-{zh,en}-{1440,390}.png`` in ``OUT``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, free_port, log_in, new_page, require_chromium, served
from passport_fixture import COILS, GTIN, PREFIX, seed_passports
from plant_fixture import DEMO_ORG_ID
from supply_fixture import HRC

from conftest import build_service

pytestmark = pytest.mark.browser


@pytest.fixture
def live(engine: sa.Engine, tmp_path: Path) -> Any:
    require_chromium()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = build_service(engine, tmp_path, public_url=url)
    seed_passports(engine, DEMO_ORG_ID, tmp_path, resolver=url)
    with served(service.app, port):
        yield url, service


def _fits(page: Any) -> bool:
    width: int = page.evaluate("document.documentElement.scrollWidth")
    return width <= page.viewport_size["width"]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_public_scans_a_coil_and_its_producer_sees_more(live: Any) -> None:
    url, service = live
    errors: list[str] = []
    with chromium() as browser:
        # Scanning the coil's code opens its passport, in Chinese for a Chinese browser.
        page = new_page(browser, errors)
        page.goto(f"{url}/01/{GTIN}/10/{COILS[0]}/21/0001")
        assert page.url == f"{url}/passports/{PREFIX}/{COILS[0]}"
        assert "批次护照" in page.locator("h1").inner_text()
        assert page.locator("#product-name").inner_text() == "Hot-rolled coil Q235B"
        assert page.locator("#pcf-excluding").inner_text() == f"{HRC:.4f}"  # 1.6123
        assert page.locator("#passport-restricted").count() == 0
        assert page.locator("#sign-in-note").is_visible()
        assert page.locator("#supplier-count").inner_text() == "2"
        page.screenshot(path=OUT / "passport-public-zh-1440.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        assert _fits(page)
        page.screenshot(path=OUT / "passport-public-zh-390.png", full_page=True)
        with page.expect_navigation():
            page.click("a[data-lang=en]")
        assert "Batch passport" in page.locator("h1").inner_text()
        assert page.locator("text=Carbon footprint of the product").count() == 1
        assert _fits(page)
        page.screenshot(path=OUT / "passport-public-en-390.png", full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})
        page.screenshot(path=OUT / "passport-public-en-1440.png", full_page=True)
        # The JSON and the receipt the page links to are there.
        json_href = page.locator("#passport-json").get_attribute("href")
        answer = page.request.get(f"{url}{json_href}")
        assert answer.ok and "restricted" not in answer.json()

        # A viewer of the producing organization sees quantities and supplier footprints.
        owner = new_page(browser, errors)
        log_in(owner, url, service.users["viewer"])
        owner.goto(f"{url}/passports/{PREFIX}/{COILS[0]}")
        restricted = owner.locator("#passport-restricted")
        assert restricted.is_visible()
        assert "仅本企业可见" in restricted.inner_text()
        assert owner.locator("#batch-quantity").inner_text().startswith("22.5")
        assert owner.locator("#supplier-footprints tbody tr").count() == 2
        owner.screenshot(path=OUT / "passport-owner-zh-1440.png", full_page=True)
        with owner.expect_navigation():
            owner.click("a[data-lang=en]")
        assert owner.locator("#passport-restricted h2").inner_text() == "For your organization"
        assert "Demo Coking Co." in restricted.inner_text()
        owner.screenshot(path=OUT / "passport-owner-en-1440.png", full_page=True)
        owner.set_viewport_size({"width": 390, "height": 844})
        assert _fits(owner)
        owner.screenshot(path=OUT / "passport-owner-en-390.png", full_page=True)

        # Another organization's user reads the public passport only.
        other = new_page(browser, errors)
        log_in(other, url, service.users["other"])
        other.goto(f"{url}/passports/{PREFIX}/{COILS[0]}")
        assert other.locator("#pcf-excluding").is_visible()
        assert other.locator("#passport-restricted").count() == 0
    assert errors == []
