"""Calculation methods: each turns one inventory source into line plans.

A line plan is linear in the source's activity: ``mass = coefficient × (linear × A + fixed)``,
with ``A`` the activity of its channel (a source, or one stream of a mass balance) in that
channel's unit and ``fixed`` a quantity independent of the records (an instrument's cover in
market-based Scope 2). The engine evaluates every plan on arrays at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import pint

from carbonlink.domain.factors import (
    Factor,
    FactorLibrary,
    FactorRequest,
    Resolution,
    Tier,
    measured_factor,
)
from carbonlink.domain.gwp import GwpSet
from carbonlink.domain.inventory import Source, Value
from carbonlink.domain.units import parse_quantity, registry, to_unit
from carbonlink.errors import InputError, UnitError, UnknownFactorError

CO2_PER_C = 44.0 / 12.0
"""Mass ratio of CO2 to carbon used by IPCC 2006 (Vol. 2, Eq. 2.1 note) and China's guidelines."""

SCOPE_1 = "1"
SCOPE_2_LOCATION = "2_location"
SCOPE_2_MARKET = "2_market"
SCOPE_3 = "3"
BIOGENIC = "biogenic"
EXPORTED = "exported"


@dataclass(frozen=True, slots=True)
class ParameterUse:
    """A parameter a line used: its value, the factor it came from and why that one won."""

    name: str
    value: float
    unit: str
    factor: Factor
    reason: str

    @property
    def measured(self) -> bool:
        """True when the value was measured or supplied for the source, not a default."""
        return self.factor.tier >= Tier.SUPPLIER_SPECIFIC

    @classmethod
    def of(cls, name: str, resolution: Resolution) -> ParameterUse:
        """The use of a resolved factor as parameter ``name``."""
        f = resolution.factor
        return cls(name, f.value, f.unit, f, resolution.reason)


@dataclass(frozen=True, slots=True)
class LinePlan:
    """One result line of a source before activity is known."""

    gas: str
    scope: str
    coefficient: float
    factor: Factor
    reason: str
    formula: str
    parameters: tuple[ParameterUse, ...] = ()
    stream: str = ""
    fossil: bool = True
    category: str = ""
    linear: float = 1.0
    fixed_activity: float = 0.0


@dataclass(frozen=True, slots=True)
class ChannelPlan:
    """An activity input of a source (the source itself, or one mass-balance stream)."""

    stream: str
    unit: str
    quantity: float | None
    activity_id: str


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """Everything a method decided for one source."""

    channels: tuple[ChannelPlan, ...]
    lines: tuple[LinePlan, ...]
    notes: tuple[str, ...] = ()


