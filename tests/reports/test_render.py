"""Rendering: PDF text read back (totals and Chinese labels), XLSX numbers, HTML and JSON."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont
from openpyxl import load_workbook

from carbonlink.reports import render
from carbonlink.reports.china import build_china_report
from carbonlink.reports.inventory import build_inventory_report
from carbonlink.reports.reconcile import build_reconciliation
from carbonlink.reports.render import (
    FONT_FAMILY,
    MissingGlyphError,
    ReportFontError,
    format_number,
    render_html,
    write_report,
)

CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]+")


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
    assert headers[-1] == "排放量 (t CO2)"
    total = [c.value for c in sheet[sheet.max_row]]
    assert total[0] == "企业温室气体排放总量"
    assert isinstance(total[-1], float) and total[-1] == pytest.approx(8899.108917666)
    fuels = book["fuel_combustion"]
    ncv_column = [c.value for c in fuels[2]].index("低位发热量") + 1
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


class _BodyText(HTMLParser):
    """The text of an HTML page's body, as the PDF shows it."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self._in_body = self._in_body or tag == "body"

    def handle_data(self, data: str) -> None:
        if self._in_body:
            self.parts.append(data)


def embedded_font_names(pdf: bytes) -> set[str]:
    """PostScript names of the TrueType programs embedded in a PDF (its FontFile2 streams)."""
    names = set()
    for match in re.finditer(rb"(?<!end)stream\r?\n", pdf):
        start = match.end()
        try:
            data = zlib.decompressobj().decompress(pdf[start : pdf.index(b"endstream", start)])
        except zlib.error:
            continue
        if data[:4] == b"\x00\x01\x00\x00":
            names.add(TTFont(io.BytesIO(data))["name"].getDebugName(6) or "")
    return names


@pytest.mark.parametrize("build", [build_china_report, build_reconciliation])
def test_chinese_comes_back_exactly_in_the_shipped_font(small_works, tmp_path: Path, build) -> None:
    """Every run of Chinese on the page is in the PDF's text, set in the font carbonlink ships.

    The machine may have Noto CJK fonts of its own; the font names prove they were not used.
    """
    document = build(*small_works)
    page = _BodyText()
    page.feed(render_html(document))
    runs = {run for part in page.parts for run in CJK.findall(part)}
    assert len(runs) >= 3  # the report has Chinese to check
    path = write_report(document, tmp_path / "report.pdf", "pdf")
    done = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True)
    if done.returncode != 0 and shutil.which("pdftotext") is None:
        pdf_text(path)  # skips (or fails under CARBONLINK_REQUIRE_SERVICES) with the reason
    text = re.sub(r"\s+", "", done.stdout)
    assert "\u25a1" not in text and ".notdef" not in text
    assert not [run for run in runs if re.sub(r"\s+", "", run) not in text]
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True)
    listed = [line.split()[0] for line in fonts.stdout.splitlines()[2:]]
    family = FONT_FAMILY.replace(" ", "-")
    assert listed and all(name.split("+", 1)[1].startswith(family) for name in listed)
    programs = embedded_font_names(path.read_bytes())
    assert programs == {"NotoSansSC-Regular", "NotoSansSC-Bold"}


def test_a_character_no_font_has_is_refused(small_works, tmp_path: Path) -> None:
    document = build_reconciliation(*small_works)
    document["notes"] = [*document.get("notes", []), "private use \U0010fffd here"]
    document["title"] += " \U0010fffd"
    with pytest.raises(MissingGlyphError) as caught:
        write_report(document, tmp_path / "r.pdf", "pdf")
    assert caught.value.characters == "\U0010fffd"
    assert "U+10FFFD" in str(caught.value)
    assert not (tmp_path / "r.pdf").exists()


