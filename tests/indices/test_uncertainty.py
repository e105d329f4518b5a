"""Uncertainty and sensitivity analysis: design, estimators, reproducibility, batched = naive."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carbonlink.indices.data import IndicatorData
from carbonlink.indices.errors import IndexSpecError
from carbonlink.indices.spec import UncertaintySpec, spec_from_dict
from carbonlink.indices.uncertainty import cut_index, run_uncertainty, sobol_indices


def test_cut_follows_r_cut_intervals() -> None:
    # R: cut(c(0, .25, .5, .75, 1), 2) → breaks (−0.001, 0.5], (0.5, 1.001]
    np.testing.assert_array_equal(
        cut_index(np.array([0, 0.25, 0.5, 0.75, 1.0]), 2), [0, 0, 0, 1, 1]
    )
    np.testing.assert_array_equal(cut_index(np.array([0.2, 0.9]), 1), [0, 0])


def test_sobol_estimators_by_hand() -> None:
    # N = 2, d = 2, y depends on x1 only: y_AB1 = y_B, y_AB2 = y_A.
    # V = var(1, 3, 2, 4) = 5/3; S1 = mean(2·1, 4·1)/V = 1.8; ST1 = (1 + 1)/(2·2·V) = 0.3.
    y = np.array([1, 3, 2, 4, 2, 4, 1, 3.0])
    si, sti, var = sobol_indices(y, 2, 2)
    assert var == pytest.approx(5 / 3)
    np.testing.assert_allclose(si, [1.8, 0.0])
    np.testing.assert_allclose(sti, [0.3, 0.0])


def _problem() -> tuple:
    rng = np.random.default_rng(3)
    n, k = 25, 6
    frame = pd.DataFrame(rng.lognormal(size=(n, k)) * 10, columns=[f"i{j}" for j in range(k)])
    frame.iloc[2, 1] = np.nan
    frame.insert(0, "uCode", [f"U{i:02d}" for i in range(n)])
    spec = spec_from_dict(
        {
            "name": "ua",
            "framework": [
                {"code": "R"},
                {"code": "G1", "parent": "R"},
                {"code": "G2", "parent": "R", "weight": 2},
            ],
            "indicators": [
                {
                    "code": f"i{j}",
                    "parent": "G1" if j < 3 else "G2",
                    "direction": -1 if j == 4 else 1,
                }
                for j in range(k)
            ],
            "steps": {"impute": {"method": "mean"}, "normalise": {"params": {"l_u": [1, 100]}}},
        }
    )
    analysis = UncertaintySpec.model_validate(
        {
            "type": "SA",
            "n": 24,
            "seed": 11,
            "inputs": [
                {"name": "weights", "kind": "weights", "noise": {1: 0.25, 2: 0.25}, "n_sets": 40},
                {"name": "imputation", "kind": "impute", "options": ["mean", "median"]},
                {
                    "name": "normalisation",
                    "kind": "normalise",
                    "options": [
                        {"method": "minmax", "params": {"l_u": [1, 100]}},
                        {"method": "efficacy"},
                    ],
                },
                {
                    "name": "aggregation",
                    "kind": "aggregate",
                    "options": ["amean", "gmean", "hmean"],
                },
            ],
        }
    )
    return spec, IndicatorData(frame), analysis


def test_seeded_run_is_reproducible_bit_for_bit() -> None:
    spec, data, analysis = _problem()
    a = run_uncertainty(spec, data, analysis)
    b = run_uncertainty(spec, data, analysis)
    assert a.scores.tobytes() == b.scores.tobytes()
    assert a.sensitivity is not None and b.sensitivity is not None
    cols = ["Si", "STi"]
    assert a.sensitivity[cols].to_numpy().tobytes() == b.sensitivity[cols].to_numpy().tobytes()
    other = run_uncertainty(spec, data, analysis.model_copy(update={"seed": 12}))
    assert other.scores.tobytes() != a.scores.tobytes()


def test_batched_equals_rebuilding_each_replication() -> None:
    spec, data, analysis = _problem()
    fast = run_uncertainty(spec, data, analysis)
    slow = run_uncertainty(spec, data, analysis, vectorised=False)
    assert fast.scores.shape == (24 * (4 + 2), 25)
    np.testing.assert_allclose(fast.scores, slow.scores, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(fast.ranks, slow.ranks)
    stats = fast.rank_stats
    assert np.all((stats["Q5"] <= stats["Median"]) & (stats["Median"] <= stats["Q95"]))
    assert fast.sensitivity is not None
    assert list(fast.sensitivity["Variable"]) == [
        "weights",
        "imputation",
        "normalisation",
        "aggregation",
    ]


def test_failed_replications_are_missing_like_coinr() -> None:
    spec, data, analysis = _problem()
    ua = analysis.model_copy(
        update={
            "type": "UA",
            "n": 30,
            "inputs": [
                analysis.inputs[2].model_copy(
                    update={
                        "options": [
                            {"method": "minmax"},
                            {"method": "minmax", "params": {"l_u": [1, 100]}},
                        ]
                    }
                ),
                analysis.inputs[3].model_copy(update={"options": ["gmean"]}),
            ],
        }
    )
    res = run_uncertainty(spec, data, ua)
    rows_nan = np.isnan(res.scores).all(axis=1)
    # min-max to 0–100 has zeros: the geometric mean fails and the replication is missing
    assert rows_nan.any() and (~rows_nan).any()


def test_rank_based_aggregations_batched_equals_naive() -> None:
    spec, data, analysis = _problem()
    ua = analysis.model_copy(
        update={
            "type": "UA",
            "n": 8,
            "inputs": [
                analysis.inputs[0],
                analysis.inputs[3].model_copy(
                    update={"options": ["copeland", "topsis", "mazziotta_pareto", "genmean"]}
                ),
            ],
        }
    )
    fast = run_uncertainty(spec, data, ua)
    slow = run_uncertainty(spec, data, ua, vectorised=False)
    np.testing.assert_allclose(fast.scores, slow.scores, rtol=0, atol=1e-9)


def test_invalid_option_is_a_spec_error() -> None:
    spec, data, analysis = _problem()
    bad = analysis.model_copy(
        update={
            "type": "UA",
            "n": 4,
            "inputs": [analysis.inputs[3].model_copy(update={"options": ["amean", "median"]})],
        }
    )
    with pytest.raises(IndexSpecError, match="median"):
        run_uncertainty(spec, data, bad)
