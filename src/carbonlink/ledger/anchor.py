"""External anchors: somewhere outside the log that a checkpoint's hash is posted to.

An anchor (a public chain such as Xinghuo BIF, a timestamping service, a newspaper) makes it
impossible for the operator to swap the whole log, keys included, without being seen. carbonlink
ships the interface, a file anchor, and `ChainAnchor`, which speaks the adapter contract below to
whatever sits in front of a chain.

The chain adapter contract (JSON over HTTP; ``<url>`` is the adapter's base URL):

``POST <url>/anchors`` with ``{"origin": str, "size": int, "checkpoint_sha256": "<64 hex>"}``
    publishes the hash; answers 200 or 201 with ``{"reference": str}``, the transaction
    reference. carbonlink stores it beside the checkpoint (``ledger_anchor``).
``GET <url>/anchors/<reference>``
    answers 200 with ``{"reference", "origin", "size", "checkpoint_sha256", "recorded_at"}``
    as the chain holds them, or 404 for a reference it does not know.

What is hashed is the checkpoint note exactly as the log signed it: its text and the log's own
signature line, without witness cosignatures (they arrive later). A verifier holding a receipt
rebuilds that note from the receipt's checkpoint (`log_signed_note`), asks the chain for the
reference and checks origin, size and hash (`verify_chain_anchor`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

from carbonlink.errors import ExchangeError
from carbonlink.ledger.errors import SignatureError
from carbonlink.ledger.note import Checkpoint, Note, Verifier, parse_note


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


class AnchorMismatch(ExchangeError):
    """The chain's record for an anchor reference does not match the checkpoint."""


class ChainAnchor:
    """Posts checkpoint hashes to a chain adapter that follows the contract above."""

    def __init__(self, url: str, name: str = "chain", timeout: float = 30.0) -> None:
        if not url.startswith(("http://", "https://")):
            raise ExchangeError(f"chain adapter URL {url!r} is not http(s)")
        self.url = url.rstrip("/")
        self.name = name
        self.timeout = timeout

    def anchor(self, checkpoint_note: bytes) -> str:
        checkpoint = Checkpoint.parse(parse_note(checkpoint_note).text)
        answer = _call(
            "POST",
            f"{self.url}/anchors",
            {
                "origin": checkpoint.origin,
                "size": checkpoint.size,
                "checkpoint_sha256": checkpoint_digest(checkpoint_note),
            },
            self.timeout,
        )
        reference = answer.get("reference") if answer else None
        if not isinstance(reference, str) or not reference:
            raise ExchangeError(f"chain adapter {self.url} answered without a reference")
        return reference

    def lookup(self, reference: str) -> dict[str, Any]:
        """The chain's record of an anchor reference."""
        answer = _call("GET", f"{self.url}/anchors/{quote(reference, safe='')}", None, self.timeout)
        if answer is None:
            raise AnchorMismatch(
                f"the chain at {self.url} knows no anchor {reference!r}",
                hint="check the reference and the chain adapter URL",
            )
        return answer


def log_signed_note(checkpoint_note: bytes, log_key: Verifier) -> bytes:
    """The note as the log signed it (its own signature lines only), from a cosigned one."""
    note = parse_note(checkpoint_note)
    own = tuple(signature for signature in note.signatures if log_key.matches(signature))
    if not own:
        raise SignatureError(f"checkpoint carries no signature by the log key {log_key.name}")
    return Note(note.text, own).to_bytes()


def verify_chain_anchor(
    anchor: ChainAnchor, reference: str, checkpoint_note: bytes, log_key: Verifier
) -> dict[str, Any]:
    """Check that the chain holds this checkpoint's hash under ``reference``; return its record."""
    signed = log_signed_note(checkpoint_note, log_key)
    checkpoint = Checkpoint.parse(parse_note(signed).text)
    record = anchor.lookup(reference)
    expected = {
        "origin": checkpoint.origin,
        "size": checkpoint.size,
        "checkpoint_sha256": checkpoint_digest(signed),
    }
    wrong = [key for key, value in expected.items() if record.get(key) != value]
    if wrong:
        raise AnchorMismatch(
            f"anchor {reference!r} does not hold this checkpoint ({', '.join(wrong)} differ)",
            hint="the checkpoint was not anchored there, or one of them was altered",
        )
    return record


def _call(
    method: str, url: str, body: dict[str, Any] | None, timeout: float
) -> dict[str, Any] | None:
    # urllib, not httpx: a verifier checking an anchor runs in the light `carbonlink verify`.
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    data = None if body is None else json.dumps(body).encode()
    request = Request(url, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urlopen(request, timeout=timeout) as response:
            payload = response.read()
    except HTTPError as exc:
        if exc.code == 404 and method == "GET":
            return None
        raise ExchangeError(f"chain adapter {url} answered {exc.code}") from exc
    except (URLError, OSError) as exc:
        raise ExchangeError(f"chain adapter {url} not reached: {exc}") from exc
    try:
        answer = json.loads(payload)
    except ValueError as exc:
        raise ExchangeError(f"chain adapter {url} answered with invalid JSON") from exc
    if not isinstance(answer, dict):
        raise ExchangeError(f"chain adapter {url} answered with a non-object")
    return answer
