"""Hand-worked vectors for each composite-indicator method."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from carbonlink.indices import methods as m
from carbonlink.indices.errors import InconsistentJudgementsError, MethodDomainError

SAATY = {1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12}


# --- skew, kurtosis, outlier treatment ----------------------------------------------------


def test_skew_and_kurtosis_of_a_single_spike() -> None:
    # x = (0,0,0,0,1): Σd² = 0.8, Σd³ = 0.48, Σd⁴ = 0.416 (d = x − 0.2)
    # g1 = √5·0.48/0.8^1.5 = 1.5, G1 = 1.5·√20/3 = √5; r = 5·0.416/0.64 = 3.25,
    # G2 = ((6)(0.25) + 6)(4)/((3)(2)) = 5.
    x = np.array([0, 0, 0, 0, 1.0])
    assert m.skewness(x) == pytest.approx(math.sqrt(5), abs=1e-12)
    assert m.kurtosis(x) == pytest.approx(5.0, abs=1e-12)


def test_skew_and_kurtosis_agree_with_scipy_bias_corrected() -> None:
    y = np.random.default_rng(7).lognormal(size=40)
    assert m.skewness(y) == pytest.approx(stats.skew(y, bias=False), abs=1e-12)
    assert m.kurtosis(y) == pytest.approx(stats.kurtosis(y, bias=False), abs=1e-12)
    y[3] = np.nan
    assert m.skewness(y) == pytest.approx(stats.skew(y[~np.isnan(y)], bias=False), abs=1e-12)


def test_too_few_values_give_nan() -> None:
    assert math.isnan(m.skewness(np.array([1.0, 2.0])))
    assert math.isnan(m.kurtosis(np.array([1.0, 2.0, 4.0])))


def test_winsorise_one_high_outlier() -> None:
    # skew 3.12, kurtosis 9.80 fail; 100 → 9 (the next value down) passes.
    x = np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0])
    assert m.check_skew_kurt(x) is False
    out = m.treat_column(x)
    np.testing.assert_array_equal(out.values, [1, 2, 3, 4, 5, 6, 7, 8, 9, 9])
    assert out.n_winsorised == 1
    assert out.points[-1] == "winhi"
    assert out.transformed == ""
    assert out.passed_after is True


def test_winsorise_low_side_when_skew_is_negative() -> None:
    x = -np.array([1, 2, 3, 4, 5, 6, 7, 8, 9, 100.0])
    out = m.treat_column(x)
    assert out.values[-1] == -9
    assert out.points[-1] == "winlo"


def test_log_ct_fallback_after_winmax_points() -> None:
    # 100 zeros and a tail: five winsorisations cannot fix it, so log_CT of the original x,
    # log(x − 0 + 0.01·1000) = log(x + 10), is returned.
    x = np.array([0.0] * 100 + [1, 2, 3, 4, 5, 6, 1000])
    won = m.winsorise(x, winmax=5)
    assert won is not None
    assert won[1] == 5
    out = m.treat_column(x, winmax=5)
    assert out.transformed == "log_CT"
    np.testing.assert_allclose(out.values, np.log(x + 10), rtol=0, atol=1e-15)


def test_column_whose_test_becomes_undefined_is_left_untreated() -> None:
    # Winsorising the single 1 makes the column constant: skew 0/0, COINr leaves it as is.
    x = np.array([0, 0, 0, 0, 1.0])
    out = m.treat_column(x)
    np.testing.assert_array_equal(out.values, x)
    assert out.n_winsorised == 0


def test_box_cox_shifts_to_one() -> None:
    x = np.array([0.0, 3.0])
    np.testing.assert_allclose(m.box_cox(x, 0.5), [0.0, (2.0 - 1) / 0.5])
    np.testing.assert_allclose(m.box_cox(x, 0.0), [0.0, math.log(4)])


# --- normalisation ------------------------------------------------------------------------


def test_minmax_with_negative_direction() -> None:
    np.testing.assert_allclose(
        m.normalise_column(np.array([1, 2, 3.0]), "minmax", -1), [100, 50, 0]
    )
    np.testing.assert_allclose(
        m.normalise_column(np.array([1, 2, 3.0]), "efficacy", 1), [60, 80, 100]
    )


def test_zscore_uses_sample_sd() -> None:
    np.testing.assert_allclose(m.normalise_column(np.array([1, 2, 3.0]), "zscore"), [-1, 0, 1])


def test_goalposts_truncate_and_reverse() -> None:
    x = np.array([0, 50, 120.0])
    p = {"lower": 10, "upper": 110, "scale": 100}
    np.testing.assert_allclose(m.normalise_column(x, "goalposts", 1, p), [0, 40, 100])
    # direction −1: (110 − x)/100 → 1.1, 0.6, −0.1 → truncated 1, 0.6, 0
    np.testing.assert_allclose(m.normalise_column(x, "goalposts", -1, p), [100, 60, 0])


def test_distance_to_target() -> None:
    x = np.array([2, 4, 6.0])
    np.testing.assert_allclose(
        m.normalise_column(x, "dist2targ", 1, {"target": 5}), [0, 2 / 3, 4 / 3]
    )
    np.testing.assert_allclose(
        m.normalise_column(x, "dist2targ", 1, {"target": 5, "cap_max": True}), [0, 2 / 3, 1]
    )
    # direction −1, target 3 (lower is better): (max − x)/(max − 3)
    np.testing.assert_allclose(
        m.normalise_column(x, "dist2targ", -1, {"target": 3}), [4 / 3, 2 / 3, 0]
    )


def test_ranks_percentile_ranks_and_base_index() -> None:
    x = np.array([10, 20, 20, 30.0])
    np.testing.assert_allclose(m.normalise_column(x, "rank"), [1, 2, 2, 4])
    np.testing.assert_allclose(m.normalise_column(x, "prank"), [0, 1 / 3, 1 / 3, 1])
    np.testing.assert_allclose(m.normalise_column(x, "borda"), [0, 1, 1, 3])
    np.testing.assert_allclose(
        m.normalise_column(x, "base_index", 1, {"iref": 0}), [100, 200, 200, 300]
    )
    np.testing.assert_allclose(
        m.normalise_column(x, "base_index", -1, {"iref": 0}), [100, 50, 50, 100 / 3]
    )
    np.testing.assert_allclose(m.normalise_column(x, "dist2ref", 1, {"iref": 1}), [0, 1, 1, 2])


def test_rank_min_descending_keeps_nan() -> None:
    r = m.rank_min(np.array([10, 20, 20, 5, np.nan]), descending=True)
    np.testing.assert_array_equal(r[:4], [3, 1, 1, 4])
    assert np.isnan(r[4])


def test_imputation_by_group() -> None:
    x = np.array([1.0, np.nan, 3.0, 10.0, np.nan, np.nan])
    g = np.array(["a", "a", "a", "b", "b", None], dtype=object)
    np.testing.assert_allclose(m.impute_column(x, "mean_group", g)[:5], [1, 2, 3, 10, 10])
    assert np.isnan(m.impute_column(x, "mean_group", g)[5])
    np.testing.assert_allclose(m.impute_column(x, "median", None), [1, 3, 3, 10, 3, 3])


# --- weights ------------------------------------------------------------------------------


def _entropy_by_hand(cols: list[list[float]], shift: float) -> list[float]:
    d = []
    for col in cols:
        lo, hi = min(col), max(col)
        xs = [(v - lo) / (hi - lo) + shift for v in col]
        total = sum(xs)
        e = -sum((v / total) * math.log(v / total) for v in xs if v > 0) / math.log(len(col))
        d.append(1 - e)
    return [v / sum(d) for v in d]


def test_entropy_weights_standard() -> None:
    # col 1 → (0, .5, 1): p = (0, 1/3, 2/3), e = 0.636514/ln 3 = 0.579380;
    # col 2 → (0, 0, 1): e = 0.  w = (0.420620, 1)/1.420620 = (0.296082, 0.703918).
    x = np.array([[1, 10], [2, 10], [3, 40.0]])
    w = m.entropy_weights(x, np.array([1.0, 1.0]))
    np.testing.assert_allclose(w, [0.296082, 0.703918], atol=1e-6)


@pytest.mark.parametrize("shift", [0.0001, 0.01])
def test_entropy_weights_shift_variants(shift: float) -> None:
    x = np.array([[1, 10, 5], [2, 10, 3], [3, 40, 1], [7, 15, 2.0]])
    w = m.entropy_weights(x, np.array([1.0, 1.0, -1.0]), shift=shift)
    cols = [[1, 2, 3, 7], [10, 10, 40, 15], [-5, -3, -1, -2]]
    np.testing.assert_allclose(w, _entropy_by_hand(cols, shift), rtol=1e-12)
    assert w.sum() == pytest.approx(1.0)


def test_critic_weights_by_hand() -> None:
    # Two indicators perfectly anti-correlated plus one independent of both.
    x = np.array([[1, 3, 1], [2, 2, 3], [3, 1, 1], [2, 2, 3.0]])
    w = m.critic_weights(x, np.array([1.0, 1.0, 1.0]))
    xs = (x - x.min(0)) / (x.max(0) - x.min(0))
    sd = [float(np.std(xs[:, j], ddof=1)) for j in range(3)]
    # r(1,2) = −1, r(1,3) = r(2,3) = 0 for these columns
    c = [sd[0] * (0 + 2 + 1), sd[1] * (2 + 0 + 1), sd[2] * (1 + 1 + 0)]
    np.testing.assert_allclose(w, np.array(c) / sum(c), rtol=1e-12)


def test_cv_weights() -> None:
    x = np.array([[1, 10], [3, 10], [5, 40.0]])
    cv = [2 / 3, np.std([10, 10, 40], ddof=1) / 20]
    np.testing.assert_allclose(m.cv_weights(x), np.array(cv) / sum(cv))


def test_ahp_consistent_matrix() -> None:
    a = np.array([[1, 2, 4], [1 / 2, 1, 2], [1 / 4, 1 / 2, 1]])
    w, lam, cr = m.ahp_weights(a, SAATY)
    np.testing.assert_allclose(w, [4 / 7, 2 / 7, 1 / 7], atol=1e-12)
    assert lam == pytest.approx(3.0)
    assert cr == pytest.approx(0.0, abs=1e-12)


def test_ahp_cyclic_matrix_consistency_ratio() -> None:
    # Circulant [[1, a, 1/a], [1/a, 1, a], [a, 1/a, 1]]: λmax = 1 + a + 1/a, w = (1/3, 1/3, 1/3).
    a = 1.2
    mat = np.array([[1, a, 1 / a], [1 / a, 1, a], [a, 1 / a, 1]])
    w, lam, cr = m.ahp_weights(mat, SAATY)
    np.testing.assert_allclose(w, [1 / 3] * 3, atol=1e-12)
    assert lam == pytest.approx(1 + a + 1 / a)
    assert cr == pytest.approx(((1 + a + 1 / a - 3) / 2) / 0.58)
    a = 2.0  # CR = 0.25/0.58 = 0.43: rejected
    mat = np.array([[1, a, 1 / a], [1 / a, 1, a], [a, 1 / a, 1]])
    with pytest.raises(InconsistentJudgementsError):
        m.ahp_weights(mat, SAATY)
    with pytest.raises(InconsistentJudgementsError):
        m.ahp_weights(np.array([[1, 2], [2, 1.0]]), SAATY)


def test_pca_loadings_of_two_correlated_columns() -> None:
    x = np.array([[1, 2], [2, 4.1], [3, 5.9], [4, 8.0]])
    load, share = m.pca_weights(x, np.array([1.0, 1.0]))
    np.testing.assert_allclose(load, [1 / math.sqrt(2)] * 2, atol=1e-12)
    assert share[0] > 0.99


# --- aggregation --------------------------------------------------------------------------


def test_arithmetic_mean_renormalises_over_missing() -> None:
    x = np.array([[10, np.nan, 30], [np.nan, np.nan, np.nan], [10, 20, 30.0]])
    y = m.amean(x, np.array([1, 2, 1.0]))
    np.testing.assert_allclose(y[[0, 2]], [20, 20])
    assert np.isnan(y[1])
    assert np.isnan(m.amean(x, np.array([1, 2, 1.0]), dat_thresh=0.9)[0])


def test_geometric_and_harmonic_means() -> None:
    x = np.array([[1, 4], [2, 8.0]])
    np.testing.assert_allclose(m.gmean(x, np.array([1, 1.0])), [2, 4])
    np.testing.assert_allclose(m.gmean(x, np.array([3, 1.0]))[0], math.sqrt(2))
    np.testing.assert_allclose(m.hmean(x, np.array([1, 1.0])), [1.6, 3.2])
    np.testing.assert_allclose(
        m.genmean(np.array([[3, 4.0]]), np.array([1, 1.0]), 2), [math.sqrt(12.5)]
    )
    with pytest.raises(MethodDomainError):
        m.gmean(np.array([[0, 1.0]]), np.array([1, 1.0]))
    with pytest.raises(MethodDomainError):
        m.hmean(np.array([[0, 1.0]]), np.array([1, 1.0]))
    assert np.isnan(m.genmean(np.array([[3, np.nan]]), np.array([1, 1.0]), 2)[0])


def test_topsis_closeness_by_hand() -> None:
    # v = x/(2√2); unit 3 is the ideal (C = 1), units 1 and 2 equidistant (C = 0.5).
    x = np.array([[1, 0], [0, 1], [1, 1.0]])
    np.testing.assert_allclose(m.topsis(x, np.array([1, 1.0])), [0.5, 0.5, 1.0])


def test_copeland_scores() -> None:
    # A beats B and C on both; B beats C on one, ties on the other (0.75 > 0.5).
    x = np.array([[3, 3], [2, 1], [1, 1.0]])
    np.testing.assert_array_equal(m.copeland(x, np.array([1, 1.0])), [2, 0, -2])
    o = m.outranking_matrix(x, np.array([1, 1.0]))
    assert o[1, 2] == pytest.approx(0.75)
    assert o[2, 1] == pytest.approx(0.25)


def test_mazziotta_pareto_symmetric_case() -> None:
    # z = (90, 110) for both units: M = 100, S = 10, cv = 0.1 → MPI⁻ = 99, MPI⁺ = 101.
    x = np.array([[1, 2], [2, 1.0]])
    np.testing.assert_allclose(m.mazziotta_pareto(x), [99, 99])
    np.testing.assert_allclose(m.mazziotta_pareto(x, penalty=1), [101, 101])
