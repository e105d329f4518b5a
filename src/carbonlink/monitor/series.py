"""A meter's readings summarised for analysis: buckets of local time, a load heat map, intensity.

Readings are grouped by the wall-clock time of the facility's zone, so a "day" is the plant's day
and a "month" its calendar month. Each bucket keeps the count, sum, mean, minimum and maximum of
its readings; the sum is the exact sum of the values rounded once (`carbonlink.domain.exact`), so
a day or month read from the stored rollups (`from_rollups`) is the same number, to the last
bit, as one added up from the raw readings; the mean is that sum over the count. Which of them a
chart shows depends on the quantity: an interval meter of energy, volume or mass adds up
(``sum``), a rate such as kW is averaged (``mean``).

Long ranges are never sent raw: ``pick_step`` chooses the finest step that keeps a series under
``MAX_POINTS`` buckets, so a year of 15-minute readings is drawn from 365 daily points and the
server does one vectorised pass over the stored arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from carbonlink.domain.exact import add_exact, exact_sums
from carbonlink.domain.units import parse_quantity
from carbonlink.errors import InputError

Step = Literal["15min", "hour", "day", "month"]
STEPS: tuple[Step, ...] = ("15min", "hour", "day", "month")
STEP_SECONDS: dict[Step, int] = {"15min": 900, "hour": 3600, "day": 86_400, "month": 2_678_400}
MAX_POINTS = 2000
_FREQ = {"15min": "15min", "hour": "h", "day": "D"}


class SeriesError(InputError):
    """A request for a series that cannot be answered (bad step or range)."""


@dataclass(frozen=True)
class Buckets:
    """One meter's readings grouped by local time; arrays of equal length, one entry per bucket."""

    step: Step
    zone: str
    start: list[str]  # local wall-clock start of each bucket, ISO 8601 without offset
    count: np.ndarray
    total: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def values(self, stat: str) -> np.ndarray:
        return {"sum": self.total, "mean": self.mean, "min": self.low, "max": self.high}[stat]


AMOUNTS = ("[energy]", "[length] ** 3", "[normal_volume]", "[mass]", "[substance]")
"""Dimensions that add up over time; anything else (power, flow, temperature, %) is averaged."""


def default_stat(unit: str) -> Literal["sum", "mean"]:
    """``sum`` for amounts (kWh, Nm3, t), ``mean`` for rates and states (kW, m3/h, °C, %)."""
    try:
        quantity = parse_quantity(1.0, unit)
    except InputError:  # a unit the registry does not know is treated as an amount
        return "sum"
    return "sum" if any(quantity.check(dimension) for dimension in AMOUNTS) else "mean"


def pick_step(span_seconds: float, interval_s: int | None = None) -> Step:
    """The finest step, not finer than the meter's interval, giving at most MAX_POINTS buckets."""
    floor = interval_s or 900
    for step in STEPS:
        if STEP_SECONDS[step] < floor and step != "month":
            continue
        if span_seconds / STEP_SECONDS[step] <= MAX_POINTS:
            return step
    return "month"


def _local(ts_us: np.ndarray, zone: str) -> pd.DatetimeIndex:
    """Wall-clock times in the zone, without offset (a repeated autumn hour falls in one bucket)."""
    index = pd.to_datetime(ts_us, unit="us", utc=True)
    return pd.DatetimeIndex(index).tz_convert(zone).tz_localize(None)


def _labels(local: pd.DatetimeIndex, step: Step) -> pd.DatetimeIndex:
    if step == "month":
        return local.to_period("M").to_timestamp()
    return local.floor(_FREQ[step])


