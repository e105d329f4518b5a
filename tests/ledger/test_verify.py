"""Tamper tests: whatever is changed in the database, `verify_ledger` finds it and names it."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from carbonlink.ledger import Ledger, LedgerEntry, verify_ledger
from carbonlink.ledger.entries import import_batch_entry
from carbonlink.ledger.errors import SignatureError, TamperError
from carbonlink.ledger.note import Signer
from carbonlink.ledger.schema import ledger_checkpoint, ledger_entry, ledger_hash, ledger_tree
from carbonlink.ledger.verify import RecomputeRegistry


def _fill(ledger: Ledger, signer: Signer, count: int = 12) -> None:
    for start in (0, count // 2):
        ledger.append_many(
            import_batch_entry(
                f"b{i}",
                source="meter.csv",
                raw_sha256=hashlib.sha256(bytes([i])).hexdigest(),
                records=i,
            )
            for i in range(start, start + count // 2)
        )
        ledger.sign_checkpoint(signer)


def test_an_untouched_ledger_verifies(ledger: Ledger, log_signer: Signer) -> None:
    _fill(ledger, log_signer)
    report = verify_ledger(ledger, log_signer.verifier(), full=True)
    assert (report.size, report.checkpoints, report.entries_rebuilt) == (12, 2, 12)


def test_a_changed_entry_byte_is_found_and_named(ledger: Ledger, log_signer: Signer) -> None:
    _fill(ledger, log_signer)
    body = ledger.entry(5).body
    assert b'"records":5' in body
    with ledger.engine.begin() as connection:
        connection.execute(
            update(ledger_entry)
            .where(ledger_entry.c.idx == 5)
            .values(body=body.replace(b'"records":5', b'"records":6'))
        )
    verify_ledger(ledger, log_signer.verifier())  # checkpoints alone cannot see entry bytes
    with pytest.raises(TamperError, match="entry 5 does not match") as caught:
        verify_ledger(ledger, log_signer.verifier(), full=True)
    assert caught.value.index == 5


def test_a_deleted_entry_is_found_and_named(ledger: Ledger, log_signer: Signer) -> None:
    _fill(ledger, log_signer)
    with ledger.engine.begin() as connection:
        connection.execute(delete(ledger_entry).where(ledger_entry.c.idx == 8))
    with pytest.raises(TamperError, match="entry 8 is missing") as caught:
        verify_ledger(ledger, log_signer.verifier(), full=True)
    assert caught.value.index == 8


def test_a_truncated_log_contradicts_its_checkpoint(ledger: Ledger, log_signer: Signer) -> None:
    _fill(ledger, log_signer)
    with ledger.engine.begin() as connection:
        connection.execute(delete(ledger_entry).where(ledger_entry.c.idx >= 10))
        connection.execute(delete(ledger_hash).where(ledger_hash.c.leaf >= 10))
        connection.execute(update(ledger_tree).values(size=10))
    with pytest.raises(TamperError, match="checkpoint for 12"):
        verify_ledger(ledger, log_signer.verifier())


@pytest.mark.parametrize(
    ("leaf", "offset", "message"),
    [
        (3, 0, "entry 3 does not match its stored leaf hash"),
        (3, 40, "subtree hash in the row of entry 3 was altered"),
        (7, 100, "subtree hash in the row of entry 7 was altered"),
    ],
)
def test_an_altered_stored_hash_is_found_and_named(
    ledger: Ledger, log_signer: Signer, leaf: int, offset: int, message: str
) -> None:
    _fill(ledger, log_signer)
    with ledger.engine.connect() as connection:
        row = bytearray(
            connection.execute(ledger_hash.select().where(ledger_hash.c.leaf == leaf)).one().hashes
        )
    row[offset] ^= 0x01
    with ledger.engine.begin() as connection:
        connection.execute(
            update(ledger_hash).where(ledger_hash.c.leaf == leaf).values(hashes=bytes(row))
        )
    with pytest.raises(TamperError, match=message) as caught:
        verify_ledger(ledger, log_signer.verifier(), full=True)
    assert caught.value.index == leaf


def test_entries_and_hashes_rewritten_together_contradict_the_checkpoint(
    ledger: Ledger, log_signer: Signer, tmp_path: Path
) -> None:
    _fill(ledger, log_signer)
    forged = Ledger(ledger.engine)
    with ledger.engine.begin() as connection:
        connection.execute(delete(ledger_entry))
        connection.execute(delete(ledger_hash))
        connection.execute(update(ledger_tree).values(size=0))
    forged.append_many(
        import_batch_entry(
            f"b{i}",
            source="meter.csv",
            raw_sha256=hashlib.sha256(bytes([i])).hexdigest(),
            records=i + (i == 2),
        )
        for i in range(12)
    )
    with pytest.raises(TamperError, match="signed checkpoint"):
        verify_ledger(ledger, log_signer.verifier())
    with pytest.raises(TamperError, match="does not match the signed checkpoint"):
        verify_ledger(ledger, log_signer.verifier(), full=True)


def test_a_forged_checkpoint_fails_its_signature(ledger: Ledger, log_signer: Signer) -> None:
    _fill(ledger, log_signer)
    with ledger.engine.connect() as connection:
        note = (
            connection.execute(ledger_checkpoint.select().where(ledger_checkpoint.c.size == 6))
            .one()
            .note
        )
    with ledger.engine.begin() as connection:
        connection.execute(
            update(ledger_checkpoint)
            .where(ledger_checkpoint.c.size == 6)
            .values(note=bytes(note).replace(b"\n6\n", b"\n7\n"))
        )
    with pytest.raises(SignatureError):
        verify_ledger(ledger, log_signer.verifier())
    with pytest.raises(SignatureError):
        verify_ledger(ledger, Signer.generate(log_signer.name).verifier())


def test_recompute_hook_names_the_entry_whose_raw_data_changed(
    ledger: Ledger, log_signer: Signer, tmp_path: Path
) -> None:
    raw_files = []
    for i in range(4):
        path = tmp_path / f"batch{i}.csv"
        path.write_text(f"meter,ts,value\nM1,2026-01-0{i + 1}T00:00Z,{100 + i}\n")
        raw_files.append(path)
        ledger.append(
            import_batch_entry(
                f"b{i}",
                source=path.name,
                raw_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                records=1,
            )
        )
    ledger.sign_checkpoint(log_signer)

    def raw_file_unchanged(entry: LedgerEntry, _ledger: Ledger) -> None:
        content = entry.content()
        actual = hashlib.sha256((tmp_path / content["source"]).read_bytes()).hexdigest()
        if actual != content["raw_sha256"]:
            raise ValueError(f"raw file {content['source']} no longer has the recorded hash")

    registry = RecomputeRegistry()
    registry.register("import-batch", raw_file_unchanged)
    report = verify_ledger(ledger, log_signer.verifier(), full=True, recompute=registry)
    assert report.recomputed == {"import-batch": 4}

    raw_files[2].write_text(raw_files[2].read_text().replace("102", "103"))
    with pytest.raises(TamperError, match=r"entry 2 .* does not recompute") as caught:
        verify_ledger(ledger, log_signer.verifier(), full=True, recompute=registry)
    assert caught.value.index == 2
