"""Renderers of report documents: HTML and PDF from one Jinja2 template, XLSX and JSON.

The HTML of a report is also the PDF's source (WeasyPrint lays it out with the print CSS of
the template). PDFs are set in Noto Sans SC, which carbonlink installs itself (``fonts/`` beside
this module, copied from a pinned npm package at install) and hands WeasyPrint through
``@font-face``: Chinese comes out right whatever fonts the machine has, and WeasyPrint embeds
only the glyphs used. A PDF in which any character would be drawn as an empty box (.notdef)
is refused, not written. XLSX keeps numbers as numbers with the unit in the header; JSON is
the document itself.
"""

from __future__ import annotations

import atexit
import json
import re
import threading
import warnings
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from carbonlink.errors import CarbonlinkError, InputError

if TYPE_CHECKING:
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

__all__ = [
    "FONT_FAMILY",
    "MissingGlyphError",
    "ReportFontError",
    "ReportFormat",
    "render_html",
    "render_pdf",
    "write_json",
    "write_pdf",
    "write_report",
    "write_xlsx",
]

FONT_FAMILY = "Carbonlink Noto Sans SC"
"""The CSS family the PDF renderer gives the shipped font (no system font bears this name)."""

FONT_FOLDER = Path(__file__).parent / "fonts"
FONT_FILES = {"normal": "NotoSansSC_400Regular.ttf", "bold": "NotoSansSC_700Bold.ttf"}
"""Font file per CSS weight, as the install step copies them into :data:`FONT_FOLDER`."""


_PDF_LOCK = threading.Lock()
"""One PDF at a time per process: the shared font configuration (Pango's font map) is not
safe to use from two threads at once, and the dashboard renders in a thread pool."""


class ReportFontError(CarbonlinkError, RuntimeError):
    """The font that PDF reports are set in is not installed beside the package."""


class MissingGlyphError(CarbonlinkError, ValueError):
    """Characters of a report have no glyph in any font: the PDF would show empty boxes."""

    def __init__(self, message: str, *, characters: str, **kwargs: Any) -> None:
        self.characters = characters
        super().__init__(message, **kwargs)


class ReportFormat(StrEnum):
    """The formats every report is written in."""

    html = "html"
    pdf = "pdf"
    xlsx = "xlsx"
    json = "json"


def format_number(value: Any, digits: int = 3) -> str:
    """``1234567.891`` → ``1,234,567.891``; a true minus sign; empty for None."""
    if value is None or value == "":
        return ""
    if not isinstance(value, int | float):
        return str(value)
    text = f"{value:,.10g}" if digits < 0 else f"{value:,.{digits}f}"
    if text.startswith("-"):
        text = "\u2212" + text[1:] if text.strip("-0.,") else text[1:]
    return text


