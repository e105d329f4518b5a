"""Day and month rollups of each meter's readings, kept up to date as readings are written.

A bucket is a calendar day or month of the local time of the meter's facility (its IANA zone;
UTC for a meter without a facility or with a zone the zone database does not know), the same
calendar the analytics series and the overview use. A reading belongs to the bucket its
timestamp's wall-clock time falls in. Each bucket keeps the count, the exact sum (see
`carbonlink.domain.exact`), minimum, maximum and number of estimated readings, and the same
for the readings stamped at the bucket's first instant (local midnight), from which a summary
for end-stamped intervals (where the reading at midnight measured the day before) is derived
without going back to the raw rows.

Maintenance is incremental: a trigger on the readings table (statement-level with a transition
table on PostgreSQL, row-level on SQLite) records each (meter, UTC day) written or deleted in
``reading_rollup_pending``, whoever the writer is; `refresh` recomputes the local days those
touch from their raw readings and each affected month from its days. Recomputing a day (96 rows
at 15 minutes, 1 440 at one a minute) instead of adding deltas keeps the rollups right when the
same batch is retried or a reading is deleted. `rebuild` starts again from all raw readings, for
after a facility's zone was changed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, localcontext
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from carbonlink.domain.exact import EXACT, add_exact, decimal_sum
from carbonlink.domain.zones import usable_zone
from carbonlink.store import schema
from carbonlink.store.schema import to_epoch_us

DAY_US = 86_400_000_000
FIRST_DAY = date(1900, 1, 2)
LAST_DAY = date(2199, 12, 30)
"""Rollups cover readings stamped from FIRST_DAY to LAST_DAY (UTC): a reading stored at year 1
or 9999 (a null date of another tool) is left to the raw path, which shows it as it is."""
WINDOW_US = (
    to_epoch_us(datetime.combine(FIRST_DAY, time(0), UTC)),
    to_epoch_us(datetime.combine(LAST_DAY + timedelta(days=1), time(0), UTC)),
)
ROLLUP_COLUMNS = (
    "meter_id",
    "period",
    "start",
    "zone",
    "count",
    "estimated",
    "total",
    "total_exact",
    "low",
    "high",
    "first_count",
    "first_exact",
    "first_estimated",
)

PG_TRIGGERS = (
    """
    CREATE OR REPLACE FUNCTION reading_rollup_mark() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO reading_rollup_pending (meter_id, utc_day)
        SELECT DISTINCT meter_id, ts / 86400000000 FROM changed
        ON CONFLICT DO NOTHING;
        RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER readings_rollup_insert AFTER INSERT ON readings "
    "REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION reading_rollup_mark()",
    "CREATE TRIGGER readings_rollup_delete AFTER DELETE ON readings "
    "REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION reading_rollup_mark()",
)
PG_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS readings_rollup_insert ON readings",
    "DROP TRIGGER IF EXISTS readings_rollup_delete ON readings",
    "DROP FUNCTION IF EXISTS reading_rollup_mark()",
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER readings_rollup_insert AFTER INSERT ON readings BEGIN "
    "INSERT OR IGNORE INTO reading_rollup_pending (meter_id, utc_day) "
    "VALUES (NEW.meter_id, NEW.ts / 86400000000); END",
    "CREATE TRIGGER readings_rollup_delete AFTER DELETE ON readings BEGIN "
    "INSERT OR IGNORE INTO reading_rollup_pending (meter_id, utc_day) "
    "VALUES (OLD.meter_id, OLD.ts / 86400000000); END",
)
SQLITE_DROP_TRIGGERS = (
    "DROP TRIGGER IF EXISTS readings_rollup_insert",
    "DROP TRIGGER IF EXISTS readings_rollup_delete",
)


def create_triggers(connection: Connection) -> None:
    """Install the triggers that record changed days (migration 0023 and `rebuild`)."""
    if connection.dialect.name == "postgresql":
        for statement in PG_DROP_TRIGGERS + PG_TRIGGERS:
            connection.exec_driver_sql(statement)
    else:
        for statement in SQLITE_DROP_TRIGGERS + SQLITE_TRIGGERS:
            connection.exec_driver_sql(statement)


def drop_triggers(connection: Connection) -> None:
    drops = PG_DROP_TRIGGERS if connection.dialect.name == "postgresql" else SQLITE_DROP_TRIGGERS
    for statement in drops:
        connection.exec_driver_sql(statement)


