"""The data-quality control plan: drafted from the guideline's structure, versioned, exported in
Chinese, and checked against the samples recorded (CETS-P7)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest
from cets_fixture import small_plan
from openpyxl import load_workbook

from carbonlink.cets.control_plan import ProcessPlan, SourceInfo, draft_plan, sampling_findings
from carbonlink.cets.operations import plan_for_entity
from carbonlink.domain.inventory import parse_inventory
from carbonlink.errors import InputError
from carbonlink.reports.cets_entities import load_entities
from carbonlink.reports.cets_reports import control_plan_document
from carbonlink.reports.render import write_report


def test_draft_plan_says_how_each_parameter_is_determined() -> None:
    plan = small_plan()
    pci = {p.parameter: p for p in plan.parameters if p.source == "bf-pci"}
    assert (pci["ncv"].determination, pci["ncv"].frequency) == ("measured", "monthly")
    assert pci["carbon_content"].determination == "measured"
    assert pci["consumption"].instrument is not None
    assert pci["consumption"].instrument.accuracy_class == "III"
    assert pci["oxidation"].determination == "default"
    gas = {p.parameter: p for p in plan.parameters if p.source == "mill-gas"}
    # natural gas: the guideline defaults (data/cets/steel_guideline_2025.csv, unconfirmed)
    assert gas["ncv"].default_value == pytest.approx(389.31)
    assert gas["carbon_per_heat"].default_value == pytest.approx(0.0153)
    limestone = {p.parameter: p for p in plan.parameters if p.source == "flux-limestone"}
    assert limestone["carbon_content"].default_value == pytest.approx(0.12)
    assert {p.source for p in plan.parameters if p.parameter == "output"} == {
        "ironmaking",
        "rolling",
        "sintering",
    }
    assert plan.measured() == {
        ("tangshan", "bf-pci", "ncv"),
        ("tangshan", "bf-pci", "carbon_content"),
    }


def test_a_process_naming_a_source_the_dataset_lacks_is_refused() -> None:
    plan = small_plan()
    with pytest.raises(InputError, match="ghost"):
        draft_plan(
            "x",
            "X",
            [plan.processes[0].model_copy(update={"sources": ("ghost",)})],
            list(plan.sources),
        )


def test_versions_chain_by_content_hash() -> None:
    v1 = small_plan()
    same = v1.model_copy(update={"version": 7})
    assert same.content_hash == v1.content_hash  # the version is not content
    v2 = v1.next_version(boundary="唐山厂区")
    assert (v2.version, v2.replaces) == (2, v1.content_hash)
    assert v2.content_hash != v1.content_hash


def test_demo_entity_plan_covers_its_processes() -> None:
    data = resources.files("carbonlink.data").joinpath("demo")
    entities = load_entities(Path(str(data.joinpath("cets-entities.yaml"))))
    tangshan = next(e for e in entities.entities if e.id == "tangshan")
    inventory = parse_inventory(data.joinpath("steel-enterprise.yaml").read_text("utf-8"))
    plan = plan_for_entity(tangshan, inventory)
    assert [p.code for p in plan.processes] == [p.code for p in tangshan.processes]
    measured = {(p.source, p.parameter) for p in plan.parameters if p.determination == "measured"}
    for coal in ("bf-coke", "bf-pci", "sinter-fuel"):
        assert {(coal, "ncv"), (coal, "carbon_content")} <= measured
    assert ("grid-power", "purchased_electricity") in measured


def test_sampling_less_often_than_the_plan_is_a_finding() -> None:
    """Hand-worked: the plan samples PCI coal monthly. January has one sample (enough), February
    none (finding, 0 < 1). With the plan changed to weekly, January's one sample is short of 4;
    to daily, February 2025 needs 28; to quarterly, Q1 with one sample in January is enough."""
    plan = small_plan()
    samples = {("2025-01", "bf-pci", "ncv"): 1, ("2025-01", "bf-pci", "carbon_content"): 1}
    found = sampling_findings(plan, samples, ["2025-01", "2025-02"])
    assert [(f.rule, f.month, f.parameter, f.value) for f in found] == [
        ("CETS-P7", "2025-02", "ncv", 0.0),
        ("CETS-P7", "2025-02", "carbon_content", 0.0),
    ]
    assert "每月" in found[0].detail

    def with_frequency(frequency: str):  # type: ignore[no-untyped-def]
        return plan.model_copy(
            update={
                "parameters": tuple(
                    p.model_copy(update={"frequency": frequency})
                    if p.parameter in ("ncv", "carbon_content")
                    else p
                    for p in plan.parameters
                )
            }
        )

    weekly = sampling_findings(with_frequency("weekly"), samples, ["2025-01"])
    assert {(f.month, f.value) for f in weekly} == {("2025-01", 1.0)}
    assert "at least 4 a month" in weekly[0].detail
    daily = sampling_findings(
        with_frequency("daily"), {("2025-02", "bf-pci", "ncv"): 27}, ["2025-02"]
    )
    assert [(f.parameter, f.value) for f in daily] == [("ncv", 27.0), ("carbon_content", 0.0)]
    assert "at least 28 a month" in daily[0].detail
    quarterly = sampling_findings(
        with_frequency("quarterly"), samples, ["2025-01", "2025-02", "2025-03", "2025-04"]
    )
    # Q1 has January's sample; Q2 (April alone here) has none
    assert {(f.month, f.parameter) for f in quarterly} == {
        ("2025-04", "ncv"),
        ("2025-04", "carbon_content"),
    }


def test_export_is_the_guidelines_tables_in_chinese(tmp_path: Path) -> None:
    plan = small_plan()
    document = control_plan_document(plan)
    assert document["title"] == "数据质量控制计划"
    assert [t["title"][:3] for t in document["tables"].values()] == [
        "表1 ",
        "表2 ",
        "表3 ",
        "表4 ",
        "表5 ",
        "表6 ",
    ]
    xlsx = write_report(document, tmp_path / "plan.xlsx", "xlsx")
    book = load_workbook(xlsx)
    assert book.sheetnames[0] == "概要"
    sheet = next(s for s in book.worksheets if s.title.startswith("表4"))
    header = [c.value for c in sheet[2]]
    assert header[:5] == ["排放源", "工序", "参数", "单位", "获取方式"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=3)]
    assert ["bf-pci", "炼铁", "低位发热量", "GJ/t", "实测"] in [v[:5] for v in values]
    pdf = write_report(document, tmp_path / "plan.pdf", "pdf")
    assert pdf.read_bytes().startswith(b"%PDF")


def test_table_3_names_materials_in_chinese() -> None:
    """Process materials (electrodes, ferrochrome, crude steel) are named in Chinese in 表3, as
    the fuels are, from the project's names table."""
    plan = draft_plan(
        "tangshan",
        "唐山示范钢铁有限公司",
        [ProcessPlan(code="steelmaking", name="炼钢", sources=("lf-electrodes", "crude-steel"))],
        [
            SourceInfo(id="lf-electrodes", method="process", fuel="electrodes"),
            SourceInfo(id="crude-steel", method="carbon_in_product", fuel="crude_steel"),
        ],
        uscc="91130200MA0CL2N55X",
        laboratory="示例检测中心",
    )
    rows = control_plan_document(plan)["tables"]["sources"]["rows"]
    assert {row["id"]: row["fuel"] for row in rows} == {
        "lf-electrodes": "电极",
        "crude-steel": "粗钢",
    }
