"""The supplier portal in headless Chromium, end to end, with the invitation sent over SMTP.

The lead's administrator invites a supplier (a local aiosmtpd server receives the mail), asks it
for a footprint; the supplier opens the link from the mail, sets its password, logs in, answers
with the guided form; the lead sees the request fulfilled with the footprint. Screenshots go to
``test-output/browser/portal-*.png`` at the project root.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import TYPE_CHECKING, Any

import pytest
from browser_support import OUT, chromium, free_port, log_in, new_page, require_chromium, served

if TYPE_CHECKING:
    from conftest import Service

PASSWORD = "a long supplier password"
ALLOY_URN = "urn:pact:ferroalloy.example.cn:product-id:FECR-HC"
PCF = 14_500_000 / 2_400_000 + 2.1 * 0.05  # see test_portal_pages

pytestmark = pytest.mark.browser


@pytest.fixture
def mail() -> Iterator[tuple[int, list[Message]]]:
    """A local SMTP server (aiosmtpd) and the messages it received."""
    from aiosmtpd.controller import Controller

    received: list[Message] = []

    class Inbox:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            received.append(message_from_bytes(envelope.content))
            return "250 OK"

    port = free_port()
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port, received
    controller.stop()


@pytest.fixture
def smtp_service(
    make_service: Any, mail: tuple[int, list[Message]]
) -> Iterator[tuple[Service, str]]:
    """The service with SMTP configured, on a loopback port, served by uvicorn in a thread."""
    require_chromium()
    port = free_port()
    service = make_service(
        smtp_host="127.0.0.1", smtp_port=mail[0], public_url=f"http://127.0.0.1:{port}"
    )
    with served(service.app, port) as base_url:
        yield service, base_url


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_invite_answer_and_see_the_footprint(
    smtp_service: tuple[Service, str], mail: tuple[int, list[Message]]
) -> None:
    service, base_url = smtp_service
    errors: list[str] = []
    with chromium() as browser:
        lead = new_page(browser, errors)
        log_in(lead, base_url, service.users["admin"])
        lead.click("header nav >> text=供应链")
        lead.wait_for_url(f"{base_url}/supply-chain")
        lead.click(".subnav >> text=供应商门户")
        lead.wait_for_url(f"{base_url}/supply-chain/portal")
        lead.screenshot(path=OUT / "portal-01-admin-empty-zh.png", full_page=True)
        lead.fill("#invite input[name=name]", "Demo Ferroalloy Co.")
        lead.fill("#invite input[name=email]", "sales@ferroalloy.example.cn")
        lead.fill(
            "#invite input[name=company_id]",
            "urn:pact:ferroalloy.example.cn:company-id:ferroalloy-co",
        )
        lead.click("#invite button[type=submit]")
        lead.wait_for_selector("#sent")
        lead.fill("#ask textarea[name=product_ids]", ALLOY_URN)
        lead.fill("#ask input[name=mass_t]", "1200")
        lead.fill("#ask input[name=spend]", "11040000")
        lead.click("#ask button[type=submit]")
        lead.wait_for_selector("#requests tbody tr")
        assert "等待答复" in lead.locator("#requests").inner_text()
        lead.screenshot(path=OUT / "portal-02-admin-invited-zh.png", full_page=True)

        deadline = time.monotonic() + 10
        while not mail[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        [message] = mail[1]
        assert message["To"] == "sales@ferroalloy.example.cn"
        body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
        [link] = set(re.findall(rf"{re.escape(base_url)}/portal/invite/\S+", body))

        supplier = new_page(browser, errors)
        supplier.goto(link)
        supplier.wait_for_selector("input[name=display_name]")
        supplier.screenshot(path=OUT / "portal-03-invitation-zh.png", full_page=True)
        supplier.fill("input[name=display_name]", "Li Wei (sales)")
        supplier.fill("input[name=password]", PASSWORD)
        supplier.fill("input[name=password_again]", PASSWORD)
        supplier.click("button[type=submit]")
        supplier.wait_for_url(f"{base_url}/portal")
        supplier.click("button:has-text('退出')")
        supplier.wait_for_url(f"{base_url}/login")
        supplier.fill("input[name=email]", "sales@ferroalloy.example.cn")
        supplier.fill("input[name=password]", PASSWORD)
        supplier.click("button[type=submit]")
        supplier.wait_for_url(f"{base_url}/portal")
        assert supplier.locator("nav a").all_inner_texts() == ["门户"]
        supplier.screenshot(path=OUT / "portal-04-supplier-home-zh.png", full_page=True)
        supplier.click("#open >> text=答复")
        supplier.wait_for_selector("#answer")
        supplier.fill("input[name=product_name]", "High-carbon ferrochrome")
        supplier.fill("input[name=hs_code]", "7202.41")
        supplier.fill("input[name=site_fossil_t]", "14500")
        supplier.fill("input[name=output_0_mass_t]", "2400")
        for field, value in (
            ("name", "chromite ore"),
            ("quantity", "2.1"),
            ("unit", "kg"),
            ("factor", "0.05"),
            ("source", "ore purchase statement 2025"),
            ("version", "2025"),
        ):
            supplier.fill(f"input[name=material_0_{field}]", value)
        supplier.screenshot(path=OUT / "portal-05-form-zh.png", full_page=True)
        supplier.click("#answer button[type=submit]")
        supplier.wait_for_selector("#result")
        shown = supplier.locator("#result [data-pcf]").inner_text()
        assert float(shown.replace(",", "")) == pytest.approx(PCF, abs=5e-5)
        supplier.screenshot(path=OUT / "portal-06-answered-zh.png", full_page=True)
        supplier.click("a[data-lang=en]")
        supplier.wait_for_selector("text=Your footprint has been sent")
        supplier.screenshot(path=OUT / "portal-07-answered-en.png", full_page=True)

        lead.goto(f"{base_url}/supply-chain/portal?lang=en")
        row = lead.locator("#requests tbody tr").first.inner_text()
        assert "fulfilled" in row
        assert f"{PCF:.4f}" in row
        assert "100.0%" in lead.locator("#coverage").inner_text()
        lead.screenshot(path=OUT / "portal-08-admin-fulfilled-en.png", full_page=True)
        lead.goto(f"{base_url}/supply-chain/portal?lang=zh")
        assert "已完成" in lead.locator("#requests").inner_text()
        lead.screenshot(path=OUT / "portal-09-admin-fulfilled-zh.png", full_page=True)
    assert errors == []
