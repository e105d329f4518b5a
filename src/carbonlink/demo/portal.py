"""The demo's portal supplier answers through the service's web pages, as a person would.

In-process (``fastapi.testclient.TestClient`` over the app built by ``create_app``): the lead's
editor registers and invites the supplier, asks it for the footprint with the yearly purchase;
the supplier opens the invitation link, sets its password, logs in and submits the guided form.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi.testclient import TestClient

from carbonlink.api.app import create_app
from carbonlink.errors import ExchangeError
from carbonlink.exchange.pact import ProductFootprint, parse_product_footprint
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.settings import Settings

LOGIN_CSRF_COOKIE = "carbonlink_login_csrf"


@dataclass(frozen=True, slots=True)
class PortalSupplier:
    """Who the demo invites: the company, its contact and what is asked of it."""

    name: str
    company_id: str
    email: str
    product_ids: tuple[str, ...]
    purchased_t: float
    spend_cny: float | None = None


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    if match is None:
        raise ExchangeError(f"the portal page has no {name} field")
    return match.group(1)


def _checked(response: object, expected: int, what: str) -> None:
    status = getattr(response, "status_code", None)
    if status != expected:
        text = getattr(response, "text", "")[:300]
        raise ExchangeError(f"{what}: HTTP {status} instead of {expected}: {text}")


def _log_in(client: TestClient, email: str, password: str) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={
            "email": email,
            "password": password,
            "csrf_token": client.cookies.get(LOGIN_CSRF_COOKIE) or "",
        },
        follow_redirects=False,
    )
    _checked(response, 303, f"log-in of {email}")


def answer_through_portal(
    engine: sa.Engine,
    organization_id: str,
    supplier: PortalSupplier,
    form: Mapping[str, str],
    *,
    settings: Settings | None = None,
) -> tuple[str, str, ProductFootprint]:
    """Invite, ask and answer through the portal pages; return (client id, request, footprint).

    The lead's editor used for it is removed afterwards; the supplier's account stays, so it
    can log in to the served demo.
    """
    # Both accounts get random passwords nobody is told, so a light argon2 setting loses
    # nothing and keeps the demo fast.
    settings = settings or Settings(argon2_time_cost=1, argon2_memory_kib=8192)
    app = create_app(settings, engine=engine)
    run = secrets.token_hex(3)
    lead_email = f"portal-lead-{run}@demo.carbonlink.example"
    lead_password = secrets.token_urlsafe(18)
    accounts = app.state.ctx.accounts
    lead_id = accounts.create_user(organization_id, lead_email, lead_password, "editor")
    try:
        with TestClient(app, base_url=settings.service_url) as lead:
            _log_in(lead, lead_email, lead_password)
            page = lead.get("/supply-chain/portal")
            _checked(page, 200, "the portal page")
            invited = lead.post(
                "/supply-chain/portal/suppliers",
                data={
                    "csrf_token": _field(page.text, "csrf_token"),
                    "name": supplier.name,
                    "email": supplier.email,
                    "company_id": supplier.company_id,
                },
            )
            _checked(invited, 200, "the invitation")
            link = re.search(r'value="([^"]+/portal/invite/[^"]+)" data-invite-link', invited.text)
            if link is None:
                raise ExchangeError("the portal did not show the invitation link")
            client_id = re.search(
                r'<option value="([^"]+)">' + re.escape(supplier.name) + "<", invited.text
            )
            if client_id is None:
                raise ExchangeError("the invited supplier is not offered for a request")
            asked = lead.post(
                "/supply-chain/portal/requests",
                data={
                    "csrf_token": _field(page.text, "csrf_token"),
                    "supplier": client_id.group(1),
                    "product_ids": "\n".join(supplier.product_ids),
                    "mass_t": f"{supplier.purchased_t:.3f}",
                    "spend": "" if supplier.spend_cny is None else f"{supplier.spend_cny:.0f}",
                },
                follow_redirects=False,
            )
            _checked(asked, 303, "the footprint request")

        password = secrets.token_urlsafe(18)
        path = "/" + link.group(1).split("://", 1)[1].split("/", 1)[1]
        with TestClient(app, base_url=settings.service_url) as company:
            opened = company.get(path)
            _checked(opened, 200, "the invitation link")
            accepted = company.post(
                path,
                data={
                    "csrf_token": _field(opened.text, "csrf_token"),
                    "display_name": f"{supplier.name} sales",
                    "password": password,
                    "password_again": password,
                },
                follow_redirects=False,
            )
            _checked(accepted, 303, "setting up the supplier account")
            company.cookies.clear()
            _log_in(company, supplier.email, password)
            home = company.get("/portal")
            _checked(home, 200, "the supplier's portal page")
            request = re.search(r'href="/portal/requests/([0-9a-f-]+)"', home.text)
            if request is None:
                raise ExchangeError("the supplier does not see the request")
            event_id = request.group(1)
            form_page = company.get(f"/portal/requests/{event_id}")
            _checked(form_page, 200, "the request form")
            sent = company.post(
                f"/portal/requests/{event_id}",
                data={**form, "csrf_token": _field(form_page.text, "csrf_token")},
                follow_redirects=False,
            )
            _checked(sent, 303, "the supplier's answer")
    finally:
        accounts.delete_user(lead_id)
    repository = ExchangeRepository(engine, organization_id=organization_id)
    source = f"portal:{client_id.group(1)}"
    document = next(row["document"] for row in repository.received() if row["source"] == source)
    return client_id.group(1), event_id, parse_product_footprint(document)
