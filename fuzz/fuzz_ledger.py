"""Fuzz target: signed notes and receipts (the ledger's text formats)."""

from __future__ import annotations

import atheris
from harness import run

with atheris.instrument_imports(include=["carbonlink"]):
    from carbonlink.ledger import Receipt
    from carbonlink.ledger.note import Signer, parse_note, sign_note

SEED_NOTE = sign_note("example.com/log\n7\nAAAA\n", Signer("example.com/log", bytes(32)))


def target(data: bytes) -> None:
    parse_note(data)
    Receipt.parse(data)


if __name__ == "__main__":
    receipt = b"c2sp.org/tlog-proof@v1\nextra e30=\nindex 0\n\n" + SEED_NOTE.to_bytes()
    run(target, [SEED_NOTE.to_bytes(), receipt])
