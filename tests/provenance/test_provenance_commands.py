"""The ledger through the commands: ingest and account record their entries; the demo's
receipt is accepted offline and refused after any byte of its report changes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.ledger.errors import ReceiptError
from conftest import MAPPING, READINGS_CSV, inventory_text

runner = CliRunner()


def _ok(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    if result.exception is not None:
        raise result.exception
    return result.output


def test_ingest_and_account_record_the_chain(tmp_path: Path) -> None:
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws")}
    _ok(env, "init", str(tmp_path / "ws"))
    readings, mapping = tmp_path / "grid.csv", tmp_path / "grid.yaml"
    readings.write_text(READINGS_CSV, "utf-8")
    mapping.write_text(yaml.safe_dump(MAPPING), "utf-8")
    output = _ok(env, "ingest", "csv", str(readings), "--mapping", str(mapping))
    assert "ledger entry" in output and " 0" in output
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(inventory_text(), "utf-8")
    result = runner.invoke(app, ["account", str(inventory), "-f", "json"], env=env)
    assert result.exception is None, result.output
    document = json.loads(result.stdout)
    power = next(line for line in document["lines"] if line["source"] == "power")
    assert power["activity"]["quantity"] == 6.0
    assert "ledger entry 2: calculation run" in result.stderr
    _ok(env, "ledger", "checkpoint")
    full = _ok(env, "ledger", "verify", "--full")
    assert "recomputed 1 calculation-run entries" in full
    assert "recomputed 1 import-batch entries" in full


@pytest.fixture(scope="module")
def demo(demo_output: Path) -> Path:
    return demo_output


def test_the_demo_ledger_verifies_from_meter_to_report(demo: Path) -> None:
    env = {"CARBONLINK_WORKSPACE": str(demo / "workspace")}
    full = _ok(env, "ledger", "verify", "--full")
    assert "recomputed 1 import-batch entries" in full  # the plant's year of readings
    assert "recomputed 1 factor-set entries" in full
    # the enterprise as shipped, again with its suppliers' scope 3 category 1, the metered works
    assert "recomputed 3 calculation-run entries" in full
    for name in ("inventory", "inventory-metered-2018", "uncertainty", "monitoring"):
        assert (demo / f"{name}.tlog-proof").is_file()
    # the China ETS reports are one per legal entity (2025 steel guideline)
    for name in ("inventory", "china-tangshan", "china-jiangsu", "reconcile"):
        assert (demo / "reports" / f"{name}.tlog-proof").is_file()


def test_a_rendered_report_receipt_covers_all_its_formats(demo: Path) -> None:
    """reports/inventory.{html,pdf,xlsx,json}: one receipt; a flipped PDF byte fails it."""
    receipt = demo / "reports" / "inventory.tlog-proof"
    vkey = demo / "workspace" / "keys" / "ledger.vkey"
    env = {"CARBONLINK_WORKSPACE": str(demo / "nowhere")}
    output = _ok(env, "verify", str(receipt), "--key", str(vkey))
    for suffix in ("html", "pdf", "xlsx", "json"):
        assert f"inventory.{suffix}" in output
    pdf = demo / "reports" / "inventory.pdf"
    original = pdf.read_bytes()
    try:
        tampered = bytearray(original)
        tampered[len(tampered) // 3] ^= 0x01
        pdf.write_bytes(bytes(tampered))
        result = runner.invoke(app, ["verify", str(receipt), "--key", str(vkey)], env=env)
        assert isinstance(result.exception, ReceiptError)
        assert "inventory.pdf" in str(result.exception)
    finally:
        pdf.write_bytes(original)


def test_the_demo_receipt_verifies_offline_and_fails_after_any_byte_changes(
    demo: Path, tmp_path: Path
) -> None:
    receipt = demo / "inventory.tlog-proof"
    vkey = demo / "workspace" / "keys" / "ledger.vkey"
    # offline: a copy of the receipt and the report elsewhere, no workspace, no database
    copy = tmp_path / "check"
    copy.mkdir()
    (copy / receipt.name).write_bytes(receipt.read_bytes())
    report = (demo / "inventory.json").read_bytes()
    (copy / "inventory.json").write_bytes(report)
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "nowhere")}
    output = _ok(env, "verify", str(copy / receipt.name), "--key", str(vkey))
    assert "receipt OK" in output and "inventory.json" in output
    for position in (0, len(report) // 2, len(report) - 1):
        tampered = bytearray(report)
        tampered[position] ^= 0x20
        (copy / "inventory.json").write_bytes(bytes(tampered))
        result = runner.invoke(
            app, ["verify", str(copy / receipt.name), "--key", str(vkey)], env=env
        )
        assert isinstance(result.exception, ReceiptError), position
    assert not (tmp_path / "nowhere").exists()