def bucket(ts_us: np.ndarray, values: np.ndarray, zone: str, step: Step) -> Buckets:
    """Group readings (UTC microseconds, values) into buckets of local time."""
    if step not in STEPS:
        raise SeriesError(f"unknown step {step!r}: use one of {', '.join(STEPS)}")
    if len(ts_us) == 0:
        empty = np.zeros(0)
        return Buckets(step, zone, [], np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
    labels = _labels(_local(ts_us, zone), step)
    frame = pd.DataFrame({"v": values}, index=labels)
    grouped = frame.groupby(level=0, sort=True)["v"]
    stats = grouped.agg(["count", "min", "max"])
    codes = np.searchsorted(stats.index.values, labels.values)
    count = stats["count"].to_numpy(dtype=np.int64)
    total = exact_sums(np.asarray(values, dtype=np.float64), codes, len(stats))
    start = [t.isoformat() for t in stats.index]
    return Buckets(
        step,
        zone,
        start,
        count,
        total,
        total / count,
        stats["min"].to_numpy(dtype=np.float64),
        stats["max"].to_numpy(dtype=np.float64),
    )


@dataclass(frozen=True)
class DayTotal:
    """A stored day rollup as the series needs it (see `carbonlink.store.rollups`)."""

    day: str  # local date, ISO 8601
    count: int
    total_exact: str
    low: float
    high: float


def from_rollups(days: list[DayTotal], zone: str, step: Step) -> Buckets:
    """Day or month buckets from a meter's day rollups: the numbers `bucket` gives from the
    raw readings of the same days."""
    if step not in ("day", "month"):
        raise SeriesError(f"rollups answer day and month steps, not {step!r}")
    groups: dict[str, list[DayTotal]] = {}
    for d in sorted(days, key=lambda d: d.day):
        key = d.day if step == "day" else d.day[:7] + "-01"
        groups.setdefault(key, []).append(d)
    start = [f"{key}T00:00:00" for key in groups]
    count = np.array([sum(d.count for d in g) for g in groups.values()], dtype=np.int64)
    total = np.array(
        [float(add_exact(d.total_exact for d in g)) for g in groups.values()], dtype=np.float64
    )
    low = np.array([min(d.low for d in g) for g in groups.values()], dtype=np.float64)
    high = np.array([max(d.high for d in g) for g in groups.values()], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
    return Buckets(step, zone, start, count, total, mean, low, high)


def scaled(buckets: Buckets, factor: float) -> Buckets:
    """The buckets of the values multiplied by ``factor`` (a meter's multiplier), applied to
    the bucket statistics so that raw and rollup answers stay identical."""
    if factor == 1.0:
        return buckets
    low, high = buckets.low * factor, buckets.high * factor
    if factor < 0:
        low, high = high, low
    return Buckets(
        buckets.step,
        buckets.zone,
        buckets.start,
        buckets.count,
        buckets.total * factor,
        buckets.total * factor / buckets.count,
        low,
        high,
    )


@dataclass(frozen=True)
class HeatMap:
    """Hour of day × local date: the sum of the readings in each cell (NaN where none)."""

    days: list[str]
    cells: np.ndarray  # shape (len(days), 24)

    def triples(self) -> list[tuple[int, int, float]]:
        """[hour, day index, value] for every filled cell, as a heat-map chart takes them."""
        day, hour = np.nonzero(~np.isnan(self.cells))
        return [
            (int(h), int(d), round(float(self.cells[d, h]), 6))
            for d, h in zip(day, hour, strict=True)
        ]


MAX_HEAT_DAYS = 400


def heat_map(ts_us: np.ndarray, values: np.ndarray, zone: str, stat: str = "sum") -> HeatMap:
    """The load profile: one row per local date, one column per hour of the day."""
    if len(ts_us) == 0:
        return HeatMap([], np.zeros((0, 24)))
    local = _local(ts_us, zone)
    dates = local.normalize()
    first, last = dates.min(), dates.max()
    n_days = (last - first).days + 1
    if n_days > MAX_HEAT_DAYS:
        raise SeriesError(
            f"the heat map covers at most {MAX_HEAT_DAYS} days; choose a shorter range "
            f"(asked for {n_days})"
        )
    row = np.asarray((dates - first).days, dtype=np.int64)
    col = np.asarray(local.hour, dtype=np.int64)
    flat = row * 24 + col
    sums = np.bincount(flat, weights=values, minlength=n_days * 24)
    counts = np.bincount(flat, minlength=n_days * 24)
    with np.errstate(invalid="ignore", divide="ignore"):
        cell = sums if stat == "sum" else sums / counts
    cell = np.where(counts > 0, cell, np.nan).reshape(n_days, 24)
    days = [(first + pd.Timedelta(days=i)).date().isoformat() for i in range(n_days)]
    return HeatMap(days, cell)


def per_output(numerator: Buckets, denominator: Buckets) -> np.ndarray:
    """Each bucket's sum divided by the output's sum in the same bucket (NaN where none or 0)."""
    if numerator.step != denominator.step:
        raise SeriesError("intensity needs both series at the same step")
    output = dict(zip(denominator.start, denominator.total, strict=True))
    den = np.array([output.get(s, np.nan) for s in numerator.start], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = numerator.total / den
    return np.where((den > 0) & np.isfinite(ratio), ratio, np.nan)
