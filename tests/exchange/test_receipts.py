"""Ledger receipts of footprints: every one published or received is an entry, checked offline."""

from __future__ import annotations

import hashlib
import json
import ssl
import uuid
from pathlib import Path

import pytest
from exchange_helpers import footprint_document
from fastapi.testclient import TestClient
from sqlalchemy import Engine, update
from typer.testing import CliRunner

from carbonlink.api import create_app
from carbonlink.cli import app as cli
from carbonlink.exchange import receipts
from carbonlink.exchange.client import PactClient
from carbonlink.exchange.pact import REQUEST_CREATED, REQUEST_FULFILLED
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.exchange.schema import pact_footprints, pact_received_footprints
from carbonlink.exchange.server import BackgroundHost
from carbonlink.ledger import Ledger, ReceiptError, ensure_ledger_key, verify_receipt
from carbonlink.ledger.keys import PUBLIC_KEY_FILE, key_folder
from carbonlink.ledger.receipt import Receipt
from carbonlink.settings import Settings

ALPHA, BETA = "org-alpha", "org-beta"
COMPANY = "urn:pact:steel.example.com:company-id:1"


def _service(engine: Engine, workspace: Path) -> tuple[TestClient, dict[str, dict[str, str]]]:
    ensure_ledger_key(workspace)
    settings = Settings(
        workspace=workspace, argon2_time_cost=1, argon2_memory_kib=1024, pact_worker_interval=0
    )
    app = create_app(settings, engine=engine)
    accounts = app.state.ctx.accounts
    keys = {
        f"{org}:{role}": {
            "Authorization": f"Bearer {accounts.create_api_key(org, f'{org} {role}', role)}"
        }
        for org in (ALPHA, BETA)
        for role in ("admin", "editor", "viewer")
    }
    return TestClient(app, base_url="https://testserver"), keys


def _entries(engine: Engine, org: str, direction: str, pf_id: str) -> list[dict[str, object]]:
    found = Ledger(engine).find(receipts.subject_of(org, direction, pf_id))
    return [entry.content() for entry in found]


def _verify(workspace: Path, receipt: bytes, document: Path) -> dict[str, object]:
    from carbonlink.ledger import load_ledger_verifier

    verified = verify_receipt(
        Receipt.parse(receipt), load_ledger_verifier(workspace), files=[document]
    )
    return verified.content


def test_publishing_records_the_documents_sha256_and_the_receipt_verifies(
    engine: Engine, tmp_path: Path
) -> None:
    client, keys = _service(engine, tmp_path / "ws")
    made = client.post(
        "/api/v1/pact/footprints", json=footprint_document(1), headers=keys[f"{ALPHA}:editor"]
    )
    assert made.status_code == 201, made.text
    pf_id = made.json()["id"]
    stored = client.get(f"/api/v1/pact/footprints/{pf_id}", headers=keys[f"{ALPHA}:viewer"])
    digest = hashlib.sha256(stored.content).hexdigest()
    assert made.json()["sha256"] == digest
    [entry] = _entries(engine, ALPHA, "sent", pf_id)
    assert entry["kind"] == "footprint"
    assert entry["document_sha256"] == digest
    assert entry["direction"] == "sent"
    assert entry["footprint_id"] == pf_id

    answer = client.get(f"/api/v1/pact/footprints/{pf_id}/receipt", headers=keys[f"{ALPHA}:viewer"])
    assert answer.status_code == 200, answer.text
    assert answer.headers["x-document-sha256"] == digest
    document = tmp_path / f"{pf_id}.json"
    document.write_bytes(stored.content)
    content = _verify(tmp_path / "ws", answer.content, document)
    assert content["document_sha256"] == digest
    # The same offline, from the command line, with the public key only.
    receipt_file = tmp_path / f"{pf_id}.tlog-proof"
    receipt_file.write_bytes(answer.content)
    vkey = key_folder(tmp_path / "ws") / PUBLIC_KEY_FILE
    result = CliRunner().invoke(
        cli, ["verify", str(receipt_file), str(document), "--key", str(vkey)]
    )
    assert result.exit_code == 0, result.output

    # Another organization gets no receipt of it; a new version is a new entry.
    other = client.get(f"/api/v1/pact/footprints/{pf_id}/receipt", headers=keys[f"{BETA}:admin"])
    assert other.status_code == 404
    client.post(f"/api/v1/pact/footprints/{pf_id}/deprecate", headers=keys[f"{ALPHA}:editor"])
    versions = _entries(engine, ALPHA, "sent", pf_id)
    assert len(versions) == 2
    assert versions[0]["document_sha256"] != versions[1]["document_sha256"]


