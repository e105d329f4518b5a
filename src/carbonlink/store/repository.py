"""The store: idempotent bulk writes of readings, quarantine, import batches and repositories.

`Store` implements `carbonlink.ingest.base.ReadingSink`. Readings are keyed on (meter, timestamp):
a second copy of a reading changes nothing. SQLite takes them with ``INSERT OR IGNORE`` through
one ``executemany``; PostgreSQL with a binary ``COPY`` into a session staging table followed by
``INSERT … ON CONFLICT DO NOTHING``, the fastest way PostgreSQL offers to load rows that may
already be there. Quarantined records are keyed on a fingerprint of their origin and bytes, so a
re-import does not quarantine the same line twice.
"""

from __future__ import annotations

import hashlib
import json
import struct
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import psycopg
from numpy.typing import NDArray
from sqlalchemy import BigInteger, Connection, Engine, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from carbonlink.domain.metering import Facility, Meter, MeteredActivity, Organization, Source
from carbonlink.domain.zones import usable_zone
from carbonlink.errors import StoreError
from carbonlink.store import schema
from carbonlink.store.schema import from_epoch_us, to_epoch_us

if TYPE_CHECKING:
    from carbonlink.ingest.base import Reading, Rejected

CONFLICT = "conflict:"
"""How the reason of a quarantined conflict begins."""

