"""Importing a file received through the service, in the background, with the file importer.

The received bytes are kept (`carbonlink.store.data_entry.receive_file`) before anything reads
them. The import reads them with the CSV/XLSX readers and the `TableParser` of
`carbonlink.ingest.file_import`, against the organization's own meters only, chunk by chunk:
readings go through the service's sink (alert rules checked), rejected rows to quarantine under
the import's batch, progress to the file's row after every chunk. The batch is recorded in the
ledger like every import.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from carbonlink.domain import metering
from carbonlink.errors import CarbonlinkError, IngestError, InputError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.csv_file import CsvTable
from carbonlink.ingest.file_import import Table, mapping_windows
from carbonlink.ingest.mapping import FileMapping, TimestampColumn, ValueColumn
from carbonlink.ingest.tabular import TableParser, readings_of
from carbonlink.ingest.validation import stored_windows
from carbonlink.ingest.xlsx_file import XlsxTable
from carbonlink.ledger import Ledger
from carbonlink.provenance import record_import_batch
from carbonlink.store import Store
from carbonlink.store.data_entry import (
    FileImport,
    batch_quarantine,
    claim_file_import,
    own_batch_quarantine,
    received_body,
    update_file_import,
)
from carbonlink.store.tenants import Meter

LOG = logging.getLogger("carbonlink.api.imports")
CHUNK_ROWS = 2_000
"""Rows read between two progress updates: a few per second on a busy machine."""


def open_received(
    found: FileImport, body: bytes, mapping: FileMapping, chunk_rows: int = CHUNK_ROWS
) -> Table:
    """The CSV or XLSX reader over a received file's bytes; a file the mapping cannot read
    (encoding, sheet) is an `InputError` of the request."""
    reader = XlsxTable if found.kind == "xlsx" else CsvTable
    try:
        return reader(Path(found.name), mapping, data=body, chunk_rows=chunk_rows)
    except IngestError as exc:
        raise InputError(exc.message, file=found.name, hint=exc.hint) from exc
    except UnicodeError as exc:
        raise unreadable(found, mapping, exc) from exc


def unreadable(found: FileImport, mapping: FileMapping, exc: UnicodeError) -> InputError:
    """The refusal of a file whose text the mapping's encoding cannot decode."""
    return InputError(
        f"the file cannot be read as {mapping.encoding} text: {exc}",
        file=found.name,
        hint="choose another text encoding (detect, UTF-8, GB18030) and read the columns again",
    )


def checked_parser(table: Table, parser: Callable[[], TableParser]) -> TableParser:
    """The parser, or an `InputError` naming the columns the mapping wants and the file lacks."""
    try:
        return parser()
    except IngestError as exc:
        table.close()
        raise InputError(exc.message, file=exc.file, hint=exc.hint) from exc


def layout_only(
    delimiter: str = ",", encoding: str = "auto", header_row: int = 1, sheet: str | None = None
) -> FileMapping:
    """A mapping that only says how to read the file's rows (to show its columns)."""
    return FileMapping(
        delimiter=delimiter,
        encoding=encoding,
        header_row=header_row,
        sheet=sheet,
        timestamp=TimestampColumn(column="-"),
        values=[ValueColumn(column="-", meter="-", unit="t")],
    )


def first_rows(table: Table, count: int) -> list[list[str]]:
    """The first ``count`` data rows of a table, every column as text."""
    for chunk in table.chunks(list(range(len(table.header))), frozenset()):
        columns = [chunk.cells.get(i, []) for i in range(len(table.header))]
        return [[str(col[r]) for col in columns] for r in range(min(count, len(chunk)))]
    return []


def organization_meters(store: Store, meters: list[Meter]) -> dict[str, metering.Meter]:
    """The organization's meters as the parser checks them (the stored description when there
    is one: kind, plausible range)."""
    out = {}
    for meter in meters:
        stored = store.meter(meter.id)
        out[meter.id] = stored or metering.Meter(
            meter.id, "interval", meter.unit, interval_s=meter.interval_s
        )
    return out


@dataclass(frozen=True, slots=True)
class Preview:
    """The first rows of a file as they will be stored, and those that will be quarantined."""

    readings: list[Reading]
    rejected: list[Rejected]


