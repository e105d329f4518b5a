"""Fuzzing index specs: any spec is built or refused with an `IndexSpecError`, never a traceback."""

from __future__ import annotations

import contextlib
import warnings

import pandas as pd
from hypothesis import HealthCheck, given, settings

from carbonlink.errors import CarbonlinkError
from carbonlink.indices.data import IndicatorData
from carbonlink.indices.errors import IndexSpecError, IndexWarning
from carbonlink.indices.pipeline import build
from carbonlink.indices.spec import spec_from_dict
from fuzzing import mutated

SPEC = {
    "name": "toy",
    "framework": [
        {"code": "IDX"},
        {"code": "A", "parent": "IDX", "weight": 2},
        {"code": "B", "parent": "IDX", "weight": 1},
    ],
    "indicators": [
        {"code": "a1", "parent": "A"},
        {"code": "a2", "parent": "A", "direction": -1},
        {"code": "b1", "parent": "B"},
    ],
    "steps": {"impute": {"method": "mean"}, "weight": {"method": "manual"}},
}
DATA = IndicatorData(
    pd.DataFrame(
        {"uCode": ["U1", "U2", "U3"], "a1": [1.0, 2, 3], "a2": [3.0, 1, 2], "b1": [5.0, 6, 9]}
    )
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(SPEC))
def test_a_mutated_spec_is_built_or_refused(raw: object) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", IndexWarning)
        try:
            spec = spec_from_dict(raw)
        except IndexSpecError:
            return
        with contextlib.suppress(CarbonlinkError):
            build(spec, DATA)
