"""`carbonlink batches import`: production records from the command line, rows named by line."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from carbonlink.cli import app

RECORDS = (
    "batch,stage,produced_on,quantity,unit\n"
    "heat-2025-0417,heat,2025-03-02,180,t\n"
    "heat-2025-0418,heat,2 March,178.5,t\n"
    "slab-2025-0417-1,slab,2025-03-02,90,t\n"
)


def test_import_prints_counts_and_each_rejected_line(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws"), "CARBONLINK_DATABASE_URL": ""}
    path = tmp_path / "production.csv"
    path.write_text(RECORDS, "utf-8")
    args = ["batches", "import", str(path), "--organization", "org-demo"]
    refused = runner.invoke(app, args, env=env)
    assert refused.exit_code != 0 and "CARBONLINK_HANDLE_PREFIX" in str(refused.exception)
    env["CARBONLINK_HANDLE_PREFIX"] = "88.123.4567"
    first = runner.invoke(app, args, env=env)
    assert first.exit_code == 0, first.output
    assert "3 records, 2 new batches, 0 unchanged, 1 rejected" in first.output
    assert "line 3: produced_on '2 March' is not a date" in first.output
    again = runner.invoke(app, args, env=env)
    assert "3 records, 0 new batches, 2 unchanged, 1 rejected" in again.output
