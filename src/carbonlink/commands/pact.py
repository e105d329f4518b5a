"""`carbonlink pact …`: the PACT v3 host and client from the command line."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from carbonlink.commands.console import console
from carbonlink.errors import InputError

app = typer.Typer(help="Exchange product footprints with PACT v3 hosts.", no_args_is_help=True)
partners_app = typer.Typer(help="Companies that may use our PACT host.", no_args_is_help=True)
app.add_typer(partners_app, name="partners")


def _repository(ctx: typer.Context) -> Any:
    from carbonlink.exchange.repository import ExchangeRepository
    from carbonlink.store import upgrade
    from carbonlink.store.engine import engine_from_settings

    engine = engine_from_settings(ctx.obj)
    upgrade(engine)
    return ExchangeRepository(
        engine, organization_id=ctx.obj.pact_organization, secret_key=ctx.obj.key_bytes
    )


def _verify(ca_cert: Path | None) -> Any:
    from carbonlink.exchange.tls import trust

    return trust(ca_cert) if ca_cert else True


def _criteria(product_id: list[str], company_id: list[str], filters: list[str]) -> dict[str, Any]:
    criteria: dict[str, Any] = {}
    if product_id:
        criteria["productId"] = product_id
    if company_id:
        criteria["companyId"] = company_id
    for item in filters:
        name, sep, value = item.partition("=")
        if not sep:
            raise InputError(f"filter {item!r} is not NAME=VALUE", hint="e.g. geography=CN")
        criteria.setdefault(name, []).append(value)
    return criteria


@app.command("dev-cert")
def dev_cert(
    directory: Annotated[Path, typer.Argument(help="Folder for the certificate and key.")],
    host: Annotated[
        list[str] | None, typer.Option(help="Host names / IPs (default localhost, 127.0.0.1).")
    ] = None,
    days: Annotated[int, typer.Option(help="Validity in days.")] = 365,
) -> None:
    """Make a self-signed TLS certificate for a development PACT host."""
    from carbonlink.exchange.tls import make_dev_certificate

    hosts = tuple(host) if host else ("localhost", "127.0.0.1", "::1")
    cert, key = make_dev_certificate(directory, hosts, days=days)
    console.print(f"certificate  {cert}")
    console.print(f"key          {key}")


def load_credentials(path: Path) -> dict[str, tuple[str, str]]:
    """Our client id and secret at partners' hosts, by base URL, from a JSON file."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
        return {url.rstrip("/"): (str(pair[0]), str(pair[1])) for url, pair in loaded.items()}
    except (OSError, ValueError, TypeError, IndexError, AttributeError, KeyError) as exc:
        raise InputError(
            f"cannot read the credentials file {path}: {exc}",
            file=str(path),
            hint='write {"https://partner.example": ["our client id", "our secret"]}',
        ) from exc


@app.command()
def serve(
    ctx: typer.Context,
    cert: Annotated[Path, typer.Option(help="TLS certificate (PEM).")],
    key: Annotated[Path, typer.Option(help="TLS private key (PEM).")],
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8443,
    source: Annotated[
        str | None, typer.Option(help="Our public base URL, sent as the events' source.")
    ] = None,
    credentials: Annotated[
        Path | None,
        typer.Option(
            help='JSON file of our credentials at partners\' hosts: {"https://host": '
            '["client id", "secret"]}, used to deliver answers and events.'
        ),
    ] = None,
    ca_cert: Annotated[
        Path | None, typer.Option(help="Certificate to trust for partners' hosts.")
    ] = None,
) -> None:
    """Run the PACT host over HTTPS (answers requests and delivers events in the background)."""
    import uvicorn

    from carbonlink.exchange.fulfilment import EventWorker
    from carbonlink.exchange.host import HostConfig, create_pact_app
    from carbonlink.exchange.server import https_config

    repository = _repository(ctx)
    remote = load_credentials(credentials) if credentials is not None else {}
    worker = EventWorker(
        repository,
        source=source or f"https://{host}:{port}",
        credentials=remote,
        verify=_verify(ca_cert),
    )
    app_ = create_pact_app(
        repository.engine,
        HostConfig(
            public_url=source,
            secret_key=repository.secret_key,
            ledger_signer=lambda: _ledger_signer(ctx.obj),
        ),
        worker=worker,
    )
    uvicorn.Server(
        https_config(app_, host=host, port=port, certfile=cert, keyfile=key, log_level="info")
    ).run()


