"""The China national ETS report by the 2025 steel guideline: tables, mass balance, by hand.

Built on the demo group (steel-enterprise.yaml) and its legal entities (cets-entities.yaml):
each printed row must recompute from the parameters printed beside it, the process balances
must add up to the entity's total, and every entity gets a report of its own.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.domain.engine import Computation, account
from carbonlink.domain.inventory import Inventory, parse_inventory
from carbonlink.domain.uscc import uscc_check_character, uscc_problem
from carbonlink.errors import InputError
from carbonlink.reports.cets_entities import Entities, parse_entities
from carbonlink.reports.china_2025 import build_china_2025_reports
from carbonlink.reports.lines import report_lines
from carbonlink.reports.render import render_html

DEMO = Path(__file__).resolve().parents[2] / "src" / "carbonlink" / "data" / "demo"
INVENTORY = DEMO / "steel-enterprise.yaml"
ENTITIES = DEMO / "cets-entities.yaml"
CO2_PER_C = 44 / 12

REQUIRED_TABLES = {
    "basic": "一、重点排放单位基本信息",
    "summary": "表 1　排放量汇总",
    "products": "附表 1　生产工序及主要产品产量",
    "fuels": "附表 2　化石燃料碳输入",
    "materials": "附表 3　含碳原料、产品的碳输入与碳输出（含外购生铁）",
    "transfers": "附表 4　工序间碳传递",
    "balance": "附表 5　工序层级和企业层级碳平衡",
    "captive_power": "附表 6　自备电厂",
    "purchased_energy": "附表 7　净购入电力和热力（信息项）",
    "excluded": "附表 8　未计入的排放",
    "defaults": "附表 9　缺省值及其来源",
    "inventory": "附表 10　与企业温室气体清单（范围一 CO2）的对照",
}
BASIC_ITEMS = [
    "重点排放单位名称",
    "统一社会信用代码",
    "法定代表人",
    "注册地址",
    "所属行业",
    "生产单元/工序",
]
# Standard names and units may stay as they are; nothing else Latin in a heading.
ALLOWED_LATIN = re.compile(r"tCO2e|tCO2|CO2|tC/GJ|tC/t|tC|GJ/t|GJ|MWh|Nm³|t")


@pytest.fixture(scope="module")
def demo() -> tuple[Inventory, Computation, Entities]:
    inventory = parse_inventory(INVENTORY.read_text("utf-8"), file=INVENTORY.name)
    entities = parse_entities(ENTITIES.read_text("utf-8"), file=ENTITIES.name)
    return inventory, account(inventory, file=INVENTORY.name), entities


@pytest.fixture(scope="module")
def reports(demo) -> dict[str, dict]:
    inventory, result, entities = demo
    documents = build_china_2025_reports(entities.entities, inventory, result)
    return {d["entity_id"]: d for d in documents}


def test_unified_social_credit_codes_are_checked() -> None:
    # the example code printed with GB 32100-2015's explanations is well-formed
    assert uscc_problem("91350100M000100Y43") is None
    assert uscc_check_character("91350100M000100Y4") == "3"
    assert "check character is 4" in (uscc_problem("91350100M000100Y44") or "")
    assert "organization code" in (uscc_problem("91350100M000101Y43") or "")
    assert "18" in (uscc_problem("91350100M000100Y4") or "")
    assert "'I'" in (uscc_problem("91350100M0001I0Y43") or "")


def test_an_entity_with_a_wrong_code_is_refused() -> None:
    data = yaml.safe_load(ENTITIES.read_text("utf-8"))
    data["entities"][1]["uscc"] = "91320582MA1GT7K327"
    with pytest.raises(InputError) as caught:
        parse_entities(yaml.safe_dump(data, allow_unicode=True), file="e.yaml")
    assert "entity jiangsu: entities.1.uscc" in str(caught.value)
    assert "is not valid: its check character is 7, GB 32100-2015 gives 6" in str(caught.value)


def test_one_report_per_legal_entity(reports) -> None:
    assert set(reports) == {"tangshan", "jiangsu"}
    tangshan, jiangsu = reports["tangshan"], reports["jiangsu"]
    assert tangshan["organization"] == "唐山示范钢铁有限公司"
    assert jiangsu["organization"] == "张家港示范冷轧板有限公司"
    for doc in reports.values():
        assert uscc_problem(doc["uscc"]) is None
        basic = {r["item"]: r["value"] for r in doc["tables"]["basic"]["rows"]}
        assert all(basic[item] for item in BASIC_ITEMS), basic
        assert basic["统一社会信用代码"] == doc["uscc"]
    # each report holds only its own sources
    assert {r["source"] for r in jiangsu["tables"]["fuels"]["rows"]} == {"annealing-gas"}
    assert "annealing-gas" not in {r["source"] for r in tangshan["tables"]["fuels"]["rows"]}
    assert not jiangsu["tables"]["captive_power"]["rows"]


def test_every_required_table_is_present_with_its_rows(reports) -> None:
    doc = reports["tangshan"]
    assert {k: doc["tables"][k]["title"] for k in REQUIRED_TABLES} == REQUIRED_TABLES
    tables = doc["tables"]
    processes = [r["process"] for r in tables["balance"]["rows"]]
    assert processes == ["烧结", "炼铁", "炼钢", "热轧", "自备电厂", "辅助生产及其他"]
    assert {r["source"] for r in tables["fuels"]["rows"]} == {
        "bf-coke", "bf-pci", "sinter-fuel", "rolling-mill-gas", "mobile-diesel",
    }  # fmt: skip
    materials = {r["source"]: r for r in tables["materials"]["rows"]}
    (pig_iron,) = [
        r for r in materials.values() if (r["material"], r["process"]) == ("生铁", "炼钢")
    ]
    assert (pig_iron["direction"], pig_iron["activity"]) == ("输入", 30000)
    assert materials["crude-steel"]["direction"] == "输出"
    assert [r["material"] for r in tables["transfers"]["rows"]] == ["铁水", "高炉煤气", "高炉煤气"]
    assert {r["gas"] for r in tables["excluded"]["rows"]} == {
        "CH4", "N2O", "HFC-32", "HFC-125",
    }  # fmt: skip
    assert {r["kind"] for r in tables["purchased_energy"]["rows"]} == {"净购入电力", "输出热力"}
    # every default used says where it comes from and that it is not confirmed from the original
    assert tables["defaults"]["rows"]
    assert all(r["status"].startswith("未与原文核对") for r in tables["defaults"]["rows"])
    # measured and default values are told apart
    sources = {r["source"]: r for r in tables["fuels"]["rows"]}
    assert sources["sinter-fuel"]["ncv_source"].startswith("实测")
    assert sources["bf-coke"]["ncv_source"] == "缺省值"
    assert doc["declaration"]["title"] == "声明"
    assert any(s.startswith("法定代表人（签字）") for s in doc["declaration"]["signatures"])


def test_rows_recompute_from_the_printed_parameters(reports) -> None:
    for doc in reports.values():
        tables = doc["tables"]
        for row in tables["fuels"]["rows"]:
            carbon = row["activity"] * row["ncv"] * row["cc"] * row["oxidation"] / 100
            assert row["carbon"] == pytest.approx(carbon, rel=1e-12)
            assert row["tco2"] == pytest.approx(carbon * CO2_PER_C, rel=1e-12)
        for row in tables["materials"]["rows"]:
            assert row["carbon"] == pytest.approx(row["activity"] * row["cc"], rel=1e-12)
            sign = 1 if row["direction"] == "输入" else -1
            assert row["tco2"] == pytest.approx(sign * row["carbon"] * CO2_PER_C, rel=1e-12)
        for row in tables["transfers"]["rows"]:
            per_unit = row["carbon_content"] if row["unit"] == "t" else row["ncv"] * row["cc"]
            assert row["carbon"] == pytest.approx(row["activity"] * per_unit, rel=1e-12)


def test_hand_worked_lines() -> None:
    """Worked by hand from the guideline defaults (附表 9) and the dataset's quantities."""
    inventory = parse_inventory(INVENTORY.read_text("utf-8"))
    entities = parse_entities(ENTITIES.read_text("utf-8"))
    docs = build_china_2025_reports(entities.entities, inventory, account(inventory))
    tangshan = {d["entity_id"]: d for d in docs}["tangshan"]["tables"]
    fuels = {r["source"]: r for r in tangshan["fuels"]["rows"]}
    # coke: 360 000 t × 28.447 GJ/t × 0.02950 tC/GJ × 93 % = 280 959.64 tC
    assert fuels["bf-coke"]["carbon"] == pytest.approx(280959.6402)
    # natural gas: 1 200 ×10⁴ Nm³ × 389.31 × 0.01530 × 99 % × 44/12 = 25 946.27 tCO2
    assert (fuels["rolling-mill-gas"]["activity"], fuels["rolling-mill-gas"]["unit"]) == (
        pytest.approx(1200),
        "10⁴Nm³",
    )
    assert fuels["rolling-mill-gas"]["tco2"] == pytest.approx(25946.2657, rel=1e-9)
    # blast-furnace gas to the power plant: 51 500 ×10⁴ Nm³ × 33.000 × 0.07080 = 120 324.6 tC
    power_gas = tangshan["transfers"]["rows"][1]
    assert power_gas["carbon"] == pytest.approx(120324.6)
    # purchased pig iron: 30 000 t × 0.04691 tC/t = 1 407.3 tC
    (pig_iron,) = [
        r
        for r in tangshan["materials"]["rows"]
        if r["process"] == "炼钢" and r["material"] == "生铁"
    ]
    assert pig_iron["carbon"] == pytest.approx(1407.3)
    # the power plant burns nothing but that gas: 120 324.6 × 44/12 over 165 000 MWh
    (plant,) = tangshan["captive_power"]["rows"]
    assert plant["tco2"] == pytest.approx(120324.6 * 44 / 12)
    assert plant["intensity"] == pytest.approx(120324.6 * 44 / 12 / 165000)


