"""Write values into the cells of an existing .xlsx workbook without loading it.

The official CBAM template is a 1.3 MB workbook of 19 sheets and 60 000 formulas; loading it into
openpyxl and saving it again costs seconds and drops what openpyxl does not model (conditional
formatting extensions, some data validations). Filling its input cells only needs the XML of the
sheets written to: each edited ``<c>`` element is replaced in place, keeping its style, and every
other part of the package is copied as it is.

After the edit the workbook's cached formula results are stale, so they are removed (each
formula cell keeps its formula and loses its ``<v>``), the calculation chain is dropped and
``fullCalcOnLoad`` is set: Excel and LibreOffice compute every formula when the file is opened,
and a reader that does not calculate sees empty results rather than wrong ones.

Strings are written inline (``t="inlineStr"``), so the shared-string table is left untouched;
dates become serial day numbers in the 1900 date system and keep the cell's format, or get a
date format (one cell format added to the styles) where the cell had none.
"""

from __future__ import annotations

import math
import numbers
import re
import zipfile
from collections.abc import Mapping
from datetime import date, datetime
from html import unescape
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape

from carbonlink.errors import CarbonlinkError

__all__ = ["CellValue", "WorkbookPartError", "write_cells"]

CellValue = str | int | float | bool | date | None

