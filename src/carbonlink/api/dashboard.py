"""What the dashboard shows of a saved inventory run: totals, facilities, sources, months.

Every figure is a sum of the accounting engine's lines of one run (`carbonlink.store.results`).
Months exist only for metered sources: the line's t CO2e is split over the months in
proportion to the meter's readings summed in the facility's local calendar, so the months add
up to the engine's figure exactly.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, localcontext
from typing import Any, TypeVar

import numpy as np
import pandas as pd
import sqlalchemy as sa

from carbonlink.domain.exact import decimal_sum
from carbonlink.domain.zones import zone_or_utc
from carbonlink.store.results import InventoryRun, source_key
from carbonlink.store.schema import to_epoch_us
from carbonlink.store.tenant_data import facility_places, meter_readings_between

SCOPE_KEYS = ("1", "2_location", "2_market", "3")
ANALYSED_FROM_US = to_epoch_us(datetime(1900, 1, 1, tzinfo=UTC))
ANALYSED_UNTIL_US = to_epoch_us(datetime(2200, 1, 1, tzinfo=UTC))
T = TypeVar("T")


def line_meter(line: dict[str, Any]) -> str | None:
    """The meter an accounted line's activity was summed from (``meter:<id>@period``), or None."""
    activity_id = str((line.get("activity") or {}).get("id") or "")
    if not activity_id.startswith("meter:"):
        return None
    return activity_id[len("meter:") :].split("@", 1)[0]


@dataclass
class SourceRow:
    """One source of a run: its t CO2e per scope key and the lines behind them."""

    key: str
    facility: str
    source: str
    method: str
    by_scope: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def meter(self) -> str | None:
        found = [m for m in (line_meter(ln) for ln in self.lines) if m]
        return found[0] if found else None


@dataclass
class FacilityRow:
    """One facility of a run: t CO2e per scope key, output and intensity."""

    id: str
    name: str
    timezone: str
    by_scope: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    output_t: float | None = None

    @property
    def location_total(self) -> float:
        """Scope 1 + scope 2 (location-based) + scope 3."""
        return self.by_scope["1"] + self.by_scope["2_location"] + self.by_scope["3"]

    @property
    def intensity(self) -> float | None:
        """t CO2e (scope 1 + 2 location-based) per tonne of crude steel, where output is known."""
        if not self.output_t:
            return None
        return (self.by_scope["1"] + self.by_scope["2_location"]) / self.output_t


@dataclass
class RunView:
    """A run laid out for the pages."""

    run: InventoryRun
    facilities: list[FacilityRow]
    sources: list[SourceRow]
    months: list[dict[str, Any]]
    runs: list[InventoryRun] = field(default_factory=list)

    @property
    def total(self) -> float:
        """Scope 1 + scope 2 (location-based) + scope 3, as the engine's totals give them."""
        return sum(self.run.totals.get(k, 0.0) for k in ("scope1", "scope2_location", "scope3"))

    @property
    def output_t(self) -> float | None:
        known = [f.output_t for f in self.facilities if f.output_t]
        return sum(known) if known else None

    @property
    def intensity(self) -> float | None:
        if not self.output_t:
            return None
        covered = [f for f in self.facilities if f.output_t]
        return sum(f.by_scope["1"] + f.by_scope["2_location"] for f in covered) / self.output_t

    def facility(self, facility_id: str) -> FacilityRow | None:
        return next((f for f in self.facilities if f.id == facility_id), None)

    def source(self, key: str) -> SourceRow | None:
        return next((s for s in self.sources if s.key == key), None)


class RunViewCache:
    """Run views keyed by organization and run, rebuilt when the tenant data's version moves.

    Building a view reads the run's lines and, for metered sources, a year of readings; the
    overview is the most visited page, so it is built once per data version.
    """

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], tuple[int, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], version: int, build: Callable[[], T]) -> T:
        with self._lock:
            hit = self._entries.get(key)
        if hit is not None and hit[0] == version:
            return hit[1]
        value = build()
        with self._lock:
            self._entries[key] = (version, value)
        return value


def build_run_view(engine: sa.Engine, run: InventoryRun, lines: list[dict[str, Any]]) -> RunView:
    """Facilities, sources and (for metered sources) months of one run."""
    ids = {line["facility"] for line in lines}
    stored = facility_places(engine, run.organization_id, ids)
    facilities: dict[str, FacilityRow] = {}
    sources: dict[str, SourceRow] = {}
    outputs: dict[str, dict[str, float]] = defaultdict(dict)
    for line in lines:
        fid = line["facility"]
        row = stored.get(fid)
        facility = facilities.setdefault(
            fid, FacilityRow(fid, row[0] if row else fid, row[1] if row else "UTC")
        )
        scope = str(line["scope"])
        key = source_key(fid, line["source"])
        src = sources.setdefault(key, SourceRow(key, fid, line["source"], line.get("method") or ""))
        src.lines.append(line)
        src.by_scope[scope] += line["tco2e"]
        facility.by_scope[scope] += line["tco2e"]
        activity = line.get("activity") or {}
        if line.get("method") == "carbon_fixed" and activity.get("unit") == "t":
            outputs[fid][str(activity.get("id"))] = float(activity.get("quantity") or 0.0)
    for fid, found in outputs.items():
        facilities[fid].output_t = sum(found.values()) or None
    months = _metered_months(engine, run, facilities, list(sources.values()))
    ordered = sorted(facilities.values(), key=lambda f: -f.location_total)
    return RunView(run, ordered, list(sources.values()), months)


