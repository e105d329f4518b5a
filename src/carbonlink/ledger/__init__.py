"""carbonlink.ledger: the verifiable, append-only log behind every number (RFC 9162).

Append an entry with `Ledger.append` (built by the ``*_entry`` functions of
`carbonlink.ledger.entries`), sign checkpoints with `Ledger.sign_checkpoint`, and hand out
receipts made by `make_receipt`, which anyone can check offline with `verify_receipt`. Have
checkpoints cosigned with `request_cosignatures`, witness partners' logs with `Witness`, and
anchor checkpoints on a chain with `ChainAnchor` (docs/witnesses.md).

The names are loaded on first use, so that checking a receipt offline needs only hashing and
Ed25519, not the database layer the log is kept in.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carbonlink.ledger.anchor import (
        ChainAnchor,
        CheckpointAnchor,
        FileAnchor,
        verify_chain_anchor,
    )
    from carbonlink.ledger.cosigning import request_cosignatures
    from carbonlink.ledger.entries import (
        EntryDraft,
        EntryKind,
        LedgerEntry,
        calculation_run_entry,
        correction_entry,
        factor_set_entry,
        footprint_entry,
        import_batch_entry,
        message_set_sha256,
        report_entry,
        report_entry_for_files,
        sha256_bytes,
        sha256_file,
    )
    from carbonlink.ledger.errors import (
        ConcurrentWriterError,
        ProofError,
        ReceiptError,
        SignatureError,
        TamperError,
    )
    from carbonlink.ledger.keys import (
        ensure_ledger_key,
        generate_ledger_key,
        load_ledger_signer,
        load_ledger_verifier,
    )
    from carbonlink.ledger.log import Ledger, SignedCheckpoint
    from carbonlink.ledger.receipt import (
        Receipt,
        make_receipt,
        record_report,
        verify_receipt,
        write_receipt,
    )
    from carbonlink.ledger.verify import RecomputeRegistry, VerificationReport, verify_ledger
    from carbonlink.ledger.witness import Witness

_MODULES = {
    "ChainAnchor": "carbonlink.ledger.anchor",
    "CheckpointAnchor": "carbonlink.ledger.anchor",
    "ConcurrentWriterError": "carbonlink.ledger.errors",
    "EntryDraft": "carbonlink.ledger.entries",
    "EntryKind": "carbonlink.ledger.entries",
    "FileAnchor": "carbonlink.ledger.anchor",
    "Ledger": "carbonlink.ledger.log",
    "LedgerEntry": "carbonlink.ledger.entries",
    "ProofError": "carbonlink.ledger.errors",
    "Receipt": "carbonlink.ledger.receipt",
    "ReceiptError": "carbonlink.ledger.errors",
    "RecomputeRegistry": "carbonlink.ledger.verify",
    "SignatureError": "carbonlink.ledger.errors",
    "SignedCheckpoint": "carbonlink.ledger.log",
    "TamperError": "carbonlink.ledger.errors",
    "VerificationReport": "carbonlink.ledger.verify",
    "Witness": "carbonlink.ledger.witness",
    "calculation_run_entry": "carbonlink.ledger.entries",
    "correction_entry": "carbonlink.ledger.entries",
    "ensure_ledger_key": "carbonlink.ledger.keys",
    "factor_set_entry": "carbonlink.ledger.entries",
    "footprint_entry": "carbonlink.ledger.entries",
    "generate_ledger_key": "carbonlink.ledger.keys",
    "import_batch_entry": "carbonlink.ledger.entries",
    "load_ledger_signer": "carbonlink.ledger.keys",
    "load_ledger_verifier": "carbonlink.ledger.keys",
    "make_receipt": "carbonlink.ledger.receipt",
    "message_set_sha256": "carbonlink.ledger.entries",
    "record_report": "carbonlink.ledger.receipt",
    "report_entry": "carbonlink.ledger.entries",
    "report_entry_for_files": "carbonlink.ledger.entries",
    "request_cosignatures": "carbonlink.ledger.cosigning",
    "sha256_bytes": "carbonlink.ledger.entries",
    "sha256_file": "carbonlink.ledger.entries",
    "verify_chain_anchor": "carbonlink.ledger.anchor",
    "verify_ledger": "carbonlink.ledger.verify",
    "verify_receipt": "carbonlink.ledger.receipt",
    "write_receipt": "carbonlink.ledger.receipt",
}

__all__ = [
    "ChainAnchor",
    "CheckpointAnchor",
    "ConcurrentWriterError",
    "EntryDraft",
    "EntryKind",
    "FileAnchor",
    "Ledger",
    "LedgerEntry",
    "ProofError",
    "Receipt",
    "ReceiptError",
    "RecomputeRegistry",
    "SignatureError",
    "SignedCheckpoint",
    "TamperError",
    "VerificationReport",
    "Witness",
    "calculation_run_entry",
    "correction_entry",
    "ensure_ledger_key",
    "factor_set_entry",
    "footprint_entry",
    "generate_ledger_key",
    "import_batch_entry",
    "load_ledger_signer",
    "load_ledger_verifier",
    "make_receipt",
    "message_set_sha256",
    "record_report",
    "report_entry",
    "report_entry_for_files",
    "request_cosignatures",
    "sha256_bytes",
    "sha256_file",
    "verify_chain_anchor",
    "verify_ledger",
    "verify_receipt",
    "write_receipt",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
