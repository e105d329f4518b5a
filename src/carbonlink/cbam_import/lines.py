"""Customs declaration lines of CBAM goods, read from CSV or XLSX.

Each line is one customs declaration item released for free circulation: its declaration
reference and item, the date of release, the CN code (8 digits), the net mass in tonnes, the
country of origin, the installation that produced the goods and its supplier. A line that cannot
be read is not dropped: it is returned as a :class:`QuarantinedLine` with the row, the column and
what to do, and stored beside the good lines.
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from carbonlink.errors import InputError

__all__ = [
    "COLUMNS",
    "CustomsLine",
    "QuarantinedLine",
    "ReadLines",
    "read_lines",
]

COLUMNS = (
    "declaration",
    "item",
    "date",
    "cn_code",
    "net_mass_t",
    "country",
    "installation_id",
    "supplier",
)
"""Required columns; ``route`` (BF-BOF, DRI-EAF, Scrap-EAF) and ``procedure`` are optional."""
OPTIONAL = ("route", "procedure")
_CN = re.compile(r"^\d{8}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True)
class CustomsLine:
    """One customs declaration item of CBAM goods."""

    declaration: str
    item: int
    released: date
    cn_code: str
    net_mass_t: float
    country: str
    installation_id: str
    supplier: str
    route: str = ""
    procedure: str = "40"

    @property
    def key(self) -> str:
        """The natural key: declaration reference and item number."""
        return f"{self.declaration}/{self.item}"

    @property
    def year(self) -> int:
        return self.released.year

    @property
    def quarter(self) -> int:
        return (self.released.month - 1) // 3 + 1


@dataclass(frozen=True)
class QuarantinedLine:
    """A row that could not be read, kept with the reason and the raw values."""

    row: int
    raw: dict[str, str]
    reason: str

    @property
    def key(self) -> str:
        declaration = self.raw.get("declaration", "").strip()
        item = self.raw.get("item", "").strip()
        return f"{declaration}/{item}" if declaration and item else f"row {self.row}"


@dataclass(frozen=True)
class ReadLines:
    """What a file gave: the good lines and the quarantined rows."""

    source: str
    lines: tuple[CustomsLine, ...]
    quarantined: tuple[QuarantinedLine, ...]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _parse(raw: dict[str, str]) -> CustomsLine:
    """One row to a line; raises ``ValueError`` naming the column and what to write instead."""
    missing = [c for c in COLUMNS if not raw.get(c, "").strip()]
    if missing:
        raise ValueError(
            f"empty column(s) {', '.join(missing)}: every required column needs a value"
        )
    cn_code = raw["cn_code"].replace(" ", "")
    if not _CN.match(cn_code):
        raise ValueError(f"cn_code {raw['cn_code']!r} is not an 8-digit CN code (e.g. 72083900)")
    country = raw["country"].strip().upper()
    if not _COUNTRY.match(country):
        raise ValueError(f"country {raw['country']!r} is not an ISO 3166 two-letter code (e.g. CN)")
    try:
        mass = float(raw["net_mass_t"].replace(",", ""))
    except ValueError:
        raise ValueError(f"net_mass_t {raw['net_mass_t']!r} is not a number of tonnes") from None
    if not math.isfinite(mass) or mass <= 0:
        raise ValueError(f"net_mass_t {raw['net_mass_t']!r} must be a positive number of tonnes")
    try:
        released = date.fromisoformat(raw["date"].strip()[:10])
    except ValueError:
        raise ValueError(f"date {raw['date']!r} is not a date (YYYY-MM-DD)") from None
    try:
        item = int(raw["item"])
    except ValueError:
        raise ValueError(f"item {raw['item']!r} is not a whole number") from None
    return CustomsLine(
        declaration=raw["declaration"].strip(),
        item=item,
        released=released,
        cn_code=cn_code,
        net_mass_t=mass,
        country=country,
        installation_id=raw["installation_id"].strip(),
        supplier=raw["supplier"].strip(),
        route=raw.get("route", "").strip(),
        procedure=raw.get("procedure", "").strip() or "40",
    )


def _records(path: Path) -> list[dict[str, str]]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text = path.read_text(encoding="utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        header = [h.strip() for h in reader.fieldnames or []]
        rows = [{k.strip(): (v or "").strip() for k, v in r.items() if k} for r in reader]
    elif suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise InputError(
                f"cannot read the workbook: {exc}", file=str(path), hint="save it again as .xlsx"
            ) from exc
        sheet = book.worksheets[0]
        values = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
        book.close()
        header = values[0] if values else []
        rows = [dict(zip(header, row, strict=False)) for row in values[1:] if any(v for v in row)]
    else:
        raise InputError(
            f"unknown file kind {suffix or '(none)'}",
            file=str(path),
            hint="give a .csv or .xlsx file of customs lines",
        )
    absent = [c for c in COLUMNS if c not in header]
    if absent:
        raise InputError(
            f"missing column(s) {', '.join(absent)}",
            file=str(path),
            hint="the first row must name the columns " + ", ".join(COLUMNS),
        )
    return rows


def read_lines(path: Path) -> ReadLines:
    """Read a CSV or XLSX file of customs lines; bad rows are quarantined, none dropped.

    A repeated declaration item inside one file is quarantined too (the first one counts).
    """
    good: list[CustomsLine] = []
    bad: list[QuarantinedLine] = []
    seen: set[str] = set()
    for number, raw in enumerate(_records(path), start=2):
        try:
            line = _parse(raw)
        except ValueError as exc:
            bad.append(QuarantinedLine(number, raw, str(exc)))
            continue
        if line.key in seen:
            bad.append(
                QuarantinedLine(
                    number, raw, f"declaration item {line.key} appears twice in this file"
                )
            )
            continue
        seen.add(line.key)
        good.append(line)
    return ReadLines(path.name, tuple(good), tuple(bad))
