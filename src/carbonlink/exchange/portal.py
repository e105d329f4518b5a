"""What the supplier portal calls: requests addressed to suppliers without a PACT host of
their own, and footprints those suppliers compute from their activity data.

A supplier sees only the requests addressed to it; its submission is computed with carbonlink's
footprint engine (allocation of the site's emissions, bill of materials, system solve) and kept
as a PACT v3 footprint, answering exactly one request.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from carbonlink.domain.footprint import (
    AllocationRule,
    BillOfMaterials,
    CoProductOutput,
    DataQuality,
    EmissionProfile,
    Product,
    ProductSystem,
    PurchasedInput,
    SecondaryFactor,
    SecondaryInput,
    allocate,
)
from carbonlink.errors import ExchangeError, InputError
from carbonlink.exchange.fulfilment import EventWorker, send_request
from carbonlink.exchange.pact import (
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    DataOwner,
    ProductFootprint,
    PublicationContext,
    to_product_footprint,
)
from carbonlink.exchange.repository import ExchangeRepository, Partner

OPEN = ("awaiting", "pending", "sending", "delivered")


class PortalAccessError(ExchangeError, PermissionError):
    """A supplier tried to see or answer a request that is not addressed to it."""


@dataclass(frozen=True, slots=True)
class SupplierRequest:
    """A request as the supplier portal shows it."""

    event_id: str
    supplier: str
    criteria: dict[str, Any]
    status: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class MaterialLine:
    """A purchased material per declared unit, valued with a secondary factor (kg CO2e/unit)."""

    name: str
    quantity: float
    unit: str
    factor: float
    source: str
    version: str


@dataclass(frozen=True, slots=True)
class ActivitySubmission:
    """A supplier's activity data for one product and period, as the portal form collects it.

    ``site_emissions`` are the site's emissions of the period in kg CO2e (from its energy and
    process data); ``outputs`` lists what the site made (the product first) for allocation by
    ``rule``; ``materials`` are per declared unit of the product.
    """

    product: Product
    reference_period_start: datetime
    reference_period_end: datetime
    site_emissions: EmissionProfile
    outputs: tuple[CoProductOutput, ...]
    materials: tuple[MaterialLine, ...] = ()
    rule: AllocationRule = AllocationRule.MASS
    geography: str | None = None
    quality: DataQuality | None = None
    extra: dict[str, str] = field(default_factory=dict)


def register_supplier(
    repository: ExchangeRepository,
    client_id: str,
    *,
    name: str,
    organization: str,
    company_ids: Sequence[str] = (),
    host_url: str | None = None,
) -> tuple[Partner, str]:
    """Register a supplier (with its PACT host URL, or none for the portal); returns its secret."""
    secret = secrets.token_urlsafe(32)
    partner = repository.add_partner(
        client_id,
        secret,
        name=name,
        organization=organization,
        company_ids=company_ids,
        events_url=host_url,
    )
    return partner, secret


def create_supplier_request(
    repository: ExchangeRepository,
    worker: EventWorker,
    supplier: str,
    criteria: dict[str, Any],
) -> str:
    """Ask a supplier for footprints; returns the request's event id.

    A supplier with a PACT host receives a RequestCreatedEvent (delivered by the worker); one
    without waits for it in the portal.
    """
    partner = repository.partner(supplier)
    if partner is None:
        raise InputError(f"no supplier {supplier!r}", hint="register the supplier first")
    if partner.events_url:
        return send_request(repository, worker, supplier, criteria)
    event = worker.event(REQUEST_CREATED, criteria)
    repository.record_event(
        event, direction="sent", partner=supplier, status="awaiting", target_url=None
    )
    return str(event["id"])


def requests_for_supplier(
    repository: ExchangeRepository, supplier: str, *, open_only: bool = True
) -> list[SupplierRequest]:
    """The requests addressed to this supplier, and no other supplier's."""
    rows = repository.events(partner=supplier, direction="sent", type=REQUEST_CREATED)
    return [
        SupplierRequest(
            event_id=row["event_id"],
            supplier=row["partner"],
            criteria=json.loads(row["document"])["data"],
            status=row["status"],
            created_at=row["created_at"],
        )
        for row in rows
        if not open_only or row["status"] in OPEN
    ]


def compute_submission(
    submission: ActivitySubmission,
    *,
    owner: DataOwner,
    pf_id: uuid.UUID,
    created: datetime,
) -> ProductFootprint:
    """The PACT footprint of a supplier's product from its activity data.

    The site's emissions are allocated to its outputs (ISO 14067 §6.4.6, the rule recorded), the
    materials become secondary inputs, and the product system is solved.
    """
    product = submission.product
    allocation = allocate(
        submission.site_emissions,
        submission.outputs,
        submission.rule,
        quality=submission.quality,
    )
    if product.key not in allocation.direct:
        raise InputError(
            f"the outputs do not include the product {product.key!r}",
            hint="list the product itself among the site's outputs",
        )
    inputs = tuple(
        SecondaryInput(
            SecondaryFactor(
                name=line.name,
                unit=line.unit,
                profile=EmissionProfile(fossil=line.factor),
                source=line.source,
                version=line.version,
            ),
            line.quantity,
        )
        for line in submission.materials
    )
    result = (
        ProductSystem.build(
            [product],
            [BillOfMaterials(product.key, inputs)],
            {product.key: allocation.direct[product.key]},
        )
        .solve()
        .footprint(product.key)
    )
    sources = tuple(sorted({(line.source, line.version) for line in submission.materials}))
    context = PublicationContext(
        reference_period_start=submission.reference_period_start,
        reference_period_end=submission.reference_period_end,
        geography=submission.geography,
        secondary_emission_factor_sources=sources,
        allocation_rules_description=allocation.description,
    )
    return to_product_footprint(result, owner=owner, context=context, pf_id=pf_id, created=created)


