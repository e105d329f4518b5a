"""Build an index: each step writes its own dataset so every intermediate can be inspected.

Raw → Denominated → Screened → Imputed → Treated → Normalised → Aggregated, then scores and
ranks (higher score, better rank; ties get the smallest rank). The order and conventions are
COINr 1.1's; the content hash of the spec is carried by the result.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources

import numpy as np
import pandas as pd

from carbonlink.indices import methods as m
from carbonlink.indices.data import NAME_COL, TIME_COL, UNIT_COL, IndicatorData
from carbonlink.indices.errors import IndexDataError, IndexSpecError, IndexWarning
from carbonlink.indices.spec import (
    AggregateStep,
    ImputeStep,
    IndexSpec,
    NormaliseStep,
    TreatStep,
    WeightStep,
)

__all__ = ["Framework", "IndexResult", "build", "build_panel", "load_random_index"]


class Framework:
    """The compiled tree: codes per level, children in spec order, membership matrices."""

    def __init__(self, spec: IndexSpec) -> None:
        self.spec = spec
        self.level = spec.levels()
        self.parent: dict[str, str | None] = {n.code: n.parent for n in spec.framework}
        self.parent.update({i.code: i.parent for i in spec.indicators})
        self.spec_weight: dict[str, float] = {n.code: n.weight for n in spec.framework}
        self.spec_weight.update({i.code: i.weight for i in spec.indicators})
        self.n_levels = max(self.level.values())
        order = [i.code for i in spec.indicators] + [n.code for n in spec.framework]
        self.codes: dict[int, list[str]] = {
            lv: [c for c in order if self.level[c] == lv] for lv in range(1, self.n_levels + 1)
        }
        self.children: dict[str, list[str]] = {}
        for c in order:
            p = self.parent[c]
            if p is not None:
                self.children.setdefault(p, []).append(c)
        self.root = self.codes[self.n_levels][0]
        self.indicators = self.codes[1]
        self.direction = np.array([float(i.direction) for i in spec.indicators])

    def membership(self, level: int) -> np.ndarray:
        """0/1 matrix (codes of `level` × codes of `level + 1`)."""
        rows, cols = self.codes[level], self.codes[level + 1]
        out = np.zeros((len(rows), len(cols)))
        for i, c in enumerate(rows):
            out[i, cols.index(self.parent[c])] = 1.0  # type: ignore[arg-type]
        return out

    def sibling_total(self, weights: Mapping[str, float], code: str) -> float:
        """The weights of ``code`` and its siblings added up; zero is refused by name."""
        parent = self.parent[code]
        siblings = self.children[parent] if parent is not None else [code]
        total = float(sum(weights[s] for s in siblings))
        if total == 0:
            raise IndexSpecError(
                f"the weights of the children of {parent} sum to zero",
                hint="give at least one of them a non-zero weight (data-driven weights are "
                "zero when no child has data)",
            )
        return total

    def effective_weights(self, weights: Mapping[str, float]) -> dict[str, float]:
        """Weight of each code in the index: within-parent shares multiplied down the tree."""
        eff = {self.root: 1.0}
        for lv in range(self.n_levels - 1, 0, -1):
            for c in self.codes[lv]:
                p = self.parent[c]
                eff[c] = eff[p] * weights[c] / self.sibling_total(weights, c)  # type: ignore[index]
        return eff


def load_random_index(table: str | Mapping[int, float]) -> dict[int, float]:
    """AHP random-index table: a shipped table by name or an explicit {n: RI} mapping."""
    if not isinstance(table, str):
        return {int(k): float(v) for k, v in table.items()}
    ref = resources.files("carbonlink.data").joinpath("indices", "ahp_random_index.csv")
    with ref.open("r", encoding="utf-8") as fh:
        frame = pd.read_csv(fh)
    rows = frame[frame["table"] == table]
    if rows.empty:
        raise IndexSpecError(
            f"unknown random-index table {table!r}",
            hint=f"shipped tables: {sorted(frame['table'].unique())}, or give {{n: RI}}",
        )
    return {int(n): float(ri) for n, ri in zip(rows["n"], rows["ri"], strict=True)}


@dataclass
class IndexResult:
    """Everything one build produced; tables are indexed by unit code."""

    spec: IndexSpec
    spec_hash: str
    datasets: dict[str, pd.DataFrame]
    weights: pd.DataFrame
    treatment: pd.DataFrame
    screening: pd.DataFrame
    ahp: pd.DataFrame
    unit_names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @cached_property
    def framework(self) -> Framework:
        """The compiled framework of the spec."""
        return Framework(self.spec)

    @property
    def scores(self) -> pd.DataFrame:
        """Aggregate scores (all levels above the indicators), the index last."""
        fw = self.framework
        cols = [c for lv in range(2, fw.n_levels + 1) for c in fw.codes[lv]]
        return self.datasets["Aggregated"][cols]

    @property
    def ranks(self) -> pd.DataFrame:
        """Ranks of every column of the aggregated dataset (1 = best, ties = min)."""
        agg = self.datasets["Aggregated"]
        return agg.apply(lambda s: pd.Series(m.rank_min(s.to_numpy(float), True), s.index))

    def index_table(self) -> pd.DataFrame:
        """Index score and rank per unit, best first."""
        root = self.framework.root
        out = pd.DataFrame(
            {
                "uName": [self.unit_names.get(u, u) for u in self.scores.index],
                "score": self.scores[root],
                "rank": self.ranks[root],
            },
            index=self.scores.index,
        )
        out.index.name = UNIT_COL
        return out.sort_values(["rank", "score"], ascending=[True, False])


# --- steps --------------------------------------------------------------------------------


def _select_year(data: IndicatorData, spec: IndexSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows of the build year (spec.time or the latest) and the whole panel."""
    frame = data.frame
    if TIME_COL not in frame.columns:
        return frame.set_index(UNIT_COL), frame
    year = spec.time if spec.time is not None else int(frame[TIME_COL].max())
    rows = frame[frame[TIME_COL] == year]
    if rows.empty:
        raise IndexDataError(f"no rows for Time = {year}", file=data.source)
    return rows.set_index(UNIT_COL), frame


