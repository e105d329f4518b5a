"""CSV exports of meters, loggers and energy-management systems, in any text encoding."""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from itertools import chain, islice, repeat
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from carbonlink.errors import IngestError
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.tabular import BLOCK, ImportLimits, RowChunk, TableFile
from carbonlink.ingest.validation import underflows

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def detect_encoding(data: bytes | BinaryIO) -> str:
    """The encoding of a CSV file: its byte-order mark, else UTF-8 if valid, else GB18030.

    GB18030 is a superset of GBK and GB2312, the encodings Chinese Excel and EMS exports use.
    A stream (seekable) is read block by block (once per candidate), never whole.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    head = stream.read(4)
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(name)()
        try:
            while block := stream.read(BLOCK):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return name
    raise IngestError(
        "cannot tell the text encoding (not UTF-8, not GB18030)",
        hint="set encoding: in the mapping (e.g. cp1252, shift_jis) or pass --encoding",
    )


class CsvTable(TableFile):
    """A CSV file read in chunks of rows, keeping each row's line number and original text.

    The file is streamed: at most one chunk of lines (``chunk_rows``) is held at a time, and
    a chunk without quotes is parsed by pandas' C parser in one call. A chunk with quotes is
    read row by row with the csv module, which may take further lines when a quoted field
    runs past the chunk's end.
    """

    kind = "csv"

    def __init__(
        self,
        path: Path,
        mapping: FileMapping,
        *,
        data: bytes | None = None,
        chunk_rows: int = 100_000,
        limits: ImportLimits | None = None,
    ) -> None:
        super().__init__(path, mapping, data=data, chunk_rows=chunk_rows, limits=limits)
        encoding = mapping.encoding
        if encoding == "auto":
            with self.open_binary() as stream:
                self.encoding = detect_encoding(stream)
        else:
            try:
                codecs.lookup(encoding)
            except LookupError as exc:
                raise IngestError(
                    f"unknown text encoding {encoding!r}",
                    file=str(path),
                    hint="set the right encoding: in the mapping, or encoding: auto",
                ) from exc
            self.encoding = encoding
        self._raw_encoding = "utf-8" if self.encoding == "utf-8-sig" else self.encoding
        self._text = io.TextIOWrapper(self.open_binary(), encoding=self.encoding, newline="\n")
        self._line = 0
        self._lines = self._physical_lines()
        reader = csv.reader(self._lines, delimiter=mapping.delimiter)
        try:
            for _ in range(mapping.header_row):
                self.header = [name.strip() for name in next(reader)]
        except StopIteration:
            self._text.close()
            raise IngestError(
                f"the file has fewer than {mapping.header_row} lines; no header found",
                file=str(path),
            ) from None
        except csv.Error as exc:
            self._text.close()
            raise IngestError(f"the header cannot be read: {exc}", file=str(path)) from exc
        except BaseException:
            self._text.close()
            raise
        if self.header and self.header[0].startswith("\ufeff"):
            self.header[0] = self.header[0][1:].strip()
        self._header_lines = reader.line_num

    @property
    def approximate_rows(self) -> int:
        """Lines after the header (an upper bound on the data rows), for progress bars."""
        return max(self.newlines + 1 - self.mapping.header_row, 0)

    def close(self) -> None:
        self._text.close()

    def _physical_lines(self) -> Iterator[str]:
        """The file's lines, each with its line break, refusing one longer than the limit."""
        limit = self.limits.max_line_chars
        while True:
            try:
                line = self._text.readline(limit + 1)
            except UnicodeDecodeError as exc:
                raise IngestError(
                    f"line {self._line + 1} is not valid {self.encoding}: {exc.reason}",
                    file=str(self.path),
                    hint="set the right encoding: in the mapping, or encoding: auto",
                ) from exc
            if not line:
                return
            if len(line) > limit:
                raise IngestError(
                    f"line {self._line + 1} is longer than {limit:,} characters",
                    file=str(self.path),
                    hint="check that the file is a CSV export with one row per line",
                )
            self._line += 1
            yield line

    def _raw(self, text: str) -> bytes:
        if text.endswith("\n"):
            text = text[:-1]
        return text.rstrip("\r").encode(self._raw_encoding, errors="replace")

    def chunks(
        self, wanted: list[int], numeric: frozenset[int] = frozenset()
    ) -> Iterator[RowChunk]:
        """The ``wanted`` columns of the data rows, chunk by chunk, with line numbers.

        Columns in ``numeric`` may come back as float arrays (NaN for empty cells) when every
        cell of the chunk is a number; otherwise every column comes back as text.
        """
        first = self._header_lines + 1
        try:
            while block := list(islice(self._lines, self.chunk_rows)):
                if not any('"' in line for line in block):
                    try:
                        yield self._fast_chunk(block, first, wanted, numeric)
                        first += len(block)
                        continue
                    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
                        pass  # e.g. a row has more fields than the header: read row by row
                taken: list[str] = []
                yield self._careful_chunk(block, first, wanted, taken)
                first += len(taken)
        finally:
            self._text.close()

    def _fast_chunk(
        self, block: list[str], first: int, wanted: list[int], numeric: frozenset[int]
    ) -> RowChunk:
        """Without quotes every line is one row, so pandas' C parser keeps the line numbers."""
        frame = pd.read_csv(
            io.StringIO("".join(block)),
            sep=self.mapping.delimiter,
            header=None,
            names=list(range(len(self.header))),
            usecols=wanted,
            dtype={i: str for i in wanted if i not in numeric},
            keep_default_na=False,
            na_values={i: [""] for i in wanted if i in numeric},
            skip_blank_lines=False,
            engine="c",
        )
        n = len(block)
        if len(frame) != n:
            raise pd.errors.ParserError("rows and lines differ")
        delimiter = self.mapping.delimiter
        counts = map(str.count, block, repeat(delimiter))
        cells = {i: _cells(frame[i]) for i in wanted}
        for i, column in cells.items():
            # a number too small for binary64 (1e-400) parses as 0: hand its text on instead
            if isinstance(column, np.ndarray) and (column == 0).any():
                texts = [_field(line, delimiter, i) for line in block]
                if any(underflows(texts[k]) for k in np.flatnonzero(column == 0)):
                    cells[i] = texts
        return RowChunk(
            cells=cells,
            lines=list(range(first, first + n)),
            raw_of=lambda index: self._raw(block[index]),
            field_counts=np.fromiter(counts, np.int64, n) + 1,
        )

    def _careful_chunk(
        self, block: list[str], first: int, wanted: list[int], taken: list[str]
    ) -> RowChunk:
        """Row by row with the csv module: quoted fields, embedded newlines, ragged rows."""

        def source() -> Iterator[str]:
            for line in chain(block, self._lines):
                taken.append(line)
                yield line

        reader = csv.reader(source(), delimiter=self.mapping.delimiter)
        rows: list[list[str]] = []
        spans: list[tuple[int, int]] = []
        previous = 0
        while previous < len(block):
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error:
                row = [taken[reader.line_num - 1].rstrip("\r\n")]
            spans.append((previous + 1, reader.line_num))
            previous = reader.line_num
            rows.append(row)
        return RowChunk(
            cells={i: [row[i] if len(row) > i else "" for row in rows] for i in wanted},
            lines=[first + start - 1 for start, _ in spans],
            raw_of=lambda index: self._raw("".join(taken[spans[index][0] - 1 : spans[index][1]])),
            field_counts=np.fromiter((len(row) for row in rows), np.int64, len(rows)),
        )


def _field(line: str, delimiter: str, index: int) -> str:
    parts = line.rstrip("\r\n").split(delimiter)
    return parts[index] if index < len(parts) else ""


def _cells(column: pd.Series) -> list[str] | NDArray[np.float64]:
    """A parsed column: floats as they are, anything else as text ('' for empty cells)."""
    if column.dtype.kind in "iuf":
        return column.to_numpy(dtype=np.float64)
    return column.fillna("").astype(str).tolist()
