"""Command output read by a script or a log keeps its phrases whole, whatever the width."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_a_long_error_message_stays_on_one_line(tmp_path: Path) -> None:
    missing = tmp_path / ("a-folder-with-a-long-name-" * 8) / "receipt.tlog-proof"
    done = subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", "verify", str(missing)],
        capture_output=True,
        text=True,
        check=False,
        # A narrow terminal's width must not reach output that goes to a pipe.
        env={**os.environ, "COLUMNS": "40", "CARBONLINK_WORKSPACE": str(tmp_path / "ws")},
        timeout=120,
    )
    assert done.returncode == 2
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and str(missing) in lines[0]
    assert lines[0].endswith("No such file or directory: '" + str(missing) + "'")


def test_tables_wrap_cells_and_messages_do_not(tmp_path: Path) -> None:
    script = (
        "from rich.table import Table\n"
        "from carbonlink.commands.console import console\n"
        "table = Table('source', 'value')\n"
        "table.add_row(' '.join(['kiln'] * 60), '1.0')\n"
        "console.print(table)\n"
        "console.print(' '.join(['phrase'] * 40))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "COLUMNS": "40"},
        timeout=60,
    )
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines[:-1]) <= 150
    # The table's long cell is wrapped inside its column, not cut: every word is there.
    assert sum(line.count("kiln") for line in lines) == 60
    assert lines[-1] == " ".join(["phrase"] * 40)
