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
    from_csv = read_table(example_path(EXAMPLE_DATA))
    parquet = tmp_path / "brics_2022.parquet"
    from_csv.frame.to_parquet(parquet, index=False)
    from_parquet = read_table(parquet)
    # The file holds real columns (not a pickled frame): empty cells stay missing.
    assert from_parquet.frame["NET_USERS"].isna().sum() == from_csv.frame["NET_USERS"].isna().sum()
    assert from_parquet.frame["NET_USERS"].isna().any()
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
