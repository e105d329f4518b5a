"""Uncertainty of an emission total: error propagation (Approach 1) and Monte Carlo (Approach 2).

IPCC 2006 Guidelines, Vol. 1, Ch. 3:

- each source's emissions are a product of uncertain terms (activity data × emission factor × …);
  a term has a value and a relative uncertainty U (half-width of its 95 % interval / value);
- Approach 1, Eq. 3.1 (product): ``U_source = sqrt(U_1² + U_2² + …)``;
- Approach 1, Eq. 3.2 (sum): ``U_total = sqrt(Σ (U_s · x_s)²) / |Σ x_s|``;
- Approach 2: draw every term from its probability density, compute the total per draw and
  report the 2.5 and 97.5 percentiles as the 95 % interval.

Approach 1 assumes independent terms and small (< ~30 %), symmetric uncertainties; Approach 2
handles lognormal and triangular densities and correlation: terms that share a ``key`` (the same
grid factor used by several sources) take the same draw.

Parametrisations (stated because the Guidelines leave them to the compiler):
- normal: mean = value, σ = U·value/1.96;
- lognormal: mean = value and σ = U·value/1.96 as for the normal (moment matching),
  so ``σ_ln² = ln(1 + (U/1.96)²)`` and ``μ_ln = ln(value) − σ_ln²/2``;
- triangular: minimum = value·(1 + lower), mode = value, maximum = value·(1 + upper);
  Approach 1 uses its standard deviation, ``U = 1.96·σ/value``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from carbonlink.errors import InputError, UnknownFactorError

Distribution = Literal["normal", "lognormal", "triangular"]
Z95 = 1.959963984540054  # two-sided 95 % quantile of the standard normal


@dataclass(frozen=True)
class UncertainTerm:
    """One factor of a source's emissions with its uncertainty.

    ``u95`` is the relative half-width of the 95 % interval (0.05 = ±5 %) for normal and
    lognormal terms; triangular terms give ``lower``/``upper`` as relative offsets of the
    minimum and maximum from the value (e.g. −0.05, +0.10). ``key`` ties terms that must take
    the same draw (one factor used by several sources).
    """

    value: float
    u95: float = 0.0
    distribution: Distribution = "normal"
    lower: float = 0.0
    upper: float = 0.0
    key: str | None = None
    source: str = ""

    def relative_sd(self) -> float:
        """Standard deviation relative to the value."""
        if self.distribution == "triangular":
            a, c, b = 1.0 + self.lower, 1.0, 1.0 + self.upper
            return float(np.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18.0))
        return self.u95 / Z95

    def relative_u95(self) -> float:
        """The relative 95 % half-width used by Approach 1."""
        if self.distribution == "triangular":
            return Z95 * self.relative_sd()
        return self.u95


@dataclass(frozen=True)
class UncertainSource:
    """An emission source: emissions = product of its terms (t CO2e)."""

    name: str
    terms: tuple[UncertainTerm, ...]

    @property
    def emissions(self) -> float:
        """Central estimate: the product of the term values."""
        return float(np.prod([t.value for t in self.terms]))


@dataclass(frozen=True)
class Interval:
    """A central value with its 95 % interval and relative half-widths."""

    central: float
    lower: float
    upper: float

    @property
    def minus_pct(self) -> float:
        """Lower half-width in percent of the central value."""
        return 100.0 * (self.central - self.lower) / self.central if self.central else 0.0

    @property
    def plus_pct(self) -> float:
        """Upper half-width in percent of the central value."""
        return 100.0 * (self.upper - self.central) / self.central if self.central else 0.0


@dataclass(frozen=True)
class UncertaintyResult:
    """Total emissions with their 95 % interval, and each source's relative uncertainty."""

    total: Interval
    method: str
    source_u95: dict[str, float]
    draws: int = 0
    seed: int | None = None


def _validate(sources: tuple[UncertainSource, ...] | list[UncertainSource]) -> None:
    if not sources:
        raise InputError("no emission sources to combine", hint="give at least one source")
    for source in sources:
        for term in source.terms:
            if term.u95 < 0 or (
                term.distribution == "triangular" and not term.lower <= 0 <= term.upper
            ):
                raise InputError(
                    f"invalid uncertainty on a term of {source.name!r}",
                    record=source.name,
                    hint="u95 ≥ 0; triangular needs lower ≤ 0 ≤ upper (relative offsets)",
                )
            if term.distribution == "lognormal" and term.value <= 0:
                raise InputError(
                    f"lognormal term of {source.name!r} has value {term.value} ≤ 0",
                    record=source.name,
                    hint="use a normal density for quantities that can be zero or negative",
                )


