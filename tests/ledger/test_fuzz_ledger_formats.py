"""Fuzzing the ledger's text formats: every input is read or refused with a ledger error.

Signed notes and receipts arrive from outside (a partner's witness, a customer's receipt), so
neither may fail with anything but a clear `CarbonlinkError`, and nothing changed may verify.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonlink.errors import CarbonlinkError
from carbonlink.ledger import Ledger, Receipt, make_receipt, report_entry_for_files, verify_receipt
from carbonlink.ledger.note import (
    Signer,
    Verifier,
    open_checkpoint,
    open_note,
    parse_note,
    sign_note,
)
from carbonlink.store import create_store_engine, upgrade
from fuzzing import byte_mutated

SIGNER = Signer("example.com/fuzz-log", bytes(range(32)))
NOTE_ALPHABET = st.sampled_from(["a", "Z", "0", "+", "/", "=", " ", "\n", "—", "\u2028", "\x85"])
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.lists(NOTE_ALPHABET, max_size=60).map("".join))
def test_any_text_is_a_note_or_a_clear_error(text: str) -> None:
    try:
        note = parse_note(text.encode())
    except CarbonlinkError:
        return
    # what is read is exactly what was written: no line was split or joined on the way
    assert note.to_bytes() == text.encode()


@FAST
@given(st.data())
def test_a_changed_byte_of_a_signed_note_never_verifies_as_other_text(data: st.DataObject) -> None:
    original = sign_note("example.com/fuzz-log\n7\nAAAA\n", SIGNER)
    changed = data.draw(byte_mutated(original.to_bytes()))
    try:
        note = parse_note(changed)
        opened = open_note(changed, [SIGNER.verifier()])
    except CarbonlinkError:
        return
    # base64 leaves spare bits in a signature's last character: only those may differ
    assert opened.text == original.text == note.text


@FAST
@given(st.text(max_size=120))
def test_any_verifier_key_text_is_read_or_refused(text: str) -> None:
    with contextlib.suppress(CarbonlinkError):
        Verifier.from_vkey(text)


@pytest.fixture(scope="module")
def receipt(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, Path]:
    folder = tmp_path_factory.mktemp("receipt")
    engine = create_store_engine(f"sqlite:///{folder / 'ledger.db'}")
    upgrade(engine)
    ledger = Ledger(engine)
    report = folder / "report.csv"
    report.write_text("scope,t\n1,12.5\n", "utf-8")
    for n in range(5):
        ledger.append(report_entry_for_files(f"r{n}", report_kind="test", paths=[report]))
    ledger.sign_checkpoint(SIGNER)
    data = make_receipt(ledger, 3).to_bytes()
    engine.dispose()
    return data, report


@FAST
@given(data=st.data())
def test_a_changed_receipt_is_refused_or_proves_the_same_entry(
    receipt: tuple[bytes, Path], data: st.DataObject
) -> None:
    original_bytes, report = receipt
    original = Receipt.parse(original_bytes)
    changed = data.draw(byte_mutated(original_bytes))
    try:
        parsed = Receipt.parse(changed)
        verified = verify_receipt(parsed, SIGNER.verifier(), files=[report])
    except CarbonlinkError:
        return
    # only the spare bits of a base64 character can change without changing what is proved
    assert (parsed.entry, parsed.index, parsed.proof) == (
        original.entry,
        original.index,
        original.proof,
    )
    checkpoint, _ = open_checkpoint(original.checkpoint_note, SIGNER.verifier())
    assert verified.checkpoint == checkpoint
