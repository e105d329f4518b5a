"""File imports within limits: CSV streamed in chunks, workbooks checked before they are read,
bad cells and mappings refused with errors naming the file, line and column."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.errors import CarbonlinkError, IngestError
from carbonlink.ingest.csv_file import CsvTable
from carbonlink.ingest.file_import import import_file
from carbonlink.ingest.mapping import FileMapping
from carbonlink.ingest.tabular import ImportLimits
from carbonlink.ingest.xlsx_file import XlsxTable
from carbonlink.store import Store
from carbonlink.workbooks import WorkbookLimits, WorkbookTooLargeError
from workbook_bombs import many_rows, zip_bomb

runner = CliRunner()

WIDE = FileMapping.model_validate(
    {
        "timestamp": {"column": "time", "format": "%Y-%m-%d %H:%M"},
        "values": [{"column": "power", "meter": "m-power", "unit": "kWh"}],
        "meters": [{"id": "m-power", "kind": "interval", "unit": "kWh"}],
    }
)
LONG_YAML = """\
timestamp:
  column: time
  format: "{format}"
long:
  meter_column: meter
  value_column: value
  unit_column: unit
meters:
  - id: m-power
    kind: interval
    unit: kWh
    time_zone: {zone}
"""


def _csv(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body, "utf-8")
    return path


def test_dates_outside_the_plausible_window_are_quarantined(tmp_path: Path, store: Store) -> None:
    path = _csv(
        tmp_path,
        "nulls.csv",
        "time,power\n0001-01-01 00:00,5\n1970-01-01 00:00,6\n2024-01-01 00:00,7\n",
    )
    report = import_file(path, WIDE, store)
    assert (report.readings_new, report.quarantined) == (1, 2)
    assert report.reasons == {"time outside the plausible window": 2}
    reasons = [r.reason for r in store.quarantined(report.batch_id)]
    assert all("outside the plausible window 1990-01-01 00:00" in r for r in reasons)


def test_a_mapping_sets_a_meters_window(tmp_path: Path, store: Store) -> None:
    content = WIDE.model_dump()
    content["meters"][0]["valid_from"] = "2024-01-01T00:00:00Z"
    mapping = FileMapping.model_validate(content)
    path = _csv(tmp_path, "w.csv", "time,power\n2023-12-31 23:00,5\n2024-01-01 00:00,6\n")
    report = import_file(path, mapping, store)
    assert (report.readings_new, report.quarantined) == (1, 1)
    assert store.reading_windows()["m-power"][0] is not None


@pytest.mark.parametrize("quoted", [False, True], ids=["fast", "careful"])
def test_a_number_too_small_for_binary64_is_refused_not_stored_as_zero(
    tmp_path: Path, store: Store, quoted: bool
) -> None:
    cell = '"1e-400"' if quoted else "1e-400"
    path = _csv(tmp_path, "tiny.csv", f"time,power\n2024-01-01 00:00,{cell}\n2024-01-01 01:00,0\n")
    report = import_file(path, WIDE, store)
    assert (report.readings_new, report.quarantined) == (1, 1)
    [tiny] = store.quarantined(report.batch_id)
    assert tiny.line == 2 and "'1e-400' is too small a number" in tiny.reason
    assert store.series("m-power").value.tolist() == [0.0]  # the true 0 of line 3


def _workspace_env(tmp_path: Path) -> dict[str, str]:
    return {"CARBONLINK_WORKSPACE": str(tmp_path / "ws")}


@pytest.mark.parametrize("unit", ["kWh)", "~", "0 MWh", "😀"])
def test_a_bad_unit_cell_is_quarantined_with_its_column_not_a_traceback(
    tmp_path: Path, unit: str
) -> None:
    mapping = tmp_path / "long.yaml"
    mapping.write_text(LONG_YAML.format(format="%Y-%m-%d %H:%M", zone="UTC"), "utf-8")
    body = (
        "time,meter,value,unit\n"
        f"2024-01-01 00:00,m-power,5,{unit}\n"
        "2024-01-01 01:00,m-power,6,kWh\n"
    )
    data = _csv(tmp_path, "long.csv", body)
    result = runner.invoke(
        app, ["ingest", "csv", str(data), "-m", str(mapping)], env=_workspace_env(tmp_path)
    )
    assert result.exit_code == 0, result.output
    shown = " ".join(result.output.split())
    assert "line 2: unit" in shown and "(column 'unit')" in shown
    assert "Traceback" not in shown


@pytest.mark.parametrize(
    ("time_format", "zone", "says"),
    [
        ("%Q-%", "UTC", "timestamp.format: Value error, '%Q-%' is not a strftime pattern"),
        ("%Y-%m-%d %H:%M", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ],
)
def test_a_bad_mapping_is_a_clear_error_naming_the_field(
    tmp_path: Path, time_format: str, zone: str, says: str
) -> None:
    mapping = tmp_path / "long.yaml"
    mapping.write_text(LONG_YAML.format(format=time_format, zone=zone), "utf-8")
    data = _csv(tmp_path, "long.csv", "time,meter,value,unit\n2024-01-01 00:00,m-power,5,kWh\n")
    result = runner.invoke(
        app, ["ingest", "csv", str(data), "-m", str(mapping)], env=_workspace_env(tmp_path)
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, CarbonlinkError), result.exception
    assert says in str(result.exception) and "long.yaml" in str(result.exception)


def test_a_csv_file_is_read_in_chunks_never_whole(tmp_path: Path) -> None:
    """12 MB of CSV read with 10 000-line chunks: the reader's allocations stay far below the
    file's size (reading it whole held the bytes, the text and a list of its lines)."""
    path = tmp_path / "big.csv"
    line = "2024-01-01 00:00,123.456\n"
    with path.open("w") as out:
        out.write("time,power\n")
        for _ in range(50):
            out.write(line * 10_000)
    size = path.stat().st_size
    assert size > 12_000_000
    tracemalloc.start()
    try:
        table = CsvTable(path, WIDE, chunk_rows=10_000)
        rows = sum(len(chunk) for chunk in table.chunks([0, 1], frozenset({1})))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert rows == 500_000
    assert peak < size / 2, f"peak {peak:,} bytes for a {size:,}-byte file"


