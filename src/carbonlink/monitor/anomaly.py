"""Anomaly detection on meter streams with a robust seasonal baseline.

The baseline of a meter is, for every slot of the week (hour-of-week in the facility's local
time, 168 slots), the median of the history and its median absolute deviation (MAD). A reading
is anomalous when it lies outside ``median ± k × 1.4826 × MAD``; 1.4826 makes the MAD a
consistent estimator of the standard deviation for normal data (Rousseeuw & Croux 1993), so
``k = 4`` means "four sigma" while staying insensitive to the outliers it is looking for.
Industrial load is often flat within a slot (a line that is off reads 0 every night), which
gives a MAD of zero, and a few weeks of history give noisy MADs; each slot's scale is therefore
floored at a fraction of the meter's overall robust scale and at a fraction of the slot's own
level (meter noise tends to grow with load), so a flat slot does not flag every tiny wobble.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from carbonlink.errors import InputError

MAD_TO_SIGMA = 1.4826
SLOTS_PER_WEEK = 168

FloatArray = npt.NDArray[np.float64]


def _middle(
    ordered: FloatArray, starts: npt.NDArray[np.int64], counts: npt.NDArray[np.int64]
) -> FloatArray:
    """The median of each run ``ordered[start : start + count]`` of sorted values."""
    lo = ordered[starts + (counts - 1) // 2]
    hi = ordered[starts + counts // 2]
    return np.where(counts % 2 == 1, lo, (lo + hi) / 2)


def hour_of_week(ts_utc: npt.NDArray[np.datetime64], timezone: str) -> npt.NDArray[np.int64]:
    """Slot 0–167 (Monday 00:00 = 0) of each UTC instant, in the facility's local time."""
    local = pd.DatetimeIndex(ts_utc).tz_localize("UTC").tz_convert(timezone)
    return np.asarray(local.day_of_week * 24 + local.hour, dtype=np.int64)


@dataclass(frozen=True)
class SeasonalBaseline:
    """Median and robust scale of a meter per hour-of-week slot."""

    timezone: str
    median: FloatArray
    scale: FloatArray
    samples: npt.NDArray[np.int64]

    @classmethod
    def fit(
        cls,
        ts_utc: npt.NDArray[np.datetime64],
        values: FloatArray,
        timezone: str,
        *,
        min_samples: int = 4,
        scale_floor: float = 0.05,
        relative_floor: float = 0.05,
    ) -> SeasonalBaseline:
        """Learn the baseline from history (NaN values are ignored)."""
        values = np.asarray(values, dtype=np.float64)
        if len(values) != len(ts_utc):
            raise InputError("timestamps and values differ in length")
        return cls.from_slots(
            hour_of_week(ts_utc, timezone),
            values,
            timezone,
            min_samples=min_samples,
            scale_floor=scale_floor,
            relative_floor=relative_floor,
        )

    @classmethod
    def from_slots(
        cls,
        slots: npt.NDArray[np.int64],
        values: FloatArray,
        timezone: str,
        *,
        min_samples: int = 4,
        scale_floor: float = 0.05,
        relative_floor: float = 0.05,
    ) -> SeasonalBaseline:
        """`fit` on readings whose hour-of-week slots are known already."""
        values = np.asarray(values, dtype=np.float64)
        valid = ~np.isnan(values)
        slots, values = slots[valid], values[valid]
        if values.size == 0:
            raise InputError(
                "no history to learn a baseline from",
                hint="import at least a few weeks of readings for this meter first",
            )
        order = np.lexsort((values, slots))
        slots, values = slots[order], values[order]
        counts = np.bincount(slots, minlength=SLOTS_PER_WEEK)
        median = np.full(SLOTS_PER_WEEK, np.nan)
        mad = np.full(SLOTS_PER_WEEK, np.nan)
        starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
        kept = np.flatnonzero(counts >= min_samples)
        if np.isfinite(values).all():
            # Every slot's median at once, from the sorted values: the middle one, or the mean
            # of the middle two, as np.median takes them.
            median[kept] = _middle(values, starts[kept], counts[kept])
            inside = np.repeat(counts >= min_samples, counts)
            deviation = np.abs(values - median[slots])[inside]
            dev_slots = slots[inside]
            deviation = deviation[np.lexsort((deviation, dev_slots))]
            kept_counts = counts[kept]
            kept_starts = np.concatenate(([0], np.cumsum(kept_counts)[:-1]))
            mad[kept] = _middle(deviation, kept_starts, kept_counts)
        else:
            for slot in kept:
                chunk = values[starts[slot] : starts[slot] + counts[slot]]
                m = float(np.median(chunk))
                median[slot] = m
                mad[slot] = float(np.median(np.abs(chunk - m)))
        overall = MAD_TO_SIGMA * float(np.median(np.abs(values - np.median(values))))
        if overall == 0.0:
            overall = float(np.std(values)) or 1.0
        scale = np.maximum(MAD_TO_SIGMA * mad, scale_floor * overall)
        scale = np.maximum(scale, relative_floor * np.abs(median))
        return cls(timezone=timezone, median=median, scale=scale, samples=counts)

    def band(
        self, ts_utc: npt.NDArray[np.datetime64], k: float = 4.0
    ) -> tuple[FloatArray, FloatArray]:
        """Lower and upper limits of the expected band at each instant (NaN where unknown)."""
        return self.band_at(hour_of_week(ts_utc, self.timezone), k)

    def band_at(
        self, slots: npt.NDArray[np.int64], k: float = 4.0
    ) -> tuple[FloatArray, FloatArray]:
        """`band` for readings whose hour-of-week slots are known already."""
        centre, spread = self.median[slots], self.scale[slots]
        return centre - k * spread, centre + k * spread

    def flag(
        self, ts_utc: npt.NDArray[np.datetime64], values: FloatArray, k: float = 4.0
    ) -> npt.NDArray[np.bool_]:
        """True where a reading lies outside the band; slots without history never flag."""
        low, high = self.band(ts_utc, k)
        values = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            return (values < low) | (values > high)


