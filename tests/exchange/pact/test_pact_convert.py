"""Publishing a computed footprint as PACT, and reading a supplier's PACT footprint into a BOM.

The coil: 1 kg takes 1.1 kg of slab bought with a supplier PCF of 2.0 kg CO2e/kg (fossil, 40 %
primary, DQR 2/2/3) and carries 0.3 kg CO2e/kg of its own site emissions (primary, DQR 1/1/1) and
a wooden spacer, 0.01 kg at 0.5 fossil and −1.6 biogenic uptake per kg (secondary).
PCF excl. uptake = 0.3 + 2.2 + 0.005 = 2.505; incl. = 2.505 − 0.016 = 2.489.
Primary share = (0.3 + 0.4 · 2.2) / 2.505 = 1.18 / 2.505 = 47.1058 %.
Technological DQR = (0.3 · 1 + 2.2 · 2) / (0.3 + 2.2) = 4.7 / 2.5 = 1.88 (spacer unrated),
temporal = (0.3 + 6.6) / 2.5 = 2.76.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from carbonlink.domain.footprint import (
    BillOfMaterials,
    DataQuality,
    DeclaredUnit,
    DirectEmissions,
    EmissionProfile,
    Product,
    ProductFootprintResult,
    ProductSystem,
    PurchasedInput,
    SecondaryFactor,
    SecondaryInput,
    SupplierFootprint,
    cn_code_urn,
    gtin_urn,
)
from carbonlink.errors import InputError
from carbonlink.exchange.pact import (
    DataOwner,
    PublicationContext,
    parse_product_footprint,
    reporting_findings,
    supplier_footprint,
    to_product_footprint,
)

OWNER = DataOwner("Demo Steel", ("urn:pact:steel.example.com:company-id:1",))
CONTEXT = PublicationContext(
    reference_period_start=datetime(2025, 1, 1, tzinfo=UTC),
    reference_period_end=datetime(2026, 1, 1, tzinfo=UTC),
    geography="CN-JS",
    secondary_emission_factor_sources=(("test factors", "1"),),
    allocation_rules_description="mass allocation",
)
PF_ID = UUID("3f1b2c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d")


def _result(identifiers: tuple[str, ...] = (gtin_urn("6291041500213"),)) -> ProductFootprintResult:
    slab = SupplierFootprint(
        "slab-pf",
        "Slab Co",
        "kilogram",
        EmissionProfile(fossil=2.0),
        primary_data_share=40.0,
        quality=DataQuality(2, 2, 3),
    )
    spacer = SecondaryFactor(
        "wooden spacer", "kg", EmissionProfile(fossil=0.5, biogenic_co2_uptake=-1.6), "db", "1"
    )
    coil = Product(
        "coil",
        "Hot-rolled coil",
        DeclaredUnit.KILOGRAM,
        1.0,
        identifiers=identifiers,
        classifications=(cn_code_urn("72083900"),),
        fossil_carbon_content=0.002,
    )
    system = ProductSystem.build(
        [coil],
        [BillOfMaterials("coil", (PurchasedInput(slab, 1.1), SecondaryInput(spacer, 0.01)))],
        {"coil": DirectEmissions(EmissionProfile(fossil=0.3), quality=DataQuality(1, 1, 1))},
    )
    return system.solve().footprint("coil")


def test_computed_footprint_becomes_a_valid_pact_document() -> None:
    created = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    pf = to_product_footprint(_result(), owner=OWNER, context=CONTEXT, pf_id=PF_ID, created=created)
    document = pf.to_json()
    pcf = document["pcf"]
    assert pcf["pcfExcludingBiogenicUptake"] == "2.505"
    assert pcf["pcfIncludingBiogenicUptake"] == "2.489"
    assert pcf["fossilGhgEmissions"] == "2.505"
    assert pcf["biogenicCO2Uptake"] == "-0.016"
    assert pcf["primaryDataShare"] == "47.1058"
    assert pcf["dqi"] == {
        "technologicalDQR": "1.88",
        "geographicalDQR": "1.88",
        "temporalDQR": "2.76",
    }
    assert pcf["geographyCountrySubdivision"] == "CN-JS"
    assert pcf["declaredUnitOfMeasurement"] == "kilogram"
    assert pcf["referencePeriodStart"] == "2025-01-01T00:00:00Z"
    assert pcf["ccsTechnologicalCO2CaptureIncluded"] is False
    assert "ccsTechnologicalCO2Capture" not in pcf
    assert document["productClassifications"] == ["urn:pact:productclassification:cn:72083900"]
    assert document["created"] == "2026-01-05T08:00:00Z"
    assert parse_product_footprint(document).to_json() == document
    assert [f.path for f in reporting_findings(pf)] == ["pcf.boundaryProcessesDescription"]


def test_pact_document_feeds_back_as_a_supplier_footprint() -> None:
    created = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
    pf = to_product_footprint(_result(), owner=OWNER, context=CONTEXT, pf_id=PF_ID, created=created)
    supplier = supplier_footprint(pf)
    assert supplier.profile.pcf_excluding_biogenic_uptake == pytest.approx(2.505)
    assert supplier.profile.biogenic_co2_uptake == pytest.approx(-0.016)
    assert supplier.primary_data_share == pytest.approx(47.1058)
    assert supplier.quality == DataQuality(1.88, 1.88, 2.76)
    assert supplier.reference == str(PF_ID)
    assert supplier.supplier == "Demo Steel"


def test_product_without_identifier_cannot_be_published() -> None:
    with pytest.raises(InputError, match="product identifier"):
        to_product_footprint(
            _result(identifiers=()),
            owner=OWNER,
            context=CONTEXT,
            pf_id=PF_ID,
            created=datetime(2026, 1, 5, tzinfo=UTC),
        )
