"""Property tests: scores stay in range, ranks are a ranking, weights sum to one."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from carbonlink.indices import methods as m
from carbonlink.indices.data import IndicatorData
from carbonlink.indices.errors import IndexWarning
from carbonlink.indices.pipeline import build
from carbonlink.indices.spec import spec_from_dict

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
tables = arrays(np.float64, st.tuples(st.integers(3, 12), st.integers(2, 6)), elements=values)


def _spec(n_ind: int, method: str) -> dict:
    return {
        "name": "p",
        "framework": [{"code": "R"}, {"code": "G1", "parent": "R"}, {"code": "G2", "parent": "R"}],
        "indicators": [
            {"code": f"i{j}", "parent": "G1" if j % 2 else "G2", "direction": 1 if j % 3 else -1}
            for j in range(n_ind)
        ],
        "steps": {"normalise": {"method": method}, "treat": {}},
    }


@settings(max_examples=60, deadline=None)
@given(tables, st.sampled_from(["minmax", "efficacy", "prank"]))
def test_scores_in_range_and_ranks_are_a_ranking(x: np.ndarray, method: str) -> None:
    n, k = x.shape
    frame = pd.DataFrame(x, columns=[f"i{j}" for j in range(k)])
    frame.insert(0, "uCode", [f"U{i}" for i in range(n)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = build(spec_from_dict(_spec(k, method)), IndicatorData(frame))
    # exactly the indicators that normalise to nothing (constant ones) are warned about
    normalised = res.datasets["Normalised"]
    dropped = {c for c in normalised.columns if c.startswith("i") and normalised[c].isna().all()}
    warned = {str(w.message).split(" ")[0] for w in caught if w.category is IndexWarning}
    assert warned == dropped
    score = res.scores["R"].to_numpy()
    lo, hi = {"minmax": (0, 100), "efficacy": (60, 100), "prank": (0, 1)}[method]
    ok = ~np.isnan(score)
    leaf = res.weights[res.weights["Level"] == 1]["EffWeight"]
    assert abs(leaf.sum() - 1) < 1e-12
    if not ok.any():  # every indicator constant: min-max is undefined (NaN), as in COINr
        return
    assert np.all(score[ok] >= lo - 1e-9)
    assert np.all(score[ok] <= hi + 1e-9)
    ranks = res.ranks["R"].to_numpy()[ok]
    order = np.sort(ranks)
    # ties = "min": sorted ranks never exceed their position, start at 1, stay within n
    assert order[0] == 1
    assert np.all(order <= np.arange(1, order.size + 1))
    if np.unique(score[ok]).size == score[ok].size:
        np.testing.assert_array_equal(order, np.arange(1, order.size + 1))


positive = arrays(
    np.float64,
    st.tuples(st.integers(3, 15), st.integers(2, 6)),
    elements=st.floats(min_value=0.01, max_value=1e4),
)


@settings(max_examples=60, deadline=None)
@given(positive, st.sampled_from([0.0, 0.0001, 0.01]))
def test_objective_weights_sum_to_one(x: np.ndarray, shift: float) -> None:
    rng = x.max(axis=0) - x.min(axis=0)
    if np.any(rng <= 1e-9 * np.abs(x).max(axis=0)):
        return
    dirs = np.where(np.arange(x.shape[1]) % 2, 1.0, -1.0)
    for w in (m.entropy_weights(x, dirs, shift), m.cv_weights(x)):
        assert abs(w.sum() - 1) < 1e-12
        assert np.all(w >= -1e-12)


@settings(max_examples=60, deadline=None)
@given(positive, st.integers(0, 10))
def test_means_lie_between_min_and_max(x: np.ndarray, seed: int) -> None:
    w = np.random.default_rng(seed).random(x.shape[1]) + 0.1
    lo, hi = x.min(axis=1) - 1e-9, x.max(axis=1) + 1e-9
    for y in (m.amean(x, w), m.gmean(x, w), m.hmean(x, w), m.genmean(x, w, 3.0)):
        assert np.all((y >= lo * (1 - 1e-12)) & (y <= hi * (1 + 1e-12)))
    # Power-mean inequality: harmonic ≤ geometric ≤ arithmetic.
    assert np.all(m.hmean(x, w) <= m.gmean(x, w) * (1 + 1e-12))
    assert np.all(m.gmean(x, w) <= m.amean(x, w) * (1 + 1e-12))
