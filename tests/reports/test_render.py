"""Rendering: PDF text read back (totals and Chinese labels), XLSX numbers, HTML and JSON."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from openpyxl import load_workbook

from carbonlink.reports.china import build_china_report
from carbonlink.reports.inventory import build_inventory_report
from carbonlink.reports.reconcile import build_reconciliation
from carbonlink.reports.render import format_number, render_html, write_report


def pdf_text(path: Path) -> str:
    """Text of a PDF via poppler's pdftotext (CI installs poppler-utils)."""
    if shutil.which("pdftotext") is None:
        reason = "pdftotext (poppler-utils) is not installed"
        if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return done.stdout


def test_china_pdf_has_cjk_text_and_totals(small_works, tmp_path: Path) -> None:
    path = write_report(build_china_report(*small_works), tmp_path / "china.pdf", "pdf")
    assert path.read_bytes().startswith(b"%PDF")
    text = pdf_text(path)
    for label in ("企业温室气体排放总量", "燃料燃烧排放", "工业生产过程排放", "固碳产品隐含的排放"):
        assert label in text
    assert "8,899.11" in text  # the total
    assert "2,362.11" in text  # fuel combustion
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    assert "Noto-Sans-CJK-SC" in fonts.stdout


def test_inventory_and_reconcile_pdfs(small_works, tmp_path: Path) -> None:
    inventory = pdf_text(
        write_report(build_inventory_report(*small_works), tmp_path / "i.pdf", "pdf")
    )
    assert "2,663.23" in inventory  # Scope 1 headline
    assert "6,361.000" in inventory and "4,876.800" in inventory  # Scope 2 both methods
    assert "Not computed" in inventory
    reconcile = pdf_text(
        write_report(build_reconciliation(*small_works), tmp_path / "r.pdf", "pdf")
    )
    assert "8,899.11" in reconcile
    assert "Unexplained difference" in reconcile


def test_xlsx_numbers_are_numbers(small_works, tmp_path: Path) -> None:
    path = write_report(build_china_report(*small_works), tmp_path / "china.xlsx", "xlsx")
    book = load_workbook(path)
    assert book.sheetnames[0] == "Summary"
    sheet = book["total"]
    headers = [c.value for c in sheet[2]]
    assert headers[-1] == "排放量 Emissions (t CO2)"
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[0] == "企业温室气体排放总量"
    assert isinstance(total[-1], float) and total[-1] == pytest.approx(8899.108917666)
    fuels = book["fuel_combustion"]
    ncv_column = [c.value for c in fuels[2]].index("低位发热量 NCV") + 1
    assert all(isinstance(fuels.cell(r, ncv_column).value, float) for r in (3, 4))


def test_html_and_json(small_works, tmp_path: Path) -> None:
    document = build_inventory_report(*small_works)
    html = render_html(document)
    assert html.startswith("<!DOCTYPE html>") and "小钢厂 Small Steel Co." in html
    path = write_report(document, tmp_path / "inventory.json", "json")
    loaded = json.loads(path.read_text("utf-8"))
    assert loaded["schema"] == "carbonlink.report.inventory/1"
    assert loaded["totals"]["scope2_market"] == pytest.approx(4876.8)


def test_format_number() -> None:
    assert format_number(-1234.5, 2) == "\u22121,234.50"
    assert format_number(-0.0001, 2) == "0.00"
    assert format_number(None) == ""
    assert format_number(389.31, -1) == "389.31"
