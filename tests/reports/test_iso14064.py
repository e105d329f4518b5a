"""ISO 14064-1:2018 clause 9.3.1, item by item, over the rendered inventory report (HTML and PDF).

The demo inventory is reported with the demo's statement file and uncertainty assumptions; every
item is looked for in the text a reader sees: the HTML with its tags removed, and the text
``pdftotext -raw`` extracts from the PDF (in the order it was laid out). Expected values come
from the statement file and from the report document's numbers, formatted as printed.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.reports.inventory import build_inventory_report
from carbonlink.reports.iso14064 import CHECKLIST
from carbonlink.reports.iso_statement import parse_statement
from carbonlink.reports.render import format_number, write_report
from carbonlink.reports.uncertainty import parse_uncertainty_spec, uncertainty_section

DEMO = resources.files("carbonlink.data").joinpath("demo")


def demo_text(name: str) -> str:
    return DEMO.joinpath(name).read_text("utf-8")


def flat(text: str) -> str:
    """Whitespace collapsed to single spaces (table cells and wrapped lines alike)."""
    return " ".join(text.split())


def html_text(markup: str) -> str:
    return flat(html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def pdf_text(path: Path) -> str:
    done = subprocess.run(
        ["pdftotext", "-raw", str(path), "-"], capture_output=True, text=True, check=True
    )
    return flat(done.stdout)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo inventory report as document, HTML text and PDF text."""
    folder = tmp_path_factory.mktemp("iso")
    inventory = parse_inventory(demo_text("steel-enterprise.yaml"), file="steel-enterprise.yaml")
    result = account(inventory)
    spec = parse_uncertainty_spec(demo_text("uncertainty.yaml"), file="uncertainty.yaml")
    statement_yaml = demo_text("iso-statement.yaml")
    document = build_inventory_report(
        inventory,
        result,
        source_file="steel-enterprise.yaml",
        uncertainty=uncertainty_section(result, spec, assumptions="uncertainty.yaml"),
        statement=parse_statement(statement_yaml, file="iso-statement.yaml"),
    )
    html_path = write_report(document, folder / "inventory.html", "html")
    pdf_path = write_report(document, folder / "inventory.pdf", "pdf")
    return {
        "doc": document,
        "said": yaml.safe_load(statement_yaml),
        "texts": {
            "html": html_text(html_path.read_text("utf-8")),
            "pdf": pdf_text(pdf_path),
        },
    }


