"""Receipts: offline proof that an entry (and the files it names) is in the signed log.

A receipt is a c2sp.org/tlog-proof@v1 file whose optional ``extra`` line carries the entry's
canonical bytes, so it stands on its own::

    c2sp.org/tlog-proof@v1              version line
    extra <base64 of the entry bytes>   the ledger entry exactly as hashed
    index <decimal>                     its position in the log
    <base64 hash>                       inclusion proof, leaf's sibling first (RFC 9162)
    ...
                                        blank line
    <signed checkpoint note>            verbatim, with any witness cosignatures

Checking it needs only the log's public key (vkey): the checkpoint signature, the inclusion
of ``SHA-256(0x00 ‖ entry)`` under the checkpoint's root, and the SHA-256 of each file the entry
names. Receipts are stored with the extension ``.tlog-proof``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from carbonlink.errors import InputError
from carbonlink.ledger import merkle
from carbonlink.ledger.entries import (
    EntryKind,
    parse_entry,
    report_entry_for_files,
    sha256_file,
)
from carbonlink.ledger.errors import ProofError, ReceiptError, SignatureError
from carbonlink.ledger.note import (
    COSIGNATURE_V1,
    Checkpoint,
    NoteSignature,
    Signer,
    Verifier,
    open_checkpoint,
)
from carbonlink.ledger.note import open_note as _open_note

if TYPE_CHECKING:
    # The log needs SQLAlchemy; checking a receipt offline must not.
    from carbonlink.ledger.log import Ledger

RECEIPT_VERSION = "c2sp.org/tlog-proof@v1"
RECEIPT_SUFFIX = ".tlog-proof"
_DECIMAL_DIGITS = frozenset("0123456789")


@dataclass(frozen=True, slots=True)
class Receipt:
    """An entry, its index, its inclusion proof and the signed checkpoint the proof leads to."""

    entry: bytes
    index: int
    proof: tuple[bytes, ...]
    checkpoint_note: bytes

    def to_bytes(self) -> bytes:
        lines = [
            RECEIPT_VERSION,
            "extra " + base64.b64encode(self.entry).decode("ascii"),
            f"index {self.index}",
            *(base64.b64encode(value).decode("ascii") for value in self.proof),
        ]
        return ("\n".join(lines) + "\n\n").encode("ascii") + self.checkpoint_note

    @classmethod
    def parse(cls, data: bytes) -> Receipt:
        """Read a receipt file, strictly."""
        head, separator, note = data.partition(b"\n\n")
        if not separator or not note:
            raise ReceiptError("receipt has no blank line before its checkpoint")
        try:
            lines = head.decode("ascii").split("\n")
        except UnicodeDecodeError as exc:
            raise ReceiptError("receipt header is not ASCII") from exc
        if lines[0] != RECEIPT_VERSION:
            raise ReceiptError(
                f"not a receipt: first line must be {RECEIPT_VERSION!r}",
                hint="pass the .tlog-proof file written with the report",
            )
        position = 1
        if position >= len(lines) or not lines[position].startswith("extra "):
            raise ReceiptError("receipt carries no entry ('extra' line)")
        entry = _decode(lines[position][len("extra ") :], "entry")
        position += 1
        if position >= len(lines) or not lines[position].startswith("index "):
            raise ReceiptError("receipt has no 'index' line")
        digits = lines[position][len("index ") :]
        if not digits or set(digits) - _DECIMAL_DIGITS or (digits[0] == "0" and digits != "0"):
            raise ReceiptError(f"receipt index {digits!r} is not a decimal number")
        proof = tuple(_decode(line, "proof hash") for line in lines[position + 1 :])
        return cls(entry=entry, index=int(digits), proof=proof, checkpoint_note=note)


def _decode(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ReceiptError(f"receipt {what} is not valid base64") from exc


@dataclass(frozen=True, slots=True)
class VerifiedReceipt:
    """What a receipt proved: the entry's content, the checkpoint and the witnesses that agree."""

    index: int
    content: dict[str, Any]
    checkpoint: Checkpoint
    witnesses: tuple[str, ...] = ()
    files: dict[str, str] = field(default_factory=dict)


def verify_receipt(
    receipt: Receipt,
    log_key: Verifier,
    *,
    witnesses: Sequence[Verifier] = (),
    quorum: int | None = None,
    files: Sequence[Path] = (),
) -> VerifiedReceipt:
    """Check a receipt offline; raise `ReceiptError` / `ProofError` / `SignatureError` if it fails.

    At least ``quorum`` of the witness keys given (default: every one) must have cosigned the
    checkpoint, and every cosignature by a given key must verify. Each file given must be named
    by the entry (report file names, or the footprint document) with the same SHA-256.
    """
    checkpoint, note = open_checkpoint(receipt.checkpoint_note, log_key)
    cosigned = _cosigners(receipt.checkpoint_note, note.signatures, witnesses, quorum)
    try:
        content = parse_entry(receipt.entry)
    except InputError as exc:
        raise ReceiptError(f"receipted entry is not a valid ledger entry: {exc.message}") from exc
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(receipt.entry),
            receipt.index,
            checkpoint.size,
            list(receipt.proof),
            checkpoint.root_hash,
        )
    except ProofError as exc:
        raise ReceiptError(f"entry {receipt.index} is not in the signed log: {exc}") from exc
    checked = {path.name: _check_file(content, path) for path in files}
    return VerifiedReceipt(receipt.index, content, checkpoint, tuple(cosigned), checked)


