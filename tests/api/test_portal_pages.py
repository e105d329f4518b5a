"""Supplier portal pages: invitation, a supplier's answer by form and by spreadsheet, coverage.

The ferroalloy numbers can be checked by hand: the site emitted 14 500 t CO2e (fossil) for
2 400 t of its only product, so 14 500 000 / 2 400 000 = 6.041667 kg CO2e/kg is allocated to
it; 2.1 kg of chromite ore per kg at 0.05 kg CO2e/kg adds 0.105: PCF = 6.146667 kg CO2e/kg.
"""

from __future__ import annotations

import io
import logging
import re
import socket
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from carbonlink.api.routes.portal import RedactInvitationTokens
from carbonlink.api.security import invite_supplier
from carbonlink.store.accounts_schema import users

if TYPE_CHECKING:
    from conftest import Service

PASSWORD = "a long supplier password"
ALLOY_URN = "urn:pact:ferroalloy.example.cn:product-id:FECR-HC"
FORM = {
    "product_name": "High-carbon ferrochrome",
    "product_ids": ALLOY_URN,
    "hs_code": "7202.41",
    "declared_unit": "kilogram",
    "mass_per_unit": "1",
    "period_start": "2025-01-01",
    "period_end": "2026-01-01",
    "geography": "CN",
    "site_fossil_t": "14500",
    "rule": "mass",
    "output_0_mass_t": "2400",
    "material_0_name": "chromite ore",
    "material_0_quantity": "2.1",
    "material_0_unit": "kg",
    "material_0_factor": "0.05",
    "material_0_source": "ore purchase statement 2025",
    "material_0_version": "2025",
}
PCF = 14_500_000 / 2_400_000 + 2.1 * 0.05


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "no CSRF token on the page"
    return match.group(1)


def register(
    service: Service, lead: TestClient, csrf: str, name: str, email: str, domain: str
) -> str:
    """Register and invite a supplier as the lead; return the invitation link shown."""
    response = lead.post(
        "/supply-chain/portal/suppliers",
        data={
            "csrf_token": csrf,
            "name": name,
            "email": email,
            "company_id": f"urn:pact:{domain}:company-id:{name.split()[1].lower()}",
        },
    )
    assert response.status_code == 200, response.text
    match = re.search(r'value="(http://[^"]+/portal/invite/[^"]+)" data-invite-link', response.text)
    assert match, "the invitation link is not shown"
    return match.group(1)


