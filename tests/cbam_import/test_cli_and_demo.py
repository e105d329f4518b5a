"""`carbonlink cbam-import load|declare|quarterly` on a workspace, and the demo importer's files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from lxml import etree
from openpyxl import load_workbook
from typer.testing import CliRunner

from carbonlink.cbam_import.lines import COLUMNS
from carbonlink.cbam_import.qreport import NAMESPACE, validate
from carbonlink.cli import app

runner = CliRunner()
COMMUNICATION = {
    "installation": {"name": "Tangshan works", "address": {"country": "CN"}},
    "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
    "goods": [{"cn_code": "72083900", "see_direct": 1.5, "see_indirect": 0.4}],
}


def test_load_then_declare(tmp_path: Path) -> None:
    """Same hand-worked case as the page: 337.225 + 64.727707 = 401.952707 → 402 certificates."""
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws"), "CARBONLINK_DATABASE_URL": ""}
    assert runner.invoke(app, ["init", str(tmp_path / "ws")], env=env).exit_code == 0
    lines = tmp_path / "customs.csv"
    lines.write_text(
        ",".join(COLUMNS)
        + "\nA,1,2026-02-10,72083900,100,IN,IN-MILL,Mill"
        + "\nB,1,2026-03-01,72083900,1000,CN,CN-TANGSHAN,Demo Steel"
        + "\nB,2,2026-03-01,720839,5,CN,CN-TANGSHAN,Demo Steel\n",
        encoding="utf-8",
    )
    communication = tmp_path / "tangshan.json"
    communication.write_text(json.dumps(COMMUNICATION), encoding="utf-8")
    paid = tmp_path / "paid.yaml"
    paid.write_text(
        "carbon_price_paid:\n  - {cn_code: '72083900', amount_eur_per_t_co2e: 5, evidence: CEA}\n",
        encoding="utf-8",
    )
    args = ["cbam-import", "load", "-o", "org-imp", str(lines)]
    args += ["--communication", f"CN-TANGSHAN={communication}"]
    args += ["--carbon-price-paid", f"CN-TANGSHAN={paid}"]
    done = runner.invoke(app, args, env=env)
    assert done.exit_code == 0, done.output
    assert "customs.csv: 2 new, 0 unchanged, 0 changed, 1 quarantined" in done.output
    assert "row 4 (B/2): cn_code '720839' is not an 8-digit CN code" in done.output
    again = runner.invoke(app, ["cbam-import", "load", "-o", "org-imp", str(lines)], env=env)
    assert "0 new, 2 unchanged" in again.output
    out = tmp_path / "out"
    done = runner.invoke(
        app,
        ["cbam-import", "declare", "-o", "org-imp", "--year", "2026", "--out", str(out),
         "--projected-price", "80"],
        env=env,
    )  # fmt: skip
    assert done.exit_code == 0, done.output
    assert "402 certificates due 2027-09-30" in done.output
    data = json.loads((out / "cbam-declaration-2026.json").read_text("utf-8"))
    assert data["certificates_to_surrender"] == 402
    assert data["projected_cost_eur"] == pytest.approx(32160.0)
    assert data["cost_at_published_prices_eur"] == pytest.approx(30291.16, abs=0.01)
    book = load_workbook(out / "cbam-declaration-2026.xlsx")
    assert book.sheetnames == ["Summary", "Lines", "Quarters", "Notes"]
    summary = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True)}
    assert summary["Certificates to surrender (whole)"] == 402
    bad_price = runner.invoke(
        app, ["cbam-import", "load", "-o", "org-imp", "--price", "2026-Q5=70"], env=env
    )
    assert bad_price.exit_code != 0 and "quarter is 1 to 4" in bad_price.output


def test_the_demo_importer_declares_two_years_and_reports_a_quarter(
    demo_command: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo_command
    assert done.returncode == 0, done.stderr
    folder = out / "cbam-importer"
    years = {}
    for year in (2026, 2027):
        years[year] = json.loads((folder / f"cbam-declaration-{year}.json").read_text("utf-8"))
        assert (folder / f"cbam-declaration-{year}.xlsx").is_file()
    first, second = years[2026], years[2027]
    # Both suppliers in both years: Tangshan matched to its communication, India by default.
    for data in (first, second):
        bases = {(ln["installation_id"], ln["basis"]) for ln in data["lines"]}
        assert bases == {("CN-TANGSHAN", "actual"), ("IN-ODISHA-01", "default")}
        assert data["certificates_to_surrender"] > 0 and not data["exempt"]
    # Indian hot-rolled coil: 4.28 × 1.10 in 2026, × 1.20 in 2027.
    india = [ln for ln in first["lines"] if ln["cn_code"] == "72083900" and ln["country"] == "IN"]
    assert india[0]["see_t_per_t"] == pytest.approx(4.708)
    assert first["quarters"][0]["price_eur"] == 75.36
    assert [q["certificates_to_hold"] for q in first["quarters"]] == [0, 0, 0, 0]
    assert second["quarters"][3]["certificates_to_hold"] > 0
    assert "quarantined" in done.stdout and "importer 2027" in done.stdout
    xml = (folder / "cbam-qreport-2025Q4.xml").read_bytes()
    validate(xml)
    root = etree.fromstring(xml)
    assert root.findtext(f"{{{NAMESPACE}}}ReportingPeriod") == "Q4"
