"""Uncertainty and sensitivity analysis of an index, vectorised across replications.

The design follows COINr 1.1 `get_sensitivity`: each uncertain input is sampled from U(0, 1)
and mapped to one of its discrete options by cutting the sample's range into equal intervals
(R `cut`); weights are perturbed as in `get_noisy_weights` (w · (1 + U(−f, f)) per level).
UA runs N plain Monte Carlo replications; SA runs the Saltelli design A, B, AB_i (N(d + 2)
runs) on the output y = mean over units of |rank − nominal rank| and estimates

    Si  = mean(y_B (y_ABi − y_A)) / V,   STi = Σ (y_A − y_ABi)² / (2 N V),

V the sample variance (n − 1) of (y_A, y_B) (Saltelli et al. 2010; Jansen 1999).

Instead of rebuilding the index once per replication, the data are prepared once per distinct
(imputation, normalisation) choice, and every group of replications sharing an aggregation
method is aggregated at once with batched matrix products.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pydantic import ValidationError
from scipy.stats import rankdata

from carbonlink.indices import methods as m
from carbonlink.indices.data import IndicatorData
from carbonlink.indices.errors import IndexSpecError, MethodDomainError
from carbonlink.indices.pipeline import (
    Framework,
    aggregate_level,
    build,
    level_methods,
)
from carbonlink.indices.spec import (
    AggregateStep,
    ImputeStep,
    IndexSpec,
    NormaliseStep,
    UncertainInput,
    UncertaintySpec,
)

__all__ = ["UncertaintyResult", "cut_index", "run_uncertainty", "saltelli_design", "sobol_indices"]

CHUNK = 256


@dataclass
class UncertaintyResult:
    """Scores and ranks of every replication, rank statistics and sensitivity indices."""

    units: list[str]
    scores: np.ndarray
    ranks: np.ndarray
    nominal_score: np.ndarray
    nominal_rank: np.ndarray
    choices: pd.DataFrame
    rank_stats: pd.DataFrame
    sensitivity: pd.DataFrame | None
    variance: float | None
    spec_hash: str


def cut_index(x: np.ndarray, n_alt: int) -> np.ndarray:
    """0-based option index of each sample: R `cut(x, n_alt)` (equal intervals over x's range)."""
    if n_alt == 1:
        return np.zeros(x.size, dtype=np.int64)
    lo, hi = float(np.min(x)), float(np.max(x))
    breaks = np.linspace(lo, hi, n_alt + 1)
    d = hi - lo
    breaks[0] -= d / 1000
    breaks[-1] += d / 1000
    return np.clip(np.searchsorted(breaks, x, side="left") - 1, 0, n_alt - 1)


def saltelli_design(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """Rows A (N), B (N), then AB_i (N each: A with column i from B) — COINr `SA_sample`."""
    base = rng.random((n, 2 * d))
    a, b = base[:, :d], base[:, d:]
    blocks = [a, b]
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


def sobol_indices(y: np.ndarray, n: int, d: int) -> tuple[np.ndarray, np.ndarray, float]:
    """First-order and total indices from the outputs of a Saltelli design (see module doc)."""
    if y.size != n * (d + 2):
        raise IndexSpecError(f"{y.size} outputs do not fit N = {n}, d = {d}")
    ya, yb = y[:n], y[n : 2 * n]
    yab = y[2 * n :].reshape(d, n)
    var = float(np.var(np.concatenate([ya, yb]), ddof=1))
    si = np.mean(yb * (yab - ya), axis=1) / var
    sti = np.sum((ya - yab) ** 2, axis=1) / (2 * n * var)
    return si, sti, var


def _noisy_weight_sets(
    fw: Framework, nominal: dict[str, float], noise: dict[int, float], n_sets: int, rng
) -> list[dict[str, float]]:
    sets = []
    for _ in range(n_sets):
        w = dict(nominal)
        for lv in sorted(noise):
            codes = [c for c in fw.codes.get(lv, []) if c != fw.root]
            u = rng.random(len(codes))
            for c, ui in zip(codes, u, strict=True):
                w[c] = nominal[c] + (ui * 2 - 1) * noise[lv] * nominal[c]
        sets.append(w)
    return sets


def _variant_spec(spec: IndexSpec, imp: object, norm: object, agg: object) -> IndexSpec:
    """The spec with one option of each uncertain input put in (validated like a spec)."""
    steps = spec.steps
    try:
        upd: dict[str, object] = {}
        if imp is not None:
            base = steps.impute or ImputeStep()
            upd["impute"] = ImputeStep.model_validate({**base.model_dump(), "method": imp})
        if norm is not None:
            upd["normalise"] = NormaliseStep.model_validate(norm)
        if agg is not None:
            upd["aggregate"] = AggregateStep.model_validate(
                {**steps.aggregate.model_dump(), "method": agg}
            )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise IndexSpecError(
            f"invalid uncertainty option {imp or norm or agg!r}: {first['msg']}",
            hint="options must be valid imputation, normalisation or aggregation steps",
        ) from exc
    return spec.model_copy(update={"steps": steps.model_copy(update=upd)})


def _batch_level(
    vals: np.ndarray, w: np.ndarray, member: np.ndarray, method: str, step: AggregateStep
) -> np.ndarray:
    """Aggregate children (R × U × n, or U × n shared by all R) into (R × U × p) parents.

    For the means, Σ_i f(x_ui) w_ri over the children of each parent is one batched matrix
    product f(X) · (w_r ∘ M); a table shared by all replications is never copied R times.
    """
    ok = ~np.isnan(vals)
    if method in ("amean", "gmean", "hmean"):
        if method == "gmean" and np.any(vals[ok] <= 0):
            raise MethodDomainError("geometric mean of zero or negative values")
        if method == "hmean" and np.any(vals[ok] == 0):
            raise MethodDomainError("harmonic mean of a zero value")
        filled = np.where(ok, vals, 1.0)
        f = {"amean": filled, "gmean": np.log(filled), "hmean": 1.0 / filled}[method]
        f = np.where(ok, f, 0.0)
        wm = w[:, :, None] * member[None, :, :]
        num = np.matmul(f, wm)
        den = np.matmul(ok.astype(np.float64), wm)
        with np.errstate(invalid="ignore", divide="ignore"):
            if method == "amean":
                out = num / den
            elif method == "gmean":
                out = np.exp(num / den)
            else:
                out = den / num
            out = np.where(den > 0, out, np.nan)
        if step.dat_thresh is not None:
            frac = np.matmul(ok.astype(np.float64), member) / member.sum(axis=0)
            out = np.where(frac >= step.dat_thresh, out, np.nan)
        return out
    if method == "genmean":
        wm = w[:, :, None] * member[None, :, :]
        with np.errstate(invalid="ignore", divide="ignore"):
            out = (np.matmul(vals**step.p, wm) / np.matmul(np.ones_like(vals), wm)) ** (1 / step.p)
        return out
    # Rank-based and distance-based methods are not linear in the weights: loop replications.
    if vals.ndim == 2:
        vals = np.broadcast_to(vals, (w.shape[0], *vals.shape))
    r, u, _ = vals.shape
    out = np.empty((r, u, member.shape[1]))
    for k in range(member.shape[1]):
        idx = np.flatnonzero(member[:, k])
        for i in range(r):
            out[i, :, k] = aggregate_level(vals[i][:, idx], w[i, idx], method, step)
    return out


def _batch_scores(
    fw: Framework,
    normalised: np.ndarray,
    weight_rows: list[np.ndarray],
    methods: list[str],
    step: AggregateStep,
) -> np.ndarray:
    """Index scores (R × U) for R weight sets on one normalised table (U × indicators)."""
    n_rep = weight_rows[0].shape[0]
    vals = normalised
    for lv in range(1, fw.n_levels):
        try:
            vals = _batch_level(vals, weight_rows[lv - 1], fw.membership(lv), methods[lv - 1], step)
        except MethodDomainError:
            return np.full((n_rep, normalised.shape[0]), np.nan)
    return np.asarray(vals[:, :, 0])


def _rank_rows(scores: np.ndarray) -> np.ndarray:
    return np.asarray(rankdata(-scores, method="min", axis=1, nan_policy="omit"), dtype=float)


def _options(inp: UncertainInput) -> list[object]:
    if inp.kind != "weights" and not inp.options:
        raise IndexSpecError(f"uncertain input {inp.name} lists no options")
    return list(inp.options)


def run_uncertainty(
    spec: IndexSpec,
    data: IndicatorData,
    analysis: UncertaintySpec | None = None,
    vectorised: bool = True,
) -> UncertaintyResult:
    """Run the uncertainty (UA) or sensitivity (SA) analysis declared in the spec.

    `vectorised=False` rebuilds the whole index for every replication (the reference the
    batched path is tested and benchmarked against).
    """
    ua = analysis or spec.uncertainty
    if ua is None or not ua.inputs:
        raise IndexSpecError("no uncertainty inputs declared", hint="add `uncertainty.inputs`")
    nominal = build(spec, data)
    fw = nominal.framework
    units = list(nominal.scores.index)
    nominal_w = dict(zip(nominal.weights["iCode"], nominal.weights["Weight"], strict=True))
    rng = np.random.default_rng(ua.seed)
    d = len(ua.inputs)
    weight_sets: list[dict[str, float]] = [nominal_w]
    for inp in ua.inputs:
        if inp.kind == "weights":
            weight_sets = _noisy_weight_sets(fw, nominal_w, inp.noise, inp.n_sets, rng)
    if ua.type == "SA":
        if d < 2:
            raise IndexSpecError("a sensitivity analysis needs at least two uncertain inputs")
        design = saltelli_design(rng, ua.n, d)
    else:
        design = rng.random((ua.n, d))
    n_runs = design.shape[0]
    choice = {"weights": np.zeros(n_runs, np.int64)}
    picked: dict[str, list[object]] = {"impute": [None], "normalise": [None], "aggregate": [None]}
    for j, inp in enumerate(ua.inputs):
        n_alt = inp.n_sets if inp.kind == "weights" else len(_options(inp))
        choice[inp.kind] = cut_index(design[:, j], n_alt)
        if inp.kind != "weights":
            picked[inp.kind] = _options(inp)
    for k in ("impute", "normalise", "aggregate"):
        choice.setdefault(k, np.zeros(n_runs, np.int64))

    all_codes = [c for lv in range(1, fw.n_levels) for c in fw.codes[lv]]
    wmat = np.array([[ws[c] for c in all_codes] for ws in weight_sets])
    scores = np.full((n_runs, len(units)), np.nan)
    if vectorised:
        keys = np.stack([choice["impute"], choice["normalise"], choice["aggregate"]], axis=1)
        for key in np.unique(keys, axis=0):
            rows = np.flatnonzero(np.all(keys == key, axis=1))
            imp, norm, agg = (picked[k][int(i)] for k, i in zip(picked, key, strict=True))
            variant = _variant_spec(spec, imp, norm, None)
            agg_step = _variant_spec(spec, None, None, agg).steps.aggregate
            methods = level_methods(agg_step, fw.n_levels)
            prepared = build(
                variant.model_copy(
                    update={
                        "steps": variant.steps.model_copy(update={"aggregate": AggregateStep()})
                    }
                ),
                data,
            )
            table = prepared.datasets["Normalised"].loc[units, fw.indicators].to_numpy(float)
            for start in range(0, rows.size, CHUNK):
                part = rows[start : start + CHUNK]
                w = wmat[choice["weights"][part]]
                split, pos = [], 0
                for lv in range(1, fw.n_levels):
                    n_lv = len(fw.codes[lv])
                    split.append(w[:, pos : pos + n_lv])
                    pos += n_lv
                scores[part] = _batch_scores(fw, table, split, methods, agg_step)
    else:
        for i in range(n_runs):
            imp = picked["impute"][int(choice["impute"][i])]
            norm = picked["normalise"][int(choice["normalise"][i])]
            agg = picked["aggregate"][int(choice["aggregate"][i])]
            try:
                res = build(
                    _variant_spec(spec, imp, norm, agg),
                    data,
                    weights=weight_sets[int(choice["weights"][i])],
                )
            except MethodDomainError:
                continue
            scores[i] = res.scores[fw.root].loc[units].to_numpy(float)

    ranks = _rank_rows(scores)
    nom_score = nominal.scores[fw.root].loc[units].to_numpy(float)
    nom_rank = m.rank_min(nom_score, descending=True)
    stat_rows = ranks[: 2 * ua.n] if ua.type == "SA" else ranks
    with np.errstate(all="ignore"):
        rank_stats = pd.DataFrame(
            {
                "uCode": units,
                "Nominal": nom_rank,
                "Mean": np.nanmean(stat_rows, axis=0),
                "Median": np.nanmedian(stat_rows, axis=0),
                "Q5": np.nanquantile(stat_rows, 0.05, axis=0),
                "Q95": np.nanquantile(stat_rows, 0.95, axis=0),
            }
        )
    sens, var = None, None
    if ua.type == "SA":
        with np.errstate(all="ignore"):
            y = np.nanmean(np.abs(ranks - nom_rank), axis=1)
        si, sti, var = sobol_indices(y, ua.n, d)
        sens = pd.DataFrame({"Variable": [i.name for i in ua.inputs], "Si": si, "STi": sti})
    choices = pd.DataFrame({inp.name: choice[inp.kind] for inp in ua.inputs})
    return UncertaintyResult(
        units=units,
        scores=scores,
        ranks=ranks,
        nominal_score=nom_score,
        nominal_rank=nom_rank,
        choices=choices,
        rank_stats=rank_stats,
        sensitivity=sens,
        variance=var,
        spec_hash=nominal.spec_hash,
    )
