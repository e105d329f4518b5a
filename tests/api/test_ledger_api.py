"""/api/v1/ledger: checkpoint, proofs and entries, checked with the ledger's own verifiers."""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import pytest
from fastapi.testclient import TestClient

from carbonlink.ledger import Ledger, factor_set_entry, merkle
from carbonlink.ledger.note import Signer, open_checkpoint
from carbonlink.store.accounts_schema import users

if TYPE_CHECKING:
    from conftest import Service

ORG = "org-demo-steel"


def _client(service: Service, role: str) -> TestClient:
    key = service.app.state.ctx.accounts.create_api_key(ORG, f"{role} key", role)
    client = service.client()
    client.headers["Authorization"] = f"Bearer {key}"
    return client


@pytest.fixture
def logged(service: Service) -> tuple[Ledger, Signer]:
    """Seven entries, checkpoints signed at sizes 4 and 7; one organization has users."""
    engine = service.app.state.ctx.engine
    with engine.begin() as connection:
        connection.execute(users.delete().where(users.c.organization_id != ORG))
    ledger = Ledger(engine)
    signer = Signer.generate("example.com/plant-7")
    for i in range(7):
        ledger.append(factor_set_entry("grid", f"v{i}", content_sha256=f"{i:064x}"))
        if i in (3, 6):
            ledger.sign_checkpoint(signer)
    return ledger, signer


def test_an_auditor_checks_the_log_from_outside(
    service: Service, logged: tuple[Ledger, Signer]
) -> None:
    ledger, signer = logged
    client = _client(service, "auditor")
    cp = client.get("/api/v1/ledger/checkpoint").json()
    checkpoint, _ = open_checkpoint(cp["note"].encode(), signer.verifier())
    assert (cp["size"], cp["origin"]) == (7, "example.com/plant-7")
    root = base64.b64decode(cp["root_hash"])
    assert root == checkpoint.root_hash == ledger.root(7)
    for index in range(7):
        proof = client.get(f"/api/v1/ledger/proof/inclusion?index={index}&size=7").json()
        entry = client.get(f"/api/v1/ledger/entries/{index}").json()
        body = base64.b64decode(entry["entry"])
        assert body == ledger.entry(index).body
        assert entry["content"]["version"] == f"v{index}"
        leaf = merkle.leaf_hash(body)
        assert base64.b64decode(proof["leaf_hash"]) == leaf
        hashes = [base64.b64decode(h) for h in proof["hashes"]]
        assert len(hashes) == merkle.inclusion_proof_length(index, 7)
        assert merkle.root_from_inclusion_proof(leaf, index, 7, hashes) == root
    consistency = client.get("/api/v1/ledger/proof/consistency?first=4&second=7").json()
    merkle.verify_consistency(
        4, 7, ledger.root(4), root, [base64.b64decode(h) for h in consistency["hashes"]]
    )


def test_only_auditors_and_admins_see_the_ledger(
    service: Service, logged: tuple[Ledger, Signer]
) -> None:
    for role, status in (
        ("auditor", 200),
        ("admin", 200),
        ("editor", 403),
        ("viewer", 403),
        ("supplier", 403),
    ):
        client = _client(service, role)
        for path in (
            "/api/v1/ledger/checkpoint",
            "/api/v1/ledger/proof/inclusion?index=0&size=7",
            "/api/v1/ledger/proof/consistency?first=1&second=7",
            "/api/v1/ledger/entries/0",
        ):
            assert client.get(path).status_code == status, (role, path)
    assert service.client().get("/api/v1/ledger/checkpoint").status_code == 401


def test_impossible_questions_are_problems_not_errors(
    service: Service, logged: tuple[Ledger, Signer]
) -> None:
    client = _client(service, "auditor")
    for path, status in (
        ("/api/v1/ledger/proof/inclusion?index=7&size=7", 422),
        ("/api/v1/ledger/proof/inclusion?index=0&size=8", 422),
        ("/api/v1/ledger/proof/consistency?first=5&second=4", 422),
        ("/api/v1/ledger/proof/consistency?first=1&second=9", 422),
        ("/api/v1/ledger/entries/7", 404),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert response.headers["content-type"].startswith("application/problem+json")


def test_no_checkpoint_yet_is_not_found(service: Service) -> None:
    response = _client(service, "auditor").get("/api/v1/ledger/checkpoint")
    assert response.status_code == 404
    assert "checkpoint" in response.json()["detail"]


def test_entries_are_refused_while_organizations_share_the_service(service: Service) -> None:
    """The log is not kept per organization yet: hashes are served, entry content is not."""
    ledger = Ledger(service.app.state.ctx.engine)
    ledger.append(factor_set_entry("grid", "v1", content_sha256="0" * 64))
    ledger.sign_checkpoint(Signer.generate("example.com/plant-7"))
    client = _client(service, "auditor")
    assert client.get("/api/v1/ledger/checkpoint").status_code == 200
    assert client.get("/api/v1/ledger/proof/inclusion?index=0&size=1").status_code == 200
    refused = client.get("/api/v1/ledger/entries/0")
    assert refused.status_code == 403
    assert "several organizations" in refused.json()["detail"]
