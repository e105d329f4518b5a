"""One store, two organizations' exchanges: nothing of one is visible to the other's partners."""

from __future__ import annotations

import json
import ssl
import uuid

import httpx
import pytest
from exchange_helpers import HostFactory, footprint_document
from sqlalchemy import Engine

from carbonlink.errors import InputError
from carbonlink.exchange.pact import REQUEST_CREATED
from carbonlink.exchange.repository import ExchangeRepository

COMPANY = "urn:pact:steel.example.com:company-id:1"
SECRET_A = "secret-of-partner-a-0123456789"
SECRET_B = "secret-of-partner-b-0123456789"


def _token(http: httpx.Client, url: str, client_id: str, secret: str) -> str:
    response = http.post(
        f"{url}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_partners_see_only_their_owners_footprints(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, default_repository, _ = pact_host(engine)
    alpha = default_repository.for_owner("org-alpha")
    beta = default_repository.for_owner("org-beta")
    # Both organizations grant their partner the same company id; each publishes one footprint.
    alpha.add_partner("customer-of-alpha", SECRET_A, name="A", organization="A Corp")
    beta.add_partner("customer-of-beta", SECRET_B, name="B", organization="B Corp")
    alpha.grant("customer-of-alpha", companies=[COMPANY])
    beta.grant("customer-of-beta", companies=[COMPANY])
    alpha_pf = alpha.publish(footprint_document(1))
    beta_pf = beta.publish(footprint_document(2))

    assert [p.client_id for p in alpha.partners()] == ["customer-of-alpha"]
    assert beta.partner("customer-of-alpha") is None
    assert alpha.footprint_document(beta_pf) is None
    with pytest.raises(InputError, match="another organization"):
        beta.publish(footprint_document(1))
    assert default_repository.owners() == ["org-alpha", "org-beta"]

    with httpx.Client(verify=tls_context) as http:
        token_a = _token(http, host.url, "customer-of-alpha", SECRET_A)
        listed = http.get(
            f"{host.url}/3/footprints", headers={"Authorization": f"Bearer {token_a}"}
        ).json()["data"]
        assert [pf["id"] for pf in listed] == [alpha_pf]
        other = http.get(
            f"{host.url}/3/footprints/{beta_pf}", headers={"Authorization": f"Bearer {token_a}"}
        )
        assert other.status_code == 404
        assert other.json()["code"] == "NotFound"

        # An event from alpha's partner lands in alpha's exchange only.
        event = {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": "https://customer.example.com",
            "time": "2026-06-01T12:00:00Z",
            "type": REQUEST_CREATED,
            "data": {"productId": ["urn:pact:steel.example.com:product-id:P1"]},
        }
        sent = http.post(
            f"{host.url}/3/events",
            content=json.dumps(event),
            headers={
                "Authorization": f"Bearer {token_a}",
                "Content-Type": "application/cloudevents+json",
            },
        )
        assert sent.status_code == 200, sent.text
    assert [row["event_id"] for row in alpha.open_requests()] == [event["id"]]
    assert beta.open_requests() == [] and beta.events() == []


def test_received_footprints_are_kept_per_organization(engine: Engine) -> None:
    alpha = ExchangeRepository(engine, organization_id="org-alpha")
    beta = ExchangeRepository(engine, organization_id="org-beta")
    document = json.dumps(footprint_document(7))
    alpha.store_received(document, source="supplier-x", via="pull")
    beta.store_received(document, source="supplier-x", via="pull")
    # The same document received twice by one organization is kept once.
    alpha.store_received(document, source="supplier-x", via="pull")
    assert len(alpha.received()) == 1
    assert len(beta.received()) == 1
    assert alpha.received()[0]["id"] != beta.received()[0]["id"]
