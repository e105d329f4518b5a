"""Ledger entries: the canonical bytes (RFC 8785 JSON) of each record the log vouches for.

An entry is built once from plain values, serialised with the JSON Canonicalization Scheme
(RFC 8785) and from then on handled only as those bytes: stored exactly as hashed, never
re-serialised and never updated. A mistake is fixed by a new ``correction`` entry that points
at the old one.

Every entry is a JSON object with ``"v": 1``, a ``"kind"`` and a ``"recorded_at"`` UTC time;
hashes are lower-case hex SHA-256 digests in fields ending in ``sha256``; references to other
entries are their log indices (always smaller than the entry's own index).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import rfc8785

from carbonlink.errors import InputError

ENTRY_VERSION = 1
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


class EntryKind(StrEnum):
    """What an entry records."""

    IMPORT_BATCH = "import-batch"
    FACTOR_SET = "factor-set"
    CALCULATION_RUN = "calculation-run"
    REPORT = "report"
    FOOTPRINT = "footprint"
    CORRECTION = "correction"


@dataclass(frozen=True, slots=True)
class EntryDraft:
    """An entry ready to append: its kind, an optional lookup key, and its canonical bytes."""

    kind: EntryKind
    body: bytes
    subject: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """An entry as stored in the log at ``index``."""

    index: int
    kind: str
    body: bytes
    subject: str | None = None

    def content(self) -> dict[str, Any]:
        """The entry's JSON object (parsed from the stored bytes, which stay authoritative)."""
        return parse_entry(self.body)


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def message_set_sha256(messages: Iterable[bytes]) -> str:
    """Hex SHA-256 of a set of raw messages in receipt order (e.g. one MQTT batch).

    Each message is prefixed by its length as 8 bytes big-endian, so that no two different
    sequences of messages hash alike.
    """
    digest = hashlib.sha256()
    for message in messages:
        digest.update(len(message).to_bytes(8, "big"))
        digest.update(message)
    return digest.hexdigest()


def canonical_json(value: Mapping[str, Any]) -> bytes:
    """RFC 8785 canonical bytes of a JSON object."""
    try:
        return rfc8785.dumps(dict(value))
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise InputError(
            f"ledger entry cannot be written as canonical JSON: {exc}",
            hint="use strings, integers within ±2^53, finite floats, lists and objects only",
        ) from exc


def parse_entry(body: bytes) -> dict[str, Any]:
    """Parse stored entry bytes, checking they are the canonical form of a v1 entry."""
    try:
        content = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"ledger entry is not JSON: {exc}") from exc
    if not isinstance(content, dict) or content.get("v") != ENTRY_VERSION:
        raise InputError("ledger entry is not a version 1 entry object")
    if canonical_json(content) != body:
        raise InputError("ledger entry bytes are not in RFC 8785 canonical form")
    return content


def _timestamp(recorded_at: datetime | None) -> str:
    moment = recorded_at or datetime.now(UTC)
    if moment.tzinfo is None:
        raise InputError("recorded_at must be timezone-aware", hint="pass a UTC datetime")
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _digest(value: str, field: str) -> str:
    if not _SHA256_HEX.fullmatch(value):
        raise InputError(f"{field} must be a lower-case hex SHA-256 digest, got {value!r}")
    return value


def _indices(values: Sequence[int], field: str) -> list[int]:
    result = [int(value) for value in values]
    if any(value < 0 for value in result):
        raise InputError(f"{field} must be ledger entry indices (≥ 0)")
    return result


def _draft(
    kind: EntryKind, subject: str | None, recorded_at: datetime | None, fields: dict[str, Any]
) -> EntryDraft:
    content = {"v": ENTRY_VERSION, "kind": kind.value, "recorded_at": _timestamp(recorded_at)}
    content.update(fields)
    return EntryDraft(kind=kind, body=canonical_json(content), subject=subject)


def import_batch_entry(
    batch_id: str,
    *,
    source: str,
    raw_sha256: str,
    records: int,
    rejected: int = 0,
    details: Mapping[str, Any] | None = None,
    recorded_at: datetime | None = None,
) -> EntryDraft:
    """Entry for one import batch: the raw file's (or message set's) hash and what came of it."""
    return _draft(
        EntryKind.IMPORT_BATCH,
        f"import-batch:{batch_id}",
        recorded_at,
        {
            "batch_id": batch_id,
            "source": source,
            "raw_sha256": _digest(raw_sha256, "raw_sha256"),
            "records": int(records),
            "rejected": int(rejected),
            "details": dict(details or {}),
        },
    )


def factor_set_entry(
    name: str,
    version: str,
    *,
    content_sha256: str,
    source: str = "",
    recorded_at: datetime | None = None,
) -> EntryDraft:
    """Entry for one version of a factor set (emission factors, GWP set, grid factors)."""
    return _draft(
        EntryKind.FACTOR_SET,
        f"factor-set:{name}@{version}",
        recorded_at,
        {
            "name": name,
            "version": version,
            "content_sha256": _digest(content_sha256, "content_sha256"),
            "source": source,
        },
    )


