#!/usr/bin/env python3
"""Check a carbonlink receipt (.tlog-proof) without carbonlink: Python's standard library and
the `cryptography` package (for Ed25519) are all it needs.

    python3 verify_receipt.py RECEIPT.tlog-proof LOG.vkey [FILE ...]

Checks, in order: the receipt's format; the log key; the Ed25519 signature on the checkpoint;
the inclusion of SHA-256(0x00 || entry) under the checkpoint's root (RFC 9162 section 2.1.3.2);
and the SHA-256 of each FILE against the one the entry records. Exit status 0 when all hold.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failed(Exception):
    """The receipt does not prove what it claims."""


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def parse_receipt(data: bytes) -> tuple[bytes, int, list[bytes], bytes]:
    """Entry bytes, index, inclusion proof and signed checkpoint note of a receipt file."""
    head, _, note = data.partition(b"\n\n")
    lines = head.decode("ascii").split("\n")
    if lines[0] != "c2sp.org/tlog-proof@v1":
        raise Failed("first line is not c2sp.org/tlog-proof@v1")
    if not lines[1].startswith("extra ") or not lines[2].startswith("index "):
        raise Failed("expected an 'extra' line then an 'index' line")
    entry = base64.b64decode(lines[1][len("extra ") :], validate=True)
    index = int(lines[2][len("index ") :])
    proof = [base64.b64decode(line, validate=True) for line in lines[3:]]
    if any(len(node) != 32 for node in proof):
        raise Failed("a proof hash is not 32 bytes")
    return entry, index, proof, note


def parse_vkey(vkey: str) -> tuple[str, bytes, Ed25519PublicKey]:
    """Name, key ID and public key of a verifier key <name>+<key ID hex>+<base64(0x01 || key)>."""
    name, key_id_hex, key_b64 = vkey.strip().split("+", 2)
    typed = base64.b64decode(key_b64, validate=True)
    if typed[0] != 0x01 or len(typed) != 33:
        raise Failed("the log key is not an Ed25519 (type 0x01) key")
    key_id = sha256(name.encode() + b"\n" + typed)[:4]
    if key_id.hex() != key_id_hex:
        raise Failed("the log key's ID does not match its name and key")
    return name, key_id, Ed25519PublicKey.from_public_bytes(typed[1:])


def open_checkpoint(note: bytes, name: str, key_id: bytes, key: Ed25519PublicKey) -> list[str]:
    """Checkpoint lines (origin, size, root, extensions) once the log's signature is verified."""
    cut = note.rindex(b"\n\n")
    text, signature_lines = note[: cut + 1], note[cut + 2 :].decode().splitlines()
    for line in signature_lines:
        signer, _, blob = line.removeprefix("\u2014 ").partition(" ")
        raw = base64.b64decode(blob, validate=True)
        if signer == name and raw[:4] == key_id:
            try:
                key.verify(raw[4:], text)
            except InvalidSignature as exc:
                raise Failed("the checkpoint signature does not verify") from exc
            lines = text.decode().split("\n")[:-1]
            if lines[0] != name:
                raise Failed(f"checkpoint origin {lines[0]!r} is not the key's name {name!r}")
            return lines
    raise Failed(f"the checkpoint carries no signature by {name}")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: list[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: fold the proof into the root it implies."""
    if index >= size:
        raise Failed(f"index {index} is outside a tree of size {size}")
    fn, sn, node = index, size - 1, leaf
    for sibling in proof:
        if sn == 0:
            raise Failed("the proof is longer than the tree allows")
        if fn % 2 == 1 or fn == sn:
            node = sha256(b"\x01" + sibling + node)
            while fn % 2 == 0 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            node = sha256(b"\x01" + node + sibling)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise Failed("the proof is shorter than the tree needs")
    return node


def main(receipt_path: str, vkey_path: str, *file_paths: str) -> None:
    entry, index, proof, note = parse_receipt(Path(receipt_path).read_bytes())
    name, key_id, key = parse_vkey(Path(vkey_path).read_text(encoding="ascii"))
    origin, size, root_b64, *_extensions = open_checkpoint(note, name, key_id, key)
    root = base64.b64decode(root_b64, validate=True)
    leaf = sha256(b"\x00" + entry)
    if root_from_inclusion_proof(leaf, index, int(size), proof) != root:
        raise Failed(f"entry {index} is not included under the signed root")
    content = json.loads(entry)
    print(f"signed checkpoint: {origin}, size {size}, root {root.hex()}")
    print(f"entry {index} ({content['kind']}, recorded {content['recorded_at']}) is in the log")
    expected = dict(content.get("files", {}))
    for path in map(Path, file_paths):
        want = expected.get(path.name, content.get("document_sha256"))
        got = hashlib.sha256(path.read_bytes()).hexdigest()
        if want != got:
            raise Failed(f"{path.name}: SHA-256 {got} is not the recorded {want}")
        print(f"{path.name}: SHA-256 matches the entry")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    try:
        main(*sys.argv[1:])
    except (Failed, ValueError, KeyError, IndexError) as exc:
        sys.exit(f"receipt NOT verified: {exc}")
    print("receipt verified")
