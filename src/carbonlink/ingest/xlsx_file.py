"""XLSX workbooks (Excel exports of historians and ERP systems), read row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from carbonlink.errors import IngestError
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.tabular import RowChunk, TableFile


def cell_text(value: Any) -> str:
    """A cell as text: dates and times in ISO 8601, numbers without loss, empty for None."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _as_line(fields: list[str]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="").writerow(fields)
    return out.getvalue().encode()


class XlsxTable(TableFile):
    """One sheet of a workbook cut into chunks of rows; row numbers are Excel's."""

    kind = "xlsx"

    def __init__(
        self,
        path: Path,
        mapping: FileMapping,
        *,
        data: bytes | None = None,
        chunk_rows: int = 100_000,
    ) -> None:
        super().__init__(path, mapping, data=data, chunk_rows=chunk_rows)
        try:
            workbook = load_workbook(io.BytesIO(self.data), read_only=True, data_only=True)
        except (BadZipFile, InvalidFileException, KeyError) as exc:
            raise IngestError(
                f"not an XLSX workbook: {exc}",
                file=str(path),
                hint="save it from Excel as .xlsx, or export CSV and use `carbonlink ingest csv`",
            ) from exc
        self._workbook = workbook
        if mapping.sheet is None:
            self.sheet = workbook.worksheets[0]
        elif mapping.sheet in workbook.sheetnames:
            self.sheet = workbook[mapping.sheet]
        else:
            raise IngestError(
                f"no sheet {mapping.sheet!r}",
                file=str(path),
                hint=f"the workbook has {', '.join(map(repr, workbook.sheetnames))}",
            )
        self._rows = self.sheet.iter_rows(values_only=True)
        self.header: list[str] = []
        for _ in range(mapping.header_row):
            row = next(self._rows, None)
            if row is None:
                raise IngestError(f"no header in row {mapping.header_row}", file=str(path))
            self.header = [cell_text(value).strip() for value in row]
        self.encoding = "xlsx"

    @property
    def approximate_rows(self) -> int:
        """Rows after the header, as the sheet declares them."""
        return max((self.sheet.max_row or 0) - self.mapping.header_row, 0)

    def chunks(
        self, wanted: list[int], numeric: frozenset[int] = frozenset()
    ) -> Iterator[RowChunk]:
        """The ``wanted`` columns of the data rows in chunks, each cell as text."""
        rows: list[list[str]] = []
        lines: list[int] = []
        number = self.mapping.header_row
        try:
            for values in self._rows:
                number += 1
                fields = [cell_text(value) for value in values]
                # openpyxl cuts rows at the last filled cell; a blank trailing cell is empty
                fields.extend([""] * (len(self.header) - len(fields)))
                rows.append(fields)
                lines.append(number)
                if len(rows) >= self.chunk_rows:
                    yield _chunk(rows, lines, wanted)
                    rows, lines = [], []
            if rows:
                yield _chunk(rows, lines, wanted)
        finally:
            self._workbook.close()


def _chunk(rows: list[list[str]], lines: list[int], wanted: list[int]) -> RowChunk:
    return RowChunk(
        cells={i: [row[i] if len(row) > i else "" for row in rows] for i in wanted},
        lines=lines,
        raw_of=lambda i: _as_line(rows[i]),
    )
