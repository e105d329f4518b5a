"""Supplier portal functions: requests per supplier, footprints from activity data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from carbonlink.domain.footprint import (
    CoProductOutput,
    DeclaredUnit,
    EmissionProfile,
    Product,
    company_product_urn,
)
from carbonlink.errors import InputError
from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.pact import (
    REQUEST_FULFILLED,
    DataOwner,
    parse_decimal,
    parse_product_footprint,
    supplier_footprint,
)
from carbonlink.exchange.portal import (
    ActivitySubmission,
    MaterialLine,
    PortalAccessError,
    create_supplier_request,
    register_supplier,
    requests_for_supplier,
    submit_activity_data,
)
from carbonlink.exchange.repository import ExchangeRepository

LIME = Product(
    key="lime",
    name="Burnt lime",
    declared_unit=DeclaredUnit.KILOGRAM,
    mass_per_declared_unit=1.0,
    identifiers=(company_product_urn("lime.example.com", "QL-1"),),
)
OWNER = DataOwner("Lime Works", ("urn:pact:lime.example.com:company-id:1",))


def _submission() -> ActivitySubmission:
    # 1000 kg CO2e of site emissions, 100 kg lime and 300 kg of a co-product: by mass the lime
    # carries 1000 × 100/400 = 250 kg, 2.5 kg CO2e/kg; 0.5 kg limestone at 0.1 kg CO2e/kg adds
    # 0.05: 2.55 kg CO2e/kg.
    return ActivitySubmission(
        product=LIME,
        reference_period_start=datetime(2025, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(2026, 1, 1, tzinfo=UTC),
        site_emissions=EmissionProfile(fossil=1000.0),
        outputs=(
            CoProductOutput("lime", quantity=100.0, mass=100.0),
            CoProductOutput("dust", quantity=300.0, mass=300.0),
        ),
        materials=(MaterialLine("limestone", 0.5, "kg", 0.1, "example database", "1.0"),),
        geography="CN",
    )


def test_supplier_sees_only_its_requests_and_answers_once(engine: Engine) -> None:
    repository = ExchangeRepository(engine)
    worker = EventWorker(repository, source="https://lead.example")
    register_supplier(repository, "lime", name="Lime Works", organization="Lime Works")
    register_supplier(repository, "coke", name="Coke Co", organization="Coke Co")
    for_lime = create_supplier_request(
        repository, worker, "lime", {"productId": list(LIME.identifiers)}
    )
    for_coke = create_supplier_request(repository, worker, "coke", {"comment": "coke 2025"})
    assert [r.event_id for r in requests_for_supplier(repository, "lime")] == [for_lime]
    assert [r.event_id for r in requests_for_supplier(repository, "coke")] == [for_coke]
    assert requests_for_supplier(repository, "lime")[0].status == "awaiting"
    assert repository.due() == []  # nothing to deliver: the supplier answers in the portal

    with pytest.raises(PortalAccessError):
        submit_activity_data(repository, worker, "lime", for_coke, _submission(), owner=OWNER)

    footprint = submit_activity_data(
        repository, worker, "lime", for_lime, _submission(), owner=OWNER
    )
    assert parse_decimal(footprint.pcf.pcf_excluding_biogenic_uptake) == pytest.approx(2.55)
    assert "mass" in (footprint.pcf.allocation_rules_description or "")
    assert footprint.pcf.geography_country == "CN"
    assert requests_for_supplier(repository, "lime") == []
    assert [r.status for r in requests_for_supplier(repository, "lime", open_only=False)] == [
        "fulfilled"
    ]
    with pytest.raises(InputError):
        submit_activity_data(repository, worker, "lime", for_lime, _submission(), owner=OWNER)

    [kept] = repository.received()
    assert kept["source"] == "portal:lime" and kept["via"] == "portal"
    purchased = supplier_footprint(parse_product_footprint(kept["document"]))
    assert purchased.profile.fossil == pytest.approx(2.55)
    [answer] = repository.events(direction="received", type=REQUEST_FULFILLED)
    assert answer["request_event_id"] == for_lime and answer["partner"] == "lime"


def test_coverage_of_purchased_mass_and_spend() -> None:
    from carbonlink.domain.footprint import (
        BillOfMaterials,
        OwnInput,
        PurchasedInput,
        SecondaryFactor,
        SecondaryInput,
        SupplierFootprint,
    )
    from carbonlink.exchange.portal import supplier_coverage

    coke = SupplierFootprint(
        "pf-coke", "Coke Co", "kilogram", EmissionProfile(fossil=0.5), primary_data_share=80.0
    )
    lime = SupplierFootprint("pf-lime", "Lime Works", "kilogram", EmissionProfile(fossil=1.0))
    ore = SecondaryFactor("iron ore", "kg", EmissionProfile(fossil=0.02), "db", "1")
    boms = [
        BillOfMaterials(
            "hrc",
            (
                PurchasedInput(coke, 0.4),
                PurchasedInput(lime, 0.1),
                SecondaryInput(ore, 1.5),
                OwnInput("crs", 0.01),
            ),
        ),
        BillOfMaterials("crs", (PurchasedInput(coke, 0.2),)),
    ]
    prices = {"pf-coke": 2.0, "pf-lime": 1.0, "iron ore": 0.5}
    products, suppliers = supplier_coverage(
        boms, production={"hrc": 1000.0, "crs": 10.0}, prices=prices
    )
    # hrc: purchased mass 0.4 + 0.1 + 1.5 = 2.0 kg, primary (coke) 0.4 → 20 %;
    # spend 0.8 + 0.1 + 0.75 = 1.65, primary 0.8 → 0.8 / 1.65.
    assert products["hrc"].mass_share == pytest.approx(0.2)
    assert products["hrc"].spend_share == pytest.approx(0.8 / 1.65)
    assert products["crs"].mass_share == pytest.approx(1.0)
    # per supplier, weighted by production: coke 0.4 × 1000 + 0.2 × 10 = 402 kg, all primary
    assert suppliers["Coke Co"].mass_kg == pytest.approx(402.0)
    assert suppliers["Coke Co"].mass_share == pytest.approx(1.0)
    assert suppliers["Lime Works"].mass_share == 0.0  # a PCF without primary data
    assert suppliers["secondary data"].mass_kg == pytest.approx(1500.0)
