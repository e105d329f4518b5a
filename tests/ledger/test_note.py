"""C2SP signed notes, checkpoints, vkeys and witness cosignatures."""

from __future__ import annotations

import base64
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonlink.ledger.errors import SignatureError
from carbonlink.ledger.note import (
    COSIGNATURE_V1,
    ED25519,
    Checkpoint,
    Signer,
    Verifier,
    cosigned_message,
    open_checkpoint,
    open_note,
    parse_note,
    sign_note,
)

SEED = bytes(range(32))
NAME = "example.com/carbonlink"


def test_key_id_is_first_four_bytes_of_sha256_of_name_newline_type_key() -> None:
    signer = Signer(NAME, SEED)
    public = signer.verifier().public_key
    expected = hashlib.sha256(NAME.encode() + b"\n\x01" + public).digest()[:4]
    assert signer.verifier().key_id == expected
    name, hex_id, encoded = signer.verifier().vkey().split("+", 2)
    assert (name, hex_id) == (NAME, expected.hex())
    assert base64.b64decode(encoded) == b"\x01" + public


def test_vkey_and_private_key_round_trip() -> None:
    signer = Signer(NAME, SEED)
    assert Verifier.from_vkey(signer.verifier().vkey()) == signer.verifier()
    again = Signer.from_private_key(signer.private_key())
    assert again.verifier() == signer.verifier()
    assert signer.private_key().startswith(f"PRIVATE+KEY+{NAME}+")


def test_vkey_with_a_wrong_key_id_is_rejected() -> None:
    name, _, encoded = Signer(NAME, SEED).verifier().vkey().split("+", 2)
    with pytest.raises(SignatureError):
        Verifier.from_vkey(f"{name}+00000000+{encoded}")


@pytest.mark.parametrize("name", ["", "with space", "a+b", "tab\tname"])
def test_invalid_key_names_are_rejected(name: str) -> None:
    with pytest.raises(SignatureError):
        Signer(name, SEED)


def test_signed_note_round_trip_and_format() -> None:
    signer = Signer(NAME, SEED)
    note = sign_note("hello\nworld\n", signer)
    data = note.to_bytes()
    text, _, signature_line = data.decode().partition("\n\n")
    assert text == "hello\nworld"
    assert signature_line.startswith(f"— {NAME} ") and signature_line.endswith("\n")
    raw = base64.b64decode(signature_line.split(" ")[2])
    assert raw[:4] == signer.verifier().key_id and len(raw) == 4 + 64
    opened = open_note(data, [signer.verifier()])
    assert opened.text == "hello\nworld\n"
    assert parse_note(data) == opened


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_changed_byte_of_a_note_is_rejected(data: st.DataObject) -> None:
    signer = Signer(NAME, SEED)
    note = sign_note("example.com/log\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", signer)
    original = note.to_bytes()
    position = data.draw(st.integers(min_value=0, max_value=len(original) - 1))
    replacement = data.draw(
        st.integers(min_value=0, max_value=255).filter(lambda b: b != original[position])
    )
    tampered = original[:position] + bytes([replacement]) + original[position + 1 :]
    with pytest.raises(SignatureError):
        open_note(tampered, [signer.verifier()])


def test_tampered_body_and_signature_are_rejected() -> None:
    signer = Signer(NAME, SEED)
    data = sign_note("size 10\n", signer).to_bytes()
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(data.replace(b"size 10", b"size 11"), [signer.verifier()])
    text, _, line = data.decode().partition("\n\n")
    prefix, encoded = line.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 0x40
    forged = f"{text}\n\n{prefix} {base64.b64encode(bytes(raw)).decode()}\n".encode()
    with pytest.raises(SignatureError, match="does not verify"):
        open_note(forged, [signer.verifier()])


def test_signatures_by_unknown_keys_are_ignored_but_one_known_is_required() -> None:
    signer, other = Signer(NAME, SEED), Signer("other.example/key", bytes(32))
    note = sign_note("text\n", signer).with_signature(other.sign("text\n"))
    open_note(note.to_bytes(), [signer.verifier()])
    with pytest.raises(SignatureError, match="no signature by a trusted key"):
        open_note(sign_note("text\n", other).to_bytes(), [signer.verifier()])
    # Same name, another key: its key ID differs, so it is unknown, not a failure.
    impostor = Signer(NAME, bytes(32))
    with pytest.raises(SignatureError, match="no signature by a trusted key"):
        open_note(sign_note("text\n", impostor).to_bytes(), [signer.verifier()])