def _label(text: str, document: dict[str, Any]) -> str:
    from carbonlink.reports.iso_zh import label

    return label(text, document)


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("carbonlink.reports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = format_number
    env.filters["L"] = _label
    return env


def render_html(document: dict[str, Any]) -> str:
    """The report as a standalone HTML page (the same page the PDF is made from)."""
    template = _environment().get_template(f"{document['report']}.html.j2")
    return template.render(doc=document)


def write_html(document: dict[str, Any], path: Path) -> Path:
    """Write the HTML page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(document), "utf-8")
    return path


def _import_weasyprint() -> None:
    # WeasyPrint warns at import when the HarfBuzz-Subset library is absent (it then subsets
    # with fontTools, slower but correct), and when fontconfig knows no system font. The first
    # is a system package the install scripts provide; the second does not matter, as reports
    # bring their own font. Neither must decide whether a report can be written.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="HarfBuzz-Subset will be required", category=DeprecationWarning
        )
        warnings.filterwarnings("ignore", message="No fonts configured in FontConfig")
        import weasyprint  # noqa: F401


@lru_cache(maxsize=1)
def _pdf_fonts() -> tuple[FontConfiguration, CSS]:
    """The font configuration and ``@font-face`` rules, made once per process.

    WeasyPrint copies each font file into a temporary folder of the configuration and registers
    it with fontconfig; reusing the configuration pays that (and the scan of 30 000 glyphs)
    once, not per document. The folder is removed at exit.
    """
    _import_weasyprint()
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration

    missing = [name for name in FONT_FILES.values() if not (FONT_FOLDER / name).is_file()]
    if missing:
        raise ReportFontError(
            f"the report font is not installed: {', '.join(missing)} missing in {FONT_FOLDER}",
            hint="reinstall carbonlink (in a checkout, `make .venv/.installed` copies Noto Sans "
            "SC from frontend/node_modules)",
        )
    faces = "\n".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight}; '
        f'src: url("{(FONT_FOLDER / name).as_uri()}"); }}'
        for weight, name in FONT_FILES.items()
    )
    font_config = FontConfiguration()
    atexit.register(_pdf_fonts.cache_clear)
    return font_config, CSS(string=faces, font_config=font_config)


def render_pdf(document: dict[str, Any]) -> bytes:
    """The report as PDF bytes (A4 landscape), laid out by WeasyPrint from the HTML page.

    Raises :class:`MissingGlyphError` when a character has no glyph in any font, rather than
    returning a PDF that shows it as an empty box.
    """
    page = render_html(document)
    with _PDF_LOCK:
        font_config, faces = _pdf_fonts()
        from weasyprint import HTML

        rendered = HTML(string=page).render(stylesheets=[faces], font_config=font_config)
        pdf = rendered.write_pdf()
        # WeasyPrint records, per font, the characters it had to draw as .notdef.
        missing = sorted({chr(code) for font in rendered.fonts.values() for code in font.missing})
    if missing:
        shown = ", ".join(f"{char!r} (U+{ord(char):04X})" for char in missing[:20])
        raise MissingGlyphError(
            f"no font has a glyph for {shown}{' …' if len(missing) > 20 else ''}",
            characters="".join(missing),
            record=f"{document.get('report', '')} report",
            hint="the PDF would show these characters as empty boxes; replace them in the "
            "input, or use the HTML, XLSX or JSON output",
        )
    return pdf


def write_pdf(document: dict[str, Any], path: Path) -> Path:
    """Write the report as PDF; nothing is written when a character has no glyph."""
    pdf = render_pdf(document)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    return path


def write_json(document: dict[str, Any], path: Path) -> Path:
    """Write the document as UTF-8 JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return path


def _sheet_title(name: str, taken: set[str]) -> str:
    title = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
    base, n = title, 2
    while title in taken:
        title = f"{base[:28]}_{n}"
        n += 1
    taken.add(title)
    return title


def _number_format(digits: int) -> str:
    if digits < 0:
        return "General"
    return "#,##0" + ("." + "0" * digits if digits else "")


SUMMARY_LABELS = {
    "sheet": "Summary",
    "organization": "Organization",
    "period": "Period",
    "gwp": "GWP set",
    "figure": "Figure",
    "value": "Value",
    "unit": "Unit",
}
SUMMARY_LABELS_ZH = {
    "sheet": "概要",
    "organization": "重点排放单位",
    "period": "报告期",
    "gwp": "全球变暖潜势",
    "figure": "项目",
    "value": "数值",
    "unit": "单位",
}
"""Headings of the summary sheet; a report filed in Chinese gets Chinese ones."""


def write_xlsx(document: dict[str, Any], path: Path) -> Path:
    """A workbook: a summary sheet with the headline figures, then one sheet per table."""
    # openpyxl is imported here, as WeasyPrint is in render_pdf: a command that writes no
    # workbook does not pay for it.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    header_font = Font(bold=True, color="FFFFFF")
    header_fill = PatternFill("solid", fgColor="2F5D50")
    bold = Font(bold=True)
    book = Workbook()
    summary = book.active
    assert summary is not None
    chinese = document.get("report") == "china_steel_2025" or document.get("language") == "zh"
    labels = SUMMARY_LABELS_ZH if chinese else SUMMARY_LABELS
    taken = {labels["sheet"]}
    summary.title = labels["sheet"]
    summary.append([document["title"]])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append([document["subtitle"]])
    summary.append([labels["organization"], document["organization"]])
    summary.append(
        [labels["period"], f"{document['period']['start']} – {document['period']['end']}"]
    )
    if document["gwp_set"]:
        summary.append([labels["gwp"], document["gwp_set"]])
    summary.append([])
    summary.append([labels["figure"], labels["value"], labels["unit"]])
    for cell in summary[summary.max_row]:
        cell.font, cell.fill = header_font, header_fill
    for item in document["facts"]:
        summary.append([item["label"], item["value"], item["unit"]])
        whole = isinstance(item["value"], int) and not isinstance(item["value"], bool)
        summary.cell(summary.max_row, 2).number_format = _number_format(0 if whole else 3)
    summary.column_dimensions["A"].width = 48
    summary.column_dimensions["B"].width = 20
    summary.column_dimensions["C"].width = 10

    declaration = document.get("declaration")
    if declaration:
        summary.append([])
        summary.append([declaration["title"]])
        summary.cell(summary.max_row, 1).font = bold
        summary.append([declaration["text"]])
        row = summary.max_row
        summary.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        summary.cell(row, 1).alignment = Alignment(wrap_text=True, vertical="top")
        summary.row_dimensions[row].height = 48
        for line in declaration["signatures"]:
            summary.append([line])
        summary.page_setup.orientation = "landscape"
        summary.page_setup.fitToWidth = 1
        summary.page_setup.fitToHeight = 0
        summary.sheet_properties.pageSetUpPr.fitToPage = True

    chinese_sheets = labels is SUMMARY_LABELS_ZH
    for name, spec in document["tables"].items():
        sheet = book.create_sheet(_sheet_title(spec["title"] if chinese_sheets else name, taken))
        sheet.append([spec["title"]])
        sheet["A1"].font = Font(bold=True, size=12)
        columns = spec["columns"]
        sheet.append([f"{c['label']} ({c['unit']})" if c["unit"] else c["label"] for c in columns])
        for cell in sheet[2]:
            cell.font, cell.fill = header_font, header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        rows = list(spec["rows"])
        if spec["total"]:
            rows.append(spec["total"])
        for index, row in enumerate(rows):
            sheet.append([row[c["key"]] for c in columns])
            for col, column in enumerate(columns, start=1):
                if column["kind"] == "number":
                    sheet.cell(sheet.max_row, col).number_format = _number_format(column["digits"])
            if spec["total"] and index == len(rows) - 1:
                for cell in sheet[sheet.max_row]:
                    cell.font = bold
        if spec["note"]:
            sheet.append([])
            sheet.append([spec["note"]])
        for col, column in enumerate(columns, start=1):
            width = max(
                [len(str(column["label"])) + len(column["unit"]) + 3]
                + [len(format_number(r[column["key"]], column["digits"])) for r in rows]
            )
            sheet.column_dimensions[get_column_letter(col)].width = min(max(width, 8), 60)
        sheet.freeze_panes = "A3"
        sheet.page_setup.orientation = "landscape"
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0
        sheet.sheet_properties.pageSetUpPr.fitToPage = True
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


WRITERS = {
    ReportFormat.html: write_html,
    ReportFormat.pdf: write_pdf,
    ReportFormat.xlsx: write_xlsx,
    ReportFormat.json: write_json,
}


def write_report(document: dict[str, Any], path: Path, output_format: ReportFormat | str) -> Path:
    """Write ``document`` to ``path`` in ``output_format`` (html, pdf, xlsx or json)."""
    try:
        fmt = ReportFormat(output_format)
    except ValueError:
        raise InputError(
            f"unknown report format {output_format!r}",
            hint="use one of " + ", ".join(f.value for f in ReportFormat),
        ) from None
    return WRITERS[fmt](document, path)
