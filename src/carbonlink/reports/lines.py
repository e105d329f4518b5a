"""Result lines of a computation joined with their inventory source, summed over periods.

Report builders read these instead of ``Computation.lines()`` because they need the objects
behind the JSON (the `LinePlan` with its `ParameterUse`s, the inventory `Source`) and totals
over the whole reporting period.
"""

from __future__ import annotations

from dataclasses import dataclass

from carbonlink.domain.engine import Computation
from carbonlink.domain.inventory import Facility, Inventory, Source
from carbonlink.domain.methods import LinePlan


@dataclass(frozen=True, slots=True)
class ReportLine:
    """One result line over the whole period: what was emitted, from what, computed how."""

    facility: Facility
    source: Source
    stream: str
    method: str
    plan: LinePlan
    activity: float
    """The source's whole activity over the period."""
    unit: str
    mass_t: float
    tco2e: float
    gwp: float
    quantity: float = 0.0
    """The part of the activity this line's coefficient multiplies (an instrument's MWh, the
    uncovered rest for the residual mix; the whole activity for other lines)."""

    @property
    def scope(self) -> str:
        """The engine's scope key: ``1``, ``2_location``, ``2_market``, ``3``, ``biogenic``…"""
        return self.plan.scope

    @property
    def gas(self) -> str:
        """The gas of the line (CO2, CH4, N2O, HFC-134a…)."""
        return self.plan.gas

    @property
    def measured(self) -> bool | None:
        """True when every parameter is measured, False when none is, None when mixed."""
        flags = [use.measured for use in self.plan.parameters] or [
            self.plan.factor.tier.label in ("measured", "supplier_specific")
        ]
        if all(flags):
            return True
        return False if not any(flags) else None


def report_lines(inventory: Inventory, result: Computation) -> list[ReportLine]:
    """Every line of ``result`` with its source, activity and emissions summed over periods."""
    plan = result.plan
    facilities = {f.id: f for f in inventory.facilities}
    activity = result.activity.sum(axis=1)
    mass = result.mass.sum(axis=1)
    co2e = result.co2e.sum(axis=1)
    quantity = result.line_quantity().sum(axis=1)
    out = []
    for index, line in enumerate(plan.lines):
        channel = plan.channels[line.channel]
        facility = facilities[channel.facility]
        source = next(s for s in facility.sources if s.id == channel.source)
        out.append(
            ReportLine(
                facility=facility,
                source=source,
                stream=channel.stream,
                method=channel.method,
                plan=line.plan,
                activity=float(activity[line.channel]),
                unit=channel.unit,
                mass_t=float(mass[index]),
                tco2e=float(co2e[index]),
                gwp=line.gwp,
                quantity=float(quantity[index]),
            )
        )
    return out
