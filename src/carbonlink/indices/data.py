"""Indicator data: a units × indicators table from CSV/XLSX/Parquet or COINr's iData/iMeta pair.

The table has one row per unit (per unit and year for panel data) with `uCode`, optional
`uName` and `Time`, group and denominator columns, and one column per indicator code — COINr's
`iData` layout, so COINr users bring their data as is. `spec_from_coinr_meta` turns COINr's
`iMeta` table into an `IndexSpec` framework.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from carbonlink.indices.errors import IndexDataError, IndexSpecError
from carbonlink.indices.spec import IndexSpec, spec_from_dict

__all__ = ["IndicatorData", "read_table", "spec_from_coinr_meta"]

UNIT_COL = "uCode"
NAME_COL = "uName"
TIME_COL = "Time"


@dataclass(frozen=True)
class IndicatorData:
    """Indicator data in COINr's iData layout (a pandas frame), with its origin for messages."""

    frame: pd.DataFrame
    source: str = ""

    @property
    def is_panel(self) -> bool:
        """Whether the table holds several years per unit."""
        return TIME_COL in self.frame.columns and self.frame[TIME_COL].nunique() > 1

    def check_against(self, spec: IndexSpec) -> None:
        """Raise `IndexDataError` unless every indicator and denominator column is present."""
        cols = set(self.frame.columns)
        if UNIT_COL not in cols:
            raise IndexDataError(
                "no uCode column", file=self.source, hint="name the unit-code column uCode"
            )
        needed = [i.code for i in spec.indicators]
        needed += [i.denominator for i in spec.indicators if i.denominator]
        missing = [c for c in needed if c not in cols]
        if missing:
            raise IndexDataError(
                f"columns missing from the data: {missing}",
                file=self.source,
                hint="the data need one column per indicator code of the spec",
            )
        for c in needed:
            if not pd.api.types.is_numeric_dtype(self.frame[c]):
                raise IndexDataError(f"column {c} is not numeric", file=self.source)
        keys = [UNIT_COL, TIME_COL] if TIME_COL in cols else [UNIT_COL]
        dup = self.frame.duplicated(keys)
        if dup.any():
            raise IndexDataError(
                f"duplicate rows for {self.frame.loc[dup, UNIT_COL].tolist()[:5]}",
                file=self.source,
            )


def read_table(path: Path, sheet: str | None = None) -> IndicatorData:
    """Read a CSV, XLSX or Parquet table (XLSX: sheet `iData` if present, else the first).

    Parquet is read with pandas through pyarrow; column types come from the file.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path, comment="#")
        elif suffix in (".xlsx", ".xlsm"):
            with pd.ExcelFile(path, engine="openpyxl") as book:
                names = [str(n) for n in book.sheet_names]
                frame = pd.read_excel(
                    book, sheet_name=sheet or ("iData" if "iData" in names else names[0])
                )
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raise IndexDataError(
                f"unsupported file type {suffix!r}",
                file=str(path),
                hint="use .csv, .xlsx or .parquet",
            )
    except (OSError, ValueError, ImportError) as exc:
        if isinstance(exc, IndexDataError):
            raise
        raise IndexDataError(f"cannot read the table: {exc}", file=str(path)) from exc
    if UNIT_COL in frame.columns:
        frame[UNIT_COL] = frame[UNIT_COL].astype(str)
    return IndicatorData(frame=frame, source=str(path))


def spec_from_coinr_meta(
    imeta: pd.DataFrame, name: str, steps: dict[str, Any] | None = None
) -> IndexSpec:
    """Build a spec from COINr's iMeta (iCode, iName, Level, Parent, Direction, Weight, Type).

    Rows of Type `Indicator` become indicators, `Aggregate` the framework; `Unit`, `Target`,
    `Denominator` and COINr's `goalpost_lower`/`goalpost_upper` columns are used when present.
    Group, Denominator and Other rows only describe data columns and are not in the framework.
    """
    need = {"iCode", "Level", "Parent", "Direction", "Weight", "Type"}
    missing = need - set(imeta.columns)
    if missing:
        raise IndexSpecError(f"iMeta lacks columns {sorted(missing)}")

    def text(row: pd.Series, col: str) -> str:
        v = row.get(col)
        return "" if v is None or bool(pd.isna(v)) else str(v)

    framework: list[dict[str, Any]] = []
    indicators: list[dict[str, Any]] = []
    stated_level: dict[str, int] = {}
    for _, row in imeta.iterrows():
        kind = str(row["Type"])
        parent = text(row, "Parent") or None
        if kind not in ("Indicator", "Aggregate"):
            continue
        code = str(row["iCode"])
        try:
            weight = float(row["Weight"])
            stated_level[code] = int(row["Level"])
        except (TypeError, ValueError) as exc:
            raise IndexSpecError(
                f"iMeta row {code}: Weight and Level must be numbers ({exc})",
                hint="COINr needs a weight and a level for every indicator and aggregate",
            ) from exc
        if pd.isna(weight):
            raise IndexSpecError(
                f"iMeta row {code}: the Weight is blank",
                hint="give every indicator and aggregate a weight (1 for equal weights)",
            )
        if kind == "Indicator":
            item: dict[str, Any] = {
                "code": str(row["iCode"]),
                "name": text(row, "iName"),
                "parent": parent,
                "direction": int(row["Direction"]),
                "unit": text(row, "Unit"),
                "weight": weight,
            }
            if "Target" in imeta.columns and not pd.isna(row["Target"]):
                item["target"] = float(row["Target"])
            if {"goalpost_lower", "goalpost_upper"} <= set(imeta.columns) and not (
                pd.isna(row["goalpost_lower"]) or pd.isna(row["goalpost_upper"])
            ):
                item["goalposts"] = (float(row["goalpost_lower"]), float(row["goalpost_upper"]))
            if text(row, "Denominator"):
                item["denominator"] = text(row, "Denominator")
            indicators.append(item)
        elif kind == "Aggregate":
            framework.append(
                {"code": str(row["iCode"]), "name": text(row, "iName"), "parent": parent}
                | {"weight": weight}
            )
    spec = spec_from_dict(
        {"name": name, "framework": framework, "indicators": indicators, "steps": steps or {}},
        source="iMeta",
    )
    for code, level in spec.levels().items():
        if stated_level[code] != level:
            raise IndexSpecError(
                f"iMeta row {code}: Level is {stated_level[code]}, but its place in the tree "
                f"(Parent column) puts it at level {level}",
                hint="correct the Level or the Parent column",
            )
    return spec
