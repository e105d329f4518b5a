"""The request–answer–review loop with a portal supplier, in Chromium, and the reminders.

The lead asks with a period, a due date and a message; the supplier previews its footprint
(nothing is sent), sends it; the lead returns it with a reason on the supplier's page; the
supplier reads the reason and revises; the lead accepts; a revision after that is refused with
a clear message. The PCFs are the hand-checked ones of `test_portal_pages`: 14 500 t CO2e on
2 400 t of product plus 2.1 kg ore at 0.05 → 6.146667; the revision has 12 000 t → 5.105.
"""

from __future__ import annotations

import json
import time
from datetime import date, timedelta
from email import message_from_bytes
from email.message import Message
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page
from test_portal_pages import PASSWORD, accept, client_ids, register

from carbonlink.domain.footprint import DeclaredUnit, Product
from carbonlink.exchange.reminders import remind_due_requests
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.store import ProductStore
from carbonlink.store.supplier_requests import terms_of

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Service

DEMO = "org-demo-steel"
ALLOY_URN = "urn:pact:alloy.test:product-id:FECR-HC"
FIRST = 14_500_000 / 2_400_000 + 2.1 * 0.05
REVISED = 12_000_000 / 2_400_000 + 2.1 * 0.05
FIELDS = (
    ("product_name", "High-carbon ferrochrome"),
    ("site_fossil_t", "14500"),
    ("output_0_mass_t", "2400"),
    ("material_0_name", "chromite ore"),
    ("material_0_quantity", "2.1"),
    ("material_0_unit", "kg"),
    ("material_0_factor", "0.05"),
    ("material_0_source", "ore purchase statement 2025"),
    ("material_0_version", "2025"),
)


def _answers(engine: sa.Engine, supplier: str, event_id: str) -> list[float]:
    """PCFs of the answers received for a request, oldest first, from the store."""
    rows = ExchangeRepository(engine, organization_id=DEMO).events(
        partner=supplier, direction="received", request_event_id=event_id
    )
    return [
        float(json.loads(r["document"])["data"]["pfs"][0]["pcf"]["pcfExcludingBiogenicUptake"])
        for r in rows
    ]


def _latest_pf_id(engine: sa.Engine, supplier: str, event_id: str) -> str:
    rows = ExchangeRepository(engine, organization_id=DEMO).events(
        partner=supplier, direction="received", request_event_id=event_id
    )
    return str(json.loads(rows[-1]["document"])["data"]["pfs"][0]["id"])