def accept(service: Service, link: str, name: str) -> TestClient:
    """Open an invitation link, set the name and password; return the logged-in client."""
    client = service.client()
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200, page.text
    response = client.post(
        f"/{path}",
        data={
            "csrf_token": _csrf(page.text),
            "display_name": name,
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/portal"
    return client


def ask(lead: TestClient, csrf: str, supplier: str, product: str, mass_t: str, spend: str) -> None:
    response = lead.post(
        "/supply-chain/portal/requests",
        data={
            "csrf_token": csrf,
            "supplier": supplier,
            "product_ids": product,
            "mass_t": mass_t,
            "spend": spend,
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


def client_ids(engine: sa.Engine) -> dict[str, str]:
    """Supplier name → client id, from the bound users."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(users.c.display_name, users.c.partner_id).where(users.c.role == "supplier")
        )
        return {row.display_name: row.partner_id for row in rows if row.partner_id}


def open_requests(client: TestClient) -> list[str]:
    page = client.get("/portal")
    assert page.status_code == 200, page.text
    return re.findall(r'href="/portal/requests/([0-9a-f-]+)"', page.text)


def _routes(routes: list[Any]) -> list[tuple[str, str]]:
    """(method, path) of every endpoint, also those of included routers."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.extend((method, route.path) for method in sorted(route.methods - {"HEAD"}))
        elif hasattr(route, "original_router"):
            out.extend(_routes(route.original_router.routes))
    return out


@pytest.fixture
def portal(service: Service, engine: sa.Engine) -> dict[str, Any]:
    """Two invited suppliers (A: ferroalloy, B: coke), each asked for one product."""
    lead, csrf = service.login(service.users["admin"])
    link_a = register(service, lead, csrf, "Demo Ferroalloy Co.", "a@alloy.test", "alloy.test")
    link_b = register(service, lead, csrf, "Demo Coking Co.", "b@coke.test", "coke.test")
    supplier_a = accept(service, link_a, "Alloy sales")
    supplier_b = accept(service, link_b, "Coke sales")
    ids = client_ids(engine)
    ask(lead, csrf, ids["Alloy sales"], ALLOY_URN, "1.2", "11000")
    ask(lead, csrf, ids["Coke sales"], "urn:pact:coke.test:product-id:COKE", "367.3", "770000")
    return {
        "lead": lead,
        "csrf": csrf,
        "a": supplier_a,
        "b": supplier_b,
        "link_a": link_a,
        "request_a": open_requests(supplier_a)[0],
        "request_b": open_requests(supplier_b)[0],
    }


def test_supplier_answers_by_form_and_the_lead_sees_footprint_and_coverage(
    portal: dict[str, Any],
) -> None:
    a, event = portal["a"], portal["request_a"]
    form = a.get(f"/portal/requests/{event}")
    assert form.status_code == 200
    assert ALLOY_URN in form.text  # the requested product id is filled in
    response = a.post(
        f"/portal/requests/{event}",
        data={**FORM, "csrf_token": _csrf(form.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    result = a.get(f"/portal/requests/{event}?lang=en")
    pcf = re.search(r"data-pcf>([\d.,]+)<", result.text)
    assert pcf and float(pcf.group(1)) == pytest.approx(PCF, abs=5e-5)
    assert "fulfilled" in result.text
    assert open_requests(a) == [event]  # now listed among the answered ones
    assert f'href="/portal/requests/{event}">' in a.get("/portal").text

    lead = portal["lead"].get("/supply-chain/portal?lang=en").text
    row = re.search(rf'data-request="{event}">(.*?)</tr>', lead, re.S)
    assert row and "fulfilled" in row.group(1)
    shown = re.search(r"data-pcf>([\d.,]+)", row.group(1))
    assert shown and float(shown.group(1)) == pytest.approx(PCF, abs=5e-5)
    # Coverage: 1.2 t with primary data of 1.2 + 367.3 t purchased = 0.3256 %; spend
    # 11 000 of 781 000 CNY = 1.408 %; the ferroalloy product itself is covered 100 %.
    coverage = lead.split('id="coverage"', 1)[1]
    assert "0.3%" in coverage and "1.4%" in coverage and "100.0%" in coverage
    # A request takes answers until the lead accepts one; after that, none.
    accepted = portal["lead"].post(
        f"/supply-chain/portal/requests/{event}/review",
        data={"csrf_token": portal["csrf"], "decision": "accept"},
        follow_redirects=False,
    )
    assert accepted.status_code == 303, accepted.text
    again = a.post(
        f"/portal/requests/{event}?lang=en", data={**FORM, "csrf_token": _csrf(form.text)}
    )
    assert again.status_code == 422
    assert "accepted this footprint: it can no longer be revised" in again.text


def test_form_errors_name_the_field_and_keep_the_values(portal: dict[str, Any]) -> None:
    a, event = portal["a"], portal["request_a"]
    csrf = _csrf(a.get(f"/portal/requests/{event}").text)
    bad = {**FORM, "output_0_mass_t": "two thousand", "csrf_token": csrf}
    response = a.post(f"/portal/requests/{event}?lang=en", data=bad)
    assert response.status_code == 422
    assert "Outputs 1: Quantity in the period (t)" in response.text
    assert "&#39;two thousand&#39; is not a number" in response.text
    assert 'value="two thousand"' in response.text
    missing_source = {**FORM, "material_0_source": "", "csrf_token": csrf}
    response = a.post(f"/portal/requests/{event}?lang=en", data=missing_source)
    assert response.status_code == 422
    assert "Materials 1: Factor source" in response.text
    without_csrf = a.post(f"/portal/requests/{event}", data=FORM)
    assert without_csrf.status_code == 403
    assert "open" in a.get("/portal").text


def test_spreadsheet_template_upload_and_cell_errors(portal: dict[str, Any]) -> None:
    a, event = portal["a"], portal["request_a"]
    csrf = _csrf(a.get(f"/portal/requests/{event}").text)
    template = a.get(f"/portal/requests/{event}/template.xlsx")
    assert template.status_code == 200
    assert template.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(template.content))
    assert book.sheetnames == ["Product", "Energy", "Outputs", "Materials"]
    product = book["Product"]
    rows = {row[2].value: row[1] for row in product.iter_rows(min_row=2)}
    assert rows["product_ids"].value == ALLOY_URN
    rows["product_name"].value = "High-carbon ferrochrome"
    rows["hs_code"].value = "7202.41"
    # 10 000 MWh of electricity at 581 kg CO2e/MWh plus 8 690 t of process emissions:
    # 5 810 + 8 690 = 14 500 t, the same site total as the form test.
    rows["site_fossil_t"].value = 8690
    energy = book["Energy"]
    energy["A2"], energy["B2"], energy["C2"], energy["D2"] = "electricity", 10000, "MWh", 581
    outputs = book["Outputs"]
    outputs["B2"] = "2,4OO"  # letters O, not zeros
    materials = book["Materials"]
    for cell, value in zip(
        ("A2", "B2", "C2", "D2", "E2", "F2"),
        ("chromite ore", 2.1, "kg", 0.05, "ore purchase statement 2025", "2025"),
        strict=True,
    ):
        materials[cell] = value

    def upload(book_: Any) -> Any:
        buffer = io.BytesIO()
        book_.save(buffer)
        return a.post(
            f"/portal/requests/{event}/upload",
            data={"csrf_token": csrf},
            files={"workbook": ("answer.xlsx", buffer.getvalue(), "application/octet-stream")},
            follow_redirects=False,
        )

    response = upload(book)
    assert response.status_code == 422
    assert "sheet Outputs, row 2, cell B2" in response.text
    outputs["B2"] = 2400
    response = upload(book)
    assert response.status_code == 303, response.text
    result = a.get(f"/portal/requests/{event}?lang=en")
    pcf = re.search(r"data-pcf>([\d.,]+)<", result.text)
    assert pcf and float(pcf.group(1)) == pytest.approx(PCF, abs=5e-5)
    not_xlsx = a.post(
        f"/portal/requests/{portal['request_a']}/upload",
        data={"csrf_token": csrf},
        files={"workbook": ("answer.xlsx", b"not a workbook", "application/octet-stream")},
    )
    assert not_xlsx.status_code == 422


def test_a_supplier_gets_404_for_another_suppliers_request(portal: dict[str, Any]) -> None:
    a, b = portal["a"], portal["b"]
    csrf_a = _csrf(a.get(f"/portal/requests/{portal['request_a']}").text)
    theirs = portal["request_b"]
    assert theirs not in open_requests(a)
    assert portal["request_a"] not in open_requests(b)
    assert a.get(f"/portal/requests/{theirs}").status_code == 404
    assert a.get(f"/portal/requests/{theirs}/template.xlsx").status_code == 404
    answer = a.post(f"/portal/requests/{theirs}", data={**FORM, "csrf_token": csrf_a})
    assert answer.status_code == 404
    upload = a.post(
        f"/portal/requests/{theirs}/upload",
        data={"csrf_token": csrf_a},
        files={"workbook": ("x.xlsx", b"x", "application/octet-stream")},
    )
    assert upload.status_code == 404
    # B's request is still open, and A's page never names B.
    assert theirs in open_requests(b)
    assert "Coking" not in a.get("/portal").text


def test_a_supplier_is_refused_every_other_page_and_api_route(
    service: Service, portal: dict[str, Any]
) -> None:
    a = portal["a"]
    a.headers["X-CSRF-Token"] = _csrf(a.get(f"/portal/requests/{portal['request_a']}").text)
    allowed = {
        "/login",
        "/logout",
        "/account",
        "/account/password",  # its own password: change it, or set it with a reset link
        "/api/v1/me/password",
        "/api/v1/password-reset",
        "/password-reset",  # public, like /login: the reset token is the proof
        "/api/v1/me",
        "/api/v1/me/language",  # the language of its own web session
        "/api/docs",
        "/api/v1/oauth/token",  # public: client credentials for a token, no session involved
        "/portal",
        "/portal/requests/{event_id}",
        "/portal/requests/{event_id}/template.xlsx",
        "/portal/requests/{event_id}/upload",
        "/portal/invite/{token}",
        # public, like a log's: the witness protocol authenticates the log's signed checkpoint
        "/witness/add-checkpoint",
        "/witness/{origin_hash}/checkpoint",
        "/orgs/{organization_id}/did.json",  # public: an issuer's keys
        "/orgs/{organization_id}/credentials/status",  # public: its revocation bits
        # public: identifier resolvers and batch passports answer whoever scans a coil
        "/.well-known/gs1resolver",
        "/01/{gtin}/10/{batch}",
        "/01/{gtin}/10/{batch}/21/{serial}",
        "/api/handles/{prefix}/{suffix:path}",
        "/api/passports/{prefix}/{suffix}",
        "/api/passports/{prefix}/{suffix}/receipt",
        "/passports/{prefix}/{suffix}",
    }
    values = {"event_id": portal["request_b"], "token": "x", "client_id": "x", "label": "x"}
    checked = 0
    for method, path in _routes(service.app.routes):
        if path in allowed:
            continue
        url = re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), "1"), path)
        form = {"csrf_token": a.headers["X-CSRF-Token"]} if method == "POST" else None
        response = a.request(method, url, data=form, follow_redirects=False)
        assert response.status_code == 403, f"{method} {url}: {response.status_code}"
        checked += 1
    assert checked >= 30
    login = service.client()
    form = login.get("/login")
    token = login.cookies.get("carbonlink_login_csrf")
    done = login.post(
        "/login",
        data={"email": "a@alloy.test", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert form.status_code == 200 and done.headers["location"] == "/portal"
    # The lead's roles without write, and another organization, do not reach the portal admin.
    viewer, _ = service.login(service.users["viewer"])
    assert viewer.get("/supply-chain/portal").status_code == 403
    other, _ = service.login(service.users["other"])
    assert "Ferroalloy" not in other.get("/supply-chain/portal").text


def test_invitation_links_work_once_and_expire(
    service: Service, portal: dict[str, Any], engine: sa.Engine
) -> None:
    path = "/" + portal["link_a"].split("://", 1)[1].split("/", 1)[1]
    used = service.client().get(path)
    assert used.status_code == 404
    assert "has been used" in used.text
    ctx = service.app.state.ctx
    ids = client_ids(engine)
    token = invite_supplier(
        ctx.accounts,
        "org-demo-steel",
        ids["Alloy sales"],
        "late@alloy.test",
        lifetime=timedelta(seconds=-1),
    )
    expired = service.client().get(f"/portal/invite/{token}")
    assert expired.status_code == 404
    assert "expired" in expired.text
    assert service.client().get("/portal/invite/not-a-token").status_code == 404
    # Accepting twice in a row: the second is refused and no second user appears.
    fresh = invite_supplier(
        ctx.accounts, "org-demo-steel", ids["Alloy sales"], "c@alloy.test", lifetime=timedelta(1)
    )
    accept(service, f"http://x/portal/invite/{fresh}", "Second")
    client = service.client()
    page = client.get(f"/portal/invite/{fresh}")
    assert page.status_code == 404
    with engine.connect() as conn:
        count = conn.execute(
            sa.select(sa.func.count()).select_from(users).where(users.c.email == "c@alloy.test")
        ).scalar()
    assert count == 1


def test_invitation_tokens_are_redacted_from_the_access_log() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", "/portal/invite/s3cr3t-t0ken?lang=en", "1.1", 200),
        None,
    )
    assert RedactInvitationTokens().filter(record)
    assert "s3cr3t" not in record.getMessage()
    assert "/portal/invite/…?lang=en" in record.getMessage()


@pytest.fixture
def smtp() -> Any:
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message as MessageHandler

    class Inbox(MessageHandler):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[Message] = []

        def handle_message(self, message: Message) -> None:
            self.messages.append(message)

        def prepare_message(self, session: Any, envelope: Any) -> Message:
            return message_from_bytes(envelope.content)

    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_invitation_is_sent_by_smtp(make_service: Any, smtp: Any, tmp_path: Path) -> None:
    port, inbox = smtp
    service = make_service(
        smtp_host="127.0.0.1", smtp_port=port, public_url="https://carbon.example.cn"
    )
    lead, csrf = service.login(service.users["editor"])
    response = lead.post(
        "/supply-chain/portal/suppliers",
        data={
            "csrf_token": csrf,
            "name": "Demo Ferroalloy Co.",
            "email": "sales@alloy.test",
            "company_id": "urn:pact:alloy.test:company-id:alloy",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/supply-chain/portal?sent=1"
    [mail] = inbox.messages
    assert mail["To"] == "sales@alloy.test"
    body = mail.get_payload(decode=True).decode()
    [link] = set(re.findall(r"https://carbon\.example\.cn/portal/invite/\S+", body))
    page = lead.get("/supply-chain/portal")
    assert link.rsplit("/", 1)[1] not in page.text  # the token is not shown to the lead
    client = accept(service, link, "Alloy sales")
    assert "Footprint requests" in client.get("/portal?lang=en").text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_unreachable_smtp_server_is_reported(make_service: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    service = make_service(smtp_host="127.0.0.1", smtp_port=port)
    lead, csrf = service.login(service.users["admin"])
    response = lead.post(
        "/supply-chain/portal/suppliers?lang=en",
        data={
            "csrf_token": csrf,
            "name": "Demo Ferroalloy Co.",
            "email": "sales@alloy.test",
            "company_id": "urn:pact:alloy.test:company-id:alloy",
        },
    )
    assert response.status_code == 502
    assert "CARBONLINK_SMTP_" in response.text
    assert "/portal/invite/" not in response.text


def test_the_form_and_sheet_labels_are_translated() -> None:
    from carbonlink.api.i18n import formatter, load_catalogues
    from carbonlink.exchange.portal_sheet import DECLARED_UNITS, PRODUCT_FIELDS, TABLES

    zh = formatter(load_catalogues(), "zh")
    labels = [label for _, label in PRODUCT_FIELDS] + [u.value for u in DECLARED_UNITS]
    for title, _prefix, _rows, columns in TABLES:
        labels += [title] + [c.heading for c in columns]
    labels += [f"invitation {state}" for state in ("open", "accepted", "expired")]
    labels += ["allocation mass", "allocation economic", "energy fossil", "energy biogenic"]
    assert [label for label in labels if zh.gettext(label) == label] == []