def calculation_run_entry(
    run_id: str,
    *,
    inputs: Sequence[int],
    settings: Mapping[str, Any],
    results_sha256: str,
    method: str = "",
    recorded_at: datetime | None = None,
) -> EntryDraft:
    """Entry for one calculation run: the entries it read, its settings and its results' hash."""
    return _draft(
        EntryKind.CALCULATION_RUN,
        f"calculation-run:{run_id}",
        recorded_at,
        {
            "run_id": run_id,
            "method": method,
            "inputs": _indices(inputs, "inputs"),
            "settings": dict(settings),
            "results_sha256": _digest(results_sha256, "results_sha256"),
        },
    )


def report_entry(
    report_id: str,
    *,
    report_kind: str,
    files: Mapping[str, str],
    inputs: Sequence[int] = (),
    recorded_at: datetime | None = None,
    copies_kept: bool = False,
) -> EntryDraft:
    """Entry for one report: the hash of each rendered file (by file name) and its inputs.

    ``copies_kept`` states that the store keeps a copy of every file, so that a copy deleted
    later is found by a full verification; entries without it (files kept elsewhere) omit
    the field and read as before.
    """
    if not files:
        raise InputError("a report entry needs at least one rendered file")
    for name in files:
        if "/" in name or "\\" in name or name in {"", ".", ".."}:
            raise InputError(f"report file name {name!r} must be a bare file name")
    return _draft(
        EntryKind.REPORT,
        f"report:{report_id}",
        recorded_at,
        {
            "report_id": report_id,
            "report_kind": report_kind,
            "files": {name: _digest(digest, f"files[{name}]") for name, digest in files.items()},
            "inputs": _indices(inputs, "inputs"),
            **({"copies_kept": True} if copies_kept else {}),
        },
    )


def report_entry_for_files(
    report_id: str,
    *,
    report_kind: str,
    paths: Iterable[Path],
    inputs: Sequence[int] = (),
    recorded_at: datetime | None = None,
    copies_kept: bool = False,
) -> EntryDraft:
    """Report entry whose file hashes are read from the rendered files themselves."""
    files = {path.name: sha256_file(path) for path in paths}
    return report_entry(
        report_id,
        report_kind=report_kind,
        files=files,
        inputs=inputs,
        recorded_at=recorded_at,
        copies_kept=copies_kept,
    )


def footprint_entry(
    footprint_id: str,
    *,
    document_sha256: str,
    direction: str,
    partner: str,
    product: str = "",
    recorded_at: datetime | None = None,
) -> EntryDraft:
    """Entry for one exchanged product footprint (PACT document sent or received)."""
    if direction not in {"sent", "received"}:
        raise InputError(f"footprint direction must be 'sent' or 'received', got {direction!r}")
    return _draft(
        EntryKind.FOOTPRINT,
        f"footprint:{footprint_id}",
        recorded_at,
        {
            "footprint_id": footprint_id,
            "document_sha256": _digest(document_sha256, "document_sha256"),
            "direction": direction,
            "partner": partner,
            "product": product,
        },
    )


def correction_entry(
    corrects: int,
    *,
    reason: str,
    replacement: int | None = None,
    recorded_at: datetime | None = None,
) -> EntryDraft:
    """Entry saying entry ``corrects`` is wrong, why, and (optionally) which entry replaces it."""
    if not reason.strip():
        raise InputError("a correction needs a reason")
    return _draft(
        EntryKind.CORRECTION,
        None,
        recorded_at,
        {
            "corrects": _indices([corrects], "corrects")[0],
            "reason": reason,
            "replacement": None
            if replacement is None
            else _indices([replacement], "replacement")[0],
        },
    )


def entry_from_json(content: Mapping[str, Any], subject: str | None = None) -> EntryDraft:
    """An entry from a ready JSON object (e.g. written by another tool), checked and canonicalised.

    The object must carry ``"v": 1``, a known ``"kind"`` and a ``"recorded_at"`` time; its
    canonical bytes are what gets hashed, whatever spacing or key order it came with.
    """
    if content.get("v") != ENTRY_VERSION:
        raise InputError('a ledger entry needs "v": 1')
    try:
        kind = EntryKind(str(content.get("kind")))
    except ValueError as exc:
        known = ", ".join(k.value for k in EntryKind)
        raise InputError(
            f"unknown entry kind {content.get('kind')!r}", hint=f"use one of: {known}"
        ) from exc
    if not isinstance(content.get("recorded_at"), str):
        raise InputError('a ledger entry needs a "recorded_at" UTC time string')
    return EntryDraft(kind=kind, body=canonical_json(content), subject=subject)


def referenced_indices(content: Mapping[str, Any]) -> list[int]:
    """The log indices an entry's content points at (inputs, corrected and replacing entries)."""
    found = list(content.get("inputs", []))
    for field in ("corrects", "replacement"):
        if isinstance(content.get(field), int):
            found.append(content[field])
    return found