def test_mass_balance_adds_up_by_process_and_for_the_entity(reports) -> None:
    for doc in reports.values():
        tables = doc["tables"]
        by_process: dict[str, float] = {}
        for row in tables["fuels"]["rows"]:
            by_process[row["process"]] = by_process.get(row["process"], 0) + row["carbon"]
        for row in tables["materials"]["rows"]:
            sign = 1 if row["direction"] == "输入" else -1
            by_process[row["process"]] = by_process.get(row["process"], 0) + sign * row["carbon"]
        for row in tables["transfers"]["rows"]:
            by_process[row["to"]] = by_process.get(row["to"], 0) + row["carbon"]
            by_process[row["from"]] = by_process.get(row["from"], 0) - row["carbon"]
        balance = tables["balance"]
        for row in balance["rows"]:
            assert row["net"] == pytest.approx(by_process.get(row["process"], 0), abs=1e-6)
            assert row["tco2"] == pytest.approx(row["net"] * CO2_PER_C)
        total = balance["total"]
        assert total["transfer_in"] == pytest.approx(total["transfer_out"])
        entity_carbon = sum(by_process.values())
        assert total["tco2"] == pytest.approx(entity_carbon * CO2_PER_C)
        assert sum(r["tco2"] for r in balance["rows"]) == pytest.approx(total["tco2"])
        facts = {f["key"]: f["value"] for f in doc["facts"]}
        assert facts["ets_direct_co2"] == pytest.approx(total["tco2"])
        assert doc["tables"]["summary"]["total"]["tco2"] == pytest.approx(total["tco2"])
    # the Jiangsu site burns natural gas only: 150 ×10⁴ Nm³ × 389.31 × 0.0153 × 99 % × 44/12
    assert reports["jiangsu"]["totals"]["ets_direct_co2"] == pytest.approx(3243.2832135)


