"""Fill the official CBAM communication template and compare its own SEE with carbonlink's.

The workbook is the Commission's (13 Dec 2024 version); it is never part of the project. The
test reads it from ``../shared/reference/cbam/`` beside the project (or CARBONLINK_CBAM_TEMPLATE),
fills a copy, recalculates it with LibreOffice headless and reads Summary_Products back.
Locally a missing workbook or LibreOffice skips; in CI (CARBONLINK_REQUIRE_SERVICES=1) a
present workbook without LibreOffice fails.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.reports.cbam import build_communication
from carbonlink.reports.cbam_input import load_cbam_input
from carbonlink.reports.cbam_template import (
    TemplateError,
    fill_official_template,
    libreoffice_binary,
    read_summary_products,
    recalculate,
)

TEMPLATE_NAME = "CBAM Communication template for installations_en_20241213.xlsx"


def _template() -> Path:
    given = os.environ.get("CARBONLINK_CBAM_TEMPLATE")
    if given:
        return Path(given)
    root = Path(__file__).resolve().parents[2]
    return root / ".." / "shared" / "reference" / "cbam" / TEMPLATE_NAME


def _require_services() -> bool:
    return os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1"


@pytest.fixture(scope="module")
def filled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    template = _template()
    if not template.is_file():
        pytest.skip(f"reference file absent: the official CBAM template {template}")
    communication = build_communication(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))
    out = tmp_path_factory.mktemp("cbam") / "filled.xlsx"
    return fill_official_template(template, communication, out), communication


def test_input_cells_are_written_where_the_template_reads_them(
    filled: tuple[Path, dict[str, Any]],
) -> None:
    path, _ = filled
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(path)
    a, d, e = wb["A_InstData"], wb["D_Processes"], wb["E_PurchPrec"]
    assert a["I26"].value == "China"
    assert a["I27"].value == "CNTGS"
    assert [a[f"E{r}"].value for r in range(62, 66)] == [
        "Sintered Ore",
        "Pig iron",
        "Crude steel",
        "Iron or steel products",
    ]
    assert a["L84"].value == "Blast furnaces"
    # Process 2 (blast furnaces): activity level, sinter consumed by nobody else, waste gas out.
    assert d["L81"].value == 955_000
    assert d["M126"].value == 800
    # Sinter (process 1) feeds process 2: first "other process" row of block 1.
    assert d["L32"].value == 1_400_000
    # Purchased precursor 2 is the default pig iron, consumed by process 3 (steelmaking).
    assert e["L93"].value == pytest.approx(2.2)
    assert e["M93"].value == "Default"
    assert e["L74"].value == 30000
    assert e["K98"].value == "Data gaps"
    products = wb["Summary_Products"]
    assert [products[f"F{r}"].value for r in (10, 11)] == ["72011011", "72083900"]
    assert products["D11"].value == "Hot strip mill"
    assert products["W11"].value == 0.12
    assert products["AL11"].value == "National Emissions Trading System"
    assert products["AR11"].value == 4.9


def test_official_workbook_computes_the_same_see(
    filled: tuple[Path, dict[str, Any]], tmp_path: Path
) -> None:
    path, communication = filled
    if libreoffice_binary() is None:
        if _require_services():
            pytest.fail(
                "LibreOffice is required (CARBONLINK_REQUIRE_SERVICES=1): install libreoffice-calc"
            )
        pytest.skip("LibreOffice is not installed")
    recalculated = recalculate(path, tmp_path / "recalc")
    rows = {row["cn_code"]: row for row in read_summary_products(recalculated)}
    assert set(rows) == {g["cn_code"] for g in communication["goods"]}
    for good in communication["goods"]:
        row = rows[good["cn_code"]]
        assert row["see_direct"] == pytest.approx(good["see_direct"], abs=1e-6)
        assert row["see_indirect"] == pytest.approx(good["see_indirect"], abs=1e-6)
        assert row["see_total"] == pytest.approx(good["see_total"], abs=1e-6)
        assert row["embedded_electricity_mwh_per_t"] == pytest.approx(
            good["embedded_electricity_mwh_per_t"], abs=1e-6
        )
        assert row["default_share"] == pytest.approx(good["default_share"], abs=1e-6)
        assert row["carbon_price_covered"] == pytest.approx(good["see_total"] * 0.03, abs=1e-6)
        assert row["complete"] is True, f"the workbook flags {good['cn_code']} as incomplete"


def test_a_workbook_that_is_not_the_template_is_refused(tmp_path: Path) -> None:
    other = tmp_path / "other.xlsx"
    openpyxl.Workbook().save(other)
    with pytest.raises(TemplateError, match="does not look like"):
        fill_official_template(other, {}, tmp_path / "out.xlsx")
    with pytest.raises(TemplateError, match="not found"):
        fill_official_template(tmp_path / "missing.xlsx", {}, tmp_path / "out.xlsx")


def _stand_in_template(path: Path, communication: dict[str, Any]) -> Path:
    """A workbook with the official template's sheets, markers and code lists, nothing else.

    Lets the fill run where the Commission's workbook is absent; its cells have no styles, so
    every input cell is one the fill has to create.
    """
    book = openpyxl.Workbook()
    for name in ("A_InstData", "D_Processes", "E_PurchPrec", "Summary_Products"):
        book.create_sheet(name)
    for name in ("Summary_Processes", "InputOutput", "Parameters_Constants", "c_CodeLists"):
        book.create_sheet(name)
    del book["Sheet"]
    book["D_Processes"]["C11"] = 1
    book["A_InstData"]["D62"] = "G1"
    book["A_InstData"]["E62"] = "kept"  # a cell the fill overwrites
    book["A_InstData"]["B2"] = "title"  # a cell it leaves alone
    routes: dict[str, list[str]] = {}
    for item in communication["processes"] + communication["purchased_precursors"]:
        known = routes.setdefault(item["goods_category"], [])
        if item["route"] and item["route"] not in known:
            known.append(item["route"])
    constants = book["Parameters_Constants"]
    for row, (category, names) in enumerate(routes.items(), start=89):
        constants.cell(row, 1, category)
        for column, route in enumerate(names, start=7):
            constants.cell(row, column, route)
    lists = book["c_CodeLists"]
    for row, (code, country) in enumerate(
        [("CN", "China"), ("IN", "India"), ("ZA", "South Africa")], start=11
    ):
        lists.cell(row, 6, code)
        lists.cell(row, 7, country)
    book.save(path)
    return path


def test_the_fill_writes_input_cells_of_a_stand_in_template(tmp_path: Path) -> None:
    communication = build_communication(load_cbam_input(demo_cbam_input("cbam-tangshan.yaml")))
    template = _stand_in_template(tmp_path / "template.xlsx", communication)
    out = fill_official_template(template, communication, tmp_path / "filled.xlsx")
    book = openpyxl.load_workbook(out)
    a, d, e = book["A_InstData"], book["D_Processes"], book["E_PurchPrec"]
    assert a["B2"].value == "title" and a["D62"].value == "G1"
    assert [a[f"E{r}"].value for r in range(62, 66)] == [
        "Sintered Ore",
        "Pig iron",
        "Crude steel",
        "Iron or steel products",
    ]
    assert a["I26"].value == "China" and a["I27"].value == "CNTGS"
    assert a["I9"].value.date().isoformat() == communication["reporting_period"]["start"]
    assert a["L84"].value == "Blast furnaces"
    assert d["L81"].value == 955_000 and d["M126"].value == 800 and d["L32"].value == 1_400_000
    assert e["L93"].value == pytest.approx(2.2) and e["M93"].value == "Default"
    assert e["K98"].value == "Data gaps"
    products = book["Summary_Products"]
    assert [products[f"F{r}"].value for r in (10, 11)] == ["72011011", "72083900"]
    assert products["AR11"].value == 4.9
    # The template itself is left as it was.
    assert openpyxl.load_workbook(template)["A_InstData"]["E62"].value == "kept"
