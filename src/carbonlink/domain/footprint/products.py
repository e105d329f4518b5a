"""Products: what a footprint is declared for (declared unit, mass, identifiers, classification)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import StrEnum

from carbonlink.domain.footprint.identifiers import require_urn
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import InputError, UnitError


class DeclaredUnit(StrEnum):
    """Units a footprint may be declared in (PACT v3 ``declaredUnitOfMeasurement``)."""

    LITER = "liter"
    KILOGRAM = "kilogram"
    CUBIC_METER = "cubic meter"
    KILOWATT_HOUR = "kilowatt hour"
    MEGAJOULE = "megajoule"
    TON_KILOMETER = "ton kilometer"
    SQUARE_METER = "square meter"
    PIECE = "piece"
    HOUR = "hour"
    MEGABIT_SECOND = "megabit second"

    @property
    def pint_unit(self) -> str | None:
        """The unit in carbonlink's registry; None for pieces and megabit seconds."""
        return _PINT_UNITS.get(self)

    @property
    def mass_is_relevant(self) -> bool:
        """Whether PACT expects a mass per declared unit (0 for energy, transport and services)."""
        return self not in (
            DeclaredUnit.KILOWATT_HOUR,
            DeclaredUnit.MEGAJOULE,
            DeclaredUnit.TON_KILOMETER,
            DeclaredUnit.HOUR,
            DeclaredUnit.MEGABIT_SECOND,
        )


_PINT_UNITS = {
    DeclaredUnit.LITER: "L",
    DeclaredUnit.KILOGRAM: "kg",
    DeclaredUnit.CUBIC_METER: "m3",
    DeclaredUnit.KILOWATT_HOUR: "kWh",
    DeclaredUnit.MEGAJOULE: "MJ",
    DeclaredUnit.TON_KILOMETER: "t*km",
    DeclaredUnit.SQUARE_METER: "m**2",
    DeclaredUnit.HOUR: "h",
}


@dataclass(frozen=True, slots=True)
class Product:
    """A product of the enterprise: the unit its footprint is declared for and how it is known.

    ``declared_unit_amount`` of ``declared_unit`` make one declared unit (PACT: "12.5 liter");
    ``mass_per_declared_unit`` is in kg per declared unit, 0 where mass is irrelevant.
    ``identifiers`` and ``classifications`` are URNs (see `identifiers`).
    """

    key: str
    name: str
    declared_unit: DeclaredUnit
    mass_per_declared_unit: float
    declared_unit_amount: float = 1.0
    identifiers: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    description: str = ""
    fossil_carbon_content: float = 0.0
    biogenic_carbon_content: float | None = None
    tags: dict[str, str] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        if not self.key:
            raise InputError("a product needs a key", hint="give each product a unique key")
        if not (math.isfinite(self.declared_unit_amount) and self.declared_unit_amount > 0):
            raise InputError(
                f"declared unit amount {self.declared_unit_amount} must be > 0",
                record=self.key,
                hint="a footprint for 12.5 liter has declared_unit_amount=12.5",
            )
        if not (math.isfinite(self.mass_per_declared_unit) and self.mass_per_declared_unit >= 0):
            raise InputError(
                f"mass per declared unit {self.mass_per_declared_unit} must be ≥ 0",
                record=self.key,
                hint="give 0 for energy, transport and service products",
            )
        for urn in (*self.identifiers, *self.classifications):
            require_urn(urn, record=self.key)

    def declared_units(self, value: float, unit: str) -> float:
        """How many declared units ``value`` ``unit`` are, e.g. 250 kg of a 1 t product → 0.25.

        For pieces the unit must be ``piece``; kilograms of a product declared per piece are
        converted through ``mass_per_declared_unit``.
        """
        target = self.declared_unit.pint_unit
        if unit in ("piece", "pieces", "pc", "pcs"):
            if self.declared_unit is not DeclaredUnit.PIECE:
                raise UnitError(
                    f"{self.key} is declared per {self.declared_unit}, not per piece",
                    record=self.key,
                )
            return value / self.declared_unit_amount
        if target is not None:
            try:
                return (
                    value
                    * conversion_factor(unit, target, record=self.key)
                    / (self.declared_unit_amount)
                )
            except UnitError:
                if self.mass_per_declared_unit <= 0:
                    raise
        if self.mass_per_declared_unit > 0:
            kilograms = value * conversion_factor(unit, "kg", record=self.key)
            return kilograms / self.mass_per_declared_unit
        raise UnitError(
            f"{value} {unit} cannot be expressed in declared units of {self.key} "
            f"({self.declared_unit_amount} {self.declared_unit})",
            record=self.key,
            hint="give the quantity in the product's declared unit",
        )