@dataclass
class MethodContext:
    """What a method may look at: the source, where and when it is, the library and GWP set."""

    source: Source
    facility: str
    library: FactorLibrary
    gwp: GwpSet
    year: int
    jurisdiction: str
    region: str
    vintage: int | None
    period_label: str
    combustion_gases: tuple[str, ...] = ("CO2", "CH4", "N2O")
    notes: list[str] = field(default_factory=list)

    def activity_id(self, stream: str = "") -> str:
        """Lineage id of an activity: the given one, else facility/source[/stream]@period."""
        given = self.source.activity.id if self.source.activity and not stream else None
        suffix = f"/{stream}" if stream else ""
        return given or f"{self.facility}/{self.source.id}{suffix}@{self.period_label}"

    def measured(
        self, value: Value, *, subject: str, parameter: str, gas: str = "", basis: str = ""
    ) -> Factor:
        """A factor row for a value given in the inventory for this source."""
        return measured_factor(
            source_id=f"{self.facility}/{self.source.id}",
            subject=subject,
            parameter=parameter,
            value=value.value,
            unit=value.unit,
            year=self.year,
            gas=gas,
            basis=value.basis or basis,
            tier=Tier.parse(value.tier),
            document=value.document,
        )

    def resolve(
        self,
        subject: str,
        parameter: str,
        *,
        gas: str = "",
        basis: str | None = None,
        given: Value | None = None,
        pin_key: str | None = None,
    ) -> Resolution:
        """The factor for ``parameter``: a value given for the source, a pin, or the library's."""
        key = pin_key or (parameter if not gas or gas == "C" else f"{parameter}:{gas}")
        request = FactorRequest(
            subject=subject,
            parameter=parameter,
            year=self.year,
            gas=gas,
            jurisdiction=self.jurisdiction,
            region=self.region,
            basis=basis,
            pin=self.source.factors.get(key),
            vintage=self.source.vintage if self.source.vintage is not None else self.vintage,
        )
        if given is not None:
            factor = self.measured(
                given, subject=subject, parameter=parameter, gas=gas, basis=basis or ""
            )
            try:
                default = self.library.resolve(request)
                beaten = f"; wins over default {default.factor.id}@{default.factor.version}"
            except UnknownFactorError:
                beaten = ""
            return Resolution(factor, f"{factor.tier.label.replace('_', ' ')} value{beaten}")
        try:
            return self.library.resolve(request)
        except UnknownFactorError as exc:
            exc.record = exc.record or f"facility {self.facility}, source {self.source.id}"
            raise

    def per_unit_of(self, factor: Factor, target: str, unit: str, what: str) -> float:
        """``factor × 1 unit`` in ``target``: the factor per unit of this source's activity."""
        try:
            return factor.value * _scale(factor.unit, unit, target)
        except UnitError:
            return self.per_unit(factor.quantity, target, unit, what)

    def per_unit(self, quantity: pint.Quantity, target: str, unit: str, what: str) -> float:
        """``quantity × 1 unit`` expressed in ``target`` (e.g. GJ per Nm3 of activity)."""
        where = f"facility {self.facility}, source {self.source.id}"
        activity = parse_quantity(1.0, unit, record=where)
        try:
            return to_unit(quantity * activity, target)
        except UnitError as exc:
            expected = (registry().Quantity(1.0, target) / quantity).to_reduced_units()
            raise UnitError(
                f"activity unit {unit!r} does not fit {what} in {quantity.units:~P}",
                record=f"facility {self.facility}, source {self.source.id}",
                hint=f"give the activity in a unit of dimension {expected.dimensionality}",
            ) from exc


@lru_cache(maxsize=4096)
def _scale(factor_unit: str, activity_unit: str, target: str) -> float:
    """Multiplier taking (1 factor_unit × 1 activity_unit) to ``target``; cached, pint is slow."""
    return to_unit(parse_quantity(1.0, factor_unit) * parse_quantity(1.0, activity_unit), target)


@lru_cache(maxsize=1024)
def has_dimension(unit: str, dimension: str) -> bool:
    """Whether ``unit`` has the pint ``dimension`` (e.g. ``[mass]/[energy]``); cached."""
    return bool(parse_quantity(1.0, unit).check(dimension))


PlanFunction = Callable[[MethodContext], SourcePlan]


def method_registry() -> dict[str, PlanFunction]:
    """Method name → planning function (imported lazily so each method stays its own module)."""
    from carbonlink.domain.methods import (
        combustion,
        electricity,
        fugitive,
        generic,
        heat,
        mass_balance,
        process,
    )

    return {
        "combustion": combustion.plan,
        "carbonate": process.plan_carbonate,
        "process": process.plan_process,
        "carbon_fixed": process.plan_carbon_fixed,
        "mass_balance": mass_balance.plan,
        "electricity": electricity.plan,
        "heat": heat.plan,
        "fugitive": fugitive.plan,
        "generic": generic.plan,
    }


def single_channel(ctx: MethodContext) -> tuple[ChannelPlan, ...]:
    """The one activity channel of a source with an ``activity``."""
    activity = ctx.source.activity
    assert activity is not None  # the inventory validator guarantees it
    if activity.quantity is None:
        raise InputError(
            f"the activity comes from meter {activity.meter!r}, whose readings are not at hand",
            record=f"facility {ctx.facility}, source {ctx.source.id}",
            hint="account the file against the workspace that stores the meter's readings "
            "(carbonlink account FILE, with CARBONLINK_WORKSPACE set or --workspace)",
        )
    return (ChannelPlan("", activity.unit, activity.quantity, ctx.activity_id()),)
