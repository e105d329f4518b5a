"""The database-backed verifiable log: appends, roots, proofs, checkpoints and cosignatures.

One writer at a time: an append first takes the log's write lock (a no-op update of the tree
row: a row lock on PostgreSQL, the database write lock on SQLite), then reads the size and writes
the entries, their stored hashes and the new size in one transaction. The size changes only by a
compare-and-set and entry indices are primary keys, so even a writer that bypassed the lock would
fail rather than fork the log. Each append, root or proof reads ``O(log n)`` stored hashes.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from carbonlink.errors import InputError
from carbonlink.ledger import merkle
from carbonlink.ledger.anchor import CheckpointAnchor
from carbonlink.ledger.entries import EntryDraft, LedgerEntry
from carbonlink.ledger.errors import ConcurrentWriterError, SignatureError, TamperError
from carbonlink.ledger.note import (
    COSIGNATURE_V1,
    Checkpoint,
    Note,
    NoteSignature,
    Signer,
    Verifier,
    open_checkpoint,
    parse_note,
    sign_note,
)
from carbonlink.ledger.schema import (
    ledger_anchor,
    ledger_checkpoint,
    ledger_cosignature,
    ledger_entry,
    ledger_hash,
    ledger_tree,
)

_TREE_ROW = 1

# Built once: appends, roots and proofs run these on every call.
_READ_HASHES = select(ledger_hash.c.leaf, ledger_hash.c.hashes).where(
    ledger_hash.c.leaf.in_(bindparam("leaves", expanding=True))
)
_READ_SIZE = select(ledger_tree.c.size).where(ledger_tree.c.id == _TREE_ROW)
_LOCK_TREE = (
    update(ledger_tree).where(ledger_tree.c.id == _TREE_ROW).values(size=ledger_tree.c.size)
)


@dataclass(frozen=True, slots=True)
class SignedCheckpoint:
    """A checkpoint the log signed, as the exact note bytes it issued."""

    checkpoint: Checkpoint
    note: bytes

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root_hash(self) -> bytes:
        return self.checkpoint.root_hash


class StoredHashes:
    """`merkle.HashSource` over the ``ledger_hash`` table, read on one connection."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    def read_hashes(self, positions: Sequence[merkle.Position]) -> dict[merkle.Position, bytes]:
        leaves = sorted({merkle.completing_leaf(position) for position in positions})
        rows = dict(self._connection.execute(_READ_HASHES, {"leaves": leaves}).all())
        found: dict[merkle.Position, bytes] = {}
        for position in positions:
            leaf = merkle.completing_leaf(position)
            row = rows.get(leaf)
            offset = position[0] * merkle.HASH_SIZE
            if row is None or len(row) < offset + merkle.HASH_SIZE:
                raise TamperError(
                    f"stored hashes of entry {leaf} are missing or cut short",
                    index=leaf,
                    hint="run 'carbonlink ledger verify --full' to find every damaged row",
                )
            found[position] = bytes(row[offset : offset + merkle.HASH_SIZE])
        return found


