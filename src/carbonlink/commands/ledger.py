"""`carbonlink ledger …` and `carbonlink verify RECEIPT`: the verifiable log from the shell."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from carbonlink.commands.console import console

if TYPE_CHECKING:
    from carbonlink.ledger import Ledger
    from carbonlink.ledger.note import Verifier
    from carbonlink.settings import Settings

app = typer.Typer(
    help="The verifiable ledger: entries, signed checkpoints, receipts and verification.",
    no_args_is_help=True,
)


@contextmanager
def _ledger(settings: Settings) -> Iterator[Ledger]:
    """The ledger in the settings' database, migrated to the newest schema, closed after use."""
    from carbonlink.ledger import Ledger
    from carbonlink.store import engine_from_settings, upgrade

    engine = engine_from_settings(settings)
    try:
        upgrade(engine)
        yield Ledger(engine)
    finally:
        engine.dispose()


@app.command()
def keygen(
    ctx: typer.Context,
    origin: Annotated[
        str | None, typer.Option(help="Log name (schema-less URL). Default: from the workspace.")
    ] = None,
) -> None:
    """Create the ledger's signing key in the workspace (kept if one exists)."""
    from carbonlink.ledger import ensure_ledger_key

    settings: Settings = ctx.obj
    verifier = ensure_ledger_key(settings.workspace, origin)
    console.print(f"ledger key  {verifier.name}")
    console.print(f"public key  {verifier.vkey()}")


@app.command()
def show(
    ctx: typer.Context,
    index: Annotated[int | None, typer.Argument(help="Entry to print (default: summary).")] = None,
) -> None:
    """Show the log's size, root and latest checkpoint, or one entry."""
    with _ledger(ctx.obj) as ledger:
        if index is not None:
            entry = ledger.entry(index)
            console.print(f"entry {entry.index}  kind {entry.kind}  subject {entry.subject or '-'}")
            typer.echo(json.dumps(entry.content(), indent=2, ensure_ascii=False))
            return
        size = ledger.size()
        console.print(f"size        {size}")
        console.print(f"root        {ledger.root(size).hex()}")
        latest = ledger.latest_checkpoint()
        if latest is None:
            console.print("checkpoint  none signed yet")
        else:
            console.print(f"checkpoint  size {latest.size}")
            # The note already ends in its newline; one more would make it an invalid note.
            typer.echo(latest.note.decode(), nl=False)


@app.command()
def checkpoint(
    ctx: typer.Context,
    anchor_file: Annotated[
        Path | None, typer.Option(help="Also append the checkpoint's SHA-256 to this file.")
    ] = None,
) -> None:
    """Sign a checkpoint of the current log (refused if it would contradict an earlier one).

    The checkpoint's hash is posted to every chain added with 'carbonlink ledger add-anchor'.
    """
    from carbonlink.ledger import CheckpointAnchor, FileAnchor, load_ledger_signer
    from carbonlink.ledger.cosigning import anchor_targets

    settings: Settings = ctx.obj
    with _ledger(settings) as ledger:
        anchors: list[CheckpointAnchor] = [FileAnchor(anchor_file)] if anchor_file else []
        anchors.extend(anchor_targets(ledger))
        signed = ledger.sign_checkpoint(load_ledger_signer(settings.workspace), anchors)
        # The note alone: a script reads it as it is ('ledger anchors' says where it went).
        typer.echo(signed.note.decode(), nl=False)


@app.command("add-witness")
def add_witness_command(
    ctx: typer.Context,
    url: Annotated[str, typer.Argument(help="The witness's submission prefix (http(s) URL).")],
    vkey: Annotated[str, typer.Argument(help="Its cosignature/v1 vkey (text or .vkey file).")],
) -> None:
    """Ask this witness to cosign the ledger's checkpoints (c2sp.org/tlog-witness)."""
    from carbonlink.ledger.cosigning import add_witness
    from carbonlink.ledger.keys import read_vkey

    with _ledger(ctx.obj) as ledger:
        added = add_witness(ledger, url, read_vkey(vkey))
        console.print(f"witness {added.name} at {added.url}", highlight=False)


