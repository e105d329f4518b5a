"""The tenant data the service reads and writes, behind one organization-scoped interface.

`TenantData` is what routes and pages use: every method takes the caller's organization id
first and returns nothing of another organization. `MemoryTenantData` keeps everything in
memory; it backs the tests and the demo until the store's repositories are wired in, and it is
the in-memory fake of the interface afterwards.
"""

from __future__ import annotations

import calendar
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, UTC, datetime
from typing import TYPE_CHECKING, Protocol

from carbonlink.domain.zones import zone_or_utc
from carbonlink.ingest.base import Reading, Rejected

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True, slots=True)
class Organization:
    """A tenant."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Facility:
    """A site of an organization."""

    id: str
    organization_id: str
    name: str
    timezone: str = "Asia/Shanghai"
    grid_region: str | None = None
    address: str | None = None


@dataclass(frozen=True, slots=True)
class EmissionFactorRef:
    """The factor a source is accounted with: t CO2e per unit of activity, and its citation."""

    co2e_t_per_unit: float
    activity_unit: str
    source: str
    name: str


@dataclass(frozen=True, slots=True)
class Source:
    """An emission source of a facility with its scope and factor."""

    id: str
    organization_id: str
    facility_id: str
    name: str
    scope: int
    factor: EmissionFactorRef | None = None
    method: str | None = None
    """Calculation method (one of `carbonlink.domain.methods.method_registry`), when stated."""


@dataclass(frozen=True, slots=True)
class Meter:
    """A measuring point: feeds a source (activity) or counts a facility's production."""

    id: str
    organization_id: str
    facility_id: str
    name: str
    unit: str
    source_id: str | None = None
    purpose: str = "activity"
    interval_s: int = 3600


@dataclass(frozen=True, slots=True)
class SourceMonth:
    """Activity and emissions of one source in one calendar month of the facility's time zone."""

    facility_id: str
    source_id: str
    scope: int
    month: str
    activity: float
    co2e_t: float


@dataclass(frozen=True, slots=True)
class MeterMonth:
    """Readings received against readings expected for one meter in one month."""

    meter_id: str
    month: str
    received: int
    expected: int
    estimated: int = 0


