"""The supplier portal's activity data: form fields and the XLSX template, to one submission.

The web form and the spreadsheet carry the same named fields. `submission_from_fields` turns
them into an `ActivitySubmission` for `compute_submission`; every error names where the bad
value sits (the form field, or the sheet, row and cell) and what to write instead.

Units: site emissions in t CO2e for the period; energy amounts with a factor in kg CO2e per
unit of the amount (fossil, or biogenic non-CO2 such as the CH4 and N2O of burnt biomass);
outputs in t with revenue in CNY; materials per declared unit of the product, with a secondary
factor in kg CO2e per unit of the material.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from carbonlink.domain.footprint import (
    AllocationRule,
    CoProductOutput,
    DeclaredUnit,
    EmissionProfile,
    Product,
    hs_code_urn,
)
from carbonlink.errors import InputError
from carbonlink.exchange.portal import ActivitySubmission, MaterialLine
from carbonlink.workbooks import (
    MB,
    RowBudget,
    WorkbookLimits,
    WorkbookTooLargeError,
    check_workbook_archive,
)

KG_PER_T = 1000.0
ENERGY_ROWS = 3
OUTPUT_ROWS = 3
MATERIAL_ROWS = 5
DECLARED_UNITS = (DeclaredUnit.KILOGRAM, DeclaredUnit.PIECE)

Where = Callable[[str], str]


class SheetError(InputError):
    """A spreadsheet could not be read as the portal template."""


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table sheet: the field suffix and its English heading."""

    key: str
    heading: str


PRODUCT_FIELDS: tuple[tuple[str, str], ...] = (
    ("product_name", "Product name"),
    ("product_ids", "Product ids (URNs, one per line or separated by spaces)"),
    ("hs_code", "HS code (e.g. 7202.41)"),
    ("declared_unit", "Declared unit (kilogram or piece)"),
    ("mass_per_unit", "Mass per declared unit (kg)"),
    ("period_start", "Reference period start (YYYY-MM-DD)"),
    ("period_end", "Reference period end (YYYY-MM-DD, exclusive)"),
    ("geography", "Country (ISO 3166-1, e.g. CN)"),
    ("site_fossil_t", "Site emissions of the period, fossil (t CO2e)"),
    ("site_biogenic_t", "Site emissions of the period, biogenic non-CO2 (t CO2e)"),
    ("rule", "Allocation rule (mass or economic)"),
)
ENERGY_COLUMNS = (
    Column("name", "Energy carrier"),
    Column("amount", "Amount in the period"),
    Column("unit", "Unit"),
    Column("factor", "Factor (kg CO2e per unit)"),
    Column("kind", "fossil or biogenic (non-CO2)"),
)
OUTPUT_COLUMNS = (
    Column("name", "Output (first row: the product)"),
    Column("mass_t", "Quantity in the period (t)"),
    Column("revenue", "Revenue (CNY)"),
)
MATERIAL_COLUMNS = (
    Column("name", "Purchased material"),
    Column("quantity", "Quantity per declared unit"),
    Column("unit", "Unit"),
    Column("factor", "Secondary factor (kg CO2e per unit)"),
    Column("source", "Factor source"),
    Column("version", "Source version"),
)
TABLES: tuple[tuple[str, str, int, tuple[Column, ...]], ...] = (
    ("Energy", "energy", ENERGY_ROWS, ENERGY_COLUMNS),
    ("Outputs", "output", OUTPUT_ROWS, OUTPUT_COLUMNS),
    ("Materials", "material", MATERIAL_ROWS, MATERIAL_COLUMNS),
)


def _number(
    fields: Mapping[str, str], name: str, where: Where, *, default: float | None = None
) -> float:
    text = (fields.get(name) or "").strip().replace(",", "")
    if not text:
        if default is not None:
            return default
        raise InputError("a number is missing", record=where(name), hint="fill in this value")
    try:
        value = float(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a number", record=where(name), hint="write a plain number, e.g. 2400"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise InputError(
            f"{text} is not a non-negative number", record=where(name), hint="write 0 or more"
        )
    return value


def _date(fields: Mapping[str, str], name: str, where: Where) -> datetime:
    text = (fields.get(name) or "").strip()[:10]
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a date", record=where(name), hint="write YYYY-MM-DD, e.g. 2025-01-01"
        ) from None
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _text(fields: Mapping[str, str], name: str) -> str:
    return (fields.get(name) or "").strip()


