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


def check_workbook_archive(data: bytes, limits: WorkbookLimits, *, name: str = "workbook") -> None:
    """Refuse ``data`` when its zip directory declares more than ``limits`` allow.

    Only the central directory is read; nothing is decompressed. A file that is not a zip
    archive passes untouched: the XLSX reader itself then says it is not a workbook.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError):
        return
    total = 0
    for part in parts:
        total += part.file_size
        if part.file_size > MB and part.file_size > limits.max_ratio * max(part.compress_size, 1):
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
