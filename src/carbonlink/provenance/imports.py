"""Import batches in the ledger: the raw file's hash and the digest of the readings stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace

from carbonlink.errors import StoreError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ledger import (
    ConcurrentWriterError,
    EntryDraft,
    Ledger,
    LedgerEntry,
    TamperError,
    import_batch_entry,
    message_set_sha256,
)
from carbonlink.store.repository import Store


def record_import_batch(store: Store, ledger: Ledger, batch_id: str) -> int:
    """Append the ``import-batch`` entry of a finished batch and note its index on the batch.

    The entry carries the raw file's SHA-256 (or the message set's, for a stream flush) and
    the canonical digest of the readings this batch stored (`carbonlink.store.readings_digest`);
    readings already stored by an earlier batch belong to that batch, not to this one.
    """
    batch = store.batch(batch_id)
    if batch.ledger_index is not None:
        return batch.ledger_index
    if batch.file_sha256 is None:
        raise StoreError(
            f"import batch {batch_id} has no raw file or message-set hash",
            hint="begin the batch with file_sha256 (the SHA-256 of what was received)",
        )
    count, digest = store.batch_readings_digest(batch_id)
    entry = import_batch_entry(
        batch_id,
        source=f"{batch.kind}:{batch.source_ref}",
        raw_sha256=batch.file_sha256,
        records=batch.records,
        rejected=batch.quarantined,
        details={
            "readings": count,
            "readings_sha256": digest,
            "mapping_sha256": batch.mapping_sha256,
            "status": batch.status,
        },
    )
    index = _append(ledger, entry)
    store.link_batch(batch_id, readings_sha256=digest, ledger_index=index)
    return index


def _append(ledger: Ledger, entry: EntryDraft, attempts: int = 5) -> int:
    """Append, retrying when another writer appended at the same moment (the ledger takes one
    writer at a time; parallel posts of readings meet there)."""
    for attempt in range(attempts):
        try:
            return ledger.append(entry)
        except ConcurrentWriterError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.01 * 2**attempt)
    raise AssertionError("unreachable")


def record_unledgered_batches(store: Store, ledger: Ledger) -> list[int]:
    """Cover every stored reading with a ledger entry; return the indices appended.

    Run before anything else writes (at the start of a writing command, at service start):
    an import killed half-way leaves a batch 'running' whose readings no entry covers, a
    process stopped between storing a posted batch and recording it leaves a finished batch
    without an entry, and readings stored outside any batch belong to none. Such batches are
    closed ('interrupted' for a killed import, with the counts of what they stored) and
    recorded, so that `ledger verify --full` detects any later change to their readings.
    """
    store.adopt_stray_readings()
    indices = []
    for batch_id in store.unledgered_batches():
        if store.batch(batch_id).status == "running":
            store.close_interrupted_batch(batch_id)
        indices.append(record_import_batch(store, ledger, batch_id))
    return indices


def recompute_import_batch(entry: LedgerEntry, ledger: Ledger) -> None:
    """Recompute the readings digest of the entry's batch from the store and compare."""
    content = entry.content()
    details = content.get("details", {})
    batch_id = content["batch_id"]
    store = Store(ledger.engine)
    count, digest = store.batch_readings_digest(batch_id)
    if digest != details.get("readings_sha256") or count != details.get("readings"):
        raise TamperError(
            f"entry {entry.index} (import-batch {batch_id}): the stored readings no longer "
            f"match — {count} readings with digest {digest[:16]}…, the ledger recorded "
            f"{details.get('readings')} with {str(details.get('readings_sha256'))[:16]}…",
            index=entry.index,
            hint="a stored reading of this batch was changed, added or deleted",
        )
    batch = store.batch(batch_id)
    if batch.file_sha256 != content["raw_sha256"]:
        raise TamperError(
            f"entry {entry.index} (import-batch {batch_id}): the batch's raw file hash was changed",
            index=entry.index,
        )


def record_message_set(
    store: Store,
    ledger: Ledger,
    *,
    kind: str,
    source_ref: str,
    messages: Sequence[bytes],
    readings: Iterable[Reading],
    rejected: Iterable[Rejected] = (),
    add: Callable[[list[Reading]], int] | None = None,
    keep: Callable[[list[Rejected]], int] | None = None,
) -> tuple[str, int]:
    """Store one flush of a stream collector as an import batch and record it in the ledger.

    The batch's raw hash is `message_set_sha256` of the received payloads in order; its
    readings carry the batch id, so the entry's readings digest covers exactly what this flush
    stored. ``add`` and ``keep`` replace the store's own writes of readings and rejected
    records (a service that checks alert rules on what it stores, or keys quarantine by
    tenant). Returns the batch id and the entry's index.
    """
    batch_id = store.begin_batch(kind, source_ref, file_sha256=message_set_sha256(messages))
    stamped = [replace(reading, batch_id=batch_id) for reading in readings]
    kept = list(rejected)
    status = "failed"
    new = quarantined = 0
    try:
        new = store.add_readings(stamped) if add is None else add(stamped)
        if keep is None:
            quarantined = store.quarantine(kept, batch_id=batch_id)
        else:
            quarantined = keep(kept) if kept else 0
        status = "finished"
    finally:
        store.finish_batch(
            batch_id,
            records=len(messages),
            readings_new=new,
            readings_duplicate=len(stamped) - new,
            quarantined=quarantined,
            status=status,
        )
    return batch_id, record_import_batch(store, ledger, batch_id)


def record_posted_batch(
    store: Store,
    ledger: Ledger,
    *,
    source_ref: str,
    rows: Sequence[bytes],
    readings: Sequence[Reading],
    rejected: Sequence[Rejected],
    add: Callable[[list[Reading]], int] | None = None,
    keep: Callable[[list[Rejected]], int] | None = None,
) -> int:
    """Store a batch of readings posted over HTTP as an ``http`` import batch recorded in the
    ledger; return how many readings were new.

    ``rows`` are the rows as received (one JSON object each), hashed in order as the batch's
    raw hash. The readings carry the batch's id, the client's label is kept in ``source_ref``.
    """
    batch_id, _ = record_message_set(
        store,
        ledger,
        kind="http",
        source_ref=source_ref,
        messages=rows,
        readings=readings,
        rejected=rejected,
        add=add,
        keep=keep,
    )
    return store.batch(batch_id).readings_new


class LedgerSink:
    """The store as a collector's sink, each flush an import batch recorded in the ledger.

    Collectors that hand over a flush whole (`carbonlink.ingest.base.MessageSetSink`) get one
    batch and one ``import-batch`` entry per flush; single readings and rejected records given
    outside a flush go to the store unbatched, as before.
    """

    def __init__(self, store: Store, ledger: Ledger) -> None:
        self.store = store
        self.ledger = ledger

    def add_readings(self, readings: Iterable[Reading]) -> int:
        return self.store.add_readings(readings)

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        return self.store.quarantine(rejected)

    def add_message_set(
        self,
        kind: str,
        source_ref: str,
        messages: Sequence[bytes],
        readings: Sequence[Reading],
        rejected: Sequence[Rejected],
    ) -> tuple[int, int]:
        batch_id, _ = record_message_set(
            self.store,
            self.ledger,
            kind=kind,
            source_ref=source_ref,
            messages=messages,
            readings=readings,
            rejected=rejected,
        )
        batch = self.store.batch(batch_id)
        return batch.readings_new, batch.quarantined
