from pathlib import Path

import numpy as np
import pandas as pd

from carbonlink.monitor.anomaly import SeasonalBaseline, episodes, hour_of_week, trailing_flags


def _weeks(n_weeks: int, start: str = "2025-01-06T00:00") -> np.ndarray:
    first = np.datetime64(start, "ns")
    return np.arange(first, first + np.timedelta64(7 * n_weeks, "D"), np.timedelta64(1, "h"))


def _profile(ts: np.ndarray) -> np.ndarray:
    # Working hours 08–18 on weekdays run at 100, everything else at 10.
    how = hour_of_week(ts, "UTC")
    day, hour = how // 24, how % 24
    return np.where((day < 5) & (hour >= 8) & (hour < 18), 100.0, 10.0)


def test_hour_of_week_follows_local_time() -> None:
    # Monday 2025-01-06 00:30 in Shanghai is Sunday 16:30 UTC.
    ts = np.array(["2025-01-05T16:30"], dtype="datetime64[ns]")
    assert hour_of_week(ts, "Asia/Shanghai")[0] == 0
    assert hour_of_week(ts, "UTC")[0] == 6 * 24 + 16


def test_injected_night_run_is_the_only_flag() -> None:
    ts = _weeks(8)
    rng = np.random.default_rng(7)
    values = _profile(ts) * (1 + 0.02 * rng.standard_normal(len(ts)))
    baseline = SeasonalBaseline.fit(ts, values, "UTC")
    test_values = values.copy()
    night = (hour_of_week(ts, "UTC") == 2 * 24 + 2) & (ts >= ts[-168])  # last Wednesday 02:00
    test_values[night] = 100.0
    flags = baseline.flag(ts, test_values, k=6)
    assert flags.sum() == 1
    assert np.array_equal(np.flatnonzero(flags), np.flatnonzero(night))


def test_flat_slot_uses_the_scale_floor() -> None:
    ts = _weeks(6)
    values = _profile(ts)  # no noise at all: every slot's MAD is zero
    baseline = SeasonalBaseline.fit(ts, values, "UTC")
    assert np.all(baseline.scale > 0)
    assert not baseline.flag(ts, values).any()
    assert baseline.flag(ts[:1], np.array([values[0] * 3]))[0]


def test_episodes_group_consecutive_flags() -> None:
    ts = _weeks(4)
    values = _profile(ts)
    baseline = SeasonalBaseline.fit(ts, values, "UTC")
    flags = np.zeros(len(ts), dtype=bool)
    flags[[10, 11, 12, 50]] = True
    found = episodes(ts, values, flags, baseline)
    assert [e.readings for e in found] == [3, 1]
    assert found[0].start == ts[10] and found[0].end == ts[12]


def _sunday_runs(plant_file: Path) -> tuple[list[str], float]:
    """Days (local) of the long flagged episodes in a plant file, and the share flagged."""
    frame = pd.read_csv(plant_file, encoding="utf-8-sig")
    end = pd.to_datetime(frame["date"], format="%d/%m/%Y %H:%M")
    midnight = (end.dt.hour == 0) & (end.dt.minute == 0)
    end = end.where(~midnight, end + pd.Timedelta(days=1))
    start = (end - pd.Timedelta(minutes=15)).dt.tz_localize("Asia/Seoul").dt.tz_convert("UTC")
    ts = start.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")
    values = frame["Usage_kWh"].to_numpy(dtype=float)
    flags, _, _ = trailing_flags(ts, values, "Asia/Seoul", k=6)
    baseline = SeasonalBaseline.fit(ts, values, "Asia/Seoul")
    long_runs = [e for e in episodes(ts, values, flags, baseline) if e.readings >= 40]
    days = [
        pd.Timestamp(e.start).tz_localize("UTC").tz_convert("Asia/Seoul").date().isoformat()
        for e in long_runs
    ]
    return days, float(flags.mean())


def test_real_steel_plant_sunday_run_is_found(steel_plant_file: Path) -> None:
    days, flagged = _sunday_runs(steel_plant_file)
    # Sunday 11 March 2018 (local): the plant ran all day where it is normally idle.
    assert "2018-03-11" in days
    assert 0 < flagged < 0.1


def test_a_sunday_run_in_a_plant_file_is_found(plant_year_file: Path) -> None:
    days, flagged = _sunday_runs(plant_year_file)
    # The file's one working Sunday, 11 March 2018, and nothing else.
    assert days == ["2018-03-11"]
    assert 0 < flagged < 0.1
