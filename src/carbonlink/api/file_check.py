"""Whether a report file on disk is the one the ledger recorded, checked each time it is served.

A file is **verified** when its SHA-256 equals the hash that a ledger entry records for its
name, that entry is the one stored in the log at the index its receipt names, and the latest
checkpoint (signed with the log's key from the workspace) covers it with an inclusion proof
that leads to its root. It is **changed** when such an entry exists but the bytes differ, and
**unverified** when there is nothing to check against (no receipt, no signed checkpoint, a
receipt the log does not hold). The file's hash is kept per file identity (path, size,
modification time in ns, inode), so an unchanged file is hashed once and an edited one again.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa

from carbonlink.errors import CarbonlinkError
from carbonlink.ledger import merkle
from carbonlink.ledger.entries import EntryKind, sha256_file
from carbonlink.ledger.keys import load_ledger_verifier
from carbonlink.ledger.log import Ledger
from carbonlink.ledger.note import Verifier, open_checkpoint
from carbonlink.ledger.receipt import Receipt, receipted_files

Status = Literal["verified", "changed", "unverified"]
RECEIPT_SUFFIX = ".tlog-proof"
_CACHE_LIMIT = 4096


def receipt_beside(path: Path) -> Path | None:
    """The ``*.tlog-proof`` receipt of a written file: ``<file>.tlog-proof`` or, as the ledger
    writes it for a report's rendered files, ``<report id>.tlog-proof`` beside them."""
    for candidate in (
        path.with_name(path.name + RECEIPT_SUFFIX),
        path.with_name(path.stem + RECEIPT_SUFFIX),
    ):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True, slots=True)
class FileCheck:
    """The outcome for one file, with what was compared (for the receipt page)."""

    status: Status
    name: str
    actual_sha256: str
    reason: str
    expected_sha256: str | None = None
    index: int | None = None
    entry: bytes | None = None
    content: dict[str, Any] | None = None
    checkpoint_note: bytes | None = None
    checkpoint_size: int | None = None
    proof: tuple[bytes, ...] = ()
    vkey: Verifier | None = None


@dataclass
class FileChecker:
    """Checks files against the ledger; remembers each file version's SHA-256."""

    _hashes: dict[tuple[str, int, int, int], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        identity = (str(path), stat.st_size, stat.st_mtime_ns, stat.st_ino)
        found = self._hashes.get(identity)
        if found is None:
            found = sha256_file(path)
            with self._lock:
                if len(self._hashes) >= _CACHE_LIMIT:
                    self._hashes.clear()
                self._hashes[identity] = found
        return found

    def check(self, path: Path, engine: sa.Engine, workspace: Path) -> FileCheck:
        actual = self.sha256(path)
        name = path.name
        receipt_path = receipt_beside(path)
        if receipt_path is None:
            return FileCheck("unverified", name, actual, "no receipt beside the file")
        try:
            receipt = Receipt.parse(receipt_path.read_bytes())
        except (CarbonlinkError, OSError) as exc:
            return FileCheck("unverified", name, actual, f"the receipt cannot be read: {exc}")
        ledger = Ledger(engine)
        try:
            stored = ledger.entry(receipt.index)
        except CarbonlinkError:
            return FileCheck(
                "unverified", name, actual, f"the ledger holds no entry {receipt.index}"
            )
        if stored.body != receipt.entry:
            return FileCheck(
                "unverified",
                name,
                actual,
                f"the receipt's entry differs from entry {receipt.index} of the ledger",
            )
        content = stored.content()
        expected = (
            content.get("document_sha256")
            if content.get("kind") == EntryKind.FOOTPRINT
            else receipted_files(content).get(name)
        )
        facts: dict[str, Any] = {
            "expected_sha256": expected,
            "index": stored.index,
            "entry": stored.body,
            "content": content,
        }
        if expected is None:
            return FileCheck(
                "unverified", name, actual, "the ledger entry names no file of this name", **facts
            )
        proved = self._proved(name, actual, ledger, workspace, facts)
        if actual != expected:
            # the proof still travels with the answer: the browser check shows which step fails
            return replace(
                proved, status="changed", reason="the file differs from the one recorded"
            )
        return proved

    @staticmethod
    def _proved(
        name: str, actual: str, ledger: Ledger, workspace: Path, facts: dict[str, Any]
    ) -> FileCheck:
        index: int = facts["index"]
        try:
            vkey = load_ledger_verifier(workspace)
        except CarbonlinkError:
            return FileCheck(
                "unverified",
                name,
                actual,
                "the ledger's public key is not in the workspace",
                **facts,
            )
        latest = ledger.latest_checkpoint()
        if latest is None or latest.size <= index:
            return FileCheck(
                "unverified", name, actual, "no signed checkpoint covers the entry yet", **facts
            )
        note = ledger.cosigned_checkpoint(latest.size)
        proof = tuple(ledger.inclusion_proof(index, latest.size))
        facts |= {"checkpoint_note": note, "checkpoint_size": latest.size, "vkey": vkey}
        try:
            checkpoint, _ = open_checkpoint(note, vkey)
            merkle.verify_inclusion(
                merkle.leaf_hash(facts["entry"]),
                index,
                checkpoint.size,
                list(proof),
                checkpoint.root_hash,
            )
        except CarbonlinkError as exc:
            return FileCheck(
                "unverified",
                name,
                actual,
                f"the checkpoint does not prove it: {exc}",
                **facts,
                proof=proof,
            )
        return FileCheck(
            "verified", name, actual, "recorded, proved and unchanged", **facts, proof=proof
        )
