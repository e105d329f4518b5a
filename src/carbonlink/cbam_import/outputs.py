"""The declaration written as JSON and as an XLSX workbook (summary, lines, quarters, rules)."""

from __future__ import annotations

import json
from pathlib import Path

from carbonlink.cbam_import.declaration import Declaration

__all__ = ["write_declaration_json", "write_declaration_xlsx"]


def write_declaration_json(declaration: Declaration, out: Path) -> Path:
    """The declaration as JSON."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(declaration.to_dict(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return out


def write_declaration_xlsx(declaration: Declaration, out: Path) -> Path:
    """The declaration as a workbook: Summary, Lines, Quarters and Notes sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    data = declaration.to_dict()
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append([f"CBAM declaration {declaration.year}"])
    summary["A1"].font = Font(bold=True, size=14)
    rows = [
        ("Due (Art. 6(1), 22(1))", data["due_date"]),
        ("Net mass of CBAM goods, t", data["total_mass_t"]),
        ("Threshold, t (Art. 2(3a))", data["threshold_t"]),
        ("Exempt", "yes" if data["exempt"] else "no"),
        ("Embedded emissions, t CO2e", data["embedded_emissions_t"]),
        ("Share from actual values", data["actual_share"]),
        ("Free allocation adjustment, t CO2e (Art. 31)", data["free_allocation_adjustment_t"]),
        ("CBAM factor", data["cbam_factor"]),
        (
            "Carbon price paid, certificates deducted (Art. 9)",
            data["carbon_price_deduction_certificates"],
        ),
        ("Obligation, t CO2e", data["obligation_t"]),
        ("Certificates to surrender (whole)", data["certificates_to_surrender"]),
        ("Cost at entered quarterly prices, EUR", data["cost_at_published_prices_eur"]),
        ("Cost complete (every quarter priced)", "yes" if data["cost_complete"] else "no"),
        ("Projected price, EUR", data["projected_price_eur"]),
        ("Projected cost, EUR", data["projected_cost_eur"]),
    ]
    for label, value in rows:
        summary.append([label, value])
    summary.column_dimensions["A"].width = 52
    summary.column_dimensions["B"].width = 18

    lines = book.create_sheet("Lines")
    columns = list(data["lines"][0]) if data["lines"] else ["key"]
    lines.append(columns)
    for cell in lines[1]:
        cell.font = Font(bold=True)
    for line in data["lines"]:
        lines.append([line[c] for c in columns])

    quarters = book.create_sheet("Quarters")
    q_columns = list(data["quarters"][0]) if data["quarters"] else ["quarter"]
    quarters.append(q_columns)
    for cell in quarters[1]:
        cell.font = Font(bold=True)
    for quarter in data["quarters"]:
        quarters.append([quarter[c] for c in q_columns])

    notes = book.create_sheet("Notes")
    notes.append(["Notes"])
    for note in data["notes"]:
        notes.append([note])
    notes.append([])
    notes.append(["Rule", "Source"])
    notes.append(["CBAM factor", data["cbam_factor_source"]])
    for name, source in data["rules"].items():
        notes.append([name, source])
    out.parent.mkdir(parents=True, exist_ok=True)
    book.save(out)
    return out
