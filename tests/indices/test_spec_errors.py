"""What COINr refuses or warns about is refused or warned about here, by name, never a traceback."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

from carbonlink.indices.data import IndicatorData, spec_from_coinr_meta
from carbonlink.indices.errors import IndexSpecError, IndexWarning
from carbonlink.indices.pipeline import build
from carbonlink.indices.spec import spec_from_dict

SPEC = {
    "name": "toy",
    "framework": [
        {"code": "IDX"},
        {"code": "A", "parent": "IDX"},
        {"code": "B", "parent": "IDX"},
    ],
    "indicators": [
        {"code": "a1", "parent": "A"},
        {"code": "a2", "parent": "A"},
        {"code": "b1", "parent": "B"},
    ],
}
DATA = pd.DataFrame(
    {"uCode": ["U1", "U2", "U3"], "a1": [1.0, 2.0, 3.0], "a2": [3.0, 1.0, 2.0], "b1": [5.0, 6, 9]}
)


def _spec(**changes: object) -> dict[str, object]:
    spec = copy.deepcopy(SPEC)
    for path, value in changes.items():
        kind, code, field = path.split("__")
        item = next(i for i in spec[kind] if i["code"] == code)  # type: ignore[attr-defined]
        item[field] = value
    return spec


def test_weights_of_siblings_summing_to_zero_are_refused_by_parent() -> None:
    with pytest.raises(IndexSpecError, match="children of A sum to zero"):
        spec_from_dict(_spec(indicators__a1__weight=0, indicators__a2__weight=0))


def test_data_driven_weights_of_zero_are_refused_by_parent() -> None:
    spec = spec_from_dict(SPEC)
    with pytest.raises(IndexSpecError, match="children of A sum to zero"):
        build(spec, IndicatorData(DATA), weights={"a1": 0.0, "a2": 0.0})


def test_a_cycle_in_the_hierarchy_is_named() -> None:
    spec = _spec(framework__A__parent="B", framework__B__parent="A")
    spec["framework"].append({"code": "C", "parent": "IDX"})  # type: ignore[attr-defined]
    spec["indicators"].append({"code": "c1", "parent": "C"})  # type: ignore[attr-defined]
    with pytest.raises(IndexSpecError, match=r"cycle of parents: (A → B → A|B → A → B)"):
        spec_from_dict(spec)


def test_a_negative_weight_is_warned_about() -> None:
    with pytest.warns(IndexWarning, match="a2 has a negative weight"):
        spec_from_dict(_spec(indicators__a2__weight=-0.5))


def test_a_constant_indicator_is_warned_about_and_drops_out() -> None:
    constant = DATA.assign(b1=7.0)
    with pytest.warns(IndexWarning, match="b1 normalises to no value"):
        result = build(spec_from_dict(SPEC), IndicatorData(constant))
    assert np.isnan(result.scores["B"]).all()


def _imeta(weights: list[float], levels: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "iCode": ["a1", "a2", "A", "Index"],
            "Level": levels,
            "Parent": ["A", "A", "Index", np.nan],
            "Direction": [1, 1, 1, 1],
            "Weight": weights,
            "Type": ["Indicator", "Indicator", "Aggregate", "Aggregate"],
        }
    )


def test_imeta_with_a_blank_weight_is_refused_by_row() -> None:
    spec_from_coinr_meta(_imeta([1, 1, 1, 1], [1, 1, 2, 3]), "ok")
    with pytest.raises(IndexSpecError, match="iMeta row a2: the Weight is blank"):
        spec_from_coinr_meta(_imeta([1, np.nan, 1, 1], [1, 1, 2, 3]), "blank")


def test_imeta_level_that_contradicts_the_tree_is_refused_by_row() -> None:
    with pytest.raises(IndexSpecError, match="iMeta row A: Level is 3"):
        spec_from_coinr_meta(_imeta([1, 1, 1, 1], [1, 1, 3, 3]), "levels")
