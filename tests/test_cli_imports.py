"""The command line starts at once: its help and an offline receipt check load no heavy library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from carbonlink.cli import app, verify_app
from carbonlink.commands import report_accounting
from carbonlink.commands.plain_values import PlainRuntimeParam, PlainValuesCommand
from carbonlink.reports.render import ReportFormat

HEAVY = (
    "scipy",
    "pandas",
    "weasyprint",
    "openpyxl",
    "sqlalchemy",
    "fastapi",
    "numpy",
    "pint",
    "asyncua",
    "paho",
    "alembic",
    "uvicorn",
    "jinja2",
)
"""Libraries a command loads when it runs, never to show its help."""

LOADED = """
import sys
sys.argv = ["carbonlink", *sys.argv[1:]]
try:
    {body}
finally:
    top = sorted({{name.partition(".")[0] for name in sys.modules}})
    print("MODULES " + " ".join(top), file=sys.stderr)
    commands = sorted(n for n in sys.modules if n.startswith("carbonlink.commands."))
    print("COMMANDS " + " ".join(commands), file=sys.stderr)
"""


def _heavy_loaded(stderr: str) -> list[str]:
    line = next(line for line in stderr.splitlines() if line.startswith("MODULES "))
    loaded = set(line.split()[1:])
    return [name for name in HEAVY if name in loaded]


def _run(
    body: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", LOADED.format(body=body), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_importing_the_command_line_loads_no_heavy_library() -> None:
    done = _run("import carbonlink.cli")
    assert done.returncode == 0, done.stderr
    assert _heavy_loaded(done.stderr) == []


WALK = """
import json
from typer.main import get_command
from typer.testing import CliRunner
from carbonlink.cli import app, verify_app

runner = CliRunner()
seen = []

def walk(command, path):
    result = runner.invoke(app, [*path, "--help"])
    seen.append([" ".join(path), result.exit_code, result.output[:200]])
    for name, sub in getattr(command, "commands", {}).items():
        walk(sub, [*path, name])

walk(get_command(app), [])
print("HELP " + json.dumps(seen))
"""


def test_every_command_shows_its_help_without_loading_a_heavy_library() -> None:
    done = _run(WALK.replace("\n", "\n    "))
    assert done.returncode == 0, done.stderr
    line = next(line for line in done.stdout.splitlines() if line.startswith("HELP "))
    pages = json.loads(line.removeprefix("HELP "))
    names = {path for path, _code, _text in pages}
    # Every group and a sample of leaves are there, so the walk did go down the tree.
    assert {"", "ingest", "ingest csv", "ledger verify", "verify", "report cbam", "users add"} <= (
        names
    )
    assert len(pages) > 40
    failed = [(path, code, text) for path, code, text in pages if code != 0 or "Usage:" not in text]
    assert failed == []
    assert _heavy_loaded(done.stderr) == []
    # Help builds no settings: reading them loads pydantic-settings, slower than the whole page.
    assert "pydantic_settings" not in done.stderr.split()


def test_a_receipt_is_verified_offline_without_the_database_layer(tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"CARBONLINK_WORKSPACE": str(tmp_path / "ws"), "CARBONLINK_DATABASE_URL": ""}
    for args in (
        ["ledger", "keygen", "--origin", "example.com/plant-7"],
        ["ledger", "append-report", "q1", str(_report(tmp_path))],
    ):
        result = runner.invoke(app, args, env=env)
        assert result.exit_code == 0, result.output
    receipt = tmp_path / "q1.tlog-proof"
    vkey = tmp_path / "ws" / "keys" / "ledger.vkey"

    done = _run(
        "from carbonlink.cli import main; main()",
        "verify",
        str(receipt),
        "--key",
        str(vkey),
        # A database that cannot be reached: an offline check never opens one.
        env={"CARBONLINK_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"},
    )
    assert done.returncode == 0, done.stderr
    assert "receipt OK: entry 0" in done.stdout and "q1.pdf" in done.stdout
    # Neither the database layer nor the settings are needed to check a receipt, nor pydantic
    # to read its path and key (commands/plain_values.py).
    assert _heavy_loaded(done.stderr) == []
    loaded = done.stderr.split()
    assert "pydantic_settings" not in loaded and "pydantic" not in loaded
    # Nor the other commands: `verify` runs from a root that holds it alone.
    line = next(line for line in done.stderr.splitlines() if line.startswith("COMMANDS "))
    assert set(line.split()[1:]) == {
        "carbonlink.commands.console",
        "carbonlink.commands.ledger",
        "carbonlink.commands.plain_values",
    }


def test_a_receipt_is_checked_against_witnesses_without_the_database_layer(
    tmp_path: Path,
) -> None:
    """``verify --witnesses 1 --witness-key …`` stays as light as a plain receipt check."""
    from carbonlink.ledger import Ledger, make_receipt, report_entry_for_files, write_receipt
    from carbonlink.ledger.note import COSIGNATURE_V1, Signer
    from carbonlink.store import create_store_engine, upgrade

    log = Signer.generate("example.com/plant-7")
    witness = Signer.generate("witness.example/w1", key_type=COSIGNATURE_V1)
    engine = create_store_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    try:
        upgrade(engine)
        ledger = Ledger(engine)
        index = ledger.append(
            report_entry_for_files("q1", report_kind="report", paths=[_report(tmp_path)])
        )
        signed = ledger.sign_checkpoint(log)
        line = witness.sign(signed.checkpoint.text(), timestamp=1_765_000_000).line()
        ledger.add_cosignatures(signed.size, line.encode(), [witness.verifier()])
        receipt = write_receipt(make_receipt(ledger, index), tmp_path / "q1")
    finally:
        engine.dispose()
    done = _run(
        "from carbonlink.cli import main; main()",
        "verify",
        str(receipt),
        "--key",
        log.verifier().vkey(),
        "--witnesses",
        "1",
        "--witness-key",
        witness.verifier().vkey(),
        env={"CARBONLINK_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:9/none"},
    )
    assert done.returncode == 0, done.stderr
    assert "cosigned by witness.example/w1" in done.stdout
    assert _heavy_loaded(done.stderr) == []
    loaded = done.stderr.split()
    assert "pydantic_settings" not in loaded and "pydantic" not in loaded


VERIFY_ARGS = [
    ["verify", "--help"],
    ["verify"],
    ["verify", "missing.tlog-proof"],
    ["verify", "q1.tlog-proof", "--bogus"],
    ["verify", "q1.tlog-proof", "--key"],
    ["verify", "q1.tlog-proof", "--entry-only", "--witness", "a", "--witness"],
    ["verify", "folder", "--key", "nokey"],
]


def test_verify_alone_answers_as_the_whole_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Help, usage and errors of `carbonlink verify` are the same from its own root."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    runner = CliRunner()
    for args in VERIFY_ARGS:
        alone, whole = (
            runner.invoke(root, args, prog_name="carbonlink") for root in (verify_app(), app)
        )
        assert (alone.exit_code, alone.output) == (whole.exit_code, whole.output), args
        assert alone.exit_code != 0 or "Usage: carbonlink" in alone.output
    # main() uses that root for `verify` only: the root's help lists every command.
    done = _run("from carbonlink.cli import main; main()", "--help")
    assert done.returncode == 0, done.stderr
    assert {"ingest", "ledger", "verify", "report", "users"} <= set(done.stdout.split())


def _report(folder: Path) -> Path:
    pdf = folder / "q1.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) + b"\n%%EOF\n")
    return pdf


def test_the_report_commands_offer_every_format_the_renderers_write() -> None:
    assert [f.value for f in report_accounting.ReportFormat] == [f.value for f in ReportFormat]


def _show(
    path: Path,
    paths: Annotated[list[Path] | None, typer.Argument()] = None,
    existing: Annotated[
        Path | None, typer.Option(exists=True, file_okay=False, writable=True)
    ] = None,
    a_file: Annotated[Path | None, typer.Option(exists=True, dir_okay=False)] = None,
    resolved: Annotated[Path | None, typer.Option(resolve_path=True)] = None,
    text: str | None = None,
    texts: Annotated[list[str] | None, typer.Option()] = None,
    flag: bool = False,
    number: int = 0,
) -> None:
    typer.echo(repr([path, paths, existing, a_file, resolved, text, texts, flag, number]))


def _twins() -> tuple[typer.Typer, typer.Typer]:
    """The same command with Typer's conversion and with the pydantic-free one."""
    typers, plain = typer.Typer(), typer.Typer()
    typers.command()(_show)
    plain.command(cls=PlainValuesCommand)(_show)
    return typers, plain