def denominate(raw: pd.DataFrame, spec: IndexSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """x / (denominator / scale) for each indicator with a denominator (COINr `Denominate`)."""
    out = raw.copy()
    for ind in spec.indicators:
        if ind.denominator:
            out[ind.code] = raw[ind.code] / (frame[ind.denominator] / ind.denominator_scale)
    return out


def screen(table: pd.DataFrame, spec: IndexSpec) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep units with enough data (COINr `Screen`): share available ≥ dat_thresh etc.

    Non-zero share is counted among the available values (COINr `get_data_avail`).
    """
    x = table.to_numpy(float)
    ok = ~np.isnan(x)
    avail = ok.sum(axis=1) / x.shape[1]
    with np.errstate(invalid="ignore", divide="ignore"):
        nonzero = 1 - ((x == 0) & ok).sum(axis=1) / ok.sum(axis=1)
    report = pd.DataFrame({"Dat_Avail": avail, "Non_Zero": nonzero}, index=table.index)
    s = spec.steps.screen
    if s is None:
        report["Included"] = True
        return table, report
    low_data = avail < s.dat_thresh
    low_zero = nonzero < s.nonzero_thresh
    keep = {"byNA": ~low_data, "byzeros": ~low_zero, "byNAandzeros": ~(low_data | low_zero)}[s.by]
    keep = keep | table.index.isin(s.force_include)
    keep = keep & ~table.index.isin(s.force_exclude)
    report["LowData"] = low_data
    report["LowNonZero"] = low_zero
    report["Included"] = keep
    return table[keep], report


def impute(
    table: pd.DataFrame, step: ImputeStep | None, frame: pd.DataFrame, year_rows: pd.DataFrame
) -> pd.DataFrame:
    """Fill missing values column by column (COINr `Impute`, `impute_panel`)."""
    if step is None or step.method == "none":
        return table.copy()
    out = table.copy()
    if step.method in ("latest", "linear"):
        if TIME_COL not in frame.columns:
            raise IndexDataError("panel imputation needs a Time column")
        year = int(year_rows[TIME_COL].iloc[0])
        for code in out.columns:
            wide = frame.pivot(index=UNIT_COL, columns=TIME_COL, values=code)
            years = np.array(
                sorted(c for c in wide.columns if c <= year or step.method == "linear")
            )
            for u in out.index[out[code].isna()]:
                series = wide.loc[u, years].to_numpy(float)
                ok = ~np.isnan(series)
                if step.method == "latest":
                    older = [i for i in range(len(years) - 1, -1, -1) if years[i] < year and ok[i]]
                    if step.max_time is not None:
                        lim = sorted((y for y in years if y < year), reverse=True)[: step.max_time]
                        older = [i for i in older if years[i] in lim]
                    if older:
                        out.loc[u, code] = series[older[0]]
                elif ok.any():
                    out.loc[u, code] = float(np.interp(year, years[ok], series[ok]))
        return out
    groups = None
    if step.method in ("mean_group", "median_group"):
        if step.group is None or step.group not in year_rows.columns:
            raise IndexSpecError(f"group imputation needs a group column, got {step.group!r}")
        groups = year_rows.loc[out.index, step.group].to_numpy(object)
    for code in out.columns:
        out[code] = m.impute_column(out[code].to_numpy(float), step.method, groups)
    return out


def treat(table: pd.DataFrame, step: TreatStep | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Outlier treatment of every indicator (COINr `Treat` defaults)."""
    out = table.copy()
    rows = []
    for code in table.columns:
        x = table[code].to_numpy(float)
        if step is None or step.method == "none" or code in step.exclude:
            continue
        res = m.treat_column(
            x,
            winmax=step.winmax,
            skew_thresh=step.skew_thresh,
            kurt_thresh=step.kurt_thresh,
            fallback=step.fallback,
            boxcox_lambda=step.boxcox_lambda,
            combine=step.combine,
            force_win=step.force_win,
        )
        out[code] = res.values
        rows.append(
            {
                "iCode": code,
                "Skew": m.skewness(x),
                "Kurt": m.kurtosis(x),
                "Pass_before": res.passed_before,
                "n_winsorised": res.n_winsorised,
                "transform": res.transformed,
                "Pass_after": res.passed_after,
                "Skew_after": m.skewness(res.values),
                "Kurt_after": m.kurtosis(res.values),
                "points": ";".join(
                    f"{u}:{p}" for u, p in zip(table.index, res.points, strict=True) if p
                ),
            }
        )
    return out, pd.DataFrame(rows)


def normalise(table: pd.DataFrame, step: NormaliseStep, spec: IndexSpec) -> pd.DataFrame:
    """Normalise each indicator with its direction (COINr `Normalise`)."""
    out = table.copy()
    for ind in spec.indicators:
        st = step.by_indicator.get(ind.code, step)
        params = dict(st.params)
        if st.method == "dist2targ" and "target" not in params:
            if ind.target is None:
                raise IndexSpecError(f"{ind.code}: dist2targ needs a target")
            params["target"] = ind.target
        if st.method == "goalposts" and "lower" not in params:
            if ind.goalposts is None:
                raise IndexSpecError(f"{ind.code}: goalposts normalisation needs goalposts")
            params["lower"], params["upper"] = ind.goalposts
        if st.method in ("dist2ref", "base_index") and "iref" not in params:
            if st.ref_unit is None or st.ref_unit not in table.index:
                raise IndexSpecError(f"{st.method} needs ref_unit, a unit code present in data")
            params["iref"] = int(table.index.get_loc(st.ref_unit))
        values = table[ind.code].to_numpy(float)
        out[ind.code] = m.normalise_column(values, st.method, ind.direction, params)
        if np.any(~np.isnan(values)) and np.all(np.isnan(out[ind.code].to_numpy(float))):
            warnings.warn(
                f"{ind.code} normalises to no value with {st.method} (a constant indicator has "
                "no range): it drops out of every aggregate that contains it",
                IndexWarning,
                stacklevel=2,
            )
    return out


def _within(fw: Framework, w: Mapping[str, float], codes: list[str]) -> dict[str, float]:
    return {c: w[c] / fw.sibling_total(w, c) for c in codes}


def compute_weights(
    fw: Framework, step: WeightStep, basis: pd.DataFrame, normalised: pd.DataFrame
) -> tuple[dict[str, float], pd.DataFrame]:
    """Weights of every code (relative within its parent) and the AHP consistency table."""
    w = dict(fw.spec_weight)
    ahp_rows: list[dict[str, object]] = []

    def apply_ahp(target: dict[str, float]) -> None:
        ri = load_random_index(step.random_index)
        for parent, matrix in step.ahp.items():
            kids = fw.children.get(parent)
            if kids is None:
                raise IndexSpecError(f"AHP matrix for unknown parent {parent!r}")
            if len(matrix) != len(kids):
                raise IndexSpecError(f"AHP matrix of {parent} must be {len(kids)}×{len(kids)}")
            vec, lam, cr = m.ahp_weights(np.array(matrix, dtype=float), ri, step.max_cr)
            target.update(dict(zip(kids, vec.tolist(), strict=True)))
            ahp_rows.append({"parent": parent, "n": len(kids), "lambda_max": lam, "CR": cr})

    def objective(kind: str) -> dict[str, float]:
        codes = fw.indicators
        x = basis[codes].to_numpy(float)
        groups = [fw.children[p] for p in fw.codes[2]] if step.by_groups else [codes]
        out: dict[str, float] = {}
        for grp_all in groups:
            # Indicators without any value carry no information: weight 0 (COINr forbids NaN).
            grp = [c for c in grp_all if not np.all(np.isnan(x[:, codes.index(c)]))]
            out.update({c: 0.0 for c in grp_all if c not in grp})
            if not grp:
                out.update({c: fw.spec_weight[c] for c in grp_all})
                continue
            idx = [codes.index(c) for c in grp]
            sub, dirs = x[:, idx], fw.direction[idx]
            if kind == "entropy":
                v = m.entropy_weights(sub, dirs, step.entropy_shift, step.entropy_standardise)
            elif kind == "critic":
                v = m.critic_weights(sub, dirs, step.ddof) if len(grp) > 1 else np.ones(1)
            elif kind == "cv":
                v = m.cv_weights(sub, step.ddof)
            else:
                v = m.pca_weights(sub, dirs)[0] if len(grp) > 1 else np.ones(1)
            out.update(dict(zip(grp, v.tolist(), strict=True)))
        return out

    if step.method == "ahp":
        apply_ahp(w)
    elif step.method in ("entropy", "critic", "cv", "pca"):
        w.update(objective(step.method))
    elif step.method == "combined":
        subj = dict(fw.spec_weight)
        if step.subjective == "ahp":
            apply_ahp(subj)
        obj = objective(step.objective)
        s_in = _within(fw, subj, fw.indicators)
        o_in = _within(fw, {**subj, **obj}, fw.indicators)
        if step.combine_rule == "additive":
            comb = {c: step.alpha * s_in[c] + (1 - step.alpha) * o_in[c] for c in fw.indicators}
        else:
            comb = {c: s_in[c] * o_in[c] for c in fw.indicators}
        w.update(subj)
        w.update(comb)
    return w, pd.DataFrame(ahp_rows, columns=["parent", "n", "lambda_max", "CR"])


def aggregate_level(
    values: np.ndarray, w: np.ndarray, method: str, step: AggregateStep
) -> np.ndarray:
    """Aggregate the children of one parent (units × children) into one column."""
    if method == "amean":
        return m.amean(values, w, step.dat_thresh)
    if method == "gmean":
        return m.gmean(values, w, step.dat_thresh)
    if method == "hmean":
        return m.hmean(values, w, step.dat_thresh)
    if method == "genmean":
        return m.genmean(values, w, step.p, step.dat_thresh)
    if method == "copeland":
        return m.copeland(values, w)
    if method == "topsis":
        return m.topsis(values, w, step.topsis_vector_normalise)
    if method == "mazziotta_pareto":
        return m.mazziotta_pareto(values, step.mp_penalty)
    raise IndexSpecError(f"unknown aggregation method {method!r}")


def level_methods(step: AggregateStep, n_levels: int) -> list[str]:
    """The aggregation method of each level 2..n."""
    if isinstance(step.method, str):
        return [step.method] * (n_levels - 1)
    if len(step.method) != n_levels - 1:
        raise IndexSpecError(
            f"aggregate.method lists {len(step.method)} methods for {n_levels - 1} levels"
        )
    return list(step.method)


def aggregate(
    fw: Framework, normalised: pd.DataFrame, w: Mapping[str, float], step: AggregateStep
) -> pd.DataFrame:
    """Aggregate level by level; the result holds the indicators and every aggregate."""
    out = normalised[fw.indicators].copy()
    for lv, method in zip(range(2, fw.n_levels + 1), level_methods(step, fw.n_levels), strict=True):
        new = {}
        for code in fw.codes[lv]:
            kids = fw.children[code]
            vals = out[kids].to_numpy(float)
            new[code] = aggregate_level(vals, np.array([w[k] for k in kids]), method, step)
        out = pd.concat([out, pd.DataFrame(new, index=out.index)], axis=1)
    return out


@dataclass
class _Prepared:
    """The data steps of one year, before normalisation."""

    datasets: dict[str, pd.DataFrame]
    treatment: pd.DataFrame
    screening: pd.DataFrame
    names: dict[str, str]


def _prepare(spec: IndexSpec, data: IndicatorData, fw: Framework) -> _Prepared:
    year_rows, frame = _select_year(data, spec)
    names = year_rows[NAME_COL].astype(str).to_dict() if NAME_COL in year_rows.columns else {}
    raw = year_rows[fw.indicators].astype(float)
    datasets = {"Raw": raw}
    current = raw
    treatment = pd.DataFrame()
    screening = screen(raw, spec)[1]
    for step in spec.steps.order:
        if step == "denominate":
            if spec.steps.denominate and any(i.denominator for i in spec.indicators):
                current = denominate(current, spec, year_rows)
                datasets["Denominated"] = current
        elif step == "screen":
            if spec.steps.screen is not None:
                current, screening = screen(current, spec)
                datasets["Screened"] = current
                if current.empty:
                    raise IndexDataError("no unit left after screening", file=data.source)
        elif step == "impute":
            if spec.steps.impute is not None:
                current = impute(current, spec.steps.impute, frame, year_rows)
                datasets["Imputed"] = current
        elif spec.steps.treat is not None:
            current, treatment = treat(current, spec.steps.treat)
            datasets["Treated"] = current
    datasets["_basis"] = current
    return _Prepared(datasets, treatment, screening, names)


def _pooled_normalisation(spec: IndexSpec, data: IndicatorData, fw: Framework) -> pd.DataFrame:
    """Normalise every year of a panel at once (COINr `Normalise` of a purse, global = TRUE).

    Minimum, maximum, mean, ranks … are taken over all years, so scores are comparable in time.
    Returns the normalised rows of all years indexed by (Time, uCode).
    """
    years = sorted(int(y) for y in data.frame[TIME_COL].unique())
    parts = []
    for year in years:
        prepared = _prepare(spec.model_copy(update={"time": year}), data, fw)
        parts.append(prepared.datasets["_basis"].assign(**{TIME_COL: year}))
    pooled = pd.concat(parts).reset_index().set_index([TIME_COL, UNIT_COL])
    flat = normalise(pooled.reset_index(drop=True), spec.steps.normalise, spec)
    flat.index = pooled.index
    return flat


def build(
    spec: IndexSpec,
    data: IndicatorData,
    weights: Mapping[str, float] | None = None,
) -> IndexResult:
    """Build the index from data: every step's dataset, weights, scores and ranks.

    With panel data the year is `spec.time` (default: the latest); with
    `normalise.panel_global` the normalisation is taken over all years of the panel.
    """
    data.check_against(spec)
    fw = Framework(spec)
    prepared = _prepare(spec, data, fw)
    datasets = prepared.datasets
    basis = datasets.pop("_basis")
    if spec.steps.normalise.panel_global and data.is_panel:
        year = spec.time if spec.time is not None else int(data.frame[TIME_COL].max())
        normalised = _pooled_normalisation(spec, data, fw).xs(year, level=TIME_COL)
        normalised = normalised.loc[basis.index]
    else:
        normalised = normalise(basis, spec.steps.normalise, spec)
    datasets["Normalised"] = normalised
    w, ahp = compute_weights(fw, spec.steps.weight, basis, normalised)
    if weights is not None:
        w.update(weights)
    datasets["Aggregated"] = aggregate(fw, normalised, w, spec.steps.aggregate)
    eff = fw.effective_weights(w)
    wtab = pd.DataFrame(
        {
            "iCode": list(eff),
            "Level": [fw.level[c] for c in eff],
            "Parent": [fw.parent.get(c) or "" for c in eff],
            "Weight": [w.get(c, 1.0) for c in eff],
            "EffWeight": list(eff.values()),
        }
    ).sort_values(["Level", "iCode"], ascending=[False, True])
    return IndexResult(
        spec=spec,
        spec_hash=spec.content_hash(),
        datasets=datasets,
        weights=wtab.reset_index(drop=True),
        treatment=prepared.treatment,
        screening=prepared.screening,
        ahp=ahp,
        unit_names=prepared.names,
    )


def build_panel(spec: IndexSpec, data: IndicatorData) -> dict[int, IndexResult]:
    """Build the index for every year of panel data (COINr's purse of coins)."""
    if TIME_COL not in data.frame.columns:
        raise IndexDataError("build_panel needs a Time column", file=data.source)
    years = sorted(int(y) for y in data.frame[TIME_COL].unique())
    return {y: build(spec.model_copy(update={"time": y}), data) for y in years}
