"""Signed notes, checkpoints and witness cosignatures in the C2SP text formats.

- Signed note (c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line, then one or
  more lines ``— <key name> base64(key ID ‖ signature)``. Ed25519 signatures (type 0x01) sign
  the text; the key ID is ``SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]``.
- Verifier key (vkey): ``<name>+<key ID, 8 hex digits>+base64(type ‖ public key)``; the
  private key file holds ``PRIVATE+KEY+<name>+<key ID>+base64(0x01 ‖ 32-byte seed)``.
- Checkpoint (c2sp.org/tlog-checkpoint): the note text ``<origin>\\n<size>\\n<base64 root>\\n``
  plus optional extension lines.
- Cosignature (c2sp.org/tlog-cosignature, Ed25519, type 0x04): a note signature whose bytes
  are ``key ID ‖ u64 big-endian timestamp ‖ Ed25519 signature`` over
  ``cosignature/v1\\ntime <timestamp>\\n<checkpoint text>``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from carbonlink.ledger.errors import SignatureError
from carbonlink.ledger.merkle import HASH_SIZE

ED25519: Final = 0x01
COSIGNATURE_V1: Final = 0x04
_SIGNATURE_PREFIX: Final = "— "
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_MAX_SIGNATURES: Final = 64


def _b64decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise SignatureError(f"{what} is not valid base64") from exc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def check_key_name(name: str) -> str:
    """A note key name: non-empty, no spaces, no ``+`` (signed-note §Format)."""
    if not name or "+" in name or any(ch.isspace() for ch in name) or not name.isprintable():
        raise SignatureError(
            f"key name {name!r} is not valid",
            hint="use a schema-less URL such as example.com/carbonlink, without spaces or '+'",
        )
    return name


def key_id(name: str, key_type: int, public_key: bytes) -> bytes:
    """Key ID: the first 4 bytes of ``SHA-256(name ‖ 0x0A ‖ type ‖ public key)``."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public_key).digest()[:4]


