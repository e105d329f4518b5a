"""The PACT host inside the service: served over HTTPS at /pact, partners managed by the API.

The service runs with uvicorn over TLS on loopback (a development certificate), on SQLite and
PostgreSQL. Two organizations each have an admin, editor and viewer (API keys); partners are
created through /api/v1/pact/partners and then use the PACT endpoints under /pact.
"""

from __future__ import annotations

import json
import ssl
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from exchange_helpers import footprint_document
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from carbonlink.api import create_app
from carbonlink.exchange.host import HostConfig, create_pact_app
from carbonlink.exchange.pact import REQUEST_CREATED, REQUEST_FULFILLED
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.exchange.server import BackgroundHost, free_port
from carbonlink.ledger import ensure_ledger_key
from carbonlink.settings import Settings

ALPHA, BETA = "org-alpha", "org-beta"
COMPANY = "urn:pact:steel.example.com:company-id:1"
ROLES = ("admin", "editor", "viewer")


@dataclass
class Served:
    """The service over HTTPS, with API keys of each role of both organizations."""

    url: str
    keys: dict[tuple[str, str], str]
    http: httpx.Client
    engine: Engine

    def api(self, org: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[(org, role)]}"}

    def publish(self, org: str, document: dict[str, object]) -> str:
        response = self.http.post(
            f"{self.url}/api/v1/pact/footprints", json=document, headers=self.api(org, "editor")
        )
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def partner(self, org: str, **body: object) -> dict[str, object]:
        response = self.http.post(
            f"{self.url}/api/v1/pact/partners",
            json={"name": "Customer", "organization": "Customer Co", **body},
            headers=self.api(org, "admin"),
        )
        assert response.status_code == 201, response.text
        return dict(response.json())

    def token(self, client_id: str, secret: str) -> httpx.Response:
        return self.http.post(
            f"{self.url}/pact/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
        )

    def bearer(self, client_id: str, secret: str) -> dict[str, str]:
        response = self.token(client_id, secret)
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _settings(workspace: Path, **values: object) -> Settings:
    return Settings(
        workspace=workspace,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        **values,  # type: ignore[arg-type]
    )


def _keys(app: object) -> dict[tuple[str, str], str]:
    accounts = app.state.ctx.accounts  # type: ignore[attr-defined]
    return {
        (org, role): accounts.create_api_key(org, f"{org} {role}", role)
        for org in (ALPHA, BETA)
        for role in ROLES
    }


@pytest.fixture
def serve(
    engine: Engine,
    tmp_path: Path,
    dev_cert: tuple[Path, Path],
    tls_context: ssl.SSLContext,
) -> Iterator[Callable[..., Served]]:
    """Start the whole service over HTTPS on a free loopback port (with its lifespan)."""
    hosts: list[BackgroundHost] = []
    clients: list[httpx.Client] = []

    def start(**values: object) -> Served:
        ensure_ledger_key(tmp_path)
        port = free_port()
        url = f"https://127.0.0.1:{port}"
        values.setdefault("pact_worker_interval", 0)
        app = create_app(_settings(tmp_path, public_url=url, **values), engine=engine)
        host = BackgroundHost(app, certfile=dev_cert[0], keyfile=dev_cert[1], port=port).start()
        hosts.append(host)
        http = httpx.Client(verify=tls_context, timeout=30)
        clients.append(http)
        return Served(url, _keys(app), http, engine)

    yield start
    for http in clients:
        http.close()
    for host in hosts:
        host.stop()


