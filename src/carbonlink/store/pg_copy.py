"""PostgreSQL binary COPY data for a columnar batch of readings, built with numpy.

The binary COPY format (PostgreSQL documentation, "COPY", section "Binary Format") is a
signature, then per row a 16-bit field count and, per field, a 32-bit length (−1 for NULL)
followed by the value in network byte order, then a 16-bit −1 trailer. Rows of one meter and
unit all have the same length, so each such group is one numpy structured array whose bytes
are the rows: no per-row Python work, which is where a row-by-row COPY spends its time.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import NDArray

if TYPE_CHECKING:
    from carbonlink.store.repository import ReadingColumns

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
TRAILER = (-1).to_bytes(2, "big", signed=True)
FIELDS = 7  # meter_id, ts, value, unit, quality, batch_id, source_ref


def _text_field(
    dtype: list[tuple[str, str]], name: str, value: bytes | None
) -> tuple[str, bytes | None]:
    dtype.append((f"{name}_len", ">i4"))
    if value:
        dtype.append((name, f"S{len(value)}"))
    return name, value


def binary_copy_blocks(columns: ReadingColumns) -> Iterator[bytes]:
    """The batch as binary COPY data (signature, rows grouped by meter and unit, trailer)."""
    yield SIGNATURE
    n = len(columns)
    if n:
        meter_codes, meters = pd.factorize(pd.Series(columns.meter_id, dtype=object))
        unit_codes, units = pd.factorize(pd.Series(columns.unit, dtype=object))
        group = meter_codes.astype(np.int64) * len(units) + unit_codes
        order = np.argsort(group, kind="stable")
        bounds = np.flatnonzero(np.diff(group[order])) + 1
        quality = columns.quality.encode()
        batch = None if columns.batch_id is None else columns.batch_id.encode()
        for rows in np.split(order, bounds):
            first = rows[0]
            yield _block(
                meters[meter_codes[first]].encode(),
                units[unit_codes[first]].encode(),
                quality,
                batch,
                columns.ts_us[rows],
                columns.value[rows],
            )
    yield TRAILER


def _block(
    meter: bytes,
    unit: bytes,
    quality: bytes,
    batch: bytes | None,
    ts_us: NDArray[np.int64],
    value: NDArray[np.float64],
) -> bytes:
    dtype: list[tuple[str, str]] = [("fields", ">i2")]
    texts = [_text_field(dtype, "meter", meter)]
    dtype += [("ts_len", ">i4"), ("ts", ">i8"), ("value_len", ">i4"), ("value", ">f8")]
    texts += [
        _text_field(dtype, "unit", unit),
        _text_field(dtype, "quality", quality),
        _text_field(dtype, "batch", batch),
    ]
    dtype.append(("source_ref_len", ">i4"))
    rows = np.empty(len(ts_us), dtype=np.dtype(dtype))
    rows["fields"] = FIELDS
    for name, text in texts:
        rows[f"{name}_len"] = -1 if text is None else len(text)
        if text:
            rows[name] = text
    rows["ts_len"] = 8
    rows["ts"] = ts_us
    rows["value_len"] = 8
    rows["value"] = value
    rows["source_ref_len"] = -1
    return rows.tobytes()
