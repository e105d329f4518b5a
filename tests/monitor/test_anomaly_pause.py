"""The trailing detector over a meter history with a pause longer than its window."""

import numpy as np

from carbonlink.monitor.anomaly import hour_of_week, trailing_flags


def _hours(start: str, n_weeks: int) -> np.ndarray:
    first = np.datetime64(start, "ns")
    return np.arange(first, first + np.timedelta64(7 * n_weeks, "D"), np.timedelta64(1, "h"))


def test_weeks_after_a_pause_longer_than_the_window_are_left_unjudged() -> None:
    """6 weeks of readings, 10 weeks without any, then 3 weeks: the 3 weeks' 8-week windows
    hold nothing, so they get no band and no flag; the first weeks are judged as usual."""
    before, after = _hours("2025-01-06T00:00", 6), _hours("2025-04-21T00:00", 3)
    ts = np.concatenate([before, after])
    values = np.where(hour_of_week(ts, "UTC") % 24 < 12, 100.0, 10.0)
    values[len(before) - 1] = 5000.0  # the last reading before the pause is far out

    flags, low, high = trailing_flags(ts, values, "UTC", window_weeks=8, min_weeks=4)

    assert np.flatnonzero(flags).tolist() == [len(before) - 1]
    assert np.isnan(low[len(before) :]).all() and np.isnan(high[len(before) :]).all()
    assert not np.isnan(high[4 * 7 * 24 : len(before)]).any()


def test_one_stray_reading_decades_away_is_left_unjudged() -> None:
    ts = np.concatenate([_hours("2025-01-06T00:00", 6), [np.datetime64("2200-01-01", "ns")]])
    values = np.full(len(ts), 10.0)
    flags, _low, high = trailing_flags(ts, values, "UTC")
    assert not flags.any()
    assert np.isnan(high[-1])
