"""Issued credentials in the store: did:web keys, status list positions, revocation; the
revocation read by Digital Bazaar's Bitstring Status List implementation as well."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from test_credentials import FOOTPRINT, digital_bazaar

from carbonlink.credentials.documents import pcf_subject
from carbonlink.credentials.errors import VerificationFailed
from carbonlink.credentials.registry import CredentialRegistry, did_web

SERVICE = "https://carbon.example:8443"


def test_did_web_names_follow_the_method(tmp_path: Path) -> None:
    # did:web §3.2: the port's colon is percent-encoded, path segments are joined by colons.
    assert did_web(SERVICE, "org-demo") == "did:web:carbon.example%3A8443:orgs:org-demo"
    assert did_web("https://x.test/base/", "a") == "did:web:x.test:base:orgs:a"


def test_issue_verify_revoke(engine: Engine, tmp_path: Path) -> None:
    registry = CredentialRegistry(engine, tmp_path, SERVICE)
    first = registry.issue("org-a", "pcf", pcf_subject(FOOTPRINT), title="HRC", issued_by="user:1")
    second = registry.issue(
        "org-a", "pcf", pcf_subject(FOOTPRINT), title="HRC", issued_by="user:1", holder="u2"
    )
    key_file = tmp_path / "keys" / "issuers" / "org-a.ed25519"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [c["credentialStatus"]["statusListIndex"] for c in (first, second)] == ["0", "1"]
    assert first["issuer"] == "did:web:carbon.example%3A8443:orgs:org-a"
    found = registry.verify(first)
    assert found.checks == ("proof", "issuer", "validFrom", "status") and found.revoked is False
    assert [c.id for c in registry.credentials("org-a", holder="u2")] == [second["id"]]
    assert registry.credentials("org-b") == []
    assert registry.revoke("org-a", first["id"], "user:1")
    assert registry.revoke("org-a", first["id"], "user:1")  # again: no change, still True
    assert not registry.revoke("org-b", first["id"], "user:1")
    with pytest.raises(VerificationFailed, match="revoked"):
        registry.verify(first)
    assert registry.verify(second).revoked is False

    # Digital Bazaar: the did:web document and the status list given as files, nothing fetched.
    (tmp_path / "did.json").write_text(json.dumps(registry.did_document("org-a")))
    (tmp_path / "status.json").write_text(json.dumps(registry.status_list("org-a")))
    for credential, revoked in ((first, True), (second, False)):
        path = tmp_path / "credential.json"
        path.write_text(json.dumps(credential))
        answer = digital_bazaar(
            path, "--did", tmp_path / "did.json", "--status", tmp_path / "status.json"
        )
        assert answer["verified"] is True, answer
        assert answer["revoked"] is revoked


def test_a_foreign_did_web_needs_its_document(engine: Engine, tmp_path: Path) -> None:
    ours = CredentialRegistry(engine, tmp_path / "a", SERVICE)
    theirs = CredentialRegistry(engine, tmp_path / "b", "https://other.example")
    credential = theirs.issue(
        "org-z",
        "pcf",
        pcf_subject(FOOTPRINT),
        title="x",
        issued_by="user:9",
        now=datetime.now(UTC) - timedelta(minutes=1),
    )
    with pytest.raises(VerificationFailed, match="not served by this carbonlink"):
        ours.verify(credential)
