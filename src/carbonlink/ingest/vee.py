"""Meter processing — validate, estimate, edit (VEE): raw readings → intervals → activity.

Raw readings are never changed. From them this module derives, on whole arrays:

1. for register (cumulative) meters, consumption between reads in timestamp order, telling a
   counter rollover, a meter replacement and a glitch apart (see `register_consumption`);
2. consumption on a regular grid of intervals, with every interval that was not measured
   estimated and flagged with the rule that produced it (see `Rule`);
3. totals per accounting period (day, month, year) in the facility's local calendar, so a
   23-hour spring day has 92 quarter-hours and a 25-hour autumn day 100.

The estimation rules follow Commission Implementing Regulation (EU) 2018/2066 (MRR): Art. 66
asks for conservative substitutes for data gaps, set out in the monitoring plan; Art. 45(3)
gives the conservative substitute for a missing continuous-measurement hour as the mean of the
reference period plus twice its standard deviation, which is the substitute used here.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from carbonlink.domain.metering import Meter, MeteredActivity
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import InputError
from carbonlink.store.repository import MeterSeries, Store

US = 1_000_000
Period = Literal["day", "month", "year"]


class Rule(IntEnum):
    """How an interval's quantity was obtained (stored with every derived total)."""

    MEASURED = 0
    LINEAR = 1
    """Linear interpolation between the measured intervals on either side of a short gap."""
    PRORATE = 2
    """A register's consumption between two reads spread over the intervals between them,
    in proportion to time."""
    SUBSTITUTE = 3
    """Conservative substitute, MRR Art. 66 with Art. 45(3): mean + 2 σ of the measured
    intervals of the meter in the processed span."""

    @property
    def label(self) -> str:
        """Lower-case name, as recorded with derived activity."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class VeeOptions:
    """Choices of the monitoring plan for estimating what was not measured."""

    max_linear_gap: int = 4
    """Gaps of at most this many intervals are interpolated linearly; longer ones get the
    conservative substitute."""
    substitute_sigmas: float = 2.0
    """k in mean + k σ (MRR Art. 45(3) uses 2)."""


@dataclass(frozen=True, slots=True)
class Gap:
    """Consecutive intervals without a measurement, and the rule that filled them."""

    start_us: int
    end_us: int
    intervals: int
    rule: Rule


@dataclass
class RegisterEvents:
    """What the register pass found, by reading index (after sorting by time)."""

    rollovers: list[int] = field(default_factory=list)
    replacements: list[int] = field(default_factory=list)
    glitches: list[int] = field(default_factory=list)


@dataclass
class IntervalSeries:
    """Consumption per interval on a regular grid, in the meter's unit (multiplier applied)."""

    meter_id: str
    unit: str
    step_us: int
    start_us: NDArray[np.int64]
    quantity: NDArray[np.float64]
    rule: NDArray[np.int8]
    gaps: list[Gap] = field(default_factory=list)
    events: RegisterEvents = field(default_factory=RegisterEvents)
    implausible: int = 0
    off_grid: int = 0

    @property
    def estimated(self) -> NDArray[np.bool_]:
        """Which intervals were not measured."""
        return self.rule != Rule.MEASURED


