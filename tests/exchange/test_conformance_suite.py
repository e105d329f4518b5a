"""The checks of the official PACT v3 conformance suite, replayed against our host.

wbcsd/pact-conformance-service (test cases of ``src/test-cases/v3-test-cases.ts`` at commit
f45f154, "Release 2.0") is a TypeScript service; docs/pact-conformance.md says how it was run
against ``carbonlink pact serve``. These tests make the same requests over HTTPS on loopback and
apply the same conditions, so a change that would fail the suite fails here first. Each test
names the suite's test case numbers it covers. Where the suite only checks that every listed
footprint matches a filter, these tests also require the footprint the filter was taken from.

The suite's asynchronous cases (13 and 14.B) listen for the host's answers on the suite's own
``/3/events``; here a small HTTPS listener with the suite's client credentials plays that part.
"""

from __future__ import annotations

import base64
import secrets
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from exchange_helpers import HostFactory, footprint_document
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine

from carbonlink.exchange.client import next_link
from carbonlink.exchange.pact import (
    PUBLISHED,
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    RequestFulfilledEvent,
    RequestRejectedEvent,
    parse_event,
    parse_product_footprint,
)
from carbonlink.exchange.server import BackgroundHost

SECRET = "conformance-suite-secret-0123456789"
OWN = "urn:pact:steel.example.cn:company-id:demo-steel"
# The credentials the suite's listener accepts (its FAQ: "test_client_id"/"test_client_secret").
LISTENER_ID, LISTENER_SECRET = "test_client_id", "test_client_secret"
NIL_UUID = "00000000-0000-0000-0000-000000000000"
CLOUDEVENTS = "application/cloudevents+json; charset=UTF-8"


@dataclass
class Suite:
    """What the suite knows before its test cases run: the host, a token, the listed footprints."""

    base: str
    http: httpx.Client
    token: str
    footprints: list[dict[str, Any]]
    first_link: str | None

    def get(self, path: str, token: str | None = None) -> httpx.Response:
        return self.http.get(f"{self.base}{path}", headers=_bearer(token or self.token))

    def post_event(self, event: dict[str, Any], token: str | None = None) -> httpx.Response:
        headers = {**_bearer(token or self.token), "Content-Type": CLOUDEVENTS}
        return self.http.post(f"{self.base}/3/events", json=event, headers=headers)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _basic(client_id: str, secret: str) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}", "Accept": "application/json"}