@dataclass(frozen=True, slots=True)
class Rollup:
    """One day or month of a meter's readings."""

    meter_id: str
    period: str
    start: date
    zone: str
    count: int
    estimated: int
    total: float
    total_exact: Decimal
    low: float
    high: float
    first_count: int
    first_exact: Decimal
    first_estimated: int


# --- computing buckets from raw readings -------------------------------------------------------


def local_days(ts_us: np.ndarray, zone: str) -> tuple[np.ndarray, np.ndarray]:
    """Each instant's local date (as datetime64[D]) and whether it is the date's first instant."""
    index = pd.DatetimeIndex(pd.to_datetime(ts_us, unit="us", utc=True)).tz_convert(zone)
    wall = index.tz_localize(None)
    days = wall.normalize()
    return np.asarray(days.values.astype("datetime64[D]")), np.asarray(wall == days)


def day_rows(
    meter_id: str,
    zone: str,
    ts_us: np.ndarray,
    values: np.ndarray,
    estimated: np.ndarray,
) -> list[dict[str, Any]]:
    """The day rollups of a meter's raw readings (rows for ``reading_rollups``)."""
    if len(ts_us) == 0:
        return []
    days, first = local_days(ts_us, zone)
    unique, inverse = np.unique(days, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    cuts = np.flatnonzero(np.diff(inverse[order])) + 1
    out = []
    for rows in np.split(order, cuts):
        day = unique[inverse[rows[0]]]
        v = values[rows]
        total = decimal_sum(v)
        at_first = first[rows]
        first_total = decimal_sum(v[at_first])
        out.append(
            {
                "meter_id": meter_id,
                "period": "day",
                "start": str(day),
                "zone": zone,
                "count": len(rows),
                "estimated": int(estimated[rows].sum()),
                "total": float(total),
                "total_exact": str(total),
                "low": float(v.min()),
                "high": float(v.max()),
                "first_count": int(at_first.sum()),
                "first_exact": str(first_total),
                "first_estimated": int((at_first & estimated[rows]).sum()),
            }
        )
    return out


def _next_month(start: str) -> str:
    year, month = int(start[:4]), int(start[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}-01"


def month_rows(
    days: Sequence[Any], following: dict[tuple[str, str], Any] | None = None
) -> list[dict[str, Any]]:
    """Month rollups from day rollups (rows with the ``reading_rollups`` columns).

    ``following`` holds, by (meter, date), the day rollups of the first days of the months
    after: a month's ``end_*`` figures are those of end-stamped intervals, the month without
    the readings at its first instant and with those at the next month's first instant.
    """
    grouped: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for row in days:
        grouped[(row.meter_id, str(row.start)[:7] + "-01", row.zone)].append(row)
    out = []
    for (meter_id, start, zone), members in grouped.items():
        total = add_exact(m.total_exact for m in members)
        opening = [m for m in members if str(m.start) == start]
        first_total = add_exact(m.first_exact for m in opening)
        first_count = sum(int(m.first_count) for m in opening)
        first_estimated = sum(int(m.first_estimated) for m in opening)
        later = (following or {}).get((meter_id, _next_month(start)))
        later_parts = [later.first_exact] if later is not None else []
        end_total = add_exact([total, -first_total, *later_parts])
        count = sum(int(m.count) for m in members)
        estimated = sum(int(m.estimated) for m in members)
        out.append(
            {
                "meter_id": meter_id,
                "period": "month",
                "start": start,
                "zone": zone,
                "count": count,
                "estimated": estimated,
                "total": float(total),
                "total_exact": str(total),
                "low": min(float(m.low) for m in members),
                "high": max(float(m.high) for m in members),
                "first_count": first_count,
                "first_exact": str(first_total),
                "first_estimated": first_estimated,
                "end_count": count - first_count + (later.first_count if later else 0),
                "end_estimated": estimated
                - first_estimated
                + (later.first_estimated if later else 0),
                "end_total": float(end_total),
            }
        )
    return out


# --- which days to recompute -----------------------------------------------------------------


def meter_zones(connection: Connection, meter_ids: Iterable[str]) -> dict[str, str]:
    """The zone each meter's rollups use: its facility's, else UTC."""
    ids = sorted(set(meter_ids))
    m, f = schema.meters, schema.facilities
    zones = dict.fromkeys(ids, "UTC")
    for start in range(0, len(ids), 5_000):
        query = (
            sa.select(m.c.id, f.c.time_zone)
            .join(f, f.c.id == m.c.facility_id)
            .where(m.c.id.in_(ids[start : start + 5_000]))
        )
        for meter_id, zone in connection.execute(query):
            zones[meter_id] = usable_zone(zone)
    return zones


def _day_spans(utc_days: Iterable[int], zone: str) -> list[tuple[date, date]]:
    """Runs of consecutive local dates [first, last] that the UTC days overlap."""
    local: set[date] = set()
    tz = ZoneInfo(zone)
    for day in utc_days:
        for instant in (day * DAY_US, (day + 1) * DAY_US - 1):
            moment = datetime.fromtimestamp(instant / 1_000_000, UTC).astimezone(tz)
            local.add(moment.date())
    spans: list[tuple[date, date]] = []
    for d in sorted(local):
        if spans and d == spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], d)
        else:
            spans.append((d, d))
    return spans