@pytest.fixture
def supplier(service: Service, engine: sa.Engine) -> str:
    """A portal supplier of the demo organization with its account set up; its client id."""
    lead, csrf = service.login(service.users["admin"])
    link = register(service, lead, csrf, "Demo Ferroalloy Co.", "a@alloy.test", "alloy.test")
    accept(service, link, "Alloy sales")
    return client_ids(engine)["Alloy sales"]


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_ask_preview_send_return_revise_accept(
    service: Service, engine: sa.Engine, supplier: str, base_url: str
) -> None:
    due = date.today() + timedelta(days=10)
    ProductStore(engine, DEMO).save_products(
        [Product("slab", "Stainless slab", DeclaredUnit.KILOGRAM, 1.0)]
    )
    errors: list[str] = []
    with chromium() as browser:
        lead = new_page(browser, errors)
        log_in(lead, base_url, service.users["editor"])
        lead.goto(f"{base_url}/supply-chain/portal")
        lead.fill("#ask textarea[name=product_ids]", ALLOY_URN)
        lead.fill("#ask input[name=period_start]", "2025-01-01")
        lead.fill("#ask input[name=period_end]", "2026-01-01")
        lead.fill("#ask input[name=due_date]", due.isoformat())
        lead.fill("#ask textarea[name=message]", "请按 2025 自然年填报，含铬矿运输。")
        lead.click("#ask button[type=submit]")
        lead.wait_for_selector("#requests tbody tr")
        [terms] = terms_of(engine, DEMO).values()
        assert (terms.period_start, terms.period_end, terms.due_date) == (
            date(2025, 1, 1),
            date(2026, 1, 1),
            due,
        )
        event_id = terms.request_event_id

        seller = new_page(browser, errors)
        seller.goto(f"{base_url}/login")
        seller.fill("input[name=email]", "a@alloy.test")
        seller.fill("input[name=password]", PASSWORD)
        seller.click("button[type=submit]")
        seller.wait_for_url(f"{base_url}/portal")
        assert due.isoformat() in seller.locator("#open").inner_text()
        assert "含铬矿运输" in seller.locator("#open").inner_text()
        seller.screenshot(path=OUT / "suppliers-supplier-home-zh.png", full_page=True)
        seller.click("#open >> text=答复")
        seller.wait_for_selector("#answer")
        assert seller.locator("#terms [data-due]").inner_text() == due.isoformat()
        for name, value in FIELDS:
            seller.fill(f"#answer [name={name}]", value)
        seller.click("#preview-button")
        seller.wait_for_selector("#preview")
        shown = float(seller.locator("#preview [data-pcf]").inner_text().replace(",", ""))
        assert shown == pytest.approx(FIRST, abs=5e-5)
        assert _answers(engine, supplier, event_id) == []  # a preview sends nothing
        seller.screenshot(path=OUT / "suppliers-supplier-preview-zh.png", full_page=True)
        seller.click("#send-button")
        seller.wait_for_selector("#result")
        assert _answers(engine, supplier, event_id) == [pytest.approx(FIRST, rel=1e-6)]

        # the lead returns it from the supplier's page
        lead.goto(f"{base_url}/supply-chain/portal")
        lead.click("#suppliers >> text=Demo Ferroalloy Co.")
        lead.wait_for_url(f"{base_url}/supply-chain/portal/suppliers/{supplier}")
        article = lead.locator(f"#r-{event_id}")
        assert "待审核" in article.locator("[data-state]").inner_text()
        lead.screenshot(path=OUT / "suppliers-lead-supplier-page-zh.png", full_page=True)
        article.locator("textarea[name=reason]").fill("场地排放应按 2025 年核查报告，12 000 t。")
        article.locator("button[value=return]").click()
        lead.wait_for_selector(f"#r-{event_id}")
        assert terms_of(engine, DEMO)[event_id].review == "returned"

        # the supplier reads the reason and revises
        seller.goto(f"{base_url}/portal/requests/{event_id}")
        assert "12 000 t" in seller.locator("#returned [data-reason]").inner_text()
        seller.fill("#answer [name=site_fossil_t]", "12000")
        seller.screenshot(path=OUT / "suppliers-supplier-returned-zh.png", full_page=True)
        seller.click("#send-button")
        seller.wait_for_selector("#result")
        shown = float(seller.locator("#result [data-pcf]").inner_text().replace(",", ""))
        assert shown == pytest.approx(REVISED, abs=5e-5)
        assert _answers(engine, supplier, event_id) == [
            pytest.approx(FIRST, rel=1e-6),
            pytest.approx(REVISED, rel=1e-6),
        ]
        assert terms_of(engine, DEMO)[event_id].review is None  # waits for review again
        # a second tab keeps the revision form open while the lead accepts
        stale = new_page(browser, errors)
        stale.context.add_cookies(seller.context.cookies())
        stale.goto(f"{base_url}/portal/requests/{event_id}")

        lead.goto(f"{base_url}/supply-chain/portal/suppliers/{supplier}?lang=en")
        assert f"{REVISED:.4f}" in lead.locator(f"#r-{event_id} [data-pcf]").inner_text()
        lead.locator(f"#r-{event_id} button[value=accept]").click()
        lead.wait_for_selector(f"#r-{event_id} [data-state]")
        assert "accepted" in lead.locator(f"#r-{event_id} [data-state]").inner_text()
        lead.screenshot(path=OUT / "suppliers-lead-supplier-accepted-en.png", full_page=True)
        assert terms_of(engine, DEMO)[event_id].review == "accepted"
        # the accepted footprint goes into a product's bill of materials
        place = lead.locator(f"#r-{event_id} [data-place]")
        place.locator("select[name=product]").select_option("slab")
        place.locator("input[name=quantity]").fill("0.02")
        place.locator("button[type=submit]").click()
        lead.wait_for_url(f"{base_url}/supply-chain/products/slab")
        [line] = ProductStore(engine, DEMO).bom("slab")
        assert (line.kind, line.quantity, line.supplier_client_id) == ("purchased", 0.02, supplier)
        assert line.supplier_pf_id == _latest_pf_id(engine, supplier, event_id)

        stale.fill("#answer [name=site_fossil_t]", "11000")
        stale.click("#send-button")
        stale.wait_for_selector("#error")
        assert "客户已接受该碳足迹，不能再修改" in stale.locator("#error").inner_text()
        assert len(_answers(engine, supplier, event_id)) == 2
        # the refusal's 422 is the one console error expected
        [refusal] = [e for e in errors if "422" in e]
        errors.remove(refusal)
        seller.goto(f"{base_url}/portal/requests/{event_id}?lang=en")
        assert "accepted this footprint" in seller.locator("#accepted").inner_text()
        assert seller.locator("#answer").count() == 0
        seller.screenshot(path=OUT / "suppliers-supplier-accepted-en.png", full_page=True)
        # every page of the loop in both languages, at desk and phone widths
        for page, name, path in (
            (seller, "supplier-home", "/portal"),
            (seller, "supplier-request", f"/portal/requests/{event_id}"),
            (lead, "lead-supplier", f"/supply-chain/portal/suppliers/{supplier}"),
            (lead, "lead-portal", "/supply-chain/portal"),
        ):
            for lang in ("zh", "en"):
                for width in (1440, 390):
                    page.set_viewport_size({"width": width, "height": 900})
                    page.goto(f"{base_url}{path}?lang={lang}")
                    shot = OUT / f"suppliers-{name}-{lang}-{width}.png"
                    page.screenshot(path=shot, full_page=True)
    assert errors == []


