"""Indicator data read from Parquet build the same index as the same table read from CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carbonlink.indices.data import read_table
from carbonlink.indices.errors import IndexDataError
from carbonlink.indices.examples import EXAMPLE_DATA, example_path
from carbonlink.indices.pipeline import build
from carbonlink.indices.spec import load_spec


def test_parquet_table_builds_the_same_index_as_csv(tmp_path: Path) -> None:
    shipped = read_table(example_path(EXAMPLE_DATA)).frame
    # One empty cell, so that the imputation step has work and a missing value must survive.
    table = shipped.assign(NET_USERS=shipped["NET_USERS"].where(shipped["uCode"] != "IND"))
    csv, parquet = tmp_path / "brics.csv", tmp_path / "brics.parquet"
    table.to_csv(csv, index=False)
    table.to_parquet(parquet, index=False)
    from_csv, from_parquet = read_table(csv), read_table(parquet)
    assert from_parquet.frame["NET_USERS"].isna().tolist() == [
        code == "IND" for code in from_parquet.frame["uCode"]
    ]
    assert from_parquet.frame["uCode"].tolist() == from_csv.frame["uCode"].tolist()
    for name in ("brics_iidi.yaml", "digital_manufacturing.yaml"):
        spec = load_spec(example_path(name))
        a, b = build(spec, from_csv), build(spec, from_parquet)
        assert a.spec_hash == b.spec_hash
        pd.testing.assert_frame_equal(a.index_table(), b.index_table())
        for step in a.datasets:
            np.testing.assert_allclose(
                a.datasets[step].to_numpy(float), b.datasets[step].to_numpy(float), equal_nan=True
            )


def test_parquet_unit_codes_are_text(tmp_path: Path) -> None:
    path = tmp_path / "numeric-codes.parquet"
    pd.DataFrame({"uCode": [101, 102], "x": [1.0, 2.0]}).to_parquet(path, index=False)
    assert read_table(path).frame["uCode"].tolist() == ["101", "102"]


def test_damaged_parquet_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "damaged.parquet"
    path.write_bytes(b"PAR1 not really a parquet file")
    with pytest.raises(IndexDataError, match="cannot read the table") as caught:
        read_table(path)
    assert caught.value.file == str(path)