def _utc_us(day: date, zone: str) -> int:
    return to_epoch_us(datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC))


@dataclass(frozen=True, slots=True)
class Span:
    meter_id: str
    zone: str
    first: date
    last: date

    @property
    def lo_us(self) -> int:
        return _utc_us(self.first, self.zone)

    @property
    def hi_us(self) -> int:
        return _utc_us(self.last + timedelta(days=1), self.zone)


# --- refresh ---------------------------------------------------------------------------------

_PG_DAYS = """
WITH spans AS (
    SELECT * FROM unnest(
        CAST(:meters AS text[]), CAST(:zones AS text[]), CAST(:los AS bigint[]),
        CAST(:his AS bigint[])
    ) AS s(meter_id, zone, lo, hi)
),
local AS (
    SELECT r.meter_id, s.zone, r.value, r.quality = 'estimated' AS est,
           r.value::text::numeric AS exact,
           (timestamptz 'epoch' + r.ts * interval '1 microsecond') AT TIME ZONE s.zone AS wall
    FROM spans s JOIN readings r ON r.meter_id = s.meter_id AND r.ts >= s.lo AND r.ts < s.hi
),
days AS (
    SELECT meter_id, zone, value, est, exact, wall::date AS day, wall = wall::date AS at_first
    FROM local
)
INSERT INTO reading_rollups (meter_id, period, start, zone, count, estimated, total, total_exact,
                             low, high, first_count, first_exact, first_estimated)
SELECT meter_id, 'day', to_char(day, 'YYYY-MM-DD'), zone, count(*), count(*) FILTER (WHERE est),
       sum(exact)::float8, sum(exact)::text, min(value), max(value),
       count(*) FILTER (WHERE at_first), coalesce(sum(exact) FILTER (WHERE at_first), 0)::text,
       count(*) FILTER (WHERE at_first AND est)
FROM days GROUP BY meter_id, zone, day
"""


def _recompute_days(connection: Connection, spans: list[Span]) -> None:
    """Replace the day rollups of the spans by ones computed from their raw readings."""
    table = schema.reading_rollups
    for span in spans:
        connection.execute(
            sa.delete(table).where(
                table.c.meter_id == span.meter_id,
                table.c.period == "day",
                table.c.start >= span.first.isoformat(),
                table.c.start <= span.last.isoformat(),
            )
        )
    if connection.dialect.name == "postgresql":
        # the shortest round-trip digits, whatever the client asked for
        connection.exec_driver_sql("SET LOCAL extra_float_digits = 1")
        for start in range(0, len(spans), 500):
            chunk = spans[start : start + 500]
            connection.execute(
                sa.text(_PG_DAYS),
                {
                    "meters": [s.meter_id for s in chunk],
                    "zones": [s.zone for s in chunk],
                    "los": [s.lo_us for s in chunk],
                    "his": [s.hi_us for s in chunk],
                },
            )
        return
    r = schema.readings
    ts = sa.type_coerce(r.c.ts, sa.BigInteger)
    rows: list[dict[str, Any]] = []
    for span in spans:
        raw = connection.execute(
            sa.select(ts, r.c.value, r.c.quality).where(
                r.c.meter_id == span.meter_id, ts >= span.lo_us, ts < span.hi_us
            )
        ).all()
        if not raw:
            continue
        stamps = np.fromiter((x[0] for x in raw), dtype=np.int64, count=len(raw))
        values = np.fromiter((x[1] for x in raw), dtype=np.float64, count=len(raw))
        estimated = np.fromiter((x[2] == "estimated" for x in raw), dtype=bool, count=len(raw))
        rows += day_rows(span.meter_id, span.zone, stamps, values, estimated)
    if rows:
        connection.execute(sa.insert(table), rows)


