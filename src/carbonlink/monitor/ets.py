"""Emissions-trading position of an installation: allowances against emissions, and its cost.

China's national ETS allocates free allowances by intensity benchmarks: allocation = benchmark
(t CO2 per unit of output) × output × adjustment factors, settled on actual output after the
year; the EU ETS allocates by product benchmarks from historical activity levels. Either way the
position is the allocation (plus allowances bought or carried) minus verified emissions for past
years, or minus projected emissions for the year in progress; a deficit must be bought at the
market price.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from carbonlink.errors import InputError


def benchmark_allocation(output: float, benchmark: float, adjustment: float = 1.0) -> float:
    """Free allocation in t CO2 from an intensity benchmark: ``output × benchmark × adjustment``."""
    if output < 0 or benchmark < 0 or adjustment < 0:
        raise InputError("output, benchmark and adjustment factor must not be negative")
    return output * benchmark * adjustment


@dataclass(frozen=True)
class EtsPosition:
    """Allowance position of one installation for one compliance year."""

    scheme: Literal["CN-ETS", "EU-ETS"]
    year: int
    allocation_t: float
    emissions_t: float
    emissions_basis: Literal["verified", "projected"]
    price_per_t: float
    currency: str
    holdings_t: float = 0.0

    @property
    def balance_t(self) -> float:
        """Allowances left over (positive, a surplus) or missing (negative, a deficit)."""
        return self.allocation_t + self.holdings_t - self.emissions_t

    @property
    def cost(self) -> float:
        """What the deficit costs at the configured price (0 when in surplus)."""
        return max(0.0, -self.balance_t) * self.price_per_t

    @property
    def value_of_surplus(self) -> float:
        return max(0.0, self.balance_t) * self.price_per_t
