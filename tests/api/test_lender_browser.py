"""The lender's page in headless Chromium, in Chinese and English: a KPI pack shared with the
lender is listed, pasted into the form and verified; a copy changed by one byte is refused.
Screenshots go to ``test-output/browser/lender-*.png`` at the project root."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, new_page
from test_credentials_api import issue_kpi_pack

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_a_lender_verifies_a_pack_in_chinese_and_english(service: Service, base_url: str) -> None:
    pack = issue_kpi_pack(service)
    text = json.dumps(pack, indent=2)
    errors: list[str] = []
    OUT.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = new_page(browser, errors)
        page.goto(f"{base_url}/login")
        page.fill("input[name=email]", service.users["lender"])
        page.fill("input[name=password]", "correct horse battery staple")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/lender")
        assert page.locator("h1").inner_text() == "可持续发展挂钩贷款的 KPI 数据包"
        assert page.locator("header nav a").all_inner_texts() == ["KPI 数据包"]
        row = page.locator("#packs tbody tr")
        assert row.count() == 1 and "SLL-TEST-7" in row.inner_text()
        assert "未达成" in row.inner_text() and "已达成" in row.inner_text()
        page.fill("#credential", text)
        with page.expect_navigation():
            page.click("#verify-button")
        assert page.url == f"{base_url}/lender/verify"
        result = page.locator("#result")
        assert "验证通过" in result.inner_text()
        assert "2.0000 t CO2e/t" in result.inner_text()
        page.screenshot(path=OUT / "lender-verified-zh.png", full_page=True)

        page.goto(f"{base_url}/lender")
        page.click("a[data-lang=en]")
        page.wait_for_function("document.documentElement.lang === 'en'")
        assert page.locator("h1").inner_text() == "KPI packs for sustainability-linked loans"
        page.fill("#credential", text.replace('"30.0000"', '"31.0000"', 1))
        with page.expect_navigation():
            page.click("#verify-button")
        result = page.locator("#result")
        assert "Not verified" in result.inner_text()
        assert "signature does not match" in result.inner_text()
        page.screenshot(path=OUT / "lender-refused-en.png", full_page=True)
    assert errors == []