def _metered_months(
    engine: sa.Engine,
    run: InventoryRun,
    facilities: dict[str, FacilityRow],
    sources: list[SourceRow],
) -> list[dict[str, Any]]:
    """t CO2e per local month and scope key of the run's metered lines."""
    by_month: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for src in sources:
        meter_id = src.meter
        if meter_id is None:
            continue
        zone = facilities[src.facility].timezone
        shares = meter_month_shares(engine, meter_id, zone, run.period_start, run.period_end)
        for line in src.lines:
            for month, share in shares.items():
                by_month[month][str(line["scope"])] += line["tco2e"] * share
    return [
        {"month": month, **{k: scopes.get(k, 0.0) for k in SCOPE_KEYS}}
        for month, scopes in sorted(by_month.items())
    ]


def meter_month_shares(
    engine: sa.Engine, meter_id: str, zone: str, start: str, end: str
) -> dict[str, float]:
    """Share of each local calendar month in a meter's readings over [start, end] (local days)."""
    from carbonlink.domain.exact import EXACT, exact_sums
    from carbonlink.store import rollups

    tz = zone_or_utc(zone)
    exact = rollups.end_stamped_months(
        engine, meter_id, tz.key, date.fromisoformat(start), date.fromisoformat(end)
    )
    if exact is not None:
        with localcontext(EXACT):
            total = float(sum(exact.values(), Decimal(0)))
        if total == 0.0:
            return {}
        return {month: float(v) / total for month, v in exact.items()}
    first = datetime.combine(date.fromisoformat(start), datetime.min.time(), tz)
    last = datetime.combine(date.fromisoformat(end), datetime.min.time(), tz)
    after = to_epoch_us(last) + 86_400_000_000
    ts, value, labelling = meter_readings_between(engine, meter_id, to_epoch_us(first), after)
    if not len(ts):
        return {}
    if labelling == "end":
        # A reading stamped at an interval's end measured the time before it: the quarter
        # hour ending at local midnight belongs to the day (and month) that ends there.
        ts = ts - 1
    local = pd.DatetimeIndex(ts.astype("datetime64[us]")).tz_localize("UTC").tz_convert(zone)
    months = np.asarray(local.strftime("%Y-%m"))
    unique, inverse = np.unique(months, return_inverse=True)
    # exact sums, as the month rollups keep them: the same shares from either
    sums = exact_sums(value, inverse, len(unique))
    total = float(decimal_sum(value))
    if total == 0.0:
        return {}
    return {str(month): float(sums[i]) / total for i, month in enumerate(unique)}


@dataclass(frozen=True)
class MeterAnomalies:
    """Episodes of a meter's readings outside its seasonal band, and one window to draw."""

    readings: int
    flagged: int
    episodes: list[dict[str, Any]]
    window: dict[str, Any] | None


def meter_anomalies(
    ts_us: np.ndarray, values: np.ndarray, zone: str, *, pick: int = 0, min_readings: int = 8
) -> MeterAnomalies:
    """Flag readings against a trailing hour-of-week baseline; group them into episodes.

    The detector of `carbonlink.monitor.anomaly` (k = 6 robust sigmas, 8-week trailing window)
    run on the stored series; episodes shorter than ``min_readings`` are left out. ``window``
    holds the readings and band from a day before to a day after episode ``pick``.
    """
    from carbonlink.monitor.anomaly import SeasonalBaseline, episodes, trailing_flags

    # Instants the detector's nanosecond clock can hold and finite values only: a reading
    # stored at year 1 or as 1e308 stays listed on the page, it is not judged here.
    usable = (ts_us >= ANALYSED_FROM_US) & (ts_us < ANALYSED_UNTIL_US) & np.isfinite(values)
    ts_us, values = ts_us[usable], values[usable]
    if len(values) < 7 * 24 * 5:
        return MeterAnomalies(len(values), 0, [], None)
    ts = ts_us.astype("datetime64[us]").astype("datetime64[ns]")
    flags, low, high = trailing_flags(ts, values, zone, k=6.0)
    baseline = SeasonalBaseline.fit(ts, values, zone)
    found = sorted(
        (e for e in episodes(ts, values, flags, baseline) if e.readings >= min_readings),
        key=lambda e: -e.readings,
    )[:20]

    def local(instant: np.datetime64) -> pd.Timestamp:
        return pd.Timestamp(instant).tz_localize("UTC").tz_convert(zone)

    rows = [
        {
            "start": local(e.start),
            "end": local(e.end),
            "readings": e.readings,
            "peak": e.peak_value,
            "usual": e.expected,
        }
        for e in found
    ]
    window = None
    if found:
        chosen = found[min(max(pick, 0), len(found) - 1)]
        day = np.timedelta64(1, "D")
        inside = (ts >= chosen.start - day) & (ts <= chosen.end + day)
        stamps = pd.DatetimeIndex(ts[inside]).tz_localize("UTC").tz_convert(zone)
        window = {
            "ts": [s.strftime("%Y-%m-%d %H:%M") for s in stamps],
            "value": [round(float(v), 3) for v in values[inside]],
            "low": [None if np.isnan(v) else round(float(max(v, 0.0)), 3) for v in low[inside]],
            "high": [None if np.isnan(v) else round(float(v), 3) for v in high[inside]],
            "flag": [bool(f) for f in flags[inside]],
        }
    return MeterAnomalies(len(values), int(flags.sum()), rows, window)
