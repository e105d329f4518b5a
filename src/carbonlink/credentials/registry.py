"""Issuer keys, DIDs and the credentials an organization issued, kept by the service.

Each organization signs with its own Ed25519 key, kept like the ledger's key: a file (mode
0600) in the workspace's ``keys/issuers`` folder, never in the database. Its public key is
published twice: as the ``did:web`` document the service serves at
``/orgs/{organization}/did.json`` (``did:web:{host}:orgs:{organization}``), and as a
``did:key`` for verifiers that are offline. Issued credentials are stored with their position
in the organization's Bitstring Status List, served signed at
``/orgs/{organization}/credentials/status``.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.exc import IntegrityError

from carbonlink.credentials.documents import issue, verify
from carbonlink.credentials.errors import CredentialError, VerificationFailed
from carbonlink.credentials.multikey import did_key, public_multikey
from carbonlink.credentials.proof import SigningKey
from carbonlink.credentials.status import list_subject, status_entry
from carbonlink.store.credentials_schema import issued_credentials

ISSUER_FOLDER = "issuers"
DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"]


def _key_path(workspace: Path, organization_id: str) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in organization_id)
    return workspace / "keys" / ISSUER_FOLDER / f"{safe}.ed25519"


def issuer_key_exists(workspace: Path, organization_id: str) -> bool:
    """Whether the organization has an issuer key (it has issued or published its DID)."""
    return _key_path(workspace, organization_id).is_file()


def issuer_private_key(workspace: Path, organization_id: str) -> Ed25519PrivateKey:
    """The organization's signing key, created (mode 0600) on first use and then kept."""
    path = _key_path(workspace, organization_id)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first: read theirs
        else:
            with os.fdopen(descriptor, "w", encoding="ascii") as stream:
                stream.write(secrets.token_bytes(32).hex() + "\n")
    try:
        seed = bytes.fromhex(path.read_text(encoding="ascii").strip())
        return Ed25519PrivateKey.from_private_bytes(seed)
    except (OSError, ValueError) as exc:
        raise CredentialError(
            f"the issuer key of {organization_id} cannot be read: {exc}",
            file=str(path),
            hint="restore the file from the workspace backup; a new key would not match "
            "the credentials already issued",
        ) from exc


def did_web(service_url: str, organization_id: str) -> str:
    """``did:web:{host%3Aport}:orgs:{organization}``: the service's DID for an organization."""
    parts = urlsplit(service_url)
    host = quote(parts.netloc, safe="")
    path = [quote(p, safe="") for p in parts.path.strip("/").split("/") if p]
    return ":".join(["did:web", host, *path, "orgs", quote(organization_id, safe="")])


def did_document(did: str, public_key: bytes) -> dict[str, Any]:
    """The DID document of an issuer: one Multikey for assertions and authentication."""
    method = f"{did}#{public_multikey(public_key)}"
    return {
        "@context": DID_CONTEXTS,
        "id": did,
        "verificationMethod": [
            {
                "id": method,
                "type": "Multikey",
                "controller": did,
                "publicKeyMultibase": public_multikey(public_key),
            }
        ],
        "assertionMethod": [method],
        "authentication": [method],
        "alsoKnownAs": [did_key(public_key)],
    }


