"""Receipts: c2sp.org/tlog-proof@v1 files that prove a report offline, and fail on any change."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from carbonlink.ledger import (
    Ledger,
    Receipt,
    make_receipt,
    record_report,
    report_entry_for_files,
    verify_receipt,
    write_receipt,
)
from carbonlink.ledger.entries import footprint_entry, sha256_bytes
from carbonlink.ledger.errors import LedgerError, ReceiptError, SignatureError
from carbonlink.ledger.note import COSIGNATURE_V1, Note, NoteSignature, Signer, parse_note


@pytest.fixture
def report_files(tmp_path: Path) -> list[Path]:
    html = tmp_path / "inventory-2025.html"
    html.write_text("<h1>GHG inventory 2025</h1><p>Scope 1: 12 345.6 t CO2e</p>\n")
    csv = tmp_path / "inventory-2025.csv"
    csv.write_text("scope,t_co2e\n1,12345.6\n2,3456.7\n")
    return [html, csv]


def _receipted(ledger: Ledger, signer: Signer, files: list[Path]) -> Receipt:
    ledger.append_many(
        report_entry_for_files(f"old-{i}", report_kind="ghg-inventory", paths=files[:1])
        for i in range(6)
    )
    index = ledger.append(
        report_entry_for_files("inv-2025", report_kind="ghg-inventory", paths=files)
    )
    return make_receipt(ledger, index, signer)


def test_receipt_file_format(ledger: Ledger, log_signer: Signer, report_files: list[Path]) -> None:
    receipt = _receipted(ledger, log_signer, report_files)
    lines = receipt.to_bytes().decode().split("\n")
    assert lines[0] == "c2sp.org/tlog-proof@v1"
    assert base64.b64decode(lines[1].removeprefix("extra ")) == ledger.entry(6).body
    assert lines[2] == "index 6"
    proof_lines = lines[3 : lines.index("")]
    assert [base64.b64decode(line) for line in proof_lines] == ledger.inclusion_proof(6, 7)
    assert Receipt.parse(receipt.to_bytes()) == receipt


def test_receipt_verifies_offline_with_the_files(
    ledger: Ledger, log_signer: Signer, report_files: list[Path], tmp_path: Path
) -> None:
    receipt = _receipted(ledger, log_signer, report_files)
    path = write_receipt(receipt, tmp_path / "inventory-2025")
    assert path.name == "inventory-2025.tlog-proof"
    ledger.engine.dispose()
    result = verify_receipt(
        Receipt.parse(path.read_bytes()), log_signer.verifier(), files=report_files
    )
    assert result.index == 6 and set(result.files) == {p.name for p in report_files}
    assert result.checkpoint.size == 7


def test_any_changed_byte_of_a_receipted_file_fails(
    ledger: Ledger, log_signer: Signer, report_files: list[Path]
) -> None:
    receipt = _receipted(ledger, log_signer, report_files)
    target = report_files[1]
    original = target.read_bytes()
    for position in range(len(original)):
        for flip in (0x01, 0x80):
            changed = bytearray(original)
            changed[position] ^= flip
            target.write_bytes(bytes(changed))
            with pytest.raises(ReceiptError, match="SHA-256 mismatch"):
                verify_receipt(receipt, log_signer.verifier(), files=[target])
    target.write_bytes(original + b"\n")
    with pytest.raises(ReceiptError):
        verify_receipt(receipt, log_signer.verifier(), files=[target])
    target.write_bytes(original)
    verify_receipt(receipt, log_signer.verifier(), files=[target])


def test_any_changed_byte_of_the_receipt_fails(
    ledger: Ledger, log_signer: Signer, report_files: list[Path]
) -> None:
    data = _receipted(ledger, log_signer, report_files).to_bytes()
    rejected = 0
    for position in range(len(data)):
        changed = bytearray(data)
        changed[position] ^= 0x01
        try:
            verify_receipt(Receipt.parse(bytes(changed)), log_signer.verifier())
        except LedgerError:
            rejected += 1
        except Exception as exc:  # pragma: no cover - would be a bug: report it
            pytest.fail(f"byte {position}: unexpected {type(exc).__name__}: {exc}")
    # Base64 has slack only in padding bits; every byte that carries meaning is caught.
    assert rejected >= len(data) - 3


def test_receipt_against_another_key_or_a_later_tree(
    ledger: Ledger, log_signer: Signer, report_files: list[Path]
) -> None:
    receipt = _receipted(ledger, log_signer, report_files)
    with pytest.raises(SignatureError):
        verify_receipt(receipt, Signer.generate(log_signer.name).verifier())
    ledger.append(
        footprint_entry(
            "pf-1", document_sha256=sha256_bytes(b"{}"), direction="sent", partner="OEM"
        )
    )
    ledger.sign_checkpoint(log_signer)
    later = make_receipt(ledger, 6)
    assert later.checkpoint_note != receipt.checkpoint_note
    verify_receipt(later, log_signer.verifier(), files=report_files)
    mixed = Receipt(receipt.entry, receipt.index, receipt.proof, later.checkpoint_note)
    with pytest.raises(ReceiptError, match="not in the signed log"):
        verify_receipt(mixed, log_signer.verifier())


def test_receipt_with_witness_cosignature(
    ledger: Ledger, log_signer: Signer, witness_signer: Signer, report_files: list[Path]
) -> None:
    receipt = _receipted(ledger, log_signer, report_files)
    with pytest.raises(SignatureError, match="no cosignature"):
        verify_receipt(receipt, log_signer.verifier(), witnesses=[witness_signer.verifier()])
    checkpoint = ledger.latest_checkpoint()
    assert checkpoint is not None
    line = witness_signer.sign(checkpoint.checkpoint.text(), timestamp=1_760_000_000).line()
    ledger.add_cosignatures(checkpoint.size, line.encode(), [witness_signer.verifier()])
    cosigned = make_receipt(ledger, receipt.index)
    result = verify_receipt(cosigned, log_signer.verifier(), witnesses=[witness_signer.verifier()])
    assert result.witnesses == (witness_signer.name,)


def test_a_receipt_needs_k_of_the_n_witness_keys_given(
    ledger: Ledger, log_signer: Signer, report_files: list[Path]
) -> None:
    """Three witness keys; the checkpoint is cosigned by two of them (w1, w2)."""
    w1, w2, w3 = (
        Signer.generate(f"witness.example/w{n}", key_type=COSIGNATURE_V1) for n in (1, 2, 3)
    )
    receipt = _receipted(ledger, log_signer, report_files)
    signed = ledger.latest_checkpoint()
    assert signed is not None
    text = signed.checkpoint.text()
    lines = b"".join(w.sign(text, timestamp=1_765_000_000).line().encode() for w in (w1, w2))
    assert ledger.add_cosignatures(signed.size, lines, [w1.verifier(), w2.verifier()]) == 2
    cosigned = make_receipt(ledger, receipt.index)
    keys = [w.verifier() for w in (w1, w2, w3)]
    log_key = log_signer.verifier()
    for quorum in (0, 1, 2):
        result = verify_receipt(cosigned, log_key, witnesses=keys, quorum=quorum)
        assert result.witnesses == (w1.name, w2.name)
    with pytest.raises(
        SignatureError, match=r"2 of the 3 .* 3 required; no cosignature by witness.example/w3"
    ):
        verify_receipt(cosigned, log_key, witnesses=keys, quorum=3)
    with pytest.raises(SignatureError, match="3 required"):
        verify_receipt(cosigned, log_key, witnesses=keys)  # default: every key given
    with pytest.raises(ReceiptError, match="only 3 witness keys were given"):
        verify_receipt(cosigned, log_key, witnesses=keys, quorum=4)
    with pytest.raises(ReceiptError, match="not a witness key"):
        verify_receipt(cosigned, log_key, witnesses=[log_key], quorum=1)
    # A line that matches w2's key but does not verify fails the receipt, even though w1 alone
    # would meet a quorum of 1: such a note is malformed (c2sp.org/signed-note).
    note = parse_note(cosigned.checkpoint_note)
    bad = [
        NoteSignature(s.name, s.key_id, s.signature[:-1] + bytes([s.signature[-1] ^ 1]))
        if s.name == w2.name
        else s
        for s in note.signatures
    ]
    broken = Receipt(
        cosigned.entry, cosigned.index, cosigned.proof, Note(note.text, tuple(bad)).to_bytes()
    )
    with pytest.raises(SignatureError, match=f"signature by {w2.name} does not verify"):
        verify_receipt(broken, log_key, witnesses=keys, quorum=1)


def test_receipt_needs_a_checkpoint_covering_the_entry(
    ledger: Ledger, report_files: list[Path]
) -> None:
    index = ledger.append(report_entry_for_files("r", report_kind="x", paths=report_files))
    with pytest.raises(ReceiptError, match="no signed checkpoint"):
        make_receipt(ledger, index)


def test_record_report_appends_signs_and_writes_the_receipt(
    ledger: Ledger, log_signer: Signer, report_files: list[Path], tmp_path: Path
) -> None:
    index, path = record_report(
        ledger, log_signer, "inv-2025", report_kind="ghg-inventory", paths=report_files
    )
    assert path == report_files[0].parent / "inv-2025.tlog-proof"
    result = verify_receipt(
        Receipt.parse(path.read_bytes()), log_signer.verifier(), files=report_files
    )
    assert result.index == index and result.content["report_id"] == "inv-2025"
