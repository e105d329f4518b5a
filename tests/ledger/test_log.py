"""The database-backed log on SQLite and PostgreSQL: appends, proofs, checkpoints, witnesses."""

from __future__ import annotations

import base64
import hashlib
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from carbonlink.errors import InputError
from carbonlink.ledger import FileAnchor, Ledger, merkle
from carbonlink.ledger.entries import EntryDraft, EntryKind, import_batch_entry
from carbonlink.ledger.errors import ConcurrentWriterError, SignatureError, TamperError
from carbonlink.ledger.note import Signer, open_checkpoint, parse_note
from carbonlink.ledger.schema import ledger_hash, ledger_tree
from carbonlink.store import create_store_engine


def _drafts(start: int, count: int) -> list[EntryDraft]:
    return [
        EntryDraft(EntryKind.IMPORT_BATCH, f'{{"kind":"import-batch","n":{i},"v":1}}'.encode())
        for i in range(start, start + count)
    ]


def test_appends_match_the_in_memory_tree_at_every_size(ledger: Ledger) -> None:
    memory = merkle.MemoryTree()
    batches = [1, 2, 5, 1, 8, 16, 3, 31]
    for count in batches:
        drafts = _drafts(memory.size, count)
        indices = ledger.append_many(drafts)
        assert list(indices) == list(range(memory.size, memory.size + count))
        memory.extend(d.body for d in drafts)
        assert ledger.size() == memory.size
        assert ledger.root() == memory.root()
    for size in (1, 2, 7, 8, 9, 40, memory.size):
        assert ledger.root(size) == memory.root(size)
        for index in {0, size // 2, size - 1}:
            assert ledger.inclusion_proof(index, size) == memory.inclusion_proof(index, size)
        for first in {1, size // 3 or 1, size}:
            assert ledger.consistency_proof(first, size) == memory.consistency_proof(first, size)


def test_entry_is_stored_exactly_as_hashed(ledger: Ledger) -> None:
    draft = import_batch_entry(
        "b-7", source="plant.csv", raw_sha256=hashlib.sha256(b"x").hexdigest(), records=2
    )
    index = ledger.append(draft)
    stored = ledger.entry(index)
    assert stored.body == draft.body and stored.kind == "import-batch"
    proof = ledger.inclusion_proof(index)
    merkle.verify_inclusion(merkle.leaf_hash(draft.body), index, 1, proof, ledger.root())
    assert [e.index for e in ledger.find("import-batch:b-7")] == [index]


def test_root_and_proof_read_a_logarithmic_number_of_hashes(ledger: Ledger) -> None:
    ledger.append_many(_drafts(0, 1000))
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        statements.append(statement)

    event.listen(ledger.engine, "before_cursor_execute", record)
    try:
        proof = ledger.inclusion_proof(517, 1000)
    finally:
        event.remove(ledger.engine, "before_cursor_execute", record)
    assert len(proof) == merkle.inclusion_proof_length(517, 1000)
    hash_reads = [s for s in statements if "ledger_hash" in s]
    assert len(hash_reads) == 1  # one IN query for at most ~2 log2(n) rows


def test_a_malformed_batch_writes_nothing(ledger: Ledger) -> None:
    ledger.append_many(_drafts(0, 3))
    root = ledger.root()
    broken = [*_drafts(3, 2), EntryDraft(EntryKind.REPORT, "not bytes")]  # type: ignore[arg-type]
    with pytest.raises(InputError):
        ledger.append_many(broken)
    assert ledger.size() == 3 and ledger.root() == root


def test_a_second_writer_cannot_fork_the_log(ledger: Ledger) -> None:
    ledger.append_many(_drafts(0, 2))
    # A writer that read size 2 and computed hashes for index 2 finds index 2 taken.
    with ledger.engine.begin() as connection:
        connection.execute(
            ledger_hash.insert().values(leaf=2, hashes=b"\x00" * 32),
        )
    with pytest.raises(ConcurrentWriterError):
        ledger.append_many(_drafts(2, 1))
    with ledger.engine.connect() as connection:
        assert connection.execute(select(ledger_tree.c.size)).scalar_one() == 2
    # The entry row went in before the hash row failed; the transaction took it back out.
    assert [entry.index for entry in ledger.entries(0, 3)] == [0, 1]


def test_checkpoints_are_signed_and_never_inconsistent(
    ledger: Ledger, log_signer: Signer, tmp_path: Path
) -> None:
    ledger.append_many(_drafts(0, 5))
    anchor = FileAnchor(tmp_path / "anchors.txt")
    first = ledger.sign_checkpoint(log_signer, [anchor])
    checkpoint, _ = open_checkpoint(first.note, log_signer.verifier())
    assert (checkpoint.size, checkpoint.root_hash) == (5, ledger.root(5))
    assert ledger.sign_checkpoint(log_signer) == first  # nothing new: no second signature
    digest = hashlib.sha256(first.note).hexdigest()
    assert (tmp_path / "anchors.txt").read_text().split()[-1] == digest
    assert ledger.anchors(5) == {"file": f"{tmp_path / 'anchors.txt'}#{digest}"}

    ledger.append_many(_drafts(5, 4))
    second = ledger.sign_checkpoint(log_signer)
    assert second.size == 9
    merkle.verify_consistency(
        5, 9, first.root_hash, second.root_hash, ledger.consistency_proof(5, 9)
    )
    assert [c.size for c in ledger.checkpoints()] == [5, 9]

    # Rewrite the stored hashes of leaf 7 (it holds the hash of the subtree [0, 8), which
    # every later root uses): the log refuses to sign again.
    ledger.append_many(_drafts(9, 1))
    with ledger.engine.begin() as connection:
        connection.execute(
            ledger_hash.update().where(ledger_hash.c.leaf == 7).values(hashes=b"\x07" * 128)
        )
    with pytest.raises(TamperError, match="refusing to sign"):
        ledger.sign_checkpoint(log_signer)
    assert ledger.latest_checkpoint() == second


def test_a_log_signs_under_one_name_only(ledger: Ledger, log_signer: Signer) -> None:
    ledger.append_many(_drafts(0, 1))
    ledger.sign_checkpoint(log_signer)
    ledger.append_many(_drafts(1, 1))
    with pytest.raises(SignatureError, match="signs as"):
        ledger.sign_checkpoint(Signer.generate("someone.else/log"))


def test_witness_cosignatures_are_verified_and_stored(
    ledger: Ledger, log_signer: Signer, witness_signer: Signer
) -> None:
    ledger.append_many(_drafts(0, 4))
    old = ledger.sign_checkpoint(log_signer)
    ledger.append_many(_drafts(4, 7))
    new = ledger.sign_checkpoint(log_signer)

    request = ledger.witness_request(old.size, new).decode()
    head, _, note = request.partition("\n\n")
    lines = head.split("\n")
    assert lines[0] == "old 4"
    proof = [base64.b64decode(line) for line in lines[1:]]
    merkle.verify_consistency(4, 11, old.root_hash, new.root_hash, proof)
    assert note.encode() == new.note

    # The witness's side: check the log signature and the proof, then cosign.
    checkpoint, _ = open_checkpoint(note.encode(), log_signer.verifier())
    cosignature = witness_signer.sign(checkpoint.text(), timestamp=1_760_000_000)
    response = cosignature.line().encode()
    assert ledger.add_cosignatures(11, response, [witness_signer.verifier()]) == 1
    assert ledger.add_cosignatures(11, response, [witness_signer.verifier()]) == 0

    cosigned = parse_note(ledger.cosigned_checkpoint(11))
    assert cosignature in cosigned.signatures
    assert witness_signer.verifier().verify(cosigned.text, cosignature)

    forged = witness_signer.sign(checkpoint.text().replace("11", "12"), timestamp=1)
    with pytest.raises(SignatureError):
        ledger.add_cosignatures(11, forged.line().encode(), [witness_signer.verifier()])


def test_stored_hashes_total_about_two_per_leaf(ledger: Ledger) -> None:
    ledger.append_many(_drafts(0, 100))
    with ledger.engine.connect() as connection:
        total = connection.execute(select(func.sum(func.length(ledger_hash.c.hashes)))).scalar_one()
    assert total == merkle.stored_hash_count(100) * 32 == (200 - 3) * 32


def test_concurrent_writers_queue_and_never_fork(ledger: Ledger) -> None:
    """Four writers, each on its own engine, append at once: every entry lands exactly once."""
    url = ledger.engine.url
    connect_args = {}
    if ledger.engine.dialect.name == "postgresql":
        with ledger.engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        connect_args = {"options": f"-csearch_path={schema}"}
    ledger.append_many(_drafts(0, 1))
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        engine = create_store_engine(
            url.render_as_string(hide_password=False), connect_args=connect_args
        )
        try:
            own = Ledger(engine)
            for batch in range(5):
                own.append_many(_drafts(1000 * number + 10 * batch, 10))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ledger.size() == 1 + 4 * 5 * 10
    bodies = [entry.body for entry in ledger.entries()]
    assert len(set(bodies)) == len(bodies) == ledger.size()
    assert ledger.root() == merkle.MemoryTree(bodies).root()
