"""Checking readings against the meter registry before they are stored, row by row.

Every way a reading comes in — an HTTP batch, a stream collector's flush, a file — goes through
the same checks: the meter is registered, the unit is a plain unit of the meter's kind, the
value is a finite number (not a boolean, not a number that only became 0 by underflow) inside
the meter's plausible range, and the time lies in the meter's plausible window. A row that
fails is refused alone, with its position and the reason; the others go on. Nothing here
raises on a bad row: every problem becomes a reason. A negative reading of a consumption meter
is stored, but as ``suspect`` (`suspect_reason` says why): it is kept for a person to judge.

The plausible window runs from ``valid_from`` (default 1990-01-01, before any meter whose data
carbonlink accounts for) to ``max_future_skew`` after the present (default one day, for clocks
a little ahead). It refuses the year 1 that .NET writes for a null date, the epoch 0 of an
unset clock, and epoch seconds read as milliseconds; each meter may set its own
(`carbonlink.store.Store.save_reading_window`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from carbonlink.domain.metering import Meter
from carbonlink.domain.units import check_plain_unit, conversion_factor
from carbonlink.errors import CarbonlinkError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.store.repository import Store

DEFAULT_VALID_FROM = datetime(1990, 1, 1, tzinfo=UTC)
DEFAULT_FUTURE_SKEW = timedelta(days=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ReadingWindow:
    """The instants a meter's readings may carry: from ``valid_from`` to now + skew."""

    valid_from: datetime = DEFAULT_VALID_FROM
    max_future_skew: timedelta = DEFAULT_FUTURE_SKEW

    def bounds_us(self, now: datetime) -> tuple[int, int]:
        """First and last allowed instant, in microseconds since 1970 UTC."""
        low = (self.valid_from - _EPOCH) // timedelta(microseconds=1)
        high = (now + self.max_future_skew - _EPOCH) // timedelta(microseconds=1)
        return low, high

    def describe(self, now: datetime) -> str:
        """The window in words, for a reason."""
        high = now + self.max_future_skew
        return f"{self.valid_from:%Y-%m-%d %H:%M} to {high:%Y-%m-%d %H:%M} UTC"

    def problem(self, ts: datetime, now: datetime) -> str | None:
        """Why ``ts`` is outside the window, or None when it is inside."""
        if ts.tzinfo is None:
            return "timestamp has no UTC offset; add 'Z' or '+08:00'"
        try:
            instant = ts.astimezone(UTC)
        except (OverflowError, ValueError):
            # 0001-01-01T00:00:00+14:00 lies before the first instant Python can hold in UTC
            return f"timestamp {ts.isoformat()} is outside the plausible window " + (
                self.describe(now)
            )
        if instant < self.valid_from or instant > now + self.max_future_skew:
            return (
                f"timestamp {instant.isoformat()} is outside the plausible window "
                f"{self.describe(now)}; check the source's clock (a null date, or epoch "
                "seconds read as milliseconds)"
            )
        return None

    def outside(self, ts_us: NDArray[np.int64], now: datetime) -> NDArray[np.bool_]:
        """Which of the instants (microseconds since 1970 UTC) are outside the window."""
        low, high = self.bounds_us(now)
        return (ts_us < low) | (ts_us > high)


DEFAULT_WINDOW = ReadingWindow()


_NUMBER = (int, float)  # a tuple: isinstance with `int | float` builds the union on every call


def value_problem(value: object) -> str | None:
    """Why ``value`` cannot be a reading's value, or None."""
    if isinstance(value, bool) or not isinstance(value, _NUMBER):
        return f"value {value!r} is not a number"
    try:
        number = float(value)
    except OverflowError:
        return "the value is too large for a number of 64 bits"
    if not math.isfinite(number):
        return f"value {value!r} is not a finite number"
    return None


