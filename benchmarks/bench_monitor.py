"""Alert-rule evaluation throughput: a day of 15-minute readings for 1 000 meters, 10 rules each.

Readings arrive as the collectors store them: one batch per 15-minute interval with one reading
per meter. The floor is a bare numpy pass of the same ten comparisons over the same arrays,
measured in the same run.
"""

from __future__ import annotations

import time
from datetime import timedelta

import numpy as np

from carbonlink.monitor.anomaly import SeasonalBaseline
from carbonlink.monitor.rules import AlertRule, RuleEngine

METERS = 1_000
INTERVALS = 96


def main() -> None:
    rng = np.random.default_rng(1)
    meters = [f"m{i:04d}" for i in range(METERS)]
    start = np.datetime64("2025-03-03T00:00", "ns")
    history = start - np.arange(28 * 24, 0, -1).astype("timedelta64[h]").astype("timedelta64[ns]")
    baseline = SeasonalBaseline.fit(history, 50 + rng.standard_normal(len(history)), "UTC")
    rules = [
        AlertRule(id="hi", kind="threshold", meter_id="*", above=80),
        AlertRule(id="lo", kind="threshold", meter_id="*", below=5),
        AlertRule(id="band", kind="threshold", meter_id="*", above=95, below=1),
        AlertRule(id="crit", kind="threshold", meter_id="*", above=99, severity="critical"),
        AlertRule(id="ramp", kind="rate_of_change", meter_id="*", max_change_per_hour=120),
        AlertRule(id="ramp2", kind="rate_of_change", meter_id="*", max_change_per_hour=200),
        AlertRule(id="base", kind="above_baseline", meter_id="*", baseline_ratio=1.6),
        AlertRule(id="base2", kind="above_baseline", meter_id="*", baseline_ratio=1.9),
        AlertRule(id="off", kind="meter_offline", meter_id="*", offline_after=timedelta(hours=1)),
        AlertRule(id="m0", kind="threshold", meter_id="m0000", above=70),
    ]
    engine = RuleEngine(rules, meters, baselines={m: baseline for m in meters})
    values = 50 + 15 * rng.standard_normal((INTERVALS, METERS))
    meter_idx = np.arange(METERS, dtype=np.int64)
    batches = [
        (meter_idx, np.full(METERS, start + np.timedelta64(15 * k, "m"), dtype="datetime64[ns]"), v)
        for k, v in enumerate(values)
    ]

    t0 = time.perf_counter()
    events = 0
    for m, ts, v in batches:
        events += len(engine.evaluate(m, ts, v))
    elapsed = time.perf_counter() - t0

    limits = np.array([80, 5, 95, 99, 120, 200, 80, 95, 1, 70], dtype=float)
    t0 = time.perf_counter()
    hits = 0
    for _, _, v in batches:
        for limit in limits:
            hits += int(np.count_nonzero(v > limit))
    floor = time.perf_counter() - t0

    readings = INTERVALS * METERS
    print(f"readings: {readings:,} from {METERS:,} meters, {len(rules)} rules each")
    print(f"alert events: {events:,}")
    print(
        f"carbonlink rule engine: {readings / elapsed:,.0f} readings/s "
        f"({readings * len(rules) / elapsed:,.0f} rule evaluations/s)"
    )
    print(f"floor (bare numpy comparisons): {readings / floor:,.0f} readings/s")
    print(f"ratio engine / floor: {floor / elapsed:.3f}")


if __name__ == "__main__":
    main()
