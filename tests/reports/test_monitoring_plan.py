"""The monitoring plan as a bilingual report: PDF text, XLSX cells, JSON content hash."""

import os
import shutil
import subprocess
from dataclasses import asdict
from pathlib import Path

import pytest
from openpyxl import load_workbook

from carbonlink.monitor.plan import completeness, load_template, plan_from_template
from carbonlink.reports.monitoring_plan import build_plan_report
from carbonlink.reports.render import write_report


@pytest.fixture
def document() -> dict[str, object]:
    template = load_template("iron_steel")
    plan = plan_from_template(
        "works",
        template,
        {"boiler": "fuel_combustion", "power": "purchased_electricity"},
        meters={"power": ["incomer"]},
    )
    findings = completeness(plan, template, meters_with_data=[])
    return build_plan_report(
        plan.model_dump(mode="json") | {"content_hash": plan.content_hash},
        template.model_dump(mode="json"),
        [asdict(f) for f in findings],
        organization="Test Steel",
    )


def test_document_counts_what_the_template_requires(document: dict[str, object]) -> None:
    facts = {f["key"]: f for f in document["facts"]}  # type: ignore[attr-defined]
    # iron_steel requires 7 sources; the plan covers fuel combustion and electricity.
    assert facts["required_covered"]["value"] == 2
    assert facts["required_covered"]["unit"] == "of 7"
    kinds = [row["kind"] for row in document["tables"]["findings"]["rows"]]  # type: ignore[index]
    assert kinds.count("缺少排放源 missing source") == 5
    assert kinds.count("表计无数据 meter without data") == 1


def test_xlsx_lists_every_source_of_the_plan(document: dict[str, object], tmp_path: Path) -> None:
    path = write_report(document, tmp_path / "plan.xlsx", "xlsx")
    sheet = load_workbook(path)["entries"]
    sources = [sheet.cell(row, 1).value for row in range(3, sheet.max_row + 1)]
    assert sources == ["boiler", "power"]
    assert sheet.cell(4, 5).value == "incomer"


def test_pdf_reads_back_in_both_languages(document: dict[str, object], tmp_path: Path) -> None:
    if shutil.which("pdftotext") is None:
        if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
            pytest.fail("pdftotext (poppler-utils) is not installed")
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = write_report(document, tmp_path / "plan.pdf", "pdf")
    text = subprocess.run(
        ["pdftotext", str(path), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "监测计划 Monitoring plan" in text
    assert "电极消耗" in text and "Electrode consumption" in text
    assert str(document["plan"]["content_hash"])[:16] in text  # type: ignore[index]
