"""The numerical methods of composite indicators, each a pure function on numpy arrays.

Conventions follow the JRC's COINr 1.1 (Becker et al., 2022, JOSS 7(78) 4567) so that results
can be compared with it number for number; where a method is not in COINr (entropy, CRITIC, AHP,
TOPSIS, Mazziotta–Pareto, fixed-base index, efficacy coefficient) the docstring names its source.
Missing values are NaN throughout. Vectors are float64 1-D arrays, tables are (units × columns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from carbonlink.indices.errors import InconsistentJudgementsError, MethodDomainError

Vector = NDArray[np.float64]
Matrix = NDArray[np.float64]

__all__ = [
    "TreatmentOutcome",
    "ahp_weights",
    "amean",
    "box_cox",
    "check_skew_kurt",
    "copeland",
    "critic_weights",
    "cv_weights",
    "entropy_weights",
    "genmean",
    "gmean",
    "hmean",
    "impute_column",
    "kurtosis",
    "log_ct",
    "mazziotta_pareto",
    "normalise_column",
    "outranking_matrix",
    "pca_weights",
    "rank_min",
    "skewness",
    "topsis",
    "treat_column",
    "winsorise",
]


# --- distribution shape -------------------------------------------------------------------


def skewness(x: Vector) -> float:
    """Bias-corrected sample skewness (type 2, as SAS/SPSS and COINr `skew`); NaN below 3 values.

    G1 = g1 · √(n(n−1)) / (n−2) with g1 = √n Σd³ / (Σd²)^{3/2}, d = x − mean (Joanes & Gill 1998).
    """
    v = x[~np.isnan(x)]
    n = v.size
    if n < 3:
        return float("nan")
    d = v - v.mean()
    s2 = np.sum(d**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        g1 = np.sqrt(n) * np.sum(d**3) / s2**1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(x: Vector) -> float:
    """Bias-corrected sample excess kurtosis (type 2, as COINr `kurt`); NaN below 4 values.

    G2 = ((n+1)(r−3) + 6)(n−1) / ((n−2)(n−3)) with r = n Σd⁴ / (Σd²)² (Joanes & Gill 1998).
    """
    v = x[~np.isnan(x)]
    n = v.size
    if n < 4:
        return float("nan")
    d = v - v.mean()
    s2 = np.sum(d**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = n * np.sum(d**4) / s2**2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def check_skew_kurt(x: Vector, skew_thresh: float = 2.0, kurt_thresh: float = 3.5) -> bool | None:
    """Whether a column passes the outlier test: |skew| < skew_thresh or kurtosis < kurt_thresh.

    None when skew or kurtosis is undefined (fewer than 3/4 values, zero variance), which COINr
    reports as NA and answers by leaving the column untreated.
    """
    sk, kt = skewness(x), kurtosis(x)
    a = abs(sk) < skew_thresh if not np.isnan(sk) else None
    b = kt < kurt_thresh if not np.isnan(kt) else None
    # R's three-valued `|`: TRUE if either is TRUE, NA if the other is NA.
    if a is True or b is True:
        return True
    if a is None or b is None:
        return None
    return False


# --- outlier treatment --------------------------------------------------------------------


@dataclass
class TreatmentOutcome:
    """What the outlier treatment did to one column."""

    values: Vector
    passed_before: bool | None
    n_winsorised: int = 0
    transformed: str = ""
    passed_after: bool | None = None
    points: list[str] = field(default_factory=list)


def winsorise(
    x: Vector,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    force: bool = False,
) -> tuple[Vector, int, list[str]] | None:
    """Winsorise one point at a time on the side the skew points to, until the column passes.

    As COINr `winsorise`: while the skew/kurtosis test fails and fewer than `winmax` points are
    winsorised, the values equal to the current maximum (skew ≥ 0) or minimum (skew < 0) are set
    to the next value inwards. The count is that of points sitting at the treated extreme(s) after
    the last step (COINr's `nwin`). None when the test becomes undefined (COINr then errors and
    leaves the column untreated).
    """
    y = x.copy()
    passing = check_skew_kurt(y, skew_thresh, kurt_thresh)
    if passing is None:
        return None
    imax: np.ndarray | None = None
    imin: np.ndarray | None = None
    nwin = 0
    while (not passing or force) and (winmax is None or nwin < winmax):
        sk = skewness(y)
        if np.isnan(sk):
            return None
        finite = ~np.isnan(y)
        if sk >= 0:
            top = np.nanmax(y)
            imax = np.flatnonzero(finite & (y == top))
            rest = np.delete(y, imax)
            if np.all(np.isnan(rest)):
                return None
            y[imax] = np.nanmax(rest)
        else:
            bottom = np.nanmin(y)
            imin = np.flatnonzero(finite & (y == bottom))
            rest = np.delete(y, imin)
            if np.all(np.isnan(rest)):
                return None
            y[imin] = np.nanmin(rest)
        nwin = (0 if imax is None else imax.size) + (0 if imin is None else imin.size)
        checked = check_skew_kurt(y, skew_thresh, kurt_thresh)
        if checked is None:
            return None
        passing = checked
    points = [""] * y.size
    for i in [] if imax is None else imax.tolist():
        points[i] = "winhi"
    for i in [] if imin is None else imin.tolist():
        points[i] = "winlo"
    return y, nwin, points


def log_ct(x: Vector) -> Vector:
    """COINr's `log_CT`: log(x − min + 0.01 (max − min)), defined for any sign of x."""
    lo, hi = np.nanmin(x), np.nanmax(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.log(x - lo + 0.01 * (hi - lo)), dtype=np.float64)


