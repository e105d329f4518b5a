"""Calculation runs in the ledger: account an inventory from recorded inputs, re-run it later.

`account_recorded` accounts an inventory against a workspace: the inventory file is kept in
the store under its SHA-256, the factor library is the workspace's (each factor set cited by
its ``factor-set`` entry), and sources bound to a meter take their activity from the meter's
stored readings (each import batch cited by its ``import-batch`` entry). It appends a
``calculation-run`` entry with those indices, the settings and the SHA-256 of the results.
`recompute_calculation_run` repeats the run from exactly those stored inputs and compares.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import rfc8785

from carbonlink.domain.engine import ActivityBatch, Computation, compile_inventory, compute
from carbonlink.domain.factors import FactorLibrary
from carbonlink.domain.inventory import Inventory, parse_inventory
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import InputError
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
from carbonlink.store.schema import to_epoch_us

METHOD = "carbonlink.account"
INVENTORY_MEDIA_TYPE = "application/yaml"


@dataclass(frozen=True, slots=True)
class MeterBinding:
    """A source whose activity is the sum of a meter's stored readings over the period."""

    facility: str
    source: str
    meter_id: str

    @property
    def key(self) -> str:
        return f"{self.facility}/{self.source}"

    @classmethod
    def parse(cls, text: str) -> MeterBinding:
        """``FACILITY/SOURCE=METER`` as written on the command line."""
        target, _, meter = text.partition("=")
        facility, _, source = target.partition("/")
        if not (facility and source and meter):
            raise InputError(
                f"cannot read the meter binding {text!r}",
                hint="write FACILITY/SOURCE=METER, e.g. tangshan-works/grid-power=TS-GRID",
            )
        return cls(facility.strip(), source.strip(), meter.strip())


@dataclass(frozen=True)
class RecordedRun:
    """A calculation run and its ledger entry."""

    index: int
    run_id: str
    computation: Computation
    document: dict[str, Any]
    results_sha256: str
    inputs: tuple[int, ...]


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
    meters: tuple[MeterBinding, ...] = (),
) -> RecordedRun:
    """Account an inventory in a workspace and append its ``calculation-run`` entry."""
    inventory = parse_inventory(inventory_text, file=file_name)
    library, factor_indices = ensure_factor_sets(ledger, store, workspace)
    inventory_sha256 = store.save_document(
        Path(file_name).name, inventory_text.encode("utf-8"), INVENTORY_MEDIA_TYPE
    )
    computation, batches = _run(inventory, library, store, meters, file_name, batches=None)
    batch_indices = store.batch_ledger_indices(batches)
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
        "meters": {binding.key: binding.meter_id for binding in meters},
        "import_batches": imports,
    }
    index = ledger.append(
        calculation_run_entry(
            run_id, inputs=inputs, settings=settings, results_sha256=digest, method=METHOD
        )
    )
    return RecordedRun(index, run_id, computation, document, digest, inputs)


def _run(
    inventory: Inventory,
    library: FactorLibrary,
    store: Store,
    meters: tuple[MeterBinding, ...],
    file_name: str,
    *,
    batches: set[str] | None,
) -> tuple[Computation, set[str]]:
    """Compute the inventory; bound sources take their activity from the meters' readings."""
    plan = compile_inventory(inventory, library=library, file=file_name)
    base = plan.inventory_batch()
    quantity = dict(zip(base.channel.tolist(), base.quantity.tolist(), strict=True))
    used: set[str] = set()
    zones = {facility.id: facility.timezone for facility in inventory.facilities}
    for binding in meters:
        channel = plan.channel_index(binding.facility, binding.source)
        start, end = _period_bounds(inventory, zones[binding.facility])
        quantity[channel], found = _metered_quantity(
            store, binding, start, end, plan.channels[channel].unit, batches
        )
        used |= found
    channels = sorted(quantity)
    batch = ActivityBatch(
        channel=np.asarray(channels, dtype=np.intp),
        period=np.zeros(len(channels), dtype=np.intp),
        quantity=np.asarray([quantity[c] for c in channels], dtype=np.float64),
    )
    return compute(plan, batch), used


def _period_bounds(inventory: Inventory, zone: str) -> tuple[int, int]:
    """The period as UTC microseconds: local midnight of its first day to that after its last."""
    tz = ZoneInfo(zone)
    start = datetime.combine(inventory.period.start, time(0), tz)
    end = datetime.combine(inventory.period.end + timedelta(days=1), time(0), tz)
    return to_epoch_us(start), to_epoch_us(end)


def _metered_quantity(
    store: Store,
    binding: MeterBinding,
    start_us: int,
    end_us: int,
    unit: str,
    batches: set[str] | None,
) -> tuple[float, set[str]]:
    """Sum of an interval meter's readings labelling intervals inside the period, in ``unit``.

    Start-labelled readings count when ``start ≤ ts < end``, end-labelled ones when
    ``start < ts ≤ end``. With ``batches`` given only readings of those batches count (a
    re-run sees exactly the readings the original run saw).
    """
    meter = store.meter(binding.meter_id)
    where = f"facility {binding.facility}, source {binding.source}"
    if meter is None:
        raise InputError(f"no meter {binding.meter_id!r} in the store", record=where)
    if meter.kind != "interval":
        raise InputError(
            f"meter {meter.id} is a register meter; only interval meters feed accounting directly",
            record=where,
            hint="bind an interval meter, or derive interval activity from the register first",
        )
    shift = 1 if meter.labelling == "end" else 0
    rows = store.meter_readings(meter.id, start_us + shift, end_us + shift)
    total = 0.0
    used: set[str] = set()
    scale: dict[str, float] = {}
    for ts, value, reading_unit, batch_id in rows:
        if batch_id is None:
            raise InputError(
                f"a reading of meter {meter.id} at {ts} µs belongs to no import batch",
                record=where,
                hint="only readings stored by a recorded import batch can be cited",
            )
        if batches is not None and batch_id not in batches:
            continue
        if reading_unit not in scale:
            scale[reading_unit] = conversion_factor(reading_unit, unit, record=where)
        total += value * meter.multiplier * scale[reading_unit]
        if batch_id is not None:
            used.add(batch_id)
    return total, used


def recompute_calculation_run(entry: LedgerEntry, ledger: Ledger) -> None:
    """Re-run a recorded accounting from its stored inputs and compare the results hash."""
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
    meters = tuple(
        MeterBinding.parse(f"{key}={meter}") for key, meter in settings.get("meters", {}).items()
    )
    computation, _ = _run(
        inventory,
        library,
        store,
        meters,
        settings["inventory_file"],
        batches=set(settings.get("import_batches", {})),
    )
    digest = results_sha256(computation.to_dict())
    if digest != content["results_sha256"]:
        raise TamperError(
            f"entry {entry.index} (calculation-run {content['run_id']}): re-running it from the "
            f"stored inputs gives results {digest[:16]}…, the ledger recorded "
            f"{content['results_sha256'][:16]}…",
            index=entry.index,
            hint="an input it cites (a reading, a factor, the inventory) was changed",
        )