def rows(document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    return list(document["tables"][name]["rows"])


FORMATS = ("html", "pdf")


@pytest.mark.parametrize("fmt", FORMATS)
def test_clause_9_3_1_items_are_answered_in_the_text(rendered: dict[str, Any], fmt: str) -> None:
    text, doc, said = rendered["texts"][fmt], rendered["doc"], rendered["said"]
    n = format_number

    # a) the reporting organization, b) the person responsible
    assert flat(f"{doc['organization']}: {said['organization_description']}") in text
    responsible = said["responsible"]
    assert f"Responsible person {responsible['name']}, {responsible['role']}" in text
    # c) the reporting period
    assert "Reporting period 2025-01-01 – 2025-12-31" in text
    # d) organizational boundary with every facility
    assert "Organizational boundary operational control approach" in text
    for facility in doc["boundaries"]["facilities"]:
        assert facility["name"] in text
    # e) reporting boundary and the significance criteria
    assert "Reporting boundary Scope 1 and Scope 2" in text
    assert flat(said["significance_criteria"]) in text
    assert "Significance threshold 1 % of total emissions" in text

    # f) direct emissions per gas, every Kyoto gas named, absent ones with the reason
    direct = rows(doc, "iso_direct_by_gas")
    for row in direct:
        if row["status"] == "quantified":
            cells = f"{row['gas']} {n(row['mass_t'])} {n(row['gwp'], -1)} {n(row['tco2e'])}"
            assert f"{cells} quantified" in text, row["gas"]
    for gas in ("SF6", "PFCs", "NF3"):
        reason = flat(said["excluded_gases"][gas])
        assert f"{gas} 0.000 0.000 not emitted within the boundary: {reason}" in text
    gross = sum(row["tco2e"] for row in direct)
    assert f"Total {n(gross)}" in text
    # g) biogenic CO2 apart, with its treatment
    assert f"Biogenic CO2 {n(doc['totals']['biogenic_co2'])} t CO2, outside the scopes" in text
    assert flat(said["biogenic_treatment"]) in text
    # h) removals apart from emissions; carbon retained in products shown, not netted unseen
    assert "Direct GHG removals none quantified" in text
    (steel,) = rows(doc, "iso_retained")
    assert steel["tco2"] == pytest.approx(steel["quantity"] * steel["factor"])
    assert f"Carbon retained in products (deducted) {n(steel['tco2'])} t CO2" in text
    assert (
        f"Direct emissions before the product-carbon deduction {n(gross)} t CO2e" in text
        and f"Direct emissions (category 1, Scope 1) {n(gross - steel['tco2'])}" in text
    )
    assert gross - steel["tco2"] == pytest.approx(doc["totals"]["scope1"])
    # i) exclusions with their reasons
    for gas in ("SF6", "PFCs", "NF3"):
        assert f"{gas} (direct emissions) not emitted within the boundary" in text
    category5 = next(c for c in said["categories"] if c["category"] == 5)
    assert f"ISO category 5 {flat(category5['reason'])}" in text
    # j) indirect emissions per category with significance and treatment
    for row in rows(doc, "iso_indirect"):
        cells = f"{row['category']} {row['label']}"
        assert cells in text
        assert f"{n(row['location'])} {n(row['market'])} {row['significance']}" in text
    assert n(doc["totals"]["scope2_location"]) in text

    # k) base year and its inventory, l) recalculation policy and threshold
    assert "Base year 2025" in text
    assert "Base-year inventory this report's inventory" in text
    assert flat(said["base_year"]["recalculation_policy"]) in text
    assert "Recalculation threshold 5 % of base-year emissions" in text
    # m) quantification approaches, n) changes in methods, o) factors with their sources
    assert (
        "Q × EF_grid GHG Protocol Scope 2 Guidance (2015) ch. 6–7 purchased electricity; dual "
        "reporting as the Scope 2 Guidance requires" in text
    )
    assert f"Changes in methods {said['changes_in_methods']}" in text
    assert "cn-mee-nbs/residual_mix/CN/2023" in text and "0.6096" in text
    assert "MEE/NBS announcement of January 2026" in text
    # p), q) uncertainty per category
    for row in rows(doc, "uncertainty_by_category"):
        if row["central"] is not None:
            assert f"{row['label']} {n(row['central'])} {n(row['u95_pct'], 1)}" in text
    assert "IPCC 2006 Vol. 1 Ch. 3 Approach 1" in text
    # r) conformity, s) verification and assurance
    assert f"Statement of conformity {flat(said['conformity'])}" in text
    assert "Verification status verification planned" in text
    assert "Level of assurance limited" in text and "ISO 14064-3:2019" in text
    # t) GWP values of CH4 and N2O with their source table
    assert "CH4 28 AR5 IPCC AR5 WG1 (2013), Table 8.A.1" in text
    assert "N2O 265 AR5 IPCC AR5 WG1 (2013), Table 8.A.1" in text
    # report date and version
    assert "Report date 2026-03-31" in text and "Report version 1.0" in text

    # the checklist lists items a) to t), each provided
    checklist = rows(doc, "iso_checklist")
    assert [row["item"] for row in checklist] == [f"{c})" for c in "abcdefghijklmnopqrst"]
    assert {row["status"] for row in checklist} == {"provided"}
    assert "ISO 14064-1:2018 clause 9.3.1 checklist" in text


MARKET = re.compile(
    r"(?P<facility>[a-z-]+) (?P<source>grid-power) (?P<basis>green certificate|ppa|"
    r"residual mix \(uncovered rest\)) (?:(?P<instrument>\S+) (?P<vintage>\d{4}) )?"
    r"(?P<quantity>[\d,]+\.\d) MWh (?P<factor>[\d.]+) (?P<factor_id>\S+) (?P<tco2e>[\d,]+\.\d{3})"
)


def number(text: str) -> float:
    return float(text.replace(",", ""))


@pytest.mark.parametrize("fmt", FORMATS)
def test_market_based_scope_2_recomputes_from_the_page(rendered: dict[str, Any], fmt: str) -> None:
    """Instrument and residual-mix quantities add up to consumption; MWh × factor = emissions."""
    text = rendered["texts"][fmt]
    found = [m.groupdict() for m in MARKET.finditer(text)]
    per_source: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        per_source.setdefault(row["facility"], []).append(row)
    assert set(per_source) == {"tangshan-works", "jiangsu-coating"}
    for facility, own in per_source.items():
        assert any(r["instrument"] for r in own), facility
        # the source's line in "Results by source": activity, Scope 1, 2 location, 2 market
        consumption = re.search(
            rf"{facility} grid-power electricity ([\d,]+\.\d) MWh [\d,.]+ [\d,.]+ ([\d,.]+)",
            text,
        )
        assert consumption, facility
        printed_market = number(consumption.group(2))
        assert sum(number(r["quantity"]) for r in own) == pytest.approx(
            number(consumption.group(1))
        )
        recomputed = sum(number(r["quantity"]) * float(r["factor"]) for r in own)
        assert recomputed == pytest.approx(printed_market, abs=0.001)
        for r in own:
            assert number(r["quantity"]) * float(r["factor"]) == pytest.approx(
                number(r["tco2e"]), abs=0.001
            )


def test_json_lineage_multiplies_the_quantity_it_reports() -> None:
    """Every line's mass is its activity quantity × coefficient (the residual mix's rest)."""
    inventory = parse_inventory(demo_text("steel-enterprise.yaml"), file="demo")
    lines = account(inventory).lines()
    for line in lines:
        assert line["mass_t"] == pytest.approx(
            line["activity"]["quantity"] * line["coefficient"], rel=1e-12, abs=1e-9
        ), (line["facility"], line["source"], line["category"])
    market = [x for x in lines if x["scope"] == "2_market" and x["source"] == "grid-power"]
    for facility in {x["facility"] for x in market}:
        own = [x for x in market if x["facility"] == facility]
        consumption = own[0]["activity"]["source_quantity"]
        assert sum(x["activity"]["quantity"] for x in own) == pytest.approx(consumption)
        residual = next(x for x in own if x["category"] == "residual_mix")
        assert residual["activity"]["quantity"] < consumption


SMALL = {
    "organization": "Example Steel Co.",
    "period": {"start": "2025-01-01", "end": "2025-12-31"},
    "facilities": [
        {
            "id": "plant-1",
            "grid": "CN-East",
            "sources": [
                {"id": "flux", "method": "carbonate", "material": "limestone",
                 "activity": {"quantity": 5000, "unit": "t"}},
                {"id": "power", "method": "electricity",
                 "activity": {"quantity": 1000, "unit": "MWh"}},
            ],
        }
    ],
}  # fmt: skip


def carbonlink(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": ""},
    )
    done.stderr = " ".join(done.stderr.split())
    return done


def write_yaml(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    return path


def test_base_year_after_the_period_is_refused(tmp_path: Path) -> None:
    small = write_yaml(tmp_path / "small.yaml", SMALL)
    done = carbonlink(
        "report", "inventory", str(small), "--base-year", "2030", "-o", str(tmp_path / "i.html")
    )
    assert done.returncode == 2
    assert "small.yaml: the base year 2030 lies after the reporting period" in done.stderr
    assert "--base-year 2025 or earlier" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "i.html").exists()


def test_without_a_statement_every_stated_item_is_not_provided(tmp_path: Path) -> None:
    small = write_yaml(tmp_path / "small.yaml", SMALL)
    out = tmp_path / "inventory.html"
    done = carbonlink("report", "inventory", str(small), "--base-year", "2019", "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = html_text(out.read_text("utf-8"))
    for label in (
        "Responsible person",
        "Report date",
        "Report version",
        "Statement of conformity",
        "Verification status",
        "Level of assurance",
        "Significance criteria",
        "Recalculation policy",
        "Changes in methods",
    ):
        assert f"{label} not provided" in text, label
    assert "Base year 2019" in text
    assert "Base-year inventory not provided: no inventory of 2019 was given" in text
    assert "SF6 0.000 0.000 none quantified; reason not provided" in text
    # the checklist: what a person must state is marked, what the calculation gives is not
    for letter, requirement, section in CHECKLIST:
        status = "provided" if letter in "cdfhjmot" else "not provided"
        assert f"{letter}) {requirement} {section} {status}" in text, letter
    document = json.loads(
        json.dumps(
            build_inventory_report(
                parse_inventory(small.read_text("utf-8"), file="small.yaml"),
                account(parse_inventory(small.read_text("utf-8"))),
            )
        )
    )
    assert document["base_year"]["year"] == "not provided"


def test_base_year_inventory_is_compared_by_category(tmp_path: Path) -> None:
    small = write_yaml(tmp_path / "small.yaml", SMALL)
    base = dict(SMALL, period={"start": "2023-01-01", "end": "2023-12-31"})
    base["facilities"] = [
        dict(SMALL["facilities"][0], sources=[
            {"id": "flux", "method": "carbonate", "material": "limestone",
             "activity": {"quantity": 4000, "unit": "t"}},
            {"id": "power", "method": "electricity",
             "activity": {"quantity": 2000, "unit": "MWh"}},
        ])
    ]  # fmt: skip
    write_yaml(tmp_path / "base-2023.yaml", base)
    statement = write_yaml(
        tmp_path / "statement.yaml",
        {
            "base_year": {
                "year": 2023,
                "inventory": "base-2023.yaml",
                "recalculation_policy": "recalculate on structural change",
                "threshold_percent": 5,
            }
        },
    )
    out = tmp_path / "inventory.json"
    done = carbonlink(
        "report", "inventory", str(small), "--statement", str(statement), "-f", "json",
        "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text("utf-8"))
    by_category = {r["category"]: r for r in document["tables"]["base_year"]["rows"]}
    # 4 000 t vs 5 000 t limestone × 0.440 t CO2/t
    assert by_category["1"]["base"] == pytest.approx(1760.0)
    assert by_category["1"]["current"] == pytest.approx(2200.0)
    assert by_category["1"]["change_pct"] == pytest.approx(25.0)
    # the 2023 vintage of the East China grid (0.5500) serves both years: 2 000 → 1 000 MWh
    assert by_category["2 (location-based)"]["change_pct"] == pytest.approx(-50.0)
    assert document["base_year"]["inventory"] == "Example Steel Co., 2023-01-01 – 2023-12-31"

    wrong = write_yaml(tmp_path / "statement.yaml", {"base_year": {"year": 2024,
                       "inventory": "base-2023.yaml"}})  # fmt: skip
    done = carbonlink("report", "inventory", str(small), "--statement", str(wrong), "-o",
                      str(tmp_path / "x.html"))  # fmt: skip
    assert done.returncode == 2
    assert "the base-year inventory covers 2023-01-01/2023-12-31, not 2024" in done.stderr


def test_statement_file_in_gbk_and_with_a_typo(tmp_path: Path) -> None:
    small = write_yaml(tmp_path / "small.yaml", SMALL)
    statement = tmp_path / "statement.yaml"
    text = "responsible: {name: 王立, role: 能源环保部部长}\nconformity: 按 ISO 14064-1:2018 编制\n"
    statement.write_bytes(text.encode("gbk"))
    out = tmp_path / "inventory.html"
    done = carbonlink(
        "report", "inventory", str(small), "--statement", str(statement), "-o", str(out)
    )
    assert done.returncode == 0, done.stderr
    page = html_text(out.read_text("utf-8"))
    assert "Responsible person 王立, 能源环保部部长" in page
    assert "Statement of conformity 按 ISO 14064-1:2018 编制" in page

    statement.write_text("responsable: {name: x}\n", "utf-8")
    done = carbonlink(
        "report", "inventory", str(small), "--statement", str(statement), "-o", str(out)
    )
    assert done.returncode == 2
    assert "statement.yaml: unknown field 'responsable' (a typo?)" in done.stderr
    assert "Traceback" not in done.stderr


def test_xlsx_holds_every_statement_item(rendered: dict[str, Any], tmp_path: Path) -> None:
    from openpyxl import load_workbook

    doc, said = rendered["doc"], rendered["said"]
    path = write_report(doc, tmp_path / "inventory.xlsx", "xlsx")
    book = load_workbook(path)
    assert book.sheetnames[:2] == ["Summary", "iso_statement"]  # right after the summary
    sheet = book["iso_statement"]
    cells = {row[1]: row[2] for row in sheet.iter_rows(min_row=3, values_only=True) if row[1]}
    responsible = said["responsible"]
    assert cells["Responsible person"].startswith(f"{responsible['name']}, {responsible['role']}")
    assert cells["Description of the reporting organization"] == flat(
        said["organization_description"]
    )
    assert cells["Statement of conformity"] == flat(said["conformity"])
    assert cells["Report date"] == "2026-03-31" and cells["Report version"] == "1.0"
    assert cells["Verification status"] == "verification planned"
    assert cells["Level of assurance"] == "limited"
    assert cells["Significance criteria"] == flat(said["significance_criteria"])
    assert cells["Significance threshold, % of Scope 1 + 2"] == "1"
    assert cells["Recalculation policy"] == flat(said["base_year"]["recalculation_policy"])
    assert cells["Base year"] == "2025"
    assert cells["Changes in methods"] == said["changes_in_methods"]
    assert cells["Treatment of biogenic CO2"] == flat(said["biogenic_treatment"])
    for category in said["categories"]:
        value = cells[f"Category {category['category']}: significance and reason"]
        significance = "significant" if category["significant"] else "not significant"
        assert value == f"{significance}: {flat(category['reason'])}"
    for gas, reason in said["excluded_gases"].items():
        assert cells[f"{gas}: why not reported"] == flat(reason)
    # 1 % of Scope 1 + Scope 2 location-based
    base = doc["totals"]["scope1"] + doc["totals"]["scope2_location"]
    assert cells["Significance threshold, t CO2e"] == format_number(base / 100)


def test_significance_threshold_is_checked_for_every_indirect_category(
    rendered: dict[str, Any],
) -> None:
    doc, text = rendered["doc"], rendered["texts"]["html"]
    base = doc["totals"]["scope1"] + doc["totals"]["scope2_location"]
    by_category = {r["category"]: r for r in rows(doc, "iso_indirect")}
    # Category 2, by hand: 620 000 MWh × 0.6361 + 45 000 MWh × 0.55 + 60 000 GJ × 0.11 t/GJ
    # = 394 382 + 24 750 + 6 600 = 425 732 t, far above 1 % of Scope 1 + 2.
    assert by_category[2]["location"] == pytest.approx(425_732)
    assert by_category[2]["share_pct"] == pytest.approx(100 * 425_732 / base)
    assert by_category[2]["threshold_check"] == "reaches the threshold: significant, as stated"
    # Category 3: 2 400 000 t·km × 0.0000718 t/(t·km) = 172.32 t, below the 1 % threshold, yet
    # stated significant because customers ask for it.
    assert by_category[3]["location"] == pytest.approx(172.32)
    assert by_category[3]["threshold_check"] == (
        "below the threshold: significant by the statement's other criteria"
    )
    for number in (4, 5, 6):
        assert by_category[number]["threshold_check"] == (
            "not quantified: cannot be checked against the threshold"
        )
    expected = (
        f"Significance check each indirect category's location-based emissions checked against "
        f"1 % of Scope 1 + Scope 2 location-based ({format_number(base)} t CO2e), i.e. "
        f"{format_number(base / 100)} t CO2e: no category contradicts its stated significance"
    )
    assert expected in text


def test_a_category_above_the_threshold_stated_not_significant_is_flagged() -> None:
    small = dict(SMALL)
    small["facilities"] = [
        dict(SMALL["facilities"][0], sources=[
            *SMALL["facilities"][0]["sources"],
            {"id": "freight", "method": "generic", "scope": 3, "scope3_category": 4,
             "activity": {"quantity": 1_000_000, "unit": "t*km"},
             "emission_factor": {"value": 0.0001, "unit": "t/(t*km)", "tier": "supplier_specific",
                                 "document": "carrier statement"}},
        ])
    ]  # fmt: skip
    inventory = parse_inventory(yaml.safe_dump(small), file="small.yaml")
    result = account(inventory)

    def check(threshold: float) -> tuple[dict[int, str], str]:
        statement = parse_statement(
            yaml.safe_dump(
                {
                    "significance_threshold_percent": threshold,
                    "categories": [
                        {"category": 2, "significant": True, "reason": "grid power"},
                        {"category": 3, "significant": False, "reason": "small freight"},
                    ],
                }
            ),
            file="statement.yaml",
        )
        doc = build_inventory_report(inventory, result, statement=statement)
        checks = {r["category"]: r["threshold_check"] for r in rows(doc, "iso_indirect")}
        return checks, doc["iso14064"]["info"]["significance_check"]

    # By hand: Scope 1 = 5 000 t limestone × 0.440 = 2 200 t; Scope 2 = 1 000 MWh × 0.55 = 550 t;
    # base 2 750 t. Freight (category 3) = 1 000 000 t·km × 0.0001 = 100 t = 3.64 % of it.
    checks, summary = check(5)  # 137.5 t: the freight stays below
    assert checks[2] == "reaches the threshold: significant, as stated"
    assert checks[3] == "below the threshold: not significant, as stated"
    assert "i.e. 137.500 t CO2e: no category contradicts" in summary
    checks, summary = check(2)  # 55 t: the freight reaches it
    assert checks[3] == (
        "CONTRADICTS THE STATEMENT: reaches the threshold but is stated not significant"
    )
    assert summary.endswith(
        "i.e. 55.000 t CO2e: category 3 reaches the threshold but is stated not significant"
    )
    checks, summary = check_without_threshold(inventory, result)
    assert set(checks.values()) == {"threshold not provided: not checked"}
    assert summary.startswith("not provided")


def check_without_threshold(inventory: Any, result: Any) -> tuple[dict[int, str], str]:
    doc = build_inventory_report(inventory, result)
    checks = {r["category"]: r["threshold_check"] for r in rows(doc, "iso_indirect")}
    return checks, doc["iso14064"]["info"]["significance_check"]


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_chinese_report_translates_every_fixed_text(
    rendered: dict[str, Any], tmp_path: Path
) -> None:
    from carbonlink.reports.iso_zh import bilingual

    english = rendered["doc"]
    doc = bilingual(english)
    assert doc["lang"] == "zh" and english.get("lang") is None  # the English one is untouched
    assert doc["title"] == "温室气体清单 Greenhouse gas inventory"
    symbols = {"GWP", "GWP（AR5）", "+", "−", "± 95 %"}
    for name, spec in doc["tables"].items():
        assert CJK.search(spec["title"]), name
        assert spec["title"].endswith(english["tables"][name]["title"]), name  # English kept
        for column in spec["columns"]:
            assert CJK.search(column["label"]) or column["label"] in symbols, (name, column)
        # the numbers are those of the English report
        for zh_row, en_row in zip(spec["rows"], english["tables"][name]["rows"], strict=True):
            for column in spec["columns"]:
                if column["kind"] == "number":
                    assert zh_row[column["key"]] == en_row[column["key"]]
    for name, key in (
        ("iso_checklist", "requirement"),
        ("iso_checklist", "section"),
        ("iso_checklist", "status"),
        ("by_category", "label"),
        ("by_scope", "label"),
        ("iso_indirect", "threshold_check"),
        ("iso_indirect", "treatment"),
    ):
        for row in doc["tables"][name]["rows"]:
            assert CJK.search(row[key]), (name, row[key])
    # what the organization stated is printed as written
    said = rendered["said"]
    (row,) = [r for r in rows(doc, "iso_statement") if r["label"] == "符合性声明"]
    assert row["value"] == flat(said["conformity"])

    pdf = write_report(doc, tmp_path / "inventory-zh.pdf", "pdf")
    text = pdf_text(pdf)
    for heading in (
        "报告信息 Report information",
        "1. 边界 1. Boundaries",
        "重要性核对 Significance check",
        "7. 基准年 7. Base year",
        "8. ISO 14064-1:2018 第 9.3.1 条核对表 8. ISO 14064-1:2018 clause 9.3.1 checklist",
        "没有类别与其声明的重要性矛盾",
    ):
        assert heading in text, heading
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True)
    names = [line.split()[0] for line in fonts.stdout.splitlines()[2:]]
    assert names and all("Noto-Sans-SC" in n for n in names), names


def test_report_language_is_checked(tmp_path: Path) -> None:
    small = write_yaml(tmp_path / "small.yaml", SMALL)
    done = carbonlink(
        "report", "inventory", str(small), "--lang", "fr", "-o", str(tmp_path / "i.html")
    )
    assert done.returncode == 2
    assert "no report language 'fr'" in done.stderr
    out = tmp_path / "i.html"
    done = carbonlink("report", "inventory", str(small), "--lang", "zh", "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = html_text(out.read_text("utf-8"))
    assert '<html lang="zh">' in out.read_text("utf-8")
    assert "负责人 Responsible person 未提供" in page
