"""Accounting throughput: one million activity records through the vectorised engine.

Prints records/s of `compute` and the ratio to a floor measured in the same run: a bare numpy
multiply-and-sum over the same arrays (each record's quantity times its channel's factor,
summed per channel with bincount). Both run alternately 30 times; the figures are the best
time of each and the median ratio of back-to-back pairs (robust to a loaded machine).
Run: ``.venv/bin/python benchmarks/bench_accounting.py``.
"""

from __future__ import annotations

import datetime as dt
import statistics
import time
from collections.abc import Callable

import numpy as np
import yaml

from carbonlink.domain.engine import ActivityBatch, compile_inventory, compute
from carbonlink.domain.inventory import Period, parse_inventory

N_RECORDS = 1_000_000
N_FACILITIES = 50
REPEATS = 30
FUELS = [("natural_gas", "Nm3"), ("coke", "t"), ("diesel", "t"), ("bituminous_coal", "t")]


def inventory_document() -> dict[str, object]:
    """50 facilities × (4 fuels, limestone, electricity with a certificate, heat) = 350 sources."""
    facilities = []
    for f in range(N_FACILITIES):
        sources: list[dict[str, object]] = [
            {
                "id": fuel,
                "method": "combustion",
                "fuel": fuel,
                "activity": {"quantity": 0, "unit": unit},
            }
            for fuel, unit in FUELS
        ]
        sources += [
            {
                "id": "flux",
                "method": "carbonate",
                "material": "limestone",
                "activity": {"quantity": 0, "unit": "t"},
            },
            {
                "id": "power",
                "method": "electricity",
                "activity": {"quantity": 0, "unit": "MWh"},
                "instruments": [{"type": "green_certificate", "quantity": 1.0}],
            },
            {"id": "steam", "method": "heat", "activity": {"quantity": 0, "unit": "GJ"}},
        ]
        grid = ["CN-North", "CN-East", "CN-South", "CN-Central"][f % 4]
        facilities.append({"id": f"plant-{f}", "grid": grid, "sources": sources})
    return {
        "organization": "Bench Co.",
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "gwp": "AR6",
        "facilities": facilities,
    }


def interleaved(
    first: Callable[[], object], second: Callable[[], object], repeats: int = REPEATS
) -> tuple[list[float], list[float]]:
    """Wall times of both functions, alternating runs so both see the same machine load."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeats):
        for fn, bucket in ((first, times[0]), (second, times[1])):
            start = time.perf_counter()
            fn()
            bucket.append(time.perf_counter() - start)
    return times


def main() -> None:
    start = time.perf_counter()
    plan = compile_inventory(parse_inventory(yaml.safe_dump(inventory_document())))
    compile_s = time.perf_counter() - start

    rng = np.random.default_rng(42)
    n_channels = len(plan.channels)
    channel = rng.integers(0, n_channels, N_RECORDS).astype(np.intp)
    period = rng.integers(0, 12, N_RECORDS).astype(np.intp)
    quantity = rng.uniform(0.0, 1000.0, N_RECORDS)
    batch = ActivityBatch(channel, period, quantity)
    months = [Period(start=dt.date(2025, m, 1), end=dt.date(2025, m, 28)) for m in range(1, 13)]
    factor = np.bincount(
        plan.line_channel, weights=plan.line_coefficient * plan.line_gwp, minlength=n_channels
    )

    def floor() -> None:
        np.bincount(channel, weights=quantity * factor[channel], minlength=n_channels)

    def engine() -> None:
        compute(plan, batch, months)

    result = compute(plan, batch, months)
    check = np.bincount(channel, weights=quantity * factor[channel], minlength=n_channels)
    floor_times, engine_times = interleaved(floor, engine)
    floor_s, engine_s = min(floor_times), min(engine_times)
    pair_ratio = statistics.median(e / f for f, e in zip(floor_times, engine_times, strict=True))
    print(
        f"inventory: {len(plan.channels)} channels, {len(plan.lines)} lines, "
        f"compiled in {compile_s * 1000:.0f} ms"
    )
    print(f"records: {N_RECORDS:,} over 12 periods")
    print(
        f"floor  (numpy multiply-and-sum): {floor_s * 1000:8.2f} ms  "
        f"{N_RECORDS / floor_s / 1e6:8.1f} M records/s"
    )
    print(
        f"engine (compute, 12 periods):    {engine_s * 1000:8.2f} ms  "
        f"{N_RECORDS / engine_s / 1e6:8.1f} M records/s"
    )
    print(
        f"ratio engine/floor: {engine_s / floor_s:.2f}x best-to-best, "
        f"{pair_ratio:.2f}x median of {REPEATS} back-to-back pairs  (target <= 3x)"
    )
    # the floor has no instrument terms, so the totals differ by the certificates' cover only
    print(f"checksum: engine {result.co2e.sum():.6e} t CO2e, floor {check.sum():.6e}")


if __name__ == "__main__":
    main()
