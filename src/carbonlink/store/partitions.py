"""Monthly partitions of the readings table on PostgreSQL: created ahead, detached when old.

The readings table is declared ``PARTITION BY RANGE (ts)`` (PostgreSQL documentation, "Table
Partitioning"); ``ts`` is in its primary key ``(meter_id, ts)``, as a partitioned table requires
of every unique constraint. Each calendar month of UTC is one partition,
``reading_partitions.readings_YYYY_MM``, bounded by the month's first microsecond (inclusive)
and the next month's (exclusive). A default partition takes any reading whose month has no
partition yet, so that a writer never fails for want of one; creating the month later moves
those rows over. The partitions live in a schema of their own (``reading_partitions`` beside
``public``, ``<schema>_partitions`` beside any other schema the readings table is in), so the
application's schema shows the one logical table. SQLite keeps a plain table; every function
here leaves it alone.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from carbonlink.errors import InputError, StoreError
from carbonlink.store.schema import to_epoch_us

SCHEMA = "reading_partitions"
FIRST_MONTH = date(1900, 1, 1)
LAST_MONTH = date(2199, 12, 1)
_LOCK = 0x63_6C_72_70  # advisory lock key: one session changes the partitions at a time
_NAME = re.compile(r"^readings_(\d{4})_(\d{2})$")


@dataclass(frozen=True, slots=True)
class Partition:
    """One month's partition: its table, the month, and its row estimate."""

    name: str
    month: date
    rows: int


def month_of(ts_us: int) -> date:
    """The first day of the UTC month holding the instant."""
    moment = datetime.fromtimestamp(ts_us / 1_000_000, UTC)
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def bounds(month: date) -> tuple[int, int]:
    """The microsecond range [from, to) of a UTC month."""
    start = datetime(month.year, month.month, 1, tzinfo=UTC)
    end = next_month(month)
    return to_epoch_us(start), to_epoch_us(datetime(end.year, end.month, 1, tzinfo=UTC))


def table_name(month: date) -> str:
    return f"readings_{month.year:04d}_{month.month:02d}"


def parse_month(value: str) -> date:
    """``YYYY-MM`` as the first day of that month; InputError naming the value otherwise."""
    try:
        year, month = value.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise InputError(
            f"{value!r} is not a month", hint="write the month as YYYY-MM, e.g. 2025-01"
        ) from None


def partition_schema(connection: Connection) -> str:
    """The schema that holds the partitions of the readings table of the current schema."""
    current = connection.execute(text("SELECT current_schema()")).scalar()
    return SCHEMA if current in (None, "public") else f"{current}_partitions"


def is_partitioned(connection: Connection) -> bool:
    if connection.dialect.name != "postgresql":
        return False
    found = connection.execute(
        text(
            "SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
            "WHERE c.oid = to_regclass('readings')"
        )
    ).first()
    return found is not None


def partitions(connection: Connection) -> list[Partition]:
    """The monthly partitions attached to the readings table, oldest first."""
    if not is_partitioned(connection):
        return []
    rows = connection.execute(
        text(
            "SELECT c.relname, greatest(c.reltuples, 0)::bigint FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = to_regclass('readings')"
        )
    ).all()
    out = []
    for name, estimate in rows:
        match = _NAME.match(name)
        if match:
            out.append(Partition(name, date(int(match[1]), int(match[2]), 1), int(estimate)))
    return sorted(out, key=lambda p: p.month)


def create_month(connection: Connection, month: date) -> bool:
    """Create the partition of ``month`` unless it exists; True when it was created.

    Readings of that month already kept in the default partition are moved into it: the new
    table is filled first and attached afterwards, since PostgreSQL refuses a partition whose
    range the default partition still holds rows of.
    """
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    name = table_name(month)
    if any(p.name == name for p in partitions(connection)):
        return False
    low, high = bounds(month)
    schema = partition_schema(connection)
    qualified = f'"{schema}".{name}'
    default = f'"{schema}".readings_default'
    held = connection.execute(
        text(f"SELECT EXISTS (SELECT 1 FROM {default} WHERE ts >= :lo AND ts < :hi)"),
        {"lo": low, "hi": high},
    ).scalar()
    if not held:
        connection.execute(
            text(
                f"CREATE TABLE {qualified} PARTITION OF readings "
                f"FOR VALUES FROM ({low}) TO ({high})"
            )
        )
        return True
    connection.execute(
        text(f"CREATE TABLE {qualified} (LIKE readings INCLUDING DEFAULTS INCLUDING CONSTRAINTS)")
    )
    # A check constraint matching the bounds spares ATTACH its validating scan.
    connection.execute(
        text(
            f"ALTER TABLE {qualified} ADD CONSTRAINT {name}_range "
            f"CHECK (ts IS NOT NULL AND ts >= {low} AND ts < {high})"
        )
    )
    connection.execute(
        text(
            f"WITH moved AS (DELETE FROM {default} WHERE ts >= :lo AND ts < :hi RETURNING *) "
            f"INSERT INTO {qualified} SELECT * FROM moved"
        ),
        {"lo": low, "hi": high},
    )
    connection.execute(
        text(
            f"ALTER TABLE readings ATTACH PARTITION {qualified} FOR VALUES FROM ({low}) TO ({high})"
        )
    )
    connection.execute(text(f"ALTER TABLE {qualified} DROP CONSTRAINT {name}_range"))
    return True


