"""Day and month rollups answer with the numbers the raw readings give; monthly partitions on
PostgreSQL are created on write, moved out of the default partition, detached to a file; the
migration converts an existing readings table and back."""

from __future__ import annotations

import gzip
import json
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import Engine, text

from carbonlink.domain.metering import Facility, Meter, Organization
from carbonlink.ingest.base import Reading
from carbonlink.monitor.series import DayTotal, bucket, from_rollups
from carbonlink.store import Store, partitions, rollups
from carbonlink.store.engine import create_store_engine
from carbonlink.store.migrate import downgrade, upgrade
from carbonlink.store.schema import to_epoch_us
from carbonlink.store.tenant_data import StoreTenantData

SHANGHAI = ZoneInfo("Asia/Shanghai")
METER = "m-feeder"


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def _catalogue(store: Store, labelling: str = "end") -> None:
    store.save_organization(Organization("org-1", "Plant group"))
    store.save_facility(Facility("fac-1", "org-1", "Plant", "Asia/Shanghai"))
    store.save_meter(
        Meter(METER, "interval", "kWh", facility_id="fac-1", labelling=labelling, interval_s=3600)
    )


def _readings() -> list[Reading]:
    """Hourly readings, 2025-01-30 00:00 to 2025-02-02 23:00 Shanghai (96 hours); the values
    cycle through 0.1, 0.2, 1/3 and 7.25, so a day's float sum depends on the order it is added
    in. The readings at local midnight are marked estimated."""
    cycle = (0.1, 0.2, 1 / 3, 7.25)
    first = datetime(2025, 1, 30, tzinfo=SHANGHAI)
    out = []
    for i in range(96):
        local = first + timedelta(hours=i)
        quality = "estimated" if local.hour == 0 else "good"
        out.append(Reading(METER, local.astimezone(UTC), cycle[i % 4], "kWh", quality))
    return out


def _raw(store: Store) -> tuple[np.ndarray, np.ndarray]:
    return store.series_values(METER)


def _day_totals(engine: Engine, first: date, last: date) -> list[DayTotal]:
    return [
        DayTotal(d.start.isoformat(), d.count, str(d.total_exact), d.low, d.high)
        for d in rollups.days_of(engine, METER, first, last)
    ]


def test_rollups_give_the_raw_numbers_to_the_last_bit(engine: Engine) -> None:
    store = Store(engine)
    _catalogue(store)
    readings = _readings()
    # three batches, one retried (nothing new), and a reading written by another writer with
    # a plain INSERT, which only the trigger sees
    assert store.add_readings(readings[:30]) == 30
    assert store.add_readings(readings[20:70]) == 40
    assert store.add_readings(readings[20:70]) == 0
    assert store.add_readings(readings[70:95]) == 25
    last = readings[95]
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO readings (meter_id, ts, value, unit, quality) "
                "VALUES (:m, :ts, :v, 'kWh', 'good')"
            ),
            {"m": METER, "ts": to_epoch_us(last.ts), "v": last.value},
        )
    assert not rollups.is_current(engine, [METER])
    rollups.refresh(engine)
    assert rollups.is_current(engine, [METER])

    ts, values = _raw(store)
    assert len(ts) == 96
    days = _day_totals(engine, date(2025, 1, 1), date(2025, 2, 28))
    assert [d.day for d in days] == ["2025-01-30", "2025-01-31", "2025-02-01", "2025-02-02"]
    for step in ("day", "month"):
        raw = bucket(ts, values, "Asia/Shanghai", step)
        rolled = from_rollups(days, "Asia/Shanghai", step)
        assert rolled.start == raw.start
        for name in ("count", "total", "mean", "low", "high"):
            assert getattr(rolled, name).tobytes() == getattr(raw, name).tobytes(), (step, name)
    # Hand-worked: a day is 6 cycles of 0.1, 0.2, 0.3333333333333333 and 7.25. The decimal
    # sum is 6 × 7.55 + 6 × 0.3333333333333333 = 47.2999999999999998, which rounds to the
    # double nearest 47.3; adding the doubles one after the other gives 47.300000000000004.
    assert sum([0.1, 0.2, 1 / 3, 7.25] * 6) == 47.300000000000004
    assert days[0].count == 24 and float(days[0].total_exact) == 47.3
    assert rollups.days_of(engine, METER, date(2025, 1, 30), date(2025, 1, 30))[0].total == 47.3

    # the overview's months (end-stamped: the reading at 1 February 00:00 belongs to January)
    data = StoreTenantData(store)
    assert data._monthly_now("org-1") == data._monthly_raw("org-1")
    months = data._monthly_now("org-1")[METER]
    assert months["2025-01"][1] == 24 + 24 + 1 and months["2025-02"][1] == 47
    # estimated: the readings at 30 and 31 January and 1 February 00:00, all measuring January
    assert months["2025-01"][2] == 3

    # a deleted reading leaves its day, and the rollups follow
    with engine.begin() as connection:
        connection.execute(
            text("DELETE FROM readings WHERE meter_id = :m AND ts = :ts"),
            {"m": METER, "ts": to_epoch_us(readings[0].ts)},
        )
    rollups.refresh(engine)
    days = _day_totals(engine, date(2025, 1, 30), date(2025, 1, 30))
    # the first 0.1 of 30 January is gone: 47.2999999999999998 − 0.1
    assert days[0].count == 23 and Decimal(days[0].total_exact) == Decimal("47.1999999999999998")
    assert data._monthly_now("org-1") == data._monthly_raw("org-1")


