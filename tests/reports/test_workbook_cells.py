"""Cell values written into an existing workbook's XML, read back by openpyxl and LibreOffice."""

from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from openpyxl.styles import Font

from carbonlink.reports.cbam_template import libreoffice_binary, recalculate
from carbonlink.reports.workbook_cells import WorkbookPartError, write_cells

CHAIN = (
    '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<c r="C3" i="1"/></calcChain>'
)


def _template(path: Path) -> Path:
    """A workbook as a spreadsheet program leaves it: a formula with its cached result, a chain."""
    book = openpyxl.Workbook()
    data = book.active
    assert data is not None
    data.title = "Data"
    data["A1"] = "label"
    data["B2"] = 5
    data["C3"] = "=B2*2"
    data["D4"] = date(2024, 1, 1)
    data["E5"].font = Font(bold=True)  # a styled, empty input cell
    other = book.create_sheet("Input & more")
    other["A1"] = 1
    plain = path.with_suffix(".plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as out:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                # openpyxl writes the empty cached value as <v /> or, with lxml, <v></v>
                for empty in (b"<f>B2*2</f><v /></c>", b"<f>B2*2</f><v></v></c>"):
                    content = content.replace(empty, b"<f>B2*2</f><v>10</v></c>")
            elif info.filename == "[Content_Types].xml":
                content = content.replace(
                    b"</Types>",
                    b'<Override PartName="/xl/calcChain.xml" ContentType="application/'
                    b'vnd.openxmlformats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
                )
            elif info.filename == "xl/_rels/workbook.xml.rels":
                content = content.replace(
                    b"</Relationships>",
                    b'<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/'
                    b'officeDocument/2006/relationships/calcChain" Target="calcChain.xml"/>'
                    b"</Relationships>",
                )
            out.writestr(info, content)
        out.writestr("xl/calcChain.xml", CHAIN)
    with zipfile.ZipFile(path) as check:
        assert b"<v>10</v>" in check.read("xl/worksheets/sheet1.xml")
    return path


def test_values_land_in_their_cells_with_their_styles(tmp_path: Path) -> None:
    source = _template(tmp_path / "template.xlsx")
    out = write_cells(
        source,
        tmp_path / "filled.xlsx",
        {
            "Data": {
                "B2": 7,
                "F2": True,  # a new cell after an existing one in row 2
                "E5": "文字 <&> x",
                "D4": date(2025, 1, 31),
                "G9": 2.5,  # a row that did not exist
                "A1": None,
            },
            "Input & more": {"A1": 1.25, "B1": "n"},
        },
    )
    book = openpyxl.load_workbook(out)
    data = book["Data"]
    assert data["B2"].value == 7
    assert data["F2"].value is True
    assert data["E5"].value == "文字 <&> x" and data["E5"].font.bold
    assert data["D4"].value == datetime(2025, 1, 31)
    assert data["G9"].value == 2.5
    assert data["A1"].value is None
    assert data["C3"].value == "=B2*2"  # the formula stays
    assert book["Input & more"]["A1"].value == 1.25 and book["Input & more"]["B1"].value == "n"
    # The template is untouched.
    assert openpyxl.load_workbook(source)["Data"]["B2"].value == 5


def test_stale_results_and_the_calculation_chain_are_dropped(tmp_path: Path) -> None:
    out = write_cells(_template(tmp_path / "t.xlsx"), tmp_path / "f.xlsx", {"Data": {"B2": 7}})
    with zipfile.ZipFile(out) as package:
        names = package.namelist()
        sheet = package.read("xl/worksheets/sheet1.xml").decode()
        workbook = package.read("xl/workbook.xml").decode()
        types = package.read("[Content_Types].xml").decode()
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
    assert "xl/calcChain.xml" not in names and "calcChain" not in types + rels
    assert re.search(r'<c r="C3"[^>]*><f>B2\*2</f></c>', sheet)  # no cached 10
    assert 'fullCalcOnLoad="1"' in workbook
    assert openpyxl.load_workbook(out, data_only=True)["Data"]["C3"].value is None


def test_libreoffice_computes_the_filled_workbook(tmp_path: Path) -> None:
    if libreoffice_binary() is None:
        pytest.skip("LibreOffice is not installed")
    out = write_cells(_template(tmp_path / "t.xlsx"), tmp_path / "f.xlsx", {"Data": {"B2": 21}})
    computed = recalculate(out, tmp_path / "recalc")
    assert openpyxl.load_workbook(computed, data_only=True)["Data"]["C3"].value == 42


def test_unknown_sheets_and_bad_references_are_refused(tmp_path: Path) -> None:
    source = _template(tmp_path / "t.xlsx")
    with pytest.raises(WorkbookPartError, match="no sheet 'Nope'"):
        write_cells(source, tmp_path / "f.xlsx", {"Nope": {"A1": 1}})
    with pytest.raises(WorkbookPartError, match="not a cell reference: 'a1'"):
        write_cells(source, tmp_path / "f.xlsx", {"Data": {"a1": 1}})
    with pytest.raises(WorkbookPartError, match="cannot be stored"):
        write_cells(source, tmp_path / "f.xlsx", {"Data": {"A1": float("nan")}})
