from datetime import timedelta

import numpy as np
import pytest

from carbonlink.monitor.anomaly import SeasonalBaseline
from carbonlink.monitor.rules import AlertRule, RuleEngine, RuleError, validate_rules

T0 = np.datetime64("2025-03-03T00:00", "ns")


def _ts(minutes: list[int]) -> np.ndarray:
    return T0 + np.array(minutes, dtype="timedelta64[m]").astype("timedelta64[ns]")


def _engine(*rules: AlertRule, meters: tuple[str, ...] = ("m1", "m2")) -> RuleEngine:
    return RuleEngine(list(rules), list(meters))


def test_threshold_opens_once_and_closes_when_it_clears() -> None:
    engine = _engine(AlertRule(id="hot", kind="threshold", meter_id="m1", above=50))
    values = np.array([10, 60, 70, 80, 40, 30, 90], dtype=float)
    events = engine.evaluate(np.zeros(7, dtype=np.int64), _ts(list(range(0, 105, 15))), values)
    assert [(e.action, float(e.value)) for e in events] == [
        ("opened", 60.0),
        ("closed", 40.0),
        ("opened", 90.0),
    ]
    assert engine.open_alerts() == [("hot", "m1")]


def test_state_carries_across_batches_and_meters_are_independent() -> None:
    engine = _engine(AlertRule(id="hot", kind="threshold", meter_id="*", above=50))
    first = engine.evaluate(np.array([0, 1]), _ts([0, 0]), np.array([60.0, 10.0]))
    assert [(e.meter_id, e.action) for e in first] == [("m1", "opened")]
    # Still hot in the next batch: no second alert; m2 turns hot now.
    second = engine.evaluate(np.array([0, 1]), _ts([15, 15]), np.array([70.0, 55.0]))
    assert [(e.meter_id, e.action) for e in second] == [("m2", "opened")]
    third = engine.evaluate(np.array([0, 1]), _ts([30, 30]), np.array([10.0, 10.0]))
    assert sorted((e.meter_id, e.action) for e in third) == [("m1", "closed"), ("m2", "closed")]


def test_batch_order_does_not_matter() -> None:
    rule = AlertRule(id="hot", kind="threshold", meter_id="m1", above=50)
    minutes = [0, 15, 30, 45]
    values = np.array([10.0, 60.0, 70.0, 10.0])
    in_order = _engine(rule).evaluate(np.zeros(4, dtype=np.int64), _ts(minutes), values)
    shuffled = [2, 0, 3, 1]
    out_of_order = _engine(rule).evaluate(
        np.zeros(4, dtype=np.int64), _ts([minutes[i] for i in shuffled]), values[shuffled]
    )
    assert [(e.action, e.ts) for e in in_order] == [(e.action, e.ts) for e in out_of_order]


def test_rate_of_change_per_hour() -> None:
    engine = _engine(
        AlertRule(id="ramp", kind="rate_of_change", meter_id="m1", max_change_per_hour=100)
    )
    # +20 in 15 min = 80/h (fine); +30 in 15 min = 120/h (alert); then flat.
    events = engine.evaluate(
        np.zeros(4, dtype=np.int64), _ts([0, 15, 30, 45]), np.array([0.0, 20.0, 50.0, 50.0])
    )
    assert [(e.action, float(e.value)) for e in events] == [("opened", 50.0), ("closed", 50.0)]


def test_above_seasonal_baseline() -> None:
    history = T0 + np.arange(0, 28 * 24, dtype="timedelta64[h]").astype("timedelta64[ns]")
    baseline = SeasonalBaseline.fit(history, np.full(len(history), 10.0), "UTC")
    engine = RuleEngine(
        [AlertRule(id="base", kind="above_baseline", meter_id="m1", baseline_ratio=1.5)],
        ["m1"],
        baselines={"m1": baseline},
    )
    events = engine.evaluate(
        np.zeros(3, dtype=np.int64), _ts([0, 60, 120]), np.array([14.0, 16.0, 12.0])
    )
    assert [(e.action, float(e.value)) for e in events] == [("opened", 16.0), ("closed", 12.0)]


def test_meter_offline_by_timer_and_by_gap() -> None:
    rule = AlertRule(id="off", kind="meter_offline", meter_id="*", offline_after=timedelta(hours=1))
    engine = _engine(rule)
    engine.evaluate(np.array([0, 1]), _ts([0, 0]), np.array([1.0, 1.0]))
    assert engine.tick(T0 + np.timedelta64(30, "m")) == []
    opened = engine.tick(T0 + np.timedelta64(90, "m"))
    assert sorted(e.meter_id for e in opened) == ["m1", "m2"]
    assert engine.tick(T0 + np.timedelta64(120, "m")) == []  # still open, not repeated
    back = engine.evaluate(np.array([0]), _ts([125]), np.array([1.0]))
    assert [(e.meter_id, e.action) for e in back] == [("m1", "closed")]
    assert engine.open_alerts() == [("off", "m2")]
    # A gap inside one batch opens and closes an alert for the silence.
    gap = engine.evaluate(np.array([0, 0]), _ts([130, 300]), np.array([1.0, 1.0]))
    assert [e.action for e in gap] == ["opened", "closed"]
    assert gap[0].ts == _ts([190])[0]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"id": "r", "kind": "threshold", "meter_id": "nope", "above": 1}, "unknown meter 'nope'"),
        ({"id": "r", "kind": "threshold", "meter_id": "m1"}, "needs 'above' and/or 'below'"),
        (
            {"id": "r", "kind": "threshold", "meter_id": "m1", "above": 5, "below": 9},
            "no reading could ever be normal",
        ),
        ({"id": "r", "kind": "rate_of_change", "meter_id": "m1"}, "max_change_per_hour"),
        (
            {"id": "r", "kind": "meter_offline", "meter_id": "m1", "offline_after": "PT0S"},
            "positive 'offline_after'",
        ),
        ({"id": "r", "kind": "threshold", "meter_id": "m1", "abvoe": 3}, "abvoe"),
    ],
)
def test_invalid_rules_are_refused_when_saved(raw: dict[str, object], message: str) -> None:
    with pytest.raises(RuleError, match=message) as info:
        validate_rules([raw], known_meters=["m1"])
    assert info.value.record == "r"


def test_duplicate_rule_ids_are_refused() -> None:
    raw = {"id": "r", "kind": "threshold", "meter_id": "m1", "above": 1}
    with pytest.raises(RuleError, match="duplicate"):
        validate_rules([raw, raw], known_meters=["m1"])
