"""Turning rows of text (from CSV or XLSX) into readings and quarantined records, by columns.

The CSV and XLSX readers only cut their file into `RowChunk` objects; everything else — reading
timestamps in the local time zone, numbers, meter and unit checks, plausibility — happens here
on whole columns at once (pandas/numpy), so a year of 15-minute data parses in milliseconds.
A row that cannot become a reading is never dropped: it is returned as `Rejected` with its line
number, its original text and the reason.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from carbonlink.domain.metering import Meter
from carbonlink.errors import IngestError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.timestamps import parse_fixed_width
from carbonlink.ingest.validation import (
    DEFAULT_WINDOW,
    SUSPECT,
    ReadingWindow,
    consumption_register,
    underflows,
    unit_problem,
)
from carbonlink.store.repository import ReadingColumns
from carbonlink.store.schema import from_epoch_us
from carbonlink.workbooks import WorkbookLimits

NAT = np.iinfo(np.int64).min


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """How large a file an import takes before refusing it with a clear error.

    CSV files are read in chunks of rows, so their size bounds only the time an import takes;
    one line longer than ``max_line_chars`` (a file without line breaks) is refused. Workbooks
    are checked with `carbonlink.workbooks.WorkbookLimits` before their XML is read.
    """

    max_file_bytes: int = 8 * 1024**3
    max_line_chars: int = 1_000_000
    workbook: WorkbookLimits = field(default_factory=WorkbookLimits)


BLOCK = 1 << 20


class TableFile:
    """A tabular file to import: its name, mapping, digest and size, read in blocks.

    The bytes are never held whole: ``data`` (an upload) or the file at ``path`` is read
    block by block for its SHA-256 and line count, and again by the reader chunk by chunk.
    """

    kind = "table"

    def __init__(
        self,
        path: Path,
        mapping: FileMapping,
        *,
        data: bytes | None = None,
        chunk_rows: int = 100_000,
        limits: ImportLimits | None = None,
    ) -> None:
        """Take ``path``, or ``data`` (an upload) and use ``path`` only as its name."""
        self.path = path
        self.mapping = mapping
        self.chunk_rows = chunk_rows
        self.limits = limits or ImportLimits()
        self._data = data
        digest = hashlib.sha256()
        self.size = 0
        self.newlines = 0
        with self.open_binary() as stream:
            while block := stream.read(BLOCK):
                digest.update(block)
                self.size += len(block)
                self.newlines += block.count(b"\n")
                if self.size > self.limits.max_file_bytes:
                    raise IngestError(
                        f"the file is larger than the limit of "
                        f"{self.limits.max_file_bytes / 1024**2:,.0f} MB",
                        file=str(path),
                        hint="split the file, or raise the limit (--max-file-mb)",
                    )
        self.sha256 = digest.hexdigest()

    def close(self) -> None:
        """Release the open file (reading all chunks releases it too)."""

    def __enter__(self) -> TableFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def open_binary(self) -> BinaryIO:
        """A fresh binary stream of the file's bytes."""
        if self._data is not None:
            return io.BytesIO(self._data)
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise IngestError(f"cannot read the file: {exc.strerror}", file=str(self.path)) from exc


@dataclass(slots=True)
class RowChunk:
    """Consecutive data rows of a file, by column: cell texts, line numbers, original text.

    ``cells`` maps a column's position in the header to the text of that column in each row
    (only the columns the mapping needs). ``field_counts`` (when the reader knows it) lets
    rows with missing fields be told apart from rows with empty ones.
    """

    cells: dict[int, list[str] | NDArray[np.float64]]
    lines: list[int]
    raw_of: Callable[[int], bytes]
    field_counts: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def raw_line(self, index: int) -> bytes:
        """The original bytes of the row at ``index``."""
        return self.raw_of(int(index))


@dataclass(slots=True)
class ParsedChunk:
    """What a chunk became: readings (as columns), rejected records, and counts."""

    columns: ReadingColumns
    rejected: list[Rejected]
    records: int
    empty_cells: int = 0
    suspect: ReadingColumns | None = None
    """Readings stored as ``suspect``: negative values of consumption meters."""


@dataclass(slots=True)
class _Columns:
    """Readings of a chunk gathered meter by meter into columns."""

    meter_ids: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    ts: list[NDArray[np.int64]] = field(default_factory=list)
    values: list[NDArray[np.float64]] = field(default_factory=list)

    def add(self, cells: _Cells, ts_us: NDArray[np.int64], values: NDArray[np.float64]) -> None:
        self.ts.append(ts_us)
        self.values.append(values)
        self.meter_ids.extend([cells.meter_id] * len(ts_us))
        self.units.extend([cells.unit] * len(ts_us))

    def columns(self, batch_id: str | None, quality: str) -> ReadingColumns:
        return ReadingColumns(
            meter_id=self.meter_ids,
            ts_us=np.concatenate(self.ts) if self.ts else np.empty(0, np.int64),
            value=np.concatenate(self.values) if self.values else np.empty(0, np.float64),
            unit=self.units,
            quality=quality,
            batch_id=batch_id,
        )


