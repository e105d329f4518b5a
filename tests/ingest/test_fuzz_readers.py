"""Fuzzing the readers and the readings checks: whatever comes in is either accepted, or
refused with a `CarbonlinkError`, or kept as a quarantined row with its reason — never
another exception. Bounded (a few dozen examples each) so that each test runs in seconds."""

from __future__ import annotations

import io
import json
import math
import os
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from carbonlink.domain.metering import Meter
from carbonlink.errors import CarbonlinkError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.file_import import FileReader
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.validation import (
    DEFAULT_VALID_FROM,
    check_posted_rows,
    validate_readings,
)

BOUNDED = settings(
    max_examples=int(os.environ.get("CARBONLINK_FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
WIDE = FileMapping.model_validate(
    {
        "timestamp": {"column": "time", "time_zone": "Asia/Shanghai"},
        "values": [{"column": "power", "meter": "m-power", "unit": "kWh"}],
        "meters": [
            {"id": "m-power", "kind": "interval", "unit": "MWh", "min_value": 0, "max_value": 1e6}
        ],
    }
)
LONG = FileMapping.model_validate(
    {
        "timestamp": {"column": "time", "format": "%Y-%m-%d %H:%M"},
        "long": {"meter_column": "meter", "value_column": "value", "unit_column": "unit"},
        "meters": [{"id": "m-power", "kind": "interval", "unit": "kWh"}],
    }
)
UNITS = ["kWh", "MWh", "GJ", "t", "Nm3", "~", "kWh)", "kWh/0", "😀", "0 MWh", "%", "", "10^4 Nm3"]
CELLS = st.one_of(
    st.sampled_from(
        [
            "2024-01-01 00:00",
            "0001-01-01 00:00",
            "9999-12-31 23:59",
            "1e-400",
            "1e400",
            "-0",
            "nan",
            "NaN",
            "inf",
            '"',
            '""',
            "1,5",
            "\u2028",
            "\x00",
            "m-power",
            "ghost",
            *UNITS,
        ]
    ),
    st.text(max_size=12),
    st.floats(allow_nan=True).map(repr),
)


def _read(reader: FileReader) -> list[Reading | Rejected]:
    try:
        return list(reader)
    finally:
        reader.table.close()


def _check_outcome(items: list[Reading | Rejected]) -> None:
    for item in items:
        if isinstance(item, Reading):
            assert math.isfinite(item.value)
            assert item.ts >= DEFAULT_VALID_FROM
            assert item.meter_id == "m-power"
        else:
            assert isinstance(item, Rejected) and item.reason


def _csv(rows: list[list[str]], header: list[str], delimiter: str = ",") -> str:
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in rows]
    return "\n".join(lines) + "\n"


@BOUNDED
@given(
    rows=st.lists(st.lists(CELLS, min_size=0, max_size=5), max_size=12),
    layout=st.sampled_from(["wide", "long"]),
)
def test_csv_rows_become_readings_or_quarantined_rows(rows: list[list[str]], layout: str) -> None:
    mapping = WIDE if layout == "wide" else LONG
    header = ["time", "power"] if layout == "wide" else ["time", "meter", "value", "unit"]
    data = _csv(rows, header).encode("utf-8", errors="surrogatepass")
    try:
        reader = FileReader.open(Path("fuzz.csv"), mapping, data=data)
    except CarbonlinkError:
        return
    try:
        items = _read(reader)
    except CarbonlinkError:
        return
    _check_outcome(items)


@BOUNDED
@given(data=st.binary(max_size=400))
def test_any_bytes_as_csv_are_read_or_refused_with_a_clear_error(data: bytes) -> None:
    try:
        items = _read(FileReader.open(Path("fuzz.csv"), WIDE, data=b"time,power\n" + data))
    except CarbonlinkError:
        return
    _check_outcome(items)


XLSX_CELLS = st.one_of(
    st.none(),
    CELLS,
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(9999, 1, 1)),
    st.booleans(),
)


def _workbook(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["time", "power"])
    for row in rows:
        sheet.append([_storable(value) for value in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _storable(value: Any) -> Any:
    """openpyxl refuses control characters in text; keep the rest of the text as it is."""
    if isinstance(value, str):
        return "".join(c for c in value if c.isprintable() or c == " ")
    return value


@BOUNDED
@given(rows=st.lists(st.lists(XLSX_CELLS, max_size=3), max_size=10))
def test_xlsx_rows_become_readings_or_quarantined_rows(rows: list[list[Any]]) -> None:
    data = _workbook(rows)
    try:
        items = _read(FileReader.open(Path("fuzz.xlsx"), WIDE, data=data))
    except CarbonlinkError:
        return
    _check_outcome(items)


GOOD_BOOK = _workbook([["2024-01-01 00:00", 1.5], ["2024-01-01 01:00", 2.5]])


@BOUNDED
@given(
    flips=st.lists(
        st.tuples(st.integers(min_value=0, max_value=len(GOOD_BOOK) - 1), st.integers(0, 255)),
        min_size=1,
        max_size=8,
    )
)
def test_damaged_workbooks_are_refused_with_a_clear_error(flips: list[tuple[int, int]]) -> None:
    damaged = bytearray(GOOD_BOOK)
    for position, byte in flips:
        damaged[position] = byte
    try:
        items = _read(FileReader.open(Path("fuzz.xlsx"), WIDE, data=bytes(damaged)))
    except CarbonlinkError:
        return
    _check_outcome(items)


@BOUNDED
@given(sheet=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_a_workbook_with_any_sheet_xml_is_read_or_refused(sheet: bytes) -> None:
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(GOOD_BOOK)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            body = sheet if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
            target.writestr(item.filename, body)
    try:
        items = _read(FileReader.open(Path("fuzz.xlsx"), WIDE, data=out.getvalue()))
    except CarbonlinkError:
        return
    _check_outcome(items)


METERS = {
    "m-power": Meter("m-power", "interval", "MWh", min_value=0.0, max_value=1e6),
    "m-odd": Meter("m-odd", "interval", "~"),
}
OFFSETS = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
TIMES = st.one_of(
    st.datetimes(timezones=OFFSETS | st.just(UTC)),
    st.datetimes(),  # naive
    st.sampled_from(
        [
            datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
            datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-14))),
            datetime(1, 1, 1, tzinfo=UTC),
        ]
    ),
)
VALUES = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.booleans(),
    st.just(1e-320),
)
UNIT_TEXT = st.sampled_from(UNITS) | st.text(max_size=8)


