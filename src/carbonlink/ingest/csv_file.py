"""CSV exports of meters, loggers and energy-management systems, in any text encoding."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from functools import partial
from itertools import repeat
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from carbonlink.errors import IngestError
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.tabular import RowChunk, TableFile

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(data: bytes) -> str:
    """The encoding of a CSV file: its byte-order mark, else UTF-8 if valid, else GB18030.

    GB18030 is a superset of GBK and GB2312, the encodings Chinese Excel and EMS exports use.
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        try:
            data.decode(name)
        except UnicodeDecodeError:
            continue
        return name
    raise IngestError(
        "cannot tell the text encoding (not UTF-8, not GB18030)",
        hint="set encoding: in the mapping (e.g. cp1252, shift_jis) or pass --encoding",
    )


class CsvTable(TableFile):
    """A CSV file cut into chunks of rows, keeping each row's line number and original text."""

    kind = "csv"

    def __init__(
        self,
        path: Path,
        mapping: FileMapping,
        *,
        data: bytes | None = None,
        chunk_rows: int = 100_000,
    ) -> None:
        super().__init__(path, mapping, data=data, chunk_rows=chunk_rows)
        encoding = mapping.encoding
        self.encoding = detect_encoding(self.data) if encoding == "auto" else encoding
        try:
            self.text = self.data.decode(self.encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise IngestError(
                f"the file is not valid {self.encoding}: {exc}",
                file=str(path),
                hint="set the right encoding: in the mapping, or encoding: auto",
            ) from exc
        if self.text.startswith("\ufeff"):
            self.text = self.text[1:]
        self._lines = self.text.split("\n")
        self._raw_encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=mapping.delimiter)
        try:
            for _ in range(mapping.header_row):
                self.header = [name.strip() for name in next(reader)]
        except StopIteration:
            raise IngestError(
                f"the file has fewer than {mapping.header_row} lines; no header found",
                file=str(path),
            ) from None
        except csv.Error as exc:
            raise IngestError(f"the header cannot be read: {exc}", file=str(path)) from exc

    @property
    def approximate_rows(self) -> int:
        """Lines after the header (an upper bound on the data rows), for progress bars."""
        return max(len(self._lines) - self.mapping.header_row, 0)

    def raw(self, first: int, last: int) -> bytes:
        """The original bytes of lines ``first`` to ``last`` (1-based, inclusive)."""
        text = "\n".join(self._lines[first - 1 : last]).rstrip("\r")
        return text.encode(self._raw_encoding, errors="replace")

    def chunks(
        self, wanted: list[int], numeric: frozenset[int] = frozenset()
    ) -> Iterator[RowChunk]:
        """The ``wanted`` columns of the data rows, chunk by chunk, with line numbers.

        Columns in ``numeric`` may come back as float arrays (NaN for empty cells) when every
        cell of the chunk is a number; otherwise every column comes back as text.
        """
        if '"' not in self.text:
            try:
                yield from self._fast_chunks(wanted, numeric)
                return
            except pd.errors.ParserError:
                pass  # a row has more fields than the header: read row by row below
        yield from self._careful_chunks(wanted)

    def _fast_chunks(self, wanted: list[int], numeric: frozenset[int]) -> Iterator[RowChunk]:
        """Without quotes every line is one row, so pandas' C parser keeps the line numbers."""
        first_line = self.mapping.header_row + 1
        body = "\n".join(self._lines[first_line - 1 :])
        frames = pd.read_csv(
            io.StringIO(body),
            sep=self.mapping.delimiter,
            header=None,
            names=list(range(len(self.header))),
            usecols=wanted,
            dtype={i: str for i in wanted if i not in numeric},
            keep_default_na=False,
            na_values={i: [""] for i in wanted if i in numeric},
            skip_blank_lines=False,
            engine="c",
            chunksize=self.chunk_rows,
        )
        with frames:
            # parse every chunk before yielding any, so a bad row deep in the file makes the
            # whole file fall back to the careful reader instead of splitting the work
            parts = list(frames)
        offset = first_line
        for frame in parts:
            n = len(frame)
            lines = list(range(offset, offset + n))
            offset += n
            texts = self._lines[offset - n - 1 : offset - 1]
            counts = map(str.count, texts, repeat(self.mapping.delimiter))
            yield RowChunk(
                cells={i: _cells(frame[i]) for i in wanted},
                lines=lines,
                raw_of=partial(self._raw_row, offset - n),
                field_counts=np.fromiter(counts, np.int64, n) + 1,
            )

    def _raw_row(self, first_line: int, index: int) -> bytes:
        return self.raw(first_line + index, first_line + index)

    def _careful_chunks(self, wanted: list[int]) -> Iterator[RowChunk]:
        """Row by row with the csv module: quoted fields, embedded newlines, ragged rows."""
        reader = csv.reader(io.StringIO(self.text, newline=""), delimiter=self.mapping.delimiter)
        for _ in range(self.mapping.header_row):
            next(reader, None)
        rows: list[list[str]] = []
        spans: list[tuple[int, int]] = []
        previous = reader.line_num
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                row = [self._lines[reader.line_num - 1]]
            spans.append((previous + 1, reader.line_num))
            previous = reader.line_num
            rows.append(row)
            if len(rows) >= self.chunk_rows:
                yield self._chunk(rows, spans, wanted)
                rows, spans = [], []
        if rows:
            yield self._chunk(rows, spans, wanted)

    def _chunk(
        self, rows: list[list[str]], spans: list[tuple[int, int]], wanted: list[int]
    ) -> RowChunk:
        return RowChunk(
            cells={i: [row[i] if len(row) > i else "" for row in rows] for i in wanted},
            lines=[first for first, _ in spans],
            raw_of=lambda i: self.raw(*spans[i]),
            field_counts=np.fromiter((len(row) for row in rows), np.int64, len(rows)),
        )


def _cells(column: pd.Series) -> list[str] | NDArray[np.float64]:
    """A parsed column: floats as they are, anything else as text ('' for empty cells)."""
    if column.dtype.kind in "iuf":
        return column.to_numpy(dtype=np.float64)
    return column.fillna("").astype(str).tolist()
