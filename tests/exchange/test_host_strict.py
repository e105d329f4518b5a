"""The PACT host refuses what v3 does not define and names itself by its configured address."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx
import pytest
from exchange_helpers import HostFactory, footprint_document
from sqlalchemy import Engine

from carbonlink.exchange.client import next_link

SECRET = "secret-of-partner-a-0123456789"
OWN = "urn:pact:steel.example.com:company-id:1"


def _token(http: httpx.Client, url: str) -> dict[str, str]:
    response = http.post(
        f"{url}/auth/token", data={"grant_type": "client_credentials"}, auth=("partner-a", SECRET)
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.parametrize(
    "params",
    [
        {"$filter": "productIds/any(p:(p eq 'urn:x'))"},  # the v2 filter
        {"productIds": "urn:pact:steel.example.com:product-id:P1"},  # a misspelt v3 filter
        {"limit": "0"},
        {"limit": "-1"},
        {"offset": "9223372036854775808"},
        {"offset": "-3"},
    ],
    ids=["v2-filter", "unknown-filter", "limit-0", "limit-negative", "offset-huge", "offset-neg"],
)
def test_what_v3_does_not_define_is_a_bad_request(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext, params: dict[str, str]
) -> None:
    host, repository, _ = pact_host(engine)
    repository.add_partner("partner-a", SECRET, name="A", organization="A Corp")
    repository.grant("partner-a", companies=(OWN,))
    repository.publish(footprint_document(0))
    with httpx.Client(verify=tls_context) as http:
        headers = _token(http, host.url)
        response = http.get(f"{host.url}/3/footprints", params=params, headers=headers)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "BadRequest"
        # the same request without the offending parameter lists the footprint
        plain = http.get(f"{host.url}/3/footprints", headers=headers)
        assert len(plain.json()["data"]) == 1


def test_the_configured_public_address_is_used_not_the_host_header(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    public = "https://pact.steel.example.com:8443"
    host, repository, _ = pact_host(engine, public_url=public)
    repository.add_partner("partner-a", SECRET, name="A", organization="A Corp")
    repository.grant("partner-a", companies=(OWN,))
    for n in range(3):
        repository.publish(footprint_document(n))
    forged = {"Host": "attacker.example"}
    with httpx.Client(verify=tls_context) as http:
        discovery = http.get(f"{host.url}/.well-known/openid-configuration", headers=forged)
        assert discovery.json()["token_endpoint"] == f"{public}/auth/token"
        headers = {**_token(http, host.url), **forged}
        first = http.get(f"{host.url}/3/footprints", params={"limit": 2}, headers=headers)
        link = next_link(first.headers["link"])
        assert link is not None and urlsplit(link).netloc == "pact.steel.example.com:8443"
