"""Ed25519 public keys as Multikey (``publicKeyMultibase``) and as ``did:key`` identifiers.

A Multikey value is the multibase base58-btc text (prefix ``z``) of the multicodec header
``0xed 0x01`` (ed25519-pub) followed by the 32 key bytes (W3C Controlled Identifiers 1.0 §2.2.2;
did:key Method v0.7). The ``did:key`` of a key is ``did:key:`` + that text, and its only
verification method is ``did:key:<mb>#<mb>``.
"""

from __future__ import annotations

from carbonlink.credentials.errors import CredentialError

ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ED25519_PUB_HEADER = b"\xed\x01"
ED25519_PRIV_HEADER = b"\x80\x26"


def base58btc_encode(data: bytes) -> str:
    """Base58 (Bitcoin alphabet) of ``data``; each leading zero byte becomes a ``1``."""
    number = int.from_bytes(data, "big")
    out = ""
    while number:
        number, digit = divmod(number, 58)
        out = ALPHABET[digit] + out
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + out


def base58btc_decode(text: str) -> bytes:
    """The bytes of a base58 (Bitcoin alphabet) text."""
    number = 0
    for char in text:
        digit = ALPHABET.find(char)
        if digit < 0:
            raise CredentialError(f"'{char}' is not a base58 character", record=text[:60])
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big")
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + body


def public_multikey(public_key: bytes) -> str:
    """The ``publicKeyMultibase`` of a raw 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise CredentialError(f"an Ed25519 public key has 32 bytes, not {len(public_key)}")
    return "z" + base58btc_encode(ED25519_PUB_HEADER + public_key)


def public_key_of(multikey: str) -> bytes:
    """The raw Ed25519 public key of a ``publicKeyMultibase`` value."""
    if not multikey.startswith("z"):
        raise CredentialError("a Multikey value starts with 'z' (base58-btc)", record=multikey[:60])
    raw = base58btc_decode(multikey[1:])
    if raw[:2] != ED25519_PUB_HEADER or len(raw) != 34:
        raise CredentialError(
            "not an Ed25519 Multikey (header 0xed01 and 32 key bytes)", record=multikey[:60]
        )
    return raw[2:]


def did_key(public_key: bytes) -> str:
    """The ``did:key`` identifier of an Ed25519 public key."""
    return "did:key:" + public_multikey(public_key)


def did_key_method(public_key: bytes) -> str:
    """The verification method id of a ``did:key``: the DID, ``#`` and the key again."""
    multikey = public_multikey(public_key)
    return f"did:key:{multikey}#{multikey}"
