"""CBAM SEE solve and Monte Carlo uncertainty: throughput against a numpy floor.

- SEE: an installation with 200 production processes in a layered precursor graph (each consumes
  two earlier processes and one purchased precursor), direct and indirect SEE solved at once.
- Monte Carlo: 10 000 draws over a 300-source plant inventory (two terms per source, one grid
  factor shared by a third of them).
Floor: numpy multiply-and-bincount over 1 M records, measured in the same run.
"""

from __future__ import annotations

import time
from datetime import date

import numpy as np

from carbonlink.domain.cbam import (
    CbamInstallationData,
    Installation,
    PrecursorInput,
    ProductionProcess,
    PurchasedPrecursor,
    compute_see,
)
from carbonlink.domain.uncertainty import UncertainSource, UncertainTerm, monte_carlo

PROCESSES = 200
SOURCES = 300
DRAWS = 10_000


def _installation() -> CbamInstallationData:
    site = Installation("bench", "bench", "street", "city", "0", "CN", "CNSHA", 31.2, 121.5)
    bought = PurchasedPrecursor(
        "alloy", "alloy", "Alloys (FeMn, FeCr, FeNi)", "ZA", "", 1e6, 1.5, "supplier", 3.0, 0.9
    )
    processes = []
    for i in range(PROCESSES):
        inputs = [PrecursorInput(f"p{j}", 10.0) for j in (i - 1, i - 7) if j >= 0]
        processes.append(
            ProductionProcess(
                id=f"p{i}",
                name=f"process {i}",
                goods_category="Iron or steel products",
                route="",
                activity_level_t=1000.0 + i,
                direct_emissions_t=100.0 + i,
                electricity_mwh=50.0,
                electricity_ef=0.6,
                precursors=(*inputs, PrecursorInput("alloy", 1.0)),
            )
        )
    return CbamInstallationData(
        site, date(2026, 1, 1), date(2026, 12, 31), tuple(processes), (bought,)
    )


def _best(fn: object, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    rng = np.random.default_rng(1)
    keys = rng.integers(0, 1000, 1_000_000)
    activity = rng.random(1_000_000)
    factor = rng.random(1_000_000)
    floor = _best(lambda: np.bincount(keys, weights=activity * factor, minlength=1000))
    floor_rate = 1_000_000 / floor
    print(f"floor: numpy multiply+bincount {floor_rate / 1e6:.1f} M records/s")

    data = _installation()
    see = _best(lambda: compute_see(data), repeat=3)
    print(
        f"SEE solve, {PROCESSES} processes: {see * 1000:.1f} ms "
        f"({PROCESSES / see:,.0f} processes/s, ratio to floor {PROCESSES / see / floor_rate:.2e})"
    )

    grid = UncertainTerm(0.5306, 0.05, key="grid")
    sources = [
        UncertainSource(
            f"s{i}",
            (UncertainTerm(1000.0 + i, 0.02), UncertainTerm(2.0, 0.07, "lognormal"))
            if i % 3
            else (UncertainTerm(500.0, 0.01), grid),
        )
        for i in range(SOURCES)
    ]
    mc = _best(lambda: monte_carlo(sources, draws=DRAWS), repeat=3)
    rate = DRAWS * SOURCES * 2 / mc
    print(
        f"Monte Carlo, {DRAWS} draws × {SOURCES} sources: {mc:.3f} s "
        f"({rate / 1e6:.1f} M term draws/s, ratio to floor {rate / floor_rate:.3f})"
    )


if __name__ == "__main__":
    main()