def box_cox(x: Vector, lam: float, make_positive: bool = True) -> Vector:
    """Box–Cox transform (x^λ − 1)/λ, log x at λ = 0; COINr `boxcox` shifts x to start at 1."""
    y = x - np.nanmin(x) + 1 if make_positive else x
    with np.errstate(divide="ignore", invalid="ignore"):
        if lam == 0:
            return np.asarray(np.log(y), dtype=np.float64)
        return np.asarray((y**lam - 1) / lam, dtype=np.float64)


def treat_column(
    x: Vector,
    winmax: int | None = 5,
    skew_thresh: float = 2.0,
    kurt_thresh: float = 3.5,
    fallback: str = "log_CT",
    boxcox_lambda: float = 0.0,
    combine: bool = False,
    force_win: bool = False,
) -> TreatmentOutcome:
    """Outlier treatment of one column exactly as COINr `Treat.numeric` with its defaults.

    1. Pass test on x; if it passes, x is returned unchanged.
    2. Otherwise winsorise (up to `winmax` points) and test again.
    3. If it still fails and a fallback is set, apply the fallback (`log_CT` or `boxcox`) to the
       original x (or to the winsorised x when `combine`) and return it, pass or not.
    A column whose test is undefined is returned untreated.
    """
    passed0 = check_skew_kurt(x, skew_thresh, kurt_thresh)
    out = TreatmentOutcome(values=x.copy(), passed_before=passed0, points=[""] * x.size)
    if passed0 is None:
        return out
    x1 = x
    passed = passed0
    if not passed0:
        won = winsorise(x, winmax, skew_thresh, kurt_thresh, force_win)
        if won is None:
            return out
        x1, out.n_winsorised, out.points = won
        checked = check_skew_kurt(x1, skew_thresh, kurt_thresh)
        if checked is None:
            return out
        passed = checked
    x2 = x1
    if not passed and fallback != "none":
        base = x1 if combine else x
        if fallback == "log_CT":
            x2 = log_ct(base)
        elif fallback == "boxcox":
            x2 = box_cox(base, boxcox_lambda)
        else:
            raise MethodDomainError(f"unknown outlier fallback {fallback!r}")
        checked = check_skew_kurt(x2, skew_thresh, kurt_thresh)
        if checked is None:
            return TreatmentOutcome(values=x.copy(), passed_before=passed0, points=[""] * x.size)
        passed = checked
        out.transformed = fallback
        base_points = out.points if combine else [""] * x.size
        out.points = [f"{p}+{fallback}" if p else fallback for p in base_points]
    out.values = np.asarray(x2, dtype=np.float64).copy()
    out.passed_after = passed
    return out


# --- normalisation ------------------------------------------------------------------------


