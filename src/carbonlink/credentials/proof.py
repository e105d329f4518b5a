"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite (W3C VC-DI-EdDSA 1.0 §3.2).

Signing, for a document ``D`` and proof options ``P`` (``P`` carries ``D``'s ``@context``):

    hash = SHA-256(canon(P)) ‖ SHA-256(canon(D without proof))      (64 bytes)
    proofValue = "z" + base58btc(Ed25519-sign(private key, hash))

``canon`` is the RDF Dataset Canonicalization of the JSON-LD document as N-Quads
(RDFC-1.0, which PyLD runs as URDNA2015, the algorithm it was standardised from). Verifying
rebuilds the same 64 bytes and checks the signature with the public key the verification
method names. Contexts come from the local copies only (`carbonlink.credentials.contexts`).
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from carbonlink.credentials.contexts import document_loader
from carbonlink.credentials.errors import CredentialError, VerificationFailed
from carbonlink.credentials.multikey import base58btc_decode, base58btc_encode

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"


JSON_LITERAL_TERMS = frozenset({"productFootprint", "communication"})


def _check_contexts(document: dict[str, Any]) -> None:
    """Refuse contexts under which a property could drop out of the signed form.

    PyLD has no "safe mode" (JSON-LD processors drop properties they cannot map, and a dropped
    property is not signed). So the top-level context must be the VC 2.0 context followed by one
    that sets ``@vocab`` (ours inline, or the W3C undefined-terms context), and no object below
    may bring a context of its own: then every plain property name maps to an IRI. Outside the
    context no property may be a JSON-LD keyword (``@id``, ``@graph``, ``@nest`` …): credentials
    use the plain names ``id`` and ``type``, and keywords in odd places are either dropped or
    mean something else to another processor.
    """
    from carbonlink.credentials.contexts import CREDENTIALS_V2, UNDEFINED_TERMS_V2

    context = document.get("@context")
    if not isinstance(context, list) or len(context) < 2 or context[0] != CREDENTIALS_V2:
        raise CredentialError(
            f"the @context must start with {CREDENTIALS_V2} and add a vocabulary",
            hint="issue the credential with carbonlink, or add the undefined-terms context",
        )
    last = context[-1]
    if not (last == UNDEFINED_TERMS_V2 or (isinstance(last, dict) and last.get("@vocab"))):
        raise CredentialError(
            "the last @context entry must set @vocab, so that no property is dropped unsigned",
            hint=f"end the @context with {UNDEFINED_TERMS_V2}",
        )

    def walk(node: Any, top: bool) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item, False)
        elif isinstance(node, dict):
            for key, value in node.items():
                if key == "@context" and top:
                    continue
                if key.startswith("@") or not key.strip():
                    raise CredentialError(
                        f"the property name '{key}' is not accepted in a credential",
                        record=key,
                        hint="use plain names (id, type); keywords belong in the @context",
                    )
                if key not in JSON_LITERAL_TERMS:
                    walk(value, False)

    walk(document, True)


def _check_absolute(expanded: Any) -> None:
    """Refuse relative IRIs (they fall out of the RDF form, and so out of the signature)."""
    if isinstance(expanded, list):
        for item in expanded:
            _check_absolute(item)
    elif isinstance(expanded, dict):
        if "@value" in expanded:
            return
        for key, value in expanded.items():
            if not key.startswith("@") and ":" not in key:
                raise CredentialError(f"'{key}' does not map to an IRI", record=key)
            if key in ("@id", "@type"):
                for iri in value if isinstance(value, list) else [value]:
                    if isinstance(iri, str) and ":" not in iri:
                        raise CredentialError(
                            f"'{iri}' is a relative IRI",
                            record=key,
                            hint="identifiers must be absolute (urn:uuid:…, https://…, did:…)",
                        )
            else:
                _check_absolute(value)