class TenantData(Protocol):
    """Organization-scoped access to the catalogue (facilities, sources, meters) and readings."""

    def organization(self, organization_id: str) -> Organization | None: ...
    def facilities(self, organization_id: str) -> list[Facility]: ...
    def facility(self, organization_id: str, facility_id: str) -> Facility | None: ...
    def add_facility(self, facility: Facility) -> Facility: ...
    def delete_facility(self, organization_id: str, facility_id: str) -> bool: ...
    def sources(self, organization_id: str, facility_id: str | None = None) -> list[Source]: ...
    def source(self, organization_id: str, source_id: str) -> Source | None: ...
    def add_source(self, source: Source) -> Source: ...
    def meters(self, organization_id: str, facility_id: str | None = None) -> list[Meter]: ...
    def meter(self, organization_id: str, meter_id: str) -> Meter | None: ...
    def add_meter(self, meter: Meter) -> Meter: ...
    def add_readings(self, readings: Iterable[Reading]) -> int: ...
    def quarantine(self, rejected: Iterable[Rejected]) -> int: ...
    def quarantine_for(self, organization_id: str, rejected: Iterable[Rejected]) -> int: ...
    def quarantined(self, organization_id: str, limit: int = 200) -> list[Rejected]: ...
    def readings(
        self,
        organization_id: str,
        meter_id: str,
        since: datetime | None = None,
        limit: int = 500,
        before: datetime | None = None,
    ) -> list[Reading]: ...
    def reading_at(self, organization_id: str, meter_id: str, ts: datetime) -> Reading | None: ...
    def series(
        self,
        organization_id: str,
        meter_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> tuple[np.ndarray, np.ndarray]: ...
    def reading_extent(
        self, organization_id: str, meter_id: str
    ) -> tuple[datetime | None, datetime | None]: ...
    def source_months(self, organization_id: str) -> list[SourceMonth]: ...
    def production_months(self, organization_id: str) -> dict[tuple[str, str], float]: ...
    def meter_months(self, organization_id: str) -> list[MeterMonth]: ...
    def version(self, organization_id: str) -> int: ...


def new_id(prefix: str) -> str:
    """A short random identifier with a readable prefix (``fac-…``, ``src-…``)."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def _month(ts: datetime, zone: str = "UTC") -> str:
    try:
        return ts.astimezone(zone_or_utc(zone)).strftime("%Y-%m")
    except OverflowError:  # year 1 or 9999 shifted past the calendar's edge: its UTC month
        return ts.astimezone(UTC).strftime("%Y-%m")


def _month_seconds(month: str, now: datetime, zone: str = "UTC") -> int:
    """Seconds of the local calendar month that have passed by ``now`` (all, for a past month).

    A month at the edge of the calendar (year 1, or past year 9999 once shifted into the local
    zone) has no instant that Python can shift between zones: it counts its days in full when it
    lies in the past and nothing when it lies ahead, whatever a stored reading's date.
    """
    year_text, month_text = month.rsplit("-", 1)
    year, mon = int(year_text), int(month_text)
    tz = zone_or_utc(zone)
    try:
        # Aware datetimes of one tzinfo subtract as wall clock; in UTC the DST hour counts.
        start = datetime(year, mon, 1, tzinfo=tz).astimezone(UTC)
        end = datetime(year + mon // 12, mon % 12 + 1, 1, tzinfo=tz).astimezone(UTC)
    except (OverflowError, ValueError):
        if not MINYEAR <= year <= MAXYEAR or (year, mon) >= (now.year, now.month):
            return 0
        return calendar.monthrange(year, mon)[1] * 86_400
    return max(int((min(end, now) - start).total_seconds()), 0)


@dataclass
class MemoryTenantData:
    """All tenant data in memory; readings idempotent on (meter, timestamp), first write wins."""

    organizations: dict[str, Organization] = field(default_factory=dict)
    _facilities: dict[str, Facility] = field(default_factory=dict)
    _sources: dict[str, Source] = field(default_factory=dict)
    _meters: dict[str, Meter] = field(default_factory=dict)
    _readings: dict[str, dict[datetime, Reading]] = field(default_factory=lambda: defaultdict(dict))
    rejected: list[Rejected] = field(default_factory=list)
    _rejected_by_org: dict[str, list[Rejected]] = field(default_factory=lambda: defaultdict(list))
    _versions: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_organization(self, name: str, organization_id: str | None = None) -> Organization:
        """Create a tenant."""
        org = Organization(organization_id or new_id("org"), name)
        self.organizations[org.id] = org
        return org

    def organization(self, organization_id: str) -> Organization | None:
        return self.organizations.get(organization_id)

    def _bump(self, organization_id: str) -> None:
        self._versions[organization_id] += 1

    def version(self, organization_id: str) -> int:
        """Changes whenever the organization's data changes (for caching summaries)."""
        return self._versions[organization_id]

    # facilities ------------------------------------------------------------------------------
    def facilities(self, organization_id: str) -> list[Facility]:
        return sorted(
            (f for f in self._facilities.values() if f.organization_id == organization_id),
            key=lambda f: f.name,
        )

    def facility(self, organization_id: str, facility_id: str) -> Facility | None:
        found = self._facilities.get(facility_id)
        return found if found and found.organization_id == organization_id else None

    def add_facility(self, facility: Facility) -> Facility:
        self._facilities[facility.id] = facility
        self._bump(facility.organization_id)
        return facility

    def delete_facility(self, organization_id: str, facility_id: str) -> bool:
        if self.facility(organization_id, facility_id) is None:
            return False
        if any(s.facility_id == facility_id for s in self._sources.values()) or any(
            m.facility_id == facility_id for m in self._meters.values()
        ):
            from carbonlink.errors import InputError

            raise InputError(
                "facility still has sources or meters",
                record=facility_id,
                hint="delete its meters and sources first",
            )
        del self._facilities[facility_id]
        self._bump(organization_id)
        return True

    # sources ---------------------------------------------------------------------------------
    def sources(self, organization_id: str, facility_id: str | None = None) -> list[Source]:
        return sorted(
            (
                s
                for s in self._sources.values()
                if s.organization_id == organization_id
                and (facility_id is None or s.facility_id == facility_id)
            ),
            key=lambda s: (s.scope, s.name),
        )

    def source(self, organization_id: str, source_id: str) -> Source | None:
        found = self._sources.get(source_id)
        return found if found and found.organization_id == organization_id else None

    def add_source(self, source: Source) -> Source:
        self._sources[source.id] = source
        self._bump(source.organization_id)
        return source

    # meters ----------------------------------------------------------------------------------
    def meters(self, organization_id: str, facility_id: str | None = None) -> list[Meter]:
        return sorted(
            (
                m
                for m in self._meters.values()
                if m.organization_id == organization_id
                and (facility_id is None or m.facility_id == facility_id)
            ),
            key=lambda m: m.name,
        )

    def meter(self, organization_id: str, meter_id: str) -> Meter | None:
        found = self._meters.get(meter_id)
        return found if found and found.organization_id == organization_id else None

    def add_meter(self, meter: Meter) -> Meter:
        self._meters[meter.id] = meter
        self._bump(meter.organization_id)
        return meter

    # readings (the ReadingSink interface) ----------------------------------------------------
    def add_readings(self, readings: Iterable[Reading]) -> int:
        new = 0
        touched: set[str] = set()
        with self._lock:
            for reading in readings:
                series = self._readings[reading.meter_id]
                if reading.ts not in series:
                    series[reading.ts] = reading
                    new += 1
                    meter = self._meters.get(reading.meter_id)
                    if meter:
                        touched.add(meter.organization_id)
            for org in touched:
                self._bump(org)
        return new

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        before = len(self.rejected)
        self.rejected.extend(rejected)
        return len(self.rejected) - before

    def quarantine_for(self, organization_id: str, rejected: Iterable[Rejected]) -> int:
        """Quarantine records received from a caller of ``organization_id``."""
        records = list(rejected)
        self._rejected_by_org[organization_id].extend(records)
        self._bump(organization_id)
        return self.quarantine(records)

    def quarantined(self, organization_id: str, limit: int = 200) -> list[Rejected]:
        """The latest quarantined records of an organization, newest first."""
        return self._rejected_by_org.get(organization_id, [])[-limit:][::-1]

    def readings(
        self,
        organization_id: str,
        meter_id: str,
        since: datetime | None = None,
        limit: int = 500,
        before: datetime | None = None,
    ) -> list[Reading]:
        if self.meter(organization_id, meter_id) is None:
            return []
        with self._lock:
            series = list(self._readings.get(meter_id, {}).values())
        if since is not None:
            series = [r for r in series if r.ts > since]
        if before is not None:
            series = [r for r in series if r.ts < before]
        series.sort(key=lambda r: r.ts)
        return series[-limit:]

    def reading_at(self, organization_id: str, meter_id: str, ts: datetime) -> Reading | None:
        """The stored reading of a meter at an instant, or None."""
        if self.meter(organization_id, meter_id) is None:
            return None
        return self._readings.get(meter_id, {}).get(ts)

    def series(
        self,
        organization_id: str,
        meter_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A meter's readings in ``[start, end)``: UTC microseconds and values, in time order."""
        import numpy as np

        if self.meter(organization_id, meter_id) is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        with self._lock:
            stored = sorted(self._readings.get(meter_id, {}).values(), key=lambda r: r.ts)
        chosen = [
            r for r in stored if (start is None or r.ts >= start) and (end is None or r.ts < end)
        ]
        ts = np.array([round(r.ts.timestamp() * 1_000_000) for r in chosen], dtype=np.int64)
        return ts, np.array([r.value for r in chosen], dtype=np.float64)

    def reading_extent(
        self, organization_id: str, meter_id: str
    ) -> tuple[datetime | None, datetime | None]:
        """The instants of a meter's first and last readings (None, None when it has none)."""
        if self.meter(organization_id, meter_id) is None:
            return None, None
        with self._lock:
            stamps = list(self._readings.get(meter_id, {}))
        return (min(stamps), max(stamps)) if stamps else (None, None)

    # monthly summaries -----------------------------------------------------------------------
    def _zone(self, meter: Meter) -> str:
        facility = self._facilities.get(meter.facility_id)
        return facility.timezone if facility else "UTC"

    def _meter_month_totals(self, meter: Meter) -> dict[str, tuple[float, int, int]]:
        """(sum of values, readings, estimated readings) per local month of the facility."""
        totals: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
        with self._lock:
            series = list(self._readings.get(meter.id, {}).values())
        zone = self._zone(meter)
        for reading in series:
            slot = totals[_month(reading.ts, zone)]
            slot[0] += reading.value
            slot[1] += 1
            slot[2] += reading.quality == "estimated"
        return {month: (v[0], int(v[1]), int(v[2])) for month, v in totals.items()}

    def source_months(self, organization_id: str) -> list[SourceMonth]:
        """Activity per source and month (sum of interval readings) times the source's factor.

        Interval meters report the quantity of each interval in the factor's activity unit;
        emissions = activity × factor (t CO2e per unit). The accounting engine's inventory
        replaces this once it is wired in.
        """
        rows: dict[tuple[str, str], float] = defaultdict(float)
        for meter in self.meters(organization_id):
            if meter.purpose != "activity" or meter.source_id is None:
                continue
            for month, (total, _count, _est) in self._meter_month_totals(meter).items():
                rows[(meter.source_id, month)] += total
        out = []
        for (source_id, month), activity in sorted(rows.items()):
            source = self._sources[source_id]
            factor = source.factor.co2e_t_per_unit if source.factor else 0.0
            out.append(
                SourceMonth(
                    source.facility_id, source_id, source.scope, month, activity, activity * factor
                )
            )
        return out

    def production_months(self, organization_id: str) -> dict[tuple[str, str], float]:
        """Tonnes of product per (facility, month) from production meters."""
        out: dict[tuple[str, str], float] = defaultdict(float)
        for meter in self.meters(organization_id):
            if meter.purpose == "production":
                for month, (total, _count, _est) in self._meter_month_totals(meter).items():
                    out[(meter.facility_id, month)] += total
        return dict(out)

    def meter_months(self, organization_id: str) -> list[MeterMonth]:
        """Completeness per meter and month: readings received against intervals in the month."""
        out = []
        now = datetime.now(UTC)
        for meter in self.meters(organization_id):
            for month, (_total, count, estimated) in sorted(
                self._meter_month_totals(meter).items()
            ):
                seconds = _month_seconds(month, now, self._zone(meter))
                expected = max(seconds // meter.interval_s, count)
                out.append(MeterMonth(meter.id, month, count, expected, estimated))
        return out
