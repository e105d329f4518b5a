"""Import batches in the ledger: the canonical readings digest and the batch's entry."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ledger import Ledger
from carbonlink.provenance import record_import_batch
from carbonlink.store import Store
from carbonlink.store.repository import readings_digest
from conftest import MAPPING, READINGS_CSV, Chain

rows = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=8),
        st.integers(min_value=-(2**62), max_value=2**62),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["kWh", "MWh", "Nm3"]),
    ),
    unique_by=lambda row: (row[0], row[1]),
    max_size=20,
)


def test_digest_of_one_reading_by_hand() -> None:
    expected = hashlib.sha256(
        b"carbonlink readings v1\n"
        + b"\x00\x00\x00\x01m"
        + struct.pack(">q", 1_000_000)
        + struct.pack(">d", 2.5)
        + b"\x00\x00\x00\x03kWh"
    ).hexdigest()
    assert readings_digest([("m", 1_000_000, 2.5, "kWh")]) == (1, expected)


@given(rows, st.randoms())
def test_digest_ignores_the_order_rows_come_in(batch: list, rng) -> None:  # type: ignore[no-untyped-def]
    shuffled = list(batch)
    rng.shuffle(shuffled)
    assert readings_digest(shuffled) == readings_digest(batch)


@given(rows.filter(bool), st.data())
def test_digest_changes_with_any_field(batch: list, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(batch) - 1))
    meter, ts, value, unit = batch[i]
    field = data.draw(st.sampled_from(["value", "unit", "drop"]))
    changed = list(batch)
    if field == "value":
        other = data.draw(st.floats(allow_nan=False, allow_infinity=False))
        if struct.pack(">d", other) == struct.pack(">d", value):
            return
        changed[i] = (meter, ts, other, unit)
    elif field == "unit":
        changed[i] = (meter, ts, value, unit + "x")
    else:
        del changed[i]
    assert readings_digest(changed) != readings_digest(batch)


def test_the_batch_row_carries_its_entry_and_digest(chain: Chain) -> None:
    store = Store(chain.engine)
    batch = store.batch(chain.batch_id)
    entry = Ledger(chain.engine).entry(chain.import_index)
    content = entry.content()
    assert batch.ledger_index == chain.import_index
    assert content["raw_sha256"] == batch.file_sha256
    assert content["raw_sha256"] == hashlib.sha256(READINGS_CSV.encode()).hexdigest()
    assert content["details"]["readings"] == 4
    assert content["details"]["readings_sha256"] == batch.readings_sha256
    assert store.batch_readings_digest(chain.batch_id) == (4, batch.readings_sha256)


def test_a_second_import_of_the_same_file_records_an_empty_batch(
    chain: Chain, tmp_path: Path
) -> None:
    """Readings belong to the batch that stored them first; the repeat stored none."""
    again = tmp_path / "again.csv"
    again.write_text(READINGS_CSV, "utf-8")
    store, ledger = Store(chain.engine), Ledger(chain.engine)
    report = import_file(again, FileMapping.model_validate(MAPPING), store)
    index = record_import_batch(store, ledger, report.batch_id)
    assert record_import_batch(store, ledger, report.batch_id) == index  # recorded once
    content = ledger.entry(index).content()
    assert content["details"]["readings"] == 0
    assert content["details"]["readings_sha256"] == readings_digest([])[1]
    assert content["raw_sha256"] == ledger.entry(chain.import_index).content()["raw_sha256"]


def test_a_stream_flush_is_one_recorded_batch(store: Store) -> None:
    """A collector's flush: payloads hashed in order, readings stamped with the batch."""
    from datetime import UTC, datetime

    from carbonlink.ingest.base import Reading, Rejected
    from carbonlink.ledger import message_set_sha256
    from carbonlink.provenance import record_message_set

    messages = [b'{"v": 12.5}', b'{"v": 13.0}', b"not json"]
    readings = [
        Reading("m-line-1", datetime(2025, 1, 1, 0, 15, tzinfo=UTC), 12.5, "kWh"),
        Reading("m-line-1", datetime(2025, 1, 1, 0, 30, tzinfo=UTC), 13.0, "kWh"),
    ]
    rejected = [Rejected(b"not json", "payload is not JSON", "plant/line-1/energy")]
    ledger = Ledger(store.engine)
    batch_id, index = record_message_set(
        store,
        ledger,
        kind="mqtt",
        source_ref="mqtt://127.0.0.1/plant/#",
        messages=messages,
        readings=readings,
        rejected=rejected,
    )
    content = ledger.entry(index).content()
    assert content["raw_sha256"] == message_set_sha256(messages)
    assert content["records"] == 3 and content["rejected"] == 1
    assert content["details"]["readings"] == 2
    expected = readings_digest(
        [("m-line-1", r.ts.timestamp() * 1_000_000, r.value, "kWh") for r in readings]
    )
    assert content["details"]["readings_sha256"] == expected[1]
    assert store.batch(batch_id).ledger_index == index