def _sorted_unique(
    ts_us: NDArray[np.int64], values: NDArray[np.float64]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    order = np.argsort(ts_us, kind="stable")
    ts, v = ts_us[order], values[order]
    keep = np.ones(len(ts), dtype=bool)
    keep[1:] = ts[1:] != ts[:-1]
    return ts[keep], v[keep]


def register_consumption(
    reads: NDArray[np.float64], meter: Meter
) -> tuple[NDArray[np.float64], NDArray[np.bool_], RegisterEvents]:
    """Consumption between consecutive register reads (already in time order).

    Returns ``(delta, kept, events)``: ``delta[k]`` is the consumption between the k-th and the
    (k+1)-th kept read (NaN where unknown), ``kept`` marks reads that are not glitches.

    A fall in the register is read as:

    * a glitch, when one read is out of line and its neighbours agree with each other
      (``v[i-1] <= v[i+1]``): the read is set aside;
    * a rollover, when the meter has a ``rollover_max``, the read before the fall is in the
      upper half of the range and the one after in the lower half: the consumption is
      ``(max + 1 − prev) + cur``;
    * a replacement otherwise (the new meter counts up from a new start): the consumption
      across the change is unknown and left to estimation.
    """
    events = RegisterEvents()
    kept = np.isfinite(reads)
    while True:
        index = np.flatnonzero(kept)
        v = reads[index]
        falls = np.flatnonzero(np.diff(v) < 0)
        glitch = -1
        for k in falls:
            # a dip at k+1: the reads either side of it agree
            if k + 2 < len(v) and v[k + 2] >= v[k]:
                glitch = int(k) + 1
                break
            # a spike at k: the reads either side of it agree
            if k >= 1 and v[k + 1] >= v[k - 1] and not _is_rollover(v[k], v[k + 1], meter):
                glitch = int(k)
                break
        if glitch < 0:
            break
        events.glitches.append(int(index[glitch]))
        kept[index[glitch]] = False
    index = np.flatnonzero(kept)
    v = reads[index]
    delta = np.diff(v)
    for k in np.flatnonzero(delta < 0):
        if _is_rollover(v[k], v[k + 1], meter):
            assert meter.rollover_max is not None
            delta[k] = (meter.rollover_max + 1 - v[k]) + v[k + 1]
            events.rollovers.append(int(index[k + 1]))
        else:
            delta[k] = np.nan
            events.replacements.append(int(index[k + 1]))
    return delta * meter.multiplier, kept, events


def _is_rollover(previous: float, current: float, meter: Meter) -> bool:
    top = meter.rollover_max
    return top is not None and previous > top / 2 and current < top / 2


def _substitute(quantity: NDArray[np.float64], measured: NDArray[np.bool_], sigmas: float) -> float:
    """Conservative substitute: mean + k σ of the reference intervals (MRR Art. 45(3), k = 2)."""
    sample = quantity[measured]
    if len(sample) == 0:
        raise InputError(
            "no measured interval to base a substitute value on",
            hint="import readings for the meter before deriving its activity",
        )
    sd = float(sample.std(ddof=1)) if len(sample) > 1 else 0.0
    return float(sample.mean()) + sigmas * sd


def _fill_gaps(
    start_us: NDArray[np.int64],
    quantity: NDArray[np.float64],
    rule: NDArray[np.int8],
    missing: NDArray[np.bool_],
    options: VeeOptions,
    step_us: int,
    conservative: NDArray[np.bool_] | None = None,
) -> list[Gap]:
    """Estimate missing intervals in place; return the gaps with the rule used.

    Short gaps inside the data are interpolated linearly, unless one of their intervals is
    marked ``conservative`` (a meter change, where the lost consumption is unknown); longer
    gaps and those at the edges get the conservative substitute.
    """
    gaps: list[Gap] = []
    if not missing.any():
        return gaps
    # the reference sample: measured intervals, or (sparse register reads) prorated ones
    measured = ~missing & (rule == Rule.MEASURED)
    sample = measured if measured.any() else ~missing
    substitute = _substitute(quantity, sample, options.substitute_sigmas)
    have = np.flatnonzero(~missing)
    edges = np.diff(np.concatenate(([0], missing.view(np.int8), [0])))
    for first, end in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
        length = int(end - first)
        inside = first > 0 and end < len(quantity)
        forced = conservative is not None and bool(conservative[first:end].any())
        if inside and length <= options.max_linear_gap and not forced:
            slots = np.arange(first, end)
            quantity[first:end] = np.interp(slots, have, quantity[have])
            rule[first:end] = Rule.LINEAR
        else:
            quantity[first:end] = substitute
            rule[first:end] = Rule.SUBSTITUTE
        gaps.append(
            Gap(int(start_us[first]), int(start_us[end - 1]) + step_us, length, Rule(rule[first]))
        )
    return gaps


def _step(ts: NDArray[np.int64], meter: Meter) -> int:
    if meter.interval_s:
        return int(meter.interval_s) * US
    if len(ts) < 2:
        raise InputError(
            f"meter {meter.id} has no interval length and too few readings to infer one",
            hint="set interval_s on the meter",
        )
    return int(np.median(np.diff(ts)))


def _grid(first: int, last: int, step: int, span: tuple[int, int] | None) -> NDArray[np.int64]:
    """Interval starts from ``first`` to ``last`` (inclusive), widened to ``span`` if given."""
    if span is not None:
        lo = first - ((first - span[0]) // step) * step
        hi_count = (span[1] - lo + step - 1) // step
        return lo + np.arange(hi_count, dtype=np.int64) * step
    return first + np.arange((last - first) // step + 1, dtype=np.int64) * step


def to_intervals(
    series: MeterSeries,
    meter: Meter,
    *,
    options: VeeOptions | None = None,
    span: tuple[int, int] | None = None,
) -> IntervalSeries:
    """Consumption per interval on a regular grid, estimates flagged (raw values untouched).

    ``span`` (UTC microseconds, half-open) widens the grid to a whole accounting period, so that
    missing data at its edges is estimated rather than silently absent.
    """
    options = options or VeeOptions()
    values = _in_meter_unit(series, meter)
    ts, v = _sorted_unique(series.ts_us, values)
    if len(ts) == 0:
        raise InputError(f"meter {meter.id} has no readings", hint="import its readings first")
    step = _step(ts, meter)
    if meter.kind == "interval":
        result = _interval_meter(ts, v, meter, step, options, span)
    else:
        result = _register_meter(ts, v, meter, step, options, span)
    return result


def _in_meter_unit(series: MeterSeries, meter: Meter) -> NDArray[np.float64]:
    units = np.asarray(series.unit, dtype=object)
    values = series.value.astype(np.float64, copy=True)
    for unit in set(series.unit):
        if unit != meter.unit:
            values[units == unit] *= conversion_factor(unit, meter.unit, record=meter.id)
    return values


def _implausible(quantity: NDArray[np.float64], meter: Meter) -> NDArray[np.bool_]:
    limit = meter.max_interval_quantity
    bad = ~np.isfinite(quantity)
    if limit is not None:
        bad |= quantity > limit
    return bad | (quantity < 0)


def _interval_meter(
    ts: NDArray[np.int64],
    v: NDArray[np.float64],
    meter: Meter,
    step: int,
    options: VeeOptions,
    span: tuple[int, int] | None,
) -> IntervalSeries:
    starts = ts - step if meter.labelling == "end" else ts
    grid = _grid(int(starts[0]), int(starts[-1]), step, span)
    slot = (starts - grid[0]) // step
    off_grid = int(np.count_nonzero((starts - grid[0]) % step))
    inside = (slot >= 0) & (slot < len(grid))
    quantity = np.zeros(len(grid))
    np.add.at(quantity, slot[inside], v[inside] * meter.multiplier)
    missing = np.ones(len(grid), dtype=bool)
    missing[slot[inside]] = False
    implausible = ~missing & _implausible(quantity, meter)
    missing |= implausible
    rule = np.zeros(len(grid), dtype=np.int8)
    gaps = _fill_gaps(grid, quantity, rule, missing, options, step)
    return IntervalSeries(
        meter.id,
        meter.unit,
        step,
        grid,
        quantity,
        rule,
        gaps,
        implausible=int(implausible.sum()),
        off_grid=off_grid,
    )


def _register_meter(
    ts: NDArray[np.int64],
    v: NDArray[np.float64],
    meter: Meter,
    step: int,
    options: VeeOptions,
    span: tuple[int, int] | None,
) -> IntervalSeries:
    delta, kept, events = register_consumption(v, meter)
    read_ts = ts[kept]
    if len(read_ts) < 2:
        raise InputError(f"register meter {meter.id} needs at least two good reads")
    unknown = ~np.isfinite(delta)
    # consumption known up to each read: C(t) piecewise linear between reads
    cumulative = np.concatenate(([0.0], np.cumsum(np.where(unknown, 0.0, delta))))
    grid = _grid(int(read_ts[0]), int(read_ts[-1]) - step, step, span)
    edges = np.concatenate((grid, [grid[-1] + step]))
    at_edges = np.interp(edges, read_ts, cumulative)
    quantity = np.diff(at_edges)
    # measured: both ends of the interval are reads, one interval apart
    is_read = np.isin(edges, read_ts)
    rule = np.full(len(grid), Rule.PRORATE, dtype=np.int8)
    rule[is_read[:-1] & is_read[1:]] = Rule.MEASURED
    outside = (edges[1:] <= read_ts[0]) | (edges[:-1] >= read_ts[-1])
    # intervals touching a span with unknown consumption (a replacement) are estimated anew
    span_of = np.searchsorted(read_ts, grid, side="right") - 1
    span_end = np.searchsorted(read_ts, edges[1:], side="left") - 1
    touches_unknown = np.zeros(len(grid), dtype=bool)
    for k in np.flatnonzero(unknown):
        touches_unknown |= (span_of <= k) & (span_end >= k)
    implausible = (rule == Rule.MEASURED) & _implausible(quantity, meter)
    missing = outside | touches_unknown | implausible
    gaps = _fill_gaps(grid, quantity, rule, missing, options, step, touches_unknown)
    prorated = (rule == Rule.PRORATE) & ~missing
    gaps.extend(_runs(grid, prorated, step, Rule.PRORATE))
    gaps.sort(key=lambda gap: gap.start_us)
    return IntervalSeries(
        meter.id,
        meter.unit,
        step,
        grid,
        quantity,
        rule,
        gaps,
        events,
        implausible=int(implausible.sum()),
    )


def _runs(grid: NDArray[np.int64], mask: NDArray[np.bool_], step: int, rule: Rule) -> list[Gap]:
    edges = np.diff(np.concatenate(([0], mask.view(np.int8), [0])))
    return [
        Gap(int(grid[a]), int(grid[b - 1]) + step, int(b - a), rule)
        for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True)
    ]


def aggregate(
    intervals: IntervalSeries, time_zone: str, period: Period, *, source_id: str | None = None
) -> list[MeteredActivity]:
    """Totals per local day, month or year; an interval counts in the period its start is in.

    Periods are cut at local midnight in ``time_zone``, so on daylight-saving days the total
    covers 23 or 25 hours, as the plant's own calendar does.
    """
    if len(intervals.start_us) == 0:
        return []
    local = pd.DatetimeIndex(intervals.start_us.astype("datetime64[us]"), tz="UTC").tz_convert(
        time_zone
    )
    naive = local.tz_localize(None)
    freq = {"day": "D", "month": "M", "year": "Y"}[period]
    periods = naive.to_period(freq)
    codes, uniques = pd.factorize(periods, sort=True)
    n = len(uniques)
    total = np.bincount(codes, weights=intervals.quantity, minlength=n)
    estimated_mask = intervals.estimated
    estimated = np.bincount(codes, weights=intervals.quantity * estimated_mask, minlength=n)
    count = np.bincount(codes, minlength=n)
    count_estimated = np.bincount(codes, weights=estimated_mask, minlength=n).astype(int)
    starts = uniques.start_time.tz_localize(time_zone, nonexistent="shift_forward")
    ends = uniques.end_time.ceil("D").tz_localize(time_zone, nonexistent="shift_forward")
    start_us = starts.tz_convert("UTC").as_unit("us").asi8
    end_us = ends.tz_convert("UTC").as_unit("us").asi8
    records = []
    for p in range(n):
        used = np.unique(intervals.rule[(codes == p) & estimated_mask])
        records.append(
            MeteredActivity(
                meter_id=intervals.meter_id,
                period_start_us=int(start_us[p]),
                period_end_us=int(end_us[p]),
                label=str(uniques[p]),
                quantity=float(total[p]),
                unit=intervals.unit,
                intervals=int(count[p]),
                estimated_quantity=float(estimated[p]),
                intervals_estimated=int(count_estimated[p]),
                rules=tuple(Rule(int(r)).label for r in used),
                source_id=source_id,
            )
        )
    return records


@dataclass
class DerivedActivity:
    """What `derive_activity` produced and stored."""

    intervals: IntervalSeries
    activity: dict[Period, list[MeteredActivity]]
    stored: int


def derive_activity(
    store: Store,
    meter_id: str,
    *,
    periods: tuple[Period, ...] = ("year", "month"),
    time_zone: str | None = None,
    span: tuple[int, int] | None = None,
    options: VeeOptions | None = None,
    save: bool = True,
) -> DerivedActivity:
    """Run VEE on a meter's stored readings and store its activity per accounting period.

    The time zone is the facility's (falling back to the meter's). Re-running on the same
    readings stores nothing new; running after new readings arrived supersedes the totals.
    With ``save=False`` nothing is written: an audit re-derives without touching what it audits.
    """
    meter = store.meter(meter_id)
    if meter is None:
        raise InputError(f"no meter {meter_id!r}", hint="register the meter first")
    facility = store.facility(meter.facility_id) if meter.facility_id else None
    zone = time_zone or (facility.time_zone if facility else meter.time_zone)
    series = store.series(meter_id)
    intervals = to_intervals(series, meter, options=options, span=span)
    activity = {
        period: aggregate(intervals, zone, period, source_id=meter.source_id) for period in periods
    }
    digest = hashlib.sha256()
    digest.update(series.ts_us.tobytes())
    digest.update(series.value.tobytes())
    digest.update("\0".join(series.unit).encode())
    digest.update(repr((meter, options or VeeOptions(), zone, span)).encode())
    records = [record for period in periods for record in activity[period]]
    stored = store.save_activity(records, input_digest=digest.hexdigest()) if save else 0
    return DerivedActivity(intervals, activity, stored)