class PartitionKeeper:
    """Makes sure the months a write touches have their partitions (cached per process)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.known: set[date] | None = None
        self.partitioned = engine.dialect.name == "postgresql"

    def ensure(self, low_us: int, high_us: int) -> list[date]:
        """Create the missing partitions of the months from ``low_us`` to ``high_us``."""
        if not self.partitioned:
            return []
        if self.known is None:
            with self.engine.connect() as connection:
                self.partitioned = is_partitioned(connection)
                self.known = {p.month for p in partitions(connection)}
            if not self.partitioned:
                return []
        # months beyond these stay in the default partition (a year-1 null date, say)
        month = max(month_of(low_us), FIRST_MONTH)
        last = min(month_of(high_us), LAST_MONTH)
        wanted = []
        while month <= last:
            if month not in self.known:
                wanted.append(month)
            month = next_month(month)
        created = []
        for month in wanted:
            with self.engine.begin() as connection:
                if create_month(connection, month):
                    created.append(month)
            self.known.add(month)
        return created


def create_ahead(engine: Engine, ahead: int, today: date | None = None) -> list[date]:
    """Create the partitions of this month and the ``ahead`` months after it."""
    month = (today or datetime.now(UTC).date()).replace(day=1)
    created = []
    with engine.begin() as connection:
        if not is_partitioned(connection):
            return []
        for _ in range(ahead + 1):
            if create_month(connection, month):
                created.append(month)
            month = next_month(month)
    return created


def detach_before(
    engine: Engine, before: date, out: Path, *, drop: bool = False, tablespace: str | None = None
) -> list[dict[str, Any]]:
    """Write each partition of a month before ``before`` to ``out`` and detach it.

    Each partition becomes ``readings_YYYY_MM.copy.gz``, PostgreSQL's binary COPY format
    compressed with gzip, and a ``.json`` beside it with the row count and the file's SHA-256.
    The file is read back and counted before the partition is detached. The detached table is
    kept (moved to ``tablespace`` when one is named) unless ``drop`` is given. Rollups are left
    as they are, so dashboards keep showing the detached months.
    """
    out.mkdir(parents=True, exist_ok=True)
    done: list[dict[str, Any]] = []
    with engine.connect() as connection:
        old = [p for p in partitions(connection) if p.month < before]
        schema = partition_schema(connection)
    for part in old:
        qualified = f'"{schema}".{part.name}'
        target = out / f"{part.name}.copy.gz"
        raw = engine.raw_connection()
        try:
            cursor: Any = raw.cursor()
            with (
                gzip.open(target, "wb") as sink,
                cursor.copy(f"COPY {qualified} TO STDOUT (FORMAT BINARY)") as copy,
            ):
                for block in copy:
                    sink.write(block)
            cursor.execute(f"SELECT count(*) FROM {qualified}")
            rows = int(cursor.fetchone()[0])
            raw.commit()
        finally:
            raw.close()
        digest = hashlib.sha256(target.read_bytes()).hexdigest()
        with gzip.open(target, "rb") as check:
            body = check.read()
        if not body.startswith(b"PGCOPY\n\xff\r\n\x00"):
            raise StoreError(f"the copy of {qualified} in {target} is unreadable; nothing detached")
        manifest = {
            "partition": qualified,
            "month": part.month.isoformat()[:7],
            "rows": rows,
            "file": target.name,
            "sha256": digest,
            "format": "PostgreSQL binary COPY, gzip",
            "columns": ["meter_id", "ts", "value", "unit", "quality", "batch_id", "source_ref"],
        }
        (out / f"{part.name}.json").write_text(json.dumps(manifest, indent=2) + "\n")
        with engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE readings DETACH PARTITION {qualified}"))
            if drop:
                connection.execute(text(f"DROP TABLE {qualified}"))
            elif tablespace:
                connection.execute(text(f'ALTER TABLE {qualified} SET TABLESPACE "{tablespace}"'))
        done.append(manifest)
    return done
