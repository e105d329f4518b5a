"""`carbonlink witness …`: this workspace as a witness of partners' logs (c2sp.org/tlog-witness).

`carbonlink serve` answers their ``add-checkpoint`` requests under ``/witness`` (the setting
``witness_prefix``); these commands make the witness key and say which logs to witness.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from carbonlink.settings import Settings

app = typer.Typer(
    help="Witness partners' logs: cosign their checkpoints when they prove they only grew.",
    no_args_is_help=True,
)


@app.command()
def key(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option(help="Witness name (schema-less URL) when the key is first made."),
    ] = None,
) -> None:
    """Print the witness's public key (vkey), making the key on first use."""
    from carbonlink.ledger.keys import ensure_witness_key

    settings: Settings = ctx.obj
    typer.echo(ensure_witness_key(settings.workspace, name).vkey())


@app.command("add-log")
def add_log(
    ctx: typer.Context,
    origin: Annotated[str, typer.Argument(help="The log's origin line, as in its checkpoints.")],
    vkey: Annotated[list[str], typer.Argument(help="The log's verifier key(s) (text or file).")],
) -> None:
    """Witness a log: cosign its checkpoints signed by one of these keys."""
    from carbonlink.ledger.keys import ensure_witness_key, load_witness_signer, read_vkey
    from carbonlink.ledger.witness import Witness

    settings: Settings = ctx.obj
    ensure_witness_key(settings.workspace)
    with _engine(settings) as engine:
        witness = Witness(engine, load_witness_signer(settings.workspace))
        log = witness.add_log(origin, [read_vkey(value) for value in vkey])
        console.print(f"witnessing {log.origin} (cosigned size {log.size})", highlight=False)


@app.command()
def logs(ctx: typer.Context) -> None:
    """List the logs this workspace witnesses and the latest size it cosigned for each."""
    from carbonlink.ledger.keys import ensure_witness_key, load_witness_signer
    from carbonlink.ledger.witness import Witness

    settings: Settings = ctx.obj
    ensure_witness_key(settings.workspace)
    with _engine(settings) as engine:
        found = Witness(engine, load_witness_signer(settings.workspace)).logs()
        if not found:
            console.print("no logs witnessed: add one with 'carbonlink witness add-log'")
        for log in found:
            when = log.cosigned_at.isoformat() if log.cosigned_at else "never"
            console.print(f"{log.origin}  size {log.size}  cosigned {when}", highlight=False)


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    """The settings' database, migrated to the newest schema, disposed after use."""
    from carbonlink.store import engine_from_settings, upgrade

    engine = engine_from_settings(settings)
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@app.command()
def evidence(
    ctx: typer.Context,
    origin: Annotated[str | None, typer.Argument(help="Only this log (default: all).")] = None,
    out: Annotated[
        Path | None, typer.Option(help="Folder to write each refused request to, as received.")
    ] = None,
) -> None:
    """List checkpoints a witnessed log signed but the witness refused as inconsistent.

    Each is signed by the log's own key and does not extend what the witness cosigned: a fork,
    or a false consistency proof. With --out, each request body is written as received.
    """
    from carbonlink.ledger.keys import ensure_witness_key, load_witness_signer
    from carbonlink.ledger.witness import Witness

    settings: Settings = ctx.obj
    ensure_witness_key(settings.workspace)
    with _engine(settings) as engine:
        found = Witness(engine, load_witness_signer(settings.workspace)).evidence(origin)
    if not found:
        console.print("no inconsistent checkpoints received")
    for number, item in enumerate(found, start=1):
        console.print(
            f"{item.received_at.isoformat()}  {item.origin}  old {item.old_size} → size "
            f"{item.size}: {item.reason}",
            highlight=False,
        )
        if out is not None:
            out.mkdir(parents=True, exist_ok=True)
            path = out / f"evidence-{number}.txt"
            path.write_bytes(item.request)
            console.print(f"  written to {path}", highlight=False)
