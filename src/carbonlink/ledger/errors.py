"""Errors of the verifiable ledger, all under `carbonlink.errors.LedgerError`."""

from __future__ import annotations

from carbonlink.errors import LedgerError


class ProofError(LedgerError, ValueError):
    """A Merkle inclusion or consistency proof is malformed or does not verify."""


class SignatureError(LedgerError, ValueError):
    """A signed note, key or signature is malformed, unknown or does not verify."""


class ReceiptError(LedgerError, ValueError):
    """A receipt file is malformed, or what it receipts does not match it."""


class TamperError(LedgerError):
    """The stored log does not match itself: an entry, hash or checkpoint was changed.

    ``index`` names the first entry (leaf) found not to match, when there is one.
    """

    def __init__(self, message: str, *, index: int | None = None, hint: str | None = None) -> None:
        self.index = index
        super().__init__(message, record=None if index is None else f"entry {index}", hint=hint)


class ConcurrentWriterError(LedgerError):
    """Another writer appended to the log at the same time; the log has one writer."""