def rank_min(x: Vector, descending: bool = False) -> Vector:
    """Ranks with ties given the smallest rank (R `rank(ties.method = "min")`), NaN kept."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    v = -x[ok] if descending else x[ok]
    s = np.sort(v)
    out[ok] = np.searchsorted(s, v, side="left") + 1
    return out


def normalise_column(
    x: Vector,
    method: str,
    direction: int = 1,
    params: Mapping[str, object] | None = None,
) -> Vector:
    """Normalise one indicator; x is first multiplied by its direction (±1), as COINr does.

    Methods (COINr names in brackets):
    - minmax [n_minmax]: (x − min)/(max − min)·(u − l) + l, `l_u` default (0, 100);
    - efficacy: min-max to (60, 100), the efficacy-coefficient method of Chinese practice;
    - zscore [n_zscore]: (x − mean)/sd·s + m, sd with n − 1, `m_sd` default (0, 1);
    - scaled [n_scaled]: (x − p0)/(p1 − p0)·scale_factor;
    - dist2max [n_dist2max]: 1 − (max − x)/(max − min);
    - dist2ref [n_dist2ref]: 1 − (x_ref − x)/(x_ref − min), `iref` a 0-based row, `cap_max`;
    - dist2targ [n_dist2targ]: (x − min)/(t − min), `target` in the indicator's own units;
    - fracmax [n_fracmax]: x / max;
    - goalposts [n_goalposts]: (x − lower)/(upper − lower) truncated to [0, 1], × `scale`;
      `lower`/`upper` in the indicator's own units, reversed for direction −1 as COINr's iMeta;
    - rank [n_rank], prank [n_prank] (rank − 1)/(n − 1), borda [n_borda] rank − 1; ties "min";
    - base_index: 100·x/x_base (100·x_base/x for direction −1), `iref` the base row;
    - none: x·direction.
    """
    p = dict(params or {})
    if direction not in (1, -1):
        raise MethodDomainError(f"direction must be 1 or -1, not {direction}")
    xd = x * direction
    if np.all(np.isnan(x)):
        return np.asarray(xd, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("minmax", "efficacy"):
            default = (60.0, 100.0) if method == "efficacy" else (0.0, 100.0)
            lo_u = p.get("l_u", default)
            lo, up = float(lo_u[0]), float(lo_u[1])  # type: ignore[index]
            mn, mx = np.nanmin(xd), np.nanmax(xd)
            return np.asarray((xd - mn) / (mx - mn) * (up - lo) + lo)
        if method == "zscore":
            m_sd = p.get("m_sd", (0.0, 1.0))
            m, s = float(m_sd[0]), float(m_sd[1])  # type: ignore[index]
            return np.asarray((xd - np.nanmean(xd)) / np.nanstd(xd, ddof=1) * s + m)
        if method == "scaled":
            npara = p.get("npara", (0.0, 100.0))
            p0, p1 = float(npara[0]), float(npara[1])  # type: ignore[index]
            return np.asarray((xd - p0) / (p1 - p0) * float(p.get("scale_factor", 100.0)))  # type: ignore[arg-type]
        if method == "dist2max":
            mn, mx = np.nanmin(xd), np.nanmax(xd)
            return np.asarray(1 - (mx - xd) / (mx - mn))
        if method == "dist2ref":
            xref = xd[int(p["iref"])]  # type: ignore[call-overload]
            y = 1 - (xref - xd) / (xref - np.nanmin(xd))
            if p.get("cap_max", False):
                y = np.where(y > 1, 1.0, y)
            return np.asarray(y)
        if method == "dist2targ":
            targ = float(p["target"]) * direction  # type: ignore[arg-type]
            mn = np.nanmin(xd)
            y = (xd - mn) / (targ - mn)
            if p.get("cap_max", False):
                y = np.where(y > 1, 1.0, y)
            return np.asarray(y)
        if method == "fracmax":
            return np.asarray(xd / np.nanmax(xd))
        if method == "goalposts":
            lower, upper = float(p["lower"]), float(p["upper"])  # type: ignore[arg-type]
            scale = float(p.get("scale", 100.0))  # type: ignore[arg-type]
            g0, g1 = (-upper, -lower) if direction == -1 else (lower, upper)
            y = (xd - g0) / (g1 - g0)
            if p.get("trunc2posts", True):
                y = np.clip(y, 0.0, 1.0)
            return np.asarray(y * scale)
        if method == "rank":
            return rank_min(xd)
        if method == "prank":
            return (rank_min(xd) - 1) / (np.sum(~np.isnan(xd)) - 1)
        if method == "borda":
            return rank_min(xd) - 1
        if method == "base_index":
            base = x[int(p["iref"])]  # type: ignore[call-overload]
            return np.asarray(100 * x / base if direction == 1 else 100 * base / x)
        if method == "none":
            return np.asarray(xd, dtype=np.float64)
    raise MethodDomainError(f"unknown normalisation method {method!r}")


# --- imputation ---------------------------------------------------------------------------


def impute_column(x: Vector, method: str, groups: NDArray[np.object_] | None = None) -> Vector:
    """Fill missing values of one indicator (COINr `i_mean`, `i_median`, `i_*_grp`).

    Group variants use the mean/median of the unit's group; units without a group, or in a
    group with no value, stay missing (as COINr).
    """
    y = x.copy()
    miss = np.isnan(y)
    if not miss.any() or method == "none":
        return y
    if method in ("mean", "median"):
        if miss.all():
            return y
        y[miss] = np.nanmean(x) if method == "mean" else np.nanmedian(x)
        return y
    if method in ("mean_group", "median_group"):
        if groups is None:
            raise MethodDomainError("group imputation needs a group column")
        for g in {v for v in groups.tolist() if v is not None and v == v}:
            sel = groups == g
            vals = x[sel]
            if np.all(np.isnan(vals)):
                continue
            fill = np.nanmean(vals) if method == "mean_group" else np.nanmedian(vals)
            y[sel & miss] = fill
        return y
    raise MethodDomainError(f"unknown imputation method {method!r}")


# --- weighting ----------------------------------------------------------------------------


def _directional_minmax(table: Matrix, directions: Vector) -> Matrix:
    lo = np.nanmin(table, axis=0)
    hi = np.nanmax(table, axis=0)
    rng = hi - lo
    if np.any(rng == 0):
        raise MethodDomainError("an indicator has zero range: objective weights undefined")
    pos = (table - lo) / rng
    return np.where(directions > 0, pos, 1 - pos)


def entropy_weights(
    table: Matrix, directions: Vector, shift: float = 0.0, standardise: str = "minmax"
) -> Vector:
    """Entropy weights: w_j = (1 − e_j)/Σ(1 − e_k), e_j = −(1/ln n) Σ_i p_ij ln p_ij, 0 ln 0 = 0.

    `standardise="minmax"`: x'_ij by directional min-max to [0, 1]; `"ratio"`: x'_ij = x_ij
    (raw positive data, larger is more information regardless of direction). `shift` is added to
    x' before p_ij = x'_ij / Σ_i x'_ij — published variants use 0.0001 or 0.01 to avoid ln 0.
    n counts the available values of each column.
    """
    if standardise not in ("minmax", "ratio"):
        raise MethodDomainError(f"unknown entropy standardisation {standardise!r}")
    xs = _directional_minmax(table, directions) if standardise == "minmax" else table.copy()
    xs = xs + shift
    if np.nanmin(xs) < 0:
        raise MethodDomainError("entropy weights need non-negative values")
    n = np.sum(~np.isnan(xs), axis=0)
    p = xs / np.nansum(xs, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        plogp = np.where(p > 0, p * np.log(p), 0.0)
    e = -np.nansum(plogp, axis=0) / np.log(n)
    d = 1 - e
    return np.asarray(d / d.sum())


def critic_weights(table: Matrix, directions: Vector, ddof: int = 1) -> Vector:
    """CRITIC weights (Diakoulaki et al. 1995): C_j = σ_j Σ_k (1 − r_jk), w_j = C_j / Σ C.

    σ_j is the standard deviation (with `ddof`) of the directional min-max values, r the
    Pearson correlation over complete rows.
    """
    xs = _directional_minmax(table, directions)
    xs = xs[~np.isnan(xs).any(axis=1)]
    sd = np.std(xs, axis=0, ddof=ddof)
    r = np.corrcoef(xs, rowvar=False)
    c = sd * np.sum(1 - r, axis=0)
    if not np.isfinite(c.sum()) or c.sum() == 0:
        raise MethodDomainError(
            "CRITIC weights are undefined: the indicators are constant or perfectly correlated",
            hint="use manual or entropy weights for this group",
        )
    return np.asarray(c / c.sum())


def cv_weights(table: Matrix, ddof: int = 1) -> Vector:
    """Coefficient-of-variation weights: w_j ∝ σ_j / |mean_j| of the raw values."""
    cv = np.nanstd(table, axis=0, ddof=ddof) / np.abs(np.nanmean(table, axis=0))
    return np.asarray(cv / cv.sum())


def pca_weights(table: Matrix, directions: Vector) -> tuple[Vector, Vector]:
    """Loadings of the first principal component of the standardised complete rows.

    As COINr `get_PCA` (prcomp with centring and scaling; rows with a missing value dropped).
    A component's sign is arbitrary; it is oriented so the loadings sum to ≥ 0. Returns the
    loadings and the share of variance each component explains.
    """
    xd = table * directions
    xd = xd[~np.isnan(xd).any(axis=1)]
    z = (xd - xd.mean(axis=0)) / xd.std(axis=0, ddof=1)
    _, s, vt = np.linalg.svd(z, full_matrices=False)
    load = vt[0]
    if load.sum() < 0:
        load = -load
    var = s**2
    return np.asarray(load), np.asarray(var / var.sum())


def ahp_weights(
    judgements: Matrix, random_index: Mapping[int, float], max_cr: float | None = 0.1
) -> tuple[Vector, float, float]:
    """AHP priorities (Saaty 1980): principal eigenvector of a reciprocal 1–9 matrix.

    CR = ((λmax − n)/(n − 1)) / RI(n); returns (weights, λmax, CR). CR is 0 for n ≤ 2. Raises
    `InconsistentJudgementsError` when the matrix is not reciprocal or CR ≥ `max_cr`.
    """
    a = np.asarray(judgements, dtype=np.float64)
    n = a.shape[0]
    if a.shape != (n, n) or np.any(a <= 0):
        raise InconsistentJudgementsError("an AHP matrix must be square with positive entries")
    if not np.allclose(a * a.T, 1.0, rtol=0, atol=1e-9):
        raise InconsistentJudgementsError(
            "the AHP matrix is not reciprocal", hint="a_ji must equal 1 / a_ij"
        )
    vals, vecs = np.linalg.eig(a)
    k = int(np.argmax(vals.real))
    lam = float(vals[k].real)
    w = np.abs(vecs[:, k].real)
    w = w / w.sum()
    if n <= 2:
        return w, lam, 0.0
    if n not in random_index:
        raise InconsistentJudgementsError(f"the random-index table has no entry for n = {n}")
    cr = ((lam - n) / (n - 1)) / random_index[n]
    if max_cr is not None and cr >= max_cr:
        raise InconsistentJudgementsError(
            f"AHP consistency ratio {cr:.4f} is not below {max_cr}",
            hint="revise the pairwise judgements",
        )
    return w, lam, float(cr)


# --- aggregation --------------------------------------------------------------------------


def _avail(table: Matrix, dat_thresh: float | None) -> NDArray[np.bool_]:
    if dat_thresh is None:
        return np.ones(table.shape[0], dtype=bool)
    frac = np.sum(~np.isnan(table), axis=1) / table.shape[1]
    return np.asarray(frac >= dat_thresh)


def amean(table: Matrix, w: Vector, dat_thresh: float | None = None) -> Vector:
    """Weighted arithmetic mean, weights re-normalised over each unit's available values."""
    ok = ~np.isnan(table)
    num = np.where(ok, table, 0.0) @ w
    den = ok @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.where(den > 0, num / den, np.nan)
    y[~ok.any(axis=1)] = np.nan
    return np.where(_avail(table, dat_thresh), y, np.nan)