@dataclass(frozen=True)
class Episode:
    """A run of consecutive anomalous readings."""

    start: np.datetime64
    end: np.datetime64
    readings: int
    peak_value: float
    expected: float


def episodes(
    ts_utc: npt.NDArray[np.datetime64],
    values: FloatArray,
    flags: npt.NDArray[np.bool_],
    baseline: SeasonalBaseline,
) -> list[Episode]:
    """Group flagged readings (in timestamp order) into episodes of consecutive readings."""
    order = np.argsort(ts_utc, kind="stable")
    ts, vals, flg = ts_utc[order], np.asarray(values)[order], flags[order]
    edges = np.diff(np.concatenate(([0], flg.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    expected = baseline.median[hour_of_week(ts, baseline.timezone)]
    found = []
    for s, e in zip(starts, ends, strict=True):
        deviation = np.abs(vals[s:e] - expected[s:e])
        peak = s + int(np.argmax(deviation))
        found.append(
            Episode(
                start=ts[s],
                end=ts[e - 1],
                readings=int(e - s),
                peak_value=float(vals[peak]),
                expected=float(expected[peak]),
            )
        )
    return found


def trailing_flags(
    ts_utc: npt.NDArray[np.datetime64],
    values: FloatArray,
    timezone: str,
    *,
    window_weeks: int = 8,
    min_weeks: int = 4,
    k: float = 6.0,
) -> tuple[npt.NDArray[np.bool_], FloatArray, FloatArray]:
    """Flag each week's readings against a baseline learned from the weeks before it.

    This is how the detector runs live: only history that existed at the time is used, so a
    plant that changes its regime (a night shift added) is flagged when it changes and becomes
    the new normal once the window has moved on. Readings in the first ``min_weeks`` weeks are
    never flagged (no history), nor are those of a week whose window holds no reading (after a
    pause longer than the window). Returns flags and the lower/upper band per reading.
    """
    values = np.asarray(values, dtype=np.float64)
    week = ((ts_utc - ts_utc.min()) // np.timedelta64(7, "D")).astype(np.int64)
    flags = np.zeros(len(values), dtype=np.bool_)
    low = np.full(len(values), np.nan)
    high = np.full(len(values), np.nan)
    # Only the weeks that hold readings: a stray reading years away adds one week, not a loop
    # over every week between.
    slots = hour_of_week(ts_utc, timezone)  # once, not once per week and window
    for w in np.unique(week[week >= min_weeks]):
        current = week == w
        history = (week < w) & (week >= w - window_weeks)
        if not history.any() or np.isnan(values[history]).all():
            continue
        baseline = SeasonalBaseline.from_slots(slots[history], values[history], timezone)
        low[current], high[current] = baseline.band_at(slots[current], k)
        with np.errstate(invalid="ignore"):
            flags[current] = (values[current] < low[current]) | (values[current] > high[current])
    return flags, low, high
