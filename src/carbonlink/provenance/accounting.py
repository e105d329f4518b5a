"""Calculation runs in the ledger: account an inventory from recorded inputs, re-run it later.

`account_recorded` accounts an inventory against a workspace: the inventory file is kept in
the store under its SHA-256, the factor library is the workspace's (each factor set cited by
its ``factor-set`` entry), and sources whose activity names a meter take the sum of its
stored readings over the period (`carbonlink.ingest.metered_activity`), each import batch
that stored readings of those meters cited by its ``import-batch`` entry. It appends a
``calculation-run`` entry with those indices, the settings and the SHA-256 of the results.
`recompute_calculation_run` repeats the run from the stored inputs and compares.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785

from carbonlink.domain.engine import Computation, compile_inventory, compute
from carbonlink.domain.factors import FactorLibrary
from carbonlink.domain.inventory import Inventory, parse_inventory
from carbonlink.errors import InputError
from carbonlink.ingest.metered_activity import MeteredUse, resolve_metered_activity
from carbonlink.ledger import (
    EntryKind,
    Ledger,
    LedgerEntry,
    TamperError,
    calculation_run_entry,
    sha256_bytes,
)
from carbonlink.provenance.factors import ensure_factor_sets, library_of_entries
from carbonlink.store.repository import Store

METHOD = "carbonlink.account"
INVENTORY_MEDIA_TYPE = "application/yaml"


@dataclass(frozen=True)
class RecordedRun:
    """A calculation run and its ledger entry."""

    index: int
    run_id: str
    computation: Computation
    document: dict[str, Any]
    results_sha256: str
    inputs: tuple[int, ...]
    uses: tuple[MeteredUse, ...] = ()


def results_sha256(document: Mapping[str, Any]) -> str:
    """SHA-256 of the RFC 8785 form of a results document (`Computation.to_dict`)."""
    return sha256_bytes(rfc8785.dumps(json.loads(json.dumps(document))))


def account_recorded(
    ledger: Ledger,
    store: Store,
    workspace: Path,
    inventory_text: str,
    *,
    file_name: str,
) -> RecordedRun:
    """Account an inventory in a workspace and append its ``calculation-run`` entry."""
    inventory = parse_inventory(inventory_text, file=file_name)
    library, factor_indices = ensure_factor_sets(ledger, store, workspace)
    inventory_sha256 = store.save_document(
        Path(file_name).name, inventory_text.encode("utf-8"), INVENTORY_MEDIA_TYPE
    )
    computation, uses = _run(inventory, library, store, file_name)
    meters = sorted({use.meter_id for use in uses})
    batch_indices = store.batch_ledger_indices(store.meter_batches(meters))
    unrecorded = sorted(batch for batch, index in batch_indices.items() if index is None)
    if unrecorded:
        raise InputError(
            f"readings of import batch {unrecorded[0]} are not recorded in the ledger",
            hint="record the batch first (carbonlink.provenance.record_import_batch)",
        )
    document = computation.to_dict()
    digest = results_sha256(document)
    run_id = str(uuid.uuid4())
    imports = {
        batch: int(index) for batch, index in sorted(batch_indices.items()) if index is not None
    }
    inputs = (*factor_indices, *sorted(imports.values()))
    settings = {
        "inventory_file": Path(file_name).name,
        "inventory_sha256": inventory_sha256,
        "gwp": inventory.gwp,
        "period": inventory.period.label,
        "jurisdiction": inventory.jurisdiction,
        "meters": meters,
        "import_batches": imports,
    }
    index = ledger.append(
        calculation_run_entry(
            run_id, inputs=inputs, settings=settings, results_sha256=digest, method=METHOD
        )
    )
    return RecordedRun(index, run_id, computation, document, digest, inputs, tuple(uses))


def _run(
    inventory: Inventory,
    library: FactorLibrary,
    store: Store,
    file_name: str,
    *,
    save: bool = True,
) -> tuple[Computation, list[MeteredUse]]:
    """Compute the inventory; metered sources take their activity from the stored readings."""
    inventory, uses = resolve_metered_activity(inventory, store, save=save)
    plan = compile_inventory(inventory, library=library, file=file_name)
    return compute(plan, plan.inventory_batch()), uses


def recompute_calculation_run(entry: LedgerEntry, ledger: Ledger) -> None:
    """Re-run a recorded accounting from its stored inputs and compare the results hash.

    The inventory comes from the store's documents, the factors from the factor sets the run
    cites, metered activity from the readings now stored. A later import into the same meters
    passes when it leaves the result unchanged (readings of another period); when it changes
    the result, the error names the uncited batches.
    """
    content = entry.content()
    if content.get("method") != METHOD:
        return
    settings = content["settings"]
    store = Store(ledger.engine)
    inputs = [ledger.entry(index) for index in content["inputs"]]
    library = library_of_entries(
        store, [cited for cited in inputs if cited.kind == EntryKind.FACTOR_SET.value]
    )
    inventory_bytes = store.document(settings["inventory_sha256"]).body
    if sha256_bytes(inventory_bytes) != settings["inventory_sha256"]:
        raise TamperError(
            f"entry {entry.index} (calculation-run): the stored inventory file was changed",
            index=entry.index,
        )
    inventory = parse_inventory(inventory_bytes.decode("utf-8"), file=settings["inventory_file"])
    # An audit reads only: the derived activity is not stored again.
    computation, _ = _run(inventory, library, store, settings["inventory_file"], save=False)
    digest = results_sha256(computation.to_dict())
    if digest != content["results_sha256"]:
        raise TamperError(
            f"entry {entry.index} (calculation-run {content['run_id']}): re-running it from the "
            f"stored inputs gives results {digest[:16]}…, the ledger recorded "
            f"{content['results_sha256'][:16]}…",
            index=entry.index,
            hint="an input it cites (a reading, a factor, the inventory) was changed"
            + _uncited_batches(store, settings),
        )


def _uncited_batches(store: Store, settings: Mapping[str, Any]) -> str:
    """Part of the hint: import batches its meters now hold that the run did not cite."""
    cited = set(settings.get("import_batches", {}))
    later = sorted(set(store.meter_batches(settings.get("meters", []))) - cited)
    if not later:
        return ""
    return (
        f", or readings of later import batches ({', '.join(later)}) now fall into its "
        "period: account again to record a new run"
    )
