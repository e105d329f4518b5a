"""The shape every report document shares: plain, JSON-ready dicts of facts and tables.

A builder returns a *document*; renderers (HTML, PDF, XLSX, JSON) only read it. Keeping the
numbers in one place is what makes the four formats agree. The layout (documented in
docs/reports.md):

``{"schema", "report", "title", "subtitle", "organization", "period", "gwp_set", "unit",
"facts": [{"key", "label", "value", "unit"}], "tables": {name: table}, "notes": [str], …}``

A table is ``{"title", "columns": [{"key", "label", "unit", "kind", "digits"}], "rows": [{key:
value}], "total": {key: value} | None, "note": str}``; ``kind`` is ``number`` or ``text`` and
numbers stay numbers (never pre-formatted strings).
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

__all__ = ["Column", "fact", "subject_name_zh", "table"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a report table: its key in the rows, its heading and unit."""

    key: str
    label: str
    unit: str = ""
    kind: Literal["text", "number"] = "text"
    digits: int = 3
    """Decimals shown; −1 for as many as the value needs (factors)."""


def num(key: str, label: str, unit: str = "t CO2e", digits: int = 3) -> Column:
    """A numeric column (t CO2e with three decimals unless told)."""
    return Column(key, label, unit, "number", digits)


def table(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[dict[str, Any]],
    *,
    total: dict[str, Any] | None = None,
    note: str = "",
) -> dict[str, Any]:
    """A table as the document stores it; every row has every column's key (None if absent).

    Rows may carry more keys than there are columns (ids for machines); renderers show columns.
    """
    keys = [c.key for c in columns]
    return {
        "title": title,
        "columns": [asdict(c) for c in columns],
        "rows": [dict.fromkeys(keys) | row for row in rows],
        "total": None if total is None else {k: total.get(k) for k in keys},
        "note": note,
    }


def fact(key: str, label: str, value: Any, unit: str = "") -> dict[str, Any]:
    """A single headline figure or statement of a report."""
    return {"key": key, "label": label, "value": value, "unit": unit}


@lru_cache(maxsize=1)
def _names_zh() -> dict[str, str]:
    data = resources.files("carbonlink.data")
    names: dict[str, str] = {}
    for row in csv.DictReader(data.joinpath("fuels.csv").read_text("utf-8").splitlines()):
        chinese = [a for a in row["aliases"].split(";") if a and not a.isascii()]
        if chinese:
            names[row["fuel"]] = chinese[0]
    for row in csv.DictReader(data.joinpath("names_zh.csv").read_text("utf-8").splitlines()):
        names[row["subject"]] = row["zh"]
    return names


def subject_name_zh(subject: str) -> str:
    """The Chinese name of a fuel, material or product (the id itself when none is known)."""
    return _names_zh().get(subject, subject)
