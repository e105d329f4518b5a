"""Supply-chain pages and their JSON twins: products with footprints, BOMs, suppliers.

Everything shown is what the store holds for the caller's organization: products and bills of
materials (`carbonlink.footprints.store`), the footprints a run computed and the PACT ids they
were published under, and the exchange's partners, requests and received footprints with their
provenance. Pages need the ``read`` permission, so the supplier role (``exchange`` only) gets
403; another organization's product or footprint is simply not found.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, Reader, ServiceContext
from carbonlink.api.i18n import formatter
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.pages import _language, _page_caller, _render
from carbonlink.domain.footprint import Product, SupplierFootprint
from carbonlink.errors import CarbonlinkError
from carbonlink.exchange.pact import REQUEST_CREATED
from carbonlink.exchange.portal import Coverage, supplier_coverage
from carbonlink.exchange.repository import ExchangeRepository, Partner, utc_now
from carbonlink.footprints.store import BomLine, ProductStore, StoredFootprint

pages_router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/api/v1/supply-chain", tags=["supply chain"])
READ = problem_responses(401, 403, 404)
OVERDUE_AFTER = timedelta(days=30)
"""An open request older than this shows as overdue (PACT sets no deadline; 30 days is ours)."""
OPEN_STATUSES = ("awaiting", "pending", "sending", "delivered")


# -- what the pages and the API read ---------------------------------------------------------
@dataclass
class SupplyChain:
    """One organization's products, BOMs, latest footprints and the supplier data behind them."""

    products: list[Product]
    boms: dict[str, list[BomLine]]
    latest: dict[str, StoredFootprint]
    supplier_footprints: dict[str, SupplierFootprint]
    coverage: dict[str, Coverage]
    supplier_coverage: dict[str, Coverage]
    problem: str | None = None
    received: dict[str, dict[str, Any]] = field(default_factory=dict)


def _stores(ctx: ServiceContext, organization_id: str) -> tuple[ProductStore, ExchangeRepository]:
    return (
        ProductStore(ctx.engine, organization_id),
        ExchangeRepository(ctx.engine, organization_id=organization_id),
    )


def load_supply_chain(ctx: ServiceContext, organization_id: str) -> SupplyChain:
    """Read the organization's supply chain; coverage is left empty when data is missing."""
    store, exchange = _stores(ctx, organization_id)
    boms = store.boms()
    chain = SupplyChain(store.products(), boms, store.latest(), {}, {}, {})
    try:
        chain.supplier_footprints = store.supplier_footprints(exchange)
        bills = store.bills_of_materials(exchange)
    except CarbonlinkError as exc:
        chain.problem = str(exc)
        return chain
    prices = {
        line.supplier_pf_id: line.unit_price
        for lines in boms.values()
        for line in lines
        if line.supplier_pf_id and line.unit_price is not None
    }
    chain.coverage, by_company = supplier_coverage(bills, prices=prices)
    # supplier_coverage groups by the company named in each footprint; the pages list partners.
    company_client = {
        chain.supplier_footprints[line.supplier_pf_id].supplier: line.supplier_client_id
        for lines in boms.values()
        for line in lines
        if line.supplier_pf_id and line.supplier_client_id
    }
    chain.supplier_coverage = {
        company_client.get(company, company): value for company, value in by_company.items()
    }
    for pf_id in chain.supplier_footprints:
        rows = exchange.received(pf_id)
        if rows:
            chain.received[pf_id] = rows[-1]
    return chain


def request_state(row: dict[str, Any], now: datetime) -> str:
    """sent, overdue, fulfilled, rejected or failed (delivery given up) for a sent request."""
    status = str(row["status"])
    if status in OPEN_STATUSES:
        return "overdue" if now - row["created_at"] > OVERDUE_AFTER else "sent"
    return status if status in ("fulfilled", "rejected", "failed") else "sent"


def channel_of(partner: Partner | None, via: str | None = None) -> str:
    """How a supplier answers: its own PACT host, or the supplier portal."""
    if via == "portal" or (partner is not None and not partner.events_url):
        return "supplier portal"
    return "own PACT host"