@app.command("remove-witness")
def remove_witness_command(
    ctx: typer.Context, name: Annotated[str, typer.Argument(help="The witness key's name.")]
) -> None:
    """Stop asking a witness (the cosignatures it gave are kept)."""
    from carbonlink.errors import InputError
    from carbonlink.ledger.cosigning import remove_witness

    with _ledger(ctx.obj) as ledger:
        if not remove_witness(ledger, name):
            raise InputError(f"no witness named {name}", hint="see 'carbonlink ledger witnesses'")
        console.print(f"removed witness {name}", highlight=False)


@app.command()
def witnesses(ctx: typer.Context) -> None:
    """List the witnesses the ledger asks, and the size each last cosigned."""
    from carbonlink.ledger.cosigning import configured_witnesses

    with _ledger(ctx.obj) as ledger:
        found = configured_witnesses(ledger)
        if not found:
            console.print("no witnesses: add one with 'carbonlink ledger add-witness URL VKEY'")
        for witness in found:
            console.print(
                f"{witness.name}  {witness.url}  cosigned size {witness.size}", highlight=False
            )
            typer.echo(f"  {witness.key.vkey()}")


@app.command()
def witness(ctx: typer.Context) -> None:
    """Have the latest checkpoint cosigned by every configured witness; store what they sign.

    Receipts written afterwards carry the cosignatures. Exits with status 1 if a witness refused.
    """
    from carbonlink.ledger.cosigning import request_cosignatures

    with _ledger(ctx.obj) as ledger:
        outcomes = request_cosignatures(ledger)
        if not outcomes:
            console.print("no witnesses: add one with 'carbonlink ledger add-witness URL VKEY'")
        for outcome in outcomes:
            mark = "cosigned" if outcome.cosigned else "NOT cosigned"
            console.print(
                f"{outcome.witness}: size {outcome.size} {mark} ({outcome.message})",
                highlight=False,
            )
        if any(not outcome.cosigned for outcome in outcomes):
            raise typer.Exit(1)


@app.command("add-anchor")
def add_anchor_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A name for the chain, e.g. xinghuo-bif.")],
    url: Annotated[str, typer.Argument(help="Base URL of its chain adapter (docs/witnesses.md).")],
) -> None:
    """Post each new checkpoint's SHA-256 to a chain through its adapter."""
    from carbonlink.ledger.cosigning import add_anchor_target

    with _ledger(ctx.obj) as ledger:
        add_anchor_target(ledger, name, url)
        console.print(f"anchor {name} at {url}", highlight=False)


@app.command()
def anchors(
    ctx: typer.Context,
    size: Annotated[int | None, typer.Argument(help="Checkpoint size (default: latest).")] = None,
) -> None:
    """Where a checkpoint's hash was anchored: one line per chain, with its reference."""
    with _ledger(ctx.obj) as ledger:
        if size is None:
            latest = ledger.latest_checkpoint()
            size = 0 if latest is None else latest.size
        found = ledger.anchors(size)
        if not found:
            console.print(f"checkpoint {size} is not anchored anywhere")
        for name, reference in sorted(found.items()):
            console.print(f"{name}  {reference}", highlight=False)


