"""Forms, embedded JSON, PACT credentials, request bodies and the secret key, under attack."""

from __future__ import annotations

import json
import secrets
import socket
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from browser_support import served
from fastapi.testclient import TestClient

from carbonlink.errors import ConfigError
from carbonlink.exchange.schema import pact_partners
from carbonlink.ingest.base import Reading
from carbonlink.settings import Settings
from carbonlink.store.tenants import EmissionFactorRef, Facility, Meter, Source
from conftest import OTHER_ORG

if TYPE_CHECKING:
    from conftest import Service

NON_ASCII = "令牌-é-😀"


# M1: a non-ASCII CSRF token is a 403, on every form ------------------------------------------
def test_a_non_ascii_token_on_the_login_form_is_refused_with_403(service: Service) -> None:
    client = service.client()
    client.get("/login")  # a real form cookie; the form's field says something else
    response = client.post(
        "/login", data={"email": "admin@demo.test", "password": "x", "csrf_token": NON_ASCII}
    )
    assert response.status_code == 403
    api = client.post(
        "/login",
        data={"email": "admin@demo.test", "password": "x", "csrf_token": NON_ASCII},
        headers={"Accept": "application/json"},
    )
    assert api.status_code == 403


@pytest.mark.parametrize(
    "path",
    [
        "/logout",
        "/admin/users",
        "/admin/api-keys",
        "/account/password",
        "/supply-chain/portal/suppliers",
        "/plans/fac-steelmaking",
    ],
)
def test_a_non_ascii_token_on_a_signed_in_form_is_refused_with_403(
    service: Service, path: str
) -> None:
    client, _csrf = service.login("admin@demo.test")
    response = client.post(path, data={"csrf_token": NON_ASCII, "name": "x", "role": "viewer"})
    assert response.status_code == 403, response.text


