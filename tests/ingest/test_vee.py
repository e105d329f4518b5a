"""Meter processing: rollover, replacement and glitch told apart; gaps estimated and flagged;
periods cut in local time on 23- and 25-hour days."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonlink.domain.metering import Meter
from carbonlink.ingest.base import Reading
from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import load_mapping, shipped_mapping
from carbonlink.ingest.vee import (
    Rule,
    VeeOptions,
    aggregate,
    derive_activity,
    register_consumption,
    to_intervals,
)
from carbonlink.store import MeterSeries, Store
from carbonlink.store.schema import to_epoch_us

HOUR = 3_600_000_000
T0 = to_epoch_us(datetime(2018, 1, 1, tzinfo=UTC))


def _series(values: list[float], *, step: int = HOUR, unit: str = "kWh") -> MeterSeries:
    ts = T0 + np.arange(len(values), dtype=np.int64) * step
    return MeterSeries("m", ts, np.asarray(values, dtype=float), [unit] * len(values))


REGISTER = Meter("m", "register", "kWh", interval_s=3600)


def test_a_rollover_counts_up_through_the_top_of_the_register() -> None:
    meter = Meter("m", "register", "kWh", rollover_max=9999, interval_s=3600)
    delta, kept, events = register_consumption(np.array([9990.0, 9995.0, 3.0, 8.0]), meter)
    assert delta.tolist() == [5.0, 8.0, 5.0]  # (9999 + 1 - 9995) + 3 = 8
    assert kept.all() and events.rollovers == [2] and not events.replacements


@pytest.mark.parametrize("outlier", [50.0, 5000.0], ids=["dip", "spike"])
def test_a_glitch_is_set_aside_and_the_neighbours_span_is_prorated(outlier: float) -> None:
    intervals = to_intervals(_series([100, 110, outlier, 130, 140]), REGISTER)
    assert intervals.events.glitches == [2]
    assert intervals.quantity.tolist() == [10.0, 10.0, 10.0, 10.0]
    assert [Rule(r) for r in intervals.rule] == [
        Rule.MEASURED,
        Rule.PRORATE,
        Rule.PRORATE,
        Rule.MEASURED,
    ]


def test_a_replacement_leaves_the_change_to_the_conservative_substitute() -> None:
    # old meter 100 → 130, new meter starts near 0; the consumption across the swap is unknown
    intervals = to_intervals(_series([100, 108, 120, 130, 5, 15]), REGISTER)
    assert intervals.events.replacements == [4]
    measured = [8.0, 12.0, 10.0, 10.0]
    mean = sum(measured) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in measured) / 3)
    assert intervals.quantity[:3].tolist() == [8.0, 12.0, 10.0]
    assert intervals.quantity[3] == pytest.approx(mean + 2 * sd)  # 13.266 kWh
    assert intervals.quantity[4] == 10.0
    assert Rule(intervals.rule[3]) is Rule.SUBSTITUTE
    assert [gap.rule for gap in intervals.gaps] == [Rule.SUBSTITUTE]


def test_register_reads_further_apart_than_an_interval_are_prorated() -> None:
    series = MeterSeries(
        "m", np.array([T0, T0 + HOUR, T0 + 4 * HOUR]), np.array([0.0, 2.0, 14.0]), ["kWh"] * 3
    )
    intervals = to_intervals(series, REGISTER)
    assert intervals.quantity.tolist() == [2.0, 4.0, 4.0, 4.0]
    assert [gap.intervals for gap in intervals.gaps] == [3]
    assert intervals.gaps[0].rule is Rule.PRORATE


def test_sparse_register_reads_give_a_substitute_from_prorated_intervals() -> None:
    # reads every 4 hours on an hourly grid; the span asks for 2 more hours at the end
    series = MeterSeries(
        "m", np.array([T0, T0 + 4 * HOUR, T0 + 8 * HOUR]), np.array([0.0, 8.0, 24.0]), ["kWh"] * 3
    )
    intervals = to_intervals(series, REGISTER, span=(T0, T0 + 10 * HOUR))
    sample = np.array([2.0] * 4 + [4.0] * 4)
    expected = sample.mean() + 2 * sample.std(ddof=1)
    assert intervals.quantity.tolist() == [2.0] * 4 + [4.0] * 4 + [expected] * 2
    assert [(g.intervals, g.rule) for g in intervals.gaps] == [
        (8, Rule.PRORATE),
        (2, Rule.SUBSTITUTE),
    ]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1000), min_size=2, max_size=40), st.randoms())
def test_register_consumption_follows_timestamps_not_arrival(steps: list[float], rnd) -> None:
    reads = np.cumsum([0.0, *steps])
    ts = T0 + np.arange(len(reads), dtype=np.int64) * HOUR
    order = list(range(len(reads)))
    rnd.shuffle(order)
    shuffled = MeterSeries("m", ts[order], reads[order], ["kWh"] * len(reads))
    intervals = to_intervals(shuffled, Meter("m", "register", "kWh", interval_s=3600))
    assert intervals.quantity == pytest.approx(np.diff(reads))
    assert intervals.quantity.sum() == pytest.approx(reads[-1] - reads[0])
    assert (intervals.rule == Rule.MEASURED).all()


def test_interval_gaps_are_interpolated_or_substituted_and_flagged() -> None:
    meter = Meter("m", "interval", "kWh", interval_s=3600, labelling="start")
    values = [1, 2, np.nan, 4, 5, 1, 1, 1, 1, 1, 1, 9]
    series = _series(values)
    keep = ~np.isnan(series.value)
    # the hole at 02:00 is one interval; 05:00-10:00 (6 intervals) are then taken out too
    keep[5:11] = False
    series = MeterSeries("m", series.ts_us[keep], series.value[keep], ["kWh"] * int(keep.sum()))
    intervals = to_intervals(series, meter, options=VeeOptions(max_linear_gap=4))
    assert intervals.quantity[2] == 3.0  # linear between 2 and 4
    measured = np.array([1, 2, 4, 5, 9], dtype=float)
    assert intervals.quantity[5:11].tolist() == [measured.mean() + 2 * measured.std(ddof=1)] * 6
    assert [(g.intervals, g.rule) for g in intervals.gaps] == [
        (1, Rule.LINEAR),
        (6, Rule.SUBSTITUTE),
    ]
    assert series.value.tolist() == [1, 2, 4, 5, 9]  # the raw values were not touched


def test_implausible_intervals_are_replaced_and_counted() -> None:
    meter = Meter("m", "interval", "kWh", interval_s=3600, max_interval_quantity=100)
    intervals = to_intervals(_series([10, 10, 5000, 10, 10]), meter)
    assert intervals.implausible == 1
    assert intervals.quantity.tolist() == [10.0] * 5
    assert [Rule(r) for r in intervals.rule].count(Rule.LINEAR) == 1
    assert Rule(intervals.rule[2]) is Rule.LINEAR


@pytest.mark.parametrize(
    ("zone", "first_day", "hours"),
    [
        ("Europe/Berlin", datetime(2018, 3, 24), [24, 23, 24]),
        ("Europe/Berlin", datetime(2018, 10, 27), [24, 25, 24]),
        ("America/New_York", datetime(2018, 11, 3), [24, 25, 24]),
    ],
)
def test_days_are_cut_at_local_midnight_on_daylight_saving_changes(
    zone: str, first_day: datetime, hours: list[int]
) -> None:
    tz = ZoneInfo(zone)
    start = first_day.replace(tzinfo=tz)
    end = (first_day + timedelta(days=3)).replace(tzinfo=tz)
    quarter = 15 * 60 * 1_000_000
    starts = np.arange(to_epoch_us(start), to_epoch_us(end), quarter, dtype=np.int64)
    meter = Meter("m", "interval", "kWh", interval_s=900, labelling="start")
    series = MeterSeries("m", starts, np.ones(len(starts)), ["kWh"] * len(starts))
    days = aggregate(to_intervals(series, meter), zone, "day")
    assert [d.intervals for d in days] == [4 * h for h in hours]
    assert [d.quantity for d in days] == [4.0 * h for h in hours]
    assert [(d.period_end_us - d.period_start_us) // 3_600_000_000 for d in days] == hours
    assert days[0].label == first_day.strftime("%Y-%m-%d")


def test_register_readings_in_another_unit_are_converted(store: Store) -> None:
    store.save_meter(Meter("gas", "register", "Nm3", interval_s=3600, time_zone="Asia/Shanghai"))
    t = datetime(2018, 6, 1, tzinfo=UTC)
    store.add_readings(
        [
            Reading("gas", t, 1.0, "kNm3"),
            Reading("gas", t + timedelta(hours=1), 1500.0, "Nm3"),
            Reading("gas", t + timedelta(hours=2), 2.5, "kNm3"),
        ]
    )
    derived = derive_activity(store, "gas", periods=("day",))
    assert [a.quantity for a in derived.activity["day"]] == [1500.0]
    assert derived.activity["day"][0].label == "2018-06-01"


def test_the_steel_plants_2018_electricity(store: Store, steel_plant_file: Path) -> None:
    import_file(steel_plant_file, load_mapping(shipped_mapping("steel_industry")), store)
    derived = derive_activity(store, "daewoo-gwangyang-electricity", periods=("year", "month"))
    (year,) = derived.activity["year"]
    assert (year.label, year.intervals, year.intervals_estimated) == ("2018", 35_040, 0)
    assert round(year.quantity, 2) == 959_636.71
    assert len(derived.activity["month"]) == 12
    assert derive_activity(store, "daewoo-gwangyang-electricity").stored == 0
    stored = {a.label: a for a in store.activity("daewoo-gwangyang-electricity")}
    assert stored["2018"] == year
    assert len(stored) == 13


def test_a_plant_year_in_the_real_files_layout(store: Store, plant_year_file: Path) -> None:
    import_file(plant_year_file, load_mapping(shipped_mapping("steel_industry")), store)
    derived = derive_activity(store, "daewoo-gwangyang-electricity", periods=("year", "month"))
    (year,) = derived.activity["year"]
    assert (year.label, year.intervals, year.intervals_estimated) == ("2018", 35_040, 0)
    assert year.quantity == 646_800.0  # worked out in the fixture's docstring
    months = {m.label: m for m in derived.activity["month"]}
    assert len(months) == 12
    # March 2018: 22 weekdays and Sunday the 11th at 40 × 50 kWh, the other 2 056 intervals at 5
    assert months["2018-03"].quantity == 23 * 40 * 50 + (31 * 96 - 23 * 40) * 5
    assert sum(m.quantity for m in months.values()) == 646_800.0


def test_the_process_command_prints_and_stores_the_periods(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from carbonlink.cli import app

    mapping = tmp_path / "gas.yaml"
    mapping.write_text(
        "timestamp: {column: t, format: '%Y-%m-%d %H:%M', time_zone: Asia/Shanghai}\n"
        "values: [{column: reading, meter: gas, unit: Nm3}]\n"
        "meters: [{id: gas, kind: register, unit: Nm3, rollover_max: 9999, interval_s: 3600}]\n",
        encoding="utf-8",
    )
    reads = [("00:00", 9990), ("01:00", 9995), ("02:00", 3), ("05:00", 33)]
    data = tmp_path / "gas.csv"
    data.write_text("t,reading\n" + "".join(f"2018-06-01 {t},{v}\n" for t, v in reads))
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws"), "CARBONLINK_DATABASE_URL": ""}
    runner = CliRunner()
    assert (
        runner.invoke(app, ["ingest", "csv", str(data), "-m", str(mapping)], env=env).exit_code == 0
    )
    result = runner.invoke(app, ["ingest", "process", "gas", "--period", "day"], env=env)
    assert result.exit_code == 0, result.output
    # 5 + (9999 + 1 - 9995 + 3 = 8) + 30 prorated over 3 hours = 43 Nm3 on 1 June (Shanghai)
    assert "1 rollovers" in result.output and "prorate" in result.output
    assert "2018-06-01" in result.output and "43.00" in result.output
    assert "1 activity records stored" in result.output