def canonical_nquads(document: dict[str, Any]) -> str:
    """The RDFC-1.0 canonical N-Quads of a JSON-LD document, contexts from local copies.

    Refuses a document of which some part would not reach the canonical form (see
    `_check_contexts`): what is not in it would not be signed.
    """
    from pyld import jsonld

    _check_contexts(document)
    try:
        # No base IRI: PyLD's default one would turn a relative identifier into an absolute
        # one that other processors do not make (and so sign other bytes).
        expanded = jsonld.expand(document, {"documentLoader": document_loader, "base": None})
        _check_absolute(expanded)
        nquads: str = jsonld.normalize(
            expanded,
            {"algorithm": "URDNA2015", "format": "application/n-quads"},
        )
    except (
        jsonld.JsonLdError,
        TypeError,
        ValueError,
        KeyError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as exc:
        # A malformed context can make PyLD fail with a plain Python error: every failure
        # here is the document's, and is reported as such.
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, CredentialError):
                raise cause from exc
            cause = getattr(cause, "cause", None)
        raise CredentialError(
            f"the document is not valid JSON-LD for signing: {exc}",
            hint="every property needs a term in the credential's contexts",
        ) from exc
    return nquads


def hash_data(document: dict[str, Any], proof_options: dict[str, Any]) -> bytes:
    """The 64 bytes an eddsa-rdfc-2022 signature covers (see the module docstring)."""
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    options = {key: value for key, value in proof_options.items() if key != "proofValue"}
    options["@context"] = document["@context"]
    return (
        hashlib.sha256(canonical_nquads(options).encode()).digest()
        + hashlib.sha256(canonical_nquads(unsecured).encode()).digest()
    )


def xsd_datetime(moment: datetime) -> str:
    """A UTC time as the ``dateTimeStamp`` the proof's ``created`` holds (seconds, ``Z``)."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class SigningKey:
    """An Ed25519 private key and the verification method id that names its public key."""

    private_key: Ed25519PrivateKey
    verification_method: str

    @property
    def public_key(self) -> bytes:
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return self.private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def add_proof(
    document: dict[str, Any], key: SigningKey, *, created: datetime | None = None
) -> dict[str, Any]:
    """A copy of ``document`` with an eddsa-rdfc-2022 proof (purpose ``assertionMethod``)."""
    if "proof" in document:
        raise CredentialError(
            "the document already carries a proof", hint="sign the unsigned document"
        )
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": xsd_datetime(created or datetime.now(UTC)),
        "verificationMethod": key.verification_method,
        "proofPurpose": "assertionMethod",
    }
    signature = key.private_key.sign(hash_data(document, options))
    secured = copy.deepcopy(document)
    secured["proof"] = options | {"proofValue": "z" + base58btc_encode(signature)}
    return secured


def check_proof(document: dict[str, Any], public_key: bytes) -> dict[str, Any]:
    """Check the document's single eddsa-rdfc-2022 proof with ``public_key``; return the proof.

    Raises `VerificationFailed` naming what does not hold.
    """
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise VerificationFailed("the credential has no proof (or more than one)")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise VerificationFailed(
            f"the proof is {proof.get('type')}/{proof.get('cryptosuite')}, "
            f"not {PROOF_TYPE}/{CRYPTOSUITE}"
        )
    if proof.get("proofPurpose") != "assertionMethod":
        raise VerificationFailed("the proof's purpose is not assertionMethod")
    value = proof.get("proofValue")
    if not isinstance(value, str) or not value.startswith("z"):
        raise VerificationFailed("the proofValue is not base58-btc multibase ('z…')")
    try:
        signature = base58btc_decode(value[1:])
    except CredentialError as exc:
        raise VerificationFailed(f"the proofValue is not base58: {exc.message}") from exc
    if len(signature) != 64:
        raise VerificationFailed(f"an Ed25519 signature has 64 bytes, not {len(signature)}")
    try:
        data = hash_data(document, proof)
    except CredentialError as exc:
        raise VerificationFailed(f"the credential cannot be canonicalised: {exc}") from exc
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, data)
    except InvalidSignature as exc:
        raise VerificationFailed(
            "the signature does not match: the credential was changed after it was signed, "
            "or signed with another key"
        ) from exc
    return proof
