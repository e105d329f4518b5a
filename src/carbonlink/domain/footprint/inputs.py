"""What goes into a product: emission profiles, supplier PCFs, secondary factors, BOM lines."""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from carbonlink.errors import InputError


@dataclass(frozen=True, slots=True)
class EmissionProfile:
    """Greenhouse-gas emissions of one declared unit, split the way PACT v3 reports them.

    All values in kg CO2e per declared unit. Removals and uptake are ≤ 0. PACT v3 (CarbonFootprint,
    ``pcfExcludingBiogenicUptake``):

        PCF excl. uptake = fossil + land-use change + land-management biogenic CO2 emissions
                           + land-management biogenic CO2 removals + technological CO2 removals
                           + CCS capture + biogenic non-CO2 emissions
        PCF incl. uptake = PCF excl. uptake + biogenic CO2 uptake
    """

    fossil: float = 0.0
    land_use_change: float = 0.0
    land_management_biogenic_co2_emissions: float = 0.0
    land_management_biogenic_co2_removals: float = 0.0
    biogenic_non_co2: float = 0.0
    technological_co2_removals: float = 0.0
    ccs_technological_co2_capture: float = 0.0
    biogenic_co2_uptake: float = 0.0

    COMPONENTS: ClassVar[tuple[str, ...]] = (
        "fossil",
        "land_use_change",
        "land_management_biogenic_co2_emissions",
        "land_management_biogenic_co2_removals",
        "biogenic_non_co2",
        "technological_co2_removals",
        "ccs_technological_co2_capture",
        "biogenic_co2_uptake",
    )
    _NON_POSITIVE: ClassVar[frozenset[str]] = frozenset(
        {
            "land_management_biogenic_co2_removals",
            "technological_co2_removals",
            "ccs_technological_co2_capture",
            "biogenic_co2_uptake",
        }
    )

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not math.isfinite(value):
                raise InputError(f"{item.name} is {value}", hint="give a finite number")
            if item.name in self._NON_POSITIVE and value > 0:
                raise InputError(
                    f"{item.name} is {value}, but removals and uptake are negative",
                    hint="write removals as negative numbers",
                )
            if item.name not in self._NON_POSITIVE and value < 0:
                raise InputError(
                    f"{item.name} is {value}, but emissions are ≥ 0",
                    hint="removals belong in the *_removals or uptake fields",
                )

    @property
    def pcf_excluding_biogenic_uptake(self) -> float:
        """PCF excluding biogenic CO2 uptake (formula in the class docstring)."""
        return float(self.as_array()[:-1].sum())

    @property
    def pcf_including_biogenic_uptake(self) -> float:
        """PCF including biogenic CO2 uptake."""
        return float(self.as_array().sum())

    def as_array(self) -> npt.NDArray[np.float64]:
        """The components in `COMPONENTS` order."""
        return np.array([getattr(self, name) for name in self.COMPONENTS], dtype=np.float64)

    @classmethod
    def from_array(cls, values: npt.ArrayLike) -> EmissionProfile:
        """A profile from values in `COMPONENTS` order (tiny rounding residues clipped to 0)."""
        array = np.asarray(values, dtype=np.float64)
        signs = np.array([-1.0 if n in cls._NON_POSITIVE else 1.0 for n in cls.COMPONENTS])
        scale = max(1.0, float(np.abs(array).max(initial=0.0)))
        wrong_sign = (array * signs < 0) & (np.abs(array) <= 1e-12 * scale)
        array = np.where(wrong_sign, 0.0, array)
        return cls(*(float(v) for v in array))

    def scaled(self, factor: float) -> EmissionProfile:
        """This profile times a non-negative ``factor`` (e.g. per declared unit → per kg)."""
        return EmissionProfile.from_array(self.as_array() * factor)


@dataclass(frozen=True, slots=True)
class DataQuality:
    """PACT data-quality ratings (1 = best, 5 = worst) of one piece of data.

    PACT Methodology v3 §4.2.3: technological, geographical and temporal representativeness.
    """

    technological: float
    geographical: float
    temporal: float

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if not 1.0 <= value <= 5.0:
                raise InputError(
                    f"{item.name} data-quality rating {value} is outside 1…5",
                    hint="rate 1 (very good) to 5 (very poor)",
                )

    def as_array(self) -> npt.NDArray[np.float64]:
        """(technological, geographical, temporal)."""
        return np.array([self.technological, self.geographical, self.temporal])


@dataclass(frozen=True, slots=True)
class SupplierFootprint:
    """A purchased product's footprint as its supplier reported it (e.g. a PACT ProductFootprint).

    ``profile`` is per declared unit of ``declared_unit_amount`` ``declared_unit``;
    ``primary_data_share`` is in percent of the supplier's PCF excluding biogenic uptake.
    """

    reference: str
    supplier: str
    declared_unit: str
    profile: EmissionProfile
    declared_unit_amount: float = 1.0
    primary_data_share: float = 0.0
    quality: DataQuality | None = None

    def __post_init__(self) -> None:
        if not self.declared_unit_amount > 0:
            raise InputError(
                f"declared unit amount {self.declared_unit_amount} must be > 0",
                record=self.reference,
            )
        if not 0.0 <= self.primary_data_share <= 100.0:
            raise InputError(
                f"primary data share {self.primary_data_share} % is outside 0…100",
                record=self.reference,
            )

    @property
    def per_unit(self) -> EmissionProfile:
        """Profile per one ``declared_unit`` (not per declared-unit amount)."""
        return self.profile.scaled(1.0 / self.declared_unit_amount)


@dataclass(frozen=True, slots=True)
class SecondaryFactor:
    """A secondary-data emission factor (database value) per one ``unit`` of an input."""

    name: str
    unit: str
    profile: EmissionProfile
    source: str
    version: str
    quality: DataQuality | None = None


@dataclass(frozen=True, slots=True)
class OwnInput:
    """``quantity`` declared units of another product of the same product system."""

    product: str
    quantity: float


@dataclass(frozen=True, slots=True)
class PurchasedInput:
    """``quantity`` (in the supplier's declared unit) of a purchased product with a supplier PCF."""

    footprint: SupplierFootprint
    quantity: float


@dataclass(frozen=True, slots=True)
class SecondaryInput:
    """``quantity`` (in the factor's unit) of an input valued with a secondary-data factor."""

    factor: SecondaryFactor
    quantity: float


BomInput = OwnInput | PurchasedInput | SecondaryInput


@dataclass(frozen=True, slots=True)
class DirectEmissions:
    """A product's own (gate-to-gate) emissions per declared unit, e.g. from `allocate`.

    ``primary`` marks measured site data (it counts towards the primary data share).
    """

    profile: EmissionProfile
    primary: bool = True
    quality: DataQuality | None = None
    rule: str = ""


@dataclass(frozen=True, slots=True)
class BillOfMaterials:
    """The inputs per declared unit of ``product``."""

    product: str
    inputs: tuple[BomInput, ...]

    def __post_init__(self) -> None:
        for line in self.inputs:
            if not (math.isfinite(line.quantity) and line.quantity >= 0):
                raise InputError(
                    f"input quantity {line.quantity} must be ≥ 0",
                    record=self.product,
                    hint="co-products are allocated (see allocate), not entered as negative inputs",
                )
