"""The witness's checks, one by one, on SQLite and PostgreSQL (c2sp.org/tlog-witness).

Each refusal is checked with the status code the specification gives it; the log side of each
request is a real `Ledger` in the same database, so proofs are the log's own.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from carbonlink.errors import InputError
from carbonlink.ledger import Ledger
from carbonlink.ledger.entries import factor_set_entry
from carbonlink.ledger.merkle import EMPTY_ROOT
from carbonlink.ledger.note import (
    Checkpoint,
    Note,
    NoteSignature,
    Signer,
    parse_note,
    sign_note,
)
from carbonlink.ledger.witness import (
    InconsistentCheckpoint,
    MalformedRequest,
    SizeConflict,
    UnknownLog,
    UntrustedCheckpoint,
    Witness,
    parse_add_checkpoint,
)

NOW = 1_765_000_000


def _grow(ledger: Ledger, signer: Signer, entries: int):  # type: ignore[no-untyped-def]
    for number in range(entries):
        ledger.append(
            factor_set_entry(
                f"set-{ledger.size()}-{number}",
                f"v{number}",
                content_sha256="ab" * 32,
                recorded_at=datetime(2026, 12, 1, tzinfo=UTC),
            )
        )
    return ledger.sign_checkpoint(signer)


@pytest.fixture
def witness(engine: Engine, witness_signer: Signer, log_signer: Signer) -> Witness:
    found = Witness(engine, witness_signer, clock=lambda: NOW)
    found.add_log(log_signer.name, [log_signer.verifier()])
    return found


def test_a_growing_log_is_cosigned_and_a_rollback_or_fork_is_refused(
    ledger: Ledger, witness: Witness, log_signer: Signer, witness_signer: Signer
) -> None:
    first = _grow(ledger, log_signer, 3)
    line = witness.add_checkpoint(ledger.witness_request(0, first))
    cosignature = parse_note(first.checkpoint.text().encode() + b"\n" + line).signatures[0]
    # The timestamp is the witness's clock, big-endian in the first 8 bytes (tlog-cosignature).
    assert cosignature.signature[:8] == NOW.to_bytes(8, "big")
    assert witness_signer.verifier().verify(first.checkpoint.text(), cosignature)
    assert witness.log(log_signer.name).size == 3

    second = _grow(ledger, log_signer, 4)
    # The log forgot what the witness saw: 409 names the size to prove from.
    with pytest.raises(SizeConflict) as conflict:
        witness.add_checkpoint(ledger.witness_request(0, second))
    assert conflict.value.known_size == 3 and conflict.value.status == 409
    witness.add_checkpoint(ledger.witness_request(3, second))
    # The same checkpoint again, from its own size: cosigned again (same root).
    witness.add_checkpoint(ledger.witness_request(7, second))

    # Rolling back to the first checkpoint: old 7 > size 3 is a bad request, old 3 a conflict.
    with pytest.raises(MalformedRequest):
        witness.add_checkpoint(ledger.witness_request(0, first).replace(b"old 0", b"old 7", 1))
    with pytest.raises(SizeConflict):
        witness.add_checkpoint(ledger.witness_request(0, first).replace(b"old 0", b"old 3", 1))

    # A fork: another tree of size 7, signed by the log's own key.
    forked = Checkpoint(log_signer.name, 7, hashlib.sha256(b"fork").digest())
    note = sign_note(forked.text(), log_signer).to_bytes()
    with pytest.raises(InconsistentCheckpoint) as fork:
        witness.add_checkpoint(b"old 7\n\n" + note)
    assert fork.value.status == 422
    # A longer fork with a proof of the right length that leads elsewhere.
    longer = Checkpoint(log_signer.name, 8, hashlib.sha256(b"fork 8").digest())
    proof = b"".join(base64.b64encode(bytes([n]) * 32) + b"\n" for n in range(3))
    with pytest.raises(InconsistentCheckpoint):
        witness.add_checkpoint(
            b"old 7\n" + proof + b"\n" + sign_note(longer.text(), log_signer).to_bytes()
        )
    assert witness.log(log_signer.name).size == 7
    # The two forks, signed by the log's key, are kept as evidence; the rollbacks are not.
    kept = witness.evidence(log_signer.name)
    assert [(e.old_size, e.size) for e in kept] == [(7, 7), (7, 8)]
    assert kept[0].request == b"old 7\n\n" + note and "not consistent" in kept[0].reason


def test_signatures_origins_and_bodies_are_checked(
    ledger: Ledger, witness: Witness, log_signer: Signer
) -> None:
    signed = _grow(ledger, log_signer, 2)
    body = ledger.witness_request(0, signed)
    impostor = Signer.generate(log_signer.name)  # same name, another key: its line is ignored
    forged = sign_note(signed.checkpoint.text(), impostor).to_bytes()
    with pytest.raises(UntrustedCheckpoint) as untrusted:
        witness.add_checkpoint(b"old 0\n\n" + forged)
    assert untrusted.value.status == 403
    # The trusted key's line, with one bit of its signature flipped.
    (line,) = parse_note(signed.note).signatures
    flipped = bytes([line.signature[0] ^ 0x01]) + line.signature[1:]
    bad = Note(signed.checkpoint.text(), (NoteSignature(line.name, line.key_id, flipped),))
    with pytest.raises(UntrustedCheckpoint):
        witness.add_checkpoint(b"old 0\n\n" + bad.to_bytes())

    stranger = Signer.generate("example.com/another-log")
    other = sign_note(Checkpoint(stranger.name, 0, EMPTY_ROOT).text(), stranger).to_bytes()
    with pytest.raises(UnknownLog) as unknown:
        witness.add_checkpoint(b"old 0\n\n" + other)
    assert unknown.value.status == 404

    for malformed in (
        b"",
        body.replace(b"old 0", b"old 00", 1),
        body.replace(b"old 0", b"old -1", 1),
        body.replace(b"old 0", b"size 0", 1),
        b"old 0\nnot base64!\n\n" + signed.note,
        b"old 0\n" + base64.b64encode(b"short") + b"\n\n" + signed.note,
        b"old 0\n" + b"".join([base64.b64encode(bytes(32)) + b"\n"] * 64) + b"\n" + signed.note,
        b"old 0\n\nnot a note",
    ):
        with pytest.raises(MalformedRequest):
            witness.add_checkpoint(malformed)
    # A proof from the empty tree must be empty.
    with pytest.raises(InconsistentCheckpoint):
        witness.add_checkpoint(b"old 0\n" + base64.b64encode(bytes(32)) + b"\n\n" + signed.note)
    assert witness.log(log_signer.name).size == 0
    assert parse_add_checkpoint(body).old_size == 0
    # Only the request signed by the log's key is evidence: the forgeries are not kept.
    assert [e.request for e in witness.evidence()] == [
        b"old 0\n" + base64.b64encode(bytes(32)) + b"\n\n" + signed.note
    ]


def test_a_size_zero_checkpoint_must_have_the_empty_root(
    witness: Witness, log_signer: Signer
) -> None:
    wrong = Checkpoint(log_signer.name, 0, hashlib.sha256(b"x").digest())
    with pytest.raises(InconsistentCheckpoint):
        witness.add_checkpoint(b"old 0\n\n" + sign_note(wrong.text(), log_signer).to_bytes())
    empty = Checkpoint(log_signer.name, 0, EMPTY_ROOT)
    assert witness.add_checkpoint(b"old 0\n\n" + sign_note(empty.text(), log_signer).to_bytes())


def test_of_requests_racing_from_the_same_size_only_one_is_cosigned(
    engine: Engine, witness: Witness, log_signer: Signer
) -> None:
    """Eight checkpoints of different sizes, all 'old 0', sent at once: one is cosigned, the
    others get 409 with that one's size, and the witness keeps the size it cosigned."""
    ledger = Ledger(engine)
    signed = [_grow(ledger, log_signer, 1) for _ in range(8)]
    bodies = [ledger.witness_request(0, one) for one in signed]
    start = threading.Barrier(len(bodies))
    results: list[object] = []

    def send(body: bytes) -> None:
        start.wait()
        try:
            witness.add_checkpoint(body)
            results.append("cosigned")
        except SizeConflict as exc:
            results.append(exc.known_size)

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("cosigned") == 1
    kept = witness.log(log_signer.name).size
    assert kept in range(1, 9)
    assert sorted(results, key=str) == sorted(["cosigned"] + [kept] * 7, key=str)


def test_logs_are_added_with_log_keys_only(
    witness: Witness, log_signer: Signer, witness_signer: Signer
) -> None:
    assert witness.add_log(log_signer.name, [log_signer.verifier()]).size == 0  # idempotent
    with pytest.raises(InputError, match="other keys"):
        witness.add_log(log_signer.name, [Signer.generate(log_signer.name).verifier()])
    with pytest.raises(InputError, match="not a log signing key"):
        witness.add_log("example.com/x", [witness_signer.verifier()])
    with pytest.raises(Exception, match="cosignature/v1"):
        Witness(witness.engine, log_signer)
