"""The service's secret key at work: keyed digests of random secrets and signed short tokens.

Below every layer that needs it (the PACT exchange stores client secrets with it, the API signs
device cookies with it); it imports only the standard library.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from datetime import timedelta


def same_secret(expected: str | None, sent: str | None) -> bool:
    """Whether ``sent`` equals ``expected`` (a CSRF or form token), in constant time.

    False when either is empty. Compared as UTF-8 bytes: `hmac.compare_digest` raises
    TypeError on text with non-ASCII characters, and a form field may hold anything.
    """
    if not expected or not sent:
        return False
    return hmac.compare_digest(
        expected.encode("utf-8", "surrogatepass"), sent.encode("utf-8", "surrogatepass")
    )


KEYED_PREFIX = "hmac-sha256$"
"""Marks a secret stored as HMAC-SHA-256 under the service key (others are argon2 hashes)."""


@dataclass(frozen=True, slots=True)
class ServiceKey:
    """The service's secret key (``CARBONLINK_SECRET_KEY``): keyed digests and signed tokens.

    Each use derives its own sub-key (HMAC of the key and the purpose's name), so a value made
    for one purpose is never valid for another.
    """

    key: bytes

    def _mac(self, purpose: str, message: str) -> bytes:
        sub = hmac.new(self.key, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(sub, message.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()

    def digest(self, secret: str) -> str:
        """Keyed digest of a random high-entropy secret (a PACT client secret), for storage.

        A 256-bit random secret cannot be guessed, so a slow password hash adds nothing but
        cost for whoever sends requests; the key keeps a stolen table from checking guesses.
        """
        return KEYED_PREFIX + self._mac("client-secret", secret).hex()

    def matches(self, stored: str, secret: str) -> bool:
        """Whether ``secret`` is the one whose keyed digest is ``stored`` (constant time)."""
        return hmac.compare_digest(stored.encode(), self.digest(secret).encode())

    def sign(self, purpose: str, payload: str, lifetime: timedelta) -> str:
        """``payload`` with an expiry and a MAC, as one URL-safe token."""
        expires = int(time.time() + lifetime.total_seconds())
        body = f"{expires}|{payload}"
        mac = base64.urlsafe_b64encode(self._mac(purpose, body)).decode().rstrip("=")
        packed = base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")
        return f"{packed}.{mac}"

    def unsign(self, purpose: str, token: str) -> str | None:
        """The payload of a token `sign` made for ``purpose``, or None (forged, expired)."""
        packed, _, mac = token.partition(".")
        try:
            body = base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            return None
        expected = base64.urlsafe_b64encode(self._mac(purpose, body)).decode().rstrip("=")
        if not same_secret(expected, mac):
            return None
        expires, _, payload = body.partition("|")
        if not expires.isdigit() or int(expires) < time.time():
            return None
        return payload
