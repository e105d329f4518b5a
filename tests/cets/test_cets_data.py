"""Every shipped national-ETS data row says where it comes from and how sure it is."""

from __future__ import annotations

import csv
from importlib import resources

import pytest


@pytest.mark.parametrize(
    ("name", "year_column"),
    [
        ("calendar_rules.csv", "year"),
        ("carbon_ncv_bands.csv", "year"),
        ("steel_allocation.csv", "year_published"),
    ],
)
def test_rows_are_cited(name: str, year_column: str) -> None:
    text = resources.files("carbonlink.data").joinpath(f"cets/{name}").read_text("utf-8")
    rows = list(csv.DictReader(text.splitlines()))
    assert rows
    for row in rows:
        assert None not in row, f"{name}: a row has more cells than the header"
        for column in ("source", "table", "licence"):
            assert row[column].strip(), f"{name}: {column} empty in {row}"
        assert 2000 < int(row[year_column]) < 2100
        status = row.get("check") or row.get("status") or ""
        assert status.split(":")[0] in {"confirmed-secondary", "unconfirmed"}, row
