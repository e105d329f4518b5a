"""CSV and XLSX import: bad rows quarantined with line numbers, re-import changes nothing."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.errors import IngestError
from carbonlink.ingest.base import MemorySink, Rejected
from carbonlink.ingest.file_import import FileReader, import_file
from carbonlink.ingest.mapping import FileMapping, load_mapping, shipped_mapping
from carbonlink.store import Store
from carbonlink.store.schema import from_epoch_us, readings

WIDE = FileMapping.model_validate(
    {
        "timestamp": {"column": "time", "format": "%d/%m/%Y %H:%M", "time_zone": "Asia/Shanghai"},
        "values": [
            {"column": "电量(kWh)", "meter": "main", "unit": "kWh"},
            {"column": "gas", "meter": "boiler-gas", "unit": "Nm3"},
        ],
        "meters": [
            {"id": "main", "kind": "interval", "unit": "kWh", "min_value": 0, "max_value": 1000},
            {"id": "boiler-gas", "kind": "register", "unit": "Nm3"},
        ],
    }
)

# line 1 header; 2-3 good; 4 bad time; 5 text in a number; 6 absurd value; 7 short row
WIDE_CSV = (
    "time,电量(kWh),gas\n"
    "01/01/2018 00:15,3.17,100.5\n"
    "01/01/2018 00:30,4.00,101.0\n"
    "31/02/2018 00:45,3.24,101.5\n"
    "01/01/2018 01:00,abc,102.0\n"
    "01/01/2018 01:15,99999,102.5\n"
    "01/01/2018 01:30\n"
    "01/01/2018 01:45,x,y\n"
)


def _write(tmp_path: Path, name: str, text: str, encoding: str) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_bad_rows_are_quarantined_with_their_line_and_the_rest_is_stored(
    store: Store, tmp_path: Path, encoding: str
) -> None:
    path = _write(tmp_path, "plant.csv", WIDE_CSV, encoding)
    report = import_file(path, WIDE, store)
    assert report.records == 7
    # main: lines 2, 3 good; gas: lines 2, 3, 5, 6 good (line 5's bad cell is main's)
    assert (report.readings, report.readings_new) == (6, 6)
    assert store.reading_count("main") == 2
    assert store.reading_count("boiler-gas") == 4
    kept = {(q.line, q.meter_id): q for q in store.quarantined()}
    assert set(kept) == {
        (4, None),
        (5, "main"),
        (6, "main"),
        (7, None),
        (8, "main"),
        (8, "boiler-gas"),
    }
    assert "cannot read time '31/02/2018 00:45'" in kept[(4, None)].reason
    assert kept[(5, "main")].reason == "'abc' is not a number"
    assert "outside the plausible range [0, 1000] kWh" in kept[(6, "main")].reason
    assert "1 fields, the header has 3" in kept[(7, None)].reason
    assert (
        kept[(5, "main")].raw.decode(encoding.replace("-sig", "")) == "01/01/2018 01:00,abc,102.0"
    )
    assert report.reasons == {
        "unparseable time": 1,
        "text in a number": 3,
        "implausible value": 1,
        "wrong number of fields": 1,
    }
    batch = store.batch(report.batch_id)
    assert (batch.records, batch.readings_new, batch.quarantined) == (7, 6, 6)


def test_reimporting_a_file_changes_nothing(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "plant.csv", WIDE_CSV, "utf-8")
    import_file(path, WIDE, store)
    before = (store.reading_count(), len(store.quarantined()), store.series("main").value.tolist())
    again = import_file(path, WIDE, store)
    assert (again.readings_new, again.readings_duplicate) == (0, 6)
    after = (store.reading_count(), len(store.quarantined()), store.series("main").value.tolist())
    assert after == before


def test_local_times_become_utc_and_gbk_headers_are_read(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "plant.csv", WIDE_CSV, "gbk")
    import_file(path, WIDE, store)
    first = from_epoch_us(int(store.series("main").ts_us[0]))
    assert first == datetime(2017, 12, 31, 16, 15, tzinfo=UTC)  # 00:15 in Shanghai is UTC+8


def test_unknown_meters_and_units_of_the_wrong_kind_go_to_quarantine(
    store: Store, tmp_path: Path
) -> None:
    mapping = FileMapping.model_validate(
        {
            "timestamp": {"column": "ts", "format": "%Y-%m-%d %H:%M:%S"},
            "long": {"meter_column": "meter", "value_column": "value", "unit_column": "unit"},
            "meters": [{"id": "main", "kind": "interval", "unit": "MWh"}],
        }
    )
    path = _write(
        tmp_path,
        "long.csv",
        "ts,meter,value,unit\n"
        "2018-01-01 00:15:00,main,3.5,kWh\n"
        "2018-01-01 00:15:00,ghost,1.0,kWh\n"
        "2018-01-01 00:30:00,main,2.0,m3\n"
        "2018-01-01 00:45:00,main,,kWh\n"
        '"2018-01-01 01:00:00",main,"4.0",kWh\n',
        "utf-8",
    )
    report = import_file(path, mapping, store)
    assert report.readings_new == 2
    reasons = {q.line: q.reason for q in store.quarantined()}
    assert reasons[3].startswith("unknown meter 'ghost'")
    assert reasons[4].startswith("unit 'm3' does not fit meter main (MWh)")
    assert reasons[5] == "the value is empty"
    assert report.reasons["wrong unit"] == 1


def test_stamps_in_a_daylight_saving_gap_are_quarantined(store: Store, tmp_path: Path) -> None:
    mapping = FileMapping.model_validate(
        {
            "timestamp": {"column": "t", "format": "%Y-%m-%d %H:%M", "time_zone": "Europe/Berlin"},
            "values": [{"column": "kwh", "meter": "m", "unit": "kWh"}],
            "meters": [{"id": "m", "kind": "interval", "unit": "kWh"}],
        }
    )
    path = _write(
        tmp_path,
        "dst.csv",
        "t,kwh\n2018-03-25 01:45,1\n2018-03-25 02:30,1\n2018-03-25 03:00,1\n",
        "utf-8",
    )
    report = import_file(path, mapping, store)
    assert report.readings_new == 2
    (gap,) = store.quarantined()
    assert gap.line == 3 and "daylight-saving" in gap.reason
    stamps = [from_epoch_us(int(t)) for t in store.series("m").ts_us]
    assert stamps == [
        datetime(2018, 3, 25, 0, 45, tzinfo=UTC),  # CET, UTC+1
        datetime(2018, 3, 25, 1, 0, tzinfo=UTC),  # CEST, UTC+2
    ]


def test_xlsx_rows_keep_their_excel_row_numbers(store: Store, tmp_path: Path) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "readings"
    sheet.append(["Plant energy export"])
    sheet.append(["date", "Usage_kWh"])
    sheet.append([datetime(2018, 1, 1, 0, 15), 3.17])
    sheet.append(["01/01/2018 00:30", 4.0])
    sheet.append([datetime(2018, 1, 1, 0, 45), "n/a"])
    sheet.append(["not a date", 1.0])
    path = tmp_path / "plant.xlsx"
    workbook.save(path)
    steel = load_mapping(shipped_mapping("steel_industry"))
    mapping = steel.model_copy(update={"header_row": 2, "sheet": "readings"})
    report = import_file(path, mapping, store)
    assert report.readings_new == 2
    assert store.series("daewoo-gwangyang-electricity").value.tolist() == [3.17, 4.0]
    assert {q.line: q.reason for q in store.quarantined()} == {
        5: "'n/a' is not a number",
        6: "cannot read time 'not a date' with format '%d/%m/%Y %H:%M'",
    }


def test_a_file_reader_feeds_any_reading_sink(tmp_path: Path) -> None:
    path = _write(tmp_path, "plant.csv", WIDE_CSV, "utf-8")
    sink = MemorySink()
    reader = FileReader.open(path, WIDE)
    for item in reader:
        if hasattr(item, "reason"):
            sink.quarantine([item])  # type: ignore[list-item]
        else:
            sink.add_readings([item])  # type: ignore[list-item]
    assert len(sink.readings) == 6 and len(sink.rejected) == 6


def test_an_upload_is_imported_from_its_bytes(store: Store) -> None:
    report = import_file(Path("upload.csv"), WIDE, store, data=WIDE_CSV.encode("gb18030"))
    assert (report.readings_new, report.quarantined, report.encoding) == (6, 6, "gb18030")
    assert store.batch(report.batch_id).source_ref == "upload.csv"


def test_a_missing_column_stops_the_import_with_a_clear_error(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path, "plant.csv", "when,kwh\n01/01/2018 00:15,1\n", "utf-8")
    with pytest.raises(IngestError, match=r"column\(s\) 'time'.*not found"):
        import_file(path, WIDE, store)


def test_the_command_reports_counts_and_fails_only_when_it_cannot_run(tmp_path: Path) -> None:
    path = _write(tmp_path, "plant.csv", WIDE_CSV, "gb18030")
    mapping = tmp_path / "plant.yaml"
    mapping.write_text(WIDE.model_dump_json(), encoding="utf-8")  # JSON is YAML
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws"), "CARBONLINK_DATABASE_URL": ""}
    result = CliRunner().invoke(app, ["ingest", "csv", str(path), "-m", str(mapping)], env=env)
    assert result.exit_code == 0, result.output
    assert "quarantined" in result.output and "text in a number" in result.output
    # a path longer than a console line: the message must not be wrapped inside a phrase
    deep = tmp_path / ("d" * 120)
    deep.mkdir()
    command = ["ingest", "csv", str(deep / "nope.csv"), "-m", str(mapping)]
    missing = subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *command],
        env={**env, "PATH": ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert missing.returncode == 2
    assert f"{deep / 'nope.csv'}: no such file" in missing.stderr


def test_the_real_steel_plant_file(store: Store, steel_plant_file: Path) -> None:
    report = import_file(steel_plant_file, load_mapping(shipped_mapping("steel_industry")), store)
    assert (report.records, report.readings_new, report.quarantined) == (35_040, 35_040, 0)
    series = store.series("daewoo-gwangyang-electricity")
    assert round(float(series.value.sum()), 2) == 959_636.71
    # the file's last row, "31/12/2018 00:00", is the end of the year's last interval
    assert from_epoch_us(int(series.ts_us[-1])) == datetime(2018, 12, 31, 15, 0, tzinfo=UTC)
    assert from_epoch_us(int(series.ts_us[0])) == datetime(2017, 12, 31, 15, 15, tzinfo=UTC)


def test_a_file_in_the_steel_plants_layout(store: Store, plant_year_file: Path) -> None:
    report = import_file(plant_year_file, load_mapping(shipped_mapping("steel_industry")), store)
    assert (report.records, report.readings_new, report.quarantined) == (35_040, 35_040, 0)
    series = store.series("daewoo-gwangyang-electricity")
    assert float(series.value.sum()) == 646_800.0  # worked out in the fixture's docstring
    # the file's last row, "31/12/2018 00:00", is the end of the year's last interval
    assert from_epoch_us(int(series.ts_us[-1])) == datetime(2018, 12, 31, 15, 0, tzinfo=UTC)
    assert from_epoch_us(int(series.ts_us[0])) == datetime(2017, 12, 31, 15, 15, tzinfo=UTC)


def test_the_repeated_autumn_hour_is_read_in_order(store: Store, tmp_path: Path) -> None:
    mapping = FileMapping.model_validate(
        {
            "timestamp": {"column": "t", "format": "%Y-%m-%d %H:%M", "time_zone": "Europe/Berlin"},
            "values": [{"column": "kwh", "meter": "m", "unit": "kWh"}],
            "meters": [{"id": "m", "kind": "interval", "unit": "kWh"}],
        }
    )
    wall = ["01:30", "01:45", "02:00", "02:15", "02:30", "02:45", "02:00", "02:15", "03:00"]
    body = "".join(f"2018-10-28 {w},1\n" for w in wall)
    path = _write(tmp_path, "autumn.csv", "t,kwh\n" + body, "utf-8")
    report = import_file(path, mapping, store)
    assert (report.readings_new, report.quarantined) == (9, 0)
    stamps = [from_epoch_us(int(t)).strftime("%H:%M") for t in store.series("m").ts_us]
    # 02:00 and 02:15 occur first in summer time (UTC+2), then again in winter time (UTC+1)
    assert stamps == [
        "23:30",
        "23:45",
        "00:00",
        "00:15",
        "00:30",
        "00:45",
        "01:00",
        "01:15",
        "02:00",
    ]


def test_offsets_across_a_daylight_saving_change_are_kept(store: Store, tmp_path: Path) -> None:
    mapping = FileMapping.model_validate(
        {
            "timestamp": {"column": "t", "time_zone": "Europe/Berlin"},
            "values": [{"column": "kwh", "meter": "m", "unit": "kWh"}],
            "meters": [{"id": "m", "kind": "interval", "unit": "kWh"}],
        }
    )
    body = "t,kwh\n2018-03-25T01:45:00+01:00,1\n2018-03-25T03:00:00+02:00,1\n"
    report = import_file(_write(tmp_path, "offsets.csv", body, "utf-8"), mapping, store)
    assert (report.readings_new, report.quarantined) == (2, 0)
    stamps = [from_epoch_us(int(t)) for t in store.series("m").ts_us]
    assert stamps == [
        datetime(2018, 3, 25, 0, 45, tzinfo=UTC),
        datetime(2018, 3, 25, 1, 0, tzinfo=UTC),
    ]


def test_a_negative_consumption_is_stored_as_suspect(store: Store, tmp_path: Path) -> None:
    mapping = FileMapping.model_validate(
        {
            "timestamp": {"column": "time", "format": "%Y-%m-%d %H:%M", "time_zone": "UTC"},
            "values": [
                {"column": "kwh", "meter": "main", "unit": "kWh"},
                {"column": "net", "meter": "net", "unit": "kWh"},
            ],
            "meters": [
                {"id": "main", "kind": "interval", "unit": "kWh"},
                # a meter whose plausible range goes below zero may read negative (exports)
                {"id": "net", "kind": "interval", "unit": "kWh", "min_value": -100},
            ],
        }
    )
    path = _write(
        tmp_path,
        "negative.csv",
        "time,kwh,net\n2018-01-01 00:15,3.5,-2\n2018-01-01 00:30,-5,4\n",
        "utf-8",
    )
    report = import_file(path, mapping, store)
    assert (report.readings, report.readings_new, report.quarantined) == (4, 4, 0)
    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(readings.c.meter_id, readings.c.value, readings.c.quality))
        quality = {(row.meter_id, row.value): row.quality for row in stored}
    assert quality == {
        ("main", 3.5): "good",
        ("main", -5.0): "suspect",
        ("net", -2.0): "good",
        ("net", 4.0): "good",
    }
    # a reader handing single readings to any sink keeps the verdict
    sink = MemorySink()
    for item in FileReader.open(path, mapping):
        if not isinstance(item, Rejected):
            sink.add_readings([item])
    assert {(r.meter_id, r.value): r.quality for r in sink.readings.values()} == quality