@pytest.mark.parametrize(
    "args",
    [
        ["q1.pdf"],
        ["q1.pdf", "a", "folder/b.csv", "folder"],
        ["./q1.pdf", "a//b/", "folder/", ""],
        ["-", "~/x", "é.pdf", "q1.pdf/"],
        ["x", "--existing", "folder"],
        ["x", "--existing", "q1.pdf"],
        ["x", "--existing", "missing"],
        ["x", "--existing", "folder/"],
        ["x", "--a-file", "folder"],
        ["x", "--a-file", "q1.pdf", "--resolved", "folder/../q1.pdf"],
        ["x", "--a-file", "./missing"],
        ["x", "--a-file", "q1.pdf/"],
        ["x", "--resolved", ""],
        ["x", "--text", "", "--texts", "a", "--texts", "b b", "--flag"],
        ["x", "--number", "seven"],
        ["x", "--flag", "--number", "7"],
        [],
        ["x", "--text"],
        ["--help"],
    ],
)
def test_text_and_path_values_are_converted_as_typer_would(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "q1.pdf").write_bytes(b"%PDF")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "b.csv").write_text("a\n", "utf-8")
    runner = CliRunner()
    typers, plain = (runner.invoke(twin, args, prog_name="show") for twin in _twins())
    assert (plain.exit_code, plain.output) == (typers.exit_code, typers.output)
    assert plain.exception is None or isinstance(plain.exception, SystemExit)


def test_the_plain_conversion_serves_text_paths_and_flags_only(tmp_path: Path) -> None:
    _typers, plain = _twins()
    command = get_command(plain)
    command.main([str(tmp_path)], prog_name="show", standalone_mode=False)
    kinds = {param.name: type(param._runtime_param) for param in command.params}  # type: ignore[attr-defined]
    assert {name for name, kind in kinds.items() if kind is PlainRuntimeParam} == {
        "path", "paths", "existing", "a_file", "resolved", "text", "texts", "flag",
        "install_completion", "show_completion",
    }  # fmt: skip
    assert kinds["number"] is not PlainRuntimeParam