# M1: duplicate grants --------------------------------------------------------------------------
def test_a_grant_listed_twice_creates_the_partner_once_with_its_secret(service: Service) -> None:
    admin, csrf = service.login("admin@demo.test")
    admin.headers["X-CSRF-Token"] = csrf
    company = "urn:pact:steel.example.com:company-id:1"
    created = admin.post(
        "/api/v1/pact/partners",
        json={
            "name": "Appliance Co",
            "organization": "Appliance Co",
            "client_id": "appliance-co",
            "grant_companies": [company, company, company.upper()],
            "grant_footprints": ["4f0b9a52-2c6e-4a57-9d37-5f1c0c1d2e3f"] * 2,
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["client_secret"]
    assert body["grant_companies"] == [company]
    assert body["grant_footprints"] == ["4f0b9a52-2c6e-4a57-9d37-5f1c0c1d2e3f"]
    token = admin.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("appliance-co", body["client_secret"]),
    )
    assert token.status_code == 200, token.text


# M2: JSON inside <script> ----------------------------------------------------------------------
EVIL = "</script><img src=x onerror=alert(1)>"


class _Dom(HTMLParser):
    """The elements a browser's parser builds, with the text of each <script>."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._open = dict(attrs).get("id") or ""
            self.scripts[self._open] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self.scripts[self._open] += data


def _add_evil_facility(service: Service) -> None:
    data = service.data
    data.add_facility(Facility("fac-evil", OTHER_ORG, EVIL, "Europe/Berlin"))
    factor = EmissionFactorRef(0.5, "MWh", "test factor", "round test factor")
    data.add_source(Source("src-evil", OTHER_ORG, "fac-evil", EVIL, 2, factor))
    data.add_meter(Meter("mtr-evil", OTHER_ORG, "fac-evil", EVIL, "MWh", "src-evil"))
    data.add_readings([Reading("mtr-evil", datetime(2026, 10, 5, 8, tzinfo=UTC), 4.0, "MWh")])


def test_a_facility_named_like_markup_stays_text_in_the_overview(service: Service) -> None:
    _add_evil_facility(service)
    client, _ = service.login("admin@other.test")
    page = client.get("/")
    assert page.status_code == 200
    dom = _Dom()
    dom.feed(page.text)
    assert not [attrs for tag, attrs in dom.tags if tag == "img" and "onerror" in attrs]
    chart = json.loads(dom.scripts["overview-data"])
    assert EVIL in chart["facilities"]


@pytest.mark.browser
def test_a_facility_named_like_markup_stays_text_in_chromium(service: Service) -> None:
    from browser_support import chromium, log_in, new_page, require_chromium

    require_chromium()
    _add_evil_facility(service)
    errors: list[str] = []
    with served(service.app) as url, chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, url, "admin@other.test")
        assert page.locator("img[onerror]").count() == 0
        text = page.locator("#overview-data").evaluate("e => e.textContent")
        assert EVIL in json.loads(text)["facilities"]
        # The whole name is the text of the one data element: nothing after it became markup.
        assert page.locator("script#overview-data").count() == 1
    assert not [e for e in errors if "onerror" in e or "alert" in e]


# M6: PACT client secrets, the token endpoint, request bodies ----------------------------------
def _partner(service: Service, client_id: str = "buyer-co") -> tuple[TestClient, str]:
    admin, csrf = service.login("admin@demo.test")
    admin.headers["X-CSRF-Token"] = csrf
    created = admin.post(
        "/api/v1/pact/partners",
        json={"name": "Buyer", "organization": "Buyer Co", "client_id": client_id},
    )
    assert created.status_code == 201, created.text
    return admin, created.json()["client_secret"]


def _token(client: TestClient, client_id: str, secret: str) -> httpx.Response:
    return client.post(
        "/pact/auth/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )


def test_client_secrets_are_keyed_digests_and_old_argon2_hashes_are_upgraded(
    service: Service,
) -> None:
    admin, secret = _partner(service)
    engine: sa.Engine = service.app.state.ctx.engine
    query = sa.select(pact_partners.c.secret_hash).where(pact_partners.c.client_id == "buyer-co")
    with engine.connect() as conn:
        assert conn.execute(query).scalar_one().startswith("hmac-sha256$")
    assert _token(admin, "buyer-co", secret).status_code == 200
    # A secret stored before the key was used: verified once with argon2id, then re-stored.
    with engine.begin() as conn:
        conn.execute(
            pact_partners.update()
            .where(pact_partners.c.client_id == "buyer-co")
            .values(secret_hash=PasswordHasher(time_cost=1, memory_cost=1024).hash(secret))
        )
    assert _token(admin, "buyer-co", "wrong-" + secret).status_code == 401
    assert _token(admin, "buyer-co", secret).status_code == 200
    with engine.connect() as conn:
        assert conn.execute(query).scalar_one().startswith("hmac-sha256$")
    assert _token(admin, "buyer-co", secret).status_code == 200


def test_unknown_client_ids_cost_no_password_hash(service: Service) -> None:
    client = service.client()
    # One argon2id hash at the repository's own settings, measured here (the median of three,
    # the machine being shared with other test workers), is the unit.
    hashes = []
    for _ in range(3):
        started = time.perf_counter()
        PasswordHasher().hash("calibration")
        hashes.append(time.perf_counter() - started)
    one_hash = sorted(hashes)[1]
    started = time.perf_counter()
    statuses = [_token(client, f"nobody-{n}", "x" * 43).status_code for n in range(10)]
    elapsed = time.perf_counter() - started
    assert statuses == [401] * 10
    # Hashing per request would cost at least ten hashes; the keyed digest costs a fraction of
    # one. Half of ten hashes leaves room for a loaded machine and still tells the two apart.
    assert elapsed < 5 * one_hash, (elapsed, one_hash)


def test_failed_token_requests_are_throttled_per_address(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(pact_token_attempts=4)
    admin, secret = _partner(service)
    statuses = [_token(admin, "buyer-co", "wrong").status_code for _ in range(6)]
    assert statuses == [401] * 4 + [429] * 2
    refused = _token(admin, "buyer-co", secret)
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    # Another address is not held back, and its successes spend nothing.
    other = TestClient(service.app, client=("192.0.2.10", 5000))
    assert [_token(other, "buyer-co", secret).status_code for _ in range(6)] == [200] * 6


def _raw_post(url: str, path: str, head: str, body: bytes) -> tuple[int, float]:
    """POST over a socket; (status, seconds until the answer)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        started = time.perf_counter()
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\n{head}\r\n".encode() + body)
        answer = sock.recv(4096).decode("latin-1")
        return int(answer.split()[1]), time.perf_counter() - started


def test_bodies_past_their_cap_are_refused_before_they_are_read(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(max_body_mb=0.5)
    with served(service.app) as url:
        # 200 MB announced to the token endpoint: answered at once, nothing read.
        status, seconds = _raw_post(
            url,
            "/pact/auth/token",
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 200000000\r\n",
            b"grant_type=client_credentials",
        )
        assert status == 413 and seconds < 5
        # A chunked login form past 16 KiB.
        chunk = b"a" * 20000
        status, _ = _raw_post(
            url,
            "/login",
            "Content-Type: application/x-www-form-urlencoded\r\nTransfer-Encoding: chunked\r\n",
            f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n0\r\n\r\n",
        )
        assert status == 413
        with httpx.Client(base_url=url) as http:
            # The configured global cap for the API (0.5 MB here): a 1 MB JSON batch.
            big = http.post(
                "/api/v1/readings",
                content=b'{"readings": [' + b" " * 1_000_000 + b"]}",
                headers={"Content-Type": "application/json", "X-API-Key": "clk_none"},
            )
            assert big.status_code == 413
            assert big.headers["content-type"] == "application/problem+json"
            assert "larger than" in big.json()["detail"]
            # Under the cap, the request goes on (and fails for want of a valid key).
            small = http.post(
                "/api/v1/readings",
                content=b'{"readings": []}',
                headers={"Content-Type": "application/json", "X-API-Key": "clk_none"},
            )
            assert small.status_code == 401


# the secret key --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "key", [" " * 32, "\t" * 40, "k" * 40, "ab" * 20, "0123456789" * 2, "change-me"]
)
def test_weak_secret_keys_are_refused(tmp_path: Path, key: str) -> None:
    with pytest.raises(ConfigError, match="CARBONLINK_SECRET_KEY"):
        Settings(workspace=tmp_path, production=True, secret_key=key).check_secrets()  # type: ignore[arg-type]
    with pytest.raises(ConfigError):  # a key that is set must be good outside production too
        Settings(workspace=tmp_path, secret_key=key).check_secrets()  # type: ignore[arg-type]


def test_random_secret_keys_are_accepted(tmp_path: Path) -> None:
    # a hex key whose one digit came up 9 times in 32, as random keys now and then do
    unlucky = "a" * 9 + "0123456789bcdef0123456" + "7"
    assert len(unlucky) == 32
    for key in (
        secrets.token_urlsafe(32),
        secrets.token_hex(16),
        secrets.token_urlsafe(48),
        unlucky,
    ):
        Settings(workspace=tmp_path, production=True, secret_key=key).check_secrets()  # type: ignore[arg-type]