def underflows(text: str) -> bool:
    """Whether a number written as ``text`` is not zero but reads as 0.0 in binary64."""
    try:
        number = Decimal(text.strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        return False
    return number.is_finite() and number != 0 and float(number) == 0.0


def unit_problem(unit: str, meter: MeterLike) -> tuple[float | None, str | None]:
    """The factor taking ``unit`` to the meter's unit, or the reason it cannot."""
    try:
        check_plain_unit(meter.unit)
    except CarbonlinkError as exc:
        return None, f"meter {meter.id} has unit {meter.unit!r}, which is not usable: " + (
            f"{exc.message}; correct the meter's unit"
        )
    try:
        check_plain_unit(unit)
        factor = 1.0 if unit == meter.unit else conversion_factor(unit, meter.unit)
    except CarbonlinkError as exc:
        return None, f"unit {unit!r} does not fit meter {meter.id} ({meter.unit}): {exc.message}"
    return factor, None


def range_problem(value: float, meter: MeterLike) -> str | None:
    """Why ``value`` (in the meter's unit) is outside the meter's plausible range, or None."""
    if not math.isfinite(value):
        return "value overflows after unit conversion"
    low, high = getattr(meter, "min_value", None), getattr(meter, "max_value", None)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-∞" if low is None else f"{low:g}"
        hi = "∞" if high is None else f"{high:g}"
        return (
            f"value {value:g} {meter.unit} is outside the plausible range [{lo}, {hi}] "
            f"{meter.unit} of meter {meter.id}"
        )
    return None


SUSPECT = "suspect"


def consumption_register(meter: MeterLike) -> bool:
    """Whether the meter counts a consumed quantity (energy, fuel), which is never negative.

    A stored meter of kind ``register`` or ``interval`` does; a tenant meter does when it
    feeds a source's activity. A meter whose plausible range goes below zero declares that it
    may read negative (a net or export meter) and is not one.
    """
    low = getattr(meter, "min_value", None)
    if low is not None and low < 0:
        return False
    kind = getattr(meter, "kind", None)
    if kind is not None:
        return str(kind) in ("register", "interval")
    return getattr(meter, "purpose", None) == "activity"


def suspect_reason(value: float, meter: MeterLike) -> str | None:
    """Why a reading (in the meter's unit) is stored as suspect, or None when it is not."""
    if value < 0 and consumption_register(meter):
        return (
            f"{value:g} {meter.unit} on consumption register {meter.id}: "
            "a consumption cannot be negative"
        )
    return None


def _quality(checked: Reading, sent: str) -> str:
    """The checks' verdict where they found the reading suspect, else the quality sent."""
    return SUSPECT if checked.quality == SUSPECT else sent


@dataclass(frozen=True, slots=True)
class RowRefusal:
    """A row refused by the checks: its position in what was received, and why."""

    index: int
    meter_id: str
    reason: str


@dataclass(slots=True)
class Validated:
    """Rows split into readings to store (in their meter's unit) and refusals."""

    readings: list[Reading] = field(default_factory=list)
    refused: list[RowRefusal] = field(default_factory=list)


@dataclass
class _Checker:
    """One pass of checks, caching what each (meter, unit) pair gives."""

    meter_of: Callable[[str], MeterLike | None]
    window_of: Callable[[str], ReadingWindow]
    now: datetime
    unknown: str = "unknown meter {meter_id!r}: register it first"
    _meters: dict[str, MeterLike | None] = field(default_factory=dict)
    _factors: dict[tuple[str, str], tuple[float | None, str | None]] = field(default_factory=dict)

    def check(self, meter_id: str, ts: datetime, value: object, unit: str) -> Reading | str:
        """The reading in its meter's unit, or the reason the row is refused."""
        if meter_id not in self._meters:
            self._meters[meter_id] = self.meter_of(meter_id)
        meter = self._meters[meter_id]
        if meter is None:
            return self.unknown.format(meter_id=meter_id)
        problem = value_problem(value)
        if problem is not None:
            return problem
        problem = self.window_of(meter_id).problem(ts, self.now)
        if problem is not None:
            return problem
        key = (meter_id, unit)
        if key not in self._factors:
            self._factors[key] = unit_problem(unit, meter)
        factor, problem = self._factors[key]
        if factor is None:
            return problem or "unusable unit"
        scaled = float(value) * factor  # type: ignore[arg-type]
        problem = range_problem(scaled, meter)
        if problem is not None:
            return problem
        quality = SUSPECT if suspect_reason(scaled, meter) else "good"
        return Reading(meter.id, ts.astimezone(UTC), scaled, meter.unit, quality)


def _window_lookup(
    windows: Mapping[str, ReadingWindow] | Callable[[str], ReadingWindow] | None,
) -> Callable[[str], ReadingWindow]:
    if windows is None:
        return lambda _meter: DEFAULT_WINDOW
    if callable(windows):
        return windows
    return lambda meter: windows.get(meter, DEFAULT_WINDOW)


def stored_windows(store: Store) -> Callable[[str], ReadingWindow]:
    """Each meter's plausible window as the store holds it (the default where it holds none)."""
    windows = {
        meter_id: ReadingWindow(
            DEFAULT_VALID_FROM if valid_from is None else valid_from,
            DEFAULT_FUTURE_SKEW if skew is None else skew,
        )
        for meter_id, (valid_from, skew) in store.reading_windows().items()
    }
    return lambda meter_id: windows.get(meter_id, DEFAULT_WINDOW)


def store_behind(sink: object) -> Store | None:
    """The store a sink writes to (the sink itself, or the store a wrapping sink holds)."""
    if isinstance(sink, Store):
        return sink
    inner = getattr(sink, "store", None)
    return inner if isinstance(inner, Store) else None


class StoredWindows:
    """Each meter's plausible window as a store holds it, re-read at most every ``refresh``
    seconds so a window saved while a collector runs applies soon; the default window for
    every meter when there is no store."""

    def __init__(self, store: Store | None, *, refresh: float = 5.0) -> None:
        self._store = store
        self._refresh = refresh
        self._loaded = -math.inf
        self._windows: Callable[[str], ReadingWindow] = lambda _meter: DEFAULT_WINDOW

    def __call__(self) -> Callable[[str], ReadingWindow]:
        """The current lookup, meter id → window."""
        if self._store is not None and time.monotonic() - self._loaded >= self._refresh:
            self._windows = stored_windows(self._store)
            self._loaded = time.monotonic()
        return self._windows


def validate_readings(
    readings: Sequence[Reading],
    meters: Mapping[str, Meter] | None,
    *,
    windows: Mapping[str, ReadingWindow] | Callable[[str], ReadingWindow] | None = None,
    now: datetime | None = None,
    factors: dict[tuple[str, str], tuple[float | None, str | None]] | None = None,
) -> Validated:
    """Check canonical readings (e.g. a stream collector's) against the meter registry.

    Accepted readings come back converted to their meter's unit, with their quality, batch
    and source reference kept; each refused one is named by its position in ``readings``.
    With ``meters`` None (a collector given no registry) only the value and the meter's
    plausible window are checked, and accepted readings come back as they were. ``factors``
    keeps what each (meter, unit) pair gave across calls (a collector checking message by
    message); the caller empties it when the registry changes.
    """
    checker = _Checker(
        (lambda _meter: None) if meters is None else meters.get,
        _window_lookup(windows),
        now or datetime.now(UTC),
    )
    if factors is not None:
        checker._factors = factors
    out = Validated()
    for index, reading in enumerate(readings):
        if meters is None:
            problem = value_problem(reading.value) or checker.window_of(reading.meter_id).problem(
                reading.ts, checker.now
            )
            if problem is None:
                out.readings.append(reading)
            else:
                out.refused.append(RowRefusal(index, reading.meter_id, problem))
            continue
        result = checker.check(reading.meter_id, reading.ts, reading.value, reading.unit)
        if isinstance(result, str):
            out.refused.append(RowRefusal(index, reading.meter_id, result))
        else:
            out.readings.append(
                replace(
                    result,
                    quality=_quality(result, reading.quality),
                    batch_id=reading.batch_id,
                    source_ref=reading.source_ref,
                )
            )
    return out


class PostedRow(Protocol):
    """A reading as a client posts it (`carbonlink.api` ``ReadingIn``)."""

    @property
    def meter_id(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def value(self) -> float: ...
    @property
    def unit(self) -> str: ...
    @property
    def quality(self) -> str: ...
    def model_dump_json(self) -> str: ...


class MeterLike(Protocol):
    """What the checks need of a meter: its id and unit (limits when it has them)."""

    @property
    def id(self) -> str: ...
    @property
    def unit(self) -> str: ...


@dataclass(slots=True)
class PostedBatch:
    """A posted batch after the checks: readings to store, refusals and their records."""

    readings: list[Reading]
    refused: list[RowRefusal]
    rejected: list[Rejected]


def check_posted_rows(
    rows: Sequence[PostedRow],
    meter_of: Callable[[str], MeterLike | None],
    *,
    received_via: str,
    label: str | None,
    unknown_meter: str = "meter {meter_id!r} not found in your organization",
    windows: Mapping[str, ReadingWindow] | Callable[[str], ReadingWindow] | None = None,
    now: datetime | None = None,
) -> PostedBatch:
    """Check the rows of a posted batch; a bad row is refused alone, the rest accepted.

    ``meter_of`` finds a meter the caller may write to (None otherwise). Refused rows become
    quarantine records keyed ``{received_via}:{label}:{index}`` holding the row as received.
    """
    checker = _Checker(meter_of, _window_lookup(windows), now or datetime.now(UTC), unknown_meter)
    out = PostedBatch([], [], [])
    for index, row in enumerate(rows):
        result = checker.check(row.meter_id, row.ts, row.value, row.unit)
        if isinstance(result, Reading):
            out.readings.append(
                replace(
                    result,
                    quality=_quality(result, row.quality),
                    batch_id=label,
                    source_ref=received_via,
                )
            )
            continue
        known = checker._meters.get(row.meter_id) is not None
        out.refused.append(RowRefusal(index, row.meter_id, result))
        out.rejected.append(
            Rejected(
                row.model_dump_json().encode(),
                result,
                f"{received_via}:{label or '-'}:{index}",
                row.meter_id if known else None,
            )
        )
    return out
