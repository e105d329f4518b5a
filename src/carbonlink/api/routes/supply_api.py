"""Writing the supply chain through the API: products, their BOMs, and computing footprints.

A lead enterprise describes its products and bills of materials, then computes every product's
footprint in one solve of its stored product system (loops included) from each product's own
site emissions, given per declared unit or as a facility's emissions allocated to its outputs
(ISO 14067:2018 §6.4.6). Results are stored as a run and, on request, published as PACT
footprints on the organization's exchange. Writing needs the ``write`` permission (editor,
admin); everything read or written is the caller's organization's.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path
from pydantic import BaseModel, Field, field_validator, model_validator

from carbonlink.api.deps import Context, Writer
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.domain.footprint import (
    AllocationRule,
    CoProductOutput,
    DeclaredUnit,
    DirectEmissions,
    EmissionProfile,
    Product,
    ProductSystem,
    allocate,
)
from carbonlink.domain.footprint.identifiers import require_urn
from carbonlink.errors import InputError
from carbonlink.exchange.pact import (
    DataOwner,
    PublicationContext,
    parse_product_footprint,
    supplier_footprint,
    to_product_footprint,
)
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.store import BomLine, ProductStore, contribution_tree, inputs_hash

router = APIRouter(prefix="/api/v1/supply-chain", tags=["supply chain"])
WRITE = problem_responses(401, 403, 404, 422)
KEY = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"
ProductKey = Annotated[str, Path(pattern=KEY, examples=["hrc"])]


def _urns(values: list[str]) -> list[str]:
    for value in values:
        try:
            require_urn(value)
        except InputError as exc:
            raise ValueError(f"{exc}; write it as urn:<namespace>:<id>") from exc
    return values


# -- products -------------------------------------------------------------------------------
class ProductIn(BaseModel):
    """A product: the unit its footprint is declared for and how it is known."""

    name: str = Field(min_length=1, max_length=300, examples=["Hot-rolled coil Q235B"])
    declared_unit: DeclaredUnit = Field(
        description="PACT declaredUnitOfMeasurement", examples=["kilogram"]
    )
    declared_unit_amount: float = Field(default=1.0, gt=0, examples=[1.0])
    mass_per_declared_unit: float = Field(
        ge=0, description="kg per declared unit; 0 for energy and services", examples=[1.0]
    )
    identifiers: list[str] = Field(
        default_factory=list,
        description="URNs; PACT publication needs at least one",
        examples=[["urn:pact:steel.example.cn:product-id:HRC-Q235B"]],
    )
    classifications: list[str] = Field(
        default_factory=list, examples=[["urn:pact:productclassification:hs:720839"]]
    )
    description: str = Field(default="", max_length=2000, examples=["Hot-rolled steel coil"])

    _identifier_urns = field_validator("identifiers", "classifications")(_urns)

    def product(self, key: str) -> Product:
        return Product(
            key=key,
            name=self.name,
            declared_unit=self.declared_unit,
            mass_per_declared_unit=self.mass_per_declared_unit,
            declared_unit_amount=self.declared_unit_amount,
            identifiers=tuple(self.identifiers),
            classifications=tuple(self.classifications),
            description=self.description,
        )


class ProductSaved(BaseModel):
    key: str = Field(examples=["hrc"])
    created: bool = Field(
        description="false when an existing product was replaced", examples=[True]
    )


@router.put("/products/{key}", response_model=ProductSaved, responses=WRITE)
def put_product(key: ProductKey, body: ProductIn, caller: Writer, ctx: Context) -> ProductSaved:
    """Create the product ``key`` of the organization, or replace its description."""
    store = ProductStore(ctx.engine, caller.organization_id)
    created = store.product(key) is None
    store.save_products([body.product(key)])
    return ProductSaved(key=key, created=created)


# -- bills of materials ---------------------------------------------------------------------
class OwnLineIn(BaseModel):
    kind: Literal["own"] = "own"
    product: str = Field(description="key of another product of the organization", examples=["hrc"])
    quantity: float = Field(
        ge=0, description="its declared units per declared unit", examples=[1.06]
    )


class PurchasedLineIn(BaseModel):
    kind: Literal["purchased"] = "purchased"
    pf_id: str = Field(
        description="id of a PACT footprint the organization has received",
        examples=["0f6a6c1e-2d8b-4f0e-9a77-5b3c0e1d2a44"],
    )
    quantity: float = Field(
        ge=0, description="in the footprint's declared unit, per declared unit", examples=[0.3673]
    )
    unit_price: float | None = Field(default=None, ge=0, description="per unit", examples=[1.9])


class SecondaryLineIn(BaseModel):
    kind: Literal["secondary"] = "secondary"
    name: str = Field(min_length=1, max_length=300, examples=["Limestone"])
    unit: str = Field(default="kilogram", min_length=1, max_length=50, examples=["kilogram"])
    quantity: float = Field(ge=0, examples=[0.05])
    factor: float = Field(ge=0, description="kg CO2e per unit", examples=[0.017])
    citation: str = Field(min_length=1, max_length=500, examples=["ecoinvent 3.10, limestone"])
    unit_price: float | None = Field(default=None, ge=0)


LineIn = Annotated[OwnLineIn | PurchasedLineIn | SecondaryLineIn, Field(discriminator="kind")]


class BomIn(BaseModel):
    lines: list[LineIn] = Field(max_length=10_000)


BOM_EXAMPLE = {
    "lines": [
        {"kind": "own", "product": "hrc", "quantity": 1.06},
        {
            "kind": "purchased",
            "pf_id": "0f6a6c1e-2d8b-4f0e-9a77-5b3c0e1d2a44",
            "quantity": 0.3673,
            "unit_price": 1.9,
        },
        {
            "kind": "secondary",
            "name": "Limestone",
            "quantity": 0.05,
            "factor": 0.017,
            "citation": "ecoinvent 3.10, limestone",
        },
    ]
}


class BomSaved(BaseModel):
    key: str = Field(examples=["crs"])
    lines: int = Field(examples=[3])


@router.put("/products/{key}/bom", response_model=BomSaved, responses=WRITE)
def put_bom(
    key: ProductKey,
    body: Annotated[BomIn, Body(openapi_examples={"cold-rolled sheet": {"value": BOM_EXAMPLE}})],
    caller: Writer,
    ctx: Context,
) -> BomSaved:
    """Replace the bill of materials of product ``key`` (inputs per declared unit of it)."""
    store = ProductStore(ctx.engine, caller.organization_id)
    exchange = ExchangeRepository(ctx.engine, organization_id=caller.organization_id)
    if store.product(key) is None:
        raise NotFoundError(f"no product {key!r}", hint="create it with PUT /products/{key}")
    known = {product.key for product in store.products()}
    lines: list[BomLine] = []
    for number, line in enumerate(body.lines):
        field = f"lines[{number}]"
        if isinstance(line, OwnLineIn):
            if line.product not in known:
                raise InputError(
                    f"{field}.product names {line.product!r}, which is not a product",
                    record=key,
                    hint="create that product first with PUT /products/{key}",
                )
            lines.append(BomLine.own(line.product, line.quantity))
        elif isinstance(line, PurchasedLineIn):
            received = exchange.received(line.pf_id.lower())
            if not received:
                raise InputError(
                    f"{field}.pf_id {line.pf_id} is not a footprint the organization received",
                    record=key,
                    hint="pull it from the supplier's PACT host or ask for it through the "
                    "portal, then save the bill of materials again",
                )
            row = received[-1]
            document = parse_product_footprint(row["document"])
            lines.append(
                BomLine.purchased(
                    line.pf_id,
                    line.quantity,
                    supplier_footprint(document).declared_unit,
                    supplier=str(row["source"]).removeprefix("portal:"),
                    product_id=document.product_ids[0] if document.product_ids else None,
                    unit_price=line.unit_price,
                )
            )
        else:
            lines.append(
                BomLine.secondary(
                    line.name,
                    line.quantity,
                    line.unit,
                    factor=line.factor,
                    citation=line.citation,
                    unit_price=line.unit_price,
                )
            )
    store.save_bom(key, lines)
    return BomSaved(key=key, lines=len(lines))


# -- computing footprints -------------------------------------------------------------------
class ProfileIn(BaseModel):
    """kg CO2e (per declared unit, or for a facility's period); removals and uptake ≤ 0."""

    fossil: float = Field(default=0.0, ge=0, examples=[1.4])
    land_use_change: float = Field(default=0.0, ge=0, examples=[0.0])
    land_management_biogenic_co2_emissions: float = Field(default=0.0, ge=0, examples=[0.0])
    land_management_biogenic_co2_removals: float = Field(default=0.0, le=0, examples=[0.0])
    biogenic_non_co2: float = Field(default=0.0, ge=0, examples=[0.0])
    technological_co2_removals: float = Field(default=0.0, le=0, examples=[0.0])
    ccs_technological_co2_capture: float = Field(default=0.0, le=0, examples=[0.0])
    biogenic_co2_uptake: float = Field(default=0.0, le=0, examples=[0.0])

    def profile(self) -> EmissionProfile:
        return EmissionProfile(**self.model_dump())


class OutputIn(BaseModel):
    product: str = Field(
        description="product key; co-products that are not products still weigh the split",
        examples=["hrc"],
    )
    quantity: float = Field(gt=0, description="declared units made in the period", examples=[1e9])
    mass: float | None = Field(default=None, ge=0, description="kg", examples=[1e9])
    revenue: float | None = Field(default=None, ge=0, examples=[4.2e9])


class FacilityIn(BaseModel):
    name: str = Field(min_length=1, max_length=200, examples=["Hot-strip mill"])
    emissions: ProfileIn = Field(description="the facility's emissions of the period, kg CO2e")
    outputs: list[OutputIn] = Field(min_length=1)
    rule: Literal["mass", "economic"] = Field(examples=["mass"])


class OwnerIn(BaseModel):
    name: str = Field(min_length=1, max_length=300, examples=["East China Steel Co."])
    company_ids: list[str] = Field(
        min_length=1, examples=[["urn:pact:steel.example.cn:company-id:1"]]
    )

    _company_urns = field_validator("company_ids")(_urns)


class ComputeIn(BaseModel):
    period_start: date = Field(examples=["2025-01-01"])
    period_end: date = Field(examples=["2026-01-01"])
    direct: dict[str, ProfileIn] = Field(
        default_factory=dict,
        description="own site emissions per declared unit, by product key",
        examples=[{"crs": {"fossil": 0.1}}],
    )
    facilities: list[FacilityIn] = Field(
        default_factory=list, description="site emissions allocated to the facility's outputs"
    )
    publish: bool = Field(
        default=False, description="publish each footprint on the exchange", examples=[True]
    )
    owner: OwnerIn | None = Field(default=None, description="the publisher; needed to publish")
    geography: str | None = Field(default=None, max_length=20, examples=["CN"])

    @model_validator(mode="after")
    def _checked(self) -> ComputeIn:
        if self.period_end <= self.period_start:
            raise ValueError("period_end must be after period_start")
        if self.publish and self.owner is None:
            raise ValueError("publishing needs owner (name and company_ids URNs)")
        return self


COMPUTE_EXAMPLE = {
    "period_start": "2025-01-01",
    "period_end": "2026-01-01",
    "direct": {"crs": {"fossil": 0.1}},
    "facilities": [
        {
            "name": "Hot-strip mill",
            "emissions": {"fossil": 1.4e9},
            "outputs": [
                {"product": "hrc", "quantity": 9.5e8, "mass": 9.5e8},
                {"product": "scale", "quantity": 5e7, "mass": 5e7},
            ],
            "rule": "mass",
        }
    ],
    "publish": True,
    "owner": {"name": "East China Steel Co.", "company_ids": ["urn:pact:steel.example.cn:1"]},
    "geography": "CN",
}


class ComputedOut(BaseModel):
    key: str = Field(examples=["hrc"])
    pcf_excluding_biogenic_uptake: float = Field(
        description="kg CO2e per declared unit", examples=[1.9417]
    )
    pcf_including_biogenic_uptake: float = Field(examples=[1.9417])
    fossil: float = Field(examples=[1.9417])
    primary_data_share: float | None = Field(description="percent", examples=[100.0])
    allocation_rule: str = Field(examples=["ISO 14067:2018 §6.4.6 … mass allocation …"])
    contributions: dict[str, Any] = Field(
        description="contribution tree: kind, label, quantity, kgco2e and children",
        examples=[
            {
                "kind": "product",
                "label": "crs",
                "quantity": 1.0,
                "kgco2e": 2.16,
                "children": [
                    {"kind": "direct", "label": "site", "quantity": 1.0, "kgco2e": 0.1},
                    {"kind": "product", "label": "hrc", "quantity": 1.06, "kgco2e": 2.06},
                ],
            }
        ],
    )
    pf_id: str | None = Field(description="PACT id when published", examples=[None])


class ComputeOut(BaseModel):
    run_id: str = Field(examples=["api-5f2b9c0d1e3a"])
    footprints: list[ComputedOut]


@router.post("/footprints/compute", response_model=ComputeOut, responses=WRITE)
def compute_footprints(
    body: Annotated[ComputeIn, Body(openapi_examples={"steel works": {"value": COMPUTE_EXAMPLE}})],
    caller: Writer,
    ctx: Context,
) -> ComputeOut:
    """Solve the organization's stored product system once, store the run, optionally publish.

    Own site emissions come per declared unit (``direct``) or as a facility's emissions
    allocated to its outputs, share_i = w_i / Σ w_k and per declared unit E · share_i / q_i
    (ISO 14067:2018 §6.4.6.2–6.4.6.3; w mass or revenue).
    """
    store = ProductStore(ctx.engine, caller.organization_id)
    exchange = ExchangeRepository(ctx.engine, organization_id=caller.organization_id)
    products = store.products()
    if not products:
        raise InputError(
            "the organization has no products to compute",
            hint="create them with PUT /products/{key} and their BOMs with PUT …/bom",
        )
    known = {product.key for product in products}
    direct = _direct(body, known)
    boms = store.bills_of_materials(exchange)
    result = ProductSystem.build(products, boms, direct).solve()
    published: dict[str, str] = {}
    if body.publish:
        assert body.owner is not None
        published = _publish(body, products, result, direct, exchange, body.owner)
    run_id = f"api-{uuid.uuid4().hex[:12]}"
    rules = {key: emissions.rule for key, emissions in direct.items()}
    store.save_results(
        result,
        [product.key for product in products],
        run_id=run_id,
        period=(body.period_start, body.period_end),
        rules=rules,
        published=published,
        content_hash=inputs_hash(
            products,
            store.boms(),
            {key: emissions.profile.as_array().tolist() for key, emissions in direct.items()},
        ),
    )
    out = []
    for product in products:
        footprint = result.footprint(product.key)
        out.append(
            ComputedOut(
                key=product.key,
                pcf_excluding_biogenic_uptake=footprint.pcf_excluding_biogenic_uptake,
                pcf_including_biogenic_uptake=footprint.pcf_including_biogenic_uptake,
                fossil=footprint.fossil,
                primary_data_share=footprint.primary_data_share,
                allocation_rule=rules.get(product.key, ""),
                contributions=contribution_tree(result.contributions(product.key)),
                pf_id=published.get(product.key),
            )
        )
    return ComputeOut(run_id=run_id, footprints=out)


def _direct(body: ComputeIn, known: set[str]) -> dict[str, DirectEmissions]:
    """Each product's own site emissions per declared unit, from both forms of the body."""
    direct: dict[str, DirectEmissions] = {}
    for key, profile in body.direct.items():
        if key not in known:
            raise InputError(
                f"direct names {key!r}, which is not a product",
                record=key,
                hint="create it with PUT /products/{key} or remove it from direct",
            )
        direct[key] = DirectEmissions(profile.profile(), rule="site emissions per declared unit")
    for number, facility in enumerate(body.facilities):
        allocation = allocate(
            facility.emissions.profile(),
            [
                CoProductOutput(o.product, o.quantity, mass=o.mass, revenue=o.revenue)
                for o in facility.outputs
            ],
            AllocationRule(facility.rule),
        )
        for key, emissions in allocation.direct.items():
            if key not in known:
                continue
            if key in direct:
                raise InputError(
                    f"facilities[{number}] ({facility.name}) allocates to {key!r}, whose site "
                    "emissions are given already",
                    record=key,
                    hint="give each product's site emissions once: in direct or one facility",
                )
            direct[key] = emissions
    return direct


def _publish(
    body: ComputeIn,
    products: list[Product],
    result: Any,
    direct: dict[str, DirectEmissions],
    exchange: ExchangeRepository,
    owner: OwnerIn,
) -> dict[str, str]:
    """Publish every product's footprint as PACT v3 on the exchange; their ids by product key."""
    missing = [product.key for product in products if not product.identifiers]
    if missing:
        raise InputError(
            f"PACT needs an identifier URN for {', '.join(missing)}",
            record=missing[0],
            hint="add identifiers with PUT /products/{key}, or compute without publish",
        )
    context = PublicationContext(
        reference_period_start=datetime.combine(body.period_start, time(), UTC),
        reference_period_end=datetime.combine(body.period_end, time(), UTC),
        geography=body.geography,
        allocation_rules_description="; ".join(sorted({d.rule for d in direct.values() if d.rule}))
        or None,
    )
    data_owner = DataOwner(owner.name, tuple(owner.company_ids))
    documents = [
        to_product_footprint(
            result.footprint(product.key),
            owner=data_owner,
            context=context,
            pf_id=uuid.uuid4(),
            created=datetime.now(UTC),
        )
        for product in products
    ]
    # Converted first, published after: a product that cannot be converted publishes nothing.
    return {
        product.key: exchange.publish(json.dumps(document.to_json(), ensure_ascii=False))
        for product, document in zip(products, documents, strict=True)
    }