@pytest.mark.parametrize(
    "data",
    [
        b"no blank line\n\xe2\x80\x94 a AAAAAAAA\n",
        b"text\n\n",
        b"text\n\nnot a signature\n",
        b"text\n\n\xe2\x80\x94 name !!!\n",
        b"text\x01\n\n\xe2\x80\x94 name AAAAAAAA\n",
        b"text\n\n\xe2\x80\x94 name AAAAAAAA",
        # Two signature lines joined by U+2028 or U+0085: one line to Go's note.Open, whose
        # base64 then fails; str.splitlines() would have read two good lines.
        b"text\n\n\xe2\x80\x94 a AAAAAAAA\xe2\x80\xa8\xe2\x80\x94 b AAAAAAAA\n",
        b"text\n\n\xe2\x80\x94 a AAAAAAAA\xc2\x85\xe2\x80\x94 b AAAAAAAA\n",
    ],
)
def test_malformed_notes_are_rejected(data: bytes) -> None:
    with pytest.raises(SignatureError):
        parse_note(data)


def test_checkpoint_text_and_strict_parsing() -> None:
    root = bytes(range(32))
    checkpoint = Checkpoint("example.com/log", 12, root)
    text = checkpoint.text()
    assert text == f"example.com/log\n12\n{base64.b64encode(root).decode()}\n"
    assert Checkpoint.parse(text) == checkpoint
    for bad in (
        "example.com/log\n012\n" + base64.b64encode(root).decode() + "\n",
        "example.com/log\n12\n" + base64.b64encode(root[:31]).decode() + "\n",
        "example.com/log\n12\n",
        "\n12\n" + base64.b64encode(root).decode() + "\n",
    ):
        with pytest.raises(SignatureError):
            Checkpoint.parse(bad)


def test_open_checkpoint_requires_origin_to_be_the_key_name() -> None:
    signer = Signer(NAME, SEED)
    good = sign_note(Checkpoint(NAME, 3, bytes(32)).text(), signer).to_bytes()
    assert open_checkpoint(good, signer.verifier())[0].size == 3
    wrong_origin = sign_note(Checkpoint("elsewhere.example", 3, bytes(32)).text(), signer)
    with pytest.raises(SignatureError, match="origin"):
        open_checkpoint(wrong_origin.to_bytes(), signer.verifier())


def test_witness_cosignature_format() -> None:
    witness = Signer("witness.example/w1", SEED, key_type=COSIGNATURE_V1)
    text = Checkpoint(NAME, 20, bytes(32)).text()
    signature = witness.sign(text, timestamp=1679315147)
    assert (
        signature.key_id
        == hashlib.sha256(b"witness.example/w1\n\x04" + witness.verifier().public_key).digest()[:4]
    )
    assert int.from_bytes(signature.signature[:8], "big") == 1679315147
    assert cosigned_message(text, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\n" + text.encode()
    )
    assert witness.verifier().verify(text, signature)
    assert not witness.verifier().verify(text.replace("20", "21"), signature)
    # The same key as a plain note key has another key ID: the types do not mix.
    assert Signer("witness.example/w1", SEED).verifier().key_id != signature.key_id
    assert witness.verifier().key_type == COSIGNATURE_V1 != ED25519


# The example of golang.org/x/mod/sumdb/note's package documentation: a published key pair,
# text and signed note. Ed25519 is deterministic, so our signature must be byte-identical.
GO_PRIVATE_KEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
)
GO_NOTE = (
    GO_TEXT + "\n— PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
).encode()


def test_go_sumdb_note_example_is_reproduced_byte_for_byte() -> None:
    signer = Signer.from_private_key(GO_PRIVATE_KEY)
    assert signer.verifier().vkey() == GO_VKEY
    assert signer.private_key() == GO_PRIVATE_KEY
    assert sign_note(GO_TEXT, signer).to_bytes() == GO_NOTE
    assert open_note(GO_NOTE, [Verifier.from_vkey(GO_VKEY)]).text == GO_TEXT
