"""The declarative index spec: framework, indicator metadata and the method of every step.

A spec is YAML validated by pydantic. Its content hash (SHA-256 of the canonical JSON of the
validated model) is recorded with every result, so a score can always be traced to the exact
method that produced it.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from carbonlink.indices.errors import IndexSpecError, IndexWarning

__all__ = [
    "AggregateStep",
    "ImputeStep",
    "IndexSpec",
    "IndicatorSpec",
    "NodeSpec",
    "NormaliseStep",
    "ScreenStep",
    "TreatStep",
    "UncertainInput",
    "UncertaintySpec",
    "WeightStep",
    "load_spec",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NodeSpec(_Model):
    """An aggregate of the framework (a dimension, pillar, the index itself)."""

    code: str
    name: str = ""
    parent: str | None = None
    weight: float = 1.0


class IndicatorSpec(_Model):
    """One indicator: where it sits, which way is better, its unit, source and weight."""

    code: str
    name: str = ""
    parent: str
    direction: Literal[1, -1] = 1
    unit: str = ""
    source: str = ""
    weight: float = 1.0
    target: float | None = None
    goalposts: tuple[float, float] | None = None
    denominator: str | None = None
    denominator_scale: float = 1.0
    note: str = ""


class ScreenStep(_Model):
    """Drop units with too little data (COINr `Screen`, defaults dat_thresh 2/3, nonzero 0.05)."""

    by: Literal["byNA", "byzeros", "byNAandzeros"] = "byNA"
    dat_thresh: float = 2 / 3
    nonzero_thresh: float = 0.05
    force_include: list[str] = Field(default_factory=list)
    force_exclude: list[str] = Field(default_factory=list)


class ImputeStep(_Model):
    """Fill missing values; `group` names the group column for the group methods."""

    method: Literal["none", "mean", "median", "mean_group", "median_group", "latest", "linear"] = (
        "mean"
    )
    group: str | None = None
    max_time: int | None = None


class TreatStep(_Model):
    """Outlier treatment (COINr `Treat` defaults)."""

    method: Literal["winsorise", "none"] = "winsorise"
    winmax: int | None = 5
    skew_thresh: float = 2.0
    kurt_thresh: float = 3.5
    fallback: Literal["log_CT", "boxcox", "none"] = "log_CT"
    boxcox_lambda: float = 0.0
    combine: bool = False
    force_win: bool = False
    exclude: list[str] = Field(default_factory=list)


class NormaliseStep(_Model):
    """Normalisation method and parameters; `by_indicator` overrides per indicator code.

    `panel_global`: with panel data, normalise all years together (COINr `global = TRUE`).
    """

    method: Literal[
        "minmax",
        "efficacy",
        "zscore",
        "scaled",
        "dist2max",
        "dist2ref",
        "dist2targ",
        "fracmax",
        "goalposts",
        "rank",
        "prank",
        "borda",
        "base_index",
        "none",
    ] = "minmax"
    params: dict[str, Any] = Field(default_factory=dict)
    ref_unit: str | None = None
    panel_global: bool = False
    by_indicator: dict[str, NormaliseStep] = Field(default_factory=dict)


class WeightStep(_Model):
    """How indicator weights are obtained (upper levels use framework or AHP weights).

    - manual: weights from the framework;
    - ahp: `ahp` maps a parent code to its children's pairwise matrix (children in framework
      order); parents without a matrix keep framework weights; any level;
    - entropy (`entropy_shift`, `entropy_standardise`), critic, cv, pca: from the data;
    - combined: `alpha` · subjective (manual or ahp) + (1 − alpha) · objective
      (`objective`), or their normalised product when `combine_rule` is multiplicative.
    """

    method: Literal["manual", "ahp", "entropy", "critic", "cv", "pca", "combined"] = "manual"
    ahp: dict[str, list[list[float]]] = Field(default_factory=dict)
    random_index: str | dict[int, float] = "saaty"
    max_cr: float | None = 0.1
    entropy_shift: float = 0.0
    entropy_standardise: Literal["minmax", "ratio"] = "minmax"
    ddof: int = 1
    by_groups: bool = True
    subjective: Literal["manual", "ahp"] = "manual"
    objective: Literal["entropy", "critic", "cv", "pca"] = "entropy"
    alpha: float = 0.5
    combine_rule: Literal["additive", "multiplicative"] = "additive"


AggMethod = Literal["amean", "gmean", "hmean", "genmean", "copeland", "topsis", "mazziotta_pareto"]


class AggregateStep(_Model):
    """Aggregation method per level (one for all, or a list from level 2 upwards)."""

    method: AggMethod | list[AggMethod] = "amean"
    p: float = 2.0
    dat_thresh: float | None = None
    topsis_vector_normalise: bool = True
    mp_penalty: Literal[-1, 1] = -1


class UncertainInput(_Model):
    """One uncertain choice of the spec for the uncertainty and sensitivity analysis.

    kind `weights`: the nominal weights times 1 + U(−noise, noise) per level (COINr
    `get_noisy_weights`), `n_sets` alternative sets; other kinds: a discrete list of options
    (imputation method names, normalisation steps, aggregation method names).
    """

    name: str
    kind: Literal["weights", "impute", "normalise", "aggregate"]
    noise: dict[int, float] = Field(default_factory=dict)
    n_sets: int = 100
    options: list[Any] = Field(default_factory=list)


class UncertaintySpec(_Model):
    """Uncertainty (UA: plain Monte Carlo) or sensitivity (SA: Saltelli design) analysis."""

    type: Literal["UA", "SA"] = "UA"
    n: int = 100
    seed: int = 1
    inputs: list[UncertainInput] = Field(default_factory=list)


StepName = Literal["denominate", "screen", "impute", "treat"]
DEFAULT_ORDER: tuple[StepName, ...] = ("denominate", "screen", "impute", "treat")


class Steps(_Model):
    """The build steps; a missing step is skipped.

    `order` sets the sequence of the data steps (COINr lets each step work on any dataset; its
    example coin imputes before it screens). Normalisation, weighting and aggregation follow.
    """

    order: list[StepName] = Field(default_factory=lambda: list(DEFAULT_ORDER))
    denominate: bool = True
    screen: ScreenStep | None = None
    impute: ImputeStep | None = None
    treat: TreatStep | None = None
    normalise: NormaliseStep = NormaliseStep()
    weight: WeightStep = WeightStep()
    aggregate: AggregateStep = AggregateStep()


class IndexSpec(_Model):
    """A composite index: framework, indicators, steps and optional uncertainty analysis."""

    name: str
    version: str = ""
    description: str = ""
    unit_label: str = "unit"
    time: int | None = None
    framework: list[NodeSpec]
    indicators: list[IndicatorSpec]
    steps: Steps = Steps()
    uncertainty: UncertaintySpec | None = None
    notes: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check_framework(self) -> IndexSpec:
        if len(set(self.steps.order)) != len(self.steps.order):
            raise ValueError(f"steps.order repeats a step: {self.steps.order}")
        codes = [n.code for n in self.framework] + [i.code for i in self.indicators]
        dupes = {c for c in codes if codes.count(c) > 1}
        if dupes:
            raise ValueError(f"duplicate codes in the framework: {sorted(dupes)}")
        nodes = {n.code for n in self.framework}
        roots = [n.code for n in self.framework if n.parent is None]
        if len(roots) != 1:
            raise ValueError(f"the framework needs exactly one root (no parent), found {roots}")
        for item in self._items():
            if item.parent is not None and item.parent not in nodes:
                raise ValueError(f"{item.code}: parent {item.parent!r} is not a framework node")
        for n in self.framework:
            if not any(c.parent == n.code for c in self._items()):
                raise ValueError(f"framework node {n.code} has no children")
        self._check_acyclic()
        self._check_weights()
        return self

    def _check_acyclic(self) -> None:
        """Every code must reach the root: a loop of parents would never end."""
        parent = {item.code: item.parent for item in self._items()}
        for code in parent:
            seen = [code]
            current = parent[code]
            while current is not None:
                if current in seen:
                    loop = " → ".join([*seen[seen.index(current) :], current])
                    raise ValueError(f"the framework has a cycle of parents: {loop}")
                seen.append(current)
                current = parent[current]

    def _check_weights(self) -> None:
        """Siblings' weights are shares of their parent: they cannot sum to zero.

        A negative weight is allowed (COINr allows it) but rarely meant, so it is warned about.
        """
        totals: dict[str, float] = {}
        for item in self._items():
            if item.parent is not None:
                totals[item.parent] = totals.get(item.parent, 0.0) + item.weight
            if item.weight < 0:
                warnings.warn(
                    f"{item.code} has a negative weight ({item.weight}): a higher value then "
                    "lowers its parent's score",
                    IndexWarning,
                    stacklevel=2,
                )
        for parent, total in totals.items():
            if total == 0:
                raise ValueError(
                    f"the weights of the children of {parent} sum to zero: give at least one "
                    "of them a non-zero weight"
                )

    def _items(self) -> list[NodeSpec | IndicatorSpec]:
        return [*self.framework, *self.indicators]

    def content_hash(self) -> str:
        """SHA-256 of the canonical JSON of the validated spec (sorted keys, no whitespace)."""
        text = json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def levels(self) -> dict[str, int]:
        """Level of every code: indicators 1, each aggregate one above its children."""
        children: dict[str, list[str]] = {}
        for item in self._items():
            if item.parent is not None:
                children.setdefault(item.parent, []).append(item.code)
        level = {i.code: 1 for i in self.indicators}

        def visit(code: str) -> int:
            if code in level:
                return level[code]
            lv = {visit(c) for c in children[code]}
            if len(lv) != 1:
                raise IndexSpecError(
                    f"children of {code} sit at different levels {sorted(lv)}",
                    hint="every aggregate must group codes of one level (as COINr requires)",
                )
            level[code] = lv.pop() + 1
            return level[code]

        for n in self.framework:
            visit(n.code)
        return level


def load_spec(path: Path) -> IndexSpec:
    """Read and validate a YAML index spec."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise IndexSpecError(f"cannot read the spec: {exc}", file=str(path)) from exc
    return spec_from_dict(raw, source=str(path))


def spec_from_dict(raw: object, source: str | None = None) -> IndexSpec:
    """Validate a spec given as plain data."""
    try:
        spec = IndexSpec.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise IndexSpecError(
            f"invalid spec at {where or 'top level'}: {first['msg']}",
            file=source,
            hint="see docs/indices.md for the spec format",
        ) from exc
    spec.levels()
    return spec