@dataclass(slots=True)
class _Cells:
    """The cells of one meter in a chunk: which rows hold them and their text."""

    meter_id: str
    unit: str
    text: list[str] | NDArray[np.float64]
    member: NDArray[np.bool_]
    decimal_comma: bool
    empty_is_error: bool


@dataclass
class TableParser:
    """Parses chunks of rows with one mapping against the known meters."""

    mapping: FileMapping
    header: list[str]
    meters: Mapping[str, Meter]
    source_name: str
    batch_id: str | None = None
    windows: Callable[[str], ReadingWindow] = lambda _meter: DEFAULT_WINDOW
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    _index: dict[str, int] = field(init=False)
    wanted: list[int] = field(init=False)
    numeric: frozenset[int] = field(init=False)
    _unit_checks: dict[tuple[str, str], str | float] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._index = {name.strip(): i for i, name in enumerate(self.header)}
        wanted = [self.mapping.timestamp.column]
        if self.mapping.long is not None:
            long = self.mapping.long
            wanted += [long.meter_column, long.value_column]
            if long.unit_column:
                wanted.append(long.unit_column)
        wanted += [value.column for value in self.mapping.values]
        missing = [name for name in wanted if name not in self._index]
        self.wanted = sorted({self._index[name] for name in wanted if name in self._index})
        value_columns = [value.column for value in self.mapping.values if not value.decimal_comma]
        if self.mapping.long is not None and not self.mapping.long.decimal_comma:
            value_columns.append(self.mapping.long.value_column)
        self.numeric = frozenset(self._index[c] for c in value_columns if c in self._index)
        if missing:
            raise IngestError(
                f"column(s) {', '.join(map(repr, missing))} not found in the header",
                file=self.source_name,
                hint=f"the file has the columns {', '.join(map(repr, self.header))}; "
                "fix the mapping or its header_row",
            )

    def _column(self, chunk: RowChunk, name: str) -> list[str]:
        cells = chunk.cells[self._index[name]]
        if isinstance(cells, np.ndarray):
            return ["" if np.isnan(x) else repr(x) for x in cells.tolist()]
        return cells

    def _cells_of(self, chunk: RowChunk, name: str) -> list[str] | NDArray[np.float64]:
        return chunk.cells[self._index[name]]

    def parse(self, chunk: RowChunk) -> ParsedChunk:
        """Readings and rejected records of one chunk."""
        n = len(chunk)
        width = len(self.header)
        rejected: list[Rejected] = []
        blank = np.ones(n, dtype=bool)
        for column in chunk.cells.values():
            blank &= np.isnan(column) if isinstance(column, np.ndarray) else _empty(column)
        row_ok = ~blank
        if chunk.field_counts is not None:
            short = row_ok & (chunk.field_counts < width)
            for i in np.flatnonzero(short):
                reason = f"row has {chunk.field_counts[i]} fields, the header has {width}"
                rejected.append(self._reject(chunk, i, reason))
            row_ok &= ~short

        ts_us, ts_reason = self._timestamps(self._column(chunk, self.mapping.timestamp.column))
        for i in np.flatnonzero(row_ok & (ts_us == NAT)):
            rejected.append(self._reject(chunk, i, ts_reason[i]))
            row_ok[i] = False

        kept, flagged = _Columns(), _Columns()
        empty = 0
        for cells in self._cell_columns(chunk):
            good, values, empties = self._values(chunk, cells, row_ok, ts_us, rejected)
            empty += empties
            meter = self.meters.get(cells.meter_id)
            suspect = good & (values < 0) if meter and consumption_register(meter) else None
            if suspect is not None and suspect.any():
                flagged.add(cells, ts_us[suspect], values[suspect])
                good = good & ~suspect
            kept.add(cells, ts_us[good], values[good])
        columns = kept.columns(self.batch_id, "good")
        suspect_columns = flagged.columns(self.batch_id, SUSPECT) if flagged.ts else None
        return ParsedChunk(columns, rejected, int((~blank).sum()), empty, suspect_columns)

    def _cell_columns(self, chunk: RowChunk) -> Iterator[_Cells]:
        everyone = np.ones(len(chunk), dtype=bool)
        if self.mapping.long is None:
            for value in self.mapping.values:
                text = self._cells_of(chunk, value.column)
                yield _Cells(value.meter, value.unit, text, everyone, value.decimal_comma, False)
            return
        # long layout: group rows by (meter, unit) so the checks below run once per group
        long = self.mapping.long
        meters = self._column(chunk, long.meter_column)
        texts = self._cells_of(chunk, long.value_column)
        unit_texts = self._column(chunk, long.unit_column) if long.unit_column else None
        groups: dict[tuple[str, str], list[int]] = {}
        for i, meter in enumerate(meters):
            unit = unit_texts[i].strip() if unit_texts is not None else (long.unit or "")
            groups.setdefault((meter.strip(), unit), []).append(i)
        for (meter, unit), indices in groups.items():
            member = np.zeros(len(chunk), dtype=bool)
            member[indices] = True
            yield _Cells(meter, unit, texts, member, long.decimal_comma, True)

    def _values(
        self,
        chunk: RowChunk,
        cells: _Cells,
        row_ok: NDArray[np.bool_],
        ts_us: NDArray[np.int64],
        rejected: list[Rejected],
    ) -> tuple[NDArray[np.bool_], NDArray[np.float64], int]:
        """Which rows give a reading for this meter, the numbers, and how many cells were empty."""
        member = cells.member & row_ok
        if isinstance(cells.text, np.ndarray):
            values = cells.text
            present = ~np.isnan(values)
        else:
            text = pd.Series(cells.text, dtype=object)
            present = ~_empty(cells.text)
            if cells.decimal_comma:
                text = text.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
            values = pd.to_numeric(text.where(present, None), errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan, copy=True
            )
            # a number too small for binary64 (1e-400) reads as 0: refuse it, never store 0
            for i in np.flatnonzero(cells.member & row_ok & present & (values == 0)):
                if underflows(str(text.iloc[i])):
                    values[i] = np.nan
        absent = member & ~present
        empties = 0
        if cells.empty_is_error:
            for i in np.flatnonzero(absent):
                rejected.append(self._reject(chunk, i, "the value is empty", cells.meter_id))
        else:
            empties = int(absent.sum())
        good = member & present

        problem = self._meter_problem(cells.meter_id, cells.unit)
        if problem is not None:
            for i in np.flatnonzero(good):
                rejected.append(self._reject(chunk, i, problem, cells.meter_id))
            return np.zeros_like(good), values, empties

        not_number = good & np.isnan(values)
        for i in np.flatnonzero(not_number):
            shown = str(cells.text[i]).strip()
            reason = (
                f"{shown!r} is too small a number to store (it would become 0)"
                if underflows(shown)
                else f"{shown!r} is not a number"
            )
            rejected.append(self._reject(chunk, i, reason, cells.meter_id))
        good &= ~not_number
        meter = self.meters[cells.meter_id]
        factor = float(self._unit_checks[(cells.meter_id, cells.unit)])
        implausible = good & ~_plausible(values * factor, meter)
        for i in np.flatnonzero(implausible):
            reason = (
                f"value {values[i]:g} {cells.unit} is outside the plausible range "
                f"{_limits(meter)} of meter {meter.id}"
            )
            rejected.append(self._reject(chunk, i, reason, cells.meter_id))
        good &= ~implausible
        window = self.windows(cells.meter_id)
        outside = good & window.outside(ts_us, self.now)
        for i in np.flatnonzero(outside):
            reason = (
                f"time {np.datetime64(int(ts_us[i]), 'us')}Z is outside the plausible "
                f"window {window.describe(self.now)} of meter {meter.id}"
            )
            rejected.append(self._reject(chunk, i, reason, cells.meter_id))
        good &= ~outside
        return good, values, empties

    def _meter_problem(self, meter_id: str, unit: str) -> str | None:
        key = (meter_id, unit)
        if key not in self._unit_checks:
            meter = self.meters.get(meter_id)
            if meter is None:
                self._unit_checks[key] = (
                    f"unknown meter {meter_id!r}: register it (meters: in the mapping) first"
                )
            elif not unit:
                self._unit_checks[key] = "the unit is empty"
            else:
                factor, problem = unit_problem(unit, meter)
                long = self.mapping.long
                if factor is None and long is not None and long.unit_column:
                    problem = f"{problem} (column {long.unit_column!r})"
                self._unit_checks[key] = (problem or "unusable unit") if factor is None else factor
        check = self._unit_checks[key]
        return check if isinstance(check, str) else None

    def _timestamps(self, text: list[str]) -> tuple[NDArray[np.int64], list[str]]:
        """UTC microseconds of each stamp (NAT where unusable) and the reason where unusable."""
        spec = self.mapping.timestamp
        parsed = _parse_times(pd.Series(text, dtype=object), spec.format, spec.day_first)
        unparsed = parsed.isna().to_numpy()
        if parsed.dt.tz is None:
            if spec.midnight_is_end_of_day:
                midnight = parsed == parsed.dt.normalize()
                parsed = parsed.where(~midnight, parsed + pd.Timedelta(days=1))
            parsed = _localize(parsed, spec.time_zone)
        utc = parsed.dt.tz_convert("UTC").dt.as_unit("us")
        stamps = utc.dt.tz_localize(None).to_numpy(dtype="datetime64[us]").astype(np.int64)
        missing = utc.isna().to_numpy()
        stamps[missing] = NAT
        reasons = [""] * len(text)
        for i in np.flatnonzero(missing):
            if unparsed[i]:
                reasons[i] = f"cannot read time {text[i].strip()!r}" + (
                    f" with format {spec.format!r}" if spec.format else ""
                )
            else:
                reasons[i] = (
                    f"local time {text[i].strip()!r} does not exist or is ambiguous in "
                    f"{spec.time_zone} (daylight-saving change); export UTC or offset times"
                )
        return stamps, reasons

    def _reject(
        self, chunk: RowChunk, index: int | np.integer, reason: str, meter_id: str | None = None
    ) -> Rejected:
        line = chunk.lines[int(index)]
        return Rejected(
            raw=chunk.raw_line(int(index)),
            reason=reason,
            source_ref=f"{self.source_name}:{line}",
            meter_id=meter_id,
            line=line,
        )


