"""Importing a CSV or XLSX file into the store: every row stored as a reading or quarantined.

An import registers a batch (file hash, mapping hash, counts), stores what it read chunk by
chunk — readings idempotently on (meter, timestamp), bad rows in quarantine with their line
number and reason — and reports the counts. Importing the same file again changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from carbonlink.domain.metering import Meter
from carbonlink.errors import IngestError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.csv_file import CsvTable
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.tabular import (
    ImportLimits,
    ParsedChunk,
    RowChunk,
    TableParser,
    readings_of,
)
from carbonlink.ingest.validation import (
    DEFAULT_FUTURE_SKEW,
    DEFAULT_VALID_FROM,
    DEFAULT_WINDOW,
    ReadingWindow,
    stored_windows,
)
from carbonlink.ingest.xlsx_file import XlsxTable
from carbonlink.store.repository import Store

FileKind = Literal["csv", "xlsx"]

PROGRESS_ABOVE_ROWS = 200_000
"""Files with more rows than this show a progress bar (smaller ones finish in a blink)."""


class Table(Protocol):
    """What the CSV and XLSX readers offer the importer."""

    kind: str
    path: Path
    sha256: str
    header: list[str]
    encoding: str

    @property
    def approximate_rows(self) -> int: ...

    def chunks(self, wanted: list[int], numeric: frozenset[int] = ...) -> Iterator[RowChunk]: ...

    def close(self) -> None: ...


def open_table(
    path: Path,
    mapping: FileMapping,
    kind: FileKind | None = None,
    data: bytes | None = None,
    limits: ImportLimits | None = None,
) -> Table:
    """The reader for ``path`` (or for ``data`` received under that name, e.g. an HTTP upload):
    by ``kind``, else by the name's suffix (.xlsx/.xlsm → XLSX, else CSV)."""
    if kind is None:
        kind = "xlsx" if path.suffix.lower() in {".xlsx", ".xlsm"} else "csv"
    if data is None and not path.is_file():
        raise IngestError("no such file", file=str(path), hint="check the path")
    table = XlsxTable if kind == "xlsx" else CsvTable
    return table(path, mapping, data=data, limits=limits)


@dataclass
class FileReader:
    """A file as a `carbonlink.ingest.base.Reader`: readings and rejected rows, one by one.

    The importer uses the columnar `parsed_chunks`; the row-wise iteration serves callers
    that want single readings (an HTTP upload, a test with `MemorySink`).
    """

    table: Table
    parser: TableParser

    @classmethod
    def open(
        cls,
        path: Path,
        mapping: FileMapping,
        store_meters: Mapping[str, Meter] | None = None,
        *,
        kind: FileKind | None = None,
        batch_id: str | None = None,
        data: bytes | None = None,
        limits: ImportLimits | None = None,
    ) -> FileReader:
        """A reader for ``path`` (or ``data`` under that name) checked against the known meters
        (plus the mapping's own)."""
        table = open_table(path, mapping, kind, data, limits)
        meters = dict(store_meters or {})
        meters.update({meter.id: meter for meter in mapping.meter_objects()})
        try:
            parser = TableParser(
                mapping, table.header, meters, path.name, batch_id, mapping_windows(mapping)
            )
        except BaseException:
            table.close()
            raise
        return cls(table, parser)

    def parsed_chunks(self) -> Iterator[ParsedChunk]:
        """The file chunk by chunk, as columns of readings and lists of rejected rows."""
        for chunk in self.table.chunks(self.parser.wanted, self.parser.numeric):
            yield self.parser.parse(chunk)

    def __iter__(self) -> Iterator[Reading | Rejected]:
        for parsed in self.parsed_chunks():
            yield from readings_of(parsed)


@dataclass
class ImportReport:
    """What an import did, for the person who ran it."""

    batch_id: str
    file: str
    file_sha256: str
    encoding: str
    records: int = 0
    readings: int = 0
    readings_new: int = 0
    quarantined: int = 0
    empty_cells: int = 0
    conflicts: int = 0
    """Readings whose (meter, time) was stored with another value: kept apart, listed by
    ``carbonlink ingest conflicts``."""
    reasons: Counter[str] = field(default_factory=Counter)
    examples: list[Rejected] = field(default_factory=list)

    @property
    def readings_duplicate(self) -> int:
        """Readings already in the store (from an earlier import of the same data)."""
        return self.readings - self.readings_new


