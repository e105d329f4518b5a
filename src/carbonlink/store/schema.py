"""The relational schema of carbonlink's store, as SQLAlchemy Core tables.

Time-series tables (readings, activity, quarantine) carry the meter or source and the timestamp in
their key, so they can later be partitioned by time and sharded by meter without a schema change.
Instants are stored as whole microseconds since 1970-01-01 UTC in a 64-bit integer: the same on
SQLite and PostgreSQL, cheap to compare and to bulk-load, and free of any session time zone.
Other packages add their tables to their own ``MetaData`` and their own Alembic revisions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def to_epoch_us(ts: datetime) -> int:
    """Whole microseconds since the Unix epoch of an aware instant."""
    if ts.tzinfo is None:
        raise ValueError(f"naive datetime {ts.isoformat()} has no time zone; give it one (UTC)")
    delta = ts - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_epoch_us(value: int) -> datetime:
    """The UTC instant of a count of microseconds since the Unix epoch."""
    return EPOCH + timedelta(microseconds=int(value))


class UtcTimestamp(TypeDecorator[datetime]):
    """An aware instant stored as microseconds since 1970-01-01 UTC (BIGINT)."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> int | None:
        return None if value is None else to_epoch_us(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return None if value is None else from_epoch_us(value)


organizations = Table(
    "organizations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", Text, nullable=False),
    Column("country", String(2)),
)

