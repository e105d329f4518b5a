"""Importing production records (CSV or XLSX) into batches: heat → slab → coil.

The file is read by the same readers as meter readings (`carbonlink.ingest`): encoding
detection (UTF-8, GB18030), workbook size checks, Excel row numbers and each row's original
text. One row is one batch::

    batch,stage,product,produced_on,quantity,unit,facility,made_from,supplier_footprints,gtin,serial
    heat-2025-0417,heat,,2025-03-02,180,t,tangshan-works,,<coke pf id>;<ferrochrome pf id>,,
    slab-2025-0417-1,slab,,2025-03-02,90,t,tangshan-works,heat-2025-0417,,,
    coil-2025-000123,coil,hrc,2025-03-04,22.5,t,tangshan-works,slab-2025-0417-1,,09520123456788,0001

``made_from`` names the predecessor batches (``;``-separated, of earlier stages, in this file
or stored before), ``supplier_footprints`` the received PACT footprints a batch was made
from. A row that cannot become a batch is kept with its line and the reason, never dropped;
importing the same file again changes nothing, and a record that disagrees with a stored batch
is rejected rather than overwriting it.
"""

from __future__ import annotations

import hashlib
import math
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine

from carbonlink.batches.identifiers import check_batch_id, gs1_key, handle_of
from carbonlink.batches.schema import STAGES
from carbonlink.batches.store import Batch, BatchStore, RejectedRecord
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import CarbonlinkError, IngestError
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.store import ProductStore
from carbonlink.ingest.file_import import open_table
from carbonlink.ingest.mapping import FileMapping, LongLayout, TimestampColumn
from carbonlink.ingest.tabular import ImportLimits

COLUMNS = (
    "batch",
    "stage",
    "product",
    "produced_on",
    "quantity",
    "unit",
    "facility",
    "made_from",
    "supplier_footprints",
    "gtin",
    "serial",
)
REQUIRED = ("batch", "stage", "produced_on", "quantity", "unit")

# The readers take a reading mapping for their file options (encoding, sheet, header row);
# only those options are used here, the columns are read by name below.
_READER_OPTIONS = FileMapping(
    timestamp=TimestampColumn(column="produced_on"),
    long=LongLayout(meter_column="batch", value_column="quantity", unit_column="unit"),
)


@dataclass
class BatchImport:
    """What an import of production records did."""

    file: str
    sha256: str
    records: int = 0
    new: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    rejected: list[RejectedRecord] = field(default_factory=list)


def import_production_records(
    engine: Engine,
    organization_id: str,
    path: Path,
    *,
    handle_prefix: str,
    data: bytes | None = None,
    kind: Literal["csv", "xlsx"] | None = None,
    limits: ImportLimits | None = None,
) -> BatchImport:
    """Import a CSV or XLSX file of production records as batches of ``organization_id``.

    Each batch gets the Handle ``<handle_prefix>/<batch>``; a row with a GTIN gets a GS1 key.
    """
    table = open_table(path, _READER_OPTIONS, kind, data, limits)
    try:
        header = [name.strip().lower() for name in table.header]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise IngestError(
                f"the file has no column {', '.join(missing)}",
                file=path.name,
                hint=f"the header must name the columns {', '.join(COLUMNS)}",
            )
        wanted = [header.index(name) for name in COLUMNS if name in header]
        rows: list[tuple[int, str, dict[str, str]]] = []
        for chunk in table.chunks(wanted):
            for i, line in enumerate(chunk.lines):
                cells = {
                    name: str(chunk.cells[header.index(name)][i]).strip()
                    for name in COLUMNS
                    if name in header
                }
                raw = chunk.raw_line(i).decode("utf-8", errors="replace")
                rows.append((line, raw, cells))
        sha256 = table.sha256
    finally:
        table.close()
    return _store_records(engine, organization_id, path.name, sha256, rows, handle_prefix)


class _Rejected(CarbonlinkError):
    """A record that cannot become a batch (internal: turned into a `RejectedRecord`)."""


