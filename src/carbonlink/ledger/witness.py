"""carbonlink as a witness of partners' logs: the c2sp.org/tlog-witness ``add-checkpoint`` call.

A witness keeps, for each log it was told to witness (origin and verifier keys), the latest
checkpoint it cosigned. A log sends ``old <size>``, a consistency proof from that size, a blank
line and its new signed checkpoint; the witness checks, in the order the specification gives:

====================================================================  ======
the body is ``old N``, at most 63 base64 hashes, a blank line, a note  400
the checkpoint's origin is a log it witnesses                          404
a trusted key signed it, and no trusted key's signature fails          403
old size ≤ checkpoint size                                             400
old size = the size it last cosigned (the body then says that size)    409
a size-0 checkpoint has the empty root; the proof is empty from 0;     422
the RFC 6962 consistency proof verifies; equal sizes, equal roots
====================================================================  ======

A checkpoint refused with 422 was signed by the log's own key (the 403 check came first), so
it is kept (``witness_evidence``, `Witness.evidence`): signed evidence that the log forked or
sent a false proof. Otherwise the witness stores the checkpoint and answers with its
cosignature/v1 line (Ed25519, key type 0x04, c2sp.org/tlog-cosignature) over the checkpoint
text and the current time. The check of the
old size and the store are one compare-and-set: of two requests racing from the same size only
one is cosigned, so the witness never rolls a log back (the race the specification describes).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Row, insert, select, update

from carbonlink.errors import InputError, LedgerError
from carbonlink.ledger import merkle
from carbonlink.ledger.errors import SignatureError
from carbonlink.ledger.note import (
    ED25519,
    Checkpoint,
    Note,
    NoteSignature,
    Signer,
    Verifier,
    open_note,
    parse_note,
)
from carbonlink.ledger.schema import witness_evidence, witnessed_log

MAX_PROOF_LINES = 63
SIZE_CONTENT_TYPE = "text/x.tlog.size"
"""Content type of a 409 answer: the size the witness last cosigned, in decimal, and a newline."""
_DIGITS = frozenset("0123456789")


class WitnessRefusal(LedgerError):
    """The witness will not cosign; ``status`` is the HTTP status the specification gives."""

    status = 400


class MalformedRequest(WitnessRefusal, ValueError):
    """The add-checkpoint body is not well formed, or its old size exceeds the new size."""


class UnknownLog(WitnessRefusal, LookupError):
    """The checkpoint's origin is not a log this witness was told to witness."""

    status = 404


class UntrustedCheckpoint(WitnessRefusal, PermissionError):
    """No trusted key signed the checkpoint, or a trusted key's signature does not verify."""

    status = 403


class SizeConflict(WitnessRefusal):
    """The log's old size is not the size this witness last cosigned; ``known_size`` is."""

    status = 409

    def __init__(self, message: str, *, known_size: int) -> None:
        self.known_size = known_size
        super().__init__(
            message, hint=f"send a consistency proof from size {known_size} with 'old {known_size}'"
        )