def propagate(sources: list[UncertainSource]) -> UncertaintyResult:
    """Approach 1: Eq. 3.1 within each source, Eq. 3.2 across sources (IPCC 2006 Vol. 1 Ch. 3)."""
    _validate(sources)
    u_terms = [np.array([t.relative_u95() for t in s.terms]) for s in sources]
    u_source = np.array([float(np.sqrt(np.sum(u * u))) for u in u_terms])  # Eq. 3.1
    x = np.array([s.emissions for s in sources])
    total = float(x.sum())
    u_total = float(np.sqrt(np.sum((u_source * x) ** 2)) / abs(total)) if total else 0.0  # Eq. 3.2
    return UncertaintyResult(
        total=Interval(total, total * (1 - u_total), total * (1 + u_total)),
        method="IPCC 2006 Vol. 1 Ch. 3 Approach 1 (Eq. 3.1, 3.2)",
        source_u95={s.name: float(u) for s, u in zip(sources, u_source, strict=True)},
    )


def _draw(
    terms: list[UncertainTerm], draws: int, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Draws of every term (draws × terms), vectorised per distribution."""
    values = np.array([t.value for t in terms])
    sd = np.array([t.relative_sd() for t in terms]) * np.abs(values)
    kind = np.array([t.distribution for t in terms])
    out = np.empty((draws, len(terms)))
    normal = kind == "normal"
    if normal.any():
        out[:, normal] = rng.normal(values[normal], sd[normal], size=(draws, int(normal.sum())))
    logn = kind == "lognormal"
    if logn.any():
        s2 = np.log1p((sd[logn] / values[logn]) ** 2)
        mu = np.log(values[logn]) - s2 / 2
        out[:, logn] = rng.lognormal(mu, np.sqrt(s2), size=(draws, int(logn.sum())))
    tri = kind == "triangular"
    if tri.any():
        low = np.array([t.value * (1 + t.lower) for t in terms])[tri]
        high = np.array([t.value * (1 + t.upper) for t in terms])[tri]
        mode = values[tri]
        degenerate = high <= low
        high = np.where(degenerate, low + 1e-300, high)
        mode = np.clip(mode, low, high)
        sample = rng.triangular(low, mode, high, size=(draws, int(tri.sum())))
        out[:, tri] = np.where(degenerate, values[tri], sample)
    return out


def monte_carlo(
    sources: list[UncertainSource], *, draws: int = 10_000, seed: int = 20061
) -> UncertaintyResult:
    """Approach 2: seeded Monte Carlo over every term, 95 % interval from the percentiles.

    Terms sharing a ``key`` take one draw (full correlation); all others are independent.
    """
    _validate(sources)
    if draws < 1000:
        raise InputError(f"{draws} draws are too few", hint="use at least 1 000 (10 000 default)")
    rng = np.random.default_rng(seed)
    unique: dict[object, int] = {}
    distinct: list[UncertainTerm] = []
    width = max(len(source.terms) for source in sources)
    # index[s, k] = column of the k-th term of source s; padding points at a column of ones.
    index = np.full((len(sources), width), -1, dtype=np.int64)
    values = np.ones((len(sources), width))
    for s_index, source in enumerate(sources):
        for t_index, term in enumerate(source.terms):
            token: object = ("key", term.key) if term.key is not None else (s_index, t_index)
            if token not in unique:
                unique[token] = len(distinct)
                distinct.append(term)
            index[s_index, t_index] = unique[token]
            values[s_index, t_index] = term.value
    index[index < 0] = len(distinct)
    # Draws are relative to the term's value, so that terms sharing a key (one factor in several
    # lines, possibly per different units) move together by the same proportion.
    centre = np.array([t.value for t in distinct])
    safe = np.where(centre == 0, 1.0, centre)
    relative = np.where(centre == 0, 1.0, _draw(distinct, draws, rng) / safe)
    relative = np.concatenate([relative, np.ones((draws, 1))], axis=1)
    per_source = np.prod(relative[:, index] * values[None, :, :], axis=2)  # draws × sources
    totals = per_source.sum(axis=1)
    lower, upper = np.percentile(totals, [2.5, 97.5])
    central = float(sum(s.emissions for s in sources))
    rel = {}
    for s_index, source in enumerate(sources):
        lo, hi = np.percentile(per_source[:, s_index], [2.5, 97.5])
        rel[source.name] = float((hi - lo) / 2 / abs(source.emissions)) if source.emissions else 0.0
    return UncertaintyResult(
        total=Interval(central, float(lower), float(upper)),
        method=f"IPCC 2006 Vol. 1 Ch. 3 Approach 2 (Monte Carlo, {draws} draws, seed {seed})",
        source_u95=rel,
        draws=draws,
        seed=seed,
    )


@dataclass(frozen=True)
class DefaultUncertainty:
    """A published default uncertainty for a factor or an activity-data kind."""

    item: str
    factor_id: str
    quantity: str
    value: float
    lower: float
    upper: float
    unit: str
    source: str

    def term(self, value: float | None = None, *, key: str | None = None) -> UncertainTerm:
        """An uncertain term for this default: lognormal with U = (upper − lower)/(2·value)."""
        u95 = (self.upper - self.lower) / (2 * self.value)
        return UncertainTerm(
            value=self.value if value is None else value,
            u95=u95,
            distribution="lognormal",
            key=key,
            source=self.source,
        )


@lru_cache(maxsize=1)
def default_uncertainties() -> dict[str, DefaultUncertainty]:
    """Default uncertainties shipped in ``data/uncertainty_defaults.csv`` by item name."""
    text = (
        resources.files("carbonlink.data").joinpath("uncertainty_defaults.csv").read_text("utf-8")
    )
    return {
        row["item"]: DefaultUncertainty(
            row["item"],
            row["factor_id"],
            row["quantity"],
            float(row["value"]),
            float(row["lower"]),
            float(row["upper"]),
            row["unit"],
            row["source"],
        )
        for row in csv.DictReader(text.splitlines())
    }


def default_uncertainty(item: str) -> DefaultUncertainty:
    """One default; the error lists what exists."""
    table = default_uncertainties()
    if item not in table:
        raise UnknownFactorError(
            f"no default uncertainty for {item!r}", hint="known: " + ", ".join(sorted(table))
        )
    return table[item]


def default_for_factor(factor_id: str) -> DefaultUncertainty | None:
    """The shipped default uncertainty of a library factor, if there is one."""
    return next((d for d in default_uncertainties().values() if d.factor_id == factor_id), None)


@dataclass(frozen=True)
class InventoryUncertainty:
    """Relative 95 % half-widths for an inventory's activity data and factors.

    Keys of ``activity_u95``: ``"facility/source"``, ``"source"`` or ``"*"`` (most specific
    wins). Keys of ``factor_u95``: a factor id or ``"*"``; a factor without an entry falls back
    to the shipped IPCC default for that factor id, then to ``"*"``. Activity terms are normal,
    factor terms lognormal; a factor used by several lines takes one draw (correlated).
    """

    activity_u95: dict[str, float]
    factor_u95: dict[str, float]


def inventory_sources(
    lines: list[dict[str, Any]],
    spec: InventoryUncertainty,
    *,
    scopes: tuple[str, ...] = ("1", "2_location"),
) -> list[UncertainSource]:
    """Uncertain sources from the accounting engine's lines (``Computation.lines()``).

    Each line with non-zero emissions in ``scopes`` becomes activity × (coefficient × GWP),
    with the activity keyed to its source and the factor keyed to its factor id.
    """
    sources: list[UncertainSource] = []
    missing: list[str] = []
    for line in lines:
        if line["scope"] not in scopes or not line["tco2e"]:
            continue
        where = f"{line['facility']}/{line['source']}"
        activity = line["activity"]["quantity"]
        factor_id = line["factor"]["id"]
        u_act = next(
            (spec.activity_u95[k] for k in (where, line["source"], "*") if k in spec.activity_u95),
            None,
        )
        u_fac = spec.factor_u95.get(factor_id)
        if u_fac is None:
            shipped = default_for_factor(factor_id)
            u_fac = shipped.term().u95 if shipped else spec.factor_u95.get("*")
        if u_act is None or u_fac is None:
            missing.append(f"{where} ({line['gas']}, factor {factor_id})")
            continue
        name = f"{where}/{line['gas']}" + (f"/{line['stream']}" if line.get("stream") else "")
        per_unit = line["tco2e"] / activity if activity else 0.0
        sources.append(
            UncertainSource(
                name,
                (
                    UncertainTerm(activity, u_act, "normal", key=f"activity:{where}"),
                    UncertainTerm(
                        per_unit,
                        u_fac,
                        "lognormal" if per_unit > 0 else "normal",
                        key=f"factor:{factor_id}:{line['gas']}",
                    ),
                ),
            )
        )
    if missing:
        raise InputError(
            f"no uncertainty for {len(missing)} line(s): " + "; ".join(missing[:5]),
            hint="give activity_u95 / factor_u95 for them, or a '*' default",
        )
    return sources
