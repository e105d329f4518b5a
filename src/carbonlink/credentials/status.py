"""Revocation through a W3C Bitstring Status List (v1.0).

The list is a bitstring of at least 131 072 bits (16 KiB, the minimum the specification sets
for group privacy); the credential at position ``i`` is revoked when bit ``i`` is 1, bits
counted from the most significant bit of the first byte. ``encodedList`` is the multibase
base64url text (prefix ``u``, no padding) of the GZIP-compressed bitstring.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from carbonlink.credentials.errors import CredentialError, VerificationFailed

if TYPE_CHECKING:
    from carbonlink.credentials.documents import DidResolver, StatusLoader

LIST_BITS = 131_072


def encode_list(revoked: Iterable[int], bits: int = LIST_BITS) -> str:
    """The ``encodedList`` of a list in which the given positions are revoked."""
    buffer = bytearray(bits // 8)
    for index in revoked:
        if not 0 <= index < bits:
            raise CredentialError(f"status index {index} is outside the list of {bits} bits")
        buffer[index // 8] |= 0x80 >> (index % 8)
    packed = gzip.compress(bytes(buffer), mtime=0)
    return "u" + base64.urlsafe_b64encode(packed).decode().rstrip("=")


def decode_list(encoded: str) -> bytes:
    """The bitstring of an ``encodedList``."""
    if not encoded.startswith("u"):
        raise VerificationFailed("encodedList is not multibase base64url ('u…')")
    body = encoded[1:]
    try:
        return gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, OSError) as exc:
        raise VerificationFailed(f"encodedList cannot be decoded: {exc}") from exc


def status_entry(list_url: str, index: int) -> dict[str, Any]:
    """The ``credentialStatus`` of the credential at ``index`` of the list at ``list_url``."""
    return {
        "id": f"{list_url}#{index}",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": str(index),
        "statusListCredential": list_url,
    }


def list_subject(list_url: str, revoked: Iterable[int]) -> dict[str, Any]:
    """The ``credentialSubject`` of the status list credential at ``list_url``."""
    return {
        "id": f"{list_url}#list",
        "type": "BitstringStatusList",
        "statusPurpose": "revocation",
        "encodedList": encode_list(revoked),
    }


def status_of(
    entry: Mapping[str, Any],
    load: StatusLoader,
    *,
    resolve: DidResolver | None = None,
) -> bool:
    """Whether the credential with this ``credentialStatus`` is revoked (its list verified)."""
    from carbonlink.credentials.documents import verify

    if entry.get("type") != "BitstringStatusListEntry":
        raise VerificationFailed(f"unknown credentialStatus type {entry.get('type')}")
    url = str(entry.get("statusListCredential", ""))
    try:
        index = int(str(entry.get("statusListIndex")))
    except ValueError as exc:
        raise VerificationFailed("statusListIndex is not an integer") from exc
    listed = load(url)
    if "BitstringStatusListCredential" not in listed.get("type", []):
        raise VerificationFailed(f"{url} is not a BitstringStatusListCredential")
    # The list is checked at the current time, not at the credential's ``now``: a service signs
    # its list when asked, a moment after that ``now`` was taken.
    verify(listed, resolve=resolve)
    subject = listed.get("credentialSubject", {})
    if subject.get("statusPurpose") != entry.get("statusPurpose"):
        raise VerificationFailed("the status list is for another purpose")
    bits = decode_list(str(subject.get("encodedList", "")))
    if not 0 <= index < len(bits) * 8:
        raise VerificationFailed(f"status index {index} is outside the list")
    return bool(bits[index // 8] & (0x80 >> (index % 8)))