def _token_request(http: httpx.Client, url: str, client_id: str, secret: str) -> httpx.Response:
    return http.post(
        url,
        content=b"grant_type=client_credentials",
        headers={
            **_basic(client_id, secret),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def _documents() -> list[dict[str, Any]]:
    """Four footprints: the first without a validity period (like the demo's), one deprecated.

    The fourth's validity starts earlier than the first's, so the validAfter filter taken from
    the first must leave it out.
    """
    first = footprint_document(1, product="urn:pact:steel.example.cn:product-id:HRC-Q235B")
    first["companyIds"] = [OWN]
    first["productIds"].append("urn:pact:steel.example.cn:handle:88.118.8/demo-steel/HRC-Q235B")
    second = footprint_document(
        2,
        company=OWN,
        country="DE",
        classification="urn:pact:productclassification:hs:720917",
        validity=("2026-02-01T00:00:00Z", "2027-01-31T00:00:00Z"),
    )
    third = footprint_document(3, company=OWN, status="Deprecated")
    fourth = footprint_document(
        4, company=OWN, validity=("2025-06-01T00:00:00Z", "2026-06-01T00:00:00Z")
    )
    return [first, second, third, fourth]


@pytest.fixture
def suite(engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext) -> Iterator[Suite]:
    host, repository, _ = pact_host(engine)
    repository.add_partner("conformance", SECRET, name="Suite", organization="WBCSD PACT")
    repository.grant("conformance", companies=[OWN])
    for document in _documents():
        repository.publish(document)
    with httpx.Client(verify=tls_context, timeout=10) as http:
        yield _start_run(http, host.url)


def _start_run(http: httpx.Client, base: str) -> Suite:
    """What the suite does before its test cases: discovery, token, ListFootprints twice."""
    discovery = http.get(f"{base}/.well-known/openid-configuration")
    token_url = discovery.json()["token_endpoint"] if discovery.status_code == 200 else None
    assert token_url == f"{base}/auth/token"
    answer = _token_request(http, token_url, "conformance", SECRET)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    listed = http.get(f"{base}/3/footprints", headers=_bearer(token))
    assert listed.status_code == 200
    footprints = listed.json()["data"]
    # The suite needs two footprints at least: it pages with limit=1 and follows the first link.
    assert len(footprints) >= 2
    paged = http.get(f"{base}/3/footprints", params={"limit": 1}, headers=_bearer(token))
    return Suite(base, http, token, footprints, next_link(paged.headers.get("link")))


def _refused_over_http(suite: Suite, method: str, path: str, **options: Any) -> bool:
    """True when plain HTTP to the host's port gives no successful answer (cases 9–11, 17)."""
    url = suite.base.replace("https://", "http://", 1) + path
    try:
        with httpx.Client(timeout=5) as plain:
            response = plain.request(method, url, **options)
    except httpx.TransportError:
        return True
    if response.status_code != 200:
        return True
    try:
        body = response.json()
    except ValueError:
        return True
    return "data" not in body and "access_token" not in body


def test_authentication_cases_1_2_9_18_19(suite: Suite) -> None:
    token_url = f"{suite.base}/auth/token"
    # 1 and 18: valid credentials give a token.
    accepted = _token_request(suite.http, token_url, "conformance", SECRET)
    assert accepted.status_code == 200
    assert accepted.json()["access_token"]
    # 2 and 19: random credentials are refused with 400 or 401.
    stranger = _token_request(
        suite.http, token_url, secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    )
    assert stranger.status_code in (400, 401)
    # 9: no token over plain HTTP.
    assert _refused_over_http(
        suite,
        "POST",
        "/auth/token",
        content=b"grant_type=client_credentials",
        headers={
            **_basic("conformance", SECRET),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )


def test_footprint_cases_3_to_8_10_11(suite: Suite) -> None:
    first = suite.footprints[0]
    # 3: GetFootprint answers the footprint asked for, valid against the v3 data model.
    got = suite.get(f"/3/footprints/{first['id']}")
    assert got.status_code == 200
    assert got.json()["data"]["id"] == first["id"]
    parse_product_footprint(got.json()["data"])
    # 4: ListFootprints lists as many as at the start of the run (200 or 202).
    listed = suite.get("/3/footprints")
    assert listed.status_code in (200, 202)
    assert len(listed.json()["data"]) == len(suite.footprints) == 4
    for item in listed.json()["data"]:
        parse_product_footprint(item)
    # 5: the first Link of a limit=1 page, taken relative to the base URL, lists footprints.
    assert suite.first_link is not None and suite.first_link.startswith(suite.base)
    page = suite.get(suite.first_link.removeprefix(suite.base))
    assert page.status_code == 200
    assert [item["id"] for item in page.json()["data"]] == [suite.footprints[1]["id"]]
    # 6 and 7: an invalid token gives 400 or 401; the suite warns unless the code is BadRequest.
    invalid = f"very-invalid-access-token-{secrets.token_urlsafe(12)}"
    for path in ("/3/footprints", f"/3/footprints/{first['id']}"):
        refused = suite.get(path, token=invalid)
        assert refused.status_code in (400, 401)
        assert refused.json()["code"] == "BadRequest"
    # 8: an unknown id gives 400 or 404 with code NotFound (or BadRequest).
    missing = suite.get(f"/3/footprints/{NIL_UUID}")
    assert missing.status_code in (400, 404)
    assert missing.json()["code"] in ("NotFound", "BadRequest")
    # 10 and 11: no data over plain HTTP.
    headers = _bearer(suite.token)
    assert _refused_over_http(suite, "GET", "/3/footprints", headers=headers)
    assert _refused_over_http(suite, "GET", f"/3/footprints/{first['id']}", headers=headers)


def _validity(footprint: dict[str, Any]) -> tuple[datetime, datetime]:
    """The validity period as the suite reads it: given, else reference end plus three years."""
    if footprint.get("validityPeriodStart") and footprint.get("validityPeriodEnd"):
        return _instant(footprint["validityPeriodStart"]), _instant(footprint["validityPeriodEnd"])
    end = _instant(footprint["pcf"]["referencePeriodEnd"])
    return end, end.replace(year=end.year + 3)


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _geography(footprint: dict[str, Any]) -> str | None:
    pcf = footprint["pcf"]
    return (
        pcf.get("geographyCountry")
        or pcf.get("geographyRegionOrSubregion")
        or pcf.get("geographyCountrySubdivision")
    )


def test_filter_cases_20_to_29(suite: Suite) -> None:
    first = suite.footprints[0]
    start, end = _validity(first)
    valid_after, valid_before = start - timedelta(days=1), end + timedelta(days=1)
    product, company = first["productIds"][0], first["companyIds"][0]
    checks: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        ("20", {"productId": product}, lambda fp: product in fp["productIds"]),
        ("21", {"companyId": company}, lambda fp: company in fp["companyIds"]),
        ("22", {"geography": _geography(first)}, lambda fp: _geography(fp) == _geography(first)),
        (
            "23",
            {"classification": first["productClassifications"][0]},
            lambda fp: first["productClassifications"][0] in fp["productClassifications"],
        ),
        (
            "24",
            {"validOn": _iso(start)},
            lambda fp: _validity(fp)[0] <= start <= _validity(fp)[1],
        ),
        ("25", {"validAfter": _iso(valid_after)}, lambda fp: _validity(fp)[0] > valid_after),
        ("26", {"validBefore": _iso(valid_before)}, lambda fp: _validity(fp)[1] < valid_before),
        ("27", {"status": first["status"]}, lambda fp: fp["status"] == first["status"]),
        (
            "28",
            {"status": first["status"], "productId": product},
            lambda fp: fp["status"] == first["status"] and product in fp["productIds"],
        ),
        (
            "29",
            {"companyId": [company, secrets.token_hex(4), secrets.token_hex(4)]},
            lambda fp: company in fp["companyIds"],
        ),
    ]
    for case, params, condition in checks:
        response = suite.http.get(
            f"{suite.base}/3/footprints", params=params, headers=_bearer(suite.token)
        )
        assert response.status_code == 200, (case, response.text)
        data = response.json()["data"]
        assert all(condition(fp) for fp in data), (case, [fp["id"] for fp in data])
        assert first["id"] in {fp["id"] for fp in data}, case
    # Each filter leaves out what it should: the deprecated footprint (27), the German one
    # (22), the one valid from before validAfter (25).
    for params, left_out in (
        ({"status": "Active"}, 3),
        ({"geography": "CN"}, 2),
        ({"validAfter": _iso(valid_after)}, 4),
    ):
        response = suite.http.get(
            f"{suite.base}/3/footprints", params=params, headers=_bearer(suite.token)
        )
        numbers = {int(fp["productDescription"].split()[-1]) for fp in response.json()["data"]}
        assert numbers == {1, 2, 3, 4} - {left_out}, params


NEGATIVE_FILTERS: dict[str, dict[str, str | list[str]]] = {
    "30": {"productId": f"urn:bogus:product:{secrets.token_hex(8)}"},
    "31": {"companyId": f"urn:bogus:company:{secrets.token_hex(8)}"},
    "32": {"geography": "XX"},
    "33": {"classification": f"urn:bogus:classification:{secrets.token_hex(8)}"},
    "34": {"validOn": "1900-01-01T00:00:00Z"},
    "35": {"validAfter": "2099-12-31T23:59:59Z"},
    "36": {"validBefore": "1900-01-01T00:00:00Z"},
    "38": {
        "companyId": f"urn:bogus:company:{secrets.token_hex(4)}",
        "productId": f"urn:bogus:product:{secrets.token_hex(8)}",
    },
    "39": {"companyId": [f"urn:bogus:company:{secrets.token_hex(4)}" for _ in range(3)]},
}


def test_negative_filter_cases_30_to_39(suite: Suite) -> None:
    for case, params in NEGATIVE_FILTERS.items():
        response = suite.http.get(
            f"{suite.base}/3/footprints", params=params, headers=_bearer(suite.token)
        )
        assert (case, response.status_code, response.json()) == (case, 200, {"data": []})
    # 37: a status other than Active or Deprecated matches nothing (docs/pact-conformance.md).
    bogus = suite.get(f"/3/footprints?status=BogusStatus{secrets.token_hex(4)}")
    assert (bogus.status_code, bogus.json()) == (200, {"data": []})


def _event(
    kind: str, source: str, data: dict[str, Any], event_id: str | None = None
) -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "time": _iso(datetime.now().astimezone()),
        "type": kind,
        "data": data,
    }


def test_event_cases_15_16_17_40(suite: Suite) -> None:
    announced = {"pfIds": ["3a6c14a7-4deb-498a-b5ea-16ce2535b576"]}
    # 15: a PublishedEvent is accepted with 200.
    published = _event(PUBLISHED, "https://conformance.example", announced)
    assert suite.post_event(published).status_code == 200
    # 16: with an invalid token it is refused with 400 or 401 (code BadRequest, or a warning).
    refused = suite.post_event(
        _event(PUBLISHED, "https://conformance.example", announced),
        token=f"very-invalid-access-token-{secrets.token_urlsafe(12)}",
    )
    assert refused.status_code in (400, 401)
    assert refused.json()["code"] == "BadRequest"
    # 17: not accepted over plain HTTP.
    assert _refused_over_http(
        suite,
        "POST",
        "/3/events",
        json=_event(PUBLISHED, "https://conformance.example", announced),
        headers={**_bearer(suite.token), "Content-Type": CLOUDEVENTS},
    )
    # 40: a PublishedEvent whose pfIds are not UUIDs is a bad request.
    malformed = _event(
        PUBLISHED, "https://conformance.example", {"pfIds": ["urn:gtin:4712345060507"]}
    )
    assert suite.post_event(malformed).status_code == 400


@dataclass
class Listener:
    """The suite's callback side: a token endpoint and ``/3/events``, recording what arrives."""

    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    received: list[tuple[str, str, str, bytes]] = field(default_factory=list)

    def app(self) -> FastAPI:
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

        @app.post("/auth/token")
        async def token(request: Request) -> JSONResponse:
            expected = _basic(LISTENER_ID, LISTENER_SECRET)["Authorization"]
            if request.headers.get("authorization") != expected:
                return JSONResponse({"error": "invalid_client"}, status_code=401)
            return JSONResponse({"access_token": self.token, "token_type": "bearer"})

        @app.post("/3/events")
        async def events(request: Request) -> Response:
            self.received.append(
                (
                    request.url.path,
                    request.headers.get("content-type", ""),
                    request.headers.get("authorization", ""),
                    await request.body(),
                )
            )
            return Response(status_code=200)

        return app


def test_asynchronous_cases_12_13_14(
    engine: Engine,
    pact_host: HostFactory,
    tls_context: ssl.SSLContext,
    dev_cert: tuple[Path, Path],
) -> None:
    listener = Listener()
    with BackgroundHost(listener.app(), certfile=dev_cert[0], keyfile=dev_cert[1]) as callback:
        host, repository, _ = pact_host(
            engine,
            worker_interval=0.1,
            credentials={callback.url: (LISTENER_ID, LISTENER_SECRET)},
        )
        # The suite's FAQ: the host is set up to answer the suite's own host with its credentials.
        repository.add_partner(
            "conformance",
            SECRET,
            name="Suite",
            organization="WBCSD PACT",
            events_url=callback.url,
        )
        repository.grant("conformance", companies=[OWN])
        for document in _documents():
            repository.publish(document)
        with httpx.Client(verify=tls_context, timeout=10) as http:
            suite = _start_run(http, host.url)
            run = str(uuid.uuid4())
            requested = suite.footprints[0]["productIds"]
            # 12: a request for the first footprint's products is accepted with 200.
            wanted = _event(
                REQUEST_CREATED,
                callback.url,
                {"productId": requested, "comment": "Please send PCF data for this year."},
                event_id=f"{run}/12",
            )
            assert suite.post_event(wanted).status_code == 200
            # 14.A: a request for urn:pact:null is accepted with 200 too, to be rejected later.
            null = _event(
                REQUEST_CREATED,
                callback.url,
                {"productId": ["urn:pact:null"], "comment": "Please send PCF data for this year."},
                event_id=f"{run}/14.A",
            )
            assert suite.post_event(null).status_code == 200
            # The suite's asynchronous cases wait 30 s at most.
            deadline = time.monotonic() + 30
            while len(listener.received) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
    answers: dict[str, RequestFulfilledEvent | RequestRejectedEvent] = {}
    for path, content_type, authorization, body in listener.received:
        assert path == "/3/events"
        assert content_type.startswith("application/cloudevents+json")
        assert authorization == f"Bearer {listener.token}"
        event = parse_event(body)
        assert isinstance(event, RequestFulfilledEvent | RequestRejectedEvent)
        answers[event.data.request_event_id] = event
    assert set(answers) == {f"{run}/12", f"{run}/14.A"}
    # 13: a fulfilled event whose footprints carry at least one of the requested product ids.
    fulfilled = answers[f"{run}/12"]
    assert isinstance(fulfilled, RequestFulfilledEvent) and fulfilled.type == REQUEST_FULFILLED
    delivered = {pid for pf in fulfilled.data.pfs for pid in pf.product_ids}
    assert delivered & set(requested)
    # 14.B: a rejected event with an error code and message.
    rejected = answers[f"{run}/14.A"]
    assert isinstance(rejected, RequestRejectedEvent) and rejected.type == REQUEST_REJECTED
    assert rejected.data.error.code and rejected.data.error.message