def _ask_api(service: Service, supplier: str, due: date) -> str:
    client, csrf = service.login(service.users["editor"])
    response = client.post(
        "/api/v1/supply-chain/portal/requests",
        json={
            "supplier": supplier,
            "product_ids": [ALLOY_URN],
            "period_start": "2025-01-01",
            "period_end": "2026-01-01",
            "due_date": due.isoformat(),
            "message": "2025",
        },
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["request_event_id"])


def test_requests_due_soon_are_reminded_once_by_email(
    service: Service, engine: sa.Engine, supplier: str, smtp: Any
) -> None:
    from carbonlink.commands.suppliers import smtp_send

    today = date.today()
    soon = _ask_api(service, supplier, today + timedelta(days=2))
    _ask_api(service, supplier, today + timedelta(days=20))
    settings = service.app.state.ctx.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp.port}
    )
    send = smtp_send(settings)
    first = remind_due_requests(
        engine, today=today, within_days=3, service_url="http://x.test", send=send
    )
    assert [(r.request_event_id, r.email, r.sent) for r in first] == [(soon, "a@alloy.test", True)]
    [message] = smtp.messages
    assert message["To"] == "a@alloy.test"
    body = message.get_payload(decode=True).decode()  # type: ignore[union-attr]
    assert f"http://x.test/portal/requests/{soon}" in body
    assert terms_of(engine, DEMO)[soon].reminded_at is not None
    # run again: nothing new is due, and the first request is not reminded twice
    again = remind_due_requests(
        engine, today=today, within_days=3, service_url="http://x.test", send=send
    )
    assert again == [] and len(smtp.messages) == 1


@pytest.fixture
def smtp() -> Any:
    """A local SMTP server (aiosmtpd) keeping what it receives in ``.messages``."""
    from aiosmtpd.controller import Controller
    from browser_support import free_port

    class Inbox:
        def __init__(self, port: int) -> None:
            self.port = port
            self.messages: list[Message] = []

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.messages.append(message_from_bytes(envelope.content))
            return "250 OK"

    inbox = Inbox(free_port())
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    yield inbox
    controller.stop()


def test_review_through_the_api_and_roles(
    service: Service, engine: sa.Engine, supplier: str
) -> None:
    event_id = _ask_api(service, supplier, date.today() + timedelta(days=5))
    viewer, csrf_v = service.login(service.users["viewer"])
    url = f"/api/v1/supply-chain/portal/requests/{event_id}/review"
    refused = viewer.post(url, json={"decision": "maybe"}, headers={"X-CSRF-Token": csrf_v})
    assert refused.status_code == 403  # the role first, before the body is read
    editor, csrf = service.login(service.users["editor"])
    early = editor.post(url, json={"decision": "accept"}, headers={"X-CSRF-Token": csrf})
    assert early.status_code == 422 and "not answered" in early.text
    assert terms_of(engine, DEMO)[event_id].review is None


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the command, not the database
def test_the_remind_command_records_each_reminder_once(
    service: Service, engine: sa.Engine, supplier: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from carbonlink.cli import app

    soon = _ask_api(service, supplier, date.today() + timedelta(days=1))
    env = {
        "CARBONLINK_WORKSPACE": str(tmp_path),
        "CARBONLINK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "CARBONLINK_SMTP_HOST": "",
    }
    first = CliRunner().invoke(app, ["suppliers", "remind", "--within", "3"], env=env)
    assert first.exit_code == 0, first.output
    assert "Demo Ferroalloy Co." in first.output and "1 reminder(s)" in first.output
    assert terms_of(engine, DEMO)[soon].reminded_at is not None
    again = CliRunner().invoke(app, ["suppliers", "remind", "--within", "3"], env=env)
    assert again.exit_code == 0 and "0 reminder(s)" in again.output


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the service task, not the database
def test_the_service_reminds_suppliers_by_itself(make_service: Any, engine: sa.Engine) -> None:
    """With a reminder interval set, the running service records the reminder of a request due
    soon by itself, without a cron job, and once: later rounds leave it as it was. (Without
    SMTP the reminder is recorded and shown on the pages; the e-mail path is the command's.)"""
    from fastapi.testclient import TestClient

    service = make_service(reminder_interval_s=0.2, reminder_days=3)
    lead, csrf = service.login(service.users["admin"])
    link = register(service, lead, csrf, "Demo Ferroalloy Co.", "a@alloy.test", "alloy.test")
    accept(service, link, "Alloy sales")
    partner = client_ids(engine)["Alloy sales"]
    soon = _ask_api(service, partner, date.today() + timedelta(days=2))
    later = _ask_api(service, partner, date.today() + timedelta(days=20))
    assert terms_of(engine, DEMO)[soon].reminded_at is None
    with TestClient(service.app):  # the lifespan: the service's background tasks run
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and terms_of(engine, DEMO)[soon].reminded_at is None:
            time.sleep(0.05)
        first = terms_of(engine, DEMO)[soon].reminded_at
        time.sleep(0.6)  # more rounds
    assert first is not None and terms_of(engine, DEMO)[soon].reminded_at == first
    assert terms_of(engine, DEMO)[later].reminded_at is None  # due in 20 days
