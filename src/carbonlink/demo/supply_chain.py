"""The demo's supply chain: PCFs of the steel plant's products with two suppliers answering.

Demo Steel runs a PACT host over HTTPS (self-signed development certificate) on its workspace
store. The coke supplier runs a PACT host of its own (a second host in this process, on
loopback) and answers Demo Steel's request with a RequestFulfilledEvent; the ferroalloy supplier
has no system and answers in the service's supplier portal: invited by e-mail link, it fills in
the guided form with its activity data (the web pages, driven in-process). The
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
    CoProductOutput,
    DeclaredUnit,
    EmissionProfile,
    Product,
    ProductSystem,
    allocate,
    company_product_urn,
    handle_urn,
    hs_code_urn,
)
from carbonlink.domain.inventory import Source
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
)
from carbonlink.exchange.repository import DEFAULT_OWNER, ExchangeRepository
from carbonlink.exchange.server import BackgroundHost
from carbonlink.exchange.tls import make_dev_certificate, trust
from carbonlink.footprints.scope3 import SupplierPurchase, add_to_inventory, category1_sources
from carbonlink.footprints.store import BomLine, ProductStore, inputs_hash
from carbonlink.ledger import Ledger
from carbonlink.ledger.note import Signer
from carbonlink.store import create_store_engine, upgrade

CHAIN_FILE = "supply-chain.yaml"
INVENTORY_FILE = "steel-enterprise.yaml"
KG_PER_T = 1000.0


def load_chain() -> dict[str, Any]:
    """The shipped demo supply chain (YAML), its tonnes read from the group's inventory.

    Outputs, purchases and bills of materials are ``{inventory: …}`` references into
    steel-enterprise.yaml (`carbonlink.reports.enterprise`); each facility's section reads its
    own facility, the rest names one.
    """
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.enterprise import EnterpriseFacts, resolve

    demo = resources.files("carbonlink.data").joinpath("demo")
    chain = dict(yaml.safe_load(demo.joinpath(CHAIN_FILE).read_text("utf-8")))
    inventory = parse_inventory(demo.joinpath(INVENTORY_FILE).read_text("utf-8"))

    def facts(facility: str | None) -> EnterpriseFacts:
        return EnterpriseFacts(inventory, facility=facility, file=CHAIN_FILE)

    chain["facilities"] = {
        fid: resolve(spec, facts(fid), f"facilities/{fid}")
        for fid, spec in chain["facilities"].items()
    }
    purchases = chain["scope3_category1"]
    chain["scope3_category1"] = resolve(purchases, facts(purchases["facility"]), "scope3_category1")
    chain["boms"] = resolve(chain["boms"], facts(None), "boms")
    return chain


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


def _answer_in_portal(
    engine: Engine,
    organization_id: str,
    spec: dict[str, Any],
    chain: dict[str, Any],
    period: dict[str, date],
    run_id: str,
) -> tuple[str, str, Any]:
    """The portal supplier's answer through the web pages: (client id, request, footprint)."""
    from carbonlink.demo.portal import PortalSupplier, answer_through_portal

    item = spec["product"]
    product_id = company_product_urn(spec["domain"], item["company_id"])
    hrc_t = next(
        row["quantity_t"]
        for facility in chain["facilities"].values()
        for row in facility["outputs"]
        if row["product"] == "hrc"
    )
    form = {
        "product_name": item["name"],
        "product_ids": product_id,
        "hs_code": item["hs"],
        "declared_unit": "kilogram",
        "mass_per_unit": "1",
        "period_start": period["start"].isoformat(),
        "period_end": period["end"].isoformat(),
        "geography": "CN",
        "site_fossil_t": str(spec["site_emissions_t"]),
        "rule": spec["rule"],
    }
    for i, row in enumerate(spec["outputs"]):
        form[f"output_{i}_name"] = row["product"]
        form[f"output_{i}_mass_t"] = str(row["quantity_t"])
        if row.get("revenue_cny") is not None:
            form[f"output_{i}_revenue"] = str(row["revenue_cny"])
    for i, line in enumerate(spec["materials"]):
        for key in ("name", "quantity", "unit", "factor", "source", "version"):
            form[f"material_{i}_{key}"] = str(line[key])
    supplier = PortalSupplier(
        name=spec["name"],
        company_id=spec["company_id"],
        email=f"sales-{run_id}@{spec['domain']}",
        product_ids=(product_id,),
        purchased_t=chain["boms"]["hrc"]["purchased"][item["key"]] * hrc_t,
        spend_cny=chain["boms"]["hrc"]["purchased"][item["key"]]
        * hrc_t
        * KG_PER_T
        * chain["boms"]["hrc"]["prices_cny_per_kg"][item["key"]],
    )
    return answer_through_portal(engine, organization_id, supplier, form)


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
        # The ferroalloy company has no system: invited by e-mail link, it answers in the
        # service's supplier portal (the web pages, driven in-process).
        alloy_client, alloy_request, alloy_pf = _answer_in_portal(
            engine, organization_id, alloy_spec, chain, period, run_id
        )

        def answered() -> bool:
            rows = ours.events(partner=coke_client, direction="sent")
            return any(r["event_id"] == coke_request and r["status"] == "fulfilled" for r in rows)

        _wait(answered, 60.0, "the coking company's RequestFulfilledEvent")
        received_coke = next(row for row in ours.received() if row["source"] == coke_client)
        coke_in = supplier_footprint(parse_product_footprint(received_coke["document"]))
        alloy_in = supplier_footprint(alloy_pf)

        # Demo Steel's own product system: allocation, BOMs (with a scrap loop), one solve.
        # Products and BOMs are stored first and the solve reads them back, so the service
        # shows exactly what was computed.
        products, direct = _products_and_direct(chain, accounting)
        catalogue = ProductStore(engine, organization_id)
        catalogue.save_products(products)
        received = {
            "coke": (received_coke["pf_id"], coke_client, coke_pf.product_ids[0]),
            "ferrochrome": (alloy_pf.id, alloy_client, alloy_pf.product_ids[0]),
        }
        for name, spec in chain["boms"].items():
            catalogue.save_bom(name, _bom_lines(spec, received))
        boms = catalogue.bills_of_materials(ours)
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

        catalogue.save_results(
            result,
            [p.key for p in products],
            run_id=f"demo-{run_id}",
            period=(period["start"], period["end"]),
            rules={key: d.rule for key, d in direct.items()},
            published={name: pf.id for name, pf in published.items()},
            content_hash=inputs_hash(
                products,
                catalogue.boms(),
                {key: d.profile.as_array().tolist() for key, d in direct.items()},
            ),
        )

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

        category1 = folder / "scope3-category1.yaml"
        _write_category1(
            chain, {"coke": received_coke, "ferrochrome": ours.received(alloy_pf.id)[-1]}, category1
        )
        files["scope 3 category 1 sources"] = category1

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
            # The figures the footprints were computed with, as read from the group's inventory.
            "basis": {
                "outputs_t": {
                    fid: {row["product"]: row["quantity_t"] for row in spec["outputs"]}
                    for fid, spec in chain["facilities"].items()
                },
                "bills_of_materials_kg_per_kg": {
                    name: {k: bom[k] for k in ("purchased", "own") if k in bom}
                    for name, bom in chain["boms"].items()
                },
                "purchases_t": {
                    key: item["quantity"]
                    for key, item in chain["scope3_category1"]["purchases"].items()
                },
            },
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


