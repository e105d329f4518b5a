"""ListFootprints filter names as the PACT v3.0.3 specification writes them in its example.

The specification's filtering example sends ``?productId=x&productid=y&productid=z&geography=DE
&geography=FR&validon=2025-04-01T00:00Z`` and reads it as productId x, y or z, geography DE or
FR, and validOn: the names are matched whatever their case, and the values of one filter written
in two cases are still one filter.
"""

from __future__ import annotations

import ssl

import httpx
from exchange_helpers import HostFactory, footprint_document
from sqlalchemy import Engine

from carbonlink.exchange.client import next_link

SECRET = "filter-case-secret-0123456789"
OWN = "urn:pact:steel.example.com:company-id:1"


def _product(n: int) -> str:
    return f"urn:pact:steel.example.com:product-id:P{n}"


def test_filter_names_are_matched_whatever_their_case(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, repository, _ = pact_host(engine, max_page_size=1)
    repository.add_partner("partner", SECRET, name="P", organization="P Corp")
    repository.grant("partner", companies=[OWN])
    valid = ("2025-01-01T00:00:00Z", "2025-12-31T00:00:00Z")
    later = ("2026-01-01T00:00:00Z", "2026-12-31T00:00:00Z")
    documents = [
        footprint_document(0, country="DE", validity=valid),
        footprint_document(1, country="FR", validity=valid),
        footprint_document(2, country="CN", validity=valid),  # geography not asked for
        footprint_document(3, country="DE", validity=later),  # not valid on the day asked
        footprint_document(4, country="DE", validity=valid),  # product not asked for
    ]
    for document in documents:
        repository.publish(document)
    query = (
        f"productId={_product(0)}&productid={_product(1)}&productid={_product(2)}"
        f"&productid={_product(3)}&geography=DE&GEOGRAPHY=FR&validon=2025-04-01T00:00Z"
    )
    with httpx.Client(verify=tls_context) as http:
        token = http.post(
            f"{host.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=("partner", SECRET),
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        found: list[str] = []
        url: str | None = f"{host.url}/3/footprints?{query}"
        # One footprint a page: the next link must carry the filters under their own names.
        while url is not None:
            response = http.get(url, headers=headers)
            assert response.status_code == 200, response.text
            found += [pf["productDescription"] for pf in response.json()["data"]]
            url = next_link(response.headers.get("link"))
    assert found == ["product 0", "product 1"]