def user_email(engine: sa.Engine, organization_id: str, user_id: str) -> str | None:
    """The log-in address of a user of the organization: what a lender's credentials are
    shared under (it outlives the user's id when the account is made again)."""
    from carbonlink.store.accounts_schema import users

    with engine.connect() as conn:
        email = conn.execute(
            sa.select(users.c.email).where(
                users.c.id == user_id, users.c.organization_id == organization_id
            )
        ).scalar()
    return str(email) if email else None


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A stored credential and its state."""

    id: str
    kind: str
    title: str
    holder: str | None
    status_index: int
    document: dict[str, Any]
    issued_at: datetime
    issued_by: str
    revoked_at: datetime | None


def _aware(ts: datetime | None) -> datetime | None:
    return ts if ts is None or ts.tzinfo else ts.replace(tzinfo=UTC)


class CredentialRegistry:
    """Issue, list, revoke and check an organization's credentials (did:web or did:key)."""

    def __init__(self, engine: sa.Engine, workspace: Path, service_url: str) -> None:
        self.engine = engine
        self.workspace = workspace
        self.service_url = service_url.rstrip("/")

    def did(self, organization_id: str) -> str:
        return did_web(self.service_url, organization_id)

    def signing_key(self, organization_id: str, *, offline: bool = False) -> SigningKey:
        """The organization's key, named by its did:web method (or did:key when ``offline``)."""
        private = issuer_private_key(self.workspace, organization_id)
        public = SigningKey(private, "").public_key
        did = did_key(public) if offline else self.did(organization_id)
        return SigningKey(private, f"{did}#{public_multikey(public)}")

    def did_document(self, organization_id: str) -> dict[str, Any]:
        return did_document(self.did(organization_id), self.signing_key(organization_id).public_key)

    def status_url(self, organization_id: str) -> str:
        return f"{self.service_url}/orgs/{quote(organization_id, safe='')}/credentials/status"

    def resolve(self, did: str) -> Mapping[str, Any]:
        """The DID document of one of this service's did:web issuers (nothing fetched)."""
        prefix = self.did("")
        if not did.startswith(prefix):
            raise VerificationFailed(
                f"{did} is not served by this carbonlink ({self.service_url})",
                hint="pass the issuer's did.json to check it offline",
            )
        organization_id = did.removeprefix(prefix)
        if not _key_path(self.workspace, organization_id).exists():
            raise VerificationFailed(f"this service has no issuer {did}")
        return self.did_document(organization_id)

    def load_status(self, url: str) -> Mapping[str, Any]:
        """The status list credential at ``url``, when this service serves it."""
        prefix = f"{self.service_url}/orgs/"
        suffix = "/credentials/status"
        if not (url.startswith(prefix) and url.endswith(suffix)):
            raise VerificationFailed(f"the status list {url} is not served by this carbonlink")
        return self.status_list(url.removeprefix(prefix).removesuffix(suffix))

    def issue(
        self,
        organization_id: str,
        kind: str,
        subject: Mapping[str, Any],
        *,
        title: str,
        issued_by: str,
        holder: str | None = None,
        offline: bool = False,
        now: datetime | None = None,
    ) -> dict[str, Any]:
        """Sign and store a credential; its status entry takes the next free list position."""
        key = self.signing_key(organization_id, offline=offline)
        issuer = key.verification_method.partition("#")[0]
        moment = now or datetime.now(UTC)
        for _attempt in range(5):
            with self.engine.connect() as conn:
                used = conn.execute(
                    sa.select(sa.func.max(issued_credentials.c.status_index)).where(
                        issued_credentials.c.organization_id == organization_id
                    )
                ).scalar()
            index = 0 if used is None else int(used) + 1
            credential = issue(
                kind,
                subject,
                key,
                issuer=issuer,
                now=moment,
                status=status_entry(self.status_url(organization_id), index),
            )
            try:
                with self.engine.begin() as conn:
                    conn.execute(
                        issued_credentials.insert().values(
                            organization_id=organization_id,
                            id=credential["id"],
                            kind=kind,
                            title=title,
                            holder=holder,
                            status_index=index,
                            document=json.dumps(credential, ensure_ascii=False),
                            issued_at=moment,
                            issued_by=issued_by,
                        )
                    )
            except IntegrityError:
                continue  # another issuer took this position: sign again with the next one
            return credential
        raise CredentialError("could not reserve a status list position", hint="try again")

    def _row(self, row: Any) -> IssuedCredential:
        try:
            document = json.loads(row.document)
        except ValueError:
            document = None
        if not isinstance(document, dict):
            # A damaged row is listed as such (and fails verification), never a crash.
            document = {"id": row.id, "error": "the stored credential is not a JSON object"}
        return IssuedCredential(
            row.id,
            row.kind,
            row.title,
            row.holder,
            row.status_index,
            document,
            _aware(row.issued_at) or datetime.now(UTC),
            row.issued_by,
            _aware(row.revoked_at),
        )

    def credentials(
        self, organization_id: str, *, holder: str | None = None
    ) -> list[IssuedCredential]:
        """The organization's credentials, newest first; only those shared with ``holder``."""
        query = sa.select(issued_credentials).where(
            issued_credentials.c.organization_id == organization_id
        )
        if holder is not None:
            query = query.where(issued_credentials.c.holder == holder)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(issued_credentials.c.status_index.desc())).all()
        return [self._row(row) for row in rows]

    def credential(self, organization_id: str, credential_id: str) -> IssuedCredential | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(issued_credentials).where(
                    issued_credentials.c.organization_id == organization_id,
                    issued_credentials.c.id == credential_id,
                )
            ).first()
        return None if row is None else self._row(row)

    def revoke(self, organization_id: str, credential_id: str, revoked_by: str) -> bool:
        """Mark a credential revoked (idempotent); False when there is no such credential."""
        with self.engine.begin() as conn:
            found = conn.execute(
                issued_credentials.update()
                .where(
                    issued_credentials.c.organization_id == organization_id,
                    issued_credentials.c.id == credential_id,
                    issued_credentials.c.revoked_at.is_(None),
                )
                .values(revoked_at=datetime.now(UTC), revoked_by=revoked_by)
            ).rowcount
        return bool(found) or self.credential(organization_id, credential_id) is not None

    def status_list(self, organization_id: str, *, now: datetime | None = None) -> dict[str, Any]:
        """The organization's signed Bitstring Status List credential, as of now."""
        with self.engine.connect() as conn:
            revoked = conn.execute(
                sa.select(issued_credentials.c.status_index).where(
                    issued_credentials.c.organization_id == organization_id,
                    issued_credentials.c.revoked_at.is_not(None),
                )
            ).scalars()
            indices = list(revoked)
        url = self.status_url(organization_id)
        key = self.signing_key(organization_id)
        from carbonlink.credentials.contexts import CONTEXT
        from carbonlink.credentials.proof import add_proof, xsd_datetime

        document = {
            "@context": CONTEXT,
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": self.did(organization_id),
            "validFrom": xsd_datetime(now or datetime.now(UTC)),
            "credentialSubject": list_subject(url, indices),
        }
        return add_proof(document, key, created=now)

    def verify(self, credential: Mapping[str, Any], *, now: datetime | None = None) -> Any:
        """Check a credential with this service's DIDs and status lists (nothing fetched)."""
        return verify(credential, resolve=self.resolve, status_loader=self.load_status, now=now)