READING_COLUMNS = ("meter_id", "ts", "value", "unit", "quality", "batch_id", "source_ref")
_SQLITE_INSERT = (
    f"INSERT OR IGNORE INTO readings ({', '.join(READING_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
_PG_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS readings_staging "
    "(meter_id text, ts bigint, value double precision, unit text, quality text, "
    "batch_id text, source_ref text) ON COMMIT DELETE ROWS"
)
_PG_COPY = f"COPY readings_staging ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_PG_COPY_DIRECT = f"COPY readings ({', '.join(READING_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_PG_COPY_TYPES = ("text", "int8", "float8", "text", "text", "text", "text")
_PG_OVERLAP = (
    "SELECT EXISTS (SELECT 1 FROM unnest(%s::text[], %s::bigint[], %s::bigint[]) AS b(m, lo, hi) "
    "WHERE EXISTS (SELECT 1 FROM readings r WHERE r.meter_id = b.m AND r.ts BETWEEN b.lo AND b.hi))"
)
_PG_MERGE = (
    f"INSERT INTO readings ({', '.join(READING_COLUMNS)}) "
    f"SELECT {', '.join(READING_COLUMNS)} FROM readings_staging "
    "ON CONFLICT (meter_id, ts) DO NOTHING"
)

Row = tuple[str, int, float, str, str, str | None, str | None]


@dataclass(frozen=True, slots=True)
class ReadingColumns:
    """Readings as columns (one array per field), the bulk path of file readers.

    ``ts_us`` holds UTC instants as whole microseconds since 1970-01-01.
    """

    meter_id: Sequence[str]
    ts_us: NDArray[np.int64]
    value: NDArray[np.float64]
    unit: Sequence[str]
    quality: str = "good"
    batch_id: str | None = None

    def __len__(self) -> int:
        return len(self.ts_us)

    def rows(self) -> Iterator[Row]:
        """The readings as row tuples in the column order of the readings table."""
        n = len(self)
        quality = [self.quality] * n
        batch = [self.batch_id] * n
        source_ref: list[str | None] = [None] * n
        return zip(
            self.meter_id,
            self.ts_us.tolist(),
            self.value.tolist(),
            self.unit,
            quality,
            batch,
            source_ref,
            strict=True,
        )


@dataclass(frozen=True, slots=True)
class MeterSeries:
    """The raw readings of one meter in timestamp order."""

    meter_id: str
    ts_us: NDArray[np.int64]
    value: NDArray[np.float64]
    unit: list[str]

    def __len__(self) -> int:
        return len(self.ts_us)


@dataclass(frozen=True, slots=True)
class ImportBatch:
    """One run of an import: what was read, what was new, what was quarantined."""

    id: str
    kind: str
    source_ref: str
    file_sha256: str | None
    started_at: datetime
    finished_at: datetime | None
    records: int
    readings_new: int
    readings_duplicate: int
    quarantined: int
    status: str
    readings_sha256: str | None = None
    ledger_index: int | None = None
    mapping_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """An input file kept byte for byte under its SHA-256."""

    sha256: str
    name: str
    media_type: str
    body: bytes


@dataclass(frozen=True, slots=True)
class QuarantinedRecord:
    """A received record that was kept aside with the reason it could not be a reading."""

    id: int
    received_at: datetime
    batch_id: str | None
    source_ref: str
    line: int | None
    meter_id: str | None
    reason: str
    raw: bytes
    resolved_at: datetime | None = None
    resolution: str | None = None

    @property
    def is_conflict(self) -> bool:
        """Whether the record is a value that conflicts with a stored reading."""
        return self.reason.startswith(CONFLICT)


def quarantine_fingerprint(
    source_ref: str, line: int | None, meter_id: str | None, raw: bytes
) -> str:
    """Identity of a quarantined record: the same line of the same source, for the same meter,
    is kept once (a line with two bad cells is two records)."""
    digest = hashlib.sha256()
    for part in (source_ref, str(line), meter_id or ""):
        digest.update(part.encode() + b"\0")
    digest.update(raw)
    return digest.hexdigest()


READINGS_DIGEST_VERSION = b"carbonlink readings v1\n"


def readings_digest(rows: Iterable[tuple[str, int, float, str]]) -> tuple[int, str]:
    """Canonical SHA-256 of a set of readings ``(meter_id, ts_us, value, unit)``; with their count.

    The rows are sorted by meter id (as UTF-8 bytes) and timestamp, so the digest depends on
    what was stored, never on the order a database returns it in. After the version line each
    row is hashed as: meter id (4-byte big-endian length, UTF-8), timestamp (8-byte big-endian
    signed microseconds since 1970 UTC), value (IEEE 754 binary64, big-endian), unit (4-byte
    length, UTF-8). Binary64 is what both SQLite REAL and PostgreSQL double precision keep, so
    the digest is exact: a value changed in its last bit changes it.
    """
    ordered = sorted(
        ((meter.encode(), int(ts), float(value), unit.encode()) for meter, ts, value, unit in rows),
        key=lambda row: (row[0], row[1]),
    )
    digest = hashlib.sha256(READINGS_DIGEST_VERSION)
    for meter, ts, value, unit in ordered:
        digest.update(struct.pack(">I", len(meter)) + meter)
        digest.update(struct.pack(">qd", ts, value))
        digest.update(struct.pack(">I", len(unit)) + unit)
    return len(ordered), digest.hexdigest()


def _overlaps_stored(cursor: Any, columns: ReadingColumns) -> bool:
    """Whether any stored reading lies in the batch's time range of one of its meters."""
    codes, meters = pd.factorize(pd.Series(columns.meter_id, dtype=object))
    lows = np.full(len(meters), np.iinfo(np.int64).max)
    highs = np.full(len(meters), np.iinfo(np.int64).min)
    np.minimum.at(lows, codes, columns.ts_us)
    np.maximum.at(highs, codes, columns.ts_us)
    cursor.execute(_PG_OVERLAP, (list(meters), lows.tolist(), highs.tolist()))
    return bool(cursor.fetchone()[0])


def _chunks(rows: Iterable[Row], size: int) -> Iterator[Iterator[Row]]:
    """Lazy slices of ``size`` rows: the driver pulls each row as it writes it, so no list of
    a million tuples is ever built (and the garbage collector is not set off by one)."""
    iterator = iter(rows)
    while (first := next(iterator, None)) is not None:
        yield chain((first,), islice(iterator, size - 1))


class Store:
    """carbonlink's database: a `ReadingSink` plus repositories that hand out plain objects."""

    def __init__(
        self, engine: Engine, *, chunk_size: int = 500_000, refresh_rollups: bool = True
    ) -> None:
        from carbonlink.store.partitions import PartitionKeeper

        self.engine = engine
        self.chunk_size = chunk_size
        self.backend = engine.dialect.name
        self.partitions = PartitionKeeper(engine)
        self.refresh_rollups = refresh_rollups
        """Whether each write brings the day and month rollups it touched up to date."""
        self.last_path = "insert" if self.backend == "sqlite" else "staging"
        """How the last columnar batch went in (PostgreSQL: "direct copy" or "staging")."""
        self.last_conflicts = 0
        """How many readings of the last write conflicted with a stored one (kept apart)."""

    # --- readings ---------------------------------------------------------------------------

    def add_readings(self, readings: Iterable[Reading]) -> int:
        """Store readings, skipping any (meter, timestamp) already stored; return the new count.

        A reading whose (meter, timestamp) is stored with another value or unit is not stored:
        it is kept in quarantine as a conflict (`conflicts`), for a person to resolve.
        """
        rows = [
            (
                r.meter_id,
                to_epoch_us(r.ts),
                float(r.value),
                r.unit,
                r.quality,
                r.batch_id,
                r.source_ref,
            )
            for r in readings
        ]
        new = self.add_rows(rows)
        self.last_conflicts = 0
        if new < len(rows):
            meter_ids, ts_us, values, units, _, batches, refs = zip(*rows, strict=True)
            self.last_conflicts = self._keep_conflicts(
                list(meter_ids),
                np.asarray(ts_us, dtype=np.int64),
                np.asarray(values, dtype=np.float64),
                list(units),
                list(batches),
                list(refs),
            )
        return new

    def add_reading_columns(self, columns: ReadingColumns) -> int:
        """Store a columnar batch of readings (the bulk path); return how many were new.

        On PostgreSQL a batch whose (meter, time) ranges touch no stored reading is copied
        straight into the table, which is twice as fast as going through the staging table;
        should a duplicate turn up all the same (inside the batch, or from a concurrent
        writer), the copy is rolled back to a savepoint and the batch takes the staging path.
        """
        self.last_conflicts = 0
        if len(columns):
            self.partitions.ensure(int(columns.ts_us.min()), int(columns.ts_us.max()))
        new = self._add_columns(columns)
        self._after_write(new)
        if new < len(columns):
            n = len(columns)
            self.last_conflicts = self._keep_conflicts(
                columns.meter_id,
                columns.ts_us,
                columns.value,
                columns.unit,
                [columns.batch_id] * n,
                [None] * n,
            )
        return new

    def _add_columns(self, columns: ReadingColumns) -> int:
        if self.backend != "postgresql" or len(columns) == 0:
            return self.add_rows(columns.rows())
        from carbonlink.store.pg_copy import binary_copy_blocks

        with self._begin() as connection:
            dbapi: Any = connection.connection.dbapi_connection
            cursor = dbapi.cursor()
            try:
                if not _overlaps_stored(cursor, columns):
                    cursor.execute("SAVEPOINT readings_direct_copy")
                    try:
                        with cursor.copy(_PG_COPY_DIRECT) as copy:
                            for block in binary_copy_blocks(columns):
                                copy.write(block)
                    except psycopg.errors.UniqueViolation:
                        cursor.execute("ROLLBACK TO SAVEPOINT readings_direct_copy")
                    else:
                        cursor.execute("RELEASE SAVEPOINT readings_direct_copy")
                        self.last_path = "direct copy"
                        return len(columns)
                self.last_path = "staging"
                cursor.execute(_PG_STAGING)
                with cursor.copy(_PG_COPY) as copy:
                    for block in binary_copy_blocks(columns):
                        copy.write(block)
                cursor.execute(_PG_MERGE)
                return int(cursor.rowcount)
            finally:
                cursor.close()

    def add_rows(self, rows: Iterable[Row]) -> int:
        """Store reading rows in table column order, chunk by chunk; return how many were new."""
        new = 0
        span = [np.iinfo(np.int64).max, np.iinfo(np.int64).min]

        def watched(chunk: Iterable[Row]) -> Iterator[Row]:
            for row in chunk:
                span[0], span[1] = min(span[0], row[1]), max(span[1], row[1])
                yield row

        for chunk in _chunks(rows, self.chunk_size):
            with self._begin() as connection:
                new += self._insert_chunk(
                    connection, watched(chunk) if self.partitions.partitioned else chunk
                )
        if span[0] <= span[1]:
            # rows of a month without a partition went to the default one; this moves them
            self.partitions.ensure(span[0], span[1])
        self._after_write(new)
        return new

    def _after_write(self, new: int) -> None:
        if new and self.refresh_rollups:
            from carbonlink.store import rollups

            rollups.refresh(self.engine)

    def _insert_chunk(self, connection: Connection, chunk: Iterable[Row]) -> int:
        dbapi: Any = connection.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            if self.backend == "sqlite":
                cursor.executemany(_SQLITE_INSERT, chunk)
                return int(cursor.rowcount)
            cursor.execute(_PG_STAGING)
            with cursor.copy(_PG_COPY) as copy:
                copy.set_types(_PG_COPY_TYPES)
                for row in chunk:
                    copy.write_row(row)
            cursor.execute(_PG_MERGE)
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def _keep_conflicts(
        self,
        meter_ids: Sequence[str],
        ts_us: NDArray[np.int64],
        values: NDArray[np.float64],
        units: Sequence[str],
        batches: Sequence[str | None],
        refs: Sequence[str | None],
    ) -> int:
        """Quarantine the received readings whose (meter, time) is stored with another value or
        unit; return how many conflicts were newly kept."""
        codes, meters = pd.factorize(pd.Series(list(meter_ids), dtype=object))
        unit_of = np.asarray(list(units), dtype=object)
        table = schema.readings
        stamp = type_coerce(table.c.ts, BigInteger)
        found: list[tuple[int, float, str]] = []  # (row, stored value, stored unit)
        with self.engine.connect() as connection:
            for code, meter_id in enumerate(meters):
                rows = np.flatnonzero(codes == code)
                ts = ts_us[rows]
                query = (
                    select(stamp, table.c.value, table.c.unit)
                    .where(
                        table.c.meter_id == meter_id,
                        stamp.between(int(ts.min()), int(ts.max())),
                    )
                    .order_by(stamp)
                )
                stored = connection.execute(query).all()
                if not stored:
                    continue
                columns = zip(*stored, strict=True)
                stored_ts, stored_value, stored_unit = (np.asarray(c) for c in columns)
                at = np.minimum(np.searchsorted(stored_ts, ts), len(stored_ts) - 1)
                same_key = stored_ts[at] == ts
                other = (stored_value[at] != values[rows]) | (
                    stored_unit.astype(object)[at] != unit_of[rows]
                )
                for k in np.flatnonzero(same_key & other):
                    found.append(
                        (int(rows[k]), float(stored_value[at[k]]), str(stored_unit[at[k]]))
                    )
        if not found:
            return 0
        now = datetime.now(UTC)
        kept = []
        for row, old_value, old_unit in found:
            meter_id, value, unit = meter_ids[row], float(values[row]), units[row]
            when = from_epoch_us(int(ts_us[row])).isoformat()
            raw = json.dumps(
                {"meter_id": meter_id, "ts": when, "value": value, "unit": unit}, sort_keys=True
            ).encode()
            source_ref = f"conflict:{meter_id}@{when}"
            kept.append(
                {
                    "fingerprint": quarantine_fingerprint(source_ref, None, meter_id, raw),
                    "received_at": now,
                    "batch_id": batches[row],
                    "source_ref": refs[row] or source_ref,
                    "line": None,
                    "meter_id": meter_id,
                    "reason": (
                        f"{CONFLICT} meter {meter_id} at {when} already has "
                        f"{old_value!r} {old_unit}; this record says {value!r} {unit}. "
                        "The stored value is kept: confirm it, or correct the reading at its "
                        "source and import the correction"
                    ),
                    "raw": raw,
                }
            )
        return self._quarantine_rows(kept)

    def quarantine(self, rejected: Iterable[Rejected], *, batch_id: str | None = None) -> int:
        """Keep rejected records with their reasons; return how many were not already kept."""
        now = datetime.now(UTC)
        rows = []
        for record in rejected:
            line = getattr(record, "line", None)
            rows.append(
                {
                    "fingerprint": quarantine_fingerprint(
                        record.source_ref, line, record.meter_id, record.raw
                    ),
                    "received_at": now,
                    "batch_id": batch_id,
                    "source_ref": record.source_ref,
                    "line": line,
                    "meter_id": record.meter_id,
                    "reason": record.reason,
                    "raw": record.raw,
                }
            )
        return self._quarantine_rows(rows)

    def _quarantine_rows(self, rows: list[dict[str, Any]]) -> int:
        if not rows:
            return 0
        dialect_insert = sqlite.insert if self.backend == "sqlite" else postgresql.insert
        statement = (
            dialect_insert(schema.quarantine)
            .on_conflict_do_nothing()
            .returning(schema.quarantine.c.id)
        )
        kept = 0
        with self._begin() as connection:
            for start in range(0, len(rows), 10_000):
                kept += len(connection.execute(statement, rows[start : start + 10_000]).all())
        return kept

    def reading_count(self, meter_id: str | None = None) -> int:
        """How many raw readings are stored (for one meter, or all)."""
        query = select(func.count()).select_from(schema.readings)
        if meter_id is not None:
            query = query.where(schema.readings.c.meter_id == meter_id)
        with self.engine.connect() as connection:
            return int(connection.execute(query).scalar_one())

    def series(
        self, meter_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> MeterSeries:
        """The raw readings of a meter in timestamp order, optionally within ``[start, end)``."""
        table = schema.readings
        query = (
            select(type_coerce(table.c.ts, BigInteger), table.c.value, table.c.unit)
            .where(table.c.meter_id == meter_id)
            .order_by(table.c.ts)
        )
        if start is not None:
            query = query.where(table.c.ts >= start)
        if end is not None:
            query = query.where(table.c.ts < end)
        with self.engine.connect() as connection:
            # the driver's tuples, not a row object per reading (see `series_values`)
            raw = connection.execute(query).cursor.fetchall()
        if not raw:
            return MeterSeries(meter_id, np.zeros(0, dtype=np.int64), np.zeros(0), [])
        ts, value, unit = zip(*raw, strict=True)
        return MeterSeries(
            meter_id, np.array(ts, dtype=np.int64), np.array(value, dtype=np.float64), list(unit)
        )

    def series_values(
        self, meter_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """A meter's readings in ``[start, end)`` as two arrays (UTC microseconds, values), in
        timestamp order: the bulk read of analytics, without units or row objects."""
        table = schema.readings
        query = (
            select(type_coerce(table.c.ts, BigInteger), table.c.value)
            .where(table.c.meter_id == meter_id)
            .order_by(table.c.ts)
        )
        if start is not None:
            query = query.where(table.c.ts >= start)
        if end is not None:
            query = query.where(table.c.ts < end)
        with self.engine.connect() as connection:
            # the driver's tuples as they are: both columns need no conversion, and a row
            # object per reading costs more than the query itself on a year of quarter hours
            rows = connection.execute(query).cursor.fetchall()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
        ts, value = zip(*rows, strict=True)
        return np.array(ts, dtype=np.int64), np.array(value, dtype=np.float64)

    def reading_extent(self, meter_id: str) -> tuple[datetime | None, datetime | None]:
        """The instants of a meter's first and last stored readings (None, None when none)."""
        table = schema.readings
        query = select(func.min(table.c.ts), func.max(table.c.ts)).where(
            table.c.meter_id == meter_id
        )
        with self.engine.connect() as connection:
            first, last = connection.execute(query).one()
        return first, last

    def meter_batches(self, meter_ids: Iterable[str]) -> list[str]:
        """The import batches that stored readings of the given meters (sorted ids)."""
        table = schema.readings
        wanted = sorted(set(meter_ids))
        if not wanted:
            return []
        query = (
            select(table.c.batch_id)
            .where(table.c.meter_id.in_(wanted), table.c.batch_id.is_not(None))
            .distinct()
        )
        with self.engine.connect() as connection:
            return sorted(connection.execute(query).scalars())

    def quarantined(
        self,
        batch_id: str | None = None,
        *,
        conflicts_only: bool = False,
        unresolved_only: bool = False,
    ) -> list[QuarantinedRecord]:
        """Quarantined records (of one batch, or all), oldest first; optionally only the
        conflicts with stored readings, or only those nobody has resolved yet."""
        table = schema.quarantine
        query = select(table).order_by(table.c.id)
        if batch_id is not None:
            query = query.where(table.c.batch_id == batch_id)
        if conflicts_only:
            query = query.where(table.c.reason.startswith(CONFLICT, autoescape=True))
        if unresolved_only:
            query = query.where(table.c.resolved_at.is_(None))
        with self.engine.connect() as connection:
            return [
                QuarantinedRecord(
                    id=row.id,
                    received_at=row.received_at,
                    batch_id=row.batch_id,
                    source_ref=row.source_ref,
                    line=row.line,
                    meter_id=row.meter_id,
                    reason=row.reason,
                    raw=bytes(row.raw),
                    resolved_at=row.resolved_at,
                    resolution=row.resolution,
                )
                for row in connection.execute(query)
            ]

    def conflicts(self, *, unresolved_only: bool = True) -> list[QuarantinedRecord]:
        """Received values that conflict with a stored reading of the same meter and time."""
        return self.quarantined(conflicts_only=True, unresolved_only=unresolved_only)

    def resolve_quarantined(self, record_id: int, resolution: str) -> None:
        """Record what a person decided about a quarantined record (the record stays)."""
        if not resolution.strip():
            raise StoreError("say what was decided", hint="e.g. 'kept the stored value'")
        table = schema.quarantine
        with self._begin() as connection:
            changed = connection.execute(
                update(table)
                .where(table.c.id == record_id)
                .values(resolved_at=datetime.now(UTC), resolution=resolution.strip())
            ).rowcount
        if not changed:
            raise StoreError(f"no quarantined record {record_id}", hint="list them first")

    # --- plausible windows ------------------------------------------------------------------

    def save_reading_window(
        self,
        meter_id: str,
        *,
        valid_from: datetime | None = None,
        max_future_skew: timedelta | None = None,
    ) -> None:
        """Set the plausible window of a meter's reading times (None: the default bound)."""
        skew = None if max_future_skew is None else int(max_future_skew.total_seconds())
        if skew is not None and skew < 0:
            raise StoreError("max_future_skew cannot be negative", record=meter_id)
        self._upsert(
            schema.reading_windows,
            {"id": meter_id, "valid_from": valid_from, "max_future_skew_s": skew},
            key="meter_id",
        )

    def reading_windows(self) -> dict[str, tuple[datetime | None, timedelta | None]]:
        """Each meter's own window bounds: (valid_from, max_future_skew), None for default."""
        table = schema.reading_windows
        with self.engine.connect() as connection:
            rows = connection.execute(select(table)).all()
        return {
            row.meter_id: (
                row.valid_from,
                None if row.max_future_skew_s is None else timedelta(seconds=row.max_future_skew_s),
            )
            for row in rows
        }

    # --- import batches ---------------------------------------------------------------------

    def begin_batch(
        self,
        kind: str,
        source_ref: str,
        *,
        file_sha256: str | None = None,
        mapping_sha256: str | None = None,
    ) -> str:
        """Register the start of an import and return its batch id."""
        batch_id = str(uuid.uuid4())
        with self._begin() as connection:
            connection.execute(
                schema.import_batches.insert().values(
                    id=batch_id,
                    kind=kind,
                    source_ref=source_ref,
                    file_sha256=file_sha256,
                    mapping_sha256=mapping_sha256,
                    started_at=datetime.now(UTC),
                )
            )
        return batch_id

    def finish_batch(
        self,
        batch_id: str,
        *,
        records: int,
        readings_new: int,
        readings_duplicate: int,
        quarantined: int,
        status: str = "finished",
    ) -> None:
        """Record the counts and the end of an import."""
        with self._begin() as connection:
            connection.execute(
                update(schema.import_batches)
                .where(schema.import_batches.c.id == batch_id)
                .values(
                    finished_at=datetime.now(UTC),
                    records=records,
                    readings_new=readings_new,
                    readings_duplicate=readings_duplicate,
                    quarantined=quarantined,
                    status=status,
                )
            )

    def batch(self, batch_id: str) -> ImportBatch:
        """One import batch by id."""
        table = schema.import_batches
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == batch_id)).one_or_none()
        if row is None:
            raise StoreError(f"no import batch {batch_id!r}", hint="list batches with the CLI")
        return ImportBatch(
            id=row.id,
            kind=row.kind,
            source_ref=row.source_ref,
            file_sha256=row.file_sha256,
            started_at=row.started_at,
            finished_at=row.finished_at,
            records=row.records,
            readings_new=row.readings_new,
            readings_duplicate=row.readings_duplicate,
            quarantined=row.quarantined,
            status=row.status,
            readings_sha256=row.readings_sha256,
            ledger_index=row.ledger_index,
            mapping_sha256=row.mapping_sha256,
        )

    def unledgered_batches(self) -> list[str]:
        """Ids of the import batches no ledger entry covers yet, oldest first (an import that
        was killed, or a write that stopped between storing and recording)."""
        table = schema.import_batches
        query = (
            select(table.c.id).where(table.c.ledger_index.is_(None)).order_by(table.c.started_at)
        )
        with self.engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def close_interrupted_batch(self, batch_id: str) -> None:
        """Give a batch left 'running' by a killed import its true counts and the status
        'interrupted' (what it stored stays stored)."""
        table = schema.import_batches
        readings = schema.readings
        with self._begin() as connection:
            stored = connection.execute(
                select(func.count()).select_from(readings).where(readings.c.batch_id == batch_id)
            ).scalar_one()
            kept = connection.execute(
                select(func.count())
                .select_from(schema.quarantine)
                .where(schema.quarantine.c.batch_id == batch_id)
            ).scalar_one()
            connection.execute(
                update(table)
                .where(table.c.id == batch_id, table.c.status == "running")
                .values(
                    finished_at=datetime.now(UTC),
                    readings_new=stored,
                    quarantined=kept,
                    records=stored + kept,
                    status="interrupted",
                )
            )

    def adopt_stray_readings(self) -> list[str]:
        """Put readings that belong to no import batch into batches, so a ledger entry can
        cover them; return the ids of the batches made.

        Readings stored without a batch id get one new batch; readings whose batch id names
        no import batch (a client's label, from before posted batches were recorded) get a
        batch of that id. The raw hash of such a batch is the digest of its readings, since
        what was received was not kept.
        """
        readings = schema.readings
        batches = schema.import_batches
        made: list[str] = []
        with self._begin() as connection:
            if connection.execute(
                select(readings.c.meter_id).where(readings.c.batch_id.is_(None)).limit(1)
            ).first():
                batch_id = str(uuid.uuid4())
                connection.execute(
                    update(readings).where(readings.c.batch_id.is_(None)).values(batch_id=batch_id)
                )
                made.append(batch_id)
            known = select(batches.c.id)
            labels = connection.execute(
                select(readings.c.batch_id)
                .where(readings.c.batch_id.is_not(None), readings.c.batch_id.not_in(known))
                .distinct()
            ).scalars()
            made.extend(label for label in labels if label not in made)
        for batch_id in made:
            count, digest = self.batch_readings_digest(batch_id)
            with self._begin() as connection:
                connection.execute(
                    batches.insert().values(
                        id=batch_id,
                        kind="recovered",
                        source_ref="readings stored outside an import batch",
                        file_sha256=digest,
                        started_at=datetime.now(UTC),
                        finished_at=datetime.now(UTC),
                        records=count,
                        readings_new=count,
                        status="recovered",
                    )
                )
        return made

    def batch_readings_digest(self, batch_id: str) -> tuple[int, str]:
        """Count and canonical digest (`readings_digest`) of the readings a batch stored."""
        table = schema.readings
        query = select(
            table.c.meter_id, type_coerce(table.c.ts, BigInteger), table.c.value, table.c.unit
        ).where(table.c.batch_id == batch_id)
        with self.engine.connect() as connection:
            return readings_digest(tuple(row) for row in connection.execute(query))

    def link_batch(self, batch_id: str, *, readings_sha256: str, ledger_index: int) -> None:
        """Record on a batch its readings digest and the index of its ledger entry."""
        table = schema.import_batches
        with self._begin() as connection:
            changed = connection.execute(
                update(table)
                .where(table.c.id == batch_id)
                .values(readings_sha256=readings_sha256, ledger_index=ledger_index)
            ).rowcount
        if not changed:
            raise StoreError(f"no import batch {batch_id!r}", hint="list batches with the CLI")

    def batch_ledger_indices(self, batch_ids: Iterable[str]) -> dict[str, int | None]:
        """The ledger entry index of each named batch (None: not recorded in the ledger)."""
        table = schema.import_batches
        wanted = sorted(set(batch_ids))
        if not wanted:
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(table.c.id, table.c.ledger_index).where(table.c.id.in_(wanted))
            ).all()
        return {row.id: row.ledger_index for row in rows}

    # --- documents --------------------------------------------------------------------------

    def save_document(self, name: str, body: bytes, media_type: str = "text/plain") -> str:
        """Keep an input file under its SHA-256 (once); return the digest."""
        digest = hashlib.sha256(body).hexdigest()
        dialect_insert = sqlite.insert if self.backend == "sqlite" else postgresql.insert
        statement = (
            dialect_insert(schema.documents)
            .values(
                sha256=digest,
                name=name,
                media_type=media_type,
                body=body,
                stored_at=datetime.now(UTC),
            )
            .on_conflict_do_nothing()
        )
        with self._begin() as connection:
            connection.execute(statement)
        return digest

    def document(self, sha256: str) -> StoredDocument:
        """A kept input file by its SHA-256."""
        table = schema.documents
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.sha256 == sha256)).one_or_none()
        if row is None:
            raise StoreError(
                f"no stored document with SHA-256 {sha256}",
                hint="the input file was never stored, or was deleted from the documents table",
            )
        return StoredDocument(row.sha256, row.name, row.media_type, bytes(row.body))

    # --- organizations, facilities, sources, meters -----------------------------------------

    def save_organization(self, organization: Organization) -> None:
        """Add an organization, or update it when its id exists."""
        self._upsert(schema.organizations, _fields(organization))

    def save_facility(self, facility: Facility) -> None:
        """Add a facility, or update it when its id exists."""
        self._upsert(schema.facilities, _fields(facility))

    def save_source(self, source: Source) -> None:
        """Add a source, or update it when its id exists."""
        self._upsert(schema.sources, _fields(source))

    def save_meter(self, meter: Meter) -> None:
        """Add a meter, or update its description when its id exists."""
        self._upsert(schema.meters, _fields(meter))

    def meters(self) -> dict[str, Meter]:
        """Every meter, by id."""
        with self.engine.connect() as connection:
            rows = connection.execute(select(schema.meters)).mappings().all()
        return {row["id"]: Meter(**dict(row)) for row in rows}

    def meter(self, meter_id: str) -> Meter | None:
        """One meter, or None when no meter has that id."""
        table = schema.meters
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == meter_id)).mappings().first()
        return None if row is None else Meter(**dict(row))

    def facility(self, facility_id: str) -> Facility | None:
        """One facility, or None."""
        table = schema.facilities
        with self.engine.connect() as connection:
            row = connection.execute(select(table).where(table.c.id == facility_id)).mappings()
            first = row.first()
        if first is None:
            return None
        return Facility(**{**dict(first), "time_zone": usable_zone(first["time_zone"])})

    # --- activity ---------------------------------------------------------------------------

    def save_activity(self, records: Iterable[MeteredActivity], *, input_digest: str) -> int:
        """Store derived activity; a record for a period already derived from other inputs
        supersedes it (the old row stays). Returns how many rows were new."""
        table = schema.activity
        now = datetime.now(UTC)
        new = 0
        with self._begin() as connection:
            for record in records:
                start, end = (
                    from_epoch_us(record.period_start_us),
                    from_epoch_us(record.period_end_us),
                )
                key = (
                    (table.c.meter_id == record.meter_id)
                    & (table.c.period_start == start)
                    & (table.c.period_end == end)
                )
                exists = connection.execute(
                    select(table.c.id).where(key & (table.c.input_digest == input_digest))
                ).first()
                if exists is not None:
                    continue
                previous = connection.execute(
                    select(func.max(table.c.id)).where(key)
                ).scalar_one_or_none()
                connection.execute(
                    table.insert().values(
                        meter_id=record.meter_id,
                        source_id=record.source_id,
                        period_start=start,
                        period_end=end,
                        period_label=record.label,
                        quantity=record.quantity,
                        unit=record.unit,
                        estimated_quantity=record.estimated_quantity,
                        intervals=record.intervals,
                        intervals_estimated=record.intervals_estimated,
                        rules=",".join(record.rules),
                        input_digest=input_digest,
                        supersedes=previous,
                        derived_at=now,
                    )
                )
                new += 1
        return new

    def activity(self, meter_id: str | None = None) -> list[MeteredActivity]:
        """The current activity records (superseded ones left out), by meter and period."""
        table = schema.activity
        superseded = select(table.c.supersedes).where(table.c.supersedes.is_not(None))
        query = (
            select(table)
            .where(table.c.id.not_in(superseded))
            .order_by(table.c.meter_id, table.c.period_start, table.c.period_end)
        )
        if meter_id is not None:
            query = query.where(table.c.meter_id == meter_id)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [
            MeteredActivity(
                meter_id=row.meter_id,
                period_start_us=to_epoch_us(row.period_start),
                period_end_us=to_epoch_us(row.period_end),
                label=row.period_label,
                quantity=row.quantity,
                unit=row.unit,
                intervals=row.intervals,
                estimated_quantity=row.estimated_quantity,
                intervals_estimated=row.intervals_estimated,
                rules=tuple(rule for rule in row.rules.split(",") if rule),
                source_id=row.source_id,
            )
            for row in rows
        ]

    # --- plumbing ---------------------------------------------------------------------------

    def _begin(self) -> Any:
        try:
            return self.engine.begin()
        except OperationalError as exc:
            raise StoreError(
                f"cannot open the database {self.engine.url!r}: {exc.orig}",
                hint="check the database URL and that the server is running",
            ) from exc

    def _upsert(self, table: Any, values: dict[str, Any], key: str = "id") -> None:
        if key != "id":
            values = {key if k == "id" else k: v for k, v in values.items()}
        dialect_insert = sqlite.insert if self.backend == "sqlite" else postgresql.insert
        statement = dialect_insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c[key]],
            set_={k: v for k, v in values.items() if k != key},
        )
        with self._begin() as connection:
            connection.execute(statement)


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}
