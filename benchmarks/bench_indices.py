"""Sensitivity analysis of a 200-unit × 60-indicator index with 10 000 replications.

Floor (measured in the same run): the naive loop that rebuilds the whole index for every
replication. It is timed on a sample of replications and extrapolated to 10 000 (it would take
minutes otherwise); the batched analysis is timed on all 10 000.

    .venv/bin/python benchmarks/bench_indices.py
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from carbonlink.indices.data import IndicatorData
from carbonlink.indices.spec import UncertaintySpec, spec_from_dict
from carbonlink.indices.uncertainty import run_uncertainty

UNITS, INDICATORS, DIMENSIONS, PILLARS = 200, 60, 10, 3
REPLICATIONS = 10_000
NAIVE_SAMPLE_N = 8  # 8 × (3 + 2) = 40 rebuilt replications


def problem() -> tuple:
    rng = np.random.default_rng(2026)
    values = rng.lognormal(mean=2.0, sigma=0.8, size=(UNITS, INDICATORS))
    values[rng.random(values.shape) < 0.03] = np.nan
    frame = pd.DataFrame(values, columns=[f"i{j:02d}" for j in range(INDICATORS)])
    frame.insert(0, "uCode", [f"U{i:03d}" for i in range(UNITS)])
    framework = [{"code": "INDEX"}]
    framework += [{"code": f"P{p}", "parent": "INDEX"} for p in range(PILLARS)]
    framework += [{"code": f"D{d}", "parent": f"P{d % PILLARS}"} for d in range(DIMENSIONS)]
    indicators = [
        {"code": f"i{j:02d}", "parent": f"D{j % DIMENSIONS}", "direction": -1 if j % 7 == 0 else 1}
        for j in range(INDICATORS)
    ]
    spec = spec_from_dict(
        {
            "name": "benchmark",
            "framework": framework,
            "indicators": indicators,
            "steps": {
                "impute": {"method": "mean"},
                "treat": {},
                "normalise": {"method": "minmax", "params": {"l_u": [1, 100]}},
            },
        }
    )
    inputs = [
        {"name": "weights", "kind": "weights", "noise": {1: 0.25, 2: 0.25, 3: 0.25}, "n_sets": 500},
        {
            "name": "normalisation",
            "kind": "normalise",
            "options": [{"method": "minmax", "params": {"l_u": [1, 100]}}, {"method": "efficacy"}],
        },
        {"name": "aggregation", "kind": "aggregate", "options": ["amean", "gmean"]},
    ]
    n_base = REPLICATIONS // (len(inputs) + 2)
    analysis = UncertaintySpec.model_validate(
        {"type": "SA", "n": n_base, "seed": 7, "inputs": inputs}
    )
    return spec, IndicatorData(frame), analysis


def main() -> None:
    spec, data, analysis = problem()
    n_runs = analysis.n * (len(analysis.inputs) + 2)

    sample = analysis.model_copy(update={"n": NAIVE_SAMPLE_N})
    t0 = time.perf_counter()
    run_uncertainty(spec, data, sample, vectorised=False)
    naive_sample = time.perf_counter() - t0
    sample_runs = NAIVE_SAMPLE_N * (len(analysis.inputs) + 2)
    per_build = naive_sample / sample_runs
    naive_total = per_build * n_runs

    t0 = time.perf_counter()
    result = run_uncertainty(spec, data, analysis)
    batched = time.perf_counter() - t0

    print(
        f"index: {UNITS} units × {INDICATORS} indicators, "
        f"{DIMENSIONS} dimensions, {PILLARS} pillars"
    )
    print(
        f"sensitivity analysis (Saltelli, d = {len(analysis.inputs)}, N = {analysis.n}): "
        f"{n_runs} replications"
    )
    print(
        f"naive loop (one full build per replication): {per_build * 1000:.1f} ms/build "
        f"measured on {sample_runs} builds → {naive_total:.1f} s extrapolated for {n_runs}"
    )
    print(
        f"batched analysis: {batched:.2f} s for {n_runs} replications "
        f"({n_runs / batched:.0f} replications/s)"
    )
    print(f"speed-up vs naive loop: {naive_total / batched:.1f}×  (target ≥ 20×)")
    assert result.sensitivity is not None
    for _, row in result.sensitivity.iterrows():
        print(f"  {row['Variable']:<14} Si = {row['Si']:+.3f}  STi = {row['STi']:.3f}")


if __name__ == "__main__":
    main()
