"""The dashboard on a phone, for assistive technology and on a slow link, in headless Chromium.

- At 390 px (an iPhone 12–15) no page is wider than the screen, the navigation folds behind a
  menu button and the acknowledge button of an alert is on screen.
- axe-core (``tests/api/vendor/axe.min.js``, copied from the pinned npm package by make) finds
  no serious or critical violation of WCAG 2.2 A/AA on any page, in Chinese and English.
- A page without a chart loads under 300 KB of JavaScript; static files come compressed,
  under content-hashed URLs cached for a year.
- A report file's receipt page: the server's badge and the check run in the browser (WebCrypto
  SHA-256 and Ed25519) pass on the recorded file and fail once its bytes change on disk.

Screenshots go to ``test-output/browser/layout-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page

from carbonlink.ledger import Ledger, ensure_ledger_key, load_ledger_signer, record_report
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
    "/files/inventory%20result/receipt",
]
CHARTLESS_PAGES = ["/alerts", "/quality", "/factors", "/plans", "/account", "/ets"]
JS_BUDGET = 300_000


def phone_page(browser: Browser, errors: list[str]) -> Page:
    # Not is_mobile: a mobile viewport widens itself to a page that spills, hiding the fault.
    page = browser.new_page(viewport=PHONE, device_scale_factor=2, has_touch=True)
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
            assert found["scrollWidth"] <= found["innerWidth"] == PHONE["width"], (path, found)
            name = path.strip("/").replace("/", "-") or "overview"
            page.screenshot(path=OUT / f"layout-390-{lang}-{name}.png", full_page=True)
        # the first Tab reaches the skip link, which moves the focus to the page's content
        page.goto(f"{base_url}/")
        page.wait_for_selector("#chart-months canvas")
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        # each chart is named and has its data as a table: here the months by scope
        charts = page.locator(".chart[role=img]")
        assert charts.count() == page.locator(".chart").count() == 4
        assert page.locator("details.chart-table").count() == 4
        months = page.locator("details.chart-table").first
        months.locator("summary").click()
        months.locator("tbody tr").first.wait_for()  # the table is built by the toggle event
        assert months.locator("tbody tr").count() == 2  # October and November 2026
        assert months.locator("thead th").count() == 4  # month, scope 1, 2 and 3
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
        button = page.locator("#alerts-open a.small-button").first  # opens the alert to acknowledge
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
        assert found["scrollWidth"] <= found["innerWidth"] == PHONE["width"], ("/portal", found)
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


def _browser_check(page: Page) -> str:
    page.click("#run-browser-check")
    page.wait_for_selector("#browser-result[data-outcome]")
    return str(page.get_attribute("#browser-result", "data-outcome"))


@SQLITE
def test_a_changed_file_loses_its_badge_and_fails_the_browser_check(
    service: Service, base_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    """The receipt page of a recorded file, before and after its bytes change on disk."""
    report = tmp_path / "demo-inventory.json"  # listed as "inventory result" by the fixture
    (tmp_path / "demo-inventory.json.tlog-proof").unlink()  # a stand-in, not a receipt
    ensure_ledger_key(tmp_path)
    ledger, signer = Ledger(engine), load_ledger_signer(tmp_path)
    # other reports before and after it, so that the inclusion proof has hashes to fold
    others = [tmp_path / f"other-{n}.csv" for n in range(4)]
    for n, other in enumerate(others):
        other.write_text(f"report {n}\n", "utf-8")
    for other in others[:2]:
        record_report(ledger, signer, other.stem, report_kind="csv", paths=[other])
    record_report(ledger, signer, "demo-inventory", report_kind="ghg-inventory", paths=[report])
    for other in others[2:]:
        record_report(ledger, signer, other.stem, report_kind="csv", paths=[other])
    receipt = f"{base_url}/files/inventory%20result/receipt"
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["viewer"])
        for lang, badge in (("zh", "✓ 已核查"), ("en", "✓ verified")):
            page.goto(f"{receipt}?lang={lang}")
            assert badge in page.locator("#file-status").inner_text()
            assert _browser_check(page) == "passed"
            assert page.locator("#browser-steps li.ok").count() == 3
            assert page.locator("#server-check").inner_text().count("#2") == 1  # entry 2 of 5
            page.screenshot(path=OUT / f"receipt-1440-{lang}-verified.png", full_page=True)

        report.write_bytes(report.read_bytes().replace("华东".encode(), "华西".encode()))
        for lang, badge in (("zh", "⚠ 记录后已被改动"), ("en", "⚠ changed since recorded")):
            page.goto(f"{receipt}?lang={lang}")
            assert badge in page.locator("#file-status").inner_text()
            assert "✓" not in page.locator("#file-status").inner_text()
            assert _browser_check(page) == "failed"
            # the file's hash fails; the entry's proof and the checkpoint's signature still hold
            assert page.locator("#browser-steps li").first.get_attribute("class") == "fail"
            assert page.locator("#browser-steps li.ok").count() == 2
            page.screenshot(path=OUT / f"receipt-1440-{lang}-changed.png", full_page=True)
            page.set_viewport_size(PHONE)
            found = overflow(page)
            assert found["scrollWidth"] <= found["innerWidth"] == PHONE["width"], found
            page.screenshot(path=OUT / f"receipt-390-{lang}-changed.png", full_page=True)
            page.set_viewport_size({"width": 1440, "height": 900})
    assert errors == []


@SQLITE
def test_api_docs_authorize_and_try_it_out(service: Service, base_url: str) -> None:
    """Swagger UI: "Try it out" as the logged-in admin (the page's CSRF token goes along), and
    with an API key entered in "Authorize" (no token needed)."""
    errors: list[str] = []
    key = service.app.state.ctx.accounts.create_api_key("org-demo-steel", "docs", "viewer")
    with chromium() as browser:
        page = new_page(browser, errors, locale="en-GB")
        log_in(page, base_url, service.users["admin"])
        page.goto(f"{base_url}/api/docs")
        page.wait_for_selector(".btn.authorize")
        # a POST with the session cookie alone: an API key made for the organization
        operation = page.locator("#operations-accounts-create_api_key_api_v1_api_keys_post")
        operation.locator(".opblock-summary-control").click()
        operation.locator(".try-out__btn").click()
        body = operation.locator("textarea.body-param__text")
        body.fill('{"name": "made from the API page", "role": "viewer"}')
        with page.expect_response(lambda r: r.url.endswith("/api/v1/api-keys")) as answer:
            operation.locator(".execute").click()
        assert answer.value.status == 201, answer.value.text()
        page.screenshot(path=OUT / "api-docs-try-it-out.png")
        # the same page with an API key from "Authorize": the key's role decides
        page.context.clear_cookies()
        page.goto(f"{base_url}/api/docs")
        page.click(".btn.authorize")
        dialog = page.locator(".auth-container", has_text="X-API-Key")
        dialog.locator("input").fill(key)
        dialog.locator("button.authorize").click()
        page.click("button.btn-done")
        me = page.locator("#operations-accounts-me_api_v1_me_get")
        me.locator(".opblock-summary-control").click()
        me.locator(".try-out__btn").click()
        with page.expect_response(lambda r: r.url.endswith("/api/v1/me")) as answer:
            me.locator(".execute").click()
        assert answer.value.status == 200
        assert answer.value.json()["role"] == "viewer"
    assert errors == []