class Ledger:
    """The append-only log of carbonlink, stored through SQLAlchemy Core."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- writing ---------------------------------------------------------------------------

    def append(self, draft: EntryDraft) -> int:
        """Append one entry and return its log index."""
        return self.append_many([draft]).start

    def append_many(self, drafts: Iterable[EntryDraft]) -> range:
        """Append entries in one transaction and return their log indices.

        Entries, stored hashes and the new size are written together; if anything fails
        nothing is written.
        """
        try:
            with self.engine.begin() as connection:
                return self._append(connection, drafts)
        except IntegrityError as exc:
            raise ConcurrentWriterError(
                "another writer appended to the ledger at the same time",
                hint="the ledger has one writer; retry the append",
            ) from exc

    def _append(self, connection: Connection, drafts: Iterable[EntryDraft]) -> range:
        size = self._locked_size(connection)
        frontier = merkle.Frontier.load(size, StoredHashes(connection))
        entry_rows: list[tuple[int, str, str | None, bytes]] = []
        hash_rows: list[tuple[int, bytes]] = []
        append_leaf = frontier.append
        for draft in drafts:
            if type(draft.body) is not bytes:
                raise InputError(
                    f"ledger entry {frontier.size} is not bytes",
                    hint="build entries with the *_entry functions of carbonlink.ledger",
                )
            index = frontier.size
            entry_rows.append((index, str(draft.kind), draft.subject, draft.body))
            hash_rows.append((index, b"".join(append_leaf(draft.body))))
        if not entry_rows:
            return range(size, size)
        _bulk_insert(connection, ledger_entry, ("idx", "kind", "subject", "body"), entry_rows)
        _bulk_insert(connection, ledger_hash, ("leaf", "hashes"), hash_rows)
        moved = connection.execute(
            update(ledger_tree)
            .where(ledger_tree.c.id == _TREE_ROW, ledger_tree.c.size == size)
            .values(size=frontier.size)
        )
        if moved.rowcount != 1:
            raise ConcurrentWriterError(
                "the ledger size changed during an append", hint="retry the append"
            )
        return range(size, frontier.size)

    def _locked_size(self, connection: Connection) -> int:
        """The tree size, with the log's write lock held until the transaction ends.

        A no-op update of the tree row comes first: PostgreSQL locks the row, SQLite takes its
        write lock (waiting out the busy timeout) before anything is read, so a second writer
        queues behind the first instead of appending from a stale size.
        """
        touched = connection.execute(_LOCK_TREE)
        size = connection.execute(_READ_SIZE).scalar_one_or_none() if touched.rowcount else None
        if size is None:
            connection.execute(insert(ledger_tree).values(id=_TREE_ROW, size=0, origin=None))
            return 0
        return int(size)

    # -- reading ---------------------------------------------------------------------------

    def size(self) -> int:
        """Number of entries in the log."""
        with self.engine.connect() as connection:
            return self._size(connection)

    @staticmethod
    def _size(connection: Connection) -> int:
        value = connection.execute(_READ_SIZE).scalar_one_or_none()
        return int(value or 0)

    def entry(self, index: int) -> LedgerEntry:
        """The stored entry at ``index``."""
        with self.engine.connect() as connection:
            row = connection.execute(
                select(ledger_entry).where(ledger_entry.c.idx == index)
            ).one_or_none()
        if row is None:
            raise TamperError(f"ledger has no entry {index}", index=index)
        return LedgerEntry(int(row.idx), row.kind, bytes(row.body), row.subject)

    def entries(self, start: int = 0, stop: int | None = None) -> Iterator[LedgerEntry]:
        """Stored entries with ``start ≤ index < stop`` in index order, read in chunks."""
        chunk = 10_000
        stop = self.size() if stop is None else stop
        for lo in range(start, stop, chunk):
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(ledger_entry)
                    .where(ledger_entry.c.idx >= lo, ledger_entry.c.idx < min(lo + chunk, stop))
                    .order_by(ledger_entry.c.idx)
                ).all()
            for row in rows:
                yield LedgerEntry(int(row.idx), row.kind, bytes(row.body), row.subject)

    def find(self, subject: str) -> list[LedgerEntry]:
        """Entries recorded under a subject (``report:<id>``, ``import-batch:<id>`` …)."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ledger_entry)
                .where(ledger_entry.c.subject == subject)
                .order_by(ledger_entry.c.idx)
            ).all()
        return [LedgerEntry(int(row.idx), row.kind, bytes(row.body), row.subject) for row in rows]

    def root(self, size: int | None = None) -> bytes:
        """Root hash of the tree of the first ``size`` entries (default: all)."""
        with self.engine.connect() as connection:
            current = self._size(connection)
            size = current if size is None else self._check_size(size, current)
            return merkle.tree_root(size, StoredHashes(connection))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """Inclusion proof of entry ``index`` in the tree of ``size`` entries (RFC 9162)."""
        with self.engine.connect() as connection:
            current = self._size(connection)
            size = current if size is None else self._check_size(size, current)
            return merkle.inclusion_proof(index, size, StoredHashes(connection))

    def consistency_proof(self, first: int, second: int | None = None) -> list[bytes]:
        """Consistency proof from the tree of ``first`` entries to that of ``second``."""
        with self.engine.connect() as connection:
            current = self._size(connection)
            second = current if second is None else self._check_size(second, current)
            return merkle.consistency_proof(first, second, StoredHashes(connection))

    @staticmethod
    def _check_size(size: int, current: int) -> int:
        if not 0 <= size <= current:
            raise merkle.ProofError(f"tree size {size} is outside the log (size {current})")
        return size

    # -- checkpoints -----------------------------------------------------------------------

    def checkpoints(self) -> list[SignedCheckpoint]:
        """Every checkpoint the log signed, smallest size first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ledger_checkpoint.c.note).order_by(ledger_checkpoint.c.size)
            ).all()
        return [_signed_from_note(bytes(row.note)) for row in rows]

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        """The checkpoint with the largest size, if any was signed."""
        with self.engine.connect() as connection:
            note = connection.execute(
                select(ledger_checkpoint.c.note).order_by(ledger_checkpoint.c.size.desc()).limit(1)
            ).scalar_one_or_none()
        return None if note is None else _signed_from_note(bytes(note))

    def sign_checkpoint(
        self, signer: Signer, anchors: Sequence[CheckpointAnchor] = ()
    ) -> SignedCheckpoint:
        """Sign a checkpoint of the current tree, unless the latest one already covers it.

        The log never signs two inconsistent checkpoints: before signing it proves, from its
        stored hashes, that the current tree extends the latest signed one, and refuses
        (``TamperError``) otherwise. The new checkpoint is then handed to each anchor.
        """
        with self.engine.begin() as connection:
            size = self._locked_size(connection)
            origin = connection.execute(
                select(ledger_tree.c.origin).where(ledger_tree.c.id == _TREE_ROW)
            ).scalar_one()
            if origin is None:
                connection.execute(
                    update(ledger_tree)
                    .where(ledger_tree.c.id == _TREE_ROW)
                    .values(origin=signer.name)
                )
            elif origin != signer.name:
                raise SignatureError(
                    f"this ledger signs as {origin!r}, not {signer.name!r}",
                    hint="use the ledger key kept in the workspace's keys folder",
                )
            source = StoredHashes(connection)
            root = merkle.tree_root(size, source)
            signed: SignedCheckpoint | None = None
            latest_note = connection.execute(
                select(ledger_checkpoint.c.note)
                .order_by(ledger_checkpoint.c.size.desc())
                .limit(1)
                .with_for_update()
            ).scalar_one_or_none()
            if latest_note is not None:
                latest = _signed_from_note(bytes(latest_note))
                self._check_extends(latest, size, root, source)
                if latest.size == size:
                    signed = latest
            if signed is None:
                checkpoint = Checkpoint(signer.name, size, root)
                note = sign_note(checkpoint.text(), signer).to_bytes()
                connection.execute(
                    insert(ledger_checkpoint).values(
                        size=size, root_hash=root, note=note, signed_at=datetime.now(UTC)
                    )
                )
                signed = SignedCheckpoint(checkpoint, note)
        anchored = self.anchors(signed.size)
        for anchor in anchors:
            if anchor.name not in anchored:
                self.record_anchor(signed, anchor)
        return signed

    @staticmethod
    def _check_extends(
        latest: SignedCheckpoint, size: int, root: bytes, source: merkle.HashSource
    ) -> None:
        if latest.size > size:
            raise TamperError(
                f"the log has {size} entries but a checkpoint for {latest.size} was signed",
                index=size,
                hint="entries were deleted; restore them from a backup",
            )
        try:
            merkle.verify_consistency(
                latest.size,
                size,
                latest.root_hash,
                root,
                merkle.consistency_proof(latest.size, size, source) if latest.size else [],
            )
        except merkle.ProofError as exc:
            raise TamperError(
                f"refusing to sign: the tree of {size} entries is not consistent with the "
                f"signed checkpoint of size {latest.size} ({exc})",
                hint="run 'carbonlink ledger verify --full' to find the damaged entry",
            ) from exc

    def record_anchor(self, signed: SignedCheckpoint, anchor: CheckpointAnchor) -> str:
        """Post a checkpoint to an external anchor and store where it went."""
        reference = anchor.anchor(signed.note)
        with self.engine.begin() as connection:
            connection.execute(
                insert(ledger_anchor).values(
                    checkpoint_size=signed.size,
                    anchor=anchor.name,
                    reference=reference,
                    anchored_at=datetime.now(UTC),
                )
            )
        return reference

    def anchors(self, size: int) -> dict[str, str]:
        """Anchor references recorded for the checkpoint of ``size``."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ledger_anchor.c.anchor, ledger_anchor.c.reference).where(
                    ledger_anchor.c.checkpoint_size == size
                )
            ).all()
        return {row.anchor: row.reference for row in rows}

    # -- witnesses -------------------------------------------------------------------------

    def witness_request(self, old_size: int, signed: SignedCheckpoint | None = None) -> bytes:
        """Body of a c2sp.org/tlog-witness ``add-checkpoint`` request for a witness at ``old_size``.

        ``old size`` line, the consistency proof lines, a blank line, the signed checkpoint.
        """
        signed = signed or self.latest_checkpoint()
        if signed is None:
            raise TamperError("no checkpoint has been signed yet", hint="sign one first")
        proof = self.consistency_proof(old_size, signed.size) if old_size > 0 else []
        lines = [f"old {old_size}\n"] + [base64.b64encode(h).decode() + "\n" for h in proof]
        return "".join(lines).encode() + b"\n" + signed.note

    def add_cosignatures(self, size: int, response: bytes, witnesses: Sequence[Verifier]) -> int:
        """Store the cosignature lines a witness returned for the checkpoint of ``size``.

        Each line is verified against the checkpoint text with the matching witness key;
        lines from unknown keys are ignored, a line that fails to verify is an error.
        Returns how many cosignatures were newly stored.
        """
        signed = self._checkpoint_at(size)
        text = signed.checkpoint.text()
        stored = 0
        probe = parse_note(text.encode() + b"\n" + response)
        with self.engine.begin() as connection:
            existing = {
                (row.witness, bytes(row.key_id))
                for row in connection.execute(
                    select(ledger_cosignature.c.witness, ledger_cosignature.c.key_id).where(
                        ledger_cosignature.c.checkpoint_size == size
                    )
                )
            }
            for signature in probe.signatures:
                witness = next((w for w in witnesses if w.matches(signature)), None)
                if witness is None:
                    continue
                if witness.key_type != COSIGNATURE_V1 or not witness.verify(text, signature):
                    raise SignatureError(f"cosignature by {signature.name} does not verify")
                if (signature.name, signature.key_id) in existing:
                    continue
                connection.execute(
                    insert(ledger_cosignature).values(
                        checkpoint_size=size,
                        witness=signature.name,
                        key_id=signature.key_id,
                        timestamp=int.from_bytes(signature.signature[:8], "big"),
                        signature=signature.signature,
                        received_at=datetime.now(UTC),
                    )
                )
                existing.add((signature.name, signature.key_id))
                stored += 1
        return stored

    def cosigned_checkpoint(self, size: int) -> bytes:
        """The checkpoint note of ``size`` with every stored witness cosignature appended."""
        signed = self._checkpoint_at(size)
        note = parse_note(signed.note)
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(ledger_cosignature)
                .where(ledger_cosignature.c.checkpoint_size == size)
                .order_by(ledger_cosignature.c.witness)
            ).all()
        for row in rows:
            note = note.with_signature(
                NoteSignature(row.witness, bytes(row.key_id), bytes(row.signature))
            )
        return note.to_bytes()

    def _checkpoint_at(self, size: int) -> SignedCheckpoint:
        with self.engine.connect() as connection:
            note = connection.execute(
                select(ledger_checkpoint.c.note).where(ledger_checkpoint.c.size == size)
            ).scalar_one_or_none()
        if note is None:
            raise TamperError(f"no checkpoint was signed at size {size}")
        return _signed_from_note(bytes(note))

    def checkpoint_covering(self, index: int) -> SignedCheckpoint | None:
        """The smallest signed checkpoint that includes entry ``index``."""
        with self.engine.connect() as connection:
            size = connection.execute(
                select(func.min(ledger_checkpoint.c.size)).where(ledger_checkpoint.c.size > index)
            ).scalar_one_or_none()
        return None if size is None else self._checkpoint_at(int(size))

    def verify_checkpoint_signature(self, signed: SignedCheckpoint, log_key: Verifier) -> None:
        """Check a stored checkpoint's signature with the log's public key."""
        checkpoint, _ = open_checkpoint(signed.note, log_key)
        if checkpoint != signed.checkpoint:
            raise SignatureError("stored checkpoint does not match its signed note")


def _bulk_insert(
    connection: Connection, table: Table, columns: tuple[str, ...], rows: Sequence[tuple[Any, ...]]
) -> None:
    """Insert many rows through the driver's ``executemany`` with plain tuples.

    The statement is still built by SQLAlchemy for the connection's dialect; only the per-row
    parameter processing is skipped, which is most of the cost of a large batched append.
    """
    compiled = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
    if compiled.positional:
        order = [columns.index(name) for name in compiled.positiontup or ()]
        params: list[Any] = (
            list(rows)
            if order == list(range(len(columns)))
            else [tuple(row[i] for i in order) for row in rows]
        )
    else:
        params = [dict(zip(columns, row, strict=True)) for row in rows]
    connection.exec_driver_sql(str(compiled), params)


def _signed_from_note(note: bytes) -> SignedCheckpoint:
    parsed: Note = parse_note(note)
    return SignedCheckpoint(Checkpoint.parse(parsed.text), note)