def _empty(cells: list[str]) -> NDArray[np.bool_]:
    """Which cells are empty or hold only blanks."""
    n = len(cells)
    return (np.asarray(cells, dtype=object) == "") | np.fromiter(map(str.isspace, cells), bool, n)


def _parse_times(raw: pd.Series, pattern: str | None, day_first: bool) -> pd.Series:
    """Timestamps of a column of text: the mapped pattern, else ISO 8601 (XLSX date cells)."""
    fast = None if pattern is None else parse_fixed_width(raw.tolist(), pattern)
    series = raw if fast is not None and not np.isnat(fast).any() else raw.str.strip()
    if fast is not None:
        parsed = pd.Series(fast, index=series.index)
    elif pattern is not None:
        parsed = pd.to_datetime(series, format=pattern, errors="coerce", utc="%z" in pattern)
    else:
        try:
            parsed = pd.to_datetime(series, format="mixed", dayfirst=day_first, errors="coerce")
        except ValueError:
            # offsets that differ (+01:00 in winter, +02:00 in summer) are compared in UTC
            parsed = pd.to_datetime(
                series, format="mixed", dayfirst=day_first, errors="coerce", utc=True
            )
    missing = parsed.isna()
    if not missing.any():
        return parsed
    rest = series[missing]
    if pattern is not None and fast is not None:
        # the fast path only takes exact widths; strptime forgives 1/2/2018 and the like
        again = pd.to_datetime(rest, format=pattern, errors="coerce")
        parsed = parsed.where(~missing, again)
        rest = series[parsed.isna()]
    if len(rest) and parsed.dt.tz is None:
        try:
            iso = pd.to_datetime(rest, format="ISO8601", errors="coerce")
        except ValueError:
            iso = pd.Series(pd.NaT, index=rest.index, dtype="datetime64[us, UTC]")
        if iso.dt.tz is None:
            parsed = parsed.where(parsed.notna(), iso.reindex(parsed.index))
    return parsed


