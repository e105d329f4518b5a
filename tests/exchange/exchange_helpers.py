"""Helpers of the exchange tests: footprint documents (own data, not the examples), a clock."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.exchange.server import BackgroundHost

HostFactory = Callable[..., tuple[BackgroundHost, ExchangeRepository, EventWorker]]


class FakeClock:
    """A settable clock, so token expiry and backoff are tested without waiting."""

    def __init__(self) -> None:
        self.now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def footprint_document(
    n: int,
    *,
    company: str = "urn:pact:steel.example.com:company-id:1",
    product: str | None = None,
    country: str | None = "CN",
    subdivision: str | None = None,
    classification: str = "urn:pact:productclassification:hs:720810",
    status: str = "Active",
    reference_end: str = "2025-12-31T00:00:00Z",
    validity: tuple[str, str] | None = None,
    pcf: str = "1.5",
) -> dict[str, Any]:
    """A schema-valid PACT v3 footprint numbered ``n`` (its id is derived from ``n``)."""
    geography: dict[str, str] = {}
    if subdivision:
        geography["geographyCountrySubdivision"] = subdivision
    elif country:
        geography["geographyCountry"] = country
    document: dict[str, Any] = {
        "id": str(uuid.UUID(int=0x1000 + n, version=4)),
        "specVersion": "3.0.3",
        "created": "2026-01-15T00:00:00Z",
        "status": status,
        "companyName": "Demo Steel",
        "companyIds": [company],
        "productDescription": f"product {n}",
        "productIds": [product or f"urn:pact:steel.example.com:product-id:P{n}"],
        "productClassifications": [classification],
        "productNameCompany": f"Product {n}",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": reference_end,
            **geography,
            "pcfExcludingBiogenicUptake": pcf,
            "pcfIncludingBiogenicUptake": pcf,
            "fossilCarbonContent": "0",
            "fossilGhgEmissions": pcf,
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
    if validity:
        document["validityPeriodStart"], document["validityPeriodEnd"] = validity
    return document
