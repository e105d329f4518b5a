"""Diagnostics of indicator data: statistics, correlations with flags, Cronbach's alpha, PCA.

Definitions follow COINr 1.1 (`get_stats`, `get_corr_flags`, `get_cronbach`, `get_PCA`,
`get_data_avail`) so a COINr user reads the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from carbonlink.indices import methods as m
from carbonlink.indices.pipeline import Framework

__all__ = [
    "correlation_flags",
    "correlations",
    "cronbach_alpha",
    "data_availability",
    "indicator_stats",
    "pca_summary",
]


def indicator_stats(
    table: pd.DataFrame,
    t_skew: float = 2.0,
    t_kurt: float = 3.5,
    t_avail: float = 0.65,
    t_zero: float = 0.5,
    t_unq: float = 0.5,
) -> pd.DataFrame:
    """Per-indicator statistics and flags (COINr `get_stats`, without rounding).

    Flags: availability below `t_avail`, non-zero share below `t_zero`, unique share below
    `t_unq` (both over all units), and OUT when |skew| > t_skew and kurtosis > t_kurt.
    """
    n = len(table)
    rows = []
    for code in table.columns:
        x = table[code].to_numpy(float)
        v = x[~np.isnan(x)]
        n_av = v.size
        sk, kt = m.skewness(x), m.kurtosis(x)
        nzero = int(np.sum(v != 0))
        nunq = int(np.unique(v).size)
        nsame = int(np.max(np.unique(v, return_counts=True)[1])) if n_av else 0
        rows.append(
            {
                "iCode": code,
                "Min": np.min(v) if n_av else np.nan,
                "Max": np.max(v) if n_av else np.nan,
                "Mean": np.mean(v) if n_av else np.nan,
                "Median": np.median(v) if n_av else np.nan,
                "Std": np.std(v, ddof=1) if n_av > 1 else np.nan,
                "Skew": sk,
                "Kurt": kt,
                "N.Avail": n_av,
                "N.NonZero": nzero,
                "N.Unique": nunq,
                "N.Same": nsame,
                "Frc.Avail": n_av / n,
                "Frc.NonZero": nzero / n_av if n_av else np.nan,
                "Frc.Unique": nunq / n_av if n_av else np.nan,
                "Frc.Same": nsame / n_av if n_av else np.nan,
                "Flag.Avail": "ok" if n_av / n >= t_avail else "LOW",
                "Flag.NonZero": "ok" if nzero / n >= t_zero else "LOW",
                "Flag.Unique": "ok" if nunq / n >= t_unq else "LOW",
                "Flag.SkewKurt": "OUT" if (abs(sk) > t_skew) and (kt > t_kurt) else "ok",
            }
        )
    return pd.DataFrame(rows)


def correlations(table: pd.DataFrame, method: str = "pearson") -> pd.DataFrame:
    """Correlation matrix over pairwise-complete observations (R `use = "pairwise"`)."""
    return table.astype(float).corr(method=method)


def correlation_flags(
    fw: Framework,
    table: pd.DataFrame,
    threshold: float = 0.9,
    kind: str = "high",
    method: str = "pearson",
) -> pd.DataFrame:
    """Pairs of indicators of the same parent correlated above (or below) a threshold.

    As COINr `get_corr_flags`: only pairs within one group, each pair once.
    """
    codes = [c for c in table.columns if c in fw.parent]
    corr = correlations(table[codes], method)
    rows = []
    for i, a in enumerate(codes):
        for b in codes[i + 1 :]:
            if fw.parent[a] != fw.parent[b]:
                continue
            r = float(corr.loc[a, b])
            if np.isnan(r):
                continue
            if (kind == "high" and r > threshold) or (kind == "low" and r < threshold):
                rows.append({"Group": fw.parent[a], "Ind1": a, "Ind2": b, "Corr": r})
    return pd.DataFrame(rows, columns=["Group", "Ind1", "Ind2", "Corr"])


def cronbach_alpha(table: pd.DataFrame) -> float:
    """Cronbach's alpha = k² · mean off-diagonal covariance / sum of all covariances.

    Covariances over pairwise-complete observations (COINr `get_cronbach`).
    """
    k = table.shape[1]
    cov = table.astype(float).cov().to_numpy()
    total = np.nansum(cov)
    if total == 0:
        return float("nan")
    off = (total - np.nansum(np.diag(cov))) / (k * (k - 1))
    return float(k**2 * off / total)


def pca_summary(table: pd.DataFrame, directions: np.ndarray) -> pd.DataFrame:
    """Loadings of the first component and the variance explained by each component."""
    load, share = m.pca_weights(table.to_numpy(float), directions)
    return pd.DataFrame(
        {
            "iCode": list(table.columns),
            "PC1_loading": load,
            "variance_share": share[: len(load)].tolist() + [np.nan] * (len(load) - len(share)),
        }
    )


def data_availability(table: pd.DataFrame) -> pd.DataFrame:
    """Share of available values and of non-zero among them, per unit (COINr `get_data_avail`)."""
    x = table.to_numpy(float)
    ok = ~np.isnan(x)
    return pd.DataFrame(
        {
            "N_missing": (~ok).sum(axis=1),
            "N_zero": ((x == 0) & ok).sum(axis=1),
            "Dat_Avail": ok.mean(axis=1),
            "Non_Zero": 1 - ((x == 0) & ok).sum(axis=1) / ok.sum(axis=1),
        },
        index=table.index,
    )
