"""Secrets the service must read back (a webhook's signing key, an SMTP password), sealed at rest.

A sealed value is the text ``v1:`` + base64url(nonce ‖ ciphertext ‖ tag), made with AES-256-GCM
(NIST SP 800-38D) under a 256-bit key derived from the service's secret key by HKDF-SHA256
(RFC 5869; no salt, the fixed ``info`` label below). The associated data binds the value to its
record (the kind of record, the organization and the record's id), so a sealed value copied into
another channel or another organization's row does not open. A fresh random 96-bit nonce is drawn
for every seal.

What does not start with a version prefix is a value stored before sealing existed (plain
text): `open_secret` returns it as it is and says so, and the caller seals it again. A sealed
value that does not open (the service key was changed, or the row was altered) raises
`UnreadableSecretError`, which names the record and asks for the secret to be entered again.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carbonlink.errors import InputError

__all__ = ["SEALED_PREFIX", "Opened", "SecretSeal", "UnreadableSecretError", "is_sealed"]

SEALED_PREFIX = "v1:"
HKDF_INFO = b"carbonlink/sealed-secrets/v1/aes-256-gcm"
NONCE_BYTES = 12


class UnreadableSecretError(InputError):
    """A sealed secret does not open with the service's key: it has to be entered again."""


def is_sealed(stored: str) -> bool:
    """Whether a stored value is sealed (else it is a plain value from before sealing)."""
    return stored.startswith(SEALED_PREFIX)


@dataclass(frozen=True, slots=True)
class Opened:
    """A secret read from the store, and whether it was still plain text (to be sealed)."""

    secret: str
    was_plain: bool


@dataclass(frozen=True, slots=True)
class SecretSeal:
    """Seals and opens secrets under a key derived from the service's secret key."""

    service_key: bytes

    def _aead(self) -> AESGCM:
        derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
            self.service_key
        )
        return AESGCM(derived)

    @staticmethod
    def _associated(kind: str, organization_id: str, record_id: str) -> bytes:
        return "\x00".join((kind, organization_id, record_id)).encode()

    def seal(self, secret: str, *, kind: str, organization_id: str, record_id: str) -> str:
        """The versioned sealed text of ``secret`` for this record."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aead().encrypt(
            nonce, secret.encode(), self._associated(kind, organization_id, record_id)
        )
        return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def open(
        self, stored: str, *, kind: str, organization_id: str, record_id: str, name: str
    ) -> Opened:
        """The secret a stored value holds; a plain (legacy) value is returned as it is.

        ``name`` is what the person knows the record by, for the error message.
        """
        if not is_sealed(stored):
            return Opened(stored, was_plain=True)
        packed = stored[len(SEALED_PREFIX) :]
        try:
            raw = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4))
            if len(raw) <= NONCE_BYTES:
                raise ValueError("too short")
            plain = self._aead().decrypt(
                raw[:NONCE_BYTES],
                raw[NONCE_BYTES:],
                self._associated(kind, organization_id, record_id),
            )
            return Opened(plain.decode(), was_plain=False)
        except (InvalidTag, ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise UnreadableSecretError(
                "the stored signing key or password cannot be read with the service's secret "
                "key (CARBONLINK_SECRET_KEY was changed since it was saved)",
                record=name,
                hint="enter the signing key or SMTP password of this channel again on the "
                "page Alerts → Rules and channels (or PUT it with 'secret')",
            ) from exc
