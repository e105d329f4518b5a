"""The store on SQLite and PostgreSQL: idempotent readings, quarantine, batches, repositories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from carbonlink.domain.metering import Facility, Meter, MeteredActivity, Organization
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.store import ReadingColumns, Store
from carbonlink.store.schema import from_epoch_us, to_epoch_us

T0 = datetime(2018, 1, 1, tzinfo=UTC)


def _reading(meter: str, minutes: int, value: float) -> Reading:
    return Reading(meter, T0 + timedelta(minutes=minutes), value, "kWh")


def test_a_second_copy_of_a_reading_changes_nothing(store: Store) -> None:
    first = [_reading("m1", 15 * i, float(i)) for i in range(4)]
    assert store.add_readings(first) == 4
    again = [*first, _reading("m1", 60, 9.0), _reading("m1", 60, 9.5)]
    assert store.add_readings(again) == 1
    assert store.reading_count() == 5
    series = store.series("m1")
    # first write wins: the duplicate 9.5 at 01:00 did not replace 9.0
    assert series.value.tolist() == [0.0, 1.0, 2.0, 3.0, 9.0]


def test_series_come_back_in_timestamp_order_not_arrival_order(store: Store) -> None:
    store.add_readings([_reading("m1", 30, 3.0), _reading("m1", 0, 1.0), _reading("m1", 15, 2.0)])
    store.add_readings([_reading("m2", 0, 7.0)])
    series = store.series("m1")
    assert series.value.tolist() == [1.0, 2.0, 3.0]
    assert [from_epoch_us(t) for t in series.ts_us] == [
        T0 + timedelta(minutes=m) for m in (0, 15, 30)
    ]
    window = store.series("m1", start=T0 + timedelta(minutes=15), end=T0 + timedelta(minutes=30))
    assert window.value.tolist() == [2.0]


def test_columnar_batches_are_idempotent_across_chunks(engine: Engine) -> None:
    store = Store(engine, chunk_size=7)
    n = 50
    columns = ReadingColumns(
        meter_id=["m1"] * n,
        ts_us=np.arange(n, dtype=np.int64) * 900_000_000 + to_epoch_us(T0),
        value=np.arange(n, dtype=np.float64) / 4,
        unit=["kWh"] * n,
        batch_id="b1",
    )
    assert store.add_reading_columns(columns) == n
    assert store.add_reading_columns(columns) == 0
    assert store.reading_count("m1") == n
    assert float(store.series("m1").value.sum()) == sum(i / 4 for i in range(n))


def test_a_batch_repeating_a_key_stores_it_once_on_either_path(store: Store) -> None:
    ts = np.array([0, 900, 900, 1800], dtype=np.int64) * 1_000_000 + to_epoch_us(T0)
    columns = ReadingColumns(["m1"] * 4, ts, np.array([1.0, 2.0, 2.5, 3.0]), ["kWh"] * 4)
    assert store.add_reading_columns(columns) == 3
    assert store.series("m1").value.tolist() in ([1.0, 2.0, 3.0], [1.0, 2.5, 3.0])
    later = ReadingColumns(["m1", "m2"], ts[2:] + 10**9, np.array([4.0, 5.0]), ["kWh"] * 2)
    assert store.add_reading_columns(later) == 2
    if store.backend == "postgresql":
        assert store.last_path == "direct copy"
    overlapping = ReadingColumns(["m1"] * 2, ts[2:], np.array([9.0, 9.0]), ["kWh"] * 2)
    assert store.add_reading_columns(overlapping) == 0
    assert store.reading_count() == 5


def test_quarantine_keeps_the_line_and_reason_once(store: Store) -> None:
    bad = [
        Rejected(b"31/02/2018 00:15,3.1", "unparseable time", "plant.csv:3", line=3),
        Rejected(b"01/01/2018 00:30,abc", "text in a number", "plant.csv:4", "m1", line=4),
    ]
    assert store.quarantine(bad, batch_id="b1") == 2
    assert store.quarantine(bad, batch_id="b2") == 0
    kept = store.quarantined()
    assert [(q.line, q.reason, q.raw) for q in kept] == [
        (3, "unparseable time", b"31/02/2018 00:15,3.1"),
        (4, "text in a number", b"01/01/2018 00:30,abc"),
    ]
    assert kept[1].meter_id == "m1"
    assert store.quarantined("b2") == []


def test_import_batches_record_their_counts(store: Store) -> None:
    batch_id = store.begin_batch("csv", "plant.csv", file_sha256="ab" * 32)
    assert store.batch(batch_id).status == "running"
    store.finish_batch(batch_id, records=10, readings_new=8, readings_duplicate=1, quarantined=1)
    batch = store.batch(batch_id)
    assert (batch.records, batch.readings_new, batch.readings_duplicate, batch.quarantined) == (
        10,
        8,
        1,
        1,
    )
    assert batch.status == "finished"
    assert batch.finished_at is not None and batch.finished_at >= batch.started_at


def test_meters_and_facilities_round_trip_as_plain_objects(store: Store) -> None:
    store.save_organization(Organization("daewoo", "DAEWOO Steel Co. Ltd.", "KR"))
    facility = Facility("gwangyang", "daewoo", "Gwangyang works", "Asia/Seoul", "KR")
    store.save_facility(facility)
    meter = Meter(
        "main",
        "register",
        "kWh",
        multiplier=40.0,
        rollover_max=999_999.0,
        time_zone="Asia/Seoul",
        labelling="end",
        interval_s=900,
        max_value=1e6,
        facility_id="gwangyang",
    )
    store.save_meter(meter)
    assert store.meter("main") == meter
    assert store.facility("gwangyang") == facility
    store.save_meter(Meter("main", "interval", "MWh", facility_id="gwangyang"))
    assert store.meters()["main"].unit == "MWh"
    assert store.meter("nope") is None


def test_derived_activity_supersedes_without_erasing(store: Store) -> None:
    start, end = to_epoch_us(T0), to_epoch_us(T0 + timedelta(days=365))
    first = MeteredActivity("main", start, end, "2018", 100.0, "kWh", 35040)
    assert store.save_activity([first], input_digest="a") == 1
    assert store.save_activity([first], input_digest="a") == 0
    corrected = MeteredActivity(
        "main", start, end, "2018", 104.0, "kWh", 35040, 4.0, 2, ("linear",)
    )
    assert store.save_activity([corrected], input_digest="b") == 1
    assert store.activity("main") == [corrected]
    with store.engine.connect() as connection:
        rows = connection.execute(text("SELECT quantity FROM activity ORDER BY id")).scalars()
        assert list(rows) == [100.0, 104.0]


@given(st.datetimes(timezones=st.just(UTC)))
def test_instants_survive_the_microsecond_encoding(instant: datetime) -> None:
    assert from_epoch_us(to_epoch_us(instant)) == instant