def _cosigners(
    checkpoint_note: bytes,
    signatures: Sequence[NoteSignature],
    witnesses: Sequence[Verifier],
    quorum: int | None,
) -> list[str]:
    """Names of the given witnesses whose cosignature verifies; fewer than ``quorum`` fails."""
    required = len(witnesses) if quorum is None else quorum
    if required < 0:
        raise ReceiptError(f"a witness quorum cannot be negative ({required})")
    if required > len(witnesses):
        raise ReceiptError(
            f"{required} witness cosignatures are required but only {len(witnesses)} witness "
            "keys were given",
            hint="pass each trusted witness's vkey with --witness-key",
        )
    cosigned: list[str] = []
    missing: list[str] = []
    for witness in witnesses:
        if witness.key_type != COSIGNATURE_V1:
            raise ReceiptError(
                f"key {witness.name} is not a witness key (cosignature/v1, type 0x04)",
                hint="pass the vkey the witness published, not a log key",
            )
        if any(witness.matches(sig) for sig in signatures):
            # Raises if a line by this key does not verify: such a note is malformed.
            _open_note(checkpoint_note, [witness])
            cosigned.append(witness.name)
        else:
            missing.append(witness.name)
    if len(cosigned) < required:
        raise SignatureError(
            f"checkpoint is cosigned by {len(cosigned)} of the {len(witnesses)} witness keys "
            f"given, {required} required; no cosignature by {', '.join(missing)}",
            hint="ask the log for a receipt made after its witnesses cosigned "
            "('carbonlink ledger witness', then 'carbonlink ledger receipt')",
        )
    return cosigned


def receipted_files(content: dict[str, Any]) -> dict[str, str]:
    """File name → SHA-256 the entry vouches for (report files; empty for other kinds)."""
    if content.get("kind") == EntryKind.REPORT:
        return dict(content.get("files", {}))
    return {}


def _check_file(content: dict[str, Any], path: Path) -> str:
    try:
        actual = sha256_file(path)
    except OSError as exc:
        raise ReceiptError(f"cannot read the receipted file: {exc}", file=str(path)) from exc
    if content.get("kind") == EntryKind.FOOTPRINT:
        expected = content.get("document_sha256")
    else:
        expected = receipted_files(content).get(path.name)
        if expected is None:
            raise ReceiptError(
                "the receipt does not vouch for a file of this name",
                file=str(path),
                hint=f"it names: {', '.join(sorted(receipted_files(content))) or 'no files'}",
            )
    if actual != expected:
        raise ReceiptError(
            "file differs from the one the ledger recorded (SHA-256 mismatch)",
            file=str(path),
            hint="the file was changed after it was receipted; ask the issuer for the original",
        )
    return actual


def make_receipt(ledger: Ledger, index: int, signer: Signer | None = None) -> Receipt:
    """Receipt for entry ``index`` against the latest checkpoint (signing one if needed).

    Without a ``signer`` the latest stored checkpoint must already include the entry.
    """
    latest = ledger.latest_checkpoint()
    if latest is None or latest.size <= index:
        if signer is None:
            raise ReceiptError(
                f"no signed checkpoint includes entry {index} yet",
                hint="sign a checkpoint ('carbonlink ledger checkpoint') first",
            )
        latest = ledger.sign_checkpoint(signer)
    entry = ledger.entry(index)
    proof = ledger.inclusion_proof(index, latest.size)
    note = ledger.cosigned_checkpoint(latest.size)
    return Receipt(entry=entry.body, index=index, proof=tuple(proof), checkpoint_note=note)


def record_report(
    ledger: Ledger,
    signer: Signer,
    report_id: str,
    *,
    report_kind: str,
    paths: Sequence[Path],
    inputs: Sequence[int] = (),
    receipt_dir: Path | None = None,
    copies_kept: bool = False,
) -> tuple[int, Path]:
    """Record a report's rendered files, sign a checkpoint and write the report's receipt.

    Returns the entry's index and the receipt's path (``<report_id>.tlog-proof`` beside the
    first file unless ``receipt_dir`` says otherwise).
    """
    if not paths:
        raise ReceiptError(f"report {report_id} has no rendered files to record")
    index = ledger.append(
        report_entry_for_files(
            report_id,
            report_kind=report_kind,
            paths=paths,
            inputs=inputs,
            copies_kept=copies_kept,
        )
    )
    ledger.sign_checkpoint(signer)
    folder = receipt_dir or paths[0].parent
    return index, write_receipt(make_receipt(ledger, index), folder / report_id)


def write_receipt(receipt: Receipt, path: Path) -> Path:
    """Write a receipt file (the ``.tlog-proof`` suffix is added if missing)."""
    if not path.name.endswith(RECEIPT_SUFFIX):
        path = path.with_name(path.name + RECEIPT_SUFFIX)
    path.write_bytes(receipt.to_bytes())
    return path
