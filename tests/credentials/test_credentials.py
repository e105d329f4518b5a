"""Credentials: Multikey and did:key, eddsa-rdfc-2022 proofs, KPI packs, status lists; and the
same credentials checked by an independent implementation (Digital Bazaar's, from npm)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from carbonlink.credentials.documents import issue, pcf_subject, verify
from carbonlink.credentials.errors import CredentialError, VerificationFailed
from carbonlink.credentials.kpi import Evidence, KpiInputs, Target, kpi_pack_subject, kpi_values
from carbonlink.credentials.multikey import (
    base58btc_decode,
    base58btc_encode,
    did_key,
    did_key_method,
    public_key_of,
    public_multikey,
)
from carbonlink.credentials.proof import SigningKey
from carbonlink.credentials.status import decode_list, encode_list

ROOT = Path(__file__).resolve().parents[2]
FRONTEND = ROOT / "frontend"
VERIFIER = Path(__file__).with_name("verify_credential.mjs")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
SEED = bytes(range(32))  # a fixed key: 00 01 02 … 1f


def signing_key(seed: bytes = SEED) -> SigningKey:
    private = Ed25519PrivateKey.from_private_bytes(seed)
    public = SigningKey(private, "").public_key
    return SigningKey(private, did_key_method(public))


FOOTPRINT: dict[str, Any] = {
    "id": "7d3c1b7e-1f0a-4c55-9a43-2b8e9f1d6c20",
    "specVersion": "3.0.3",
    "created": "2026-01-15T00:00:00Z",
    "status": "Active",
    "companyName": "Demo Steel Co., Ltd.",
    "companyIds": ["urn:pact:demo-steel.example:company-id:1"],
    "productDescription": "Hot-rolled coil Q235B",
    "productIds": ["urn:pact:demo-steel.example:product-id:hrc"],
    "productNameCompany": "Hot-rolled coil",
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2026-01-01T00:00:00Z",
        "pcfExcludingBiogenicUptake": "2.1",
        "pcfIncludingBiogenicUptake": "2.1",
        "fossilGhgEmissions": "2.1",
    },
}

# Hand-worked: (2 000 + 500) t / 1 000 t = 2.5 t CO2e/t; 200 / 800 MWh = 25 %.
INPUTS = KpiInputs(
    organization="Demo Steel Co., Ltd.",
    period_start="2025-01-01",
    period_end="2025-12-31",
    scope1_t=2000.0,
    scope2_market_t=500.0,
    product="crude_steel",
    production_t=1000.0,
    electricity_mwh=800.0,
    renewable_mwh=200.0,
)
TARGETS = (
    Target("ghgIntensity", "at_most", 2.4),
    Target("renewableElectricityShare", "at_least", 20.0),
)


def pcf_credential() -> dict[str, Any]:
    key = signing_key()
    return issue("pcf", pcf_subject(FOOTPRINT), key, issuer=did_key(key.public_key), now=NOW)


def kpi_credential() -> dict[str, Any]:
    key = signing_key()
    subject = kpi_pack_subject(
        INPUTS,
        TARGETS,
        [Evidence("reports/ghg-inventory", 12, "c2sp.org/tlog-proof@v1\nindex 12\n")],
        borrower=did_key(key.public_key),
        lender="did:web:bank.example",
        loan="SLL-2026-001",
    )
    return issue("kpi", subject, key, issuer=did_key(key.public_key), now=NOW)


def test_base58_and_multikey_round_trip() -> None:
    assert base58btc_encode(b"\0\0\x01") == "112"
    assert base58btc_encode(b"hello world") == "StV1DL6CwTryKyV"
    assert base58btc_decode("StV1DL6CwTryKyV") == b"hello world"
    public = signing_key().public_key
    assert public_key_of(public_multikey(public)) == public
    # Every Ed25519 did:key starts with z6Mk: the multicodec header 0xed01 in base58.
    assert did_key(public).startswith("did:key:z6Mk")


def test_the_spec_example_key_pair() -> None:
    """The key pair of the VC-DI-EdDSA 1.0 examples: secret multikey → its public multikey."""
    secret = base58btc_decode("3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq")
    assert secret[:2] == b"\x80\x26" and len(secret) == 34
    key = SigningKey(Ed25519PrivateKey.from_private_bytes(secret[2:]), "")
    assert public_multikey(key.public_key) == "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"


def test_kpis_and_targets_by_hand() -> None:
    values = kpi_values(INPUTS)
    assert values == {
        "ghgIntensity": 2.5,
        "renewableElectricityShare": 25.0,
        "verifiedScope12": 2500.0,
    }
    subject = kpi_credential()["credentialSubject"]
    kpis = {k["name"]: k for k in subject["kpi"]}
    assert kpis["ghgIntensity"]["value"] == "2.5000"
    assert kpis["ghgIntensity"]["target"] == {"bound": "at_most", "value": "2.4000", "met": False}
    assert kpis["renewableElectricityShare"]["target"]["met"] is True
    assert kpis["verifiedScope12"]["value"] == "2500.000000"
    assert "target" not in kpis["verifiedScope12"]
    assert subject["evidence"][0]["ledgerIndex"] == "12"


def test_carbonlink_verifies_its_credentials_and_refuses_a_changed_byte() -> None:
    for credential in (pcf_credential(), kpi_credential()):
        found = verify(credential, now=NOW)
        assert found.checks == ("proof", "issuer", "validFrom")
        changed = json.loads(one_byte_changed(json.dumps(credential)))
        with pytest.raises(VerificationFailed, match="signature does not match"):
            verify(changed, now=NOW)


def test_a_credential_is_not_valid_before_its_date_nor_with_another_key() -> None:
    credential = pcf_credential()
    with pytest.raises(VerificationFailed, match="not valid now"):
        verify(credential, now=datetime(2026, 2, 1, tzinfo=UTC))
    other = signing_key(bytes(32))
    credential["issuer"] = did_key(other.public_key)
    with pytest.raises(VerificationFailed, match="not the issuer"):
        verify(credential, now=NOW)


def test_unknown_contexts_and_relative_identifiers_are_refused() -> None:
    key = signing_key()
    with pytest.raises(CredentialError, match="relative IRI"):
        issue("kpi", {"id": "borrower-1"}, key, issuer=did_key(key.public_key), now=NOW)
    credential = pcf_credential()
    credential["@context"] = [*credential["@context"], "https://example.org/ctx"]
    with pytest.raises(VerificationFailed, match=r"must set @vocab"):
        verify(credential, now=NOW)


def test_status_list_bits() -> None:
    bits = decode_list(encode_list([0, 9, 131071]))
    assert len(bits) == 16384
    assert bits[0] == 0x80 and bits[1] == 0x40 and bits[-1] == 0x01
    assert sum(bin(b).count("1") for b in bits) == 3


def one_byte_changed(text: str) -> str:
    """The credential's JSON with one byte of a claim changed: "2.1" → "2.2" or 2.5 → 2.6."""
    for old, new in (('"2.1"', '"2.2"'), ('"2.5000"', '"2.6000"')):
        if old in text:
            changed = text.replace(old, new, 1)
            assert sum(a != b for a, b in zip(text, changed, strict=True)) == 1
            return changed
    raise AssertionError("no claim to change")


