"""Readings partitioned by month on PostgreSQL; day and month rollups of every meter.

On PostgreSQL the readings table becomes ``PARTITION BY RANGE (ts)`` with one partition per UTC
month in the ``reading_partitions`` schema and a default partition; the existing rows are copied
over (in one transaction: it takes as long as rewriting the table once, and the table is locked
meanwhile). The downgrade copies the attached partitions back into a plain table; partitions
detached with ``carbonlink store detach`` are not part of the table any more and stay where
they are (their files can be loaded again with COPY). SQLite keeps its plain table. On both,
the rollup tables and the triggers that keep them current are created and the rollups are
computed from the readings already stored.

Revision ID: 0023_reading_partitions
Revises: 0024_batches_identifiers
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0023_reading_partitions"
down_revision: str | None = "0024_batches_identifiers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = "meter_id, ts, value, unit, quality, batch_id, source_ref"
AHEAD = 3


def _create_partitioned(bind: sa.Connection) -> None:
    from carbonlink.store import partitions

    schema = partitions.partition_schema(bind)
    bind.exec_driver_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    bind.exec_driver_sql(
        "CREATE TABLE readings ("
        " meter_id VARCHAR(64) NOT NULL, ts BIGINT NOT NULL, value FLOAT NOT NULL,"
        " unit VARCHAR(32) NOT NULL, quality VARCHAR(16) DEFAULT 'good' NOT NULL,"
        " batch_id VARCHAR(36), source_ref TEXT,"
        " CONSTRAINT pk_readings PRIMARY KEY (meter_id, ts)"
        ") PARTITION BY RANGE (ts)"
    )
    bind.exec_driver_sql("CREATE INDEX ix_readings_batch ON readings (batch_id)")
    bind.exec_driver_sql(f'CREATE TABLE "{schema}".readings_default PARTITION OF readings DEFAULT')


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        from carbonlink.store import partitions

        bind.exec_driver_sql("ALTER TABLE readings RENAME TO readings_unpartitioned")
        bind.exec_driver_sql(
            "ALTER TABLE readings_unpartitioned RENAME CONSTRAINT pk_readings "
            "TO pk_readings_unpartitioned"
        )
        bind.exec_driver_sql("ALTER INDEX ix_readings_batch RENAME TO ix_readings_unpartitioned")
        _create_partitioned(bind)
        # readings at year 1 or 9999 (a null date of another tool) stay in the default
        # partition: partitions span the months of the readings between 1900 and 2199
        first_us, _ = partitions.bounds(partitions.FIRST_MONTH)
        _, last_us = partitions.bounds(partitions.LAST_MONTH)
        low, high = bind.exec_driver_sql(
            "SELECT min(ts), max(ts) FROM readings_unpartitioned "
            "WHERE ts >= %(lo)s AND ts < %(hi)s",
            {"lo": first_us, "hi": last_us},
        ).one()
        now = datetime.now(UTC).date().replace(day=1)
        month = partitions.month_of(low) if low is not None else now
        last = max(partitions.month_of(high) if high is not None else now, now)
        for _ in range(AHEAD):
            last = partitions.next_month(last)
        last = min(last, partitions.LAST_MONTH)
        while month <= last:
            partitions.create_month(bind, month)
            month = partitions.next_month(month)
        bind.exec_driver_sql(
            f"INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM readings_unpartitioned"
        )
        bind.exec_driver_sql("DROP TABLE readings_unpartitioned")
    op.create_table(
        "reading_rollups",
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column("period", sa.String(8), nullable=False, comment="day or month"),
        sa.Column(
            "start", sa.String(10), nullable=False, comment="local date the bucket starts on"
        ),
        sa.Column("zone", sa.String(64), nullable=False, comment="IANA zone of the local calendar"),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column(
            "estimated",
            sa.BigInteger(),
            nullable=False,
            comment="readings of quality 'estimated'",
        ),
        sa.Column(
            "total", sa.Float(), nullable=False, comment="sum of the values, correctly rounded"
        ),
        sa.Column(
            "total_exact", sa.Text(), nullable=False, comment="exact decimal sum of the values"
        ),
        sa.Column("low", sa.Float(), nullable=False),
        sa.Column("high", sa.Float(), nullable=False),
        sa.Column(
            "first_count",
            sa.Integer(),
            nullable=False,
            comment="readings at the bucket's first instant",
        ),
        sa.Column("first_exact", sa.Text(), nullable=False, comment="exact sum of those readings"),
        sa.Column("first_estimated", sa.Integer(), nullable=False),
        sa.Column(
            "end_count",
            sa.BigInteger(),
            nullable=True,
            comment="month: readings of end-stamped intervals in it",
        ),
        sa.Column(
            "end_estimated",
            sa.BigInteger(),
            nullable=True,
            comment="month: estimated ones among them",
        ),
        sa.Column(
            "end_total", sa.Float(), nullable=True, comment="month: their sum, correctly rounded"
        ),
        sa.PrimaryKeyConstraint("meter_id", "period", "start", name="pk_reading_rollups"),
        sa.CheckConstraint("period IN ('day', 'month')", name="ck_reading_rollups_period"),
    )
    op.create_index("ix_reading_rollups_period", "reading_rollups", ["period", "meter_id"])
    op.create_table(
        "reading_rollup_pending",
        sa.Column("meter_id", sa.String(64), nullable=False),
        sa.Column(
            "utc_day",
            sa.BigInteger(),
            nullable=False,
            comment="ts // 86 400 000 000 of a change",
        ),
        sa.PrimaryKeyConstraint("meter_id", "utc_day", name="pk_reading_rollup_pending"),
    )
    from carbonlink.store.rollups import create_triggers

    create_triggers(bind)
    # The rollups of the readings already stored are computed on the next refresh (the first
    # write, `carbonlink store rollups`, or the first page that needs them).
    bind.exec_driver_sql(
        "INSERT INTO reading_rollup_pending (meter_id, utc_day) "
        "SELECT DISTINCT meter_id, ts / 86400000000 FROM readings"
    )


def downgrade() -> None:
    bind = op.get_bind()
    from carbonlink.store.rollups import drop_triggers

    drop_triggers(bind)
    op.drop_table("reading_rollup_pending")
    op.drop_table("reading_rollups")
    if bind.dialect.name != "postgresql":
        return
    from carbonlink.store import partitions

    schema = partitions.partition_schema(bind)
    bind.exec_driver_sql("ALTER TABLE readings RENAME TO readings_partitioned")
    bind.exec_driver_sql(
        "ALTER TABLE readings_partitioned RENAME CONSTRAINT pk_readings TO pk_readings_partitioned"
    )
    bind.exec_driver_sql("ALTER INDEX ix_readings_batch RENAME TO ix_readings_partitioned")
    bind.exec_driver_sql(
        "CREATE TABLE readings ("
        " meter_id VARCHAR(64) NOT NULL, ts BIGINT NOT NULL, value FLOAT NOT NULL,"
        " unit VARCHAR(32) NOT NULL, quality VARCHAR(16) DEFAULT 'good' NOT NULL,"
        " batch_id VARCHAR(36), source_ref TEXT,"
        " CONSTRAINT pk_readings PRIMARY KEY (meter_id, ts))"
    )
    bind.exec_driver_sql("CREATE INDEX ix_readings_batch ON readings (batch_id)")
    bind.exec_driver_sql(
        f"INSERT INTO readings ({COLUMNS}) SELECT {COLUMNS} FROM readings_partitioned"
    )
    bind.exec_driver_sql("DROP TABLE readings_partitioned")
    # Detached partitions kept as tables stay in their schema; an empty schema goes.
    left = bind.exec_driver_sql(
        "SELECT count(*) FROM pg_tables WHERE schemaname = %(schema)s",
        {"schema": schema},
    ).scalar()
    if not left:
        bind.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}"')
