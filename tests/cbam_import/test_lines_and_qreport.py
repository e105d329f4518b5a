"""Reading customs lines (bad rows quarantined, none dropped) and the quarterly report XML."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import Workbook

from carbonlink.cbam_import.declaration import CommunicatedGood, Communication
from carbonlink.cbam_import.lines import COLUMNS, read_lines
from carbonlink.cbam_import.qreport import (
    NAMESPACE,
    Declarant,
    SchemaError,
    quarterly_report,
    schema_path,
    transitional_quarters,
    validate,
)
from carbonlink.errors import InputError

HEADER = ",".join(COLUMNS)
GOOD = "D-1,1,2025-02-03,72083900,120.5,CN,CN-TANGSHAN,Demo Steel"


def write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "lines.csv"
    path.write_text("\n".join((HEADER, *rows)) + "\n", encoding="utf-8")
    return path


def test_good_and_bad_rows_are_all_accounted_for(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD,
        "D-1,2,2025-02-03,7208390,10,CN,CN-TANGSHAN,Demo Steel",  # 7 digits
        "D-1,3,2025-02-30,72083900,10,CN,CN-TANGSHAN,Demo Steel",  # no such day
        "D-1,4,2025-02-03,72083900,-3,CN,CN-TANGSHAN,Demo Steel",  # negative mass
        "D-1,5,2025-02-03,72083900,10,China,CN-TANGSHAN,Demo Steel",  # not ISO
        "D-1,6,2025-02-03,72083900,10,CN,,Demo Steel",  # no installation
        GOOD,  # the same item again
    )
    read = read_lines(path)
    assert [ln.key for ln in read.lines] == ["D-1/1"]
    assert read.lines[0].net_mass_t == 120.5 and read.lines[0].quarter == 1
    reasons = {q.row: q.reason for q in read.quarantined}
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "8-digit CN code" in reasons[3]
    assert "is not a date" in reasons[4]
    assert "positive number" in reasons[5]
    assert "two-letter" in reasons[6]
    assert "installation_id" in reasons[7]
    assert "appears twice" in reasons[8]


def test_missing_column_is_refused_naming_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "lines.csv"
    path.write_text("declaration,item,date\nD,1,2025-01-01\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"missing column.*cn_code"):
        read_lines(path)


def test_xlsx_lines_read_like_csv(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(COLUMNS))
    sheet.append(["D-9", 1, datetime(2026, 4, 2), 72083900, 50.25, "IN", "IN-MILL", "Mill"])
    sheet.append(["D-9", 2, "yesterday", "72083900", 5, "IN", "IN-MILL", "Mill"])
    path = tmp_path / "lines.xlsx"
    book.save(path)
    read = read_lines(path)
    assert [(ln.key, ln.released, ln.cn_code) for ln in read.lines] == [
        ("D-9/1", date(2026, 4, 2), "72083900")
    ]
    assert [q.key for q in read.quarantined] == ["D-9/2"]


def test_other_file_kinds_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "lines.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"csv or \.xlsx"):
        read_lines(path)


DECLARANT = Declarant("DE123456789012345", "Demo Import GmbH", "DE", "Duisburg", "Hafenstr. 1")
TANGSHAN = Communication(
    "CN-TANGSHAN",
    "Tangshan works",
    "CN",
    date(2025, 1, 1),
    date(2025, 12, 31),
    (CommunicatedGood("72083900", 1.464685, 0.39923),),
)


def test_quarterly_report_validates_and_holds_the_hand_worked_totals(tmp_path: Path) -> None:
    """2025 Q1: 120.5 t from Tangshan (actual 1.464685 + 0.39923) and 10 t Indian default 4.28.

    Tangshan: direct 120.5 × 1.464685 = 176.4945425, indirect 120.5 × 0.39923 = 48.107215;
    India: 42.8 direct, 0 indirect. Overall 176.4945425 + 48.107215 + 42.8 = 267.4017575.
    """
    path = write(tmp_path, GOOD, "D-2,1,2025-03-30,72083900,10,IN,IN-MILL,Indian mill")
    lines = read_lines(path).lines
    xml = quarterly_report(
        2025,
        1,
        lines,
        {"CN-TANGSHAN": TANGSHAN},
        DECLARANT,
        submitted=datetime(2025, 4, 20, tzinfo=UTC),
    )
    validate(xml)  # also done inside; explicit for the reader
    root = etree.fromstring(xml)
    ns = {"q": NAMESPACE}
    assert root.findtext("q:ReportingPeriod", namespaces=ns) == "Q1"
    assert root.findtext("q:TotalEmissions/q:OverallEmissions", namespaces=ns) == "267.4017575"
    goods = root.findall("q:ImportedGood", ns)
    assert [g.findtext("q:OriginCountry/q:Country", namespaces=ns) for g in goods] == ["CN", "IN"]
    india = goods[1].find("q:GoodsEmissions/q:DirectEmissions", ns)
    assert india is not None
    assert india.findtext("q:DeterminationType", namespaces=ns) == "02"
    assert india.findtext("q:SpecificEmbeddedEmissions", namespaces=ns) == "4.2800000"


def test_a_report_that_breaks_the_schema_is_refused(tmp_path: Path) -> None:
    lines = read_lines(write(tmp_path, GOOD)).lines
    xml = quarterly_report(2025, 1, lines, {"CN-TANGSHAN": TANGSHAN}, DECLARANT)
    broken = xml.replace(
        b"<ReportingPeriod>Q1</ReportingPeriod>", b"<ReportingPeriod>Q5</ReportingPeriod>"
    )
    with pytest.raises(SchemaError, match="ReportingPeriod"):
        validate(broken)
    with pytest.raises(SchemaError, match="well-formed"):
        validate(b"<QReport")


def test_schema_is_marked_as_not_official() -> None:
    assert "NOT THE OFFICIAL SCHEMA" in schema_path().read_text(encoding="utf-8")[:200]


def test_only_transitional_quarters_are_reported(tmp_path: Path) -> None:
    assert transitional_quarters()[0] == (2023, 4) and transitional_quarters()[-1] == (2025, 4)
    assert len(transitional_quarters()) == 9
    lines = read_lines(write(tmp_path, GOOD.replace("2025-02-03", "2026-02-03"))).lines
    with pytest.raises(InputError, match="not a transitional-period quarter"):
        quarterly_report(2026, 1, lines, {}, DECLARANT)
