"""Allocation of a facility's emissions to the products it makes (ISO 14067 / GB/T 24067).

ISO 14067:2018 §6.4.6 (adopted identically as GB/T 24067-2024) orders the choices: avoid
allocation where the process can be subdivided; otherwise split the inputs and emissions in
proportion to an underlying physical relationship (mass, or another physical quantity such as
energy content); only where no physical relationship can be used, in proportion to another
relationship such as the economic value of the co-products. Whatever rule was used is recorded
with the result, since PACT asks for it (``allocationRulesDescription``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from carbonlink.domain.footprint.inputs import DataQuality, DirectEmissions, EmissionProfile
from carbonlink.errors import InputError


class AllocationRule(StrEnum):
    """The basis emissions are split on."""

    MASS = "mass"
    PHYSICAL = "physical"
    ECONOMIC = "economic"


@dataclass(frozen=True, slots=True)
class CoProductOutput:
    """What the facility made of one product in the period.

    ``quantity`` is in declared units of the product; ``mass`` in kg; ``revenue`` in any one
    currency (the same for all co-products); ``physical`` in the unit of the physical basis
    named in `allocate` (e.g. MJ of energy content).
    """

    product: str
    quantity: float
    mass: float | None = None
    revenue: float | None = None
    physical: float | None = None


@dataclass(frozen=True, slots=True)
class Allocation:
    """Result of `allocate`: each product's share and emissions per declared unit, and the rule."""

    rule: AllocationRule
    description: str
    shares: dict[str, float]
    direct: dict[str, DirectEmissions]


def allocate(
    facility: EmissionProfile,
    outputs: Sequence[CoProductOutput],
    rule: AllocationRule,
    *,
    basis: str | None = None,
    quality: DataQuality | None = None,
    primary: bool = True,
) -> Allocation:
    """Split a facility's emissions for a period among its co-products.

    ``facility`` holds the total emissions of the period (kg CO2e). With weights w_i (mass in kg,
    the physical quantity, or revenue of co-product i) and quantities q_i in declared units
    (ISO 14067:2018 §6.4.6.2–6.4.6.3):

        share_i = w_i / Σ_k w_k
        emissions per declared unit of i = E · share_i / q_i

    ``basis`` names the physical quantity for `AllocationRule.PHYSICAL` (it goes into the recorded
    description, e.g. "energy content (MJ, lower heating value)").
    """
    if not outputs:
        raise InputError("no co-products to allocate to", hint="list what the facility made")
    attribute = {
        AllocationRule.MASS: "mass",
        AllocationRule.PHYSICAL: "physical",
        AllocationRule.ECONOMIC: "revenue",
    }[rule]
    if rule is AllocationRule.PHYSICAL and not basis:
        raise InputError(
            "physical allocation needs the name of its basis",
            hint='pass basis="energy content (MJ)" or similar',
        )
    keys = [output.product for output in outputs]
    if len(set(keys)) != len(keys):
        raise InputError("a co-product is listed twice", record=", ".join(keys))
    raw = [getattr(output, attribute) for output in outputs]
    missing = [key for key, value in zip(keys, raw, strict=True) if value is None]
    if missing:
        raise InputError(
            f"{attribute} is missing for {', '.join(missing)}",
            hint=f"{rule} allocation needs the {attribute} of every co-product",
        )
    weights = np.array(raw, dtype=np.float64)
    quantities = np.array([output.quantity for output in outputs], dtype=np.float64)
    if (weights < 0).any() or not weights.sum() > 0:
        raise InputError(
            f"{attribute} values must be ≥ 0 and not all 0", hint="check the period's output data"
        )
    if (quantities <= 0).any():
        raise InputError("every co-product needs a quantity > 0", record=", ".join(keys))
    shares = weights / weights.sum()
    per_unit = np.outer(shares / quantities, facility.as_array())
    description = _describe(rule, basis, keys, shares)
    return Allocation(
        rule=rule,
        description=description,
        shares=dict(zip(keys, (float(s) for s in shares), strict=True)),
        direct={
            key: DirectEmissions(
                profile=EmissionProfile.from_array(row),
                primary=primary,
                quality=quality,
                rule=description,
            )
            for key, row in zip(keys, per_unit, strict=True)
        },
    )


def _describe(
    rule: AllocationRule, basis: str | None, keys: Sequence[str], shares: np.ndarray
) -> str:
    what = {
        AllocationRule.MASS: "mass allocation (physical relationship: mass of co-products)",
        AllocationRule.PHYSICAL: f"physical allocation by {basis}",
        AllocationRule.ECONOMIC: "economic allocation (revenue of co-products)",
    }[rule]
    split = ", ".join(f"{key} {share:.2%}" for key, share in zip(keys, shares, strict=True))
    return f"ISO 14067:2018 §6.4.6 / GB/T 24067-2024 {what}; shares: {split}"