def test_the_series_answers_from_rollups_only_where_they_cover_the_range(engine: Engine) -> None:
    store = Store(engine)
    _catalogue(store, labelling="start")
    store.add_readings(_readings())
    # a rebuild starts from the raw readings and gives the same rows as the incremental path
    before = rollups.days_of(engine, METER, date(2025, 1, 1), date(2025, 12, 31))
    assert rollups.rebuild(engine) == 1
    assert rollups.days_of(engine, METER, date(2025, 1, 1), date(2025, 12, 31)) == before
    # a range that cuts a month: the month bucket holds only the days asked for
    days = _day_totals(engine, date(2025, 2, 1), date(2025, 2, 1))
    rolled = from_rollups(days, "Asia/Shanghai", "month")
    assert rolled.start == ["2025-02-01T00:00:00"] and rolled.count.tolist() == [24]


needs_postgres = pytest.mark.postgres


@pytest.fixture
def pg_schema() -> Iterator[Engine]:
    """An empty PostgreSQL schema of its own (for migrating from an older revision)."""
    url = os.environ.get("CARBONLINK_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL: CARBONLINK_TEST_POSTGRES_URL is not set")
    name = f"carbonlink_rollups_{uuid.uuid4().hex[:10]}"
    admin = create_store_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{name}"'))
    engine = create_store_engine(url, connect_args={"options": f"-csearch_path={name}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{name}_partitions" CASCADE'))
        admin.dispose()


def _partition_of(engine: Engine, ts: datetime) -> str:
    with engine.connect() as connection:
        return str(
            connection.execute(
                text("SELECT tableoid::regclass::text FROM readings WHERE ts = :ts"),
                {"ts": to_epoch_us(ts)},
            ).scalar_one()
        )


@needs_postgres
def test_partitions_are_made_on_write_and_old_ones_detached(
    pg_schema: Engine, tmp_path: Path
) -> None:
    engine = pg_schema
    upgrade(engine)
    store = Store(engine)
    _catalogue(store)
    # a month far ahead has no partition yet: the write creates it
    ahead = datetime(2031, 7, 15, tzinfo=UTC)
    assert store.add_readings([Reading(METER, ahead, 1.5, "kWh")]) == 1
    assert _partition_of(engine, ahead).endswith("readings_2031_07")
    # a plain INSERT into a month without partition lands in the default partition; creating
    # the month moves it over
    lost = datetime(2032, 3, 2, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO readings (meter_id, ts, value, unit) VALUES (:m, :ts, 2.5, 'kWh')"),
            {"m": METER, "ts": to_epoch_us(lost)},
        )
    assert _partition_of(engine, lost).endswith("readings_default")
    with engine.begin() as connection:
        assert partitions.create_month(connection, date(2032, 3, 1))
        assert not partitions.create_month(connection, date(2032, 3, 1))
    assert _partition_of(engine, lost).endswith("readings_2032_03")

    store.add_readings(_readings())
    rollups.refresh(engine)
    january = rollups.days_of(engine, METER, date(2025, 1, 30), date(2025, 1, 31))
    out = tmp_path / "cold"
    done = partitions.detach_before(engine, date(2025, 2, 1), out)
    assert [m["month"] for m in done] == ["2025-01"]
    manifest = json.loads((out / "readings_2025_01.json").read_text())
    # partitions are UTC months: January ends at 1 February 00:00 UTC = 08:00 Shanghai, so it
    # holds the readings of 30 and 31 January and 1 February 00:00–07:00 Shanghai: 24 + 24 + 8
    assert manifest["rows"] == 56
    body = gzip.decompress((out / "readings_2025_01.copy.gz").read_bytes())
    assert body.startswith(b"PGCOPY\n\xff\r\n\x00")
    assert store.reading_count(METER) == 2 + 96 - 56
    # the rollups of the detached month stay for the dashboards
    assert rollups.days_of(engine, METER, date(2025, 1, 30), date(2025, 1, 31)) == january
    with engine.connect() as connection:
        assert "readings_2025_01" not in {p.name for p in partitions.partitions(connection)}


@needs_postgres
def test_the_migration_converts_a_stored_readings_table_and_back(pg_schema: Engine) -> None:
    engine = pg_schema
    upgrade(engine, "0019_supplier_requests")
    store = Store(engine, refresh_rollups=False)
    _catalogue(store)
    assert store.add_readings(_readings()) == 96
    # a null date another tool wrote as year 1 stays in the default partition: no partition
    # is made for each month since year 1
    assert store.add_readings([Reading(METER, datetime(1, 1, 1, tzinfo=UTC), 5.0, "kWh")]) == 1
    upgrade(engine)
    with engine.connect() as connection:
        assert partitions.is_partitioned(connection)
        months = {p.month for p in partitions.partitions(connection)}
    assert {date(2025, 1, 1), date(2025, 2, 1)} <= months and len(months) < 40
    assert min(months) == date(2025, 1, 1)
    assert Store(engine).reading_count() == 97
    assert rollups.pending_count(engine) > 0
    rollups.refresh(engine)
    assert len(rollups.days_of(engine, METER, date(2025, 1, 1), date(2025, 12, 31))) == 4
    downgrade(engine, "0019_supplier_requests")
    with engine.connect() as connection:
        assert not partitions.is_partitioned(connection)
        assert connection.execute(text("SELECT count(*) FROM readings")).scalar() == 97


def test_a_facility_moved_to_another_zone_gets_its_days_again(engine: Engine) -> None:
    store = Store(engine)
    _catalogue(store, labelling="start")
    store.add_readings(_readings())
    data = StoreTenantData(store)
    shanghai = data._monthly_now("org-1")
    store.save_facility(Facility("fac-1", "org-1", "Plant", "Europe/Berlin"))
    # until the meter's rollups are redone the overview reads raw readings in the new zone
    assert data._monthly_now("org-1") == data._monthly_raw("org-1") != shanghai
    # the next write redoes every day of the meter in Berlin time (Berlin is 7 h behind in
    # winter: the 96 hours from 30 January 00:00 Shanghai span 29 January 17:00 to 2 February
    # 16:00 Berlin, five local days)
    store.add_readings([Reading(METER, _local(2025, 2, 3, 0), 1.0, "kWh")])
    days = rollups.days_of(engine, METER, date(2025, 1, 1), date(2025, 2, 28))
    assert {d.zone for d in days} == {"Europe/Berlin"}
    assert days[0].start == date(2025, 1, 29) and len(days) == 5
    assert data._monthly_now("org-1") == data._monthly_raw("org-1")


def test_the_accounting_dashboard_splits_a_run_by_month_from_rollups(engine: Engine) -> None:
    from carbonlink.api.dashboard import meter_month_shares

    store = Store(engine)
    _catalogue(store)  # end-stamped
    readings = _readings()
    store.add_readings(readings)
    # end-stamped: January holds the readings stamped 30 January 00:00 to 1 February 00:00
    # (49), February the other 47; each month's exact decimal sum over the year's
    january = [r.value for r in readings if r.ts <= _local(2025, 2, 1, 0)]
    february = [r.value for r in readings if r.ts > _local(2025, 2, 1, 0)]
    assert (len(january), len(february)) == (49, 47)
    jan = sum((Decimal(repr(v)) for v in january), Decimal(0))
    feb = sum((Decimal(repr(v)) for v in february), Decimal(0))
    total = float(jan + feb)
    expected = {"2025-01": float(jan) / total, "2025-02": float(feb) / total}
    assert rollups.end_stamped_months(
        engine, METER, "Asia/Shanghai", date(2025, 1, 1), date(2025, 2, 28)
    ) == {"2025-01": jan, "2025-02": feb}
    assert meter_month_shares(engine, METER, "Asia/Shanghai", "2025-01-01", "2025-02-28") == (
        expected
    )
    # a period that cuts a month is split from the raw readings, with the same exact sums
    assert (
        rollups.end_stamped_months(
            engine, METER, "Asia/Shanghai", date(2025, 1, 15), date(2025, 2, 28)
        )
        is None
    )
    assert meter_month_shares(engine, METER, "Asia/Shanghai", "2025-01-15", "2025-02-28") == (
        expected
    )