def submission_from_fields(
    fields: Mapping[str, str], where: Where, *, key: str | None = None
) -> ActivitySubmission:
    """The activity submission the named fields describe (see the module docstring for units).

    The product's key (its name in the allocation record) is ``key``, else the product name.
    """
    name = _text(fields, "product_name")
    if not name:
        raise InputError(
            "the product name is empty", record=where("product_name"), hint="name the product"
        )
    key = key or name
    ids = tuple(part for part in _text(fields, "product_ids").replace(",", " ").split() if part)
    for urn in ids:
        if not urn.lower().startswith("urn:"):
            raise InputError(
                f"{urn!r} is not a URN",
                record=where("product_ids"),
                hint="write ids such as urn:pact:company.example:product-id:ABC-1",
            )
    if not ids:
        raise InputError(
            "no product id",
            record=where("product_ids"),
            hint="give the URN your customer asked for",
        )
    unit_text = _text(fields, "declared_unit") or DeclaredUnit.KILOGRAM.value
    try:
        unit = DeclaredUnit(unit_text.lower())
    except ValueError:
        raise InputError(
            f"{unit_text!r} is not a declared unit",
            record=where("declared_unit"),
            hint="write kilogram or piece",
        ) from None
    mass_per_unit = _number(fields, "mass_per_unit", where, default=1.0)
    if mass_per_unit <= 0:
        raise InputError(
            "the mass per declared unit is 0",
            record=where("mass_per_unit"),
            hint="write the kg of one declared unit (1 for kilogram)",
        )
    hs = _text(fields, "hs_code")
    try:
        classifications = (hs_code_urn(hs),) if hs else ()
    except InputError as exc:
        raise InputError(exc.message, record=where("hs_code"), hint=exc.hint) from None
    start = _date(fields, "period_start", where)
    end = _date(fields, "period_end", where)
    if end <= start:
        raise InputError(
            "the reference period ends before it starts",
            record=where("period_end"),
            hint="the end is the day after the last day, e.g. 2026-01-01 for the year 2025",
        )
    fossil = _number(fields, "site_fossil_t", where, default=0.0) * KG_PER_T
    biogenic = _number(fields, "site_biogenic_t", where, default=0.0) * KG_PER_T
    for i in range(ENERGY_ROWS):
        prefix = f"energy_{i}_"
        # The kind has a default (a form's select always sends one): it alone is no row.
        if not any(_text(fields, prefix + c.key) for c in ENERGY_COLUMNS if c.key != "kind"):
            continue
        emitted = _number(fields, prefix + "amount", where) * _number(
            fields, prefix + "factor", where
        )
        kind = (_text(fields, prefix + "kind") or "fossil").lower()
        if kind == "fossil":
            fossil += emitted
        elif kind.startswith("biogenic"):
            biogenic += emitted
        else:
            raise InputError(
                f"{kind!r} is neither fossil nor biogenic",
                record=where(prefix + "kind"),
                hint="write fossil, or biogenic for the non-CO2 emissions of biomass",
            )
    if fossil + biogenic <= 0:
        raise InputError(
            "the site has no emissions",
            record=where("site_fossil_t"),
            hint="enter the site's emissions in t CO2e, or energy amounts with their factors",
        )
    rule_text = (_text(fields, "rule") or "mass").lower()
    if rule_text not in ("mass", "economic"):
        raise InputError(
            f"{rule_text!r} is not an allocation rule",
            record=where("rule"),
            hint="write mass or economic",
        )
    rule = AllocationRule(rule_text)
    outputs = []
    for i in range(OUTPUT_ROWS):
        prefix = f"output_{i}_"
        if i and not any(_text(fields, prefix + c.key) for c in OUTPUT_COLUMNS):
            continue
        mass_kg = _number(fields, prefix + "mass_t", where) * KG_PER_T
        if mass_kg <= 0:
            raise InputError(
                "the output is 0", record=where(prefix + "mass_t"), hint="write the t made"
            )
        revenue = (
            _number(fields, prefix + "revenue", where)
            if rule is AllocationRule.ECONOMIC or _text(fields, prefix + "revenue")
            else None
        )
        label = key if i == 0 else (_text(fields, prefix + "name") or f"co-product {i}")
        outputs.append(
            CoProductOutput(label, quantity=mass_kg / mass_per_unit, mass=mass_kg, revenue=revenue)
        )
    materials = []
    for i in range(MATERIAL_ROWS):
        prefix = f"material_{i}_"
        if not any(_text(fields, prefix + c.key) for c in MATERIAL_COLUMNS):
            continue
        material = _text(fields, prefix + "name")
        source = _text(fields, prefix + "source")
        if not material or not source:
            missing = prefix + ("name" if not material else "source")
            raise InputError(
                "a material needs its name and the source of its factor",
                record=where(missing),
                hint="fill in the name and the factor's source, or clear the whole row",
            )
        materials.append(
            MaterialLine(
                name=material,
                quantity=_number(fields, prefix + "quantity", where),
                unit=_text(fields, prefix + "unit") or "kg",
                factor=_number(fields, prefix + "factor", where),
                source=source,
                version=_text(fields, prefix + "version") or "-",
            )
        )
    geography = _text(fields, "geography").upper() or None
    return ActivitySubmission(
        product=Product(
            key=key,
            name=name,
            declared_unit=unit,
            mass_per_declared_unit=mass_per_unit,
            identifiers=ids,
            classifications=classifications,
            description=name,
        ),
        reference_period_start=start,
        reference_period_end=end,
        site_emissions=EmissionProfile(fossil=fossil, biogenic_non_co2=biogenic),
        outputs=tuple(outputs),
        materials=tuple(materials),
        rule=rule,
        geography=geography,
    )