def gmean(table: Matrix, w: Vector, dat_thresh: float | None = None) -> Vector:
    """Weighted geometric mean exp(Σ w ln x / Σ w) over available values; x must be > 0."""
    if np.any(table[~np.isnan(table)] <= 0):
        raise MethodDomainError(
            "geometric mean of zero or negative values",
            hint="normalise to a strictly positive range, e.g. min-max to (1, 100)",
        )
    ok = ~np.isnan(table)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = np.exp((np.where(ok, np.log(np.where(ok, table, 1.0)), 0.0) @ w) / (ok @ w))
    y[~ok.any(axis=1)] = np.nan
    return np.where(_avail(table, dat_thresh), y, np.nan)


def hmean(table: Matrix, w: Vector, dat_thresh: float | None = None) -> Vector:
    """Weighted harmonic mean Σ w / Σ (w / x) over available values; x must not be 0."""
    if np.any(table[~np.isnan(table)] == 0):
        raise MethodDomainError(
            "harmonic mean of a zero value", hint="normalise to a range that excludes 0"
        )
    ok = ~np.isnan(table)
    with np.errstate(invalid="ignore", divide="ignore"):
        y = (ok @ w) / (np.where(ok, 1.0 / np.where(ok, table, 1.0), 0.0) @ w)
    y[~ok.any(axis=1)] = np.nan
    return np.where(_avail(table, dat_thresh), y, np.nan)


