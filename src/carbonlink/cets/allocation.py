"""Allowances for steel under China's national ETS: expected allocation, surplus or shortfall, cost.

The MEE allocation plan for 2024 and 2025 (steel, cement, aluminium; issued November 2025) sets:

- 2024: each entity's allowances equal its verified emissions, so the position is zero;
- 2025: intensity-based free allocation,
  ``A = Σ_p Q_p × I_p × F`` (Q_p output of covered process p in t, I_p the plan's carbon intensity
  for p in t CO2/t, F an adjustment factor, 1 unless the plan sets one).

Surplus ``S = A − E`` (E verified emissions, t CO2): positive is a surplus to sell or carry over,
negative a shortfall to buy at the user's price ``P``: cost ``max(−S, 0) × P``, value of a surplus
``max(S, 0) × P``.

Which figures are confirmed is recorded per row in ``carbonlink/data/cets/steel_allocation.csv``.
No 2025 intensity value could be confirmed, so a 2025 position needs the intensities passed in
(with where they come from); the function refuses to guess.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources

import numpy as np

from carbonlink.errors import InputError, UnknownFactorError


@dataclass(frozen=True)
class AllocationBasis:
    sector: str
    year: int
    process: str
    method: str
    value: float | None
    unit: str
    status: str
    source: str
    seen_at: str


@dataclass(frozen=True)
class AllocationPosition:
    year: int
    method: str
    allocation_t: float
    verified_emissions_t: float
    surplus_t: float
    price: float
    shortfall_cost: float
    surplus_value: float
    basis: str


def load_allocation_basis() -> dict[tuple[str, int], AllocationBasis]:
    """The shipped allocation rules keyed by (sector, year)."""
    path = resources.files("carbonlink.data").joinpath("cets/steel_allocation.csv")
    out = {}
    for row in csv.DictReader(path.read_text("utf-8").splitlines()):
        basis = AllocationBasis(
            sector=row["sector"],
            year=int(row["year"]),
            process=row["process"],
            method=row["method"],
            value=float(row["value"]) if row["value"] else None,
            unit=row["unit"],
            status=row["status"],
            source=row["source"],
            seen_at=row["seen_at"],
        )
        out[(basis.sector, basis.year)] = basis
    return out


def allocation_position(
    year: int,
    verified_emissions_t: float,
    price: float,
    *,
    output_t: Mapping[str, float] | None = None,
    intensity: Mapping[str, float] | None = None,
    intensity_source: str = "",
    adjustment: float = 1.0,
    sector: str = "steel",
) -> AllocationPosition:
    """The entity's allocation, surplus (negative: shortfall) and its cost or value at ``price``.

    ``output_t`` and ``intensity`` are keyed by covered process; every process with output needs
    an intensity (t CO2/t), and ``intensity_source`` should say where the values come from.
    """
    rules = load_allocation_basis()
    try:
        basis = rules[(sector, year)]
    except KeyError:
        years = sorted(y for s, y in rules if s == sector)
        raise UnknownFactorError(
            f"no allocation rule for {sector} {year}",
            hint=f"years known for {sector}: {', '.join(map(str, years))}",
        ) from None
    if price < 0 or verified_emissions_t < 0:
        raise InputError("price and verified emissions must not be negative")
    if basis.method == "verified_emissions":
        allocation = verified_emissions_t
        described = f"{basis.method} ({basis.status}): {basis.source}"
    else:
        output_t = output_t or {}
        intensity = intensity or {}
        missing = sorted(set(output_t) - set(intensity))
        if not output_t or missing:
            raise UnknownFactorError(
                f"no {sector} {year} carbon intensity for "
                f"{', '.join(missing) if missing else 'any process'}",
                hint="pass the allocation plan's intensity (t CO2/t) for each covered process; "
                f"the shipped table has none confirmed ({basis.seen_at})",
            )
        processes = sorted(output_t)
        q = np.array([output_t[p] for p in processes], dtype=np.float64)
        i = np.array([intensity[p] for p in processes], dtype=np.float64)
        if np.any(q < 0) or np.any(i < 0):
            raise InputError("outputs and intensities must not be negative")
        allocation = float(np.sum(q * i) * adjustment)
        described = (
            f"{basis.method}: Σ output × intensity × {adjustment:g}; intensities from "
            f"{intensity_source or 'the caller (source not given)'}"
        )
    surplus = allocation - verified_emissions_t
    return AllocationPosition(
        year=year,
        method=basis.method,
        allocation_t=allocation,
        verified_emissions_t=verified_emissions_t,
        surplus_t=surplus,
        price=price,
        shortfall_cost=max(-surplus, 0.0) * price,
        surplus_value=max(surplus, 0.0) * price,
        basis=described,
    )
