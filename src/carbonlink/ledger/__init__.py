"""carbonlink.ledger: the verifiable, append-only log behind every number (RFC 9162).

Append an entry with `Ledger.append` (built by the ``*_entry`` functions of
`carbonlink.ledger.entries`), sign checkpoints with `Ledger.sign_checkpoint`, and hand out
receipts made by `make_receipt`, which anyone can check offline with `verify_receipt`.
"""

from carbonlink.ledger.anchor import CheckpointAnchor, FileAnchor
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

__all__ = [
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
    "sha256_bytes",
    "sha256_file",
    "verify_ledger",
    "verify_receipt",
    "write_receipt",
]
