"""`carbonlink cets`: plan, import, check, deposit, verify, calendar and allocation in a
workspace, as a user runs them."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest
from cets_fixture import month
from typer.testing import CliRunner

from carbonlink.cets.ledger_import import write_ledger
from carbonlink.cli import app

runner = CliRunner()


def _run(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_year_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CARBONLINK_WORKSPACE", str(tmp_path / "ws"))
    monkeypatch.delenv("CARBONLINK_DATABASE_URL", raising=False)
    _run("init")
    demo = resources.files("carbonlink.data").joinpath("demo")
    org = ("--org", "org-cli")
    out = _run(
        "cets",
        "plan",
        "--entity",
        "tangshan",
        "--entities",
        str(demo.joinpath("cets-entities.yaml")),
        "--inventory",
        str(demo.joinpath("steel-enterprise.yaml")),
        "--out",
        str(tmp_path / "plan"),
        *org,
    )
    assert "control plan tangshan v1: 31 parameters" in out
    assert (tmp_path / "plan" / "control-plan-tangshan-v1.xlsx").is_file()
    assert (tmp_path / "plan" / "control-plan-tangshan-v1.pdf").is_file()
    # the energy manager fills in a calibration date and saves the plan again: version 2
    _run("cets", "plan", "--entity", "tangshan", "--write-json", str(tmp_path / "p.json"), *org)
    edited = json.loads((tmp_path / "p.json").read_text("utf-8"))
    meter = next(p for p in edited["parameters"] if p["source"] == "grid-power")
    meter["instrument"]["calibrated_on"] = "2025-03-01"
    (tmp_path / "p.json").write_text(json.dumps(edited), "utf-8")
    out = _run(
        "cets", "plan", "--entity", "tangshan", "--plan-file", str(tmp_path / "p.json"), *org
    )
    assert "control plan tangshan v2" in out
    out = _run(
        "cets", "plan", "--entity", "tangshan", "--plan-file", str(tmp_path / "p.json"), *org
    )
    assert "control plan tangshan v2" in out  # the same content again: no new version
    # the plan's source ids are the demo dataset's: bf-pci is PCI coal into ironmaking
    records = [
        r.__class__(**{**r.__dict__, "evidence_name": "LAB-08.pdf" if r.report_id else ""})
        for r in month("2025-08", carbon=72.5)
    ]
    ledger = tmp_path / "ledger-2025-08.xlsx"
    ledger.write_bytes(write_ledger(records))
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "LAB-08.pdf").write_bytes(b"%PDF-1.4 made-up report, not real\n")
    out = _run("cets", "import", str(ledger), "--evidence", str(tmp_path / "evidence"), *org)
    assert "4 record(s) stored, 1 evidence file(s), 0 row(s) quarantined" in out
    out = _run("cets", "check", "--entity", "tangshan", "--year", "2025", *org)
    assert "2025-08 CETS-P1" in out and "29.00 t C/TJ" in out
    assert "2025-08 CETS-P7" in out and "bf-coke/ncv" in out
    out = _run(
        "cets", "deposit", "--entity", "tangshan", "--month", "2025-08", "--on", "2025-10-01", *org
    )
    # P1 on the PCI coal, and the coke and sinter fuel the plan measures monthly have no
    # report this month: NCV and carbon of each, missing (P5) and under-sampled (P7): 1 + 2×2×2
    assert "cets-deposit-tangshan-2025-08" in out and "9 finding(s)" in out
    assert "unchanged" in _run("cets", "verify", "--entity", "tangshan", *org)
    pack = next((tmp_path / "ws" / "cets" / "tangshan").glob("2025-08-1/cets-deposit-*"))
    (pack / "parameters.csv").write_bytes(b"changed\n")
    failed = runner.invoke(app, ["cets", "verify", "--entity", "tangshan", *org])
    assert failed.exit_code == 1 and "parameters.csv" in failed.output
    out = _run(
        "cets",
        "calendar",
        "--entity",
        "tangshan",
        "--year",
        "2025",
        "--today",
        "2025-10-05",
        "--remind-within",
        "30",
        *org,
    )
    assert "2025-10-10 monthly_deposit   2025-08  done done 2025-10-01" in out
    assert "2025-09-09 monthly_deposit   2025-07  overdue" in out
    assert "reminder(s); 0 sent" in out  # no alert channel configured
    out = _run(
        "cets",
        "allocation",
        "--entity",
        "tangshan",
        "--year",
        "2025",
        "--price",
        "70",
        "--intensity",
        "ironmaking=0.25",
        "--intensity-source",
        "test value",
        *org,
    )
    assert "output ironmaking: 80,000" in out and "shortfall" in out
    refused = runner.invoke(
        app, ["cets", "allocation", "--entity", "tangshan", "--year", "2025", "--price", "70", *org]
    )
    assert refused.exit_code != 0 and "carbon intensity" in str(refused.exception)
