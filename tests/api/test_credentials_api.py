"""Credentials over HTTP: did:web documents and status lists, the API, and the lender's page."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from carbonlink.credentials.kpi import Evidence, KpiInputs, Target, kpi_pack_subject
from carbonlink.credentials.registry import CredentialRegistry

if TYPE_CHECKING:
    from conftest import Service

DEMO_ORG = "org-demo-steel"
LENDER = "lender@demo.test"
PASSWORD = "correct horse battery staple"
FOOTPRINT = {
    "id": "5b0f3c52-0d8e-4f0e-8f11-7a6b2c1d9e00",
    "specVersion": "3.0.3",
    "productNameCompany": "Test coil",
    "pcf": {"declaredUnitOfMeasurement": "kilogram", "pcfExcludingBiogenicUptake": "2.1"},
}
# Hand-worked: (3 000 + 1 000) t / 2 000 t = 2 t CO2e/t; 300 / 1 000 MWh = 30 %.
INPUTS = KpiInputs("Test Steel", "2025-01-01", "2025-12-31", 3000, 1000, "coil", 2000, 1000, 300)
TARGETS = (
    Target("ghgIntensity", "at_most", 1.8),
    Target("renewableElectricityShare", "at_least", 25),
)


def login(service: Service, role: str, landing: str) -> TestClient:
    client = service.client()
    client.get("/login")
    token = client.cookies.get("carbonlink_login_csrf")
    done = client.post(
        "/login",
        data={"email": service.users[role], "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    assert done.headers["location"] == landing
    match = re.search(r'name="csrf-token" content="([^"]+)"', client.get(landing).text)
    assert match
    client.headers["X-CSRF-Token"] = match.group(1)
    return client


def issue_kpi_pack(service: Service, holder: str = LENDER) -> dict[str, Any]:
    ctx = service.app.state.ctx
    registry = CredentialRegistry(ctx.engine, ctx.settings.workspace, ctx.settings.service_url)
    subject = kpi_pack_subject(
        INPUTS,
        TARGETS,
        [Evidence("inventory.json", 9, "c2sp.org/tlog-proof@v1\n")],
        borrower=registry.did(DEMO_ORG),
        lender="Demo Green Bank",
        loan="SLL-TEST-7",
    )
    return registry.issue(
        DEMO_ORG, "kpi", subject, title="SLL-TEST-7 · 2025", issued_by="t", holder=holder
    )


def test_issue_list_verify_and_revoke_through_the_api(service: Service) -> None:
    editor = login(service, "editor", "/")
    issued = editor.post(
        "/api/v1/credentials", json={"kind": "pcf", "document": FOOTPRINT, "holder": LENDER}
    )
    assert issued.status_code == 201, issued.text
    credential = issued.json()
    assert credential["issuer"] == "did:web:127.0.0.1%3A8000:orgs:org-demo-steel"
    assert credential["credentialSubject"]["productFootprint"] == FOOTPRINT

    public = service.client()
    did = public.get("/orgs/org-demo-steel/did.json")
    assert did.status_code == 200 and did.headers["content-type"] == "application/did+json"
    assert did.json()["id"] == credential["issuer"]
    status = public.get("/orgs/org-demo-steel/credentials/status").json()
    assert status["credentialSubject"]["type"] == "BitstringStatusList"
    assert public.get("/orgs/org-unknown/did.json").status_code == 404

    verified = editor.post("/api/v1/credentials/verify", json=credential).json()
    assert verified["verified"] is True and verified["kind"] == "pcf"
    assert verified["checks"] == ["proof", "issuer", "validFrom", "status"]
    changed = json.loads(json.dumps(credential).replace('"2.1"', '"2.2"', 1))
    answer = editor.post("/api/v1/credentials/verify", json=changed).json()
    assert answer["verified"] is False and "signature does not match" in answer["error"]

    lender = login(service, "lender", "/lender")
    assert [c["id"] for c in lender.get("/api/v1/credentials").json()] == [credential["id"]]
    assert lender.get(f"/api/v1/credentials/{credential['id']}").json() == credential
    assert lender.post(f"/api/v1/credentials/{credential['id']}/revoke").status_code == 403
    other = login(service, "other", "/")
    assert other.get("/api/v1/credentials").json() == []
    assert other.get(f"/api/v1/credentials/{credential['id']}").status_code == 404

    assert editor.post(f"/api/v1/credentials/{credential['id']}/revoke").json()["revoked"]
    answer = lender.post("/api/v1/credentials/verify", json=credential).json()
    assert answer == {
        "verified": False,
        "error": "the issuer has revoked the credential",
    }


def test_the_lender_page_lists_downloads_and_verifies_packs(service: Service) -> None:
    pack = issue_kpi_pack(service)
    theirs = issue_kpi_pack(service, holder="someone-else@bank.test")["id"].removeprefix(
        "urn:uuid:"
    )
    lender = login(service, "lender", "/lender")
    page = lender.get("/lender?lang=en")
    assert page.status_code == 200
    uuid = pack["id"].removeprefix("urn:uuid:")
    assert uuid in page.text and theirs not in page.text  # only the pack shared with this lender
    assert "2.0000 t CO2e/t" in page.text and "not met" in page.text
    download = lender.get(f"/lender/credentials/{uuid}")
    assert download.status_code == 200 and json.loads(download.text) == pack
    assert "attachment" in download.headers["content-disposition"]

    csrf = lender.headers["X-CSRF-Token"]
    good = lender.post("/lender/verify", data={"csrf_token": csrf, "credential": download.text})
    assert good.status_code == 200 and 'class="verify-result ok"' in good.text, re.sub(
        r"(?s).*<div id=\"result\"", "", good.text
    )[:600]
    assert "30.0000 %" in good.text
    bad = download.text.replace('"2.0000"', '"1.0000"', 1)
    refused = lender.post(
        "/lender/verify",
        data={"csrf_token": csrf},
        files={"upload": ("pack.json", bad.encode(), "application/json")},
    )
    assert 'class="verify-result failed"' in refused.text
    assert "signature does not match" in refused.text
    junk = lender.post("/lender/verify", data={"csrf_token": csrf, "credential": "{not json"})
    assert junk.status_code == 422 and "is not JSON" in junk.text
    zh = lender.get("/lender?lang=zh").text
    assert "可持续发展挂钩贷款" in zh and "未达成" in zh

    # Lenders see nothing else; suppliers do not see the lender page.
    assert lender.get("/").status_code == 403
    assert lender.get("/api/v1/facilities").status_code == 403
    viewer = login(service, "viewer", "/")
    everything = viewer.get("/lender").text
    assert uuid in everything and theirs in everything  # readers see every pack
    supplier = service.client()
    supplier.get("/login")
    done = supplier.post(
        "/login",
        data={
            "email": service.users["supplier"],
            "password": PASSWORD,
            "csrf_token": supplier.cookies.get("carbonlink_login_csrf"),
        },
    )
    assert done.history and done.history[0].status_code == 303  # logged in (its portal: 403,
    # as this supplier answers for no partner)
    assert supplier.get("/lender").status_code == 403
    assert supplier.get(f"/lender/credentials/{uuid}").status_code == 403


def test_a_damaged_stored_credential_shows_a_message_not_an_error(service: Service) -> None:
    from carbonlink.store.credentials_schema import issued_credentials

    pack = issue_kpi_pack(service)
    engine = service.app.state.ctx.engine
    with engine.begin() as conn:
        conn.execute(issued_credentials.update().values(document="{damaged"))
    lender = login(service, "lender", "/lender")
    assert lender.get("/lender").status_code == 200
    stored = lender.get(f"/api/v1/credentials/{pack['id']}").json()
    assert stored["error"] == "the stored credential is not a JSON object"
    answer = lender.post("/api/v1/credentials/verify", json=stored).json()
    assert answer["verified"] is False and "not a VerifiableCredential" in answer["error"]


def test_an_editor_revokes_a_pack_from_the_page_and_the_lender_sees_it_revoked(
    service: Service,
) -> None:
    pack = issue_kpi_pack(service)
    uuid = pack["id"].removeprefix("urn:uuid:")
    lender = login(service, "lender", "/lender")
    assert f"/lender/credentials/{uuid}/revoke" not in lender.get("/lender").text
    refused = lender.post(
        f"/lender/credentials/{uuid}/revoke", data={"csrf_token": lender.headers["X-CSRF-Token"]}
    )
    assert refused.status_code == 403
    editor = login(service, "editor", "/")
    csrf = editor.headers["X-CSRF-Token"]
    done = editor.post(
        f"/lender/credentials/{uuid}/revoke", data={"csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303 and done.headers["location"] == "/lender#packs"
    assert "revoked" in lender.get("/lender?lang=en").text
    page = lender.post(
        "/lender/verify",
        data={"csrf_token": lender.headers["X-CSRF-Token"], "credential": json.dumps(pack)},
    )
    assert "the issuer has revoked the credential" in page.text
    other = login(service, "other", "/")
    missing = other.post(
        f"/lender/credentials/{uuid}/revoke", data={"csrf_token": other.headers["X-CSRF-Token"]}
    )
    assert missing.status_code == 404