@dataclass(frozen=True, slots=True)
class NoteSignature:
    """One signature line: key name, 4-byte key ID and the signature bytes that follow it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        return f"{_SIGNATURE_PREFIX}{self.name} {_b64(self.key_id + self.signature)}\n"


@dataclass(frozen=True, slots=True)
class Note:
    """A note: its text (with the final newline) and its signature lines, in order."""

    text: str
    signatures: tuple[NoteSignature, ...]

    def to_bytes(self) -> bytes:
        return (self.text + "\n" + "".join(sig.line() for sig in self.signatures)).encode()

    def with_signature(self, signature: NoteSignature) -> Note:
        """The note with one more signature line (an existing identical line is kept once)."""
        if signature in self.signatures:
            return self
        return Note(self.text, (*self.signatures, signature))


def parse_note(data: bytes) -> Note:
    """Split a signed note into text and signature lines, checking the format strictly."""
    try:
        message = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError("signed note is not valid UTF-8") from exc
    if any(ord(ch) < 0x20 and ch != "\n" for ch in message):
        raise SignatureError("signed note contains control characters other than newline")
    if not message.endswith("\n"):
        raise SignatureError("signed note does not end with a newline")
    split = message.rfind("\n\n")
    if split < 0:
        raise SignatureError("signed note has no blank line before its signatures")
    text, block = message[: split + 1], message[split + 2 :]
    signatures: list[NoteSignature] = []
    # Lines end at "\n" only: str.splitlines() would also split at U+0085 or U+2028, and a
    # note that another implementation rejects must not verify here.
    for line in block.removesuffix("\n").split("\n") if block else ():
        if not line.startswith(_SIGNATURE_PREFIX):
            raise SignatureError(f"malformed signature line {line!r}")
        name, _, encoded = line[len(_SIGNATURE_PREFIX) :].partition(" ")
        check_key_name(name)
        raw = _b64decode(encoded, f"signature of {name}")
        if len(raw) < 5:
            raise SignatureError(f"signature of {name} is too short")
        signatures.append(NoteSignature(name, raw[:4], raw[4:]))
    if not signatures:
        raise SignatureError("signed note has no signature lines")
    if len(signatures) > _MAX_SIGNATURES:
        raise SignatureError(f"signed note has more than {_MAX_SIGNATURES} signatures")
    return Note(text, tuple(signatures))


@dataclass(frozen=True, slots=True)
class Verifier:
    """A public key that checks note signatures: Ed25519 (0x01) or witness cosignature (0x04)."""

    name: str
    key_type: int
    public_key: bytes

    def __post_init__(self) -> None:
        check_key_name(self.name)
        if self.key_type not in (ED25519, COSIGNATURE_V1) or len(self.public_key) != 32:
            raise SignatureError(f"unsupported key for {self.name}: only Ed25519 keys are known")

    @property
    def key_id(self) -> bytes:
        return key_id(self.name, self.key_type, self.public_key)

    def vkey(self) -> str:
        """The key in vkey text form, to hand to whoever verifies."""
        encoded = _b64(bytes([self.key_type]) + self.public_key)
        return f"{self.name}+{self.key_id.hex()}+{encoded}"

    @classmethod
    def from_vkey(cls, vkey: str) -> Verifier:
        """Parse ``<name>+<hex key ID>+<base64(type ‖ key)>``, checking the key ID matches."""
        parts = vkey.strip().split("+", 2)
        if len(parts) != 3 or len(parts[1]) != 8:
            raise SignatureError(
                "verifier key is not '<name>+<8 hex digits>+<base64 key>'",
                hint="pass the .vkey text the log or witness published",
            )
        name, hex_id, encoded = parts
        raw = _b64decode(encoded, "verifier key")
        if len(raw) != 33:
            raise SignatureError("verifier key does not hold a 32-byte Ed25519 key")
        verifier = cls(name, raw[0], raw[1:])
        if verifier.key_id.hex() != hex_id.lower():
            raise SignatureError(f"verifier key for {name} has a key ID that does not match it")
        return verifier

    def matches(self, signature: NoteSignature) -> bool:
        return signature.name == self.name and signature.key_id == self.key_id

    def verify(self, text: str, signature: NoteSignature) -> bool:
        """Whether ``signature`` (already matched by name and key ID) signs ``text``."""
        public = Ed25519PublicKey.from_public_bytes(self.public_key)
        if self.key_type == ED25519:
            message, raw = text.encode(), signature.signature
        else:
            if len(signature.signature) != 8 + 64:
                return False
            timestamp = int.from_bytes(signature.signature[:8], "big")
            if timestamp >= 1 << 63:
                return False
            message = cosigned_message(text, timestamp)
            raw = signature.signature[8:]
        try:
            public.verify(raw, message)
        except InvalidSignature:
            return False
        return True


def cosigned_message(text: str, timestamp: int) -> bytes:
    """What an Ed25519 witness signs (c2sp.org/tlog-cosignature, ``cosignature/v1``)."""
    return f"cosignature/v1\ntime {timestamp}\n{text}".encode()


class Signer:
    """An Ed25519 private key with its note key name."""

    def __init__(self, name: str, seed: bytes, key_type: int = ED25519) -> None:
        check_key_name(name)
        if len(seed) != 32:
            raise SignatureError("an Ed25519 private key seed is 32 bytes")
        self.name = name
        self.key_type = key_type
        self._key = Ed25519PrivateKey.from_private_bytes(seed)
        self._seed = seed

    @classmethod
    def generate(cls, name: str, key_type: int = ED25519) -> Signer:
        key = Ed25519PrivateKey.generate()
        return cls(name, key.private_bytes_raw(), key_type)

    @classmethod
    def from_private_key(cls, text: str) -> Signer:
        """Parse ``PRIVATE+KEY+<name>+<hex key ID>+base64(type ‖ seed)``."""
        parts = text.strip().split("+", 4)
        if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
            raise SignatureError("private key is not in 'PRIVATE+KEY+<name>+<id>+<key>' form")
        raw = _b64decode(parts[4], "private key")
        if len(raw) != 33 or raw[0] not in (ED25519, COSIGNATURE_V1):
            raise SignatureError("private key does not hold a 32-byte Ed25519 seed")
        signer = cls(parts[2], raw[1:], raw[0])
        if signer.verifier().key_id.hex() != parts[3].lower():
            raise SignatureError(f"private key for {parts[2]} has a key ID that does not match it")
        return signer

    def private_key(self) -> str:
        """The key in ``PRIVATE+KEY+…`` text form (keep it secret)."""
        encoded = _b64(bytes([self.key_type]) + self._seed)
        return f"PRIVATE+KEY+{self.name}+{self.verifier().key_id.hex()}+{encoded}"

    def verifier(self) -> Verifier:
        return Verifier(self.name, self.key_type, self._key.public_key().public_bytes_raw())

    def sign(self, text: str, timestamp: int | None = None) -> NoteSignature:
        """Sign a note text; a cosigning key (type 0x04) also needs the POSIX ``timestamp``."""
        kid = self.verifier().key_id
        if self.key_type == ED25519:
            return NoteSignature(self.name, kid, self._key.sign(text.encode()))
        if timestamp is None or not 0 <= timestamp < 1 << 63:
            raise SignatureError("a cosignature needs a timestamp between 0 and 2^63 − 1")
        signature = self._key.sign(cosigned_message(text, timestamp))
        return NoteSignature(self.name, kid, timestamp.to_bytes(8, "big") + signature)


def sign_note(text: str, signer: Signer) -> Note:
    """A new note with one signature."""
    if not text.endswith("\n"):
        raise SignatureError("note text must end with a newline")
    return Note(text, (signer.sign(text),))


def open_note(data: bytes, verifiers: list[Verifier]) -> Note:
    """Parse a note and check it: every signature by a known key must verify, and one must.

    Signatures by unknown keys (another name or key ID) are ignored, as the format requires.
    """
    note = parse_note(data)
    verified = False
    for signature in note.signatures:
        for verifier in verifiers:
            if verifier.matches(signature):
                if not verifier.verify(note.text, signature):
                    raise SignatureError(f"signature by {signature.name} does not verify")
                verified = True
    if not verified:
        names = ", ".join(sorted({v.name for v in verifiers})) or "none"
        raise SignatureError(
            f"note carries no signature by a trusted key (trusted: {names})",
            hint="pass the verifier key of the log that signed it",
        )
    return note


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A log's signed statement of its size and root hash (c2sp.org/tlog-checkpoint)."""

    origin: str
    size: int
    root_hash: bytes
    extensions: tuple[str, ...] = ()

    def text(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root_hash), *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise SignatureError("checkpoint needs origin, size and root hash lines")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not _DECIMAL.fullmatch(size):
            raise SignatureError("checkpoint origin is empty or its size is not a decimal")
        root_hash = _b64decode(root, "checkpoint root hash")
        if len(root_hash) != HASH_SIZE or _b64(root_hash) != root:
            raise SignatureError("checkpoint root hash is not a base64 32-byte hash")
        if any(not line for line in extensions):
            raise SignatureError("checkpoint has an empty extension line")
        return cls(origin, int(size), root_hash, tuple(extensions))


def open_checkpoint(data: bytes, log_key: Verifier) -> tuple[Checkpoint, Note]:
    """Verify a signed checkpoint by the log's key and parse its body."""
    note = open_note(data, [log_key])
    if not any(log_key.matches(sig) for sig in note.signatures):
        raise SignatureError(f"checkpoint is not signed by the log key {log_key.name}")
    checkpoint = Checkpoint.parse(note.text)
    if checkpoint.origin != log_key.name:
        raise SignatureError(
            f"checkpoint origin {checkpoint.origin!r} is not the log key name {log_key.name!r}"
        )
    return checkpoint, note
