"""`TenantData` over the store's tables: the catalogue, readings and quarantine persist.

Every query joins up to ``facilities.organization_id``, so a caller only ever reaches its own
organization's rows. The store knows sources by kind, not by scope and factor: the scope and
factor a source is given through the service are kept in ``source_accounting`` (revision
``0011_source_accounting``), so they outlive a restart. A source registered without one (by the
demo's inventory documents, say) takes them from the `SourceAccounting` handed in; without that,
activity is summed and shown but emissions stay at zero and the pages say that no factor is set.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal, localcontext
from typing import Any, Protocol

import numpy as np
import pandas as pd
import sqlalchemy as sa

from carbonlink.domain import metering
from carbonlink.domain.exact import exact_sums
from carbonlink.domain.zones import usable_zone
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.store import Store
from carbonlink.store import schema as t
from carbonlink.store.accounts_schema import users
from carbonlink.store.repository import CONFLICT, QuarantinedRecord, quarantine_fingerprint
from carbonlink.store.results_schema import quarantine_owners, source_accounting
from carbonlink.store.schema import from_epoch_us, to_epoch_us
from carbonlink.store.tenants import (
    EmissionFactorRef,
    Facility,
    Meter,
    MeterMonth,
    Organization,
    Source,
    SourceMonth,
    _month_seconds,
)


class SourceAccounting(Protocol):
    """Scope and emission factor of a stored source."""

    def scope(self, source: metering.Source) -> int: ...
    def factor(self, source: metering.Source) -> EmissionFactorRef | None: ...


class NoAccounting:
    """No factors assigned yet: every source in scope 1, without a factor."""

    def scope(self, source: metering.Source) -> int:
        return 1

    def factor(self, source: metering.Source) -> EmissionFactorRef | None:
        return None


class AssignedAccounting:
    """Scopes and factors assigned per source id, in memory (the demo's and the tests').

    Stands in for the accounting engine's factor assignment until that is wired in.
    """

    def __init__(self) -> None:
        self._assigned: dict[str, tuple[int, EmissionFactorRef | None]] = {}

    def assign(self, source_id: str, scope: int, factor: EmissionFactorRef | None) -> None:
        self._assigned[source_id] = (scope, factor)

    def scope(self, source: metering.Source) -> int:
        return self._assigned.get(source.id, (1, None))[0]

    def factor(self, source: metering.Source) -> EmissionFactorRef | None:
        return self._assigned.get(source.id, (1, None))[1]


def _months_us(ts_us: np.ndarray, zone: str = "UTC") -> np.ndarray:
    """Calendar month of each instant in the time zone ``zone``, as 'YYYY-MM' strings."""
    if zone == "UTC":
        return np.datetime_as_string(ts_us.astype("datetime64[us]"), unit="M")
    local = pd.DatetimeIndex(ts_us.astype("datetime64[us]")).tz_localize("UTC").tz_convert(zone)
    return np.asarray(local.strftime("%Y-%m"), dtype=str)


class StoreTenantData:
    """Organization-scoped catalogue, readings and quarantine in the store's database."""

    def __init__(self, store: Store, accounting: SourceAccounting | None = None) -> None:
        self.store = store
        self.engine = store.engine
        self.accounting = accounting or NoAccounting()
        self._version = 0
        self._lock = threading.Lock()
        self._monthly_memo: (
            tuple[Any, float, dict[str, dict[str, tuple[float, int, int]]]] | None
        ) = None

    def _bump(self) -> None:
        with self._lock:
            self._version += 1

    def version(self, organization_id: str) -> int:
        return self._version

    # catalogue -------------------------------------------------------------------------------
    def add_organization(self, name: str, organization_id: str) -> Organization:
        self.store.save_organization(metering.Organization(organization_id, name))
        self._bump()
        return Organization(organization_id, name)

    def organization(self, organization_id: str) -> Organization | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(t.organizations).where(t.organizations.c.id == organization_id)
            ).first()
        return Organization(row.id, row.name) if row else None

    def _facility(self, row: sa.Row) -> Facility:
        return Facility(
            row.id,
            row.organization_id,
            row.name,
            usable_zone(row.time_zone),
            row.grid_region,
            row.address,
        )

    def facilities(self, organization_id: str) -> list[Facility]:
        query = (
            sa.select(t.facilities)
            .where(t.facilities.c.organization_id == organization_id)
            .order_by(t.facilities.c.name)
        )
        with self.engine.connect() as conn:
            return [self._facility(row) for row in conn.execute(query)]

    def facility(self, organization_id: str, facility_id: str) -> Facility | None:
        query = sa.select(t.facilities).where(
            t.facilities.c.id == facility_id, t.facilities.c.organization_id == organization_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return self._facility(row) if row else None

    def add_facility(self, facility: Facility) -> Facility:
        self.store.save_facility(
            metering.Facility(
                facility.id,
                facility.organization_id,
                facility.name,
                facility.timezone,
                facility.grid_region,
                facility.address,
            )
        )
        self._bump()
        return facility

    def delete_facility(self, organization_id: str, facility_id: str) -> bool:
        if self.facility(organization_id, facility_id) is None:
            return False
        if self.sources(organization_id, facility_id) or self.meters(organization_id, facility_id):
            from carbonlink.errors import InputError

            raise InputError(
                "facility still has sources or meters",
                record=facility_id,
                hint="delete its meters and sources first",
            )
        with self.engine.begin() as conn:
            conn.execute(t.facilities.delete().where(t.facilities.c.id == facility_id))
        self._bump()
        return True

    def _source(self, row: sa.Row, organization_id: str) -> Source:
        if row.scope is not None:
            factor = None
            if row.factor_co2e_t_per_unit is not None:
                factor = EmissionFactorRef(
                    row.factor_co2e_t_per_unit,
                    row.factor_activity_unit,
                    row.factor_source,
                    row.factor_name,
                )
            return Source(
                row.id, organization_id, row.facility_id, row.name, row.scope, factor, row.kind
            )
        stored = metering.Source(row.id, row.facility_id, row.name, row.kind)
        return Source(
            row.id,
            organization_id,
            row.facility_id,
            row.name,
            self.accounting.scope(stored),
            self.accounting.factor(stored),
            row.kind,
        )

    def sources(self, organization_id: str, facility_id: str | None = None) -> list[Source]:
        a = source_accounting
        query = (
            sa.select(
                t.sources,
                a.c.scope,
                a.c.factor_co2e_t_per_unit,
                a.c.factor_activity_unit,
                a.c.factor_source,
                a.c.factor_name,
            )
            .join(t.facilities, t.facilities.c.id == t.sources.c.facility_id)
            .outerjoin(
                a, sa.and_(a.c.source_id == t.sources.c.id, a.c.organization_id == organization_id)
            )
            .where(t.facilities.c.organization_id == organization_id)
            .order_by(t.sources.c.name)
        )
        if facility_id is not None:
            query = query.where(t.sources.c.facility_id == facility_id)
        with self.engine.connect() as conn:
            found = [self._source(row, organization_id) for row in conn.execute(query)]
        return sorted(found, key=lambda s: (s.scope, s.name))

    def source(self, organization_id: str, source_id: str) -> Source | None:
        found = [s for s in self.sources(organization_id) if s.id == source_id]
        return found[0] if found else None

    def add_source(self, source: Source) -> Source:
        """Save a source, then its scope and factor (``source_accounting``)."""
        kind = source.method or ("electricity" if source.scope == 2 else "combustion")
        factor = source.factor
        accounting = {
            "organization_id": source.organization_id,
            "scope": source.scope,
            "factor_co2e_t_per_unit": factor.co2e_t_per_unit if factor else None,
            "factor_activity_unit": factor.activity_unit if factor else None,
            "factor_source": factor.source if factor else None,
            "factor_name": factor.name if factor else None,
            "updated_at": datetime.now(UTC),
        }
        self.store.save_source(metering.Source(source.id, source.facility_id, source.name, kind))
        with self.engine.begin() as conn:
            conn.execute(
                source_accounting.delete().where(source_accounting.c.source_id == source.id)
            )
            conn.execute(source_accounting.insert().values(source_id=source.id, **accounting))
        self._bump()
        return self.source(source.organization_id, source.id) or source

    def meters(self, organization_id: str, facility_id: str | None = None) -> list[Meter]:
        query = (
            sa.select(t.meters)
            .join(t.facilities, t.facilities.c.id == t.meters.c.facility_id)
            .where(t.facilities.c.organization_id == organization_id)
            .order_by(t.meters.c.name)
        )
        if facility_id is not None:
            query = query.where(t.meters.c.facility_id == facility_id)
        with self.engine.connect() as conn:
            return [
                Meter(
                    row.id,
                    organization_id,
                    row.facility_id,
                    row.name or row.id,
                    row.unit,
                    row.source_id,
                    "activity" if row.source_id else "production",
                    row.interval_s or 3600,
                )
                for row in conn.execute(query)
            ]

    def meter(self, organization_id: str, meter_id: str) -> Meter | None:
        found = [m for m in self.meters(organization_id) if m.id == meter_id]
        return found[0] if found else None

    def add_meter(self, meter: Meter) -> Meter:
        """Save a meter; an existing one keeps what the service does not edit (its kind,
        multiplier, time zone and plausible range)."""
        stored = self.store.meter(meter.id) or metering.Meter(meter.id, "interval", meter.unit)
        self.store.save_meter(
            replace(
                stored,
                unit=meter.unit,
                interval_s=meter.interval_s,
                facility_id=meter.facility_id,
                source_id=meter.source_id,
                name=meter.name,
            )
        )
        self._bump()
        return meter

    # readings and quarantine -----------------------------------------------------------------
    def add_readings(self, readings: Iterable[Reading]) -> int:
        new = self.store.add_readings(readings)
        if new:
            self._bump()
        return new

    def quarantine(self, rejected: Iterable[Rejected]) -> int:
        return self.store.quarantine(rejected)

    def quarantine_for(self, organization_id: str, rejected: Iterable[Rejected]) -> int:
        """Quarantine records a caller of the organization sent, owned by it (an exact key)."""
        records = [
            Rejected(r.raw, r.reason, f"org:{organization_id}:{r.source_ref}", r.meter_id)
            for r in rejected
        ]
        kept = self.store.quarantine(records)
        fingerprints = [
            quarantine_fingerprint(r.source_ref, getattr(r, "line", None), r.meter_id, r.raw)
            for r in records
        ]
        owners = quarantine_owners
        with self.engine.begin() as conn:
            for start in range(0, len(fingerprints), 1000):
                chunk = fingerprints[start : start + 1000]
                ids = conn.execute(
                    sa.select(t.quarantine.c.id)
                    .where(t.quarantine.c.fingerprint.in_(chunk))
                    .where(~sa.exists().where(owners.c.quarantine_id == t.quarantine.c.id))
                ).scalars()
                rows = [{"quarantine_id": i, "organization_id": organization_id} for i in ids]
                if rows:
                    conn.execute(owners.insert(), rows)
        self._bump()
        return kept

    def quarantined(self, organization_id: str, limit: int = 200) -> list[Rejected]:
        q, owners = t.quarantine, quarantine_owners
        query = (
            sa.select(q)
            .join(owners, owners.c.quarantine_id == q.c.id)
            .where(owners.c.organization_id == organization_id)
            .order_by(q.c.id.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            return [
                Rejected(bytes(row.raw), row.reason, row.source_ref, row.meter_id)
                for row in conn.execute(query)
            ]

    def series(
        self,
        organization_id: str,
        meter_id: str,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """A meter's readings in ``[start, end)``: UTC microseconds and values, in time order."""
        if self.meter(organization_id, meter_id) is None:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return self.store.series_values(meter_id, start, end)

    def reading_extent(
        self, organization_id: str, meter_id: str
    ) -> tuple[datetime | None, datetime | None]:
        """The instants of a meter's first and last readings (None, None when it has none)."""
        if self.meter(organization_id, meter_id) is None:
            return None, None
        return self.store.reading_extent(meter_id)

    def readings(
        self,
        organization_id: str,
        meter_id: str,
        since: datetime | None = None,
        limit: int = 500,
        before: datetime | None = None,
    ) -> list[Reading]:
        """The latest ``limit`` readings of a meter after ``since`` and before ``before``
        (both exclusive), oldest first."""
        if self.meter(organization_id, meter_id) is None:
            return []
        r = t.readings
        query = (
            sa.select(
                sa.type_coerce(r.c.ts, sa.BigInteger).label("ts_us"),
                r.c.value,
                r.c.unit,
                r.c.quality,
                r.c.batch_id,
                r.c.source_ref,
            )
            .where(r.c.meter_id == meter_id)
            .order_by(r.c.ts.desc())
            .limit(limit)
        )
        if since is not None:
            query = query.where(sa.type_coerce(r.c.ts, sa.BigInteger) > to_epoch_us(since))
        if before is not None:
            query = query.where(sa.type_coerce(r.c.ts, sa.BigInteger) < to_epoch_us(before))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Reading(
                meter_id,
                from_epoch_us(row.ts_us),
                row.value,
                row.unit,
                row.quality,
                row.batch_id,
                row.source_ref,
            )
            for row in reversed(rows)
        ]

    def reading_at(self, organization_id: str, meter_id: str, ts: datetime) -> Reading | None:
        """The stored reading of a meter at an instant, or None."""
        if self.meter(organization_id, meter_id) is None:
            return None
        r = t.readings
        query = sa.select(r).where(r.c.meter_id == meter_id, r.c.ts == ts)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Reading(
            meter_id, row.ts, row.value, row.unit, row.quality, row.batch_id, row.source_ref
        )

    # monthly summaries -----------------------------------------------------------------------
    def _monthly(self, organization_id: str) -> dict[str, dict[str, tuple[float, int, int]]]:
        # The overview asks three times in a row (sources, production, meters); the figures of
        # the last second serve them all.
        key = (organization_id, self._version)
        with self._lock:
            memo = self._monthly_memo
        if memo is not None and memo[0] == key and time.monotonic() - memo[1] < 1.0:
            return memo[2]
        value = self._monthly_now(organization_id)
        with self._lock:
            self._monthly_memo = (key, time.monotonic(), value)
        return value

    def _monthly_now(self, organization_id: str) -> dict[str, dict[str, tuple[float, int, int]]]:
        """Per meter and local calendar month of its facility: (sum, readings, estimated).

        Answered from the month rollups (a dozen rows a meter a year); when a meter's rollups
        were kept in another zone than its facility's (the zone was changed since), from the
        raw readings until `carbonlink store rollups --rebuild` is run; so too when a meter
        has a reading at an instant rollups do not cover (year 1, say).
        """
        from carbonlink.store import rollups

        m, f = t.meters, t.facilities
        query = (
            sa.select(m.c.id, m.c.labelling, f.c.time_zone)
            .join(f, f.c.id == m.c.facility_id)
            .where(f.c.organization_id == organization_id)
        )
        with self.engine.connect() as conn:
            meters = {
                row.id: (row.labelling, usable_zone(row.time_zone)) for row in conn.execute(query)
            }
        if rollups.organization_has_outliers(self.engine, organization_id):
            return self._monthly_raw(organization_id)
        stored = rollups.organization_months(self.engine, organization_id)
        if any(r.zone != meters[r.meter_id][1] for r in stored if r.meter_id in meters):
            return self._monthly_raw(organization_id)
        return month_summaries(stored, {k: v[0] for k, v in meters.items()})

    def _monthly_raw(self, organization_id: str) -> dict[str, dict[str, tuple[float, int, int]]]:
        """`_monthly` from the raw readings (every reading of the organization is read)."""
        r, m, f = t.readings, t.meters, t.facilities
        query = (
            sa.select(
                r.c.meter_id,
                sa.type_coerce(r.c.ts, sa.BigInteger),
                r.c.value,
                r.c.quality,
                f.c.time_zone,
                m.c.labelling,
            )
            .join(m, m.c.id == r.c.meter_id)
            .join(f, f.c.id == m.c.facility_id)
            .where(f.c.organization_id == organization_id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out: dict[str, dict[str, tuple[float, int, int]]] = defaultdict(dict)
        if not rows:
            return out
        meter_ids = np.array([row[0] for row in rows], dtype=object)
        ts = np.fromiter((row[1] for row in rows), dtype=np.int64, count=len(rows))
        # An end-labelled reading measured the interval before its stamp: the quarter hour
        # stamped at midnight on the 1st belongs to the month that ends there.
        ts = ts - np.fromiter((row[5] == "end" for row in rows), dtype=np.int64, count=len(rows))
        value = np.fromiter((row[2] for row in rows), dtype=np.float64, count=len(rows))
        estimated = np.array([row[3] == "estimated" for row in rows])
        zones = np.array([usable_zone(row[4]) for row in rows], dtype=object)
        months = np.empty(len(rows), dtype=object)
        for zone in set(zones):
            chosen = zones == zone
            months[chosen] = _months_us(ts[chosen], str(zone))
        keys = np.char.add(np.char.add(meter_ids.astype(str), "|"), months.astype(str))
        unique, inverse = np.unique(keys, return_inverse=True)
        sums = exact_sums(value, inverse, len(unique))
        counts = np.bincount(inverse)
        est = np.bincount(inverse, weights=estimated.astype(float))
        for i, key in enumerate(unique):
            meter_id, month = str(key).split("|")
            out[meter_id][month] = (float(sums[i]), int(counts[i]), int(est[i]))
        return out

    def source_months(self, organization_id: str) -> list[SourceMonth]:
        monthly = self._monthly(organization_id)
        sources = {s.id: s for s in self.sources(organization_id)}
        activity: dict[tuple[str, str], float] = defaultdict(float)
        for meter in self.meters(organization_id):
            if meter.source_id in sources:
                for month, (total, _n, _e) in monthly.get(meter.id, {}).items():
                    activity[(meter.source_id, month)] += total
        out = []
        for (source_id, month), quantity in sorted(activity.items()):
            source = sources[source_id]
            factor = source.factor.co2e_t_per_unit if source.factor else 0.0
            out.append(
                SourceMonth(
                    source.facility_id, source_id, source.scope, month, quantity, quantity * factor
                )
            )
        return out

    def production_months(self, organization_id: str) -> dict[tuple[str, str], float]:
        monthly = self._monthly(organization_id)
        out: dict[tuple[str, str], float] = defaultdict(float)
        for meter in self.meters(organization_id):
            if meter.purpose == "production":
                for month, (total, _n, _e) in monthly.get(meter.id, {}).items():
                    out[(meter.facility_id, month)] += total
        return dict(out)

    def meter_months(self, organization_id: str) -> list[MeterMonth]:
        monthly = self._monthly(organization_id)
        now = datetime.now(UTC)
        zones = {f.id: f.timezone for f in self.facilities(organization_id)}
        out = []
        seconds_of: dict[tuple[str, str], int] = {}  # the same few months for every meter
        for meter in self.meters(organization_id):
            zone = zones.get(meter.facility_id, "UTC")
            for month, (_total, count, est) in sorted(monthly.get(meter.id, {}).items()):
                seconds = seconds_of.get((month, zone))
                if seconds is None:
                    seconds = seconds_of[(month, zone)] = _month_seconds(month, now, zone)
                expected = max(seconds // meter.interval_s, count)
                out.append(MeterMonth(meter.id, month, count, expected, est))
        return out


def month_summaries(
    months: list[Any], labelling: dict[str, str | None]
) -> dict[str, dict[str, tuple[float, int, int]]]:
    """(sum, readings, estimated) per meter and month from month rollups.

    An end-stamped reading at a month's first instant measured the interval before it, so for
    meters labelled "end" it is moved from the month it is stamped in to the month before,
    using the rollups' first-instant figures: the numbers the raw readings give.
    """
    from carbonlink.domain.exact import EXACT

    out: dict[str, dict[str, tuple[float, int, int]]] = defaultdict(dict)
    by_meter: dict[str, dict[str, Any]] = defaultdict(dict)
    for row in months:
        by_meter[row.meter_id][row.start[:7]] = row
    with localcontext(EXACT):
        for meter_id, rows in by_meter.items():
            mine = out[meter_id]
            if labelling.get(meter_id) != "end":
                for month, row in rows.items():
                    mine[month] = (row.total, row.readings, row.estimated)
                continue
            incoming: dict[str, Any] = {}  # month → the next one, whose first readings move in
            for month, row in rows.items():
                if row.first_count:
                    year, mon = int(month[:4]), int(month[5:7])
                    incoming[f"{year - (mon == 1):04d}-{(mon - 2) % 12 + 1:02d}"] = row
            for month in sorted(rows.keys() | incoming.keys()):
                row, later = rows.get(month), incoming.get(month)
                if row is not None and row.end_count is not None:
                    # kept with the month: the month's own figures for end-stamped intervals
                    if row.end_count:
                        mine[month] = (row.end_total, row.end_count, row.end_estimated)
                    continue
                count = estimated = 0
                total = Decimal(0)
                moved = later is not None
                if row is not None:
                    count += row.readings - row.first_count
                    estimated += row.estimated - row.first_estimated
                    if row.first_count:
                        moved = True
                        total = Decimal(row.total_exact) - Decimal(row.first_exact)
                    elif moved:
                        total = Decimal(row.total_exact)
                if later is not None:
                    count += later.first_count
                    estimated += later.first_estimated
                    total += Decimal(later.first_exact)
                if count:
                    # nothing moved: the stored sum as it is; else the exact sum, rounded once
                    stored = row.total if row is not None else 0.0
                    mine[month] = (float(total) if moved else stored, count, estimated)
    return out


def facility_places(
    engine: sa.Engine, organization_id: str, facility_ids: Iterable[str]
) -> dict[str, tuple[str, str]]:
    """Name and time zone of each of the organization's facilities among ``facility_ids``."""
    query = sa.select(t.facilities.c.id, t.facilities.c.name, t.facilities.c.time_zone).where(
        t.facilities.c.id.in_(list(facility_ids)),
        t.facilities.c.organization_id == organization_id,
    )
    with engine.connect() as conn:
        return {row.id: (row.name, usable_zone(row.time_zone)) for row in conn.execute(query)}


def meter_readings_between(
    engine: sa.Engine, meter_id: str, after_us: int, until_us: int
) -> tuple[np.ndarray, np.ndarray, str | None]:
    """A meter's readings in (after, until] as epoch-microsecond and value arrays, and its
    interval labelling ('start' or 'end')."""
    r = t.readings
    ts_col = sa.type_coerce(r.c.ts, sa.BigInteger)
    query = sa.select(ts_col, r.c.value).where(
        r.c.meter_id == meter_id, ts_col > after_us, ts_col <= until_us
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
        labelling = conn.execute(
            sa.select(t.meters.c.labelling).where(t.meters.c.id == meter_id)
        ).scalar()
    ts = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    value = np.fromiter((row[1] for row in rows), dtype=np.float64, count=len(rows))
    return ts, value, labelling


def organizations_with_users(engine: sa.Engine) -> int:
    """How many organizations have user accounts on this service."""
    query = sa.select(sa.func.count(sa.distinct(users.c.organization_id)))
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


def _conflicts_query(organization_id: str) -> sa.Select[Any]:
    """Quarantined conflicts of the organization: about one of its meters, or sent by it."""
    q, owners = t.quarantine, quarantine_owners
    its_meters = (
        sa.select(t.meters.c.id)
        .join(t.facilities, t.facilities.c.id == t.meters.c.facility_id)
        .where(t.facilities.c.organization_id == organization_id)
    )
    sent_by_it = sa.select(owners.c.quarantine_id).where(
        owners.c.organization_id == organization_id
    )
    return (
        sa.select(q)
        .where(q.c.reason.startswith(CONFLICT, autoescape=True))
        .where(sa.or_(q.c.meter_id.in_(its_meters), q.c.id.in_(sent_by_it)))
    )


def _record(row: sa.Row[Any]) -> QuarantinedRecord:
    m = row._mapping
    return QuarantinedRecord(
        id=m["id"],
        received_at=m["received_at"],
        batch_id=m["batch_id"],
        source_ref=m["source_ref"],
        line=m["line"],
        meter_id=m["meter_id"],
        reason=m["reason"],
        raw=bytes(m["raw"]),
        resolved_at=m["resolved_at"],
        resolution=m["resolution"],
    )


def organization_conflicts(
    engine: sa.Engine, organization_id: str, *, unresolved_only: bool = False, limit: int = 500
) -> list[QuarantinedRecord]:
    """Received values that conflict with a stored reading of one of the organization's meters
    (whatever path they came by), newest first."""
    query = _conflicts_query(organization_id).order_by(t.quarantine.c.id.desc()).limit(limit)
    if unresolved_only:
        query = query.where(t.quarantine.c.resolved_at.is_(None))
    with engine.connect() as conn:
        return [_record(row) for row in conn.execute(query)]


def resolve_organization_conflict(
    engine: sa.Engine, organization_id: str, record_id: int, resolution: str
) -> QuarantinedRecord | None:
    """Record what a person of the organization decided about one of its conflicts; None when
    the organization has no conflict of that id."""
    query = _conflicts_query(organization_id).where(t.quarantine.c.id == record_id)
    with engine.connect() as conn:
        if conn.execute(query).first() is None:
            return None
    Store(engine).resolve_quarantined(record_id, resolution)
    with engine.connect() as conn:
        return _record(conn.execute(query).one())
