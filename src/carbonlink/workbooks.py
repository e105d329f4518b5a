"""Opening XLSX workbooks within limits: the archive is checked before any of its XML is read.

An XLSX file is a zip archive of XML parts. A few hundred kilobytes can declare gigabytes of
XML (a "zip bomb") or a sheet of a million empty rows, which a reader would inflate or walk in
full. `check_workbook_archive` reads only the archive's central directory — each part's
declared uncompressed size — and refuses the file when those sizes pass the limits. Python's
`zipfile` never returns more bytes of a part than its declared size (and fails the CRC check of
a part that claims less than it holds), so the declared sizes bound what any reader inflates.
`RowBudget` then counts the rows and cells a reader takes from the sheets, so a sheet of many
small rows is refused as soon as it passes the limit rather than after it has been read whole.

Every layer that reads workbooks (file import, the supplier portal) uses these two, so the
limits are the same wherever a workbook comes in.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

# expat (>= 2.4.1, as Python ships it) fetches no external entity and bounds entity expansion
from xml.etree import ElementTree  # nosec B405

from carbonlink.errors import InputError

MB = 1024 * 1024


class WorkbookTooLargeError(InputError):
    """A workbook passes a size limit (uncompressed size, rows or cells), or is a zip bomb."""


@dataclass(frozen=True, slots=True)
class WorkbookLimits:
    """How much of a workbook a reader takes before refusing it."""

    max_uncompressed_bytes: int = 512 * MB
    """Sum of the declared uncompressed sizes of all parts of the archive."""
    max_ratio: float = 1_000.0
    """Largest uncompressed/compressed ratio of a part larger than 1 MB (XML compresses some
    10-30 times; a zip bomb a thousand times or more)."""
    max_rows: int = 2_000_000
    """Rows read from the sheets, empty rows included."""
    max_cells: int = 40_000_000
    """Cells read from the sheets, empty cells included."""


def check_workbook_archive(
    data: bytes | BinaryIO, limits: WorkbookLimits, *, name: str = "workbook"
) -> None:
    """Refuse a workbook (its bytes, or a seekable stream of them) when its zip directory
    declares more than ``limits`` allow.

    Only the central directory is read; nothing is decompressed. A file that is not a zip
    archive passes untouched: the XLSX reader itself then says it is not a workbook.
    """
    stream = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, NotImplementedError):
        return  # not a zip archive Python reads: the workbook reader says what is wrong
    with archive:
        parts = archive.infolist()
        total = 0
        for part in parts:
            total += part.file_size
            if part.file_size > MB and part.file_size > limits.max_ratio * max(
                part.compress_size, 1
            ):
                ratio = part.file_size / max(part.compress_size, 1)
                raise WorkbookTooLargeError(
                    f"part {part.filename!r} inflates {ratio:,.0f} times "
                    f"({part.compress_size:,} bytes to {part.file_size:,}): a zip bomb",
                    file=name,
                    hint="save the workbook again from Excel, or export the data as CSV",
                )
        if total > limits.max_uncompressed_bytes:
            raise WorkbookTooLargeError(
                f"the workbook holds {total / MB:,.0f} MB of uncompressed data, more than the "
                f"limit of {limits.max_uncompressed_bytes / MB:,.0f} MB",
                file=name,
                hint="split the workbook, export the data as CSV, or raise the limit",
            )
        for part in parts:
            if part.filename.startswith("xl/worksheets/") and part.filename.endswith(".xml"):
                _check_sheet_rows(archive, part, limits, name)


def _check_sheet_rows(
    archive: zipfile.ZipFile, part: zipfile.ZipInfo, limits: WorkbookLimits, name: str
) -> None:
    """Refuse a sheet that declares, or holds, more rows than the limit.

    Excel writes a ``<dimension>`` before the rows: reading up to it is enough. A sheet
    without one is counted row by row up to the limit, since openpyxl would otherwise read
    the whole sheet just to size it when the workbook is opened.
    """
    sheet = part.filename.rsplit("/", 1)[-1]
    budget = RowBudget(limits, name)
    data: ElementTree.Element | None = None
    try:
        with archive.open(part) as xml:
            events = ElementTree.iterparse(xml, events=("start", "end"))  # nosec B314
            for event, element in events:
                tag = element.tag.rsplit("}", 1)[-1]
                if event == "start" and tag == "dimension":
                    ref = element.get("ref", "")
                    last = ref.rsplit(":", 1)[-1].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ$")
                    budget.check_declared(sheet, int(last) if last.isdigit() else None)
                    return
                if event == "start" and tag == "sheetData":
                    data = element
                elif event == "end" and tag == "row" and data is not None:
                    budget.take(sheet, 0)
                    if budget.rows % 10_000 == 0:
                        data.clear()
                elif event == "end" and tag == "sheetData":
                    return
    except WorkbookTooLargeError:
        raise
    # a damaged part (bad CRC, truncated deflate stream, not XML, encrypted) is for the
    # workbook reader to report in its own words; this check only counts rows
    except Exception:
        return


@dataclass(slots=True)
class RowBudget:
    """Counts the rows and cells a reader takes from a workbook and refuses past the limits."""

    limits: WorkbookLimits
    name: str = "workbook"
    rows: int = 0
    cells: int = 0

    def check_declared(self, sheet: str, declared_rows: int | None) -> None:
        """Refuse at once a sheet whose declared dimension already passes the row limit."""
        if declared_rows is not None and declared_rows > self.limits.max_rows:
            raise self._too_many(sheet, declared_rows)

    def take(self, sheet: str, width: int) -> None:
        """Count one row of ``width`` cells."""
        self.rows += 1
        self.cells += width
        if self.rows > self.limits.max_rows:
            raise self._too_many(sheet, self.rows)
        if self.cells > self.limits.max_cells:
            raise WorkbookTooLargeError(
                f"sheet {sheet!r} passes the limit of {self.limits.max_cells:,} cells "
                f"(row {self.rows:,})",
                file=self.name,
                hint="split the workbook, export the data as CSV, or raise the limit",
            )

    def _too_many(self, sheet: str, rows: int) -> WorkbookTooLargeError:
        return WorkbookTooLargeError(
            f"sheet {sheet!r} has {rows:,} rows or more, more than the limit of "
            f"{self.limits.max_rows:,}",
            file=self.name,
            hint="split the workbook, export the data as CSV, or raise the limit",
        )