def _recompute_months(connection: Connection, spans: list[Span]) -> None:
    """Replace the month rollups the spans touch by the sums of their day rollups."""
    table = schema.reading_rollups
    months: dict[str, set[date]] = defaultdict(set)
    for span in spans:
        month = span.first.replace(day=1)
        while month <= span.last:
            months[span.meter_id].add(month)
            month = (month + timedelta(days=32)).replace(day=1)
    out: list[dict[str, Any]] = []
    for meter_id, touched in months.items():
        # a month's first day also changes the end-stamped figures of the month before
        wanted = touched | {(m - timedelta(days=1)).replace(day=1) for m in touched}
        lo, hi = min(wanted), max(wanted)
        after = (hi + timedelta(days=32)).replace(day=1)
        connection.execute(
            sa.delete(table).where(
                table.c.meter_id == meter_id,
                table.c.period == "month",
                table.c.start.in_([m.isoformat() for m in wanted]),
            )
        )
        days = connection.execute(
            sa.select(table).where(
                table.c.meter_id == meter_id,
                table.c.period == "day",
                table.c.start >= lo.isoformat(),
                table.c.start <= after.isoformat(),
            )
        ).all()
        inside = [d for d in days if date.fromisoformat(d.start[:7] + "-01") in wanted]
        following = {(d.meter_id, d.start): d for d in days if d.start[8:] == "01"}
        out += month_rows(inside, following)
    for start in range(0, len(out), 5_000):
        connection.execute(sa.insert(table), out[start : start + 5_000])


def recompute_months(engine: Engine, *, meters_per_step: int = 200) -> int:
    """Recompute every month rollup from the day rollups (after an upgrade that added month
    figures); return the meters done."""
    table = schema.reading_rollups
    with engine.connect() as connection:
        extents = connection.execute(
            sa.select(table.c.meter_id, sa.func.min(table.c.start), sa.func.max(table.c.start))
            .where(table.c.period == "day")
            .group_by(table.c.meter_id)
        ).all()
    for start in range(0, len(extents), meters_per_step):
        spans = [
            Span(meter_id, "UTC", date.fromisoformat(lo), date.fromisoformat(hi))
            for meter_id, lo, hi in extents[start : start + meters_per_step]
        ]
        with engine.begin() as connection:
            _recompute_months(connection, spans)
    return len(extents)


def _redo_moved_meters(
    connection: Connection, by_meter: dict[str, list[int]], zones: dict[str, str]
) -> None:
    """Meters whose facility's zone changed since their rollups were made: drop the rollups
    and recompute every day of theirs (their local days are other days now)."""
    table = schema.reading_rollups
    kept = connection.execute(
        sa.select(table.c.meter_id, table.c.zone)
        .where(table.c.meter_id.in_(list(by_meter)))
        .distinct()
    ).all()
    moved = sorted({meter_id for meter_id, zone in kept if zone != zones[meter_id]})
    lo_day, hi_day = WINDOW_US[0] // DAY_US, WINDOW_US[1] // DAY_US
    for meter_id in moved:
        connection.execute(sa.delete(table).where(table.c.meter_id == meter_id))
        days = connection.execute(
            sa.text("SELECT DISTINCT ts / 86400000000 FROM readings WHERE meter_id = :m"),
            {"m": meter_id},
        ).scalars()
        by_meter[meter_id] = [int(d) for d in days if lo_day < d < hi_day - 1]


def refresh(
    engine: Engine, *, meters_per_step: int = 200, meter_ids: Iterable[str] | None = None
) -> int:
    """Bring the rollups of every changed day up to date; return how many meters were done.

    Works through the pending days a few hundred meters at a time, each step in its own
    transaction, so that a long catch-up (a year loaded at once) holds no lock for long.
    ``meter_ids`` limits the work to those meters (a page about them).
    """
    pending = schema.reading_rollup_pending
    only = None if meter_ids is None else sorted(set(meter_ids))
    done = 0
    while True:
        with engine.begin() as connection:
            query = sa.select(pending.c.meter_id).distinct().order_by(pending.c.meter_id)
            if only is not None:
                query = query.where(pending.c.meter_id.in_(only))
            ids = list(connection.execute(query.limit(meters_per_step)).scalars())
            if not ids:
                return done
            claimed = connection.execute(
                sa.delete(pending)
                .where(pending.c.meter_id.in_(ids))
                .returning(pending.c.meter_id, pending.c.utc_day)
            ).all()
            by_meter: dict[str, list[int]] = defaultdict(list)
            lo_day, hi_day = WINDOW_US[0] // DAY_US, WINDOW_US[1] // DAY_US
            for meter_id, utc_day in claimed:
                if lo_day < utc_day < hi_day - 1:
                    by_meter[meter_id].append(int(utc_day))
            zones = meter_zones(connection, by_meter)
            _redo_moved_meters(connection, by_meter, zones)
            spans = [
                Span(meter_id, zones[meter_id], first, last)
                for meter_id, days in sorted(by_meter.items())
                for first, last in _day_spans(days, zones[meter_id])
            ]
            _recompute_days(connection, spans)
            _recompute_months(connection, spans)
            done += len(by_meter)