# the spreadsheet -------------------------------------------------------------------------------
HEADING = Font(bold=True)
FILL = PatternFill("solid", fgColor="E8F1EC")


def template_workbook(prefill: Mapping[str, str] | None = None) -> bytes:
    """The XLSX template: a Product sheet of label/value rows and three table sheets."""
    prefill = prefill or {}
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Product"
    sheet.append(["Field", "Value", "Field id"])
    for cell in sheet[1]:
        cell.font, cell.fill = HEADING, FILL
    for name, label in PRODUCT_FIELDS:
        sheet.append([label, prefill.get(name, ""), name])
    sheet.column_dimensions["A"].width = 58
    sheet.column_dimensions["B"].width = 52
    sheet.column_dimensions["C"].width = 16
    for title, prefix, rows, columns in TABLES:
        table = book.create_sheet(title)
        table.append([c.heading for c in columns])
        for cell in table[1]:
            cell.font, cell.fill = HEADING, FILL
        for i in range(rows):
            table.append([prefill.get(f"{prefix}_{i}_{c.key}", "") for c in columns])
        for index, _column in enumerate(columns, start=1):
            table.column_dimensions[get_column_letter(index)].width = 30
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PORTAL_LIMITS = WorkbookLimits(max_uncompressed_bytes=20 * MB, max_rows=5_000, max_cells=100_000)
"""The filled template has a few dozen rows; anything far larger is not the template."""
TEMPLATE_ONLY = "upload the filled template from this page, without added rows or sheets"


def fields_from_workbook(
    content: bytes, limits: WorkbookLimits = PORTAL_LIMITS
) -> tuple[dict[str, str], dict[str, str]]:
    """The named fields of a filled template and, for each, where it sits (sheet, row, cell).

    The archive's declared sizes are checked before it is opened and the sheets are read row
    by row within ``limits``: a crafted workbook is refused after reading little of it.
    """
    try:
        check_workbook_archive(content, limits, name="the uploaded workbook")
    except WorkbookTooLargeError as exc:
        raise SheetError(exc.message, hint=TEMPLATE_ONLY) from exc
    try:
        book = load_workbook(io.BytesIO(content), data_only=True, read_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not XLSX
        raise SheetError(
            "the file is not an XLSX workbook",
            hint="download the template from this page, fill it in and upload it as .xlsx",
        ) from exc
    try:
        return _fields_of(book, RowBudget(limits, "the uploaded workbook"))
    except WorkbookTooLargeError as exc:
        raise SheetError(exc.message, hint=TEMPLATE_ONLY) from exc
    except InputError:
        raise
    except Exception as exc:  # a part that is not the XML it claims to be
        raise SheetError(
            f"the workbook cannot be read: {exc}",
            hint="download the template from this page, fill it in and upload it as .xlsx",
        ) from exc
    finally:
        book.close()


def _rows(book: Any, title: str, budget: RowBudget) -> Iterator[tuple[object, ...]]:
    """The rows of a sheet after its heading, counted against the budget."""
    sheet = book[title]
    try:
        declared = sheet.max_row
    except (TypeError, ValueError):
        declared = None
    budget.check_declared(title, declared)
    for row in sheet.iter_rows(min_row=2, values_only=True):
        budget.take(title, len(row))
        yield row


def _fields_of(book: Any, budget: RowBudget) -> tuple[dict[str, str], dict[str, str]]:
    fields: dict[str, str] = {}
    where: dict[str, str] = {}
    names = set(book.sheetnames)
    for needed in ("Product", *(t[0] for t in TABLES)):
        if needed not in names:
            raise SheetError(
                f"the workbook has no sheet {needed!r}",
                hint="use the template from this page without renaming its sheets",
            )
    known = dict(PRODUCT_FIELDS)
    for row_number, row in enumerate(_rows(book, "Product", budget), 2):
        name = str(row[2]).strip() if len(row) > 2 and row[2] is not None else ""
        if name in known:
            fields[name] = _cell_text(row[1] if len(row) > 1 else None)
            where[name] = f"sheet Product, row {row_number}, cell B{row_number}"
    for title, prefix, rows, columns in TABLES:
        sheet_rows = _rows(book, title, budget)
        for i in range(rows):
            values = next(sheet_rows, ())
            for index, column in enumerate(columns):
                field = f"{prefix}_{i}_{column.key}"
                fields[field] = _cell_text(values[index] if index < len(values) else None)
                letter = get_column_letter(index + 1)
                where[field] = f"sheet {title}, row {i + 2}, cell {letter}{i + 2}"
        if any(any(v not in (None, "") for v in row) for row in sheet_rows):
            raise SheetError(
                f"sheet {title} has more than {rows} rows of data",
                record=f"sheet {title}, row {rows + 2}",
                hint=f"combine lines so that at most {rows} remain",
            )
    return fields, where


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
