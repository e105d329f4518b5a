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
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
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
from carbonlink.errors import StoreError
from carbonlink.store import schema
from carbonlink.store.schema import from_epoch_us, to_epoch_us

if TYPE_CHECKING:
    from carbonlink.ingest.base import Reading, Rejected

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

    def __init__(self, engine: Engine, *, chunk_size: int = 500_000) -> None:
        self.engine = engine
        self.chunk_size = chunk_size
        self.backend = engine.dialect.name
        self.last_path = "insert" if self.backend == "sqlite" else "staging"
        """How the last columnar batch went in (PostgreSQL: "direct copy" or "staging")."""

    # --- readings ---------------------------------------------------------------------------

    def add_readings(self, readings: Iterable[Reading]) -> int:
        """Store readings, skipping any (meter, timestamp) already stored; return the new count."""
        rows = (
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
        )
        return self.add_rows(rows)

    def add_reading_columns(self, columns: ReadingColumns) -> int:
        """Store a columnar batch of readings (the bulk path); return how many were new.

        On PostgreSQL a batch whose (meter, time) ranges touch no stored reading is copied
        straight into the table, which is twice as fast as going through the staging table;
        should a duplicate turn up all the same (inside the batch, or from a concurrent
        writer), the copy is rolled back to a savepoint and the batch takes the staging path.
        """
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
        for chunk in _chunks(rows, self.chunk_size):
            with self._begin() as connection:
                new += self._insert_chunk(connection, chunk)
        return new

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
            raw = connection.execute(query).all()
        ts = np.fromiter((row[0] for row in raw), dtype=np.int64, count=len(raw))
        value = np.fromiter((row[1] for row in raw), dtype=np.float64, count=len(raw))
        return MeterSeries(meter_id, ts, value, [row[2] for row in raw])

    def quarantined(self, batch_id: str | None = None) -> list[QuarantinedRecord]:
        """Quarantined records (of one batch, or all), oldest first."""
        table = schema.quarantine
        query = select(table).order_by(table.c.id)
        if batch_id is not None:
            query = query.where(table.c.batch_id == batch_id)
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
                )
                for row in connection.execute(query)
            ]

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
        )

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
        return None if first is None else Facility(**dict(first))

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

    def _upsert(self, table: Any, values: dict[str, Any]) -> None:
        dialect_insert = sqlite.insert if self.backend == "sqlite" else postgresql.insert
        statement = dialect_insert(table).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[table.c.id],
            set_={k: v for k, v in values.items() if k != "id"},
        )
        with self._begin() as connection:
            connection.execute(statement)


def _fields(record: Any) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}
