"""Ledger receipts of exchanged product footprints: each one published or received is an entry.

Every footprint an organization publishes on its PACT host, and every footprint it receives
from a partner (pulled, sent in a RequestFulfilledEvent, or entered through the supplier
portal), is recorded as a ``footprint`` ledger entry carrying the SHA-256 of the stored JSON
document exactly as stored. Its receipt (a c2sp.org/tlog-proof file) then proves offline, with
the log's public key only, that this document was recorded, and `check_stored` finds a stored
document changed afterwards.

Entries are filed under the subject ``footprint:<organization>:<sent|received>:<pf id>``:
the ledger is one log per database, and two organizations may receive the same footprint.
A new version of a footprint (re-published, or received again with other content) is a new
entry under the same subject; none is ever changed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.exchange.schema import pact_footprints, pact_received_footprints
from carbonlink.ledger import ConcurrentWriterError, Ledger, footprint_entry, make_receipt
from carbonlink.ledger.errors import TamperError
from carbonlink.ledger.note import Signer
from carbonlink.ledger.receipt import Receipt, write_receipt

SENT = "sent"
RECEIVED = "received"
PUBLISHED_TO = "pact-host"
"""The ``partner`` of a published footprint's entry: the host, for every partner granted it."""


class FootprintNotFoundError(CarbonlinkError, LookupError):
    """The organization has no such footprint (published or received)."""


@dataclass(frozen=True, slots=True)
class StoredFootprint:
    """A footprint document as one organization's exchange stores it."""

    organization_id: str
    pf_id: str
    direction: str
    """``sent`` (published on our host) or ``received`` (from a partner)."""
    partner: str
    document: str

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the document's UTF-8 bytes, exactly as stored."""
        return hashlib.sha256(self.document.encode()).hexdigest()

    @property
    def subject(self) -> str:
        return subject_of(self.organization_id, self.direction, self.pf_id)


@dataclass(frozen=True, slots=True)
class FootprintCheck:
    """Whether a stored footprint is the document its ledger entries recorded."""

    footprint: StoredFootprint
    entries: tuple[int, ...]
    """Indices of the entries recorded under the footprint's subject."""
    matching: int | None
    """The entry whose SHA-256 is the stored document's, if any."""

    @property
    def ok(self) -> bool:
        return self.matching is not None


def subject_of(organization_id: str, direction: str, pf_id: str) -> str:
    """The ledger subject of an organization's footprint sent or received."""
    if direction not in (SENT, RECEIVED):
        raise InputError(f"footprint direction must be 'sent' or 'received', got {direction!r}")
    return f"footprint:{organization_id}:{direction}:{pf_id.lower()}"


def _recorded(ledger: Ledger, footprint: StoredFootprint) -> tuple[tuple[int, ...], int | None]:
    entries = ledger.find(footprint.subject)
    matching = [e.index for e in entries if e.content().get("document_sha256") == footprint.sha256]
    return tuple(e.index for e in entries), (matching[-1] if matching else None)


def record(ledger: Ledger, footprint: StoredFootprint, product: str = "") -> int:
    """The index of the footprint's entry, appending it unless this very document is recorded."""
    _entries, matching = _recorded(ledger, footprint)
    if matching is not None:
        return matching
    return _append(ledger, footprint, product)


def _append(ledger: Ledger, footprint: StoredFootprint, product: str = "") -> int:
    draft = footprint_entry(
        footprint.pf_id,
        document_sha256=footprint.sha256,
        direction=footprint.direction,
        partner=footprint.partner,
        product=product,
    )
    # The entry's own subject names the footprint only; ours adds the organization and direction.
    return ledger.append(replace(draft, subject=footprint.subject))


def stored(
    engine: Engine,
    organization_id: str,
    pf_id: str,
    direction: str = SENT,
) -> StoredFootprint:
    """An organization's stored footprint (the newest version received, for ``received``)."""
    found = list(_footprints(engine, organization_id, direction, pf_id=pf_id.lower()))
    if not found:
        what = "published" if direction == SENT else "received"
        raise FootprintNotFoundError(
            f"no {what} footprint {pf_id}",
            record=pf_id,
            hint="list them with GET /api/v1/pact/footprints"
            if direction == SENT
            else "list them with GET /api/v1/pact/received",
        )
    return found[-1]


