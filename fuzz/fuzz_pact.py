"""Fuzz target: PACT v3 footprints and events as they arrive from partners."""

from __future__ import annotations

import json

import atheris
from harness import run

with atheris.instrument_imports(include=["carbonlink"]):
    from carbonlink.exchange.pact import parse_event, parse_product_footprint

SEED = {
    "id": "00000000-0000-4000-8000-000000001001",
    "specVersion": "3.0.3",
    "created": "2026-01-15T00:00:00Z",
    "status": "Active",
    "companyName": "Demo Steel",
    "companyIds": ["urn:pact:steel.example.com:company-id:1"],
    "productDescription": "coil",
    "productIds": ["urn:pact:steel.example.com:product-id:P1"],
    "productClassifications": ["urn:pact:productclassification:hs:720810"],
    "productNameCompany": "Coil",
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2025-12-31T00:00:00Z",
        "geographyCountry": "CN",
        "pcfExcludingBiogenicUptake": "1.5",
        "pcfIncludingBiogenicUptake": "1.5",
        "fossilCarbonContent": "0",
        "fossilGhgEmissions": "1.5",
        "landUseChangeGhgEmissions": "0",
        "landManagementBiogenicCO2Emissions": "0",
        "landManagementBiogenicCO2Removals": "0",
        "biogenicCO2Uptake": "0",
        "biogenicNonCO2Emissions": "0",
        "packagingEmissionsIncluded": False,
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067"],
        "exemptedEmissionsPercent": "0",
    },
}


def target(data: bytes) -> None:
    parse_product_footprint(data)
    parse_event(data)


if __name__ == "__main__":
    run(target, [json.dumps(SEED).encode()])