def submit_activity_data(
    repository: ExchangeRepository,
    worker: EventWorker,
    supplier: str,
    request_event_id: str,
    submission: ActivitySubmission,
    *,
    owner: DataOwner,
    revise: bool = False,
) -> ProductFootprint:
    """A supplier answers a request from the portal with a footprint computed from its data.

    Only the supplier the request is addressed to may answer it, once; with ``revise`` (the
    caller has checked that its customer has not accepted the answer) a fulfilled request takes
    a new answer, which supersedes the earlier one.
    """
    mine = [r for r in requests_for_supplier(repository, supplier, open_only=False)]
    request = next((r for r in mine if r.event_id == request_event_id), None)
    if request is None:
        raise PortalAccessError(
            f"request {request_event_id} is not addressed to {supplier}",
            hint="open one of your own requests in the portal",
        )
    if request.status not in OPEN and not (revise and request.status == "fulfilled"):
        raise InputError(
            f"request {request_event_id} has been answered already ({request.status})",
            hint="a request takes exactly one answer",
        )
    created = repository.clock()
    footprint = compute_submission(submission, owner=owner, pf_id=uuid.uuid4(), created=created)
    document = json.dumps(footprint.to_json(), ensure_ascii=False)
    repository.store_received(document, source=f"portal:{supplier}", via="portal")
    answer = worker.event(
        REQUEST_FULFILLED,
        {"requestEventId": request_event_id, "pfs": [footprint.to_json()]},
    )
    answer["source"] = f"urn:carbonlink:portal:{supplier}"
    repository.record_event(
        answer,
        direction="received",
        partner=supplier,
        status="accepted",
        request_event_id=request_event_id,
    )
    row = next(
        r
        for r in repository.events(partner=supplier, direction="sent", type=REQUEST_CREATED)
        if r["event_id"] == request_event_id
    )
    if row["status"] != "fulfilled":
        repository.set_event_status(row["id"], "fulfilled")
    return footprint


@dataclass(frozen=True, slots=True)
class Coverage:
    """Purchased mass and spend, and the parts of them with a supplier's primary-data PCF."""

    mass_kg: float = 0.0
    primary_mass_kg: float = 0.0
    spend: float = 0.0
    primary_spend: float = 0.0

    @property
    def mass_share(self) -> float | None:
        """Share (0…1) of purchased mass with primary data; None without purchased mass."""
        return self.primary_mass_kg / self.mass_kg if self.mass_kg else None

    @property
    def spend_share(self) -> float | None:
        """Share (0…1) of spend with primary data; None without priced inputs."""
        return self.primary_spend / self.spend if self.spend else None

    def __add__(self, other: Coverage) -> Coverage:
        return Coverage(
            self.mass_kg + other.mass_kg,
            self.primary_mass_kg + other.primary_mass_kg,
            self.spend + other.spend,
            self.primary_spend + other.primary_spend,
        )


def supplier_coverage(
    boms: Sequence[BillOfMaterials],
    *,
    production: Mapping[str, float] | None = None,
    prices: Mapping[str, float] | None = None,
) -> tuple[dict[str, Coverage], dict[str, Coverage]]:
    """Coverage per product and per supplier of the purchased inputs of ``boms``.

    A purchased input counts as primary when its supplier footprint has a primary data share
    above 0 (PACT Methodology §4.2.2); secondary-factor inputs count as purchased without
    primary data (supplier "secondary data"). Mass is counted for inputs declared in kilograms;
    spend is quantity × ``prices`` (per unit, keyed by the supplier footprint's reference or
    the secondary factor's name). ``production`` (declared units per product, default 1) weighs
    each product's inputs in the per-supplier totals.
    """
    production = production or {}
    prices = prices or {}
    per_product: dict[str, Coverage] = {}
    per_supplier: dict[str, Coverage] = {}
    for bom in boms:
        volume = production.get(bom.product, 1.0)
        total = Coverage()
        for line in bom.inputs:
            if isinstance(line, PurchasedInput):
                unit = line.footprint.declared_unit
                supplier = line.footprint.supplier
                price_key = line.footprint.reference
                primary = line.footprint.primary_data_share > 0
            elif isinstance(line, SecondaryInput):
                unit = line.factor.unit
                supplier = "secondary data"
                price_key = line.factor.name
                primary = False
            else:
                continue
            mass = line.quantity if unit in ("kilogram", "kg") else 0.0
            spend = line.quantity * prices.get(price_key, 0.0)
            item = Coverage(mass, mass if primary else 0.0, spend, spend if primary else 0.0)
            total = total + item
            weighted = Coverage(
                item.mass_kg * volume,
                item.primary_mass_kg * volume,
                item.spend * volume,
                item.primary_spend * volume,
            )
            per_supplier[supplier] = per_supplier.get(supplier, Coverage()) + weighted
        per_product[bom.product] = total
    return per_product, per_supplier