def reason_kind(reason: str) -> str:
    """The kind of problem a quarantine reason states (e.g. "unknown meter"), for counting and
    for wording it in the reader's language; the reason itself when it is of no known kind."""
    for marker, kind in (
        ("cannot read time", "unparseable time"),
        ("does not exist or is ambiguous", "local time in a daylight-saving change"),
        ("is not a number", "text in a number"),
        ("unknown meter", "unknown meter"),
        ("does not fit meter", "wrong unit"),
        ("plausible range", "implausible value"),
        ("fields, the header has", "wrong number of fields"),
        ("value is empty", "empty value"),
        ("plausible window", "time outside the plausible window"),
        ("too small a number", "number too small to store"),
    ):
        if marker in reason:
            return kind
    return reason


def mapping_windows(
    mapping: FileMapping, stored: Callable[[str], ReadingWindow] | None = None
) -> Callable[[str], ReadingWindow]:
    """Each meter's plausible window: the mapping's own where it sets one, else the store's."""
    own = {
        spec.id: ReadingWindow(
            spec.valid_from or DEFAULT_VALID_FROM,
            DEFAULT_FUTURE_SKEW
            if spec.max_future_skew_s is None
            else timedelta(seconds=spec.max_future_skew_s),
        )
        for spec in mapping.meters
        if spec.valid_from is not None or spec.max_future_skew_s is not None
    }
    fallback = stored or (lambda _meter: DEFAULT_WINDOW)
    return lambda meter_id: own.get(meter_id) or fallback(meter_id)


def import_file(
    path: Path,
    mapping: FileMapping,
    store: Store,
    *,
    kind: FileKind | None = None,
    console: Console | None = None,
    data: bytes | None = None,
    limits: ImportLimits | None = None,
) -> ImportReport:
    """Import one file: register the mapping's meters, store readings, quarantine bad rows.

    ``data`` gives the file's bytes directly (an HTTP batch upload); ``path`` then only names it.
    The file is read in chunks within ``limits``; a value that conflicts with a stored reading
    of the same meter and time is kept in quarantine as a conflict, never dropped.
    """
    for meter in mapping.meter_objects():
        store.save_meter(meter)
    for spec in mapping.meters:
        if spec.valid_from is not None or spec.max_future_skew_s is not None:
            store.save_reading_window(
                spec.id,
                valid_from=spec.valid_from,
                max_future_skew=None
                if spec.max_future_skew_s is None
                else timedelta(seconds=spec.max_future_skew_s),
            )
    table = open_table(path, mapping, kind, data, limits)
    try:
        return _import_table(table, path, mapping, store, console)
    finally:
        table.close()


def _import_table(
    table: Table, path: Path, mapping: FileMapping, store: Store, console: Console | None
) -> ImportReport:
    parser = TableParser(
        mapping,
        table.header,
        store.meters(),
        path.name,
        None,
        mapping_windows(mapping, stored_windows(store)),
    )
    batch_id = store.begin_batch(
        table.kind, path.name, file_sha256=table.sha256, mapping_sha256=mapping.digest()
    )
    parser.batch_id = batch_id
    report = ImportReport(batch_id, str(path), table.sha256, table.encoding)
    show = console is not None and table.approximate_rows > PROGRESS_ABOVE_ROWS
    progress = Progress(
        TextColumn("[bold]importing[/] {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not show,
    )
    status = "failed"
    try:
        with progress:
            task = progress.add_task(path.name, total=table.approximate_rows)
            for chunk in table.chunks(parser.wanted, parser.numeric):
                parsed = parser.parse(chunk)
                for columns in (parsed.columns, parsed.suspect):
                    if columns is None:
                        continue
                    report.readings_new += store.add_reading_columns(columns)
                    report.conflicts += store.last_conflicts
                    report.readings += len(columns)
                store.quarantine(parsed.rejected, batch_id=batch_id)
                report.records += parsed.records
                report.quarantined += len(parsed.rejected)
                report.empty_cells += parsed.empty_cells
                report.reasons.update(reason_kind(r.reason) for r in parsed.rejected)
                room = 5 - len(report.examples)
                report.examples.extend(parsed.rejected[: max(room, 0)])
                progress.advance(task, len(chunk))
        status = "finished"
    finally:
        store.finish_batch(
            batch_id,
            records=report.records,
            readings_new=report.readings_new,
            readings_duplicate=report.readings_duplicate,
            quarantined=report.quarantined,
            status=status,
        )
    return report
