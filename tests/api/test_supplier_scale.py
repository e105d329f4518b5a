"""Suppliers at scale: inviting several portal suppliers from one CSV, in Chromium and the API.

A bad row is refused with its line and reason (in the page's language); the good rows are
registered and invited, as the store shows; the roles without ``write`` are refused before the
file is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, log_in, new_page

from carbonlink.api.security import invitations_of
from carbonlink.exchange.repository import ExchangeRepository

if TYPE_CHECKING:
    from pathlib import Path

    from conftest import Service

DEMO = "org-demo-steel"
ROSTER = """name,email,organization,company_id
Demo Coking Co.,sales@coke.example.cn,Demo Coking Group,urn:pact:coke.example.cn:company-id:1
Demo Scrap Dealer,scrap-at-example,Demo Scrap,
Demo Lime Works,lime@lime.example.cn,Demo Lime Works Ltd,
Demo Ore Co.,ore@ore.example.cn,,
"""


def _invited(service: Service) -> dict[str, str]:
    """E-mail → supplier name of the demo organization's invitations, from the store."""
    accounts = service.app.state.ctx.accounts
    partners = {
        p.client_id: p for p in ExchangeRepository(accounts.engine, organization_id=DEMO).partners()
    }
    return {inv.email: partners[inv.partner_id].name for inv in invitations_of(accounts, DEMO)}


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_invite_suppliers_from_a_csv_in_the_browser(
    service: Service, base_url: str, tmp_path: Path
) -> None:
    csv = tmp_path / "suppliers.csv"
    csv.write_text(ROSTER, encoding="utf-8")
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["editor"])
        page.goto(f"{base_url}/supply-chain/portal")
        page.set_input_files("#import input[name=roster]", str(csv))
        page.click("#import button[type=submit]")
        page.wait_for_selector("#roster")
        refused = page.locator("#roster-refused tbody tr")
        assert refused.count() == 2
        first, second = refused.nth(0), refused.nth(1)
        assert first.get_attribute("data-line") == "3" and "电子邮箱地址无效" in first.inner_text()
        assert second.get_attribute("data-line") == "5" and "所属组织为空" in second.inner_text()
        invited = page.locator("#roster-invited tbody tr")
        assert invited.count() == 2
        # no SMTP server here: each link is shown once, to be passed on
        assert "/portal/invite/" in invited.nth(0).locator("input").input_value()
        page.screenshot(path=OUT / "suppliers-csv-invite-zh.png", full_page=True)
        assert "Demo Lime Works" in page.locator("#suppliers").inner_text()
        # the same file again: both good rows are refused as invited already, nothing doubled
        page.goto(f"{base_url}/supply-chain/portal?lang=en")
        page.set_input_files("#import input[name=roster]", str(csv))
        page.click("#import button[type=submit]")
        page.wait_for_selector("#roster")
        text = page.locator("#roster-refused").inner_text()
        assert text.count("has been invited already") == 2
        assert page.locator("#roster-invited").count() == 0
        page.screenshot(path=OUT / "suppliers-csv-invite-again-en.png", full_page=True)
    assert errors == []
    assert _invited(service) == {
        "sales@coke.example.cn": "Demo Coking Co.",
        "lime@lime.example.cn": "Demo Lime Works",
    }


def test_invite_suppliers_from_a_csv_through_the_api(service: Service) -> None:
    client, csrf = service.login(service.users["admin"])
    response = client.post(
        "/api/v1/supply-chain/suppliers/invitations",
        json={"csv": ROSTER},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(r["line"], r["email"]) for r in body["invited"]] == [
        (2, "sales@coke.example.cn"),
        (4, "lime@lime.example.cn"),
    ]
    assert all(r["link"].startswith("http") for r in body["invited"])
    assert [(r["line"], r["reason"]) for r in body["refused"]] == [
        (3, "the e-mail address is not valid"),
        (5, "the organization is empty"),
    ]
    assert set(_invited(service)) == {"sales@coke.example.cn", "lime@lime.example.cn"}


@pytest.mark.parametrize("role", ["viewer", "auditor", "supplier"])
def test_roles_without_write_are_refused_before_the_file_is_read(
    service: Service, role: str
) -> None:
    client, csrf = service.login(service.users[role])
    api = client.post(
        "/api/v1/supply-chain/suppliers/invitations",
        json={"not": "a roster"},
        headers={"X-CSRF-Token": csrf},
    )
    page = client.post(
        "/supply-chain/portal/suppliers/import",
        data={"csrf_token": csrf},
        files={"roster": ("x.csv", b"\xff\xfe not utf-8")},
        follow_redirects=False,
    )
    assert (api.status_code, page.status_code) == (403, 403)
    assert _invited(service) == {}
