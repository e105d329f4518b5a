"""PACT host and client against each other over HTTPS on loopback."""

from __future__ import annotations

import json
import ssl
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from exchange_helpers import FakeClock, HostFactory, footprint_document
from sqlalchemy import Engine

from carbonlink.exchange.client import PactClient, PactClientError, next_link
from carbonlink.exchange.pact import PUBLISHED, REQUEST_CREATED, REQUEST_REJECTED

SECRET_A = "secret-of-partner-a-0123456789"
SECRET_B = "secret-of-partner-b-0123456789"
OWN = "urn:pact:steel.example.com:company-id:1"
OTHER = "urn:pact:other.example.com:company-id:9"


def _partners(repository, *, grant_a=(OWN,), grant_b=()) -> None:  # type: ignore[no-untyped-def]
    repository.add_partner("partner-a", SECRET_A, name="A", organization="A Corp")
    repository.add_partner("partner-b", SECRET_B, name="B", organization="B Corp")
    repository.grant("partner-a", companies=grant_a)
    if grant_b:
        repository.grant("partner-b", companies=grant_b)


def _token(http: httpx.Client, url: str, client_id: str, secret: str) -> str:
    response = http.post(
        f"{url}/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return str(body["access_token"])


def test_token_endpoint_and_discovery(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository)
    with httpx.Client(verify=tls_context) as http:
        discovery = http.get(f"{host.url}/.well-known/openid-configuration").json()
        assert discovery["token_endpoint"] == f"{host.url}/auth/token"
        assert _token(http, host.url, "partner-a", SECRET_A)
        wrong = http.post(
            f"{host.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=("partner-a", "not-the-secret-at-all"),
        )
        assert wrong.status_code == 401
        assert wrong.json()["error"] == "invalid_client"
        unknown = http.post(
            f"{host.url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=("nobody", SECRET_A),
        )
        assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
        anonymous = http.post(f"{host.url}/auth/token", data={"grant_type": "client_credentials"})
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "invalid_client")
        grant = http.post(
            f"{host.url}/auth/token", data={"grant_type": "password"}, auth=("partner-a", SECRET_A)
        )
        assert (grant.status_code, grant.json()["error"]) == (400, "unsupported_grant_type")
        # The plain http scheme is not served at all: the port speaks TLS only.
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{host.port}/3/footprints", timeout=3)


def test_client_credentials_are_checked_by_the_client(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository)
    with (
        PactClient(host.url, "partner-a", "wrong-secret-0123456789", verify=tls_context) as client,
        pytest.raises(PactClientError) as caught,
    ):
        client.list_footprints()
    assert caught.value.status == 401 and caught.value.code == "invalid_client"


def test_untrusted_certificate_is_refused(engine: Engine, pact_host: HostFactory) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository)
    with PactClient(host.url, "partner-a", SECRET_A) as client, pytest.raises(PactClientError):
        client.list_footprints()


def test_pagination_over_three_pages_with_absolute_links(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext, clock: FakeClock
) -> None:
    host, repository, _ = pact_host(engine, clock)
    _partners(repository)
    ids = []
    for n in range(7):
        clock.now += timedelta(seconds=1)
        ids.append(repository.publish(footprint_document(n)))
    with PactClient(host.url, "partner-a", SECRET_A, verify=tls_context) as client:
        pages = list(client.pages(limit=3))
        assert [len(page) for page in pages] == [3, 3, 1]
        assert [pf["id"] for page in pages for pf in page] == ids
    with httpx.Client(verify=tls_context) as http:
        token = _token(http, host.url, "partner-a", SECRET_A)
        headers = {"Authorization": f"Bearer {token}", "Host": f"localhost:{host.port}"}
        first = http.get(f"{host.url}/3/footprints", params={"limit": 3}, headers=headers)
        link = next_link(first.headers["link"])
        assert link is not None
        assert urlsplit(link).scheme == "https"
        assert urlsplit(link).netloc == f"localhost:{host.port}"  # the request's Host header
        # 181 s later the link still works (with a fresh token, the old one being kept).
        clock.now += timedelta(seconds=181)
        again = http.get(link.replace("localhost", "127.0.0.1"), headers=headers)
        assert again.status_code == 200
        assert [pf["id"] for pf in again.json()["data"]] == ids[3:6]
        last = http.get(
            f"{host.url}/3/footprints", params={"limit": 3, "offset": 6}, headers=headers
        )
        assert "link" not in last.headers
        everything = http.get(f"{host.url}/3/footprints", headers=headers)
        assert len(everything.json()["data"]) == 7 and "link" not in everything.headers
        empty = http.get(
            f"{host.url}/3/footprints", params={"productId": "urn:x:none"}, headers=headers
        )
        assert empty.json() == {"data": []}


