"""The CBAM communication: input file, JSON and XLSX outputs, CLI, demo coherence."""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.domain.cbam import compute_see
from carbonlink.errors import InputError
from carbonlink.reports.cbam import SCHEMA, build_communication, write_json, write_xlsx
from carbonlink.reports.cbam_input import load_cbam_input

MINIMAL = """
installation:
  {name: Small works, operator: Small Co., street: 1 Road, city: Pune, post_code: "411001",
   country: IN, unlocode: INPNQ, latitude: 18.52, longitude: 73.86}
period: {start: 2026-01-01, end: 2026-12-31}
processes:
  - id: clinker
    name: Kiln
    goods_category: Cement clinker
    activity_level_t: 1000
    direct_emissions_t: 850
    electricity: {consumed_mwh: 50, ef_t_per_mwh: 0.7, ef_source_code: "D.4(b)"}
    goods: [{cn_code: "25231000", name: Grey clinker}]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cbam.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_minimal_input_gives_simple_good_see(tmp_path: Path) -> None:
    """Clinker: 850/1000 = 0.85 direct, 50·0.7/1000 = 0.035 indirect; cement pays both."""
    data = load_cbam_input(_write(tmp_path, MINIMAL))
    communication = build_communication(data)
    (good,) = communication["goods"]
    assert communication["schema"] == SCHEMA
    assert good["see_direct"] == pytest.approx(0.85)
    assert good["see_indirect"] == pytest.approx(0.035)
    assert good["charged_emissions"] == "direct_and_indirect"
    assert good["specific_electricity_mwh_per_t"] == pytest.approx(0.05)
    assert communication["processes"][0]["produced_for_market_t"] == pytest.approx(1000)


def test_electricity_factor_comes_from_the_factor_library(tmp_path: Path) -> None:
    """MEE/NBS 2023 North China grid: 0.6361 kg/kWh = 0.6361 t/MWh; 50 MWh → 0.0318 t/t."""
    text = MINIMAL.replace("ef_t_per_mwh: 0.7", "factor: cn-mee-nbs/grid_average/CN-North/2023")
    communication = build_communication(load_cbam_input(_write(tmp_path, text)))
    process = communication["processes"][0]
    assert process["electricity"]["ef_t_per_mwh"] == pytest.approx(0.6361)
    assert "MEE/NBS" in process["electricity"]["ef_source"]
    assert communication["goods"][0]["see_indirect"] == pytest.approx(50 * 0.6361 / 1000)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("installation: [", "not valid YAML"),
        (MINIMAL.replace("activity_level_t: 1000", "activity_level_t: 0"), "activity_level_t"),
        (MINIMAL.replace('"25231000"', '"2523"'), "cn_code"),
        (MINIMAL.replace("country: IN", "country: India"), "country"),
        (MINIMAL.replace("    direct_emissions_t: 850\n", ""), "direct_emissions_t"),
        (MINIMAL.replace("ef_t_per_mwh: 0.7", "factor: no/such/factor"), "no factor with id"),
        (MINIMAL.replace("ef_t_per_mwh: 0.7", "ef_t_per_mwh: 0.7, factor: x"), "not both"),
    ],
)
def test_bad_input_files_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(InputError, match=message) as caught:
        load_cbam_input(path)
    assert caught.value.file == str(path)


def test_demo_communication_records_defaults_and_writes_json(tmp_path: Path) -> None:
    data = load_cbam_input(demo_cbam_input("cbam-tangshan.yaml"))
    communication = build_communication(data)
    assert [g["cn_code"] for g in communication["goods"]] == ["72011011", "72083900"]
    bought = next(p for p in communication["purchased_precursors"] if p["origin"] == "default")
    assert bought["default"]["markup"] == pytest.approx(0.10)
    assert bought["see_direct"] == pytest.approx(2.2)
    assert "Data gaps" in bought["default"]["justification"]
    # The Tangshan works buys no heat; the Jiangsu site's steam has no factor: EF_NG / 0.90.
    assert not any("62.33" in note for note in communication["defaults_used"])
    jiangsu = build_communication(load_cbam_input(demo_cbam_input("cbam-jiangsu.yaml")))
    assert any("62.33" in note for note in jiangsu["defaults_used"])
    price = communication["goods"][1]["carbon_price"]
    assert price["instrument_type"] == "National Emissions Trading System"
    assert price["price_due_per_t"] == pytest.approx(4.9)
    path = write_json(communication, tmp_path / "c.json")
    assert json.loads(path.read_text("utf-8")) == communication


def test_xlsx_has_template_sheets_and_numbers_as_numbers(tmp_path: Path) -> None:
    data = load_cbam_input(demo_cbam_input("cbam-tangshan.yaml"))
    communication = build_communication(data)
    path = write_xlsx(communication, tmp_path / "c.xlsx")
    wb = openpyxl.load_workbook(path)
    for sheet in (
        "A_InstData",
        "B_EmInst",
        "C_Emissions&Energy",
        "D_Processes",
        "E_PurchPrec",
        "Summary_Processes",
        "Summary_Products",
        "Summary_Communication",
    ):
        assert sheet in wb.sheetnames
    ws = wb["Summary_Products"]
    headers = [cell.value for cell in ws[4]]
    assert "SEE direct (t CO2e/t)" in headers
    col = headers.index("SEE direct (t CO2e/t)") + 1
    values = {ws.cell(row=r, column=3).value: ws.cell(row=r, column=col).value for r in (5, 6)}
    assert isinstance(values["72083900"], float)
    hrc = next(g for g in communication["goods"] if g["cn_code"] == "72083900")
    assert values["72083900"] == pytest.approx(hrc["see_direct"])
    summary = [c.value for row in wb["Summary_Communication"].iter_rows() for c in row]
    assert "National Emissions Trading System" in summary
    assert 4.9 in summary


def test_jiangsu_uses_the_tangshan_communication_as_supplier_data() -> None:
    """The cold-rolling site's purchased HRC carries the Tangshan works' computed SEE."""
    tangshan = compute_see(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))
    hrc = tangshan.processes["hot-strip-mill"]
    jiangsu = load_cbam_input(demo_cbam_input("cbam-jiangsu.yaml"))
    bought = jiangsu.purchased_precursors[0]
    assert bought.see_direct == pytest.approx(hrc.see_direct, abs=1e-6)
    assert bought.specific_electricity_mwh_per_t == pytest.approx(
        hrc.embedded_electricity_mwh_per_t, abs=1e-6
    )
    assert bought.specific_electricity_mwh_per_t * bought.electricity_ef == pytest.approx(
        hrc.see_indirect, abs=1e-5
    )
    crc = compute_see(jiangsu).processes["cold-rolling"]
    # Recomputed by hand from the inventory's figures: annealing gas 150 × 10^4 Nm3 × 389.31
    # GJ/10^4 Nm3 × 0.0153 t C/GJ × 0.99 × 44/12 = 3 243.28 t CO2; 60 000 GJ of steam = 60 TJ
    # at 56.1/0.9 t/TJ; 318 000 t of coil bought for 300 000 t of cold-rolled coil.
    annealing = 150 * 389.31 * 0.0153 * 0.99 * 44 / 12
    assert annealing == pytest.approx(3243.28, abs=0.01)
    assert crc.see_direct == pytest.approx(
        (annealing + 60 * 56.1 / 0.9 + 318000 * hrc.see_direct) / 300000
    )
    # The coil's share of default values (its bought pig iron) is carried to the Jiangsu site.
    assert bought.default_share == pytest.approx(hrc.default_share, abs=1e-6)
    assert bought.default_share > 0
    assert crc.default_share == pytest.approx(
        318000 * bought.see_direct * bought.default_share / 300000 / crc.see_direct
    )


def test_cli_writes_json_and_xlsx(tmp_path: Path) -> None:
    source = str(demo_cbam_input("cbam-tangshan.yaml"))
    runner = CliRunner()
    for fmt in ("json", "xlsx"):
        out = tmp_path / f"c.{fmt}"
        result = runner.invoke(
            app, ["report", "cbam", "--input", source, "--format", fmt, "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        assert out.stat().st_size > 0
        assert "72083900" in result.output
    document = json.loads((tmp_path / "c.json").read_text("utf-8"))
    assert document["installation"]["unlocode"] == "CNTGS"


def test_cli_refuses_a_template_with_json(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        [
            "report",
            "cbam",
            "--input",
            str(demo_cbam_input("cbam-tangshan.yaml")),
            "--out",
            str(tmp_path / "x.json"),
            "--template",
            str(tmp_path / "t.xlsx"),
        ],
    )
    assert result.exit_code != 0


def test_workbook_says_from_the_inventory_only_when_read_from_it(tmp_path: Path) -> None:
    communication = build_communication(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))
    stated = communication | {"inventory_basis": None}
    labels = {}
    for name, doc in (("read", communication), ("stated", stated)):
        sheet = openpyxl.load_workbook(write_xlsx(doc, tmp_path / f"{name}.xlsx"))["B_EmInst"]
        labels[name] = [str(c.value) for c in sheet["A"] if c.value]
    assert any(
        "direct emissions (from the inventory steel-enterprise.yaml" in x for x in labels["read"]
    )
    assert any(x == "bf-coke (coke)" for x in labels["read"])
    assert any("direct emissions (stated by the operator)" in x for x in labels["stated"])
    assert not any("from the inventory" in x for x in labels["stated"])


def test_the_stated_electricity_factor_reproduces_the_indirect_see() -> None:
    """Coil: its embedded electricity × the factor communicated gives its indirect SEE."""
    communication = build_communication(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))
    for good in communication["goods"]:
        assert good["embedded_electricity_mwh_per_t"] * good[
            "embedded_electricity_ef_t_per_mwh"
        ] == pytest.approx(good["see_indirect"], abs=1e-5)
    coil = next(g for g in communication["goods"] if g["cn_code"] == "72083900")
    # The mill's own grid factor alone does not: its precursors bring other factors.
    assert coil["electricity_ef_t_per_mwh"] == pytest.approx(0.6361)
    assert coil["embedded_electricity_ef_t_per_mwh"] != pytest.approx(0.6361, abs=1e-4)
