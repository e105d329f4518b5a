"""A value received for a (meter, time) already stored with another value is kept apart as a
conflict, listed and resolvable; the same value again is a plain duplicate."""

from __future__ import annotations

import numpy as np

from carbonlink.store import Store
from carbonlink.store.repository import ReadingColumns

HOUR_US = 3_600_000_000


def _columns(values: list[float], unit: str = "kWh", batch: str | None = None) -> ReadingColumns:
    n = len(values)
    return ReadingColumns(
        meter_id=["m-1"] * n,
        ts_us=np.arange(n, dtype=np.int64) * HOUR_US + 1_704_067_200_000_000,  # 2024-01-01
        value=np.asarray(values, dtype=np.float64),
        unit=[unit] * n,
        batch_id=batch,
    )


def test_a_reimport_with_one_changed_value_keeps_that_value_as_a_conflict(store: Store) -> None:
    assert store.add_reading_columns(_columns([1.0, 2.0, 3.0])) == 3
    assert (store.add_reading_columns(_columns([1.0, 2.0, 3.0])), store.last_conflicts) == (0, 0)
    assert store.add_reading_columns(_columns([1.0, 2.5, 3.0], batch="b-2")) == 0
    assert store.last_conflicts == 1
    [conflict] = store.conflicts()
    assert conflict.batch_id == "b-2" and conflict.meter_id == "m-1"
    assert "at 2024-01-01T01:00:00+00:00 already has 2.0 kWh; this record says 2.5 kWh" in (
        conflict.reason
    )
    assert store.series("m-1").value.tolist() == [1.0, 2.0, 3.0]  # the stored values stay
    # the same conflicting file again keeps no second copy
    store.add_reading_columns(_columns([1.0, 2.5, 3.0], batch="b-3"))
    assert len(store.conflicts()) == 1


def test_another_unit_is_a_conflict_too(store: Store) -> None:
    store.add_reading_columns(_columns([1.0]))
    store.add_reading_columns(_columns([1.0], unit="MWh"))
    [conflict] = store.conflicts()
    assert "this record says 1.0 MWh" in conflict.reason


def test_two_values_for_one_time_in_one_batch(store: Store) -> None:
    columns = ReadingColumns(
        meter_id=["m-1", "m-1"],
        ts_us=np.array([0, 0], dtype=np.int64) + 1_704_067_200_000_000,
        value=np.array([1.0, 7.0]),
        unit=["kWh", "kWh"],
    )
    assert store.add_reading_columns(columns) == 1
    [conflict] = store.conflicts()
    assert "already has 1.0 kWh; this record says 7.0 kWh" in conflict.reason


def test_a_resolved_conflict_leaves_the_unresolved_list(store: Store) -> None:
    store.add_reading_columns(_columns([1.0]))
    store.add_reading_columns(_columns([9.0]))
    [conflict] = store.conflicts()
    store.resolve_quarantined(conflict.id, "kept the stored value")
    assert store.conflicts() == []
    [resolved] = store.quarantined(conflicts_only=True)
    assert resolved.resolution == "kept the stored value" and resolved.resolved_at is not None
