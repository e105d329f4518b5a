"""The demo's supply chain: PCFs of the steel plant's products with two suppliers answering.

Demo Steel runs a PACT host over HTTPS (self-signed development certificate) on its workspace
store. The coke supplier runs a PACT host of its own (a second host in this process, on
loopback) and answers Demo Steel's request with a RequestFulfilledEvent; the ferroalloy supplier
has no system and computes its footprint from activity data through the portal functions. The
works' own emissions come from the accounted demo inventory (scope 1 + market-based scope 2),
allocated to products; the whole product system (with a scrap loop) is solved at once, and the
hot-rolled coil and cold-rolled sheet footprints are published on Demo Steel's host.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from carbonlink.domain.footprint import (
    AllocationRule,
    BillOfMaterials,
    CoProductOutput,
    DeclaredUnit,
    EmissionProfile,
    OwnInput,
    Product,
    ProductSystem,
    PurchasedInput,
    allocate,
    company_product_urn,
    handle_urn,
    hs_code_urn,
)
from carbonlink.errors import ExchangeError
from carbonlink.exchange import receipts
from carbonlink.exchange.client import PactClient
from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.host import HostConfig, create_pact_app
from carbonlink.exchange.pact import (
    DataOwner,
    PublicationContext,
    parse_product_footprint,
    supplier_footprint,
    to_product_footprint,
)
from carbonlink.exchange.portal import (
    ActivitySubmission,
    MaterialLine,
    compute_submission,
    create_supplier_request,
    register_supplier,
    submit_activity_data,
)
from carbonlink.exchange.repository import DEFAULT_OWNER, ExchangeRepository
from carbonlink.exchange.server import BackgroundHost
from carbonlink.exchange.tls import make_dev_certificate, trust
from carbonlink.ledger import Ledger
from carbonlink.ledger.note import Signer
from carbonlink.store import create_store_engine, upgrade

CHAIN_FILE = "supply-chain.yaml"
KG_PER_T = 1000.0


def load_chain() -> dict[str, Any]:
    """The shipped demo supply chain (YAML)."""
    text = resources.files("carbonlink.data").joinpath("demo", CHAIN_FILE).read_text("utf-8")
    return dict(yaml.safe_load(text))


def _instant(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _outputs(rows: list[dict[str, Any]]) -> tuple[CoProductOutput, ...]:
    return tuple(
        CoProductOutput(
            row["product"],
            quantity=row["quantity_t"] * KG_PER_T,
            mass=row["quantity_t"] * KG_PER_T,
            revenue=row.get("revenue_cny"),
        )
        for row in rows
    )


def _supplier_submission(spec: dict[str, Any], period: dict[str, date]) -> ActivitySubmission:
    item = spec["product"]
    product = Product(
        key=item["key"],
        name=item["name"],
        declared_unit=DeclaredUnit.KILOGRAM,
        mass_per_declared_unit=1.0,
        identifiers=(company_product_urn(spec["domain"], item["company_id"]),),
        classifications=(hs_code_urn(item["hs"]),),
        description=item["name"],
    )
    return ActivitySubmission(
        product=product,
        reference_period_start=_instant(period["start"]),
        reference_period_end=_instant(period["end"]),
        site_emissions=EmissionProfile(fossil=spec["site_emissions_t"] * KG_PER_T),
        outputs=_outputs(spec["outputs"]),
        materials=tuple(MaterialLine(**line) for line in spec["materials"]),
        rule=AllocationRule(spec["rule"]),
        geography="CN",
    )


def _facility_emissions(accounting: Any, facility: str) -> float:
    """kg CO2e of a facility: scope 1 plus market-based scope 2 of the accounted inventory."""
    summary = accounting.summary("facility", "scope")
    tonnes = summary.get((facility, "1"), 0.0) + summary.get((facility, "2_market"), 0.0)
    return float(tonnes) * KG_PER_T


def _wait(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ExchangeError(f"the demo timed out waiting for {what}")
        time.sleep(0.05)


def run_supply_chain(
    out: Path,
    engine: Engine,
    accounting: Any,
    console: Console,
    *,
    organization_id: str = DEFAULT_OWNER,
    signer: Signer | None = None,
) -> dict[str, Path]:
    """Run the demo supply chain; returns the files written (under ``out/pact``).

    Demo Steel's exchange on the workspace store belongs to ``organization_id``, so that the
    service shows it to that organization's users. With the ledger's ``signer``, the two
    published and the two supplier footprints get ledger entries and receipts
    (``out/pact/receipts``).
    """
    chain = load_chain()
    folder = out / "pact"
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = make_dev_certificate(folder / "tls")
    tls = trust(cert)
    period = chain["period"]
    owner_spec = chain["owner"]
    owner = DataOwner(owner_spec["name"], tuple(owner_spec["ids"]))
    coke_spec = chain["suppliers"]["coke"]
    alloy_spec = chain["suppliers"]["ferrochrome"]

    # Demo Steel's host on the workspace store; the coking company's host on its own database.
    upgrade(engine)
    ours = ExchangeRepository(engine, organization_id=organization_id)
    coke_db = folder / "coking-co-host.db"
    coke_db.unlink(missing_ok=True)
    coke_engine = create_store_engine(f"sqlite:///{coke_db}")
    upgrade(coke_engine)
    theirs = ExchangeRepository(coke_engine)
    config = HostConfig(worker_interval=0.1)
    our_worker = EventWorker(ours, source="", verify=tls)
    their_worker = EventWorker(theirs, source="", verify=tls)
    our_host = BackgroundHost(
        create_pact_app(engine, config, worker=our_worker), certfile=cert, keyfile=key
    )
    their_host = BackgroundHost(
        create_pact_app(coke_engine, config, worker=their_worker), certfile=cert, keyfile=key
    )
    files: dict[str, Path] = {}
    with our_host, their_host:
        our_worker.source, their_worker.source = our_host.url, their_host.url
        run_id = secrets.token_hex(3)
        coke_client = f"{coke_spec['client_id']}-{run_id}"
        lead_client = f"demo-steel-{run_id}"
        our_secret_there = secrets.token_urlsafe(24)
        theirs.add_partner(
            lead_client,
            our_secret_there,
            name=owner.name,
            organization=owner.name,
            company_ids=owner.ids,
            events_url=our_host.url,
        )
        theirs.grant(lead_client, companies=[coke_spec["company_id"]])
        _, their_secret_here = register_supplier(
            ours,
            coke_client,
            name=coke_spec["name"],
            organization=coke_spec["name"],
            company_ids=[coke_spec["company_id"]],
            host_url=their_host.url,
        )
        our_worker.credentials = {their_host.url: (lead_client, our_secret_there)}
        their_worker.credentials = {our_host.url: (coke_client, their_secret_here)}

        # The coking company computes and publishes its coke footprint on its own host.
        coke_submission = _supplier_submission(coke_spec, period)
        coke_owner = DataOwner(coke_spec["name"], (coke_spec["company_id"],))
        coke_pf = compute_submission(
            coke_submission, owner=coke_owner, pf_id=uuid.uuid4(), created=datetime.now(UTC)
        )
        theirs.publish(coke_pf)

        # Demo Steel asks both suppliers for their footprints.
        coke_request = create_supplier_request(
            ours, our_worker, coke_client, {"productId": list(coke_pf.product_ids)}
        )
        alloy_client = f"{alloy_spec['client_id']}-{run_id}"
        register_supplier(
            ours,
            alloy_client,
            name=alloy_spec["name"],
            organization=alloy_spec["name"],
            company_ids=[alloy_spec["company_id"]],
        )
        alloy_submission = _supplier_submission(alloy_spec, period)
        alloy_request = create_supplier_request(
            ours,
            our_worker,
            alloy_client,
            {"productId": list(alloy_submission.product.identifiers)},
        )
        # The ferroalloy company answers through the portal (form-equivalent call).
        alloy_pf = submit_activity_data(
            ours,
            our_worker,
            alloy_client,
            alloy_request,
            alloy_submission,
            owner=DataOwner(alloy_spec["name"], (alloy_spec["company_id"],)),
        )

        def answered() -> bool:
            rows = ours.events(partner=coke_client, direction="sent")
            return any(r["event_id"] == coke_request and r["status"] == "fulfilled" for r in rows)

        _wait(answered, 60.0, "the coking company's RequestFulfilledEvent")
        received_coke = next(row for row in ours.received() if row["source"] == coke_client)
        coke_in = supplier_footprint(parse_product_footprint(received_coke["document"]))
        alloy_in = supplier_footprint(alloy_pf)

        # Demo Steel's own product system: allocation, BOMs (with a scrap loop), one solve.
        products, direct = _products_and_direct(chain, accounting)
        purchased = {"coke": coke_in, "ferrochrome": alloy_in}
        boms = [
            BillOfMaterials(
                name,
                tuple(OwnInput(k, q) for k, q in spec.get("own", {}).items())
                + tuple(
                    PurchasedInput(purchased[k], q) for k, q in spec.get("purchased", {}).items()
                ),
            )
            for name, spec in chain["boms"].items()
        ]
        result = ProductSystem.build(products, boms, direct).solve()
        context = PublicationContext(
            reference_period_start=_instant(period["start"]),
            reference_period_end=_instant(period["end"]),
            geography=chain["geography"],
            boundary_processes_description=(
                "Cradle to gate: purchased coke and ferrochrome with their suppliers' PACT "
                "footprints; site fuels, process emissions and market-based electricity from "
                "the accounted 2025 inventory"
            ),
            allocation_rules_description="; ".join(d.rule for d in direct.values()),
        )
        published = {}
        for name in ("hrc", "crs"):
            pf = to_product_footprint(
                result.footprint(name),
                owner=owner,
                context=context,
                pf_id=uuid.uuid4(),
                created=datetime.now(UTC),
            )
            ours.publish(pf)
            published[name] = pf
            path = folder / f"pcf-{name}.json"
            path.write_text(json.dumps(pf.to_json(), ensure_ascii=False, indent=2) + "\n")
            files[f"PACT footprint {products_by_key(products)[name].name}"] = path

        # A customer pulls both footprints from Demo Steel's host over HTTPS.
        customer = f"customer-{run_id}"
        customer_secret = secrets.token_urlsafe(24)
        ours.add_partner(
            customer, customer_secret, name="Demo customer", organization="Appliance Co"
        )
        ours.grant(customer, footprints=[pf.id for pf in published.values()])
        with PactClient(our_host.url, customer, customer_secret, verify=tls) as client:
            listed = client.list_footprints(limit=1)
        if sorted(pf["id"] for pf in listed) != sorted(pf.id for pf in published.values()):
            raise ExchangeError("the customer did not see exactly the two published footprints")

        for label, pf in (("coke", coke_pf), ("ferrochrome", alloy_pf)):
            path = folder / f"supplier-{label}.json"
            path.write_text(json.dumps(pf.to_json(), ensure_ascii=False, indent=2) + "\n")
            files[f"supplier footprint {label}"] = path
        summary_path = folder / "supply-chain.json"
        summary = {
            "owner": owner.name,
            "host": our_host.url,
            "certificate": str(cert),
            "suppliers": {
                "coke": {
                    "channel": coke_spec["channel"],
                    "request": coke_request,
                    "provenance": {k: received_coke[k] for k in ("source", "via", "sha256")},
                },
                "ferrochrome": {"channel": alloy_spec["channel"], "request": alloy_request},
            },
            "products": {
                name: {
                    "pf_id": published[name].id,
                    "pcf_kgco2e_per_kg": result.footprint(name).pcf_excluding_biogenic_uptake,
                    "primary_data_share_pct": result.footprint(name).primary_data_share,
                    "contributions": _contributions(result, name),
                }
                for name in ("hrc", "crs")
            },
            "listed_by_customer": len(listed),
        }
        summary_path.write_text(json.dumps(summary, ensure_ascii=False, indent=2) + "\n")
        files["supply chain summary"] = summary_path
        if signer is not None:
            exchanged = {
                "pcf-hrc": (receipts.SENT, published["hrc"].id),
                "pcf-crs": (receipts.SENT, published["crs"].id),
                "supplier-coke": (receipts.RECEIVED, received_coke["pf_id"]),
                "supplier-ferrochrome": (receipts.RECEIVED, alloy_pf.id),
            }
            files.update(_receipts(engine, organization_id, signer, folder, exchanged, console))
        _print(
            console,
            summary,
            coke_in.per_unit.pcf_excluding_biogenic_uptake,
            alloy_in.per_unit.pcf_excluding_biogenic_uptake,
        )
    coke_engine.dispose()
    return files


def _receipts(
    engine: Engine,
    organization_id: str,
    signer: Signer,
    folder: Path,
    exchanged: dict[str, tuple[str, str]],
    console: Console,
) -> dict[str, Path]:
    """Record each exchanged footprint in the ledger; write its document and receipt."""
    ledger = Ledger(engine)
    files = {}
    for name, (direction, pf_id) in exchanged.items():
        footprint = receipts.stored(engine, organization_id, pf_id, direction)
        index, _document, receipt = receipts.write_receipt_files(
            ledger, footprint, signer, folder / "receipts", name
        )
        files[f"receipt pact/receipts/{name}"] = receipt
        console.print(
            f"ledger entry {index} (footprint {direction}, {pf_id}): "
            f"pact/receipts/{name}.json sha256 {footprint.sha256[:16]}… → {receipt.name}",
            highlight=False,
        )
    return files


def products_by_key(products: list[Product]) -> dict[str, Product]:
    """Products by key."""
    return {p.key: p for p in products}


def _products_and_direct(chain: dict[str, Any], accounting: Any) -> tuple[list[Product], Any]:
    owner = chain["owner"]
    products = []
    for key, spec in chain["products"].items():
        identifiers = [company_product_urn(owner["domain"], spec["company_id"])]
        if spec.get("handle"):
            identifiers.append(handle_urn(spec["handle"], issuer=owner["domain"]))
        products.append(
            Product(
                key=key,
                name=spec["name"],
                declared_unit=DeclaredUnit.KILOGRAM,
                mass_per_declared_unit=1.0,
                identifiers=tuple(identifiers),
                classifications=(hs_code_urn(spec["hs"]),),
                description=spec["description"],
            )
        )
    direct = {}
    for facility, spec in chain["facilities"].items():
        allocation = allocate(
            EmissionProfile(fossil=_facility_emissions(accounting, facility)),
            _outputs(spec["outputs"]),
            AllocationRule(spec["rule"]),
        )
        direct[spec["product"]] = allocation.direct[spec["product"]]
    return products, direct


def _contributions(result: Any, key: str) -> list[dict[str, Any]]:
    tree = result.contributions(key)
    return [
        {
            "kind": child.kind,
            "input": child.label,
            "quantity": round(child.quantity, 6),
            "kgco2e": round(child.pcf_excluding_biogenic_uptake, 6),
        }
        for child in tree.children
    ]


def _print(console: Console, summary: dict[str, Any], coke: float, alloy: float) -> None:
    table = Table(title="product footprints (kg CO2e per kg, cradle to gate)")
    for column in ("product", "PCF", "primary data share %"):
        table.add_column(column)
    for name, item in summary["products"].items():
        table.add_row(
            name,
            f"{item['pcf_kgco2e_per_kg']:.4f}",
            f"{item['primary_data_share_pct']:.1f}",
        )
    console.print(table)
    console.print(
        f"coke {coke:.4f} kg CO2e/kg via the coking company's PACT host (event); "
        f"ferrochrome {alloy:.4f} kg CO2e/kg via the supplier portal; "
        f"{summary['listed_by_customer']} footprints listed by a customer on {summary['host']}",
        highlight=False,
    )