def _localize(parsed: pd.Series, time_zone: str) -> pd.Series:
    try:
        return parsed.dt.tz_localize(time_zone, ambiguous="infer", nonexistent="NaT")
    except (ValueError, TypeError):
        # "infer" needs the repeated hour in order inside the chunk; otherwise give up on it
        return parsed.dt.tz_localize(time_zone, ambiguous="NaT", nonexistent="NaT")


def _plausible(values: NDArray[np.float64], meter: Meter) -> NDArray[np.bool_]:
    ok = np.isfinite(values)
    if meter.min_value is not None:
        ok &= values >= meter.min_value
    if meter.max_value is not None:
        ok &= values <= meter.max_value
    return ok


def _limits(meter: Meter) -> str:
    low = "-∞" if meter.min_value is None else f"{meter.min_value:g}"
    high = "∞" if meter.max_value is None else f"{meter.max_value:g}"
    return f"[{low}, {high}] {meter.unit}"


def readings_of(parsed: ParsedChunk) -> Iterator[Reading | Rejected]:
    """The chunk as single `Reading` and `Rejected` objects (the row-wise `Reader` protocol)."""
    for columns in (parsed.columns, parsed.suspect):
        if columns is None:
            continue
        for meter_id, ts, value, unit in zip(
            columns.meter_id,
            columns.ts_us.tolist(),
            columns.value.tolist(),
            columns.unit,
            strict=True,
        ):
            yield Reading(
                meter_id, from_epoch_us(ts), value, unit, columns.quality, columns.batch_id
            )
    yield from parsed.rejected