def rebuild(engine: Engine) -> int:
    """Drop every rollup and compute them again from all raw readings; return the meters."""
    pending = schema.reading_rollup_pending
    with engine.begin() as connection:
        connection.execute(sa.delete(schema.reading_rollups))
        connection.execute(sa.delete(pending))
        create_triggers(connection)
        connection.exec_driver_sql(
            "INSERT INTO reading_rollup_pending (meter_id, utc_day) "
            "SELECT DISTINCT meter_id, ts / 86400000000 FROM readings"
        )
    return refresh(engine)


def pending_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.select(sa.func.count()).select_from(schema.reading_rollup_pending)
            ).scalar_one()
        )


# --- reading ---------------------------------------------------------------------------------


def _rollup(row: Any) -> Rollup:
    return Rollup(
        row.meter_id,
        row.period,
        date.fromisoformat(row.start),
        row.zone,
        int(row.count),
        int(row.estimated),
        float(row.total),
        Decimal(row.total_exact),
        float(row.low),
        float(row.high),
        int(row.first_count),
        Decimal(row.first_exact),
        int(row.first_estimated),
    )


def days_of(engine: Engine, meter_id: str, first: date, last: date) -> list[Rollup]:
    """A meter's day rollups from ``first`` to ``last`` (local dates, inclusive), in order."""
    table = schema.reading_rollups
    query = (
        sa.select(table)
        .where(
            table.c.meter_id == meter_id,
            table.c.period == "day",
            table.c.start >= first.isoformat(),
            table.c.start <= last.isoformat(),
        )
        .order_by(table.c.start)
    )
    with engine.connect() as connection:
        return [_rollup(row) for row in connection.execute(query)]


class MonthFigures(NamedTuple):
    """A month rollup as it is stored (the exact sums as text, parsed only when needed)."""

    meter_id: str
    start: str
    zone: str
    readings: int
    estimated: int
    total: float
    total_exact: str
    first_count: int
    first_exact: str
    first_estimated: int
    end_count: int | None
    end_estimated: int | None
    end_total: float | None


def _organization_meters(organization_id: str) -> sa.Select[Any]:
    m, f = schema.meters, schema.facilities
    return (
        sa.select(m.c.id)
        .join(f, f.c.id == m.c.facility_id)
        .where(f.c.organization_id == organization_id)
    )


def organization_months(engine: Engine, organization_id: str) -> list[MonthFigures]:
    """The month rollups of every meter of an organization, brought up to date first.

    Three queries whatever the number of meters (pending days, outliers are checked apart):
    the overview of a group with thousands of meters reads a dozen rows a meter a year.
    """
    table, pending = schema.reading_rollups, schema.reading_rollup_pending
    meters = _organization_meters(organization_id)
    with engine.connect() as connection:
        waiting = list(
            connection.execute(
                sa.select(pending.c.meter_id).distinct().where(pending.c.meter_id.in_(meters))
            ).scalars()
        )
    if waiting and writable(engine):
        refresh(engine, meter_ids=waiting)
    columns = [name if name != "readings" else "count" for name in MonthFigures._fields]
    query = sa.select(*(table.c[name] for name in columns)).where(
        table.c.period == "month", table.c.meter_id.in_(meters)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).cursor.fetchall()
    return [MonthFigures(*row) for row in rows]


def organization_has_outliers(engine: Engine, organization_id: str) -> bool:
    """Whether a meter of the organization has a reading at an instant rollups do not cover
    (on PostgreSQL only the partitions of those instants are looked at)."""
    r = schema.readings
    ts = sa.type_coerce(r.c.ts, sa.BigInteger)
    query = (
        sa.select(r.c.meter_id)
        .where(
            sa.or_(ts < WINDOW_US[0] + 2 * DAY_US, ts >= WINDOW_US[1] - 2 * DAY_US),
            r.c.meter_id.in_(_organization_meters(organization_id)),
        )
        .limit(1)
    )
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