def preview(
    engine: sa.Engine,
    found: FileImport,
    mapping: FileMapping,
    meters: Mapping[str, metering.Meter],
    rows: int = 20,
) -> Preview:
    """Parse the first ``rows`` rows with the import's own parser; nothing is stored."""
    table = open_received(found, received_body(engine, found), mapping, chunk_rows=rows)
    try:
        parser = checked_parser(
            table,
            lambda: TableParser(
                mapping,
                table.header,
                meters,
                found.name,
                None,
                mapping_windows(mapping, stored_windows(Store(engine))),
            ),
        )
        try:
            for chunk in table.chunks(parser.wanted, parser.numeric):
                parsed = parser.parse(chunk)
                readings = [r for r in readings_of(parsed) if isinstance(r, Reading)]
                return Preview(readings, parsed.rejected)
        except UnicodeError as exc:
            raise unreadable(found, mapping, exc) from exc
        return Preview([], [])
    finally:
        table.close()


def start_import(
    engine: sa.Engine,
    found: FileImport,
    mapping: FileMapping,
    meters: Mapping[str, metering.Meter],
    add: Callable[[list[Reading]], int],
) -> bool:
    """Start importing a received file in a background thread; False when it was started
    before. The mapping is checked against the file's header first (an error is raised here)."""
    body = received_body(engine, found)
    table = open_received(found, body, mapping)
    try:
        checked_parser(table, lambda: TableParser(mapping, table.header, meters, found.name))
        total = table.approximate_rows
    finally:
        table.close()
    if not claim_file_import(engine, found.id, mapping.model_dump_json(), total):
        return False
    worker = threading.Thread(
        target=_run,
        args=(engine, found, body, mapping, dict(meters), add),
        name=f"import-{found.id[:8]}",
        daemon=True,
    )
    worker.start()
    return True


def _run(
    engine: sa.Engine,
    found: FileImport,
    body: bytes,
    mapping: FileMapping,
    meters: dict[str, metering.Meter],
    add: Callable[[list[Reading]], int],
) -> None:
    try:
        _import(engine, found, body, mapping, meters, add)
    except CarbonlinkError as exc:
        update_file_import(
            engine, found.id, status="failed", error=str(exc), finished_at=datetime.now(UTC)
        )
    except Exception as exc:  # the page must learn that the import stopped, and why
        LOG.exception("import %s failed", found.id)
        update_file_import(
            engine,
            found.id,
            status="failed",
            error=f"the import stopped: {type(exc).__name__}: {exc}",
            finished_at=datetime.now(UTC),
        )


def _import(
    engine: sa.Engine,
    found: FileImport,
    body: bytes,
    mapping: FileMapping,
    meters: dict[str, metering.Meter],
    add: Callable[[list[Reading]], int],
) -> None:
    store = Store(engine)
    table = open_received(found, body, mapping)
    try:
        parser = TableParser(
            mapping,
            table.header,
            meters,
            found.name,
            None,
            mapping_windows(mapping, stored_windows(store)),
        )
        batch_id = store.begin_batch(
            found.kind,
            f"org:{found.organization_id}:{found.name}",
            file_sha256=table.sha256,
            mapping_sha256=mapping.digest(),
        )
        parser.batch_id = batch_id
        update_file_import(engine, found.id, batch_id=batch_id)
        rows = records = readings = new = rejected = 0
        status = "failed"
        try:
            for chunk in table.chunks(parser.wanted, parser.numeric):
                parsed = parser.parse(chunk)
                good = [r for r in readings_of(parsed) if isinstance(r, Reading)]
                new += add(good) if good else 0
                store.quarantine(parsed.rejected, batch_id=batch_id)
                rows += len(chunk)
                records += parsed.records
                readings += len(good)
                rejected += len(parsed.rejected)
                update_file_import(
                    engine,
                    found.id,
                    rows_done=rows,
                    stored=new,
                    duplicates=readings - new,
                    quarantined=rejected,
                )
            status = "finished"
        finally:
            own_batch_quarantine(engine, batch_id, found.organization_id)
            held = len(batch_quarantine(engine, batch_id, limit=10_000_000))
            store.finish_batch(
                batch_id,
                records=records,
                readings_new=new,
                readings_duplicate=readings - new - (held - rejected),
                quarantined=held,
                status=status,
            )
    finally:
        table.close()
    record_import_batch(store, Ledger(engine), batch_id)
    # values that differ from a stored reading were kept in quarantine as conflicts
    update_file_import(
        engine,
        found.id,
        status="finished",
        rows_total=rows,
        duplicates=readings - new - (held - rejected),
        quarantined=held,
        finished_at=datetime.now(UTC),
    )