FILTER_CASES = [
    ({"productId": "urn:pact:steel.example.com:product-id:P1"}, {1}),
    # case-insensitive, OR within one parameter
    (
        {
            "productId": [
                "URN:PACT:STEEL.EXAMPLE.COM:PRODUCT-ID:P1",
                "urn:pact:steel.example.com:product-id:P4",
            ]
        },
        {1, 4},
    ),
    ({"companyId": OTHER}, {2}),
    ({"geography": "DE"}, {3}),
    ({"geography": ["de", "FR"]}, {3, 4}),
    ({"geography": "CN"}, {0, 1, 2, 5}),  # CN-JS lies in CN
    ({"geography": "CN-JS"}, {5}),
    ({"classification": "urn:pact:productclassification:hs:720917"}, {4}),
    ({"status": "Deprecated"}, {1}),
    ({"status": "active"}, {0, 2, 3, 4, 5}),
    # validity: 0..4 default (2025-12-31 + 3 years); 5 has 2026-03-01..2026-09-01
    ({"validOn": "2026-06-01T00:00:00Z"}, {0, 1, 2, 3, 4, 5}),
    ({"validOn": "2028-06-01T00:00:00Z"}, {0, 1, 2, 3, 4}),
    ({"validAfter": "2026-01-01T00:00:00Z"}, {5}),
    ({"validBefore": "2027-01-01T00:00:00Z"}, {5}),
    # AND across parameters
    ({"geography": "CN", "status": "Active", "companyId": OWN}, {0, 5}),
    ({"productId": "urn:pact:steel.example.com:product-id:P1", "status": "Active"}, set()),
]


def test_every_filter(engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository, grant_a=(OWN, OTHER))
    documents = [
        footprint_document(0),
        footprint_document(1, status="Deprecated"),
        footprint_document(2, company=OTHER),
        footprint_document(3, country="DE"),
        footprint_document(
            4, country="FR", classification="urn:pact:productclassification:hs:720917"
        ),
        footprint_document(
            5,
            subdivision="CN-JS",
            validity=("2026-03-01T00:00:00Z", "2026-09-01T00:00:00Z"),
        ),
    ]
    for document in documents:
        repository.publish(document)
    number = {document["id"]: n for n, document in enumerate(documents)}
    with PactClient(host.url, "partner-a", SECRET_A, verify=tls_context) as client:
        for params, expected in FILTER_CASES:
            found = {number[pf["id"]] for pf in client.list_footprints(**params)}
            assert found == expected, params
        with pytest.raises(PactClientError) as caught:
            client.list_footprints(validOn="yesterday")
        assert (caught.value.status, caught.value.code) == (400, "BadRequest")
        # A status that is neither Active nor Deprecated matches nothing (conformance case 37).
        assert client.list_footprints(status="Retired") == []


def test_get_by_id_not_found_and_access_denied(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository, grant_b=(OTHER,))
    own = repository.publish(footprint_document(0))
    other = repository.publish(footprint_document(1, company=OTHER))
    with PactClient(host.url, "partner-a", SECRET_A, verify=tls_context) as client:
        document = client.get_footprint(own)
        assert document == footprint_document(0)  # the JSON exactly as published
        with pytest.raises(PactClientError) as caught:
            client.get_footprint(str(uuid.uuid4()))
        assert (caught.value.status, caught.value.code) == (404, "NotFound")
        with pytest.raises(PactClientError) as caught:
            client.get_footprint(other)
        assert (caught.value.status, caught.value.code) == (403, "AccessDenied")
    # Cross-tenant: each partner lists exactly its own footprints.
    with PactClient(host.url, "partner-b", SECRET_B, verify=tls_context) as client:
        assert [pf["id"] for pf in client.list_footprints()] == [other]
        with pytest.raises(PactClientError) as caught:
            client.get_footprint(own)
        assert caught.value.code == "AccessDenied"
    with PactClient(host.url, "partner-a", SECRET_A, verify=tls_context) as client:
        assert [pf["id"] for pf in client.list_footprints()] == [own]


