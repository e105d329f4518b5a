"""Test fixture of the supply-chain pages: the demo plant's products, BOMs and two suppliers.

Built with the same functions the demo runs, without the HTTPS hosts: the coking company's
footprint (computed from its activity data) arrives as if by its RequestFulfilledEvent, the
ferroalloy company answers through the portal functions, and a scrap dealer leaves a request
unanswered for 40 days. Numbers a person can check:

    coke        = 198 000 t × 1260/(1260+140) / 600 000 t + 1.32 × 0.16 = 0.5082 kg CO2e/kg
    ferrochrome = 14 500 t / 2 400 t + 2.1 × 0.05                       = 6.146667 kg CO2e/kg
    hrc = (1.4 + 0.3673 coke + 0.001224 ferrochrome + 0.01 crs_site) / (1 − 0.01 × 1.06)
    crs = 0.1 + 1.06 hrc;   coke's contribution to hrc = 0.3673 × 0.5082 = 0.18666 kg CO2e/kg
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from carbonlink.domain.footprint import (
    AllocationRule,
    CoProductOutput,
    DeclaredUnit,
    DirectEmissions,
    EmissionProfile,
    Product,
    ProductSystem,
    company_product_urn,
    handle_urn,
    hs_code_urn,
)
from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.pact import DataOwner, PublicationContext, to_product_footprint
from carbonlink.exchange.portal import (
    ActivitySubmission,
    MaterialLine,
    compute_submission,
    create_supplier_request,
    register_supplier,
    submit_activity_data,
)
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.footprints.store import BomLine, ProductStore, inputs_hash

COKE = 198_000e3 * 1260 / (1260 + 140) / 600_000e3 + 1.32 * 0.16
FERROCHROME = 14_500 / 2_400 + 2.1 * 0.05
HRC = (1.4 + 0.3673 * COKE + 0.001224 * FERROCHROME + 0.01 * 0.1) / (1 - 0.01 * 1.06)
CRS = 0.1 + 1.06 * HRC
START, END = datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class SeededChain:
    hrc_pf_id: str
    coke_pf_id: str
    ferrochrome_pf_id: str


def _supplier_submission(
    key: str, name: str, domain: str, hs: str, site_t: float, outputs: tuple[CoProductOutput, ...]
) -> ActivitySubmission:
    product = Product(
        key=key,
        name=name,
        declared_unit=DeclaredUnit.KILOGRAM,
        mass_per_declared_unit=1.0,
        identifiers=(company_product_urn(domain, key.upper()),),
        classifications=(hs_code_urn(hs),),
        description=name,
    )
    materials = {
        "coke": (MaterialLine("coking coal", 1.32, "kg", 0.16, "coal mine statement", "2025"),),
        "ferrochrome": (MaterialLine("chromite ore", 2.1, "kg", 0.05, "ore statement", "2025"),),
    }[key]
    return ActivitySubmission(
        product=product,
        reference_period_start=START,
        reference_period_end=END,
        site_emissions=EmissionProfile(fossil=site_t * 1000),
        outputs=outputs,
        materials=materials,
        rule=AllocationRule.ECONOMIC if key == "coke" else AllocationRule.MASS,
        geography="CN",
    )


def seed_supply_chain(engine: sa.Engine, organization_id: str) -> SeededChain:
    """Store the chain for ``organization_id``; returns the footprint ids a test looks for."""
    ours = ExchangeRepository(engine, organization_id=organization_id)
    worker = EventWorker(ours, source="https://pact.steel.example.cn")
    suffix = organization_id[-6:]

    # The coking company has its own PACT host: asked by event, it answers by event.
    coke_client = f"coking-co-{suffix}"
    register_supplier(
        ours,
        coke_client,
        name="Demo Coking Co.",
        organization="Demo Coking Co.",
        company_ids=["urn:pact:coke.example.cn:company-id:coking-co"],
        host_url="https://pact.coke.example.cn",
    )
    coke_request = create_supplier_request(
        ours, worker, coke_client, {"productId": ["urn:pact:coke.example.cn:product-id:COKE"]}
    )
    coke_pf = compute_submission(
        _supplier_submission(
            "coke",
            "Metallurgical coke",
            "coke.example.cn",
            "2704.00",
            198_000,
            (
                CoProductOutput("coke", 600_000e3, mass=600_000e3, revenue=1260e6),
                CoProductOutput("tar", 90_000e3, mass=90_000e3, revenue=140e6),
            ),
        ),
        owner=DataOwner("Demo Coking Co.", ("urn:pact:coke.example.cn:company-id:coking-co",)),
        pf_id=uuid.uuid4(),
        created=datetime.now(UTC),
    )
    ours.store_received(json.dumps(coke_pf.to_json()), source=coke_client, via="event")
    [row] = [r for r in ours.events(partner=coke_client) if r["event_id"] == coke_request]
    ours.set_event_status(row["id"], "fulfilled")

    # The ferroalloy company has no system: it answers in the supplier portal.
    alloy_client = f"ferroalloy-co-{suffix}"
    register_supplier(
        ours,
        alloy_client,
        name="Demo Ferroalloy Co.",
        organization="Demo Ferroalloy Co.",
        company_ids=["urn:pact:ferroalloy.example.cn:company-id:ferroalloy-co"],
    )
    submission = _supplier_submission(
        "ferrochrome",
        "High-carbon ferrochrome",
        "ferroalloy.example.cn",
        "7202.41",
        14_500,
        (CoProductOutput("ferrochrome", 2_400e3, mass=2_400e3),),
    )
    alloy_request = create_supplier_request(
        ours, worker, alloy_client, {"productId": list(submission.product.identifiers)}
    )
    alloy_pf = submit_activity_data(
        ours,
        worker,
        alloy_client,
        alloy_request,
        submission,
        owner=DataOwner(
            "Demo Ferroalloy Co.", ("urn:pact:ferroalloy.example.cn:company-id:ferroalloy-co",)
        ),
    )

    # A scrap dealer was asked 40 days ago and has not answered.
    late = ExchangeRepository(
        engine,
        lambda: datetime.now(UTC) - timedelta(days=40),
        organization_id=organization_id,
    )
    scrap_client = f"scrap-dealer-{suffix}"
    register_supplier(late, scrap_client, name="Scrap Dealer", organization="Demo Scrap Dealer")
    create_supplier_request(
        late, EventWorker(late, source=worker.source), scrap_client, {"productId": ["urn:x:y"]}
    )

    store = ProductStore(engine, organization_id)
    products = [
        Product(
            key="hrc",
            name="Hot-rolled coil Q235B",
            declared_unit=DeclaredUnit.KILOGRAM,
            mass_per_declared_unit=1.0,
            identifiers=(
                company_product_urn("steel.example.cn", "HRC-Q235B"),
                handle_urn("88.118.8/demo-steel/HRC-Q235B", issuer="steel.example.cn"),
            ),
            classifications=(hs_code_urn("7208.39"),),
            description="Hot-rolled steel coil, BF-BOF route",
        ),
        Product(
            key="crs",
            name="Cold-rolled sheet DC01",
            declared_unit=DeclaredUnit.KILOGRAM,
            mass_per_declared_unit=1.0,
            identifiers=(company_product_urn("steel.example.cn", "CRS-DC01"),),
            classifications=(hs_code_urn("7209.17"),),
            description="Cold-rolled steel sheet",
        ),
    ]
    store.save_products(products)
    store.save_bom(
        "hrc",
        [
            BomLine.own("crs", 0.01),
            BomLine.purchased(
                coke_pf.id,
                0.3673,
                "kilogram",
                supplier=coke_client,
                product_id=coke_pf.product_ids[0],
                unit_price=2.1,
            ),
            BomLine.purchased(
                alloy_pf.id,
                0.001224,
                "kilogram",
                supplier=alloy_client,
                product_id=alloy_pf.product_ids[0],
                unit_price=8.6,
            ),
        ],
    )
    store.save_bom("crs", [BomLine.own("hrc", 1.06)])
    direct = {
        "hrc": DirectEmissions(EmissionProfile(fossil=1.4), rule="economic allocation (test)"),
        "crs": DirectEmissions(EmissionProfile(fossil=0.1), rule="mass allocation (test)"),
    }
    result = ProductSystem.build(products, store.bills_of_materials(ours), direct).solve()
    owner = DataOwner("Demo Steel Co., Ltd.", ("urn:pact:steel.example.cn:company-id:demo",))
    hrc_pf = to_product_footprint(
        result.footprint("hrc"),
        owner=owner,
        context=PublicationContext(reference_period_start=START, reference_period_end=END),
        pf_id=uuid.uuid4(),
        created=datetime.now(UTC),
    )
    ours.publish(hrc_pf)
    store.save_results(
        result,
        ["hrc", "crs"],
        run_id=f"run-{suffix}",
        period=(date(2025, 1, 1), date(2026, 1, 1)),
        rules={key: d.rule for key, d in direct.items()},
        published={"hrc": hrc_pf.id},
        content_hash=inputs_hash(products, store.boms(), {"hrc": 1.4, "crs": 0.1}),
    )
    return SeededChain(hrc_pf.id, coke_pf.id.lower(), alloy_pf.id.lower())
