"""Crafted workbooks for the size-limit tests: a sheet of a million rows, a zip bomb.

Each is a real workbook saved by openpyxl whose first sheet's XML is replaced, so every other
part (content types, relationships, styles) stays what Excel and openpyxl expect.
"""

from __future__ import annotations

import io
import zipfile

from openpyxl import Workbook, load_workbook

SHEET = "xl/worksheets/sheet1.xml"
HEAD = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def _workbook() -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["time", "power"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _replace_first_sheet(workbook: bytes, write_sheet: object) -> bytes:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(workbook)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            if item.filename == SHEET:
                with target.open(SHEET, "w") as stream:
                    write_sheet(stream)  # type: ignore[operator]
            else:
                target.writestr(item, source.read(item.filename))
    return out.getvalue()


def many_rows(rows: int, *, workbook: bytes | None = None, dimension: bool = False) -> bytes:
    """A workbook whose first sheet holds ``rows`` rows, each one cell: small on disk."""

    def write(stream: io.BufferedIOBase) -> None:
        stream.write(HEAD)
        if dimension:
            stream.write(f'<dimension ref="A1:A{rows}"/>'.encode())
        stream.write(b"<sheetData>")
        # rows without their number attribute: openpyxl counts them, and they compress well
        row = b"<row><c><v>1</v></c></row>"
        for _ in range(rows // 10_000):
            stream.write(row * 10_000)
        stream.write(row * (rows % 10_000))
        stream.write(b"</sheetData></worksheet>")

    return _replace_first_sheet(workbook or _workbook(), write)


def zip_bomb(inflated_mb: int, *, workbook: bytes | None = None) -> bytes:
    """A valid workbook whose first sheet inflates to ``inflated_mb`` MB of blanks."""

    def write(stream: io.BufferedIOBase) -> None:
        stream.write(HEAD)
        blank = b" " * (1 << 20)
        for _ in range(inflated_mb):
            stream.write(blank)
        stream.write(b"<sheetData/></worksheet>")

    return _replace_first_sheet(workbook or _workbook(), write)


def rows_of(workbook: bytes) -> int:
    """How many rows openpyxl reads from the first sheet (to check the crafted file is real)."""
    book = load_workbook(io.BytesIO(workbook), read_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()
