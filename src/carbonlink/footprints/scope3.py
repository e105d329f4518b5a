"""Scope 3 category 1 (purchased goods) from the footprints suppliers sent.

The GHG Protocol's supplier-specific method (Technical Guidance for Calculating Scope 3
Emissions v1.0, 2013, §1.1, equation 1.1) multiplies each purchased quantity by the supplier's
cradle-to-gate product footprint:

    E_cat1 = Σ_i Q_i × PCF_i

with Q_i in the footprint's declared unit and PCF_i in kg CO2e per declared unit (the PCF
excluding biogenic uptake; the Scope 3 Standard reports biogenic removals separately). Each
purchase becomes an inventory source (method ``generic``, ``scope: 3``, ``scope3_category:
1``) whose emission factor is the supplier's PCF, tier ``supplier_specific``, cited by the PACT
footprint id and the SHA-256 of the document received, so the accounting engine computes it
like every other line and every line names the footprint it rests on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from carbonlink.domain.footprint import DeclaredUnit, SupplierFootprint
from carbonlink.domain.inventory import Activity, Source, Value
from carbonlink.errors import InputError

CATEGORY = 1


@dataclass(frozen=True, slots=True)
class SupplierPurchase:
    """``quantity`` ``unit`` of a product bought in the period, with its supplier's footprint.

    ``sha256`` is the digest of the footprint document as received (the exchange keeps it).
    """

    source_id: str
    quantity: float
    unit: str
    footprint: SupplierFootprint
    sha256: str
    description: str = ""


def citation(footprint: SupplierFootprint, sha256: str) -> str:
    """How a category 1 line names the footprint it rests on."""
    return f"PACT footprint {footprint.reference} of {footprint.supplier}, SHA-256 {sha256}"


def category1_source(purchase: SupplierPurchase) -> Source:
    """The inventory source of one purchase, valued with the supplier's PCF (formula above)."""
    footprint = purchase.footprint
    try:
        unit = DeclaredUnit(footprint.declared_unit).pint_unit
    except ValueError:
        unit = None
    if unit is None:
        raise InputError(
            f"footprint {footprint.reference} is declared per {footprint.declared_unit}, which "
            "has no physical unit to convert purchased quantities with",
            record=purchase.source_id,
            hint="use a footprint declared per kilogram, liter, kWh or another measurable unit",
        )
    if not purchase.quantity >= 0:
        raise InputError(
            f"purchased quantity {purchase.quantity} must be ≥ 0", record=purchase.source_id
        )
    pcf = footprint.per_unit.pcf_excluding_biogenic_uptake
    return Source(
        id=purchase.source_id,
        method="generic",
        scope=3,
        scope3_category=CATEGORY,
        subject=f"pact:{footprint.reference}",
        activity=Activity(quantity=purchase.quantity, unit=purchase.unit),
        emission_factor=Value(
            value=pcf,
            unit=f"kg/{unit}",
            tier="supplier_specific",
            document=citation(footprint, purchase.sha256),
        ),
        description=purchase.description
        or f"purchased {footprint.reference} (supplier-specific method, cradle-to-gate PCF)",
    )


def category1_sources(purchases: Sequence[SupplierPurchase]) -> tuple[Source, ...]:
    """One category 1 source per purchase (ids must be unique)."""
    ids = [p.source_id for p in purchases]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise InputError("two purchases share a source id", record=duplicate)
    return tuple(category1_source(p) for p in purchases)


def add_to_inventory(text: str, facility: str, sources: Sequence[Source]) -> str:
    """Inventory YAML ``text`` with ``sources`` added to ``facility`` (replacing same ids)."""
    document: dict[str, Any] = yaml.safe_load(text)
    target = next((f for f in document.get("facilities", []) if f.get("id") == facility), None)
    if target is None:
        raise InputError(
            f"the inventory has no facility {facility!r}",
            record=facility,
            hint="name a facility of the inventory that bought the goods",
        )
    new = {source.id for source in sources}
    kept = [s for s in target.get("sources", []) if s.get("id") not in new]
    target["sources"] = kept + [
        source.model_dump(mode="json", exclude_defaults=True) for source in sources
    ]
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)