@app.command()
def append(
    ctx: typer.Context,
    entry_file: Annotated[Path, typer.Argument(help="A JSON object with v, kind, recorded_at.")],
    subject: Annotated[
        str | None, typer.Option(help="Lookup key, e.g. factor-set:ipcc-2006@2019.")
    ] = None,
) -> None:
    """Append one entry given as a JSON file (it is stored in RFC 8785 canonical form)."""
    from carbonlink.errors import InputError
    from carbonlink.ledger.entries import entry_from_json

    try:
        content = json.loads(entry_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read a JSON entry: {exc}", file=str(entry_file)) from exc
    if not isinstance(content, dict):
        raise InputError("a ledger entry is a JSON object", file=str(entry_file))
    with _ledger(ctx.obj) as ledger:
        index = ledger.append(entry_from_json(content, subject))
        console.print(f"entry {index}")


@app.command("append-report")
def append_report(
    ctx: typer.Context,
    report_id: Annotated[str, typer.Argument(help="Identifier of the report.")],
    files: Annotated[list[Path], typer.Argument(help="The rendered files of the report.")],
    report_kind: Annotated[str, typer.Option(help="What kind of report it is.")] = "report",
    inputs: Annotated[
        list[int] | None, typer.Option("--input", help="Entry index the report is built from.")
    ] = None,
) -> None:
    """Record a report's rendered files in the ledger and write its receipt beside them."""
    from carbonlink.ledger import load_ledger_signer
    from carbonlink.ledger.receipt import record_report

    settings: Settings = ctx.obj
    with _ledger(settings) as ledger:
        index, path = record_report(
            ledger,
            load_ledger_signer(settings.workspace),
            report_id,
            report_kind=report_kind,
            paths=files,
            inputs=inputs or [],
        )
        console.print(f"entry {index}; receipt {path}")


@app.command()
def receipt(
    ctx: typer.Context,
    index: Annotated[int, typer.Argument(help="Entry to receipt.")],
    out: Annotated[Path, typer.Option(help="Receipt file (.tlog-proof).")],
) -> None:
    """Write the offline receipt of one entry (signing a checkpoint if none covers it)."""
    from carbonlink.ledger import load_ledger_signer, make_receipt
    from carbonlink.ledger.receipt import write_receipt

    settings: Settings = ctx.obj
    with _ledger(settings) as ledger:
        made = make_receipt(ledger, index, load_ledger_signer(settings.workspace))
        console.print(f"receipt {write_receipt(made, out)}")


@app.command()
def verify(
    ctx: typer.Context,
    full: Annotated[
        bool,
        typer.Option(
            "--full",
            help="Rebuild the tree from every stored entry and recompute what can be recomputed.",
        ),
    ] = False,
    key: Annotated[
        str | None, typer.Option(help="Log verifier key (vkey text or file). Default: workspace.")
    ] = None,
) -> None:
    """Check the checkpoints' signatures and consistency; with --full, every stored entry."""
    from carbonlink.ledger import RecomputeRegistry, load_ledger_verifier, verify_ledger
    from carbonlink.ledger.keys import read_vkey

    settings: Settings = ctx.obj
    with _ledger(settings) as ledger:
        log_key = read_vkey(key) if key else load_ledger_verifier(settings.workspace)
        registry = RecomputeRegistry.from_entry_points() if full else None
        report = verify_ledger(ledger, log_key, full=full, recompute=registry)
        console.print(
            f"ledger OK: {report.size} entries, {report.checkpoints} checkpoints consistent"
        )
        if full:
            console.print(f"rebuilt {report.entries_rebuilt} entries; every stored hash matches")
            for kind, count in sorted(report.recomputed.items()):
                console.print(f"recomputed {count} {kind} entries")


def _workspace(ctx: typer.Context) -> Path:
    """The workspace folder, reading the settings only now: a receipt checked with --key
    needs none of them."""
    from carbonlink.settings import Settings

    return (ctx.obj if isinstance(ctx.obj, Settings) else Settings()).workspace


def verify_receipt_command(
    ctx: typer.Context,
    receipt_file: Annotated[Path, typer.Argument(help="The receipt (.tlog-proof) to check.")],
    files: Annotated[
        list[Path] | None,
        typer.Argument(help="Receipted files (default: the files it names, beside the receipt)."),
    ] = None,
    key: Annotated[
        str | None, typer.Option(help="Log verifier key (vkey text or .vkey file).")
    ] = None,
    witness: Annotated[
        list[str] | None,
        typer.Option(
            "--witness-key",
            "--witness",
            help="A trusted witness's vkey (text or .vkey file; repeatable).",
        ),
    ] = None,
    witnesses: Annotated[
        str | None,
        typer.Option(
            "--witnesses",
            metavar="K",
            help="How many of the witness keys must have cosigned (default: all given).",
        ),
    ] = None,
    anchor_url: Annotated[
        str | None, typer.Option(help="Chain adapter that holds the checkpoint's anchor.")
    ] = None,
    anchor_ref: Annotated[
        str | None, typer.Option(help="The anchor's transaction reference on that chain.")
    ] = None,
    entry_only: Annotated[
        bool, typer.Option("--entry-only", help="Check the entry only, not the files it names.")
    ] = False,
) -> None:
    """Verify a receipt offline: signature, inclusion proof and the files' SHA-256."""
    from carbonlink.errors import ConfigError
    from carbonlink.ledger import load_ledger_verifier, verify_receipt
    from carbonlink.ledger.errors import ReceiptError
    from carbonlink.ledger.keys import read_vkey
    from carbonlink.ledger.receipt import Receipt, receipted_files

    try:
        data = receipt_file.read_bytes()
    except OSError as exc:
        raise ReceiptError(f"cannot read the receipt: {exc}", file=str(receipt_file)) from exc
    parsed = Receipt.parse(data)
    if key:
        log_key = read_vkey(key)
    else:
        try:
            log_key = load_ledger_verifier(_workspace(ctx))
        except ConfigError as exc:
            raise ConfigError(
                "no log key to check the receipt with",
                file=str(receipt_file),
                hint="pass the issuer's public key with --key (a .vkey file or its text)",
            ) from exc
    keys = [read_vkey(value) for value in witness or []]
    quorum = _quorum(witnesses)
    result = verify_receipt(parsed, log_key, witnesses=keys, quorum=quorum)
    paths = list(files or [])
    if not paths and not entry_only:
        named = receipted_files(result.content)
        missing = [name for name in named if not (receipt_file.parent / name).is_file()]
        if missing:
            raise ReceiptError(
                f"receipted files not found beside the receipt: {', '.join(missing)}",
                file=str(receipt_file),
                hint="pass the files as arguments, or --entry-only to check the entry alone",
            )
        paths = [receipt_file.parent / name for name in named]
    result = verify_receipt(parsed, log_key, witnesses=keys, quorum=quorum, files=paths)
    anchored = _check_anchor(anchor_url, anchor_ref, parsed.checkpoint_note, log_key)
    checkpoint = result.checkpoint
    console.print(
        f"receipt OK: entry {result.index} ({result.content.get('kind')}) is in "
        f"{checkpoint.origin} at size {checkpoint.size}"
    )
    for name, digest in result.files.items():
        console.print(f"  {name}  sha256 {digest}  matches")
    if not result.files:
        console.print("  no files checked (pass them as arguments to check their SHA-256)")
    for name in result.witnesses:
        console.print(f"  cosigned by {name}")
    if result.witnesses or quorum:
        console.print(
            f"  witnesses: {len(result.witnesses)} of {len(keys)} cosigned "
            f"({len(keys) if quorum is None else quorum} required)"
        )
    if anchored:
        console.print(f"  anchored: {anchored}")


def _quorum(text: str | None) -> int | None:
    from carbonlink.errors import InputError

    if text is None:
        return None
    if not text.isdigit():
        raise InputError(
            f"--witnesses {text!r} is not a whole number",
            hint="give how many of the --witness-key witnesses must have cosigned, e.g. 1",
        )
    return int(text)


def _check_anchor(url: str | None, reference: str | None, note: bytes, log_key: Verifier) -> str:
    """Check the checkpoint's anchor when both --anchor-url and --anchor-ref are given."""
    from carbonlink.errors import InputError

    if url is None and reference is None:
        return ""
    if url is None or reference is None:
        raise InputError("give both --anchor-url and --anchor-ref to check an anchor")
    from carbonlink.ledger.anchor import ChainAnchor, verify_chain_anchor

    record = verify_chain_anchor(ChainAnchor(url), reference, note, log_key)
    return f"{reference} on {url} (recorded {record.get('recorded_at', '?')})"
