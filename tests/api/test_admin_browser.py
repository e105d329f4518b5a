"""Pages in headless Chromium: the administration forms, and an alert raised by posted readings.

Screenshots go to ``test-output/browser/`` at the project root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, log_in, new_page

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_admin_creates_a_key_and_revokes_it(service: Service, base_url: str) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["admin"])
        page.click("#admin-link")
        page.wait_for_url(f"{base_url}/admin/users")
        assert page.locator("h1").inner_text() == "用户与访问"
        page.screenshot(path=OUT / "admin-users-zh.png", full_page=True)

        form = page.locator("#api-keys form.admin-form")
        form.locator("input[name=name]").fill("Gateway 7")
        form.locator("button[type=submit]").click()
        secret = page.locator("#secret-once code.secret").inner_text()
        assert secret.startswith("clk_")
        page.screenshot(path=OUT / "admin-users-secret.png", full_page=True)

        page.goto(f"{base_url}/admin/users?lang=en")
        row = page.locator("#api-keys tr", has_text="Gateway 7")
        row.locator("button", has_text="Revoke").click()
        page.wait_for_url(f"{base_url}/admin/users")
        assert "revoked" in page.locator("#api-keys tr", has_text="Gateway 7").inner_text()
        assert page.locator("#secret-once").count() == 0  # never shown again
        page.screenshot(path=OUT / "admin-users-en.png", full_page=True)
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_alert_from_posted_readings_reads_in_both_languages(
    service: Service,
    base_url: str,
) -> None:
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    gas = "fac-steelmaking-m-gas"
    rule = {"id": "gas-surge", "kind": "threshold", "meter_id": gas, "above": 20000}
    assert client.put("/api/v1/alert-rules", json=[rule]).status_code == 200
    rows = [
        {"meter_id": gas, "ts": f"2026-11-20T0{h}:00:00Z", "value": v, "unit": "Nm3"}
        for h, v in enumerate((9000, 25000.5))
    ]
    assert client.post("/api/v1/readings", json={"readings": rows}).json()["stored"] == 2
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["viewer"])
        page.goto(f"{base_url}/alerts?lang=zh")
        row = page.locator("#alerts-open tr", has_text="gas-surge")
        assert "读数 25,000.5 Nm3 高于限值 20,000 Nm3" in row.inner_text()
        page.screenshot(path=OUT / "alerts-api-zh.png", full_page=True)
        page.goto(f"{base_url}/alerts?lang=en")
        row = page.locator("#alerts-open tr", has_text="gas-surge")
        assert "value 25,000.5 Nm3 above the limit 20,000 Nm3" in row.inner_text()
        page.screenshot(path=OUT / "alerts-api-en.png", full_page=True)
    assert errors == []
