"""XLSX workbooks (Excel exports of historians and ERP systems), read row by row."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from carbonlink.errors import CarbonlinkError, IngestError
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.tabular import ImportLimits, RowChunk, TableFile
from carbonlink.workbooks import RowBudget, check_workbook_archive


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
    """One sheet of a workbook cut into chunks of rows; row numbers are Excel's.

    The archive's declared sizes are checked before the workbook is opened, and the sheet is
    streamed (openpyxl's read-only mode) within the row and cell limits of ``limits.workbook``.
    """

    kind = "xlsx"

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
        self._budget = RowBudget(self.limits.workbook, str(path))
        with self.open_binary() as stream:
            check_workbook_archive(stream, self.limits.workbook, name=str(path))
        source: Path | io.BytesIO = path if data is None else io.BytesIO(data)
        try:
            workbook = load_workbook(source, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
            raise IngestError(
                f"not an XLSX workbook: {exc}",
                file=str(path),
                hint="save it from Excel as .xlsx, or export CSV and use `carbonlink ingest csv`",
            ) from exc
        self._workbook = workbook
        try:
            self._open_sheet(mapping)
        except BaseException:
            workbook.close()
            raise
        self.encoding = "xlsx"

    def close(self) -> None:
        self._workbook.close()

    def _open_sheet(self, mapping: FileMapping) -> None:
        workbook, path = self._workbook, self.path
        if mapping.sheet is None:
            if not workbook.worksheets:
                raise IngestError("the workbook has no sheet", file=str(path))
            self.sheet = workbook.worksheets[0]
        elif mapping.sheet in workbook.sheetnames:
            self.sheet = workbook[mapping.sheet]
        else:
            raise IngestError(
                f"no sheet {mapping.sheet!r}",
                file=str(path),
                hint=f"the workbook has {', '.join(map(repr, workbook.sheetnames))}",
            )
        self._declared = self._read(lambda: self.sheet.max_row, 0)
        self._budget.check_declared(self.sheet.title, self._declared)
        self._rows = self.sheet.iter_rows(values_only=True)
        self.header: list[str] = []
        for _ in range(mapping.header_row):
            row = self._read(lambda: next(self._rows, None), 0)
            if row is None:
                raise IngestError(f"no header in row {mapping.header_row}", file=str(path))
            self._budget.take(self.sheet.title, len(row))
            self.header = [cell_text(value).strip() for value in row]

    def _read(self, step: Callable[[], Any], row: int) -> Any:
        """One step of openpyxl, its failures on a damaged workbook turned into one error."""
        try:
            return step()
        except CarbonlinkError:
            raise
        except Exception as exc:  # damaged XML raises ParseError, KeyError, ValueError …
            raise IngestError(
                f"the workbook cannot be read{f' after row {row}' if row else ''}: {exc}",
                file=str(self.path),
                hint="save it again from Excel as .xlsx, or export CSV",
            ) from exc

    @property
    def approximate_rows(self) -> int:
        """Rows after the header, as the sheet declares them."""
        return max((self._declared or 0) - self.mapping.header_row, 0)

    def chunks(
        self, wanted: list[int], numeric: frozenset[int] = frozenset()
    ) -> Iterator[RowChunk]:
        """The ``wanted`` columns of the data rows in chunks, each cell as text."""
        rows: list[list[str]] = []
        lines: list[int] = []
        number = self.mapping.header_row
        title = self.sheet.title
        try:
            while True:
                values = self._read(lambda: next(self._rows, None), number)
                if values is None:
                    break
                number += 1
                self._budget.take(title, len(values))
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
