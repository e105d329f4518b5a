"""Recompute activity and accounting for many facilities, one (facility, month) at a time.

A run takes an inventory (facilities, sources, metered activity, factors) and a period, cuts it
into one task per facility and calendar month, and accounts each task exactly as
`carbonlink account` does (`resolve_metered_activity` → `compile_inventory` → `compute`, with the
workspace's cited factor library). The tasks share nothing but the database they read, so they
run anywhere: in this process, or on the workers of a Dask cluster (a ``LocalCluster`` by
default, or the scheduler at any address). The results are sorted by facility and month and
written as one RFC 8785 canonical JSON document, so a run's bytes — and its SHA-256 — do not
depend on where, in what order or on how many workers the tasks ran. Each run appends one
``calculation-run`` entry to the ledger with the partitions, the factor sets and import batches
it read, and the SHA-256 of that document.
"""

from __future__ import annotations

import calendar
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import rfc8785

from carbonlink.domain.factors import FactorLibrary
from carbonlink.domain.inventory import Inventory, Period, parse_inventory
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.ledger import Ledger, calculation_run_entry, sha256_bytes
from carbonlink.store.repository import MeterSeries, Store

METHOD = "carbonlink.recompute"
"""The method a partitioned run records (a `carbonlink account` run records its own)."""


@dataclass(frozen=True, slots=True)
class Partition:
    """One task: a facility of the inventory over one calendar month."""

    facility_id: str
    month: str  # YYYY-MM
    start: date
    end: date  # inclusive


@dataclass(frozen=True)
class RecomputeRun:
    """What a run computed, where, and its ledger entry."""

    document: dict[str, Any]
    canonical: bytes
    results_sha256: str
    partitions: int
    seconds: float
    scheduler: str
    workers: int
    index: int | None = None
    run_id: str | None = None


def parse_period(text: str) -> tuple[date, date]:
    """``YYYY`` or ``YYYY-MM`` as its first and last day; InputError naming it otherwise."""
    parts = text.split("-")
    try:
        if len(parts) == 1 and len(parts[0]) == 4:
            year = int(parts[0])
            return date(year, 1, 1), date(year, 12, 31)
        if len(parts) == 2 and len(parts[0]) == 4:
            year, month = int(parts[0]), int(parts[1])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    except ValueError:
        pass
    raise InputError(
        f"--period {text!r} is neither a year nor a month",
        hint="write the period as YYYY (a year) or YYYY-MM (a month), e.g. 2025 or 2025-03",
    )


def partitions_of(inventory: Inventory, start: date, end: date) -> list[Partition]:
    """One partition per facility of the inventory and calendar month of [start, end]."""
    months = []
    year, month = start.year, start.month
    while date(year, month, 1) <= end:
        last = date(year, month, calendar.monthrange(year, month)[1])
        months.append((f"{year:04d}-{month:02d}", max(start, date(year, month, 1)), min(end, last)))
        year, month = year + month // 12, month % 12 + 1
    return [
        Partition(facility.id, label, first, last)
        for facility in sorted(inventory.facilities, key=lambda f: f.id)
        for label, first, last in months
    ]


@lru_cache(maxsize=4)
def _engine(url: str) -> Any:
    """One engine per database and process: a Dask worker reuses its pool across tasks."""
    from carbonlink.store.engine import create_store_engine

    return create_store_engine(url)


CACHED_READINGS = 20_000_000
"""Readings a process keeps between the tasks of one run (about 16 bytes each)."""


