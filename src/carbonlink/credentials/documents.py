"""The credentials carbonlink issues, and their verification.

A credential is a W3C Verifiable Credential 2.0 (``@context`` the VC 2.0 context and our inline
vocabulary, `carbonlink.credentials.contexts.CONTEXT`) with one ``eddsa-rdfc-2022`` proof:

- ``ProductFootprintCredential``: a PACT v3 product footprint, carried unchanged as a JSON
  literal under ``credentialSubject.productFootprint``;
- ``CbamCommunicationCredential``: the CBAM communication of an installation to an importer,
  as a JSON literal under ``credentialSubject.communication``;
- ``SustainabilityKpiCredential``: a KPI pack for a sustainability-linked loan
  (`carbonlink.credentials.kpi`), its KPIs and evidence as plain claims.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from carbonlink.credentials.contexts import CONTEXT
from carbonlink.credentials.errors import CredentialError, VerificationFailed
from carbonlink.credentials.multikey import public_key_of
from carbonlink.credentials.proof import SigningKey, add_proof, check_proof, xsd_datetime

KINDS = {
    "pcf": "ProductFootprintCredential",
    "cbam": "CbamCommunicationCredential",
    "kpi": "SustainabilityKpiCredential",
}


def unsigned_credential(
    kind: str,
    subject: Mapping[str, Any],
    *,
    issuer: str,
    valid_from: datetime,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The credential document before its proof."""
    if kind not in KINDS:
        raise CredentialError(f"unknown credential kind '{kind}'", hint=f"use {', '.join(KINDS)}")
    document: dict[str, Any] = {
        "@context": CONTEXT,
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", KINDS[kind]],
        "issuer": issuer,
        "validFrom": xsd_datetime(valid_from),
    }
    if valid_until is not None:
        document["validUntil"] = xsd_datetime(valid_until)
    document["credentialSubject"] = dict(subject)
    if status is not None:
        document["credentialStatus"] = dict(status)
    return document


def pcf_subject(footprint: Mapping[str, Any]) -> dict[str, Any]:
    """The subject of a PCF credential: the footprint's id as a URN, the footprint as JSON."""
    pf_id = footprint.get("id")
    try:
        uuid.UUID(str(pf_id))
    except ValueError as exc:
        raise CredentialError(
            "a PACT product footprint needs its UUID 'id'", record=str(pf_id)
        ) from exc
    return {
        "id": f"urn:uuid:{pf_id}",
        "type": "ProductFootprint",
        "productFootprint": dict(footprint),
    }


def cbam_subject(communication: Mapping[str, Any], installation: str) -> dict[str, Any]:
    """The subject of a CBAM communication credential, about one installation."""
    return {
        "type": "CbamInstallationCommunication",
        "installation": installation,
        "communication": dict(communication),
    }


def issue(
    kind: str,
    subject: Mapping[str, Any],
    key: SigningKey,
    *,
    issuer: str,
    now: datetime | None = None,
    valid_until: datetime | None = None,
    credential_id: str | None = None,
    status: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A signed credential of ``kind`` about ``subject``."""
    moment = now or datetime.now(UTC)
    document = unsigned_credential(
        kind,
        subject,
        issuer=issuer,
        valid_from=moment,
        valid_until=valid_until,
        credential_id=credential_id,
        status=status,
    )
    return add_proof(document, key, created=moment)


@dataclass(frozen=True, slots=True)
class Verification:
    """What checking a credential found: the issuer, the kind, and each check done."""

    issuer: str
    kind: str
    verification_method: str
    checks: tuple[str, ...]
    revoked: bool | None = None
    subject: dict[str, Any] = field(default_factory=dict)


DidResolver = Callable[[str], Mapping[str, Any]]
"""Returns the DID document of a DID (``did:web``), or raises `VerificationFailed`."""

StatusLoader = Callable[[str], Mapping[str, Any]]
"""Returns the status list credential at a URL, or raises `VerificationFailed`."""


def public_key_for(method_id: str, resolve: DidResolver | None) -> bytes:
    """The Ed25519 key a verification method names: ``did:key`` directly, ``did:web`` resolved.

    The method must be listed under the DID document's ``assertionMethod``.
    """
    did, _, fragment = method_id.partition("#")
    if did.startswith("did:key:"):
        multikey = did.removeprefix("did:key:")
        if fragment != multikey:
            raise VerificationFailed(f"{method_id} is not the did:key's own key")
        return public_key_of(multikey)
    if not did.startswith("did:web:"):
        raise VerificationFailed(f"cannot resolve {did}: only did:key and did:web are supported")
    if resolve is None:
        raise VerificationFailed(
            f"{did} needs its DID document", hint="pass the did.json the issuer publishes"
        )
    document = resolve(did)
    if document.get("id") != did:
        raise VerificationFailed(f"the DID document given is for {document.get('id')}, not {did}")
    methods = {
        m.get("id"): m for m in document.get("verificationMethod", []) if isinstance(m, dict)
    }
    method = methods.get(method_id)
    if method is None or method.get("type") != "Multikey":
        raise VerificationFailed(f"{did} lists no Multikey {method_id}")
    if method_id not in document.get("assertionMethod", []):
        raise VerificationFailed(f"{did} does not allow {method_id} to make assertions")
    return public_key_of(str(method.get("publicKeyMultibase", "")))


def verify(
    credential: Mapping[str, Any],
    *,
    resolve: DidResolver | None = None,
    status_loader: StatusLoader | None = None,
    now: datetime | None = None,
) -> Verification:
    """Check a credential: its proof, issuer, validity dates and (when asked) revocation.

    Raises `VerificationFailed` with what failed.
    """
    document = dict(credential)
    types = document.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise VerificationFailed("the document is not a VerifiableCredential")
    kind = next((k for k, name in KINDS.items() if name in types), "other")
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise VerificationFailed("the credential has no proof (or more than one)")
    method = str(proof.get("verificationMethod", ""))
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, dict) else issuer
    if not isinstance(issuer_id, str) or method.partition("#")[0] != issuer_id:
        raise VerificationFailed(f"the proof's key {method} is not the issuer's ({issuer_id})")
    key = public_key_for(method, resolve)
    check_proof(document, key)
    checks = ["proof", "issuer"]
    moment = now or datetime.now(UTC)
    for name, late in (("validFrom", False), ("validUntil", True)):
        value = document.get(name)
        if value is None:
            continue
        try:
            when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError as exc:
            raise VerificationFailed(f"{name} '{value}' is not a date-time") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if (moment > when) if late else (moment < when):
            raise VerificationFailed(f"the credential is not valid now ({name} {value})")
        checks.append(name)
    revoked = None
    status = document.get("credentialStatus")
    if isinstance(status, dict) and status_loader is not None:
        from carbonlink.credentials.status import status_of

        revoked = status_of(status, status_loader, resolve=resolve)
        checks.append("status")
        if revoked:
            raise VerificationFailed("the issuer has revoked the credential")
    subject = document.get("credentialSubject")
    return Verification(
        issuer_id,
        kind,
        method,
        tuple(checks),
        revoked,
        subject if isinstance(subject, dict) else {},
    )


def read_credential(text: str | bytes, *, name: str = "credential") -> dict[str, Any]:
    """A credential parsed from JSON text, with a clear error when it is not one."""
    try:
        parsed = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CredentialError(f"{name} is not JSON: {exc}", record=name) from exc
    if not isinstance(parsed, dict):
        raise CredentialError(f"{name} is not a JSON object", record=name)
    return parsed