def genmean(table: Matrix, w: Vector, p: float, dat_thresh: float | None = None) -> Vector:
    """Generalised (power) mean (Σ w x^p / Σ w)^{1/p}; a unit with a missing value gets NaN.

    As COINr `a_genmean`, which does not re-normalise over missing values.
    """
    if p == 0:
        raise MethodDomainError("generalised mean with p = 0: use the geometric mean")
    if p < 0 and np.any(table[~np.isnan(table)] <= 0):
        raise MethodDomainError("generalised mean with p < 0 of zero or negative values")
    with np.errstate(invalid="ignore", divide="ignore"):
        y = ((table**p) @ w / w.sum()) ** (1.0 / p)
    return np.where(_avail(table, dat_thresh), y, np.nan)


def outranking_matrix(table: Matrix, w: Vector) -> Matrix:
    """Weighted outranking matrix: O_ij = Σ w[x_i > x_j] + ½ Σ w[x_i = x_j], O_ji = 1 − O_ij.

    Weights are normalised to sum 1; comparisons involving a missing value count for nobody
    (COINr `outrankMatrix`).
    """
    wn = w / np.nansum(w)
    xi = table[:, None, :]
    xj = table[None, :, :]
    upper = ((xi > xj) * wn).sum(axis=2) + ((xi == xj) * wn).sum(axis=2) / 2
    n = table.shape[0]
    iu = np.triu_indices(n, 1)
    out = np.zeros((n, n))
    out[iu] = upper[iu]
    out.T[iu] = 1 - upper[iu]
    return out


