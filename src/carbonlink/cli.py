"""The `carbonlink` command: thin Typer wrappers over the layers.

Importing this module, and asking any command for its help, loads only Typer, Rich and the
command modules; each command imports the layers it uses when it runs, so that
`carbonlink --help` and `carbonlink verify` answer at once (tests/test_cli_imports.py).
`carbonlink verify …` goes further: it builds a root holding that command alone (the same
root, so its help, usage and errors read the same) rather than the whole command tree, and
loads none of the other command modules. ``app`` (the whole tree) is built when first asked for.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from carbonlink.commands.console import console, err_console
from carbonlink.commands.plain_values import PlainValuesCommand, convert_without_pydantic
from carbonlink.errors import CarbonlinkError

OFFLINE_COMMANDS = frozenset({"verify"})
"""Commands that read no settings unless they need them (a receipt checked with --key), and
whose text and path values are converted without pydantic (commands/plain_values.py)."""

_REST = "carbonlink.rest"


class _Root(TyperGroup):
    """The root group, which remembers the arguments after the command's name."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        # The root's own options are flags: they need no pydantic either.
        convert_without_pydantic(self.get_params(ctx))
        return super().parse_args(ctx, args)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        name, command, rest = super().resolve_command(ctx, args)
        ctx.meta[_REST] = rest
        return name, command, rest


def _root(ctx: typer.Context) -> None:
    # The settings (pydantic-settings) take longer to load than all the rest of a help page:
    # they are built for commands that run, not for help, nor for an offline receipt check.
    rest: list[Any] = ctx.meta.get(_REST, [])
    if ctx.invoked_subcommand in OFFLINE_COMMANDS or any(
        arg in ctx.help_option_names for arg in rest
    ):
        return
    from carbonlink.settings import Settings

    ctx.obj = Settings()


def _new_root() -> typer.Typer:
    """The root of the command tree, without its commands."""
    root = typer.Typer(
        name="carbonlink",
        cls=_Root,
        help="From a plant's meters to cited, verifiable carbon accounts and reports.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        # Click's plain help: Rich's help panels take longer to load and lay out than the whole
        # rest of a help page (see benchmarks/bench_cli.py).
        rich_markup_mode=None,
    )
    root.callback()(_root)
    return root


def _add_verify(root: typer.Typer) -> None:
    from carbonlink.commands.ledger import verify_receipt_command

    root.command("verify", cls=PlainValuesCommand)(verify_receipt_command)


def demo(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="Folder for the demo's outputs.")] = Path("demo-output"),
    plant_data: Annotated[
        Path | None,
        typer.Option(help="The steel plant file Steel_industry_data.csv (default: ../shared)."),
    ] = None,
    cbam_template: Annotated[
        Path | None,
        typer.Option(
            envvar="CARBONLINK_CBAM_TEMPLATE",
            help="Your copy of the official CBAM communication template (XLSX): the demo "
            "fills it for each installation beside carbonlink's own workbook.",
        ),
    ] = None,
) -> None:
    """Build the demo steel enterprise, account its emissions and write the outputs."""
    from carbonlink.demo import run_demo

    if cbam_template is not None:
        from carbonlink.commands.report import check_xlsx_template
        from carbonlink.errors import InputError

        try:
            check_xlsx_template(cbam_template)
        except InputError as exc:
            raise InputError(
                exc.message.replace("--template", "--cbam-template"),
                file=exc.file,
                hint=(exc.hint or "").replace("--template", "--cbam-template") or None,
            ) from exc
    run_demo(ctx.obj, out, console, plant_data=plant_data, cbam_template=cbam_template)


def build_app() -> typer.Typer:
    """The whole command tree."""
    from carbonlink.commands import backup as backup_commands
    from carbonlink.commands import batches as batches_commands
    from carbonlink.commands import cbam_import as cbam_import_commands
    from carbonlink.commands import cets as cets_commands
    from carbonlink.commands import index as index_commands
    from carbonlink.commands import ingest as ingest_commands
    from carbonlink.commands import ingest_streams, store_scale
    from carbonlink.commands import ledger as ledger_commands
    from carbonlink.commands import monitor as monitor_commands
    from carbonlink.commands import pact as pact_commands
    from carbonlink.commands import report as report_commands
    from carbonlink.commands import suppliers as suppliers_commands
    from carbonlink.commands import users as users_commands
    from carbonlink.commands import vc as vc_commands
    from carbonlink.commands import witness as witness_commands
    from carbonlink.commands import worker as worker_commands
    from carbonlink.commands import workspace as workspace_commands
    from carbonlink.commands.account import account_command
    from carbonlink.commands.serve import serve

    root = _new_root()
    root.command()(demo)
    root.command("init")(workspace_commands.init)
    root.add_typer(ingest_commands.app, name="ingest")
    ingest_streams.register(ingest_commands.app)
    root.add_typer(ledger_commands.app, name="ledger")
    _add_verify(root)
    root.add_typer(monitor_commands.app, name="monitor")
    root.command("account")(account_command)
    root.add_typer(report_commands.app, name="report")
    root.add_typer(index_commands.app, name="index")
    root.add_typer(pact_commands.app, name="pact")
    root.command()(serve)
    root.command("backup")(backup_commands.backup)
    root.command("restore")(backup_commands.restore)
    root.add_typer(users_commands.app, name="users")
    root.add_typer(suppliers_commands.app, name="suppliers")
    root.add_typer(witness_commands.app, name="witness")
    root.add_typer(cbam_import_commands.app, name="cbam-import")
    root.add_typer(cets_commands.app, name="cets")
    root.add_typer(vc_commands.app, name="vc")
    root.add_typer(worker_commands.app, name="worker")
    root.add_typer(batches_commands.app, name="batches")
    root.add_typer(store_scale.app, name="store")
    root.command("recompute")(store_scale.recompute_command)
    return root


def verify_app() -> typer.Typer:
    """The root with `verify` alone: what `carbonlink verify …` runs."""
    root = _new_root()
    _add_verify(root)
    return root


_built: dict[str, typer.Typer] = {}


def __getattr__(name: str) -> typer.Typer:
    # ``carbonlink.cli.app``: the whole tree, built once, when first asked for.
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if "app" not in _built:
        _built["app"] = build_app()
    return _built["app"]


def main() -> None:
    """Console-script entry point: carbonlink errors become a message and exit status 2."""
    command = verify_app() if sys.argv[1:2] == ["verify"] else __getattr__("app")
    try:
        command()
    except CarbonlinkError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        raise SystemExit(2) from None