@BOUNDED
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["m-power", "m-odd", "ghost"]), TIMES, VALUES, UNIT_TEXT),
        max_size=20,
    )
)
def test_validating_readings_never_raises_and_accepts_only_sound_ones(
    rows: list[tuple[str, datetime, Any, str]],
) -> None:
    readings = [Reading(meter, ts, value, unit) for meter, ts, value, unit in rows]
    now = datetime(2026, 12, 1, tzinfo=UTC)
    checked = validate_readings(readings, METERS, now=now)
    assert len(checked.readings) + len(checked.refused) == len(readings)
    assert [r.index for r in checked.refused] == sorted({r.index for r in checked.refused})
    for reading in checked.readings:
        assert reading.meter_id == "m-power" and reading.unit == "MWh"
        assert math.isfinite(reading.value) and 0 <= reading.value <= 1e6
        assert DEFAULT_VALID_FROM <= reading.ts <= now + timedelta(days=1)
        assert reading.ts.tzinfo is UTC


class _Row:
    """A posted row as the API hands it over (pydantic's ``ReadingIn`` in the service)."""

    def __init__(self, meter_id: str, ts: datetime, value: Any, unit: str) -> None:
        self.meter_id, self.ts, self.value, self.unit = meter_id, ts, value, unit
        self.quality = "good"

    def model_dump_json(self) -> str:
        return json.dumps(
            {"meter_id": self.meter_id, "ts": str(self.ts), "value": repr(self.value)},
            ensure_ascii=False,
        )


@BOUNDED
@given(
    rows=st.lists(
        st.tuples(st.sampled_from(["m-power", "ghost"]), TIMES, VALUES, UNIT_TEXT), max_size=20
    )
)
def test_a_posted_batch_refuses_bad_rows_alone(rows: list[tuple[str, datetime, Any, str]]) -> None:
    posted = [_Row(*row) for row in rows]
    checked = check_posted_rows(posted, METERS.get, received_via="api:fuzz", label="b")
    assert len(checked.readings) + len(checked.refused) == len(posted)
    assert len(checked.rejected) == len(checked.refused)
    for refusal, record in zip(checked.refused, checked.rejected, strict=True):
        assert record.source_ref == f"api:fuzz:b:{refusal.index}" and record.reason