def test_a_line_longer_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "one-line.csv", "time,power\n" + "9" * 5_000 + "\n")
    table = CsvTable(path, WIDE, limits=ImportLimits(max_line_chars=1_000))
    with pytest.raises(IngestError, match="line 2 is longer than 1,000 characters"):
        list(table.chunks([0, 1]))


def test_a_file_larger_than_the_limit_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "w.csv", "time,power\n" + "2024-01-01 00:00,1\n" * 1000)
    with pytest.raises(IngestError, match="larger than the limit"):
        CsvTable(path, WIDE, limits=ImportLimits(max_file_bytes=1000))


def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    """~100 KB that inflates to 100 MB: refused from the archive's directory in a blink."""
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb(100))
    started = time.perf_counter()
    tracemalloc.start()
    try:
        with pytest.raises(WorkbookTooLargeError, match=r"inflates 1,0\d\d times .*a zip bomb"):
            XlsxTable(path, WIDE)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0
    assert peak < 5 * 2**20


def test_the_cli_refuses_a_zip_bomb_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(zip_bomb(100))
    mapping = tmp_path / "wide.yaml"
    mapping.write_text(WIDE.model_dump_json(), "utf-8")
    result = runner.invoke(
        app,
        ["ingest", "xlsx", str(path), "-m", str(mapping), "--max-uncompressed-mb", "64"],
        env=_workspace_env(tmp_path),
    )
    assert result.exit_code != 0
    assert isinstance(result.exception, WorkbookTooLargeError)
    assert "a zip bomb" in str(result.exception)


def test_a_workbook_past_the_uncompressed_limit_is_refused(tmp_path: Path) -> None:
    """A million rows of one cell: 25 MB of XML in a 70 KB file, a ratio a bomb check lets by."""
    path = tmp_path / "big.xlsx"
    path.write_bytes(many_rows(1_000_000))
    limits = ImportLimits(workbook=WorkbookLimits(max_uncompressed_bytes=10 * 2**20))
    with pytest.raises(WorkbookTooLargeError, match="25 MB of uncompressed data") as caught:
        XlsxTable(path, WIDE, limits=limits)
    assert "raise the limit" in str(caught.value)


@pytest.mark.parametrize("dimension", [True, False], ids=["declared", "undeclared"])
def test_a_sheet_of_a_million_rows_is_refused_at_the_row_limit(
    tmp_path: Path, dimension: bool
) -> None:
    path = tmp_path / "rows.xlsx"
    path.write_bytes(many_rows(1_000_000, dimension=dimension))
    assert path.stat().st_size < 200_000
    limits = ImportLimits(workbook=WorkbookLimits(max_rows=20_000))
    started = time.perf_counter()
    with pytest.raises(WorkbookTooLargeError, match="more than the limit of 20,000"):
        table = XlsxTable(path, WIDE, limits=limits)
        for _ in table.chunks([0, 1]):
            pass
    assert time.perf_counter() - started < 5.0