def test_a_missing_font_file_is_named(small_works, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(render, "FONT_FOLDER", tmp_path)
    render._pdf_fonts.cache_clear()
    try:
        with pytest.raises(ReportFontError, match=r"NotoSansSC_400Regular\.ttf"):
            write_report(build_reconciliation(*small_works), tmp_path / "r.pdf", "pdf")
    finally:
        render._pdf_fonts.cache_clear()
    assert not (tmp_path / "r.pdf").exists()


def test_pdf_does_not_need_harfbuzz_subset(small_works, tmp_path: Path) -> None:
    """Without the HarfBuzz-Subset library WeasyPrint warns at import and subsets with fontTools.

    The warning must not stop a report (warnings are errors here), and the PDF still carries
    the Chinese text. The library is hidden from WeasyPrint's loader in a child process.
    """
    script = """
import cffi, sys
real = cffi.FFI.dlopen
def dlopen(self, name, *args):
    if "harfbuzz-subset" in str(name):
        raise OSError("hidden")
    return real(self, name, *args)
cffi.FFI.dlopen = dlopen
import json, pathlib
from carbonlink.reports.render import write_pdf
document = json.loads(pathlib.Path(sys.argv[1]).read_text("utf-8"))
write_pdf(document, pathlib.Path(sys.argv[2]))
import weasyprint.text.ffi as ffi
assert ffi.harfbuzz_subset is None
"""
    write_report(build_reconciliation(*small_works), tmp_path / "r.json", "json")
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            script,
            str(tmp_path / "r.json"),
            str(tmp_path / "r.pdf"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r.pdf").read_bytes().startswith(b"%PDF")
    if shutil.which("pdftotext"):
        assert "8,899.11" in pdf_text(tmp_path / "r.pdf")


def test_a_machine_without_any_system_font(small_works, tmp_path: Path) -> None:
    """With fontconfig knowing no font at all, the China report still reads back in Chinese."""
    config = tmp_path / "fonts.conf"
    config.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
        f"<fontconfig><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>\n",
        "utf-8",
    )
    write_report(build_china_report(*small_works), tmp_path / "china.json", "json")
    script = (
        "import json, pathlib, sys; from carbonlink.reports.render import write_pdf; "
        "write_pdf(json.loads(pathlib.Path(sys.argv[1]).read_text('utf-8')), "
        "pathlib.Path(sys.argv[2]))"
    )
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            script,
            str(tmp_path / "china.json"),
            str(tmp_path / "c.pdf"),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "FONTCONFIG_FILE": str(config)},
    )
    assert done.returncode == 0, done.stderr
    text = pdf_text(tmp_path / "c.pdf")
    for label in ("企业温室气体排放总量", "燃料燃烧排放", "小钢厂"):
        assert label in text
    assert "\u25a1" not in text
    # Text extraction reads the PDF's Unicode map, which holds even for .notdef boxes: the
    # glyphs are there because the only fonts are the shipped ones (which have them all).
    assert embedded_font_names((tmp_path / "c.pdf").read_bytes()) == {
        "NotoSansSC-Regular",
        "NotoSansSC-Bold",
    }


def test_pdfs_rendered_from_two_threads_are_both_whole(small_works, tmp_path: Path) -> None:
    """The dashboard writes reports from a thread pool; the shared font setup is taken in turn."""
    from concurrent.futures import ThreadPoolExecutor

    documents = {
        "china": build_china_report(*small_works),
        "reconcile": build_reconciliation(*small_works),
    }
    jobs = [(f"{name}-{n}", document) for n in (1, 2) for name, document in documents.items()]
    with ThreadPoolExecutor(2) as pool:
        paths = list(
            pool.map(lambda job: write_report(job[1], tmp_path / f"{job[0]}.pdf", "pdf"), jobs)
        )
    assert len(paths) == 4
    for n in (1, 2):
        assert "企业温室气体排放总量" in pdf_text(tmp_path / f"china-{n}.pdf")
        assert "Unexplained difference" in pdf_text(tmp_path / f"reconcile-{n}.pdf")