def test_expired_and_invalid_tokens(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext, clock: FakeClock
) -> None:
    host, repository, _ = pact_host(engine, clock)
    _partners(repository)
    with httpx.Client(verify=tls_context) as http:
        token = _token(http, host.url, "partner-a", SECRET_A)
        ok = http.get(f"{host.url}/3/footprints", headers={"Authorization": f"Bearer {token}"})
        assert ok.status_code == 200
        clock.now += timedelta(hours=1, seconds=1)
        expired = http.get(f"{host.url}/3/footprints", headers={"Authorization": f"Bearer {token}"})
        assert expired.status_code == 401
        assert expired.json() == {
            "code": "TokenExpired",
            "message": "the access token has expired; get a new one at /auth/token",
        }
        for header in ({"Authorization": "Bearer made-up"}, {}):
            bad = http.get(f"{host.url}/3/footprints/{uuid.uuid4()}", headers=header)
            assert bad.status_code == 401
            assert set(bad.json()) == {"code", "message"}
            assert bad.json()["code"] == "BadRequest"
    # The client renews an expired token by itself.
    with PactClient(host.url, "partner-a", SECRET_A, verify=tls_context) as client:
        client.token()
        clock.now += timedelta(hours=2)
        assert client.list_footprints() == []


def _event(kind: str, data: dict[str, object], source: str = "//partner") -> dict[str, object]:
    return {
        "type": kind,
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": source,
        "time": "2026-06-01T12:00:00Z",
        "data": data,
    }


def test_events_are_validated(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository)
    with httpx.Client(verify=tls_context) as http:
        token = _token(http, host.url, "partner-a", SECRET_A)
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/cloudevents+json; charset=UTF-8",
        }

        def post(event: object) -> httpx.Response:
            return http.post(f"{host.url}/3/events", content=json.dumps(event), headers=headers)

        published = post(_event(PUBLISHED, {"pfIds": [str(uuid.uuid4())]}))
        assert published.status_code == 200 and published.content == b""
        not_uuid = post(_event(PUBLISHED, {"pfIds": ["not-a-uuid"]}))
        assert not_uuid.status_code == 400 and not_uuid.json()["code"] == "BadRequest"
        unknown = post(_event("org.example.Unknown", {}))
        assert unknown.status_code == 400 and unknown.json()["code"] == "BadRequest"
        no_data = _event(REQUEST_CREATED, {})
        del no_data["data"]
        assert post(no_data).status_code == 400
        answer = post(
            _event(
                REQUEST_REJECTED,
                {"requestEventId": "never-sent", "error": {"code": "NotFound", "message": "x"}},
            )
        )
        assert answer.status_code == 403 and answer.json()["code"] == "AccessDenied"
    kinds = [row["type"] for row in repository.events(direction="received")]
    assert kinds == [PUBLISHED]


def test_footprints_go_out_byte_for_byte_as_published(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    host, repository, _ = pact_host(engine)
    _partners(repository)
    text = json.dumps(footprint_document(0), indent=1, ensure_ascii=False).replace(
        '"product 0"', '"Stahl – Güte 0"'
    )
    pf_id = repository.publish(text)
    with httpx.Client(verify=tls_context) as http:
        token = _token(http, host.url, "partner-a", SECRET_A)
        headers = {"Authorization": f"Bearer {token}"}
        one = http.get(f"{host.url}/3/footprints/{pf_id}", headers=headers)
        listed = http.get(f"{host.url}/3/footprints", headers=headers)
    assert one.content == b'{"data":' + text.encode() + b"}"
    assert listed.content == b'{"data":[' + text.encode() + b"]}"
    assert one.headers["content-type"] == "application/json"


def test_request_criteria_also_read_the_v2_product_list() -> None:
    from carbonlink.exchange.repository import FootprintFilter

    v3 = FootprintFilter.from_criteria({"productId": ["urn:x:1"], "status": "Active"})
    v2 = FootprintFilter.from_criteria({"pf": {"productIds": ["urn:x:1"]}})
    assert v3.product_id == v2.product_id == ("urn:x:1",)
    assert v3.status == "Active" and v2.status is None