def check_stored(
    ledger: Ledger, engine: Engine, organization_id: str | None = None
) -> list[FootprintCheck]:
    """Check every stored footprint (of one organization, or all) against its ledger entries.

    A footprint whose document hashes to none of its entries was changed after it was recorded
    (or was never recorded); its check is not ``ok``.
    """
    checks = []
    for direction in (SENT, RECEIVED):
        for footprint in _footprints(engine, organization_id, direction):
            entries, matching = _recorded(ledger, footprint)
            checks.append(FootprintCheck(footprint, entries, matching))
    return checks


def receipt_of(
    ledger: Ledger, footprint: StoredFootprint, signer: Signer | None = None
) -> tuple[int, Receipt]:
    """The entry index and offline receipt of a stored footprint's document.

    A footprint not recorded yet is recorded first; with ``signer`` a checkpoint covering the
    entry is signed when none does yet. A stored document matching none of the footprint's
    entries raises `TamperError`: it was changed after it was recorded.
    """
    entries, matching = _recorded(ledger, footprint)
    if matching is None and entries:
        raise TamperError(
            f"the stored document of footprint {footprint.pf_id} differs from every version the "
            "ledger recorded (SHA-256 mismatch)",
            index=entries[-1],
            hint="the stored copy was changed after it was recorded; restore it from the "
            "original (the receipted entry names its SHA-256)",
        )
    index = matching if matching is not None else record(ledger, footprint)
    return index, make_receipt(ledger, index, signer)


@dataclass(slots=True)
class ReceiptRecorder:
    """Records, on each `run_once`, the footprints stored since its last run (all owners).

    The first run looks at every stored footprint; later runs at those published (or
    re-published) or received since. A run that meets another writer of the ledger stops and
    leaves the rest to the next run.
    """

    engine: Engine
    _published_since: datetime | None = field(default=None, init=False)
    _received_after: int = field(default=0, init=False)

    def run_once(self) -> list[int]:
        """Record what is new; returns the indices of the entries appended."""
        ledger = Ledger(self.engine)
        indices: list[int] = []
        published = select(pact_footprints).order_by(pact_footprints.c.published_at)
        if self._published_since is not None:
            published = published.where(pact_footprints.c.published_at >= self._published_since)
        received = (
            select(pact_received_footprints)
            .where(pact_received_footprints.c.id > self._received_after)
            .order_by(pact_received_footprints.c.id)
        )
        with self.engine.connect() as connection:
            sent_rows = connection.execute(published).all()
            received_rows = connection.execute(received).all()
        footprints = [(_published(row), row.published_at, None) for row in sent_rows]
        footprints += [(_received(row), None, row.id) for row in received_rows]
        try:
            for footprint, published_at, received_id in footprints:
                if _recorded(ledger, footprint)[1] is None:
                    indices.append(_append(ledger, footprint))
                if published_at is not None:
                    self._published_since = published_at
                if received_id is not None:
                    self._received_after = received_id
        except ConcurrentWriterError:
            pass
        return indices


def _published(row: Any) -> StoredFootprint:
    return StoredFootprint(row.organization_id, row.pf_id, SENT, PUBLISHED_TO, row.document)


def _received(row: Any) -> StoredFootprint:
    return StoredFootprint(row.organization_id, row.pf_id, RECEIVED, row.source, row.document)


def _footprints(
    engine: Engine, organization_id: str | None, direction: str, *, pf_id: str | None = None
) -> Iterable[StoredFootprint]:
    table = pact_footprints if direction == SENT else pact_received_footprints
    order = pact_footprints.c.published_at if direction == SENT else pact_received_footprints.c.id
    query = select(table).order_by(order)
    if organization_id is not None:
        query = query.where(table.c.organization_id == organization_id)
    if pf_id is not None:
        query = query.where(table.c.pf_id == pf_id)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    convert = _published if direction == SENT else _received
    return [convert(row) for row in rows]


def write_receipt_files(
    ledger: Ledger, footprint: StoredFootprint, signer: Signer, folder: Path, name: str
) -> tuple[int, Path, Path]:
    """Write a footprint's stored document and its receipt as ``name.json`` and
    ``name.tlog-proof`` in ``folder``; returns the entry index and both paths.

    Anyone holding the log's public key checks them with
    ``carbonlink verify name.tlog-proof name.json --key ledger.vkey``.
    """
    index, receipt = receipt_of(ledger, footprint, signer)
    folder.mkdir(parents=True, exist_ok=True)
    document = folder / f"{name}.json"
    document.write_bytes(footprint.document.encode())
    return index, document, write_receipt(receipt, folder / name)