def end_stamped_months(
    engine: Engine, meter_id: str, zone: str, first: date, last: date
) -> dict[str, Decimal] | None:
    """Exact sums per local month of an end-stamped meter's intervals from ``first`` to
    ``last`` (whole months), from the month rollups; None when they cannot answer (a start-
    stamped meter, a range that cuts a month, rollups in another zone)."""
    if first.day != 1 or (last + timedelta(days=1)).day != 1 or not covers(first, last):
        return None
    table = schema.reading_rollups
    with engine.connect() as connection:
        labelling = connection.execute(
            sa.select(schema.meters.c.labelling).where(schema.meters.c.id == meter_id)
        ).scalar()
    if labelling != "end":
        return None
    bring_up_to_date(engine, [meter_id])
    after = (last + timedelta(days=1)).isoformat()
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(table).where(
                table.c.meter_id == meter_id,
                table.c.period == "month",
                table.c.start >= first.isoformat(),
                table.c.start <= after,
            )
        ).all()
    if any(row.zone != zone for row in rows):
        return None
    by_start = {row.start: row for row in rows}
    out: dict[str, Decimal] = {}
    with localcontext(EXACT):
        month = first
        while month <= last:
            row = by_start.get(month.isoformat())
            later = by_start.get(_next_month(month.isoformat()))
            count, total = 0, Decimal(0)
            if row is not None:
                count += row.count - row.first_count
                total += Decimal(row.total_exact) - Decimal(row.first_exact)
            if later is not None:
                count += later.first_count
                total += Decimal(later.first_exact)
            if count:
                out[month.isoformat()[:7]] = total
            month = date.fromisoformat(_next_month(month.isoformat()))
    return out


def months_of(connection: Connection, meter_ids: Sequence[str]) -> list[Rollup]:
    """The month rollups of the meters, by meter and month."""
    table = schema.reading_rollups
    out: list[Rollup] = []
    ids = list(meter_ids)
    for start in range(0, len(ids), 5_000):
        query = sa.select(table).where(
            table.c.meter_id.in_(ids[start : start + 5_000]), table.c.period == "month"
        )
        out += [_rollup(row) for row in connection.execute(query)]
    return sorted(out, key=lambda r: (r.meter_id, r.start))


def writable(engine: Engine) -> bool:
    """Whether this database takes writes (a PostgreSQL hot standby does not: a dashboard
    served from a read replica reads the rollups the primary keeps up to date)."""
    if engine.dialect.name != "postgresql":
        return True
    with engine.connect() as connection:
        return not connection.exec_driver_sql("SELECT pg_is_in_recovery()").scalar()


def bring_up_to_date(engine: Engine, meter_ids: Iterable[str]) -> None:
    """Refresh the meters' rollups if a writer left changed days (a no-op query otherwise)."""
    ids = list(meter_ids)
    if not is_current(engine, ids) and writable(engine):
        refresh(engine, meter_ids=ids)


def covers(first: date, last: date) -> bool:
    """Whether rollups can answer for the local dates from ``first`` to ``last``."""
    return FIRST_DAY + timedelta(days=1) <= first and last <= LAST_DAY - timedelta(days=1)


def has_outliers(engine: Engine, meter_ids: Sequence[str]) -> bool:
    """Whether any of the meters has a reading outside the instants rollups cover."""
    r = schema.readings
    ts = sa.type_coerce(r.c.ts, sa.BigInteger)
    ids = list(meter_ids)
    with engine.connect() as connection:
        for start in range(0, len(ids), 5_000):
            found = connection.execute(
                sa.select(r.c.meter_id)
                .where(
                    r.c.meter_id.in_(ids[start : start + 5_000]),
                    sa.or_(ts < WINDOW_US[0] + 2 * DAY_US, ts >= WINDOW_US[1] - 2 * DAY_US),
                )
                .limit(1)
            ).first()
            if found is not None:
                return True
    return False


def is_current(engine: Engine, meter_ids: Iterable[str]) -> bool:
    """Whether none of the meters has changed days still waiting for `refresh`."""
    pending = schema.reading_rollup_pending
    ids = list(meter_ids)
    with engine.connect() as connection:
        found = connection.execute(
            sa.select(pending.c.meter_id).where(pending.c.meter_id.in_(ids)).limit(1)
        ).first()
    return found is None
