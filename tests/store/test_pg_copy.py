"""The numpy-built binary COPY data decodes to exactly the batch's rows."""

from __future__ import annotations

import struct

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from carbonlink.store import ReadingColumns
from carbonlink.store.pg_copy import SIGNATURE, TRAILER, binary_copy_blocks


def _decode(data: bytes) -> list[tuple[object, ...]]:
    """A plain reading of the format (PostgreSQL docs, COPY, Binary Format)."""
    assert data.startswith(SIGNATURE) and data.endswith(TRAILER)
    pos, rows = len(SIGNATURE), []
    while data[pos : pos + 2] != TRAILER:
        (count,) = struct.unpack_from(">h", data, pos)
        pos += 2
        fields: list[bytes | None] = []
        for _ in range(count):
            (length,) = struct.unpack_from(">i", data, pos)
            pos += 4
            fields.append(None if length < 0 else data[pos : pos + length])
            pos += max(length, 0)
        meter, ts, value, unit, quality, batch, ref = fields
        rows.append(
            (
                meter.decode() if meter is not None else None,
                struct.unpack(">q", ts)[0] if ts is not None else None,
                struct.unpack(">d", value)[0] if value is not None else None,
                unit.decode() if unit is not None else None,
                quality.decode() if quality is not None else None,
                batch.decode() if batch is not None else None,
                ref,
            )
        )
    assert pos + 2 == len(data)
    return rows


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["m1", "电表-2", "feeder-10"]),
            st.integers(-(2**62), 2**62),
            st.floats(allow_nan=False),
            st.sampled_from(["kWh", "Nm3", "t"]),
        ),
        max_size=50,
    ),
    st.one_of(st.none(), st.just("9b2f6a1e-batch")),
)
def test_binary_copy_data_decodes_to_the_rows(
    rows: list[tuple[str, int, float, str]], batch_id: str | None
) -> None:
    columns = ReadingColumns(
        meter_id=[r[0] for r in rows],
        ts_us=np.array([r[1] for r in rows], dtype=np.int64),
        value=np.array([r[2] for r in rows], dtype=np.float64),
        unit=[r[3] for r in rows],
        batch_id=batch_id,
    )
    decoded = _decode(b"".join(binary_copy_blocks(columns)))
    assert sorted(decoded, key=repr) == sorted(columns.rows(), key=repr)
