"""The energy analytics page in headless Chromium: a range by day, two meters compared, the heat
map, a download, both languages and a phone screen.

Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, log_in, new_page

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser
GAS, POWER = "fac-steelmaking-m-gas", "fac-steelmaking-m-power"


def _series_count(page, selector: str) -> int:  # type: ignore[no-untyped-def]
    return int(
        page.evaluate(
            "(sel) => echarts.getInstanceByDom(document.querySelector(sel))"
            ".getOption().series.length",
            selector,
        )
    )


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_analyse_a_range_compare_and_download(service: Service, base_url: str) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["viewer"])
        page.goto(f"{base_url}/meters/{GAS}")
        page.click("#analyse-link")
        page.wait_for_selector("#chart-series canvas")
        assert page.locator("h1").inner_text() == "能耗分析"
        # choose a week by day, and a second meter to compare
        page.fill("#an-start", "2026-10-05")
        page.fill("#an-end", "2026-10-11")
        page.select_option("#an-step", "day")
        page.check(f"input[name=meter][value={POWER}]")
        page.click("#analytics-form button[type=submit]")
        page.wait_for_selector("#chart-heat canvas")
        assert "step=day" in page.url and f"meter={POWER}" in page.url
        assert _series_count(page, "#chart-series") == 2
        page.click("#series-table summary")
        rows = page.locator("#series-table tbody tr")
        assert rows.count() == 7
        first = rows.first.inner_text()
        assert first.startswith("2026-10-05")
        page.screenshot(path=OUT / "30-analytics-zh.png", full_page=True)

        with page.expect_download() as download:
            page.click("#export-csv")
        lines = list(csv.reader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
        assert len(lines) == 8 and lines[0][0] == "start (Asia/Shanghai)"
        assert lines[1][0] == "2026-10-05T00:00:00"

        page.click("a[data-lang=en]")
        page.wait_for_selector("text=Load heat map")
        page.wait_for_selector("#chart-heat canvas")
        assert page.locator("h1").inner_text() == "Energy analytics"
        page.screenshot(path=OUT / "31-analytics-en.png", full_page=True)

        phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
        phone.on("pageerror", lambda e: errors.append(str(e)))
        phone.context.add_cookies(page.context.cookies())
        phone.goto(page.url.replace("lang=en", "lang=zh"))
        phone.wait_for_selector("#chart-series canvas")
        phone.screenshot(path=OUT / "32-analytics-phone-zh.png", full_page=True)
    assert errors == []
