"""`carbonlink report inventory|china|reconcile` and the demo's reports, via the console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from openpyxl import load_workbook

PROJECT = Path(__file__).resolve().parents[1]

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
    """Run the console script's entry point; stderr with the console's line wrapping undone."""
    done = subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *args],
        capture_output=True,
        text=True,
        check=False,
        env={"COLUMNS": "200", "PATH": ""},
    )
    done.stderr = " ".join(done.stderr.split())
    return done


@pytest.fixture
def small_file(tmp_path: Path) -> Path:
    path = tmp_path / "small.yaml"
    path.write_text(yaml.safe_dump(SMALL), "utf-8")
    return path


def test_china_json_and_xlsx(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "china.json"
    done = carbonlink("report", "china", str(small_file), "--format", "json", "--out", str(out))
    assert done.returncode == 0, done.stderr
    document = json.loads(out.read_text("utf-8"))
    # 5 000 t × 0.440 t/t + 1 000 MWh × 0.5500 t/MWh (East China grid, 2023 data)
    assert document["totals"]["total"] == pytest.approx(2200 + 550)
    xlsx = tmp_path / "china.xlsx"
    done = carbonlink("report", "china", str(small_file), "-f", "xlsx", "-o", str(xlsx))
    assert done.returncode == 0, done.stderr
    total = load_workbook(xlsx)["total"]
    assert total.cell(total.max_row, 3).value == pytest.approx(2750)


def test_inventory_html_with_base_year(small_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "inventory.html"
    done = carbonlink(
        "report", "inventory", str(small_file), "--base-year", "2019", "--out", str(out)
    )
    assert done.returncode == 0, done.stderr
    html = out.read_text("utf-8")
    assert "2019 (base year as given)" in html
    assert "2,750.000" in html  # Scope 1 + 2 location-based: 2 200 + 550


def test_bad_inventory_is_reported(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("organization: X\n", "utf-8")
    done = carbonlink("report", "reconcile", str(bad), "--out", str(tmp_path / "r.html"))
    assert done.returncode == 2
    assert "missing field 'period'" in done.stderr


def test_demo_writes_all_reports(
    demo_command: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    out, done = demo_command
    assert done.returncode == 0, done.stderr
    folder = out / "reports"
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        f"{kind}.{ext}"
        for kind in ("inventory", "china", "reconcile")
        for ext in ("html", "pdf", "xlsx", "json", "tlog-proof")  # each with its receipt
    )
    assert all((folder / n).read_bytes()[:4] == b"%PDF" for n in names if n.endswith(".pdf"))
    reconcile = json.loads((folder / "reconcile.json").read_text("utf-8"))
    assert reconcile["totals"]["unexplained"] == pytest.approx(0, abs=1e-6)
    assert reconcile["cbam"]["facility"] == "tangshan-works"
    report = json.loads((folder / "inventory.json").read_text("utf-8"))
    methods = [row["method"] for row in report["tables"]["uncertainty"]["rows"]]
    assert [m.split(" (")[0] for m in methods] == [
        "IPCC 2006 Vol. 1 Ch. 3 Approach 1",
        "IPCC 2006 Vol. 1 Ch. 3 Approach 2",
    ]
    inventory = json.loads((out / "inventory.json").read_text("utf-8"))
    assert reconcile["totals"]["inventory_scope1_2_location"] == pytest.approx(
        inventory["totals"]["scope1"] + inventory["totals"]["scope2_location"]
    )


def test_reconcile_refuses_a_file_that_is_no_cbam_communication(
    small_file: Path, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"goods": []}', "utf-8")
    done = carbonlink(
        "report", "reconcile", str(small_file), "--cbam", str(wrong), "-o", str(tmp_path / "r.json")
    )
    assert done.returncode == 2
    assert "not a CBAM communication document" in done.stderr


def test_reconcile_with_a_cbam_input_and_uncertainty_options(tmp_path: Path) -> None:
    demo = PROJECT / "src" / "carbonlink" / "data" / "demo"
    out = tmp_path / "reconcile.json"
    done = carbonlink(
        "report", "reconcile", str(demo / "steel-enterprise.yaml"),
        "--cbam", str(demo / "cbam-tangshan.yaml"), "-f", "json", "-o", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    cbam = json.loads(out.read_text("utf-8"))["cbam"]
    # the installation's direct emissions as its CBAM input states them
    assert (cbam["facility"], cbam["totals"]["installation_direct"]) == ("tangshan-works", 1934000)
    report = tmp_path / "inventory.json"
    done = carbonlink(
        "report", "inventory", str(demo / "steel-enterprise.yaml"),
        "--uncertainty", str(demo / "uncertainty.yaml"), "-f", "json", "-o", str(report),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(report.read_text("utf-8"))["uncertainty"]["computed"] is True