@partners_app.command("add")
def partners_add(
    ctx: typer.Context,
    client_id: Annotated[str, typer.Argument(help="The partner's client id.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    organization: Annotated[str, typer.Option(help="The partner's company.")],
    company_id: Annotated[
        list[str] | None, typer.Option(help="The partner's company URNs.")
    ] = None,
    host: Annotated[
        str | None, typer.Option(help="Base URL of the partner's PACT host, for answers.")
    ] = None,
    grant_company: Annotated[
        list[str] | None, typer.Option(help="Company URN whose footprints it may see.")
    ] = None,
    grant_footprint: Annotated[
        list[str] | None, typer.Option(help="Footprint id it may see.")
    ] = None,
) -> None:
    """Register a partner; prints its client secret once (it is stored only as a hash)."""
    repository = _repository(ctx)
    secret = secrets.token_urlsafe(32)
    repository.add_partner(
        client_id,
        secret,
        name=name,
        organization=organization,
        company_ids=company_id or [],
        events_url=host,
        grant_companies=grant_company or [],
        grant_footprints=grant_footprint or [],
    )
    console.print(f"client id      {client_id}")
    console.print(f"client secret  {secret}")


@partners_app.command("list")
def partners_list(ctx: typer.Context) -> None:
    """List the registered partners."""
    table = Table("client id", "name", "organization", "host")
    for partner in _repository(ctx).partners():
        table.add_row(partner.client_id, partner.name, partner.organization, partner.events_url)
    console.print(table)


@app.command()
def publish(
    ctx: typer.Context,
    files: Annotated[
        list[Path], typer.Argument(help="PACT footprint JSON files (one object or {data: [...]}).")
    ],
) -> None:
    """Publish computed footprints on our PACT host (validated against the v3 data model)."""
    repository = _repository(ctx)
    count = 0
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise InputError(f"cannot read {path}: {exc}", file=str(path)) from exc
        items = document["data"] if isinstance(document, dict) and "data" in document else document
        for item in items if isinstance(items, list) else [items]:
            console.print(f"published {repository.publish(item)}")
            count += 1
    console.print(f"{count} footprint(s) published")


@app.command()
def pull(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Base URL of the supplier's PACT host.")],
    client_id: Annotated[str, typer.Option(help="Our client id there.")],
    client_secret: Annotated[str, typer.Option(help="Our client secret there.")],
    ca_cert: Annotated[
        Path | None, typer.Option(help="Certificate to trust (a self-signed development one).")
    ] = None,
    product_id: Annotated[list[str] | None, typer.Option(help="Only these products.")] = None,
    company_id: Annotated[list[str] | None, typer.Option(help="Only these companies.")] = None,
    filter: Annotated[
        list[str] | None, typer.Option(help="Other PACT filters as NAME=VALUE.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Page size to ask for.")] = None,
) -> None:
    """Pull footprints from a PACT host and keep them with their provenance."""
    from carbonlink.exchange.client import PactClient
    from carbonlink.exchange.pact import parse_decimal

    repository = _repository(ctx)
    criteria = _criteria(product_id or [], company_id or [], filter or [])
    with PactClient(host, client_id, client_secret, verify=_verify(ca_cert)) as client:
        footprints = client.pull(repository, limit=limit, **criteria)
    table = Table("id", "product", "company", "PCF kg CO2e / declared unit")
    for pf in footprints:
        pcf = parse_decimal(pf.pcf.pcf_excluding_biogenic_uptake)
        table.add_row(pf.id, pf.product_name_company, pf.company_name, f"{pcf:.4g}")
    console.print(table)
    console.print(f"{len(footprints)} footprint(s) pulled from {host}")


@app.command()
def request(
    ctx: typer.Context,
    partner: Annotated[str, typer.Option(help="Client id of the supplier to ask.")],
    product_id: Annotated[list[str] | None, typer.Option(help="Products asked for.")] = None,
    company_id: Annotated[list[str] | None, typer.Option(help="Companies asked for.")] = None,
    filter: Annotated[
        list[str] | None, typer.Option(help="Other PACT criteria as NAME=VALUE.")
    ] = None,
    source: Annotated[str, typer.Option(help="Our host's public base URL.")] = "",
    remote_client_id: Annotated[
        str | None, typer.Option(help="Our client id at the supplier's host, to deliver now.")
    ] = None,
    remote_client_secret: Annotated[str | None, typer.Option(help="Our secret there.")] = None,
    ca_cert: Annotated[Path | None, typer.Option(help="Certificate to trust.")] = None,
) -> None:
    """Ask a supplier for footprints (a RequestCreatedEvent); delivered now or by `pact serve`."""
    from carbonlink.exchange.fulfilment import EventWorker
    from carbonlink.exchange.portal import create_supplier_request

    repository = _repository(ctx)
    target = repository.partner(partner)
    credentials = {}
    if target and target.events_url and remote_client_id and remote_client_secret:
        credentials[target.events_url.rstrip("/")] = (remote_client_id, remote_client_secret)
    worker = EventWorker(
        repository, source=source, credentials=credentials, verify=_verify(ca_cert)
    )
    criteria = _criteria(product_id or [], company_id or [], filter or [])
    event_id = create_supplier_request(repository, worker, partner, criteria)
    console.print(f"request {event_id} to {partner}")
    if credentials:
        worker.deliver_due()
        row = next(r for r in repository.events(direction="sent") if r["event_id"] == event_id)
        console.print(f"delivery: {row['status']} after {row['attempts']} attempt(s)")


def _ledger_signer(settings: Any) -> Any:
    """The workspace's ledger key, for receipts of CBAM communications (None without one)."""
    from carbonlink.errors import ConfigError
    from carbonlink.ledger import load_ledger_signer

    try:
        return load_ledger_signer(settings.workspace)
    except ConfigError:
        return None
