"""`carbonlink ledger …` and `carbonlink verify` end to end, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text, update
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.ledger.errors import TamperError
from carbonlink.ledger.note import parse_note
from carbonlink.ledger.schema import ledger_entry

runner = CliRunner()
CARBONLINK = [sys.executable, "-c", "from carbonlink.cli import main; main()"]


@pytest.fixture
def workspace(tmp_path: Path, engine: Engine) -> dict[str, str]:
    """Environment for the commands: a workspace folder and the test database's URL."""
    url = engine.url
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schema = connection.execute(text("SELECT current_schema()")).scalar_one()
        url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return {
        "CARBONLINK_WORKSPACE": str(tmp_path / "ws"),
        "CARBONLINK_DATABASE_URL": url.render_as_string(hide_password=False),
    }


def _run(env: dict[str, str], *args: str) -> str:
    result = runner.invoke(app, list(args), env=env)
    if result.exception is not None:
        raise result.exception
    assert result.exit_code == 0, result.output
    return result.output


def test_report_receipt_round_trip_and_tamper(
    workspace: dict[str, str], engine: Engine, tmp_path: Path
) -> None:
    _run(workspace, "ledger", "keygen", "--origin", "example.com/plant-7")
    vkey = Path(workspace["CARBONLINK_WORKSPACE"]) / "keys" / "ledger.vkey"
    assert vkey.read_text().startswith("example.com/plant-7+")
    report = tmp_path / "report"
    report.mkdir()
    pdf = report / "cbam-q1.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n")
    (report / "cbam-q1.json").write_text('{"see_direct": 1.92}\n')
    output = _run(
        workspace, "ledger", "append-report", "cbam-q1", str(pdf), str(report / "cbam-q1.json")
    )
    assert "entry 0" in output
    receipt = report / "cbam-q1.tlog-proof"
    assert receipt.read_bytes().startswith(b"c2sp.org/tlog-proof@v1\n")

    # Offline: a database that cannot be reached is never touched.
    offline = {
        **os.environ,
        "CARBONLINK_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none",
        "CARBONLINK_WORKSPACE": str(tmp_path / "empty"),
        "COLUMNS": "1000",  # keep error messages on one line
    }
    checked = subprocess.run(
        [*CARBONLINK, "verify", str(receipt), "--key", str(vkey)],
        env=offline,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "receipt OK: entry 0" in checked.stdout and "cbam-q1.pdf" in checked.stdout

    original = pdf.read_bytes()
    pdf.write_bytes(original[:100] + bytes([original[100] ^ 0x20]) + original[101:])
    failed = subprocess.run(
        [*CARBONLINK, "verify", str(receipt), "--key", vkey.read_text().strip()],
        env=offline,
        capture_output=True,
        text=True,
        check=False,
    )
    assert failed.returncode == 2
    assert "cbam-q1.pdf" in failed.stderr and "SHA-256 mismatch" in failed.stderr
    pdf.write_bytes(original)

    assert "ledger OK" in _run(workspace, "ledger", "verify", "--full")
    with engine.begin() as connection:
        body = connection.execute(select(ledger_entry.c.body)).scalar_one()
        connection.execute(
            update(ledger_entry)
            .where(ledger_entry.c.idx == 0)
            .values(body=bytes(body).replace(b'"cbam-q1"', b'"cbam-q2"'))
        )
    with pytest.raises(TamperError, match="entry 0"):
        _run(workspace, "ledger", "verify", "--full")


def test_show_checkpoint_and_receipt_commands(workspace: dict[str, str], tmp_path: Path) -> None:
    _run(workspace, "ledger", "keygen")
    files = []
    for i in range(3):
        path = tmp_path / f"r{i}.html"
        path.write_text(f"<p>report {i}</p>")
        files.append(path)
        _run(workspace, "ledger", "append-report", f"r{i}", str(path))
    entry = tmp_path / "factors.json"
    entry.write_text(
        '{ "v": 1, "kind": "factor-set", "recorded_at": "2026-01-05T00:00:00Z",\n'
        '  "name": "ipcc-2006", "version": "2019", "content_sha256": "' + "ab" * 32 + '" }'
    )
    assert "entry 3" in _run(workspace, "ledger", "append", str(entry), "--subject", "fs:1")
    anchors = tmp_path / "anchors.txt"
    note = _run(workspace, "ledger", "checkpoint", "--anchor-file", str(anchors))
    assert "\n4\n" in note and anchors.read_text().count("\n") == 1
    summary = _run(workspace, "ledger", "show")
    assert "size        4" in summary
    # the checkpoint is printed as the exact signed note, with no newline after it
    assert summary.endswith(note) and parse_note(summary[summary.index(note) :].encode())
    shown = _run(workspace, "ledger", "show", "3")
    assert '"name": "ipcc-2006"' in shown and "subject fs:1" in shown
    assert '"report_id": "r1"' in _run(workspace, "ledger", "show", "1")
    out = tmp_path / "r1-receipt"
    _run(workspace, "ledger", "receipt", "1", "--out", str(out))
    verified = _run(workspace, "verify", str(tmp_path / "r1-receipt.tlog-proof"), str(files[1]))
    assert "receipt OK: entry 1" in verified


def test_init_generates_the_ledger_key_once(tmp_path: Path) -> None:
    workspace = tmp_path / "plant"
    env = {"CARBONLINK_DATABASE_URL": "", "COLUMNS": "1000"}
    first = runner.invoke(app, ["init", str(workspace)], env=env)
    assert first.exit_code == 0, first.output
    vkey = (workspace / "keys" / "ledger.vkey").read_text().strip()
    # Content, not layout: a console narrower than the line folds it (80 columns off a terminal).
    assert f"ledgerkey{vkey}" in "".join(first.output.split())
    assert (workspace / "keys" / "ledger.key").stat().st_mode & 0o077 == 0
    again = runner.invoke(app, ["init", str(workspace)], env=env)
    assert again.exit_code == 0, again.output
    assert (workspace / "keys" / "ledger.vkey").read_text().strip() == vkey