def digital_bazaar(*args: str | Path) -> dict[str, Any]:
    """Run the Digital Bazaar verifier script; its one-line JSON answer."""
    node = shutil.which("node")
    assert node, "Node.js is needed for the independent verification"
    assert (FRONTEND / "node_modules" / "@digitalbazaar" / "vc").is_dir(), (
        "run 'make .venv/.installed' (npm ci installs @digitalbazaar/vc)"
    )
    done = subprocess.run(
        [node, str(VERIFIER), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "FRONTEND_DIR": str(FRONTEND)},
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


@pytest.mark.parametrize("make", [pcf_credential, kpi_credential], ids=["pcf", "kpi-pack"])
def test_digital_bazaar_verifies_what_carbonlink_signed_and_not_a_changed_byte(
    make: Any, tmp_path: Path
) -> None:
    text = json.dumps(make(), indent=2)
    good = tmp_path / "credential.json"
    good.write_text(text)
    assert digital_bazaar(good) == {"verified": True, "revoked": None, "error": ""}
    bad = tmp_path / "changed.json"
    bad.write_text(one_byte_changed(text))
    answer = digital_bazaar(bad)
    assert answer["verified"] is False and "Invalid signature" in answer["error"]
    with pytest.raises(VerificationFailed):
        verify(json.loads(bad.read_text()), now=NOW)


def test_carbonlink_verifies_what_digital_bazaar_signed(tmp_path: Path) -> None:
    key = signing_key()
    unsigned = {
        "@context": pcf_credential()["@context"],
        "id": "urn:uuid:2f7c1d38-5a55-4d0e-9d6b-6f0b0a3c4e11",
        "type": ["VerifiableCredential", "ProductFootprintCredential"],
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": pcf_subject(FOOTPRINT),
    }
    (tmp_path / "unsigned.json").write_text(json.dumps(unsigned))
    out = tmp_path / "signed.json"
    answer = digital_bazaar("--issue", tmp_path / "unsigned.json", SEED.hex(), out)
    assert answer == {"issued": True, "issuer": did_key(key.public_key)}
    signed = json.loads(out.read_text())
    found = verify(signed, now=NOW)
    assert (found.issuer, found.kind) == (did_key(key.public_key), "pcf")
    signed["credentialSubject"]["productFootprint"]["pcf"]["fossilGhgEmissions"] = "2.2"
    with pytest.raises(VerificationFailed):
        verify(signed, now=NOW)


def test_malformed_credentials_are_refused_with_a_reason_never_a_crash() -> None:
    from carbonlink.credentials.documents import read_credential

    broken_term = pcf_credential()
    broken_term["@context"][1]["productFootprint"]["@id"] = {"not": "an IRI"}
    keyword = kpi_credential()
    keyword["credentialSubject"]["@graph"] = {"id": "urn:x"}
    relative = pcf_credential()
    relative["credentialSubject"]["id"] = "borrower-1"
    for credential in (broken_term, keyword, relative):
        with pytest.raises(VerificationFailed):
            verify(credential, now=NOW)
    with pytest.raises(CredentialError, match="is not JSON"):
        read_credential("[" * 100_000)