def _store_records(
    engine: Engine,
    organization_id: str,
    name: str,
    sha256: str,
    rows: list[tuple[int, str, dict[str, str]]],
    handle_prefix: str,
) -> BatchImport:
    report = BatchImport(file=name, sha256=sha256, records=len(rows))
    batches = BatchStore(engine, organization_id)
    products = {p.key for p in ProductStore(engine, organization_id).products()}
    exchange = ExchangeRepository(engine, organization_id=organization_id)
    stored = batches.batches()
    claimed = batches.claimed_elsewhere(
        [f"{handle_prefix}/{cells.get('batch', '')}" for _, _, cells in rows],
        {cells["gtin"].zfill(14) for _, _, cells in rows if cells.get("gtin", "").isdigit()},
    )
    accepted: dict[str, Batch] = {}
    seen_lines: dict[str, int] = {}
    rejected_ids: dict[str, int] = {}
    # Earlier stages first, so a coil may come before its slab in the file; rows of no known
    # stage first of all, so that a batch made from one learns that it was rejected.
    order = sorted(rows, key=lambda row: (_read_order(row[2].get("stage", "")), row[0]))
    for line, raw, cells in order:
        record = f"line {line}"
        try:
            batch_id = cells.get("batch", "")
            if batch_id in seen_lines:
                raise _Rejected(
                    f"batch {batch_id} is given twice in the file "
                    f"(also on line {seen_lines[batch_id]})",
                    hint="give each heat, slab and coil one row",
                )
            if batch_id:
                seen_lines[batch_id] = line
            batch = _batch(cells, name, line, handle_prefix, products, exchange, record)
            for predecessor in batch.made_from:
                source = accepted.get(predecessor) or stored.get(predecessor)
                if source is None:
                    where = rejected_ids.get(predecessor)
                    raise _Rejected(
                        f"it was made from batch {predecessor}, "
                        + (
                            f"whose record on line {where} was rejected"
                            if where
                            else "which is neither stored nor in this file"
                        ),
                        hint="import the predecessor's record first, or correct the batch id",
                    )
                if _stage_rank(source.stage) != _stage_rank(batch.stage) - 1:
                    raise _Rejected(
                        f"a {batch.stage} cannot be made from {source.stage} {predecessor}",
                        hint="a slab is made from heats, a coil from slabs (heat → slab → coil)",
                    )
            gs1 = batch.gs1
            for taken in (batch.handle, f"{gs1.gtin}/{gs1.batch}" if gs1 else None):
                if taken in claimed:
                    raise _Rejected(
                        f"{taken} already names a batch of another organization",
                        hint="an identifier names one batch: check the prefix, GTIN and batch id",
                    )
            known = stored.get(batch.batch_id)
            if known is not None:
                if known.same_record(batch):
                    report.unchanged.append(batch.batch_id)
                    continue
                raise _Rejected(
                    f"batch {batch.batch_id} is stored already with other values "
                    f"(from {known.source_ref}, line {known.line})",
                    hint="a stored batch is not changed; give a corrected batch a new id",
                )
            accepted[batch.batch_id] = batch
            report.new.append(batch.batch_id)
        except CarbonlinkError as exc:
            if cells.get("batch"):
                rejected_ids.setdefault(cells["batch"], line)
            reason = exc.message + (f" — {exc.hint}" if exc.hint else "")
            report.rejected.append(RejectedRecord(name, line, raw, reason))
    now = datetime.now(UTC)
    report.rejected.sort(key=lambda item: item.line)
    batches.add(list(accepted.values()), file_sha256=sha256, imported_at=now)
    batches.reject(report.rejected, file_sha256=sha256, at=now)
    return report


def _stage_rank(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else len(STAGES)


def _read_order(stage: str) -> int:
    rank = _stage_rank(stage.lower())
    return -1 if rank == len(STAGES) else rank


def _split(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(",", ";").split(";") if part.strip())


def _batch(
    cells: dict[str, str],
    name: str,
    line: int,
    handle_prefix: str,
    products: set[str],
    exchange: ExchangeRepository,
    record: str,
) -> Batch:
    batch_id = cells.get("batch", "")
    if not batch_id:
        raise _Rejected("the batch column is empty", hint="give the heat, slab or coil number")
    check_batch_id(batch_id, record=record)
    stage = cells.get("stage", "").lower()
    if stage not in STAGES:
        raise _Rejected(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    produced = cells.get("produced_on", "")
    try:
        produced_on = (
            date.fromisoformat(produced)
            if len(produced) == 10
            else datetime.fromisoformat(produced).date()
        )
    except ValueError:
        raise _Rejected(
            f"produced_on {produced!r} is not a date", hint="write it as 2025-03-04"
        ) from None
    try:
        quantity = float(cells.get("quantity", ""))
    except ValueError:
        raise _Rejected(f"quantity {cells.get('quantity')!r} is not a number") from None
    if not (math.isfinite(quantity) and quantity > 0):
        raise _Rejected(f"quantity {quantity} must be a positive number")
    unit = cells.get("unit", "")
    conversion_factor(unit, "kg", record=record)  # a mass, or the record is refused
    product = cells.get("product") or None
    if product is not None and product not in products:
        raise _Rejected(
            f"product {product!r} is not stored",
            hint="add it under Supply chain → Products, or leave the column empty",
        )
    made_from = _split(cells.get("made_from", ""))
    footprints = tuple(pf.lower() for pf in _split(cells.get("supplier_footprints", "")))
    for pf_id in footprints:
        try:
            uuid.UUID(pf_id)
        except ValueError:
            raise _Rejected(f"supplier footprint {pf_id!r} is not a PACT id (UUID)") from None
        if not exchange.received(pf_id):
            raise _Rejected(
                f"supplier footprint {pf_id} has not been received",
                hint="pull it from the supplier's PACT host or ask for it through the portal",
            )
    gtin = cells.get("gtin") or None
    serial = cells.get("serial") or None
    if gtin is not None:
        gtin = gs1_key(gtin, batch_id, serial, record=record).gtin
    elif serial is not None:
        raise _Rejected("a serial number needs the product's GTIN", hint="fill in the gtin column")
    return Batch(
        batch_id=batch_id,
        stage=stage,
        produced_on=produced_on.isoformat(),
        quantity=quantity,
        unit=unit,
        product_key=product,
        facility_id=cells.get("facility") or None,
        gtin=gtin,
        serial=serial,
        handle=handle_of(handle_prefix, batch_id, record=record),
        made_from=made_from,
        supplier_footprints=footprints,
        source_ref=name,
        line=line,
    )


def file_sha256(data: bytes) -> str:
    """SHA-256 of a file's bytes (as the import records it)."""
    return hashlib.sha256(data).hexdigest()
