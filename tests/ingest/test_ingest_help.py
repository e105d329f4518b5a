"""`carbonlink ingest <command> --help` renders for every command of the group."""

from __future__ import annotations

import pytest
from rich.text import Text
from typer.main import get_command
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.commands.ingest_streams import _help

INGEST = get_command(app).commands["ingest"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(INGEST.commands))
def test_help_of_every_ingest_command_renders(name: str) -> None:
    result = CliRunner().invoke(app, ["ingest", name, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: carbonlink ingest {name}" in " ".join(result.output.split())
    first_line = (INGEST.commands[name].help or "").split("\n")[0]
    assert " ".join(first_line.split()[:4]) in " ".join(result.output.split())


def test_brackets_in_a_docstring_stay_text() -> None:
    def command() -> None:
        """Meters are named <group>/<edge node>[/<device>]/<metric>."""

    assert Text.from_markup(_help(command)).plain == (
        "Meters are named <group>/<edge node>[/<device>]/<metric>."
    )


def test_sparkplug_help_names_the_meters() -> None:
    result = CliRunner().invoke(app, ["ingest", "sparkplug", "--help"])
    assert result.exit_code == 0, result.output
    assert "<group>/<edge node>/<device>/<metric>" in result.output
