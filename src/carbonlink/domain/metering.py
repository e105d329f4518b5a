"""Meters, as plain data: what a measuring point is and how its readings are to be read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

MeterKind = Literal["register", "interval"]
"""``register``: a cumulative counter (consumption is the difference of two reads);
``interval``: each reading is the consumption of the interval it labels."""

Labelling = Literal["start", "end"]
"""Whether an interval reading is stamped with the start or the end of its interval."""


@dataclass(frozen=True, slots=True)
class Meter:
    """A measuring point feeding a source, with the facts needed to turn readings into activity."""

    id: str
    kind: MeterKind
    unit: str
    multiplier: float = 1.0
    rollover_max: float | None = None
    time_zone: str = "UTC"
    labelling: Labelling = "end"
    interval_s: int | None = None
    min_value: float | None = None
    max_value: float | None = None
    max_interval_quantity: float | None = None
    facility_id: str | None = None
    source_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Organization:
    """A tenant: an enterprise and everything it owns in carbonlink."""

    id: str
    name: str
    country: str | None = None


@dataclass(frozen=True, slots=True)
class Facility:
    """A site with a time zone (IANA) and the electricity grid it draws from."""

    id: str
    organization_id: str
    name: str
    time_zone: str
    grid_region: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """An emission source or source stream inside a facility."""

    id: str
    facility_id: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class MeteredActivity:
    """A quantity a meter attributes to an accounting period, with how much of it was estimated.

    Periods are half-open ``[start, end)`` in UTC; ``label`` names the period in the facility's
    local calendar (``2018``, ``2018-03``, ``2018-03-25``). ``rules`` lists the estimation rules
    that produced ``estimated_quantity`` (empty when every interval was measured).
    """

    meter_id: str
    period_start_us: int
    period_end_us: int
    label: str
    quantity: float
    unit: str
    intervals: int
    estimated_quantity: float = 0.0
    intervals_estimated: int = 0
    rules: tuple[str, ...] = ()
    source_id: str | None = None
