"""Secrets sealed at rest under the service key: format, binding to the record, wrong key."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from carbonlink.store.sealing import HKDF_INFO, SecretSeal, UnreadableSecretError, is_sealed

KEY = b"k3Yq9v0Zp2Lr7Tx4Wm8Bn1Cs6Dh5Fj0G"
OTHER = b"Q8w2Er5Ty7Ui1Op3As6Df9Gh4Jk0Lz2X"
SECRET = "a-signing-key-for-the-control-room"
WHERE = {"kind": "alert-channel", "organization_id": "org-a", "record_id": "c1"}


def test_a_sealed_secret_is_versioned_text_holding_nonce_and_ciphertext() -> None:
    sealed = SecretSeal(KEY).seal(SECRET, **WHERE)
    assert sealed.startswith("v1:") and is_sealed(sealed)
    assert SECRET not in sealed
    raw = base64.urlsafe_b64decode(sealed[3:] + "=" * (-len(sealed[3:]) % 4))
    # 12-byte nonce, then the 34 bytes of the secret encrypted, then the 16-byte GCM tag
    assert len(raw) == 12 + len(SECRET) + 16
    assert SECRET.encode() not in raw
    # Opened by hand from its parts: HKDF-SHA256 of the service key with the fixed label,
    # AES-256-GCM with the organization and record as associated data.
    derived = HKDF(hashes.SHA256(), 32, salt=None, info=HKDF_INFO).derive(KEY)
    plain = AESGCM(derived).decrypt(raw[:12], raw[12:], b"alert-channel\x00org-a\x00c1")
    assert plain == SECRET.encode()
    assert SecretSeal(KEY).open(sealed, name="Ops", **WHERE).secret == SECRET


def test_each_seal_draws_a_new_nonce() -> None:
    seal = SecretSeal(KEY)
    assert seal.seal(SECRET, **WHERE) != seal.seal(SECRET, **WHERE)


@pytest.mark.parametrize(
    "change",
    [{"organization_id": "org-b"}, {"record_id": "c2"}, {"kind": "something-else"}],
)
def test_a_sealed_secret_does_not_open_for_another_record(change: dict[str, str]) -> None:
    sealed = SecretSeal(KEY).seal(SECRET, **WHERE)
    with pytest.raises(UnreadableSecretError):
        SecretSeal(KEY).open(sealed, name="Ops", **(WHERE | change))


def test_another_service_key_gives_an_error_naming_the_record_and_what_to_do() -> None:
    sealed = SecretSeal(KEY).seal(SECRET, **WHERE)
    with pytest.raises(UnreadableSecretError) as caught:
        SecretSeal(OTHER).open(sealed, name="Control room", **WHERE)
    assert caught.value.record == "Control room"
    assert "CARBONLINK_SECRET_KEY" in caught.value.message
    assert caught.value.hint is not None and "again" in caught.value.hint


@pytest.mark.parametrize("stored", ["v1:", "v1:!!!", "v1:AAAA", "v1:" + "A" * 80])
def test_a_damaged_sealed_value_is_unreadable_not_a_crash(stored: str) -> None:
    with pytest.raises(UnreadableSecretError):
        SecretSeal(KEY).open(stored, name="Ops", **WHERE)


def test_a_plain_value_from_before_sealing_is_returned_and_marked() -> None:
    opened = SecretSeal(KEY).open(SECRET, name="Ops", **WHERE)
    assert (opened.secret, opened.was_plain) == (SECRET, True)
