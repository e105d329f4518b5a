"""The dashboard on a phone, for assistive technology and on a slow link, in headless Chromium.

- At 390 px (an iPhone 12–15) no page is wider than the screen, the navigation folds behind a
  menu button and the acknowledge button of an alert is on screen.
- axe-core (``tests/api/vendor/axe.min.js``, copied from the pinned npm package by make) finds
  no serious or critical violation of WCAG 2.2 A/AA on any page, in Chinese and English.
- A page without a chart loads under 300 KB of JavaScript; static files come compressed,
  under content-hashed URLs cached for a year.

Screenshots go to ``test-output/browser/layout-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import OUT, chromium, log_in, new_page

from conftest import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from conftest import Service

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
PHONE = {"width": 390, "height": 844}
METER = "/meters/fac-steelmaking-m-gas"
PHONE_PAGES = ["/", "/alerts", METER, "/supply-chain/portal"]
DASHBOARD_PAGES = [
    "/",
    "/facilities/fac-steelmaking",
    "/sources/fac-steelmaking-gas",
    METER,
    "/alerts",
    "/quality",
    "/factors?q=natural",
    "/targets",
    "/ets",
    "/plans",
    "/account",
    "/admin/users",
    "/supply-chain",
    "/supply-chain/suppliers",
    "/supply-chain/suppliers/index",
    "/supply-chain/portal",
]
CHARTLESS_PAGES = ["/alerts", "/quality", "/factors", "/plans", "/account", "/ets"]
JS_BUDGET = 300_000


def phone_page(browser: Browser, errors: list[str]) -> Page:
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def overflow(page: Page) -> dict[str, Any]:
    """How wide the document is against the viewport, and the widest element that spills."""
    return dict(
        page.evaluate(
            """() => {
              const doc = document.scrollingElement, width = window.innerWidth;
              let worst = null;
              for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && !el.closest('.table-scroll') &&
                    (!worst || r.right > worst.right)) {
                  worst = {right: r.right, tag: el.tagName, cls: el.className, id: el.id};
                }
              }
              return {scrollWidth: doc.scrollWidth, innerWidth: width, worst: worst};
            }"""
        )
    )


SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database


@SQLITE
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_phone_pages_fit_the_screen(service: Service, base_url: str, lang: str) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = phone_page(browser, errors)
        page.goto(f"{base_url}/login?lang={lang}")
        assert overflow(page)["scrollWidth"] <= PHONE["width"], overflow(page)
        log_in(page, base_url, service.users["admin"])
        for path in PHONE_PAGES:
            page.goto(f"{base_url}{path}")
            page.wait_for_load_state("load")
            found = overflow(page)
            assert found["scrollWidth"] <= found["innerWidth"], (path, found)
            name = path.strip("/").replace("/", "-") or "overview"
            page.screenshot(path=OUT / f"layout-390-{lang}-{name}.png", full_page=True)
        # the navigation folds behind the menu button, which opens it
        page.goto(f"{base_url}/alerts")
        link = page.locator("#topnav a[href='/quality']")
        assert not link.is_visible()
        page.click("#nav-toggle")
        assert link.is_visible()
        assert page.get_attribute("#nav-toggle", "aria-expanded") == "true"
        page.screenshot(path=OUT / f"layout-390-{lang}-menu.png")
        page.click("#nav-toggle")
        # the acknowledge button of the open alert is on screen, large enough to tap
        button = page.locator("#alerts-open button[type=submit]").first
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        assert box["height"] >= 24, box

        # the supplier's portal
        page.context.clear_cookies()
        page.goto(f"{base_url}/login?lang={lang}")
        page.fill("input[name=email]", service.users["supplier"])
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/portal")
        found = overflow(page)
        assert found["scrollWidth"] <= found["innerWidth"], ("/portal", found)
        page.screenshot(path=OUT / f"layout-390-{lang}-portal.png", full_page=True)
    assert errors == []


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of WCAG 2.2 A/AA on the page as it is."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """async () => {
          const result = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}});
          return result.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.length,
                        first: v.nodes[0].target.join(' '), html: v.nodes[0].html.slice(0, 160)}));
        }"""
    )
    return list(found)


@SQLITE
def test_axe_finds_no_serious_violation(service: Service, base_url: str) -> None:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run make (it copies axe-core from frontend/node_modules)")
    errors: list[str] = []
    found: dict[str, list[dict[str, Any]]] = {}
    with chromium() as browser:
        # axe is added as an inline script, which the pages' Content-Security-Policy refuses
        page = browser.new_page(viewport={"width": 1440, "height": 900}, bypass_csp=True)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base_url}/login")
        found["zh /login"] = axe_violations(page)
        log_in(page, base_url, service.users["admin"])
        for lang in ("zh", "en"):
            page.goto(f"{base_url}/?lang={lang}")
            for path in DASHBOARD_PAGES:
                page.goto(f"{base_url}{path}")
                page.wait_for_load_state("load")
                if page.locator(".chart").count():
                    page.wait_for_selector(".chart canvas")
                found[f"{lang} {path}"] = axe_violations(page)
            page.goto(f"{base_url}/api/docs")
            page.wait_for_selector(".swagger-ui .opblock")
            found[f"{lang} /api/docs"] = axe_violations(page)
        page.context.clear_cookies()
    failing = {
        where: [f"{v['id']} ×{v['nodes']} {v['first']} {v['html']}" for v in violations]
        for where, violations in found.items()
        if violations
    }
    assert failing == {}, "\n".join(f"{k}: {v}" for k, v in failing.items())
    assert errors == []


@SQLITE
def test_chartless_pages_load_little_javascript(service: Service, base_url: str) -> None:
    """First load with an empty cache: bytes of JavaScript on the wire (after compression)."""
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["admin"])
        for path in ["/login", *CHARTLESS_PAGES]:
            context = browser.new_context(storage_state=page.context.storage_state())
            fresh = context.new_page()
            sizes: list[tuple[str, int]] = []

            def record(response: Any, sizes: list[tuple[str, int]] = sizes) -> None:
                if response.request.resource_type == "script":
                    sent = response.request.sizes()["responseBodySize"]
                    sizes.append((response.url, sent))

            fresh.on("requestfinished", lambda request, record=record: record(request.response()))
            fresh.goto(f"{base_url}{path}")
            fresh.wait_for_load_state("networkidle")
            total = sum(size for _url, size in sizes)
            assert total < JS_BUDGET, (path, sizes)
            assert not any("echarts" in url for url, _ in sizes), (path, sizes)
            context.close()
        # a chart page loads ECharts, compressed
        context = browser.new_context(storage_state=page.context.storage_state())
        fresh = context.new_page()
        with fresh.expect_response(lambda r: "echarts" in r.url) as waited:
            fresh.goto(f"{base_url}/")
        response = waited.value
        assert response.headers.get("content-encoding") in ("br", "gzip")
        assert "immutable" in response.headers["cache-control"]
        assert response.request.sizes()["responseBodySize"] < 400_000
        context.close()
    assert errors == []
