"""Buckets of local time, the step chosen for a range, the heat map and intensity, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from carbonlink.monitor.series import (
    SeriesError,
    bucket,
    default_stat,
    heat_map,
    per_output,
    pick_step,
)


def _us(*stamps: datetime) -> np.ndarray:
    return np.array([round(s.timestamp() * 1_000_000) for s in stamps], dtype=np.int64)


def test_quarter_hours_add_up_to_local_hours() -> None:
    # 00:00-01:45 UTC is 08:00-09:45 in Shanghai (UTC+8): 1+2+3+4 and 5+6+7+8
    start = datetime(2018, 1, 1, tzinfo=UTC)
    ts = _us(*(start + timedelta(minutes=15 * i) for i in range(8)))
    got = bucket(ts, np.arange(1.0, 9.0), "Asia/Shanghai", "hour")
    assert got.start == ["2018-01-01T08:00:00", "2018-01-01T09:00:00"]
    assert got.total.tolist() == [10.0, 26.0]
    assert got.mean.tolist() == [2.5, 6.5]
    assert (got.low.tolist(), got.high.tolist(), got.count.tolist()) == ([1, 5], [4, 8], [4, 4])


def test_a_month_is_the_plants_calendar_month() -> None:
    # 31 January 16:30 UTC is already 1 February 00:30 in Shanghai
    ts = _us(datetime(2018, 1, 31, 15, 30, tzinfo=UTC), datetime(2018, 1, 31, 16, 30, tzinfo=UTC))
    got = bucket(ts, np.array([7.0, 11.0]), "Asia/Shanghai", "month")
    assert (got.start, got.total.tolist()) == (
        ["2018-01-01T00:00:00", "2018-02-01T00:00:00"],
        [7, 11],
    )


def test_days_of_23_and_25_hours_where_the_clock_changes() -> None:
    def day_total(day: datetime) -> float:
        # hourly readings of 1 from local midnight to the next local midnight (Berlin)
        from zoneinfo import ZoneInfo

        zone = ZoneInfo("Europe/Berlin")
        lo = day.replace(tzinfo=zone).astimezone(UTC)
        hi = (day + timedelta(days=1)).replace(tzinfo=zone).astimezone(UTC)
        stamps = [lo + timedelta(hours=h) for h in range(int((hi - lo).total_seconds() // 3600))]
        got = bucket(_us(*stamps), np.ones(len(stamps)), "Europe/Berlin", "day")
        assert got.start == [day.date().isoformat() + "T00:00:00"]
        return float(got.total[0])

    assert day_total(datetime(2018, 3, 25)) == 23.0
    assert day_total(datetime(2018, 10, 28)) == 25.0
    assert day_total(datetime(2018, 6, 1)) == 24.0


def test_the_step_keeps_a_chart_under_two_thousand_points() -> None:
    day = 86_400
    assert pick_step(7 * day, 900) == "15min"  # 672 points
    assert pick_step(30 * day, 900) == "hour"  # 2 880 quarter hours would be too many: 720
    assert pick_step(365 * day, 900) == "day"
    assert pick_step(10 * 365 * day, 900) == "month"
    assert pick_step(7 * day, 3600) == "hour"  # never finer than the meter's own interval
    with pytest.raises(SeriesError, match="unknown step"):
        bucket(np.zeros(1, dtype=np.int64), np.ones(1), "UTC", "week")  # type: ignore[arg-type]


def test_the_heat_map_is_hour_of_day_by_date() -> None:
    # two local days in Shanghai, quarter hours, each reading worth its local hour
    zone_start = datetime(2018, 3, 10, tzinfo=UTC) - timedelta(hours=8)
    stamps = [zone_start + timedelta(minutes=15 * i) for i in range(2 * 96)]
    values = np.array([float((s + timedelta(hours=8)).hour) for s in stamps])
    hm = heat_map(_us(*stamps), values, "Asia/Shanghai")
    assert hm.days == ["2018-03-10", "2018-03-11"]
    assert hm.cells.shape == (2, 24)
    assert hm.cells[1, 9] == 36.0 and hm.cells[0, 0] == 0.0  # 4 readings of 9; 4 of 0
    assert len(hm.triples()) == 48
    # a gap stays empty, not zero
    hm = heat_map(_us(*stamps[:4], *stamps[8:]), np.r_[values[:4], values[8:]], "Asia/Shanghai")
    assert np.isnan(hm.cells[0, 1]) and len(hm.triples()) == 47


def test_intensity_per_unit_of_output() -> None:
    ts = _us(datetime(2018, 1, 1, tzinfo=UTC), datetime(2018, 1, 2, tzinfo=UTC))
    energy = bucket(ts, np.array([100.0, 80.0]), "UTC", "day")
    output = bucket(ts, np.array([4.0, 0.0]), "UTC", "day")
    ratio = per_output(energy, output)
    assert ratio[0] == 25.0 and np.isnan(ratio[1])  # no output that day: no intensity


@pytest.mark.parametrize(
    ("unit", "stat"),
    [
        ("kWh", "sum"),
        ("Nm3", "sum"),
        ("t", "sum"),
        ("kW", "mean"),
        ("m3/h", "mean"),
        ("degC", "mean"),
    ],
)
def test_amounts_add_up_and_rates_average(unit: str, stat: str) -> None:
    assert default_stat(unit) == stat