def copeland(table: Matrix, w: Vector) -> Vector:
    """Copeland score: Σ_j sign(O_ij − ½) over the outranking matrix (COINr `a_copeland`)."""
    o = outranking_matrix(table, w)
    s = np.sign(o - 0.5)
    np.fill_diagonal(s, 0)
    return np.asarray(s.sum(axis=1), dtype=np.float64)


def topsis(table: Matrix, w: Vector, vector_normalise: bool = True) -> Vector:
    """TOPSIS closeness C_i = D⁻/(D⁺ + D⁻) (Hwang & Yoon 1981), in [0, 1].

    r_ij = x_ij / √Σ_i x_ij² (when `vector_normalise`), v = w r with w summing to 1, ideal and
    anti-ideal the column max and min (the input is already oriented so larger is better),
    Euclidean distances. A unit with a missing value gets NaN.
    """
    wn = w / w.sum()
    r = table / np.sqrt(np.nansum(table**2, axis=0)) if vector_normalise else table
    v = r * wn
    best, worst = np.nanmax(v, axis=0), np.nanmin(v, axis=0)
    dp = np.sqrt(np.sum((v - best) ** 2, axis=1))
    dm = np.sqrt(np.sum((v - worst) ** 2, axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(dm / (dp + dm))


def mazziotta_pareto(table: Matrix, penalty: int = -1) -> Vector:
    """Mazziotta–Pareto index MPI = M_z + penalty · S_z · cv_z (Mazziotta & Pareto 2016).

    z_ij = 100 + 10 (x_ij − mean_j)/σ_j with population σ; M_z, S_z the mean and population
    standard deviation of a unit's z-values; cv_z = S_z / M_z. Unweighted by construction.
    A unit with a missing value gets NaN.
    """
    z = 100 + 10 * (table - np.nanmean(table, axis=0)) / np.nanstd(table, axis=0)
    m = z.mean(axis=1)
    s = z.std(axis=1)
    return np.asarray(m + penalty * s * (s / m))