_SHEET = re.compile(r'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_RELATIONSHIP = re.compile(r"<Relationship\b[^>]*/>")
_CELL = re.compile(r'<c r="([A-Z]{1,3})([0-9]+)"(?=[\s/>])([^>]*?)(?:/>|>(.*?)</c>)', re.S)
_CACHED = re.compile(r"<c ([^>]*)>(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)(?:<v>[^<]*</v>|<v\s*/>)</c>")
_STYLE = re.compile(r'\ss="([0-9]+)"')
_TYPE = re.compile(r'\st="[^"]*"')
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = date(1899, 12, 30)


class WorkbookPartError(CarbonlinkError, ValueError):
    """The workbook lacks a sheet or part that a cell edit needs."""


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


class _Styles:
    """The package's styles part, with a date cell format added the first time one is needed."""

    def __init__(self, xml: str | None) -> None:
        self.xml = xml
        self.changed = False
        self._date: str | None = None

    def date_format(self) -> str | None:
        if self._date is None and self.xml is not None:
            found = re.search(r'<cellXfs count="([0-9]+)">(.*?)</cellXfs>', self.xml, re.S)
            if found:
                # numFmtId 14 is the built-in short date.
                xf = '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/>'
                count = len(re.findall(r"<xf\b", found.group(2)))
                self.xml = (
                    self.xml[: found.start()]
                    + f'<cellXfs count="{count + 1}">{found.group(2)}{xf}</cellXfs>'
                    + self.xml[found.end() :]
                )
                self._date, self.changed = str(count), True
        return self._date


def _cell_xml(ref: str, style: str | None, value: CellValue, styles: _Styles) -> str:
    if isinstance(value, date) and style in (None, "0"):
        style = styles.date_format()
    attrs = f'r="{ref}"' + (f' s="{style}"' if style else "")
    if value is None:
        return f"<c {attrs}/>"
    if isinstance(value, bool):
        return f'<c {attrs} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, numbers.Integral):
        return f"<c {attrs}><v>{int(value)}</v></c>"
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise WorkbookPartError(f"cell {ref}: {number} cannot be stored in a workbook")
        return f"<c {attrs}><v>{number!r}</v></c>"
    if isinstance(value, datetime):
        days = (value - datetime(1899, 12, 30, tzinfo=value.tzinfo)).total_seconds() / 86400
        return f"<c {attrs}><v>{days!r}</v></c>"
    if isinstance(value, date):
        return f"<c {attrs}><v>{(value - _EPOCH).days}</v></c>"
    text = escape(_ILLEGAL.sub("", str(value)))
    return f'<c {attrs} t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def _insert_cells(xml: str, cells: dict[tuple[int, int], str], where: str) -> str:
    """Put cells that had no ``<c>`` element yet into their rows (made when missing)."""
    for (row, column), cell in sorted(cells.items()):
        found = re.search(rf'<row r="{row}"(?=[\s/>])([^>]*?)(/>|>(.*?)</row>)', xml, re.S)
        if found is None:
            later = next(
                (m for m in re.finditer(r'<row r="([0-9]+)"', xml) if int(m.group(1)) > row),
                None,
            )
            new_row = f'<row r="{row}">{cell}</row>'
            if later is not None:
                xml = xml[: later.start()] + new_row + xml[later.start() :]
            elif "<sheetData/>" in xml:
                xml = xml.replace("<sheetData/>", f"<sheetData>{new_row}</sheetData>", 1)
            elif "</sheetData>" in xml:
                xml = xml.replace("</sheetData>", f"{new_row}</sheetData>", 1)
            else:
                raise WorkbookPartError(f"{where} has no sheetData to write cells into")
            continue
        content = found.group(3) or ""
        position = len(content)
        for other in _CELL.finditer(content):
            if _column_number(other.group(1)) > column:
                position = other.start()
                break
        content = content[:position] + cell + content[position:]
        xml = (
            xml[: found.start()]
            + f'<row r="{row}"{found.group(1)}>{content}</row>'
            + xml[found.end() :]
        )
    return xml


def _write_sheet(xml: str, edits: Mapping[str, CellValue], where: str, styles: _Styles) -> str:
    pending = dict(edits)

    def replace(match: re.Match[str]) -> str:
        ref = match.group(1) + match.group(2)
        if ref not in pending:
            return match.group(0)
        style = _STYLE.search(match.group(3))
        return _cell_xml(ref, style.group(1) if style else None, pending.pop(ref), styles)

    xml = _CELL.sub(replace, xml)
    if pending:
        cells = {}
        for ref, value in pending.items():
            letters = ref.rstrip("0123456789")
            cells[(int(ref[len(letters) :]), _column_number(letters))] = _cell_xml(
                ref, None, value, styles
            )
        xml = _insert_cells(xml, cells, where)
    return xml


def _drop_cached_results(xml: str) -> str:
    return _CACHED.sub(lambda m: f"<c {_TYPE.sub('', m.group(1))}>{m.group(2)}</c>", xml)


def write_cells(source: Path, target: Path, edits: Mapping[str, Mapping[str, CellValue]]) -> Path:
    """Copy the workbook ``source`` to ``target`` with ``edits`` (sheet → cell → value) applied.

    Cell references are upper-case A1 references (``"L32"``); ``None`` empties a cell.
    """
    bad = [
        ref
        for cells in edits.values()
        for ref in cells
        if not re.fullmatch(r"[A-Z]{1,3}[1-9][0-9]*", ref)
    ]
    if bad:
        raise WorkbookPartError(f"not a cell reference: {', '.join(map(repr, bad))}")
    with zipfile.ZipFile(source) as package:
        names = package.namelist()
        workbook = package.read("xl/workbook.xml").decode("utf-8")
        rels = package.read("xl/_rels/workbook.xml.rels").decode("utf-8")
        targets: dict[str, str] = {}
        for element in _RELATIONSHIP.findall(rels):
            rel_id = re.search(r'\bId="([^"]*)"', element)
            rel_target = re.search(r'\bTarget="([^"]*)"', element)
            if rel_id and rel_target:
                path = rel_target.group(1)
                targets[rel_id.group(1)] = (
                    path.lstrip("/") if path.startswith("/") else str(PurePosixPath("xl") / path)
                )
        parts = {
            unescape(name): targets.get(rel_id, "") for name, rel_id in _SHEET.findall(workbook)
        }
        missing = [name for name in edits if parts.get(name) not in names]
        if missing:
            raise WorkbookPartError(
                f"the workbook has no sheet {', '.join(map(repr, missing))}", file=str(source)
            )
        by_part = {parts[name]: (name, cells) for name, cells in edits.items()}
        sheet_parts = set(parts.values())
        chain = [p for p in names if p == "xl/calcChain.xml"]

        if re.search(r"<calcPr\b", workbook):
            workbook = re.sub(
                r"<calcPr\b([^>]*?)(/?)>",
                lambda m: (
                    "<calcPr"
                    + re.sub(r'\sfullCalcOnLoad="[^"]*"', "", m.group(1))
                    + f' fullCalcOnLoad="1"{m.group(2)}>'
                ),
                workbook,
                count=1,
            )
        else:
            workbook = workbook.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>')
        if chain:
            rels = "".join(
                part
                for part in re.split(r"(<Relationship\b[^>]*/>)", rels)
                if not (part.startswith("<Relationship") and "calcChain" in part)
            )

        # Sheets are written first: a date may add a cell format to the styles part.
        styles_part = "xl/styles.xml" if "xl/styles.xml" in names else None
        styles = _Styles(package.read(styles_part).decode("utf-8") if styles_part else None)
        edited = {
            part: _write_sheet(
                package.read(part).decode("utf-8"), cells, f"sheet {sheet!r}", styles
            )
            for part, (sheet, cells) in by_part.items()
        }

        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in package.infolist():
                name = info.filename
                if name in chain:
                    continue
                if name == "xl/workbook.xml":
                    data = workbook.encode("utf-8")
                elif name == "xl/_rels/workbook.xml.rels":
                    data = rels.encode("utf-8")
                elif name == "[Content_Types].xml" and chain:
                    types = package.read(name).decode("utf-8")
                    data = re.sub(r"<Override\b[^>]*calcChain[^>]*/>", "", types).encode("utf-8")
                elif name == styles_part and styles.changed and styles.xml is not None:
                    data = styles.xml.encode("utf-8")
                elif name in sheet_parts:
                    xml = edited.get(name) or package.read(name).decode("utf-8")
                    data = _drop_cached_results(xml).encode("utf-8")
                else:
                    data = package.read(name)
                out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    return target