def test_footprints_received_by_event_and_by_pull_get_entries(
    engine: Engine,
    tmp_path: Path,
    dev_cert: tuple[Path, Path],
    tls_context: ssl.SSLContext,
) -> None:
    client, keys = _service(engine, tmp_path / "ws")
    # Alpha publishes a footprint and lets beta's purchasing see it (a partner of alpha).
    pf_pulled = client.post(
        "/api/v1/pact/footprints",
        json=footprint_document(1, company=COMPANY),
        headers=keys[f"{ALPHA}:editor"],
    ).json()["id"]
    partner = client.post(
        "/api/v1/pact/partners",
        json={
            "name": "Beta purchasing",
            "organization": "Beta",
            "client_id": "beta-buyer",
            "grant_companies": [COMPANY],
        },
        headers=keys[f"{ALPHA}:admin"],
    ).json()
    # By pull: beta pulls from alpha's host under /pact of the service, served over HTTPS.
    beta = ExchangeRepository(engine, organization_id=BETA)
    secret = partner["client_secret"]
    served = BackgroundHost(client.app, certfile=dev_cert[0], keyfile=dev_cert[1])
    with served, PactClient(f"{served.url}/pact", "beta-buyer", secret, verify=tls_context) as pact:
        [pulled] = pact.pull(beta)
    assert pulled.id == pf_pulled

    # By event: beta asked a supplier of its own (with credentials here) and it answers.
    supplier = client.post(
        "/api/v1/pact/partners",
        json={"name": "Supplier", "organization": "Supplier Co", "client_id": "beta-supplier"},
        headers=keys[f"{BETA}:admin"],
    ).json()
    request_id = str(uuid.uuid4())
    beta.record_event(
        {"type": REQUEST_CREATED, "id": request_id, "data": {}},
        direction="sent",
        partner="beta-supplier",
        status="delivered",
    )
    sent_pf = footprint_document(7, company="urn:pact:supplier.example.com:company-id:9")
    token = client.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        auth=("beta-supplier", supplier["client_secret"]),
    ).json()["access_token"]
    fulfilled = {
        "type": REQUEST_FULFILLED,
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": "https://supplier.example.com/pact",
        "time": "2026-06-01T12:00:00Z",
        "data": {"requestEventId": request_id, "pfs": [sent_pf]},
    }
    posted = client.post(
        "/pact/3/events",
        content=json.dumps(fulfilled).encode(),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/cloudevents+json",
        },
    )
    assert posted.status_code == 200, posted.text

    # Received footprints are recorded by the service's worker run (here: called once).
    assert _entries(engine, BETA, "received", sent_pf["id"]) == []
    recorder = receipts.ReceiptRecorder(engine)
    recorder.run_once()
    for pf_id, via in ((pf_pulled, "pull"), (sent_pf["id"], "event")):
        [row] = beta.received(pf_id)
        assert row["via"] == via
        [entry] = _entries(engine, BETA, "received", pf_id)
        assert entry["document_sha256"] == hashlib.sha256(row["document"].encode()).hexdigest()
        assert entry["direction"] == "received"
        assert entry["partner"] == row["source"]
    assert recorder.run_once() == []  # nothing new: nothing appended again
    assert all(check.ok for check in receipts.check_stored(Ledger(engine), engine))

    listed = client.get("/api/v1/pact/received", headers=keys[f"{BETA}:viewer"]).json()
    assert sorted(r["via"] for r in listed) == ["event", "pull"]
    assert client.get("/api/v1/pact/received", headers=keys[f"{ALPHA}:viewer"]).json() == []
    answer = client.get(
        f"/api/v1/pact/received/{sent_pf['id']}/receipt", headers=keys[f"{BETA}:viewer"]
    )
    assert answer.status_code == 200, answer.text
    document = tmp_path / "received.json"
    document.write_bytes(
        client.get(f"/api/v1/pact/received/{sent_pf['id']}", headers=keys[f"{BETA}:viewer"]).content
    )
    assert _verify(tmp_path / "ws", answer.content, document)["direction"] == "received"


@pytest.mark.parametrize("direction", ["sent", "received"])
def test_a_stored_document_changed_after_its_entry_is_detected(
    engine: Engine, tmp_path: Path, direction: str
) -> None:
    client, keys = _service(engine, tmp_path / "ws")
    repository = ExchangeRepository(engine, organization_id=ALPHA)
    original = footprint_document(3)
    if direction == "sent":
        pf_id = repository.publish(json.dumps(original))
        table, key = pact_footprints, pact_footprints.c.pf_id
        path = f"/api/v1/pact/footprints/{pf_id}"
    else:
        pf_id = repository.store_received(json.dumps(original), source="supplier", via="pull").id
        table, key = pact_received_footprints, pact_received_footprints.c.pf_id
        path = f"/api/v1/pact/received/{pf_id}"
    receipts.ReceiptRecorder(engine).run_once()
    viewer = keys[f"{ALPHA}:viewer"]
    genuine = client.get(f"{path}/receipt", headers=viewer)
    assert genuine.status_code == 200
    kept = tmp_path / "original.json"
    kept.write_bytes(client.get(path, headers=viewer).content)

    # Someone with write access to the database lowers the footprint.
    changed = dict(original, pcf=dict(original["pcf"], pcfExcludingBiogenicUptake="0.5"))
    with engine.begin() as connection:
        connection.execute(update(table).where(key == pf_id).values(document=json.dumps(changed)))

    [check] = [c for c in receipts.check_stored(Ledger(engine), engine, ALPHA)]
    assert not check.ok
    assert check.footprint.pf_id == pf_id
    refused = client.get(f"{path}/receipt", headers=viewer)
    assert refused.status_code == 400
    assert "differs from every version the ledger recorded" in refused.json()["detail"]
    # The receipt handed out before still proves the original, and exposes the changed copy.
    assert _verify(tmp_path / "ws", genuine.content, kept)["direction"] == direction
    tampered = tmp_path / "tampered.json"
    tampered.write_bytes(client.get(path, headers=viewer).content)
    with pytest.raises(ReceiptError, match="SHA-256 mismatch"):
        _verify(tmp_path / "ws", genuine.content, tampered)