facilities = Table(
    "facilities",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("organization_id", ForeignKey("organizations.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("time_zone", String(64), nullable=False, comment="IANA time zone, e.g. Asia/Seoul"),
    Column("grid_region", String(64), comment="electricity grid the site draws from"),
    Column("address", Text),
)

sources = Table(
    "sources",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("facility_id", ForeignKey("facilities.id"), nullable=False),
    Column("name", Text, nullable=False),
    Column("kind", String(32), nullable=False, comment="e.g. electricity, combustion, process"),
)

meters = Table(
    "meters",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("facility_id", ForeignKey("facilities.id")),
    Column("source_id", ForeignKey("sources.id")),
    Column("name", Text),
    Column("kind", String(16), nullable=False),
    Column("unit", String(32), nullable=False),
    Column("multiplier", Float, nullable=False, server_default="1"),
    Column("rollover_max", Float, comment="largest value a register shows before it wraps to 0"),
    Column("time_zone", String(64), nullable=False, server_default="UTC"),
    Column("labelling", String(8), nullable=False, server_default="end"),
    Column("interval_s", Integer, comment="nominal interval length, seconds"),
    Column("min_value", Float, comment="plausibility: smallest credible reading"),
    Column("max_value", Float, comment="plausibility: largest credible reading"),
    Column("max_interval_quantity", Float, comment="plausibility: largest credible consumption"),
    CheckConstraint("kind IN ('register', 'interval')", name="kind"),
    CheckConstraint("labelling IN ('start', 'end')", name="labelling"),
)

import_batches = Table(
    "import_batches",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("kind", String(16), nullable=False, comment="csv, xlsx, mqtt, sparkplug, opcua, http"),
    Column("source_ref", Text, nullable=False, comment="file name or stream address"),
    Column("file_sha256", String(64)),
    Column("mapping_sha256", String(64)),
    Column("started_at", UtcTimestamp, nullable=False),
    Column("finished_at", UtcTimestamp),
    Column("records", Integer, nullable=False, server_default="0"),
    Column("readings_new", Integer, nullable=False, server_default="0"),
    Column("readings_duplicate", Integer, nullable=False, server_default="0"),
    Column("quarantined", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False, server_default="running"),
    Column(
        "readings_sha256",
        String(64),
        comment="canonical digest of the readings the batch stored",
    ),
    Column(
        "ledger_index",
        BigInteger,
        comment="index of the batch's import-batch entry in the ledger",
    ),
)

readings = Table(
    "readings",
    metadata,
    Column("meter_id", String(64), nullable=False),
    Column("ts", UtcTimestamp, nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("quality", String(16), nullable=False, server_default="good"),
    Column("batch_id", String(36)),
    Column("source_ref", Text),
    PrimaryKeyConstraint("meter_id", "ts"),
    Index("ix_readings_batch", "batch_id"),
    sqlite_with_rowid=False,
    postgresql_partition_by="RANGE (ts)",
)
"""Raw readings. On PostgreSQL the table is partitioned by month of ``ts`` (the partitions live in
the ``reading_partitions`` schema, see `carbonlink.store.partitions`); SQLite keeps one table."""

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False, comment="sha256 of source, line and bytes"),
    Column("received_at", UtcTimestamp, nullable=False),
    Column("batch_id", String(36)),
    Column("source_ref", Text, nullable=False),
    Column("line", Integer),
    Column("meter_id", String(64)),
    Column("reason", Text, nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("resolved_at", UtcTimestamp, comment="when a person decided what to do with it"),
    Column("resolution", Text, comment="what was decided, in words"),
    UniqueConstraint("fingerprint"),
    Index("ix_quarantine_batch", "batch_id"),
)

activity = Table(
    "activity",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("meter_id", String(64), nullable=False),
    Column("source_id", String(64)),
    Column("period_start", UtcTimestamp, nullable=False),
    Column("period_end", UtcTimestamp, nullable=False),
    Column("period_label", String(32), nullable=False, comment="local label, e.g. 2018-03"),
    Column("quantity", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("estimated_quantity", Float, nullable=False, server_default="0"),
    Column("intervals", Integer, nullable=False),
    Column("intervals_estimated", Integer, nullable=False, server_default="0"),
    Column("rules", Text, nullable=False, server_default="", comment="estimation rules used"),
    Column("input_digest", String(64), nullable=False, comment="sha256 of readings and rules"),
    Column("supersedes", ForeignKey("activity.id")),
    Column("derived_at", UtcTimestamp, nullable=False),
    UniqueConstraint(
        "meter_id", "period_start", "period_end", "input_digest", name="uq_activity_natural"
    ),
)

reading_windows = Table(
    "reading_windows",
    metadata,
    Column("meter_id", String(64), primary_key=True),
    Column("valid_from", UtcTimestamp, comment="earliest plausible time of a reading"),
    Column("max_future_skew_s", BigInteger, comment="seconds a reading may lie ahead of now"),
)
"""Per-meter plausible windows of reading times (meters without a row use the default)."""

reading_rollups = Table(
    "reading_rollups",
    metadata,
    Column("meter_id", String(64), nullable=False),
    Column("period", String(8), nullable=False, comment="day or month"),
    Column("start", String(10), nullable=False, comment="local date the bucket starts on"),
    Column("zone", String(64), nullable=False, comment="IANA zone of the local calendar"),
    Column("count", BigInteger, nullable=False),
    Column("estimated", BigInteger, nullable=False, comment="readings of quality 'estimated'"),
    Column("total", Float, nullable=False, comment="sum of the values, correctly rounded"),
    Column("total_exact", Text, nullable=False, comment="exact decimal sum of the values"),
    Column("low", Float, nullable=False),
    Column("high", Float, nullable=False),
    Column(
        "first_count", Integer, nullable=False, comment="readings at the bucket's first instant"
    ),
    Column("first_exact", Text, nullable=False, comment="exact sum of those readings"),
    Column("first_estimated", Integer, nullable=False),
    Column("end_count", BigInteger, comment="month: readings of end-stamped intervals in it"),
    Column("end_estimated", BigInteger, comment="month: estimated ones among them"),
    Column("end_total", Float, comment="month: their sum, correctly rounded"),
    PrimaryKeyConstraint("meter_id", "period", "start"),
    CheckConstraint("period IN ('day', 'month')", name="period"),
    Index("ix_reading_rollups_period", "period", "meter_id"),
)
"""Day and month summaries of each meter's readings in the local calendar of its facility
(`carbonlink.store.rollups`), so that long ranges are answered without scanning raw readings."""

reading_rollup_pending = Table(
    "reading_rollup_pending",
    metadata,
    Column("meter_id", String(64), nullable=False),
    Column("utc_day", BigInteger, nullable=False, comment="ts // 86 400 000 000 of a change"),
    PrimaryKeyConstraint("meter_id", "utc_day"),
)
"""Days of readings written or deleted since their rollups were last brought up to date (filled
by a trigger on the readings table, emptied by `carbonlink.store.rollups.refresh`)."""

documents = Table(
    "documents",
    metadata,
    Column("sha256", String(64), primary_key=True, comment="SHA-256 of the body"),
    Column("name", Text, nullable=False, comment="file name it was read from"),
    Column("media_type", String(255), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("stored_at", UtcTimestamp, nullable=False),
)
"""Input files (inventories, factor tables) kept byte for byte under their SHA-256, so that a
calculation the ledger records can be re-run from exactly what it read."""

__all__ = [
    "EPOCH",
    "UtcTimestamp",
    "activity",
    "documents",
    "facilities",
    "from_epoch_us",
    "import_batches",
    "metadata",
    "meters",
    "organizations",
    "quarantine",
    "reading_rollup_pending",
    "reading_rollups",
    "reading_windows",
    "readings",
    "sources",
    "to_epoch_us",
]
