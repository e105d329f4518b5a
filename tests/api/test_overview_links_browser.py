"""The overview's key figures and charts lead to what they sum up, in headless Chromium: a
facility's bar opens the facility, a month's bar opens that month in the analytics by day, the
completeness figure opens the data-quality page, and the emission figures scroll to the table
that breaks them down. The meter page lists its raw readings a page at a time, back in time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, log_in, new_page

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from conftest import Service

pytestmark = pytest.mark.browser
DRAWN = "() => window.echarts && document.querySelector('#chart-months canvas')"


def _click_category(page: Page, chart: str, index: int, horizontal: bool = False) -> None:
    """Click the middle of category ``index`` of the chart's first series, where its bar is."""
    page.locator(chart).scroll_into_view_if_needed()
    x, y = page.evaluate(
        """([sel, i, horizontal]) => {
            const c = echarts.getInstanceByDom(document.querySelector(sel));
            const value = c.getOption().series[0].data[i];
            const at = horizontal ? [value / 2, i] : [i, value / 2];
            return c.convertToPixel({ seriesIndex: 0 }, at);
        }""",
        [chart, index, horizontal],
    )
    box = page.locator(chart).bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + x, box["y"] + y)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_figures_and_charts_lead_to_what_they_sum(service: Service, base_url: str) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors, locale="en-US")
        log_in(page, base_url, service.users["viewer"])
        page.goto(f"{base_url}/?lang=en")
        page.wait_for_function(DRAWN)
        kpis = page.locator("section.kpis a.kpi")
        assert kpis.count() == 5
        assert kpis.nth(4).get_attribute("href") == "/quality"
        kpis.nth(1).click()  # Scope 1: the facility table that breaks it down
        page.wait_for_function("() => location.hash === '#facility-breakdown'")
        assert page.locator("#facility-breakdown").is_visible()

        facilities = page.evaluate(
            "() => JSON.parse(document.getElementById('overview-data').textContent)"
        )
        last = len(facilities["facilities"]) - 1  # drawn from the bottom: the top bar is index last
        _click_category(page, "#chart-facilities", last, horizontal=True)
        page.wait_for_url(lambda url: "/facilities/" in url)
        assert page.url.endswith(facilities["links"]["facilities"][0])

        page.goto(f"{base_url}/?lang=en")
        page.wait_for_function(DRAWN)
        _click_category(page, "#chart-months", 0)
        page.wait_for_url(lambda url: "/analytics" in url)
        assert "step=day" in page.url and facilities["links"]["months"][0].split("?")[1] in page.url
        assert page.locator("h1").inner_text() == "Energy analytics"

        page.goto(f"{base_url}/?lang=en")
        page.locator("section.kpis a.kpi").nth(4).click()
        page.wait_for_url(f"{base_url}/quality")
        page.screenshot(path=OUT / "overview-link-quality-en.png")
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_page_back_through_a_meters_raw_readings(service: Service, base_url: str) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["viewer"])
        page.goto(f"{base_url}/meters/fac-steelmaking-m-gas")
        newest = page.locator("#readings-table tbody tr").first.inner_text()
        assert page.locator("#readings-table tbody tr").count() == 50
        page.click("#readings-older")
        page.wait_for_url(lambda url: "before=" in url)
        rows = page.locator("#readings-table tbody tr")
        assert rows.count() >= 1 and rows.first.inner_text() != newest
        page.screenshot(path=OUT / "meter-older-readings-zh.png", full_page=True)
        page.click("#readings-newest")
        page.wait_for_url(lambda url: "before=" not in url)
        assert page.locator("#readings-table tbody tr").first.inner_text() == newest
    assert errors == []
