"""Writing one consumed batch of readings in one transaction, telling new rows from copies.

`BatchWriter.write` is what an ingest worker calls for each batch it fetched from the log:
the rejected records go to quarantine, the readings into the readings table, skipping any
(meter, timestamp) already stored, and a hook sees — inside the same transaction — exactly the
readings that were new. The caller acknowledges the batch to the log only after `write` has
returned (committed), so a redelivered batch finds its rows stored and its hook is not run a
second time for them.

PostgreSQL: the rows are copied (binary ``COPY``) into a temporary table, then
``INSERT … SELECT … ORDER BY meter_id, ts ON CONFLICT (meter_id, ts) DO NOTHING RETURNING``:
plain inserts into ``readings``, so the same statement serves a table partitioned by time.
The sorted order makes concurrent writers take row locks in the same order. SQLite: batched
``INSERT OR IGNORE … RETURNING``.

A reading whose key is stored with another value or unit is not overwritten; after the commit
it is kept in quarantine as a conflict, as every other way in does (`Store.add_readings`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, Engine
from sqlalchemy.dialects import postgresql, sqlite

from carbonlink.store import schema
from carbonlink.store.repository import Store, quarantine_fingerprint
from carbonlink.store.schema import to_epoch_us

if TYPE_CHECKING:
    from carbonlink.ingest.base import Reading, Rejected

READING_COLUMNS = ("meter_id", "ts", "value", "unit", "quality", "batch_id", "source_ref")
_STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS ingest_staging "
    "(meter_id text, ts bigint, value double precision, unit text, quality text, "
    "batch_id text, source_ref text) ON COMMIT DELETE ROWS"
)
_COPY = (
    "COPY ingest_staging (meter_id, ts, value, unit, quality, batch_id, source_ref) "
    "FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = ("text", "int8", "float8", "text", "text", "text", "text")
_MERGE = (
    "INSERT INTO readings (meter_id, ts, value, unit, quality, batch_id, source_ref) "
    "SELECT meter_id, ts, value, unit, quality, batch_id, source_ref FROM ingest_staging "
    "ORDER BY meter_id, ts ON CONFLICT (meter_id, ts) DO NOTHING RETURNING meter_id, ts, value"
)
_SQLITE_ROWS = 1000

Row = tuple[str, int, float, str, str, str | None, str | None]
NewReadings = list[tuple[str, int, float]]
"""(meter id, microseconds since 1970 UTC, value) of each reading a write stored."""

BeforeHook = Callable[[Connection, Sequence[str]], None]
AfterHook = Callable[[Connection, NewReadings], int]


@dataclass(frozen=True)
class WriteResult:
    """What one write did."""

    received: int
    new: int
    quarantined: int
    conflicts: int
    alerts_opened: int = 0

    @property
    def duplicates(self) -> int:
        """Readings already stored (a redelivery, or the same reading sent twice)."""
        return self.received - self.new


class BatchWriter:
    """Stores batches of readings and rejected records, each in one transaction."""

    def __init__(
        self,
        engine: Engine,
        *,
        before: BeforeHook | None = None,
        after: AfterHook | None = None,
    ) -> None:
        """``before(connection, meter ids)`` runs first in the transaction (e.g. to take
        per-meter locks); ``after(connection, new readings)`` runs once they are inserted and
        returns a count (alerts opened)."""
        self.engine = engine
        self.backend = engine.dialect.name
        self.before = before
        self.after = after
        self._store = Store(engine)

    def write(self, readings: Sequence[Reading], rejected: Sequence[Rejected]) -> WriteResult:
        """Store one batch and commit; return what was new."""
        rows: list[Row] = [
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
        opened = 0
        with self.engine.begin() as connection:
            kept = self._quarantine(connection, rejected)
            if self.before is not None and rows:
                self.before(connection, sorted({row[0] for row in rows}))
            new = self._insert(connection, rows) if rows else []
            if self.after is not None and new:
                opened = self.after(connection, new)
        conflicts = 0
        if len(new) < len(rows):
            conflicts = self._conflicts(rows)
        return WriteResult(len(rows), len(new), kept, conflicts, opened)

    def _insert(self, connection: Connection, rows: list[Row]) -> NewReadings:
        dbapi: Any = connection.connection.dbapi_connection
        cursor = dbapi.cursor()
        try:
            if self.backend == "postgresql":
                cursor.execute(_STAGING)
                with cursor.copy(_COPY) as copy:
                    copy.set_types(_COPY_TYPES)
                    for row in rows:
                        copy.write_row(row)
                cursor.execute(_MERGE)
                return [(m, int(ts), float(v)) for m, ts, v in cursor.fetchall()]
            new: NewReadings = []
            ordered = sorted(rows, key=lambda row: (row[0], row[1]))
            for start in range(0, len(ordered), _SQLITE_ROWS):
                chunk = ordered[start : start + _SQLITE_ROWS]
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                cursor.execute(
                    f"INSERT OR IGNORE INTO readings ({', '.join(READING_COLUMNS)}) "
                    f"VALUES {values} RETURNING meter_id, ts, value",
                    [field for row in chunk for field in row],
                )
                new.extend((m, int(ts), float(v)) for m, ts, v in cursor.fetchall())
            return new
        finally:
            cursor.close()

    def _quarantine(self, connection: Connection, rejected: Sequence[Rejected]) -> int:
        if not rejected:
            return 0
        now = datetime.now(UTC)
        rows = [
            {
                "fingerprint": quarantine_fingerprint(r.source_ref, r.line, r.meter_id, r.raw),
                "received_at": now,
                "batch_id": None,
                "source_ref": r.source_ref,
                "line": r.line,
                "meter_id": r.meter_id,
                "reason": r.reason,
                "raw": r.raw,
            }
            for r in rejected
        ]
        insert = sqlite.insert if self.backend == "sqlite" else postgresql.insert
        statement = (
            insert(schema.quarantine).on_conflict_do_nothing().returning(schema.quarantine.c.id)
        )
        return len(connection.execute(statement, rows).all())

    def _conflicts(self, rows: list[Row]) -> int:
        """Quarantine the readings that differ from the stored one of their key (idempotent:
        a conflict kept before is not kept twice)."""
        meter_ids, ts_us, values, units, _, batches, refs = zip(*rows, strict=True)
        return self._store._keep_conflicts(
            list(meter_ids),
            np.asarray(ts_us, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            list(units),
            list(batches),
            list(refs),
        )