class InconsistentCheckpoint(WitnessRefusal, ValueError):
    """The checkpoint does not extend what the witness cosigned (a fork, or a bad proof)."""

    status = 422


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    """A parsed add-checkpoint request."""

    old_size: int
    proof: tuple[bytes, ...]
    note: bytes


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    """Split an add-checkpoint body into old size, proof hashes and the checkpoint note."""
    head, separator, note = body.partition(b"\n\n")
    if not separator or not note:
        raise MalformedRequest("add-checkpoint body has no blank line before the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError as exc:
        raise MalformedRequest("the old size and proof lines are not ASCII") from exc
    first = lines[0]
    digits = first.removeprefix("old ")
    if (
        digits == first
        or not digits
        or set(digits) - _DIGITS
        or (digits[0] == "0" and digits != "0")
        or len(digits) > 19
    ):
        raise MalformedRequest(f"first line {first!r} is not 'old <decimal size>'")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise MalformedRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for number, line in enumerate(lines[1:]):
        try:
            value = base64.b64decode(line.encode("ascii"), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedRequest(f"proof line {number + 1} is not base64") from exc
        if len(value) != merkle.HASH_SIZE:
            raise MalformedRequest(f"proof line {number + 1} is not a 32-byte hash")
        proof.append(value)
    return AddCheckpoint(int(digits), tuple(proof), note)


@dataclass(frozen=True, slots=True)
class WitnessedLog:
    """A log this workspace witnesses, and the latest checkpoint it cosigned for it."""

    origin: str
    keys: tuple[Verifier, ...]
    size: int
    root_hash: bytes | None
    note: bytes | None
    cosigned_at: datetime | None


@dataclass(frozen=True, slots=True)
class Evidence:
    """A checkpoint signed by a witnessed log that does not extend what the witness cosigned."""

    origin: str
    old_size: int
    size: int
    request: bytes
    reason: str
    received_at: datetime


def _keys_text(keys: Sequence[Verifier]) -> str:
    return "".join(key.vkey() + "\n" for key in keys)


def _row_to_log(row: Row[Any]) -> WitnessedLog:
    keys = tuple(Verifier.from_vkey(line) for line in str(row.vkeys).splitlines() if line)
    return WitnessedLog(
        origin=row.origin,
        keys=keys,
        size=int(row.size),
        root_hash=None if row.root_hash is None else bytes(row.root_hash),
        note=None if row.note is None else bytes(row.note),
        cosigned_at=row.cosigned_at,
    )


class Witness:
    """The witness of one workspace: its cosigning key and the state it keeps in the store."""

    def __init__(
        self, engine: Engine, signer: Signer, clock: Callable[[], float] = time.time
    ) -> None:
        if signer.key_type == ED25519:
            raise SignatureError(
                "a witness cosigns with a cosignature/v1 key (type 0x04), not a log key",
                hint="make one with 'carbonlink witness key'",
            )
        self.engine = engine
        self.signer = signer
        self._clock = clock

    # -- configuration ---------------------------------------------------------------------

    def add_log(self, origin: str, keys: Sequence[Verifier]) -> WitnessedLog:
        """Witness the log ``origin``, whose checkpoints are signed by one of ``keys``.

        Adding a log again with the same keys changes nothing; with other keys it is refused,
        since whoever holds a log's key decides what the witness cosigns.
        """
        if not origin or origin != origin.strip() or "\n" in origin:
            raise InputError(f"log origin {origin!r} is not a checkpoint origin line")
        if not keys:
            raise InputError(f"give the verifier key of log {origin}")
        for key in keys:
            if key.key_type != ED25519:
                raise InputError(
                    f"key {key.name} is not a log signing key (Ed25519, type 0x01)",
                    hint="pass the log's .vkey, not a witness key",
                )
        text = _keys_text(keys)
        with self.engine.begin() as connection:
            row = connection.execute(
                select(witnessed_log).where(witnessed_log.c.origin == origin)
            ).one_or_none()
            if row is None:
                connection.execute(
                    insert(witnessed_log).values(
                        origin=origin, vkeys=text, size=0, added_at=datetime.now(UTC)
                    )
                )
            elif row.vkeys != text:
                raise InputError(
                    f"log {origin} is already witnessed with other keys",
                    hint="a log's key does not change; check you were given the right vkey",
                )
        return self.log(origin)

    def logs(self) -> list[WitnessedLog]:
        """Every log this workspace witnesses, by origin."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(witnessed_log).order_by(witnessed_log.c.origin))
            return [_row_to_log(row) for row in rows]

    def log(self, origin: str) -> WitnessedLog:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(witnessed_log).where(witnessed_log.c.origin == origin)
            ).one_or_none()
        if row is None:
            raise UnknownLog(
                f"this witness does not witness the log {origin!r}",
                hint="its operator adds it with 'carbonlink witness add-log ORIGIN VKEY'",
            )
        return _row_to_log(row)

    def log_by_hash(self, origin_hash: str) -> WitnessedLog:
        """The log whose origin has this lowercase hex SHA-256 (the monitoring path)."""
        for log in self.logs():
            if hashlib.sha256(log.origin.encode()).hexdigest() == origin_hash:
                return log
        raise UnknownLog(f"no witnessed log has the origin hash {origin_hash}")

    # -- add-checkpoint --------------------------------------------------------------------

    def add_checkpoint(self, body: bytes) -> bytes:
        """Check an add-checkpoint request and return the cosignature line, or refuse."""
        request = parse_add_checkpoint(body)
        try:
            note = parse_note(request.note)
            checkpoint = Checkpoint.parse(note.text)
        except SignatureError as exc:
            raise MalformedRequest(f"the checkpoint is not a signed note: {exc.message}") from exc
        log = self.log(checkpoint.origin)
        try:
            open_note(request.note, list(log.keys))
        except SignatureError as exc:
            raise UntrustedCheckpoint(
                f"checkpoint of {log.origin} is not signed by its key: {exc.message}"
            ) from exc
        if request.old_size > checkpoint.size:
            raise MalformedRequest(
                f"old size {request.old_size} is larger than the checkpoint size {checkpoint.size}"
            )
        if request.old_size != log.size:
            raise SizeConflict(
                f"this witness last cosigned {log.origin} at size {log.size}, "
                f"not {request.old_size}",
                known_size=log.size,
            )
        try:
            self._check_consistent(log, request, checkpoint)
        except InconsistentCheckpoint as exc:
            # Signed by the log's own key and not consistent: keep it, it proves misbehaviour.
            self._keep_evidence(log, request, checkpoint, body, exc.message)
            raise
        signature = self.signer.sign(note.text, timestamp=int(self._clock()))
        stored = Note(note.text, tuple(s for s in note.signatures if _trusted(log, s)))
        stored = stored.with_signature(signature)
        self._store(log, checkpoint, stored.to_bytes())
        return signature.line().encode()

    @staticmethod
    def _check_consistent(
        log: WitnessedLog, request: AddCheckpoint, checkpoint: Checkpoint
    ) -> None:
        if checkpoint.size == 0 and checkpoint.root_hash != merkle.EMPTY_ROOT:
            raise InconsistentCheckpoint("a checkpoint of size 0 must have the empty tree's root")
        old_root = merkle.EMPTY_ROOT if log.size == 0 else log.root_hash
        if old_root is None:
            raise InconsistentCheckpoint(f"the witness lost the root of size {log.size}")
        try:
            merkle.verify_consistency(
                log.size, checkpoint.size, old_root, checkpoint.root_hash, request.proof
            )
        except merkle.ProofError as exc:
            raise InconsistentCheckpoint(
                f"checkpoint {checkpoint.size} of {log.origin} is not consistent with the "
                f"checkpoint {log.size} this witness cosigned: {exc}"
            ) from exc

    def _keep_evidence(
        self,
        log: WitnessedLog,
        request: AddCheckpoint,
        checkpoint: Checkpoint,
        body: bytes,
        reason: str,
    ) -> None:
        with self.engine.begin() as connection:
            connection.execute(
                insert(witness_evidence).values(
                    origin=log.origin,
                    old_size=request.old_size,
                    size=checkpoint.size,
                    request=body,
                    reason=reason,
                    received_at=datetime.now(UTC),
                )
            )

    def evidence(self, origin: str | None = None) -> list[Evidence]:
        """Refused checkpoints that the log's own key signed, oldest first."""
        query = select(witness_evidence).order_by(witness_evidence.c.id)
        if origin is not None:
            query = query.where(witness_evidence.c.origin == origin)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            Evidence(
                row.origin,
                int(row.old_size),
                int(row.size),
                bytes(row.request),
                row.reason,
                row.received_at,
            )
            for row in rows
        ]

    def _store(self, log: WitnessedLog, checkpoint: Checkpoint, note: bytes) -> None:
        # Compare-and-set on the size (and root) checked above: a request that raced this one
        # from the same old size has moved it, and this one must then be refused, not stored.
        statement = (
            update(witnessed_log)
            .where(witnessed_log.c.origin == log.origin, witnessed_log.c.size == log.size)
            .values(
                size=checkpoint.size,
                root_hash=checkpoint.root_hash,
                note=note,
                cosigned_at=datetime.now(UTC),
            )
        )
        if log.root_hash is None:
            statement = statement.where(witnessed_log.c.root_hash.is_(None))
        else:
            statement = statement.where(witnessed_log.c.root_hash == log.root_hash)
        with self.engine.begin() as connection:
            moved = connection.execute(statement).rowcount
        if moved != 1:
            now = self.log(log.origin)
            raise SizeConflict(
                f"another request moved {log.origin} to size {now.size} meanwhile",
                known_size=now.size,
            )


def _trusted(log: WitnessedLog, signature: NoteSignature) -> bool:
    return any(key.matches(signature) for key in log.keys)