def _tree_of(chain: SupplyChain, key: str) -> dict[str, Any] | None:
    stored = chain.latest.get(key)
    return stored.contributions if stored else None


# -- pages ----------------------------------------------------------------------------------
@pages_router.get("/supply-chain")
def supply_chain_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    chain = load_supply_chain(ctx, caller.organization_id)
    return _render(
        request,
        ctx,
        "supply_chain.html",
        caller,
        nav="supply",
        chain=chain,
        coverage_rows=_coverage_rows(chain),
    )


def _coverage_rows(chain: SupplyChain) -> dict[str, Coverage]:
    return {key: value for key, value in chain.coverage.items() if value.mass_kg or value.spend}


@pages_router.get("/supply-chain/products/{key}")
def product_page(key: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    chain = load_supply_chain(ctx, caller.organization_id)
    product = next((p for p in chain.products if p.key == key), None)
    if product is None:
        raise NotFoundError(
            f"no product {key!r}", hint="open the supply chain page to see the products"
        )
    fmt = formatter(ctx.catalogues, _language(request, caller))
    tree = _tree_of(chain, key)
    names = {p.key: p.name for p in chain.products}
    direct = fmt.gettext("Own site emissions (allocated)")
    chart = None
    if tree and tree["children"]:
        items = [
            {
                "label": _node_label(child, names, chain, direct),
                "value": round(child["kgco2e"], 6),
            }
            for child in tree["children"]
        ]
        chart = {
            "labels": [item["label"] for item in items],
            "values": [item["value"] for item in items],
            "unit": fmt.gettext("kg CO2e per declared unit"),
        }
    _, exchange = _stores(ctx, caller.organization_id)
    partners = {p.client_id: p for p in exchange.partners()}
    return _render(
        request,
        ctx,
        "supply_product.html",
        caller,
        nav="supply",
        chain=chain,
        product=product,
        lines=chain.boms.get(key, []),
        footprint=chain.latest.get(key),
        history=ProductStore(ctx.engine, caller.organization_id).history(key),
        tree=tree,
        names=names,
        partners=partners,
        channel_of=channel_of,
        node_label=lambda node: _node_label(node, names, chain, direct),
        # "<" escaped: labels come from suppliers' documents and sit inside a script element.
        chart_json=json.dumps(chart, ensure_ascii=False).replace("<", "\\u003c"),
    )


def _node_label(
    node: dict[str, Any], names: dict[str, str], chain: SupplyChain, direct: str | None = None
) -> str:
    """A contribution node's label for people: product names, the supplier's product name.

    Own site emissions carry the allocation rule as their label; ``direct`` replaces it with
    a short name (the rule is shown beside the product).
    """
    if node["kind"] == "direct" and direct:
        return direct
    if node["kind"] in ("product", "loop"):
        return names.get(node["label"], node["label"])
    if node["kind"] == "purchased":
        supplier, _, pf_id = node["label"].partition(": ")
        row = chain.received.get(pf_id.lower())
        if row is not None:
            document = json.loads(row["document"])
            return f"{document.get('productNameCompany', pf_id)} ({supplier})"
    return str(node["label"])


@pages_router.get("/supply-chain/suppliers")
def suppliers_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    chain = load_supply_chain(ctx, caller.organization_id)
    rows, customers = _suppliers(ctx, caller.organization_id, chain)
    return _render(
        request,
        ctx,
        "supply_suppliers.html",
        caller,
        nav="supply",
        chain=chain,
        suppliers=rows,
        customers=customers,
    )


def _suppliers(
    ctx: ServiceContext, organization_id: str, chain: SupplyChain
) -> tuple[list[dict[str, Any]], list[Partner]]:
    """Partners asked for footprints or named in a BOM (suppliers), and the other partners."""
    _, exchange = _stores(ctx, organization_id)
    named = {
        line.supplier_client_id
        for lines in chain.boms.values()
        for line in lines
        if line.supplier_client_id
    }
    now = utc_now()
    received = exchange.received()
    suppliers: list[dict[str, Any]] = []
    customers: list[Partner] = []
    for partner in exchange.partners():
        sent = exchange.events(partner=partner.client_id, direction="sent", type=REQUEST_CREATED)
        if not sent and partner.client_id not in named:
            customers.append(partner)
            continue
        states: dict[str, int] = {}
        requests = []
        for row in sent:
            state = request_state(row, now)
            states[state] = states.get(state, 0) + 1
            requests.append({"event_id": row["event_id"], "state": state, "at": row["created_at"]})
        theirs = [
            row
            for row in received
            if row["source"] in (partner.client_id, f"portal:{partner.client_id}")
        ]
        suppliers.append(
            {
                "partner": partner,
                "channel": channel_of(partner, theirs[-1]["via"] if theirs else None),
                "requests": requests,
                "states": states,
                "received": theirs,
                "coverage": chain.supplier_coverage.get(partner.client_id),
            }
        )
    return suppliers, customers


@pages_router.get("/supply-chain/footprints/{pf_id}.json")
def published_footprint(pf_id: str, request: Request, ctx: Context) -> Response:
    """The PACT JSON of a footprint the organization published, exactly as its host serves it."""
    caller = _page_caller(request, ctx)
    found = ExchangeRepository(ctx.engine, organization_id=caller.organization_id)
    document = found.footprint_document(pf_id)
    if document is None:
        raise NotFoundError(f"no published footprint {pf_id}")
    return Response(document[0], media_type="application/json")


# -- JSON API -------------------------------------------------------------------------------
class FootprintOut(BaseModel):
    run_id: str = Field(examples=["demo-3fa2c1"])
    period_start: str = Field(examples=["2025-01-01"])
    period_end: str = Field(examples=["2026-01-01"])
    pcf_excluding_biogenic_uptake: float = Field(
        description="kg CO2e per declared unit", examples=[1.9417]
    )
    pcf_including_biogenic_uptake: float = Field(examples=[1.9417])
    fossil: float = Field(examples=[1.9417])
    primary_data_share: float | None = Field(description="percent", examples=[100.0])
    dqr: list[float] | None = Field(
        description="technological, geographical, temporal rating (1 best … 5 worst)",
        examples=[None],
    )
    allocation_rule: str = Field(
        examples=["ISO 14067:2018 §6.4.6 / GB/T 24067-2024 economic allocation …"]
    )
    pf_id: str | None = Field(
        description="the PACT footprint id it was published under",
        examples=["3c1e8f5a-1b7e-4d5c-9a43-8f2f0e6c4b11"],
    )
    computed_at: datetime = Field(examples=["2026-11-29T04:44:34.087807Z"])
    content_hash: str = Field(
        description="SHA-256 of the products, BOMs and site emissions",
        examples=["3c7e2be149aaa6febf807558c2eab2a7fe004b7d1ca2c513b38be10dead2efc8"],
    )


class ProductOut(BaseModel):
    key: str = Field(examples=["hrc"])
    name: str = Field(examples=["Hot-rolled coil Q235B"])
    declared_unit: str = Field(examples=["kilogram"])
    declared_unit_amount: float = Field(examples=[1.0])
    mass_per_declared_unit: float = Field(examples=[1.0])
    identifiers: list[str] = Field(
        examples=[
            [
                "urn:pact:steel.example.cn:product-id:HRC-Q235B",
                "urn:pact:steel.example.cn:handle:88.118.8/demo-steel/HRC-Q235B",
            ]
        ]
    )
    classifications: list[str] = Field(examples=[["urn:pact:productclassification:hs:720839"]])
    description: str = Field(
        examples=["Hot-rolled steel coil, 2.0-12.0 mm, BF-BOF route, Tangshan works"]
    )
    footprint: FootprintOut | None
    purchased_mass_share_primary: float | None = Field(
        description="share (0…1) of purchased mass per declared unit with supplier primary data",
        examples=[1.0],
    )


class BomLineOut(BaseModel):
    kind: str = Field(examples=["purchased"])
    quantity: float = Field(examples=[0.3673])
    unit: str = Field(examples=["kilogram"])
    input_product: str | None = None
    supplier_pf_id: str | None = Field(examples=["0f6a6c1e-2d8b-4f0e-9a77-5b3c0e1d2a44"])
    supplier_client_id: str | None = Field(examples=["coking-co-3fa2c1"])
    supplier_product_id: str | None = None
    factor_name: str | None = None
    factor_value: float | None = None
    citation: str | None = None
    unit_price: float | None = None
    provenance: dict[str, Any] | None = Field(
        description="received supplier footprint: source, via (event, pull, portal), "
        "received_at, sha256",
        examples=[
            {
                "source": "coking-co-3fa2c1",
                "via": "event",
                "received_at": "2026-11-29T05:01:12Z",
                "sha256": "9b1f…",
            }
        ],
    )


class ProductDetailOut(ProductOut):
    bom: list[BomLineOut]
    contributions: dict[str, Any] | None = Field(
        description="contribution tree: kind, label, quantity, kgco2e (per declared unit of "
        "this product) and children, which add up to their parent",
        examples=[
            {
                "kind": "product",
                "label": "hrc",
                "quantity": 1.0,
                "kgco2e": 1.94,
                "children": [
                    {
                        "kind": "purchased",
                        "label": "Demo Coking Co.: 0f6a…",
                        "quantity": 0.3673,
                        "kgco2e": 0.23,
                        "children": [],
                    }
                ],
            }
        ],
    )


def _product_out(product: Product, chain: SupplyChain) -> dict[str, Any]:
    stored = chain.latest.get(product.key)
    coverage = chain.coverage.get(product.key)
    return {
        "key": product.key,
        "name": product.name,
        "declared_unit": str(product.declared_unit),
        "declared_unit_amount": product.declared_unit_amount,
        "mass_per_declared_unit": product.mass_per_declared_unit,
        "identifiers": list(product.identifiers),
        "classifications": list(product.classifications),
        "description": product.description,
        "footprint": None
        if stored is None
        else {
            "run_id": stored.run_id,
            "period_start": stored.period_start,
            "period_end": stored.period_end,
            "pcf_excluding_biogenic_uptake": stored.pcf_excluding_biogenic_uptake,
            "pcf_including_biogenic_uptake": stored.pcf_including_biogenic_uptake,
            "fossil": stored.fossil,
            "primary_data_share": stored.primary_data_share,
            "dqr": list(stored.dqr) if stored.dqr else None,
            "allocation_rule": stored.allocation_rule,
            "pf_id": stored.pf_id,
            "computed_at": stored.computed_at,
            "content_hash": stored.content_hash,
        },
        "purchased_mass_share_primary": coverage.mass_share if coverage else None,
    }


@api_router.get("/products", response_model=list[ProductOut], responses=READ)
def list_products(caller: Reader, ctx: Context) -> list[dict[str, Any]]:
    """The organization's products with their latest footprint (kg CO2e per declared unit)."""
    chain = load_supply_chain(ctx, caller.organization_id)
    return [_product_out(product, chain) for product in chain.products]


@api_router.get("/products/{key}", response_model=ProductDetailOut, responses=READ)
def get_product(key: str, caller: Reader, ctx: Context) -> dict[str, Any]:
    """One product: identifiers, BOM with each supplier footprint's provenance, footprint, tree."""
    chain = load_supply_chain(ctx, caller.organization_id)
    product = next((p for p in chain.products if p.key == key), None)
    if product is None:
        raise NotFoundError(f"no product {key!r}", hint="list them with GET /products")
    bom = []
    for line in chain.boms.get(key, []):
        row = chain.received.get(line.supplier_pf_id or "")
        provenance = None
        if row is not None:
            provenance = {
                "source": row["source"],
                "via": row["via"],
                "received_at": row["received_at"].isoformat(),
                "sha256": row["sha256"],
            }
        bom.append(asdict(line) | {"provenance": provenance})
    return _product_out(product, chain) | {"bom": bom, "contributions": _tree_of(chain, key)}


router = APIRouter()
"""The pages and the API, for ``create_app`` to include in one line."""
router.include_router(pages_router)
router.include_router(api_router)
