"""External anchors: somewhere outside the log that a checkpoint's hash is posted to.

An anchor (a public chain such as Xinghuo BIF, a timestamping service, a newspaper) makes it
impossible for the operator to swap the whole log, keys included, without being seen. carbonlink
ships the interface and a file anchor; a chain anchor is a plug-in implementing the same Protocol.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable


@runtime_checkable
class CheckpointAnchor(Protocol):
    """Posts the SHA-256 of a signed checkpoint somewhere else and says where it went."""

    name: str

    def anchor(self, checkpoint_note: bytes) -> str:
        """Post the checkpoint's hash; return a reference to find it again (e.g. a tx id)."""
        ...


def checkpoint_digest(checkpoint_note: bytes) -> str:
    """Hex SHA-256 of a signed checkpoint note, the value anchors publish."""
    return hashlib.sha256(checkpoint_note).hexdigest()


class FileAnchor:
    """Appends ``<UTC time> <sha256 of checkpoint>`` lines to a file (e.g. on a WORM share)."""

    def __init__(self, path: Path, name: str = "file") -> None:
        self.path = path
        self.name = name

    def anchor(self, checkpoint_note: bytes) -> str:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        digest = checkpoint_digest(checkpoint_note)
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        with self.path.open("a", encoding="ascii") as stream:
            stream.write(f"{stamp} {digest}\n")
        return f"{self.path}#{digest}"
