"""Exchange records of four coke suppliers, made through the exchange's own code paths.

Shared by the supplier-index tests of the engine (tests/indices) and of the service (tests/api).
The requests are sent with `send_request` and answered through `receive_event` (what the PACT
host does when a supplier posts an answer), at times set by a settable clock.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from carbonlink.domain.footprint import hs_code_urn
from carbonlink.exchange.fulfilment import EventWorker, send_request
from carbonlink.exchange.host import receive_event
from carbonlink.exchange.pact import REQUEST_FULFILLED, REQUEST_REJECTED
from carbonlink.exchange.repository import DEFAULT_OWNER, ExchangeRepository
from carbonlink.indices.suppliers import RENEWABLE_EXTENSION

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
COKE = hs_code_urn("2704.00")
SUPPLIERS = {
    "coke-a": "Alpha Coking",
    "coke-b": "Beta Coke Works",
    "coke-c": "Charlie Carbon",
    "coke-d": "Delta Fuels",
}


class SettableClock:
    """The repository's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def footprint(
    n: int,
    supplier: str,
    *,
    pcf: str,
    primary: str | None = None,
    renewable: Any = None,
    status: str = "Active",
    preceding: list[str] | None = None,
) -> dict[str, Any]:
    """A schema-valid PACT v3 footprint of 1 kg of coke from ``supplier``."""
    document: dict[str, Any] = {
        "id": str(uuid.UUID(int=0x5000 + n, version=4)),
        "specVersion": "3.0.3",
        "created": "2026-01-02T00:00:00Z",
        "status": status,
        "companyName": SUPPLIERS.get(supplier, supplier),
        "companyIds": [f"urn:pact:{supplier}.example.cn:company-id:1"],
        "productDescription": "Metallurgical coke",
        "productIds": [f"urn:pact:{supplier}.example.cn:product-id:COKE"],
        "productClassifications": [COKE],
        "productNameCompany": "Coke",
        "pcf": {
            "declaredUnitOfMeasurement": "kilogram",
            "declaredUnitAmount": "1",
            "productMassPerDeclaredUnit": "1",
            "referencePeriodStart": "2025-01-01T00:00:00Z",
            "referencePeriodEnd": "2026-01-01T00:00:00Z",
            "geographyCountry": "CN",
            "pcfExcludingBiogenicUptake": pcf,
            "pcfIncludingBiogenicUptake": pcf,
            "fossilCarbonContent": "0",
            "fossilGhgEmissions": pcf,
            "packagingEmissionsIncluded": False,
            "ipccCharacterizationFactors": ["AR6"],
            "crossSectoralStandards": ["ISO14067"],
            "exemptedEmissionsPercent": "0",
        },
    }
    if primary is not None:
        document["pcf"]["primaryDataShare"] = primary
    if renewable is not None:
        document["extensions"] = [
            {
                "specVersion": "2.0.0",
                "dataSchema": RENEWABLE_EXTENSION,
                "data": {"renewableElectricityShare": renewable},
            }
        ]
    if preceding:
        document["precedingPfIds"] = preceding
    return document


def _answer(
    repository: ExchangeRepository, supplier: str, request_id: str, pfs: list[dict[str, Any]]
) -> None:
    partner = repository.partner(supplier)
    assert partner is not None
    data: dict[str, Any] = {"requestEventId": request_id}
    if pfs:
        data["pfs"] = pfs
    else:
        data["error"] = {"code": "NotFound", "message": "no footprint for this product"}
    event = {
        "type": REQUEST_FULFILLED if pfs else REQUEST_REJECTED,
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"https://{supplier}.example.cn",
        "time": repository.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": data,
    }
    receive_event(repository, partner, json.dumps(event).encode())


def seed_four_coke_suppliers(
    engine: Engine, organization_id: str = DEFAULT_OWNER
) -> ExchangeRepository:
    """Four coke suppliers, a customer and an unattributable footprint of one organization.

    ====== ========================== ======== ======= ========== ==========================
    code   answers (days after T0)    PCF/kg   primary renewable  requests due / fulfilled /
                                               data %  %          within 30 days
    ====== ========================== ======== ======= ========== ==========================
    coke-a fulfilled day 5 (+ an old  0.40     60      50         1 / 1 / 1
           Deprecated version, 2.0)
    coke-b fulfilled day 40           0.50     20      —          1 / 1 / 0
    coke-c rejected day 3; asked      0.80     40      10         2 / 1 / 1
           again day 10, day 20
    coke-d never answers              —        —       —          1 / 0 / 0
    ====== ========================== ======== ======= ========== ==========================
    """
    clock = SettableClock(T0)
    repository = ExchangeRepository(engine, clock=clock, organization_id=organization_id)
    worker = EventWorker(repository, source="https://lead.example.cn")
    for code, name in SUPPLIERS.items():
        repository.add_partner(
            code,
            f"secret-of-{code}-0123456789",
            name=name,
            organization=name,
            company_ids=[f"urn:pact:{code}.example.cn:company-id:1"],
            events_url=f"https://{code}.example.cn",
        )
    repository.add_partner(
        "customer", "secret-of-customer-0123", name="A customer", organization="Appliance Co"
    )
    criteria = {"productId": ["urn:pact:lead.example.cn:product-id:COKE"]}
    asked = {code: send_request(repository, worker, code, criteria) for code in SUPPLIERS}

    clock.now = T0 + timedelta(days=3)
    _answer(repository, "coke-c", asked["coke-c"], [])
    clock.now = T0 + timedelta(days=5)
    old = footprint(1, "coke-a", pcf="2.0", primary="5", status="Deprecated")
    _answer(
        repository,
        "coke-a",
        asked["coke-a"],
        [old, footprint(2, "coke-a", pcf="0.40", primary="60", renewable="50")],
    )
    clock.now = T0 + timedelta(days=10)
    again = send_request(repository, worker, "coke-c", criteria)
    clock.now = T0 + timedelta(days=20)
    _answer(
        repository,
        "coke-c",
        again,
        [footprint(3, "coke-c", pcf="0.80", primary="40", renewable=10)],
    )
    clock.now = T0 + timedelta(days=40)
    _answer(
        repository, "coke-b", asked["coke-b"], [footprint(4, "coke-b", pcf="0.50", primary="20")]
    )
    # Pulled from a host no partner is registered with, naming no partner's company.
    repository.store_received(
        json.dumps(footprint(5, "stranger", pcf="9.0")),
        source="https://stranger.example",
        via="pull",
    )
    clock.now = AS_OF
    return repository