def _bom_lines(spec: dict[str, Any], received: dict[str, tuple[str, str, str]]) -> list[BomLine]:
    """A product's stored BOM lines; purchased ones cite the supplier footprint received."""
    prices = spec.get("prices_cny_per_kg", {})
    lines = [BomLine.own(key, quantity) for key, quantity in spec.get("own", {}).items()]
    for key, quantity in spec.get("purchased", {}).items():
        pf_id, supplier, product_id = received[key]
        lines.append(
            BomLine.purchased(
                pf_id,
                quantity,
                "kilogram",
                supplier=supplier,
                product_id=product_id,
                unit_price=prices.get(key),
            )
        )
    return lines


def _write_category1(
    chain: dict[str, Any], received: dict[str, dict[str, Any]], path: Path
) -> None:
    """The inventory sources of Scope 3 category 1 valued with the received supplier PCFs."""
    spec = chain["scope3_category1"]
    purchases = [
        SupplierPurchase(
            item["source"],
            item["quantity"],
            item["unit"],
            supplier_footprint(parse_product_footprint(received[key]["document"])),
            received[key]["sha256"],
            description=f"purchased {key}: supplier-specific method, the supplier's PACT footprint",
        )
        for key, item in spec["purchases"].items()
    ]
    document = {
        "facility": spec["facility"],
        "sources": [
            source.model_dump(mode="json", exclude_defaults=True)
            for source in category1_sources(purchases)
        ],
    }
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False), "utf-8")


def with_category1(inventory_text: str, sources_file: Path) -> str:
    """The inventory text with the Scope 3 category 1 sources the supply chain wrote."""
    document = yaml.safe_load(sources_file.read_text("utf-8"))
    sources = [Source.model_validate(item) for item in document["sources"]]
    return add_to_inventory(inventory_text, document["facility"], sources)


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
