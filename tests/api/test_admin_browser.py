"""The administration page in headless Chromium: create a key through the form, both languages.

Screenshots go to ``test-output/browser/`` at the project root.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from test_browser import CHROMIUM, OUT, base_url  # noqa: F401  (base_url is a fixture)

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_admin_creates_a_key_and_revokes_it(service: Service, base_url: str) -> None:  # noqa: F811
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{base_url}/login")
        page.fill("input[name=email]", service.users["admin"])
        page.fill("input[name=password]", "correct horse battery staple")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/")
        page.click("a[href='/admin/users']")
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
        browser.close()
    assert errors == []
