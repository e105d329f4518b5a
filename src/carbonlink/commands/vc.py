"""`carbonlink vc …`: issue and verify W3C Verifiable Credentials (PCF, CBAM, KPI packs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonlink.commands.console import console
from carbonlink.errors import InputError

app = typer.Typer(
    help="Verifiable credentials: issue PCFs, CBAM communications and KPI packs; verify them.",
    no_args_is_help=True,
)

KINDS_HELP = (
    "pcf: FILE is a PACT v3 product footprint (JSON); cbam: FILE is a CBAM communication "
    "(JSON); kpi: FILE is a KPI pack spec (YAML, see docs/verifiable-credentials.md)."
)


def _registry(ctx: typer.Context) -> Any:
    from carbonlink.credentials.registry import CredentialRegistry
    from carbonlink.store import upgrade
    from carbonlink.store.engine import engine_from_settings

    engine = engine_from_settings(ctx.obj)
    upgrade(engine)
    return CredentialRegistry(engine, ctx.obj.workspace, ctx.obj.service_url)


def _read_json(path: Path) -> dict[str, Any]:
    from carbonlink.credentials.documents import read_credential

    try:
        return read_credential(path.read_bytes(), name=str(path))
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}", file=str(path)) from exc


Organization = Annotated[
    str | None,
    typer.Option(help="Issuing organization id (default: CARBONLINK_PACT_ORGANIZATION)."),
]


@app.command("did")
def did_command(ctx: typer.Context, organization: Organization = None) -> None:
    """Print the organization's did:web document (and its did:key for offline checks)."""
    registry = _registry(ctx)
    org = organization or ctx.obj.pact_organization
    console.print_json(json.dumps(registry.did_document(org)))


@app.command("issue")
def issue_command(
    ctx: typer.Context,
    kind: Annotated[str, typer.Argument(help=KINDS_HELP)],
    file: Annotated[Path, typer.Argument(help="The claim file (see KIND).")],
    out: Annotated[Path | None, typer.Option(help="Write the credential here.")] = None,
    organization: Organization = None,
    offline: Annotated[
        bool, typer.Option(help="Sign as the organization's did:key instead of its did:web.")
    ] = False,
    installation: Annotated[str, typer.Option(help="cbam: the installation's name.")] = "",
    holder: Annotated[
        str | None, typer.Option(help="Lender user id the credential is shared with.")
    ] = None,
) -> None:
    """Sign a credential with the organization's key and store it (revocable)."""
    from carbonlink.credentials.documents import cbam_subject, pcf_subject
    from carbonlink.credentials.kpi_spec import kpi_pack_from_spec
    from carbonlink.credentials.multikey import did_key

    registry = _registry(ctx)
    org = organization or ctx.obj.pact_organization
    if kind == "pcf":
        footprint = _read_json(file)
        subject = pcf_subject(footprint)
        title = str(footprint.get("productNameCompany") or footprint.get("id"))
    elif kind == "cbam":
        subject = cbam_subject(_read_json(file), installation or file.stem)
        title = installation or file.stem
    elif kind == "kpi":
        key = registry.signing_key(org, offline=offline)
        borrower = did_key(key.public_key) if offline else registry.did(org)
        subject, title = kpi_pack_from_spec(file, borrower=borrower)
    else:
        raise InputError(f"unknown credential kind '{kind}'", hint="use pcf, cbam or kpi")
    credential = registry.issue(
        org, kind, subject, title=title, issued_by="cli", holder=holder, offline=offline
    )
    text = json.dumps(credential, ensure_ascii=False, indent=2) + "\n"
    if out:
        out.write_text(text, "utf-8")
        console.print(f"{credential['id']} → {out}", highlight=False)
    else:
        console.print(text, highlight=False, markup=False, soft_wrap=True)


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    credential_file: Annotated[Path, typer.Argument(help="The credential (JSON).")],
    did: Annotated[
        list[Path] | None,
        typer.Option(help="did.json of a did:web issuer not served by this carbonlink."),
    ] = None,
    status: Annotated[
        Path | None, typer.Option(help="The status list credential, to check revocation offline.")
    ] = None,
) -> None:
    """Check a credential's proof, issuer, dates and revocation; exit 1 when it fails."""
    from carbonlink.credentials.documents import verify
    from carbonlink.credentials.errors import VerificationFailed

    credential = _read_json(credential_file)
    documents = {d["id"]: d for d in (_read_json(path) for path in did or [])}
    listed = _read_json(status) if status else None

    def resolve(name: str) -> Any:
        if name in documents:
            return documents[name]
        return _registry(ctx).resolve(name)

    def load_status(url: str) -> Any:
        if listed is not None and listed.get("id") == url:
            return listed
        return _registry(ctx).load_status(url)

    try:
        found = verify(credential, resolve=resolve, status_loader=load_status)
    except VerificationFailed as exc:
        console.print(f"[red]not verified[/red]: {exc}", highlight=False)
        raise typer.Exit(1) from exc
    console.print(
        f"[green]verified[/green] {found.kind} credential of {found.issuer}: "
        f"{', '.join(found.checks)}",
        highlight=False,
    )
