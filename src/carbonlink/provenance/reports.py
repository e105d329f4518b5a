"""Reports in the ledger: each rendered file hashed into a ``report`` entry, a copy kept.

`record_rendered_report` appends the entry, writes the receipt beside the files (what a
reader checks offline with ``carbonlink verify``) and keeps each file in the store's
documents under its SHA-256, so ``carbonlink ledger verify --full`` can re-hash the copies.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Sequence
from pathlib import Path

from carbonlink.errors import StoreError
from carbonlink.ledger import Ledger, LedgerEntry, TamperError, sha256_bytes
from carbonlink.ledger.note import Signer
from carbonlink.ledger.receipt import record_report
from carbonlink.store.repository import Store


def record_rendered_report(
    store: Store,
    ledger: Ledger,
    signer: Signer,
    report_id: str,
    *,
    report_kind: str,
    paths: Sequence[Path],
    inputs: Sequence[int] = (),
) -> tuple[int, Path]:
    """Record a report's files, keep their copies and write the receipt; (index, receipt)."""
    for path in paths:
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        store.save_document(path.name, path.read_bytes(), media_type)
    return record_report(
        ledger,
        signer,
        report_id,
        report_kind=report_kind,
        paths=paths,
        inputs=inputs,
        copies_kept=True,
    )


def recompute_report(entry: LedgerEntry, ledger: Ledger) -> None:
    """Re-hash the kept copy of each file of a report.

    An entry that states its copies were kept fails when one is missing; one recorded without
    copies (files kept outside the store) is checked where a copy happens to exist.
    """
    store = Store(ledger.engine)
    content = entry.content()
    for name, expected in content.get("files", {}).items():
        try:
            body = store.document(expected).body
        except StoreError:
            if content.get("copies_kept"):
                raise TamperError(
                    f"entry {entry.index} (report {content.get('report_id')}): the kept copy "
                    f"of {name} is missing from the store",
                    index=entry.index,
                    hint="a stored report was deleted; restore it from a backup",
                ) from None
            continue
        if sha256_bytes(body) != expected:
            raise TamperError(
                f"entry {entry.index} (report {entry.content().get('report_id')}): the kept "
                f"copy of {name} no longer has the SHA-256 the ledger recorded",
                index=entry.index,
                hint="a byte of the stored report was changed; the receipt shows the original",
            )
