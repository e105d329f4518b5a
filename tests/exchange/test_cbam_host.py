"""The CBAM communications on the PACT host: partner authentication and a receipt per answer."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from carbonlink.api import create_app
from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.exchange import cbam
from carbonlink.ledger import (
    Ledger,
    ReceiptError,
    ensure_ledger_key,
    load_ledger_verifier,
    verify_receipt,
)
from carbonlink.ledger.receipt import Receipt
from carbonlink.reports.cbam_exporter import build_exporter_communication, load_exporter_pack
from carbonlink.settings import Settings

ALPHA, BETA = "org-alpha", "org-beta"


def _service(engine: Engine, workspace: Path) -> tuple[TestClient, dict[str, dict[str, str]]]:
    ensure_ledger_key(workspace)
    settings = Settings(
        workspace=workspace, argon2_time_cost=1, argon2_memory_kib=1024, pact_worker_interval=0
    )
    app = create_app(settings, engine=engine)
    accounts = app.state.ctx.accounts
    keys = {
        org: {"Authorization": f"Bearer {accounts.create_api_key(org, f'{org} admin', 'admin')}"}
        for org in (ALPHA, BETA)
    }
    return TestClient(app, base_url="https://testserver"), keys


def _token(client: TestClient, admin: dict[str, str], client_id: str) -> str:
    partner = client.post(
        "/api/v1/pact/partners",
        json={"name": "EU importer", "organization": "Importer GmbH", "client_id": client_id},
        headers=admin,
    )
    assert partner.status_code == 201, partner.text
    token = client.post(
        "/pact/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, partner.json()["client_secret"]),
    )
    assert token.status_code == 200, token.text
    return str(token.json()["access_token"])


def test_a_partner_reads_the_published_communication_with_a_receipt_that_verifies(
    engine: Engine, tmp_path: Path
) -> None:
    workspace = tmp_path / "ws"
    client, keys = _service(engine, workspace)
    communication = build_exporter_communication(
        load_exporter_pack(demo_cbam_input("cbam-tangshan-exporter.yaml"))
    )
    first = cbam.publish(engine, ALPHA, "tangshan-2025", communication)
    # Publishing the same content again changes nothing.
    assert cbam.publish(engine, ALPHA, "tangshan-2025", communication) == first

    # Without a token: 401 with a PACT error naming the token endpoint.
    anonymous = client.get("/pact/cbam/communications/tangshan-2025")
    assert anonymous.status_code == 401
    assert "auth/token" in anonymous.json()["message"]
    assert client.get("/pact/cbam/communications").status_code == 401

    bearer = {"Authorization": f"Bearer {_token(client, keys[ALPHA], 'importer-1')}"}
    listed = client.get("/pact/cbam/communications", headers=bearer)
    assert listed.status_code == 200
    [row] = listed.json()["data"]
    assert row["id"] == "tangshan-2025" and row["status"] == "verified"
    assert row["cnCodes"] == ["72011011", "72083900"]

    served = client.get("/pact/cbam/communications/tangshan-2025", headers=bearer)
    assert served.status_code == 200
    assert served.json()["good"][1]["cnCode"] == "72083900"
    saved = tmp_path / "tangshan-2025.catenax-cbam.json"
    saved.write_bytes(served.content)
    receipt = Receipt.parse(base64.b64decode(served.headers[cbam.RECEIPT_HEADER]))
    verified = verify_receipt(receipt, load_ledger_verifier(workspace), files=[saved])
    assert verified.content["report_kind"] == "cbam-catenax"
    assert verified.index == int(served.headers[cbam.INDEX_HEADER])

    # A second answer reuses the entry of this version; the receipt file verifies too.
    again = client.get("/pact/cbam/communications/tangshan-2025/receipt", headers=bearer)
    assert again.status_code == 200
    assert (
        verify_receipt(
            Receipt.parse(again.content), load_ledger_verifier(workspace), files=[saved]
        ).index
        == verified.index
    )
    assert len(Ledger(engine).find(f"report:{first.report_id}")) == 1

    # A changed document fails against the receipt.
    changed = json.loads(served.content)
    changed["good"][0]["cnCode"] = "72011019"
    saved.write_text(json.dumps(changed), "utf-8")
    with pytest.raises(ReceiptError, match="SHA-256"):
        verify_receipt(receipt, load_ledger_verifier(workspace), files=[saved])


def test_another_organizations_partner_sees_nothing(engine: Engine, tmp_path: Path) -> None:
    client, keys = _service(engine, tmp_path / "ws")
    communication = build_exporter_communication(
        load_exporter_pack(demo_cbam_input("cbam-tangshan-exporter.yaml"))
    )
    cbam.publish(engine, ALPHA, "tangshan-2025", communication)
    bearer = {"Authorization": f"Bearer {_token(client, keys[BETA], 'beta-importer')}"}
    assert client.get("/pact/cbam/communications", headers=bearer).json() == {"data": []}
    missing = client.get("/pact/cbam/communications/tangshan-2025", headers=bearer)
    assert missing.status_code == 404
    assert missing.json()["code"] == "NotFound"