class RunStore(Store):
    """The store of one run in one process: a meter's whole series is read once per run,
    however many of its months the process accounts (each month's meter processing reads
    the whole series, as `carbonlink account` does)."""

    def __init__(self, engine: Any, run: str) -> None:
        super().__init__(engine, refresh_rollups=False)
        self.run = run
        self._series: OrderedDict[str, MeterSeries] = OrderedDict()
        self._kept = 0

    def series(
        self, meter_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> MeterSeries:
        if start is not None or end is not None:
            return super().series(meter_id, start, end)
        hit = self._series.get(meter_id)
        if hit is not None:
            self._series.move_to_end(meter_id)
            return hit
        found = super().series(meter_id)
        self._series[meter_id] = found
        self._kept += len(found)
        while self._kept > CACHED_READINGS and len(self._series) > 1:
            _, dropped = self._series.popitem(last=False)
            self._kept -= len(dropped)
        return found


_RUN_STORES: dict[tuple[str, str], RunStore] = {}


def _store(url: str, run: str) -> RunStore:
    """The process's store for a run; a new run drops the previous run's series."""
    key = (url, run)
    if key not in _RUN_STORES:
        _RUN_STORES.clear()
        _RUN_STORES[key] = RunStore(_engine(url), run)
    return _RUN_STORES[key]


def account_partition(
    url: str,
    inventory_text: str,
    file_name: str,
    library: FactorLibrary,
    run: str,
    part: Partition,
) -> dict[str, Any]:
    """Account one facility over one month; the result document of that partition.

    A partition whose accounting fails carries the error (its message and hint) instead of
    a result, so that one month without readings does not hide the others.
    """
    from carbonlink.domain.engine import compile_inventory, compute
    from carbonlink.ingest.metered_activity import resolve_metered_activity

    store = _store(url, run)
    inventory = parse_inventory(inventory_text, file=file_name)
    facility = next(f for f in inventory.facilities if f.id == part.facility_id)
    one = inventory.model_copy(
        update={
            "facilities": (facility,),
            "period": Period(start=part.start, end=part.end),
        }
    )
    out: dict[str, Any] = {"facility": part.facility_id, "month": part.month}
    try:
        resolved, uses = resolve_metered_activity(one, store, save=False)
        plan = compile_inventory(resolved, library=library, file=file_name)
        computation = compute(plan, plan.inventory_batch())
    except CarbonlinkError as exc:
        out["error"] = {"message": exc.message, "hint": getattr(exc, "hint", None)}
        return out
    out["result"] = computation.to_dict()
    out["meters"] = [asdict(use) for use in uses]
    return out


Runner = Callable[[Callable[..., dict[str, Any]], Sequence[Any]], list[dict[str, Any]]]


def run_in_process(function: Callable[..., dict[str, Any]], args: Sequence[Any]) -> list[Any]:
    return [function(*a) for a in args]


def dask_runner(client: Any) -> Runner:
    """Run the tasks on a Dask cluster through ``client`` (`dask.distributed.Client`)."""

    def run(function: Callable[..., dict[str, Any]], args: Sequence[Any]) -> list[Any]:
        if not args:
            return []
        n = len(args)
        url, text, name, library, run_id = args[0][:5]
        # the inventory and the factor library go to every worker once, not with each task
        text_on_workers = client.scatter(text, broadcast=True)
        library_on_workers = client.scatter(library, broadcast=True)
        futures = client.map(
            function,
            [url] * n,
            [text_on_workers] * n,
            [name] * n,
            [library_on_workers] * n,
            [run_id] * n,
            [a[5] for a in args],
            pure=False,
        )
        return list(client.gather(futures))

    return run


def recompute(
    store: Store,
    ledger: Ledger,
    workspace: Path,
    inventory_text: str,
    *,
    file_name: str,
    period: str,
    url: str,
    runner: Runner = run_in_process,
    scheduler: str = "single process",
    workers: int = 1,
    record: bool = True,
) -> RecomputeRun:
    """Account the inventory for every facility and month of ``period`` with ``runner``."""
    from carbonlink.provenance.accounting import INVENTORY_MEDIA_TYPE
    from carbonlink.provenance.factors import ensure_factor_sets

    inventory = parse_inventory(inventory_text, file=file_name)
    start, end = parse_period(period)
    library, factor_indices = ensure_factor_sets(ledger, store, workspace)
    parts = partitions_of(inventory, start, end)
    run_id = str(uuid.uuid4())
    began = time.perf_counter()
    results = runner(
        account_partition,
        [(url, inventory_text, file_name, library, run_id, part) for part in parts],
    )
    seconds = time.perf_counter() - began
    results = sorted(results, key=lambda r: (r["facility"], r["month"]))
    document: dict[str, Any] = {
        "organization": inventory.organization,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "partitions": results,
    }
    canonical = rfc8785.dumps(document)
    digest = sha256_bytes(canonical)
    run = RecomputeRun(document, canonical, digest, len(parts), seconds, scheduler, workers)
    if not record:
        return run
    failed = [r for r in results if "error" in r]
    if len(failed) == len(results) and results:
        first = failed[0]
        raise InputError(
            f"no partition could be accounted; facility {first['facility']}, "
            f"{first['month']}: {first['error']['message']}",
            hint=first["error"]["hint"] or "check the inventory and the stored readings",
        )
    inventory_sha256 = store.save_document(
        Path(file_name).name, inventory_text.encode("utf-8"), INVENTORY_MEDIA_TYPE
    )
    meters = sorted({m["meter_id"] for r in results for m in r.get("meters", [])})
    batch_indices = store.batch_ledger_indices(store.meter_batches(meters))
    unrecorded = sorted(batch for batch, index in batch_indices.items() if index is None)
    if unrecorded:
        raise InputError(
            f"readings of import batch {unrecorded[0]} are not recorded in the ledger",
            hint="record the batch first (carbonlink.provenance.record_import_batch)",
        )
    imports = {b: int(i) for b, i in sorted(batch_indices.items()) if i is not None}
    settings = {
        "inventory_file": Path(file_name).name,
        "inventory_sha256": inventory_sha256,
        "period": f"{start.isoformat()}/{end.isoformat()}",
        "partitions": [f"{p.facility_id}@{p.month}" for p in parts],
        "failed_partitions": [f"{r['facility']}@{r['month']}" for r in failed],
        "meters": meters,
        "import_batches": imports,
    }
    index = ledger.append(
        calculation_run_entry(
            run_id,
            inputs=(*factor_indices, *sorted(imports.values())),
            settings=settings,
            results_sha256=digest,
            method=METHOD,
        )
    )
    return RecomputeRun(
        document, canonical, digest, len(parts), seconds, scheduler, workers, index, run_id
    )