def test_partner_made_through_the_api_lists_footprints_under_pact(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    ids = [served.publish(ALPHA, footprint_document(n, company=COMPANY)) for n in range(3)]
    partner = served.partner(ALPHA, client_id="customer-1", grant_companies=[COMPANY])
    assert partner["token_url"] == "/pact/auth/token"
    assert partner["grant_companies"] == [COMPANY]

    discovery = served.http.get(f"{served.url}/pact/.well-known/openid-configuration").json()
    assert discovery["issuer"] == f"{served.url}/pact"
    assert discovery["token_endpoint"] == f"{served.url}/pact/auth/token"

    headers = served.bearer("customer-1", str(partner["client_secret"]))
    first = served.http.get(f"{served.url}/pact/3/footprints?limit=2", headers=headers)
    assert first.status_code == 200, first.text
    assert [pf["id"] for pf in first.json()["data"]] == ids[:2]
    link = first.headers["link"]
    assert link == f'<{served.url}/pact/3/footprints?limit=2&offset=2>; rel="next"'
    second = served.http.get(link[1 : link.index(">")], headers=headers)
    assert [pf["id"] for pf in second.json()["data"]] == ids[2:]
    assert "link" not in second.headers
    one = served.http.get(f"{served.url}/pact/3/footprints/{ids[1]}", headers=headers)
    assert one.json()["data"]["id"] == ids[1]


def test_second_organizations_partner_sees_nothing_of_the_first(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    alpha_pf = served.publish(ALPHA, footprint_document(1, company=COMPANY))
    # Beta grants its partner the very company URN alpha's footprint names.
    beta_partner = served.partner(BETA, client_id="beta-customer", grant_companies=[COMPANY])
    headers = served.bearer("beta-customer", str(beta_partner["client_secret"]))
    listed = served.http.get(f"{served.url}/pact/3/footprints", headers=headers)
    assert listed.status_code == 200
    assert listed.json() == {"data": []}
    single = served.http.get(f"{served.url}/pact/3/footprints/{alpha_pf}", headers=headers)
    assert single.status_code == 404
    assert single.json()["code"] == "NotFound"
    # And beta's own footprint is what its partner sees.
    beta_pf = served.publish(BETA, footprint_document(2, company=COMPANY))
    again = served.http.get(f"{served.url}/pact/3/footprints", headers=headers).json()
    assert [pf["id"] for pf in again["data"]] == [beta_pf]


def test_management_routes_stay_in_the_callers_organization(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    api = f"{served.url}/api/v1/pact"
    pf_id = served.publish(ALPHA, footprint_document(1, company=COMPANY))
    served.partner(ALPHA, client_id="alpha-customer", grant_footprints=[pf_id])
    http = served.http

    beta_admin = served.api(BETA, "admin")
    assert http.get(f"{api}/partners", headers=beta_admin).json() == []
    assert http.get(f"{api}/footprints", headers=beta_admin).json() == []
    for method, path in (
        ("POST", "/partners/alpha-customer/deactivate"),
        ("POST", "/partners/alpha-customer/reactivate"),
        ("POST", "/partners/alpha-customer/secret"),
        ("GET", f"/footprints/{pf_id}"),
        ("GET", f"/footprints/{pf_id}/receipt"),
        ("POST", f"/footprints/{pf_id}/deprecate"),
    ):
        response = http.request(method, f"{api}{path}", headers=beta_admin)
        assert response.status_code == 404, (method, path, response.text)
    grants = http.post(
        f"{api}/partners/alpha-customer/grants", json={"companies": [COMPANY]}, headers=beta_admin
    )
    assert grants.status_code == 404

    body = {"name": "x", "organization": "x"}
    for role in ("viewer", "editor"):
        refused = http.post(f"{api}/partners", json=body, headers=served.api(ALPHA, role))
        assert refused.status_code == 403, role
        assert http.get(f"{api}/partners", headers=served.api(ALPHA, role)).status_code == 403
    viewer_publish = http.post(
        f"{api}/footprints", json=footprint_document(9), headers=served.api(ALPHA, "viewer")
    )
    assert viewer_publish.status_code == 403
    # Alpha's partner is untouched: listed with its grant, active.
    [listed] = http.get(f"{api}/partners", headers=served.api(ALPHA, "admin")).json()
    assert listed["client_id"] == "alpha-customer"
    assert listed["active"] is True
    assert listed["grant_footprints"] == [pf_id]
    # The viewer reads the organization's publications.
    shown = http.get(f"{api}/footprints", headers=served.api(ALPHA, "viewer")).json()
    assert [pf["id"] for pf in shown] == [pf_id]
    assert shown[0]["pcf_excluding_biogenic_uptake"] == "1.5"


def test_deactivate_reactivate_and_rotate_a_partners_secret(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    api = f"{served.url}/api/v1/pact/partners"
    admin = served.api(ALPHA, "admin")
    made = served.partner(ALPHA)
    client_id, secret = str(made["client_id"]), str(made["client_secret"])
    assert client_id.startswith("pact-")
    headers = served.bearer(client_id, secret)

    off = served.http.post(f"{api}/{client_id}/deactivate", headers=admin)
    assert off.json()["active"] is False
    assert served.token(client_id, secret).status_code == 401
    # The token issued before is revoked with the partner.
    assert served.http.get(f"{served.url}/pact/3/footprints", headers=headers).status_code == 401

    on = served.http.post(f"{api}/{client_id}/reactivate", headers=admin)
    assert on.json()["active"] is True
    headers = served.bearer(client_id, secret)

    rotated = served.http.post(f"{api}/{client_id}/secret", headers=admin).json()
    assert rotated["client_secret"] != secret
    assert served.token(client_id, secret).status_code == 401
    assert served.http.get(f"{served.url}/pact/3/footprints", headers=headers).status_code == 401
    assert served.token(client_id, rotated["client_secret"]).status_code == 200


def test_publishing_checks_the_document_and_deprecating_keeps_it_listed(
    serve: Callable[..., Served],
) -> None:
    served = serve()
    api = f"{served.url}/api/v1/pact/footprints"
    bad = footprint_document(1)
    bad["pcf"]["pcfExcludingBiogenicUptake"] = 1.5  # a number: PACT decimals are strings
    refused = served.http.post(api, json=bad, headers=served.api(ALPHA, "editor"))
    assert refused.status_code == 422
    assert "pcfExcludingBiogenicUptake" in refused.json()["detail"]
    assert served.http.get(api, headers=served.api(ALPHA, "viewer")).json() == []

    pf_id = served.publish(ALPHA, footprint_document(2))
    deprecated = served.http.post(f"{api}/{pf_id}/deprecate", headers=served.api(ALPHA, "editor"))
    assert deprecated.status_code == 200
    assert deprecated.json()["status"] == "Deprecated"
    stored = served.http.get(f"{api}/{pf_id}", headers=served.api(ALPHA, "viewer"))
    assert json.loads(stored.content)["status"] == "Deprecated"


def test_the_service_worker_answers_a_partners_request_at_its_host(
    serve: Callable[..., Served],
    second_engine: Engine,
    tmp_path: Path,
    dev_cert: tuple[Path, Path],
    tls_context: ssl.SSLContext,
) -> None:
    # The customer runs a PACT host of its own, where our service has credentials.
    customer = ExchangeRepository(second_engine)
    customer_app = create_pact_app(second_engine, HostConfig(worker_interval=None))
    with BackgroundHost(customer_app, certfile=dev_cert[0], keyfile=dev_cert[1]) as theirs:
        customer.add_partner(
            "our-service", "secret-of-our-service-0123", name="Steel", organization="Steel Co"
        )
        credentials = tmp_path / "pact-credentials.json"
        credentials.write_text(
            json.dumps({theirs.url: ["our-service", "secret-of-our-service-0123"]}), "utf-8"
        )
        served = serve(
            pact_worker_interval=0.2, pact_credentials=credentials, pact_ca_cert=dev_cert[0]
        )
        pf_id = served.publish(ALPHA, footprint_document(1, company=COMPANY))
        made = served.partner(
            ALPHA, client_id="customer-host", host_url=theirs.url, grant_companies=[COMPANY]
        )
        # The customer sent a request to us earlier; it records it as sent to our service.
        request = {
            "type": REQUEST_CREATED,
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": theirs.url,
            "time": "2026-06-01T12:00:00Z",
            "data": {"productId": ["urn:pact:steel.example.com:product-id:P1"]},
        }
        customer.record_event(request, direction="sent", partner="our-service", status="delivered")
        headers = served.bearer("customer-host", str(made["client_secret"]))
        posted = served.http.post(
            f"{served.url}/pact/3/events",
            content=json.dumps(request).encode(),
            headers={**headers, "Content-Type": "application/cloudevents+json"},
        )
        assert posted.status_code == 200, posted.text

        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not customer.received(pf_id):
            time.sleep(0.1)
        [received] = customer.received(pf_id)
        assert received["via"] == "event"
        [answer] = customer.events(direction="received", type=REQUEST_FULFILLED)
        assert json.loads(answer["document"])["source"] == f"{served.url}/pact"


def test_production_refuses_plain_http_on_pact_only(tmp_path: Path, engine: Engine) -> None:
    production = {
        "production": True,
        "secret_key": "q7Xv2-Lr9pWm4TzKd8NcHs3JbY6fGa1E",
        "pact_worker_interval": 0,
    }
    app = create_app(_settings(tmp_path, **production), engine=engine)
    plain = TestClient(app)
    refused = plain.get("/pact/3/footprints")
    assert refused.status_code == 403
    assert refused.json()["code"] == "AccessDenied"
    assert "HTTPS" in refused.json()["message"]
    assert plain.get("/login").status_code == 200  # the rest of the service is not affected
    # A forwarded header counts only when the setting trusts the proxy.
    forwarded = {"X-Forwarded-Proto": "https"}
    assert plain.get("/pact/3/footprints", headers=forwarded).status_code == 403
    tls = TestClient(app, base_url="https://testserver")
    assert tls.get("/pact/3/footprints").status_code == 401  # past the guard: asks for a token

    behind_proxy = create_app(
        _settings(tmp_path, pact_forwarded_https=True, **production), engine=engine
    )
    proxied = TestClient(behind_proxy)
    assert proxied.get("/pact/3/footprints", headers=forwarded).status_code == 401
    assert proxied.get("/pact/3/footprints").status_code == 403
    # Development mode serves plain HTTP too (e.g. for a local try-out).
    development = create_app(_settings(tmp_path, pact_worker_interval=0), engine=engine)
    assert TestClient(development).get("/pact/3/footprints").status_code == 401


def test_dev_tls_certificate_is_made_once_in_the_workspace(tmp_path: Path) -> None:
    from cryptography import x509

    from carbonlink.commands.serve import dev_certificate

    cert, key = dev_certificate(tmp_path, "pact.local")
    assert cert.parent == tmp_path / "tls"
    assert key.stat().st_mode & 0o077 == 0
    first = cert.read_bytes()
    names = x509.load_pem_x509_certificate(first).extensions.get_extension_for_class(
        x509.SubjectAlternativeName
    )
    assert "pact.local" in names.value.get_values_for_type(x509.DNSName)
    assert dev_certificate(tmp_path, "pact.local") == (cert, key)
    assert cert.read_bytes() == first  # kept, so partners keep trusting it


def test_serve_needs_both_certificate_and_key(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from carbonlink.cli import app as cli

    result = CliRunner().invoke(
        cli, ["serve", "--workspace", str(tmp_path), "--certfile", str(tmp_path / "c.pem")]
    )
    assert result.exit_code != 0
    assert "give both --certfile and --keyfile" in str(result.exception)
