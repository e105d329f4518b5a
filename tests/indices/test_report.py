"""Output files of an index build: the workbook agrees with the CSVs, the charts with the ranks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import load_workbook

from carbonlink.indices.data import IndicatorData
from carbonlink.indices.pipeline import build
from carbonlink.indices.report import svg_profile, write_outputs
from carbonlink.indices.spec import spec_from_dict

SPEC = {
    "name": "toy",
    "framework": [{"code": "IDX"}, {"code": "A", "parent": "IDX"}, {"code": "B", "parent": "IDX"}],
    "indicators": [
        {"code": "a1", "parent": "A"},
        {"code": "a2", "parent": "A"},
        {"code": "b1", "parent": "B"},
    ],
}
DATA = pd.DataFrame(
    {
        "uCode": ["U1", "U2", "U3"],
        "uName": ["One", "Two", "Three"],
        "a1": [1.0, 2.0, 3.0],
        "a2": [30.0, np.nan, 10.0],  # no imputation: stays missing
        "b1": [5.0, 20.0, 10.0],
    }
)


def test_workbook_sheets_hold_what_the_csv_files_hold(tmp_path: Path) -> None:
    result = build(spec_from_dict(SPEC), IndicatorData(DATA))
    paths = write_outputs(result, tmp_path)
    book = load_workbook(paths["xlsx"])
    about = {row[0]: row[1] for row in book["About"].iter_rows(min_row=2, values_only=True)}
    assert about["index"] == "toy" and about["units"] == 3 and about["indicators"] == 3
    for csv in sorted(paths["csv"].glob("*.csv")):
        sheet = book[csv.stem[:31]]
        expected = pd.read_csv(csv)
        header = [cell.value for cell in sheet[1]]
        assert header == list(expected.columns), csv.stem
        assert all(cell.font.bold for cell in sheet[1])
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert len(rows) == len(expected), csv.stem
        got = pd.DataFrame(rows, columns=header, dtype=object)
        for column in expected.columns:
            want = expected[column].tolist()
            have = got[column].tolist()
            for w, h in zip(want, have, strict=True):
                if pd.isna(w):
                    assert h is None, (csv.stem, column)  # missing stays an empty cell
                elif isinstance(w, float):
                    assert h is not None and abs(float(h) - w) <= 1e-9 * max(1.0, abs(w))
                else:
                    assert str(h) == str(w), (csv.stem, column)
    raw = book["Data_Raw"]
    a2 = [cell.value for cell in raw[1]].index("a2")
    assert [row[a2] for row in raw.iter_rows(min_row=2, values_only=True)] == [30, None, 10]


def test_profile_charts_show_each_units_ranks(tmp_path: Path) -> None:
    result = build(spec_from_dict(SPEC), IndicatorData(DATA))
    html = write_outputs(result, tmp_path)["html"].read_text("utf-8")
    ranks = result.ranks
    for unit in ("U1", "U2", "U3"):
        chart = svg_profile(result, unit)
        assert chart in html
        for code in ("a1", "b1"):
            assert f"(rank {int(ranks.loc[unit, code])})" in chart
    # U2 has no a2: drawn grey, labelled n/a.
    assert 'fill="#ccc"/>' in svg_profile(result, "U2") and "n/a" in svg_profile(result, "U2")
    # b1 = 5, 20, 10: U2 first (green), U1 last (red).
    assert "(rank 1)" in svg_profile(result, "U2").split("b1</text>")[1]
