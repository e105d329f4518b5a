"""carbonlink.provenance: the ledger wired into the chain from meter to report.

Each step that produces a number records what it read and what it made as a ledger entry:
an import batch (raw file hash and the digest of the readings it stored), a factor set (the
canonical content of the factor tables), a calculation run (the entries it read, its settings
and the hash of its results) and a report (the hash of each rendered file). The recompute
functions here, registered under the ``carbonlink.ledger.recompute`` entry-point group, let
``carbonlink ledger verify --full`` re-derive each entry from the stored data.
"""

from carbonlink.provenance.accounting import (
    RecordedRun,
    account_recorded,
    recompute_calculation_run,
    results_sha256,
)
from carbonlink.provenance.factors import (
    FactorSetContent,
    ensure_factor_sets,
    recompute_factor_set,
    shipped_factor_set,
    workspace_factor_set,
)
from carbonlink.provenance.imports import (
    LedgerSink,
    recompute_import_batch,
    record_import_batch,
    record_message_set,
    record_posted_batch,
    record_unledgered_batches,
)
from carbonlink.provenance.reports import recompute_report, record_rendered_report

__all__ = [
    "FactorSetContent",
    "LedgerSink",
    "RecordedRun",
    "account_recorded",
    "ensure_factor_sets",
    "recompute_calculation_run",
    "recompute_factor_set",
    "recompute_import_batch",
    "recompute_report",
    "record_import_batch",
    "record_message_set",
    "record_posted_batch",
    "record_rendered_report",
    "record_unledgered_batches",
    "results_sha256",
    "shipped_factor_set",
    "workspace_factor_set",
]