def test_titles_and_headers_are_chinese_only(reports) -> None:
    for doc in reports.values():
        texts = [doc["title"], *(f["label"] for f in doc["facts"])]
        for spec in doc["tables"].values():
            texts.append(spec["title"])
            texts += [c["label"] for c in spec["columns"]]
        leftovers = [t for t in texts if re.search(r"[A-Za-z]", ALLOWED_LATIN.sub("", t))]
        assert leftovers == []
        page = render_html(doc)
        headings = re.findall(r"<(?:th|caption|h1|h2)[^>]*>(.*?)</(?:th|caption|h1|h2)>", page)
        plain = [re.sub(r"<[^>]+>", "", h) for h in headings]
        assert [h for h in plain if re.search(r"[A-Za-z]", ALLOWED_LATIN.sub("", h))] == []


def test_a_source_without_a_process_is_refused(demo) -> None:
    inventory, result, _ = demo
    data = yaml.safe_load(ENTITIES.read_text("utf-8"))
    data["entities"][0]["processes"][0]["sources"].remove("flux-dolomite")
    entities = parse_entities(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(InputError, match=r"flux-dolomite .* is not given to a process"):
        build_china_2025_reports(entities.entities, inventory, result)


def test_rulebooks_are_selectable(tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["report", "china", str(INVENTORY), "-f", "json"]
    done = runner.invoke(app, [*base, "--entities", str(ENTITIES), "-o", str(tmp_path / "c.json")])
    assert done.exit_code == 0, done.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c-jiangsu.json", "c-tangshan.json"]
    refused = runner.invoke(app, [*base, "-o", str(tmp_path / "d.json")])
    assert refused.exit_code != 0 and "--entities" in str(refused.exception)
    for rulebook, standard in (
        ("cn-steel-2013", "中国钢铁生产企业温室气体排放核算方法与报告指南"),
        ("gbt32150-2015", "GB/T 32150-2015"),
    ):
        out = tmp_path / f"{rulebook}.json"
        done = runner.invoke(app, [*base, "--rulebook", rulebook, "-o", str(out)])
        assert done.exit_code == 0, done.output
        document = yaml.safe_load(out.read_text("utf-8"))
        assert document["rulebook"] == rulebook
        assert standard in document["subtitle"]


def test_workbook_is_in_chinese_with_numbers_and_the_declaration(reports, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from carbonlink.reports.render import write_report

    path = write_report(reports["tangshan"], tmp_path / "c.xlsx", "xlsx")
    book = load_workbook(path)
    assert book.sheetnames[:3] == ["概要", "一、重点排放单位基本信息", "表 1\u3000排放量汇总"]
    summary = [row for row in book["概要"].iter_rows(values_only=True)]
    assert ("项目", "数值", "单位") in summary
    assert ("声明", None, None) in summary
    balance = book["附表 5\u3000工序层级和企业层级碳平衡"]
    last = [c.value for c in balance[balance.max_row - 2]]  # total row, then the note
    assert last[0] == "企业层级"
    assert last[-1] == pytest.approx(reports["tangshan"]["totals"]["ets_direct_co2"])


def test_a_flow_the_dataset_holds_is_taken_from_it_and_a_missing_one_from_the_entities(
    demo, reports
) -> None:
    """The demo inventory holds the purchased pig iron: its source is used, not the entities
    file's supplement. Without that source the supplement stands in, marked as such, and the
    ETS total is the same."""
    _, _, entities = demo
    doc = reports["tangshan"]
    rows = [r for r in doc["tables"]["materials"]["rows"] if r["material"] == "生铁"]
    assert [(r["source"], r["process"], r["direction"]) for r in rows] == [
        ("bought-pig-iron", "炼钢", "输入"),
        ("merchant-pig-iron", "炼铁", "输出"),
    ]
    assert "企业数据集未含" not in rows[0]["ad_source"]

    data = yaml.safe_load(INVENTORY.read_text("utf-8"))
    sources = data["facilities"][0]["sources"]
    data["facilities"][0]["sources"] = [s for s in sources if s["id"] != "bought-pig-iron"]
    assert len(data["facilities"][0]["sources"]) == len(sources) - 1
    without = parse_inventory(yaml.safe_dump(data, allow_unicode=True))
    (fallback, _) = build_china_2025_reports(entities.entities, without, account(without))
    bought = [
        r
        for r in fallback["tables"]["materials"]["rows"]
        if r["material"] == "生铁" and r["direction"] == "输入"
    ]
    assert len(bought) == 1 and "企业数据集未含" in bought[0]["ad_source"]
    assert fallback["totals"]["ets_direct_co2"] == pytest.approx(doc["totals"]["ets_direct_co2"])


def test_the_inventory_comparison_closes_source_by_source(demo, reports) -> None:
    inventory, result, _ = demo
    doc = reports["tangshan"]
    table = doc["tables"]["inventory"]
    scope1_co2 = sum(
        x.tco2e
        for x in report_lines(inventory, result)
        if x.facility.id == "tangshan-works" and x.scope == "1" and x.gas == "CO2"
    )
    assert table["total"]["inventory"] == pytest.approx(scope1_co2)
    assert table["total"]["report"] == pytest.approx(doc["totals"]["ets_direct_co2"])
    assert sum(r["difference"] for r in table["rows"]) == pytest.approx(
        table["total"]["difference"]
    )
    rows = {r["source"]: r for r in table["rows"]}
    assert rows["bf-coke"]["reason"] == "参数一致"
    # dolomite: 40 000 t × (0.12982 × 44/12 − 0.471) t CO2/t
    assert rows["flux-dolomite"]["difference"] == pytest.approx(40000 * (0.12982 * 44 / 12 - 0.471))
    assert rows["flux-dolomite"]["reason"].startswith("排放因子不同")
    assert rows["merchant-pig-iron"]["inventory"] == 0


def test_a_bad_entities_file_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    runner = CliRunner()
    text = ENTITIES.read_text("utf-8")
    bad = tmp_path / "entities.yaml"
    bad.write_text(text.replace("sources: [bf-coke, bf-pci]", "sources: [bf-coke, bf-pcx]"))
    args = [
        "report",
        "china",
        str(INVENTORY),
        "--entities",
        str(bad),
        "-o",
        str(tmp_path / "c.pdf"),
    ]
    done = runner.invoke(app, args)
    assert isinstance(done.exception, InputError)
    assert str(done.exception).startswith(
        f"{bad}: entity tangshan: process ironmaking names the source 'bf-pcx'"
    )
    assert not list(tmp_path.glob("c*.pdf"))


def test_a_blended_fuel_counts_its_fossil_part_only(demo, reports) -> None:
    _, _, entities = demo
    data = yaml.safe_load(INVENTORY.read_text("utf-8"))
    diesel = next(s for s in data["facilities"][0]["sources"] if s["id"] == "mobile-diesel")
    diesel["biomass_fraction"] = 0.1  # B10 biodiesel blend
    inventory = parse_inventory(yaml.safe_dump(data, allow_unicode=True))
    (doc, _) = build_china_2025_reports(entities.entities, inventory, account(inventory))
    (row,) = [r for r in doc["tables"]["fuels"]["rows"] if r["source"] == "mobile-diesel"]
    assert row["activity"] == pytest.approx(1800 * 0.9)
    assert row["carbon"] == pytest.approx(1800 * 0.9 * 42.652 * 0.0202 * 0.98)
    assert "扣除生物质 10%" in row["ad_source"]
    excluded = {(r["source"], r["reason"]) for r in doc["tables"]["excluded"]["rows"]}
    assert ("mobile-diesel", "生物质燃烧 CO2，不计入") in excluded
    inventory_row = next(
        r for r in doc["tables"]["inventory"]["rows"] if r["source"] == "mobile-diesel"
    )
    assert inventory_row["difference"] == pytest.approx(0, abs=1e-6)
