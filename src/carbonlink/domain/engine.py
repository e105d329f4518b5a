"""The accounting engine: compile an inventory into arrays once, then evaluate activity on them.

`compile_inventory` resolves every factor and parameter per source (small, in Python) into an
`AccountingPlan`: one row per activity channel and one per result line. `compute` takes activity
records as arrays (channel index, period index, quantity) and does the rest with numpy:

    A[c, p]   = Σ quantity of records of channel c in period p        (np.bincount)
    w[c, p]   = A[c, p] / Σ_p A[c, p]                                 (share of the period)
    m[l, p]   = k_l × (linear_l × A[c_l, p] + fixed_l × w[c_l, p])    (t of gas)
    e[l, p]   = m[l, p] × GWP_l                                       (t CO2e)

The floor this is measured against is one multiply-and-sum over the same records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from carbonlink.domain.factors import FactorLibrary, default_library
from carbonlink.domain.gwp import GwpSet, gwp_set
from carbonlink.domain.inventory import Inventory, Period
from carbonlink.domain.methods import (
    BIOGENIC,
    EXPORTED,
    SCOPE_1,
    SCOPE_2_LOCATION,
    SCOPE_2_MARKET,
    SCOPE_3,
    LinePlan,
    MethodContext,
    method_registry,
)
from carbonlink.domain.units import conversion_factor
from carbonlink.errors import CarbonlinkError, InputError

__all__ = [
    "AccountingPlan",
    "ActivityBatch",
    "Channel",
    "Computation",
    "PlannedLine",
    "account",
    "compile_inventory",
    "compute",
]

TOTAL_KEYS = {
    SCOPE_1: "scope1",
    SCOPE_2_LOCATION: "scope2_location",
    SCOPE_2_MARKET: "scope2_market",
    SCOPE_3: "scope3",
    BIOGENIC: "biogenic_co2",
    EXPORTED: "exported",
}


@dataclass(frozen=True, slots=True)
class Channel:
    """An activity input: a source (or a mass-balance stream) with the unit its records use."""

    facility: str
    source: str
    stream: str
    unit: str
    activity_id: str
    method: str


@dataclass(frozen=True, slots=True)
class PlannedLine:
    """A line plan bound to its channel."""

    channel: int
    plan: LinePlan
    gwp: float
    gwp_key: str


@dataclass(frozen=True)
class AccountingPlan:
    """Resolved factors of an inventory as arrays; reusable for any number of activity batches."""

    organization: str
    period: Period
    gwp: GwpSet
    channels: tuple[Channel, ...]
    lines: tuple[PlannedLine, ...]
    notes: dict[tuple[str, str], tuple[str, ...]]
    default_quantities: tuple[float | None, ...]
    file: str | None = None
    line_channel: npt.NDArray[np.intp] = field(
        repr=False, default_factory=lambda: np.zeros(0, np.intp)
    )
    line_coefficient: npt.NDArray[np.float64] = field(
        repr=False, default_factory=lambda: np.zeros(0)
    )
    line_linear: npt.NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros(0))
    line_fixed: npt.NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros(0))
    line_gwp: npt.NDArray[np.float64] = field(repr=False, default_factory=lambda: np.zeros(0))

    def channel_index(self, facility: str, source: str, stream: str = "") -> int:
        """Index of a channel, for feeding activity records programmatically."""
        for index, channel in enumerate(self.channels):
            if (channel.facility, channel.source, channel.stream) == (facility, source, stream):
                return index
        raise InputError(
            f"no activity channel {facility}/{source}{'/' + stream if stream else ''}",
            file=self.file,
            hint="use a facility and source id of the inventory (streams: mass-balance ids)",
        )

    def inventory_batch(self) -> ActivityBatch:
        """The activity written in the inventory file itself, as one record per channel."""
        present = [i for i, q in enumerate(self.default_quantities) if q is not None]
        return ActivityBatch(
            channel=np.asarray(present, dtype=np.intp),
            period=np.zeros(len(present), dtype=np.intp),
            quantity=np.asarray([self.default_quantities[i] for i in present], dtype=np.float64),
        )


@dataclass(frozen=True)
class ActivityBatch:
    """Activity records as arrays: channel index, period index, quantity in the channel's unit."""

    channel: npt.NDArray[np.intp]
    period: npt.NDArray[np.intp]
    quantity: npt.NDArray[np.float64]

    @classmethod
    def from_records(
        cls,
        plan: AccountingPlan,
        records: Sequence[tuple[str, str, str, int, float, str]],
    ) -> ActivityBatch:
        """Records ``(facility, source, stream, period, quantity, unit)`` in channel units."""
        channel = np.empty(len(records), dtype=np.intp)
        period = np.empty(len(records), dtype=np.intp)
        quantity = np.empty(len(records), dtype=np.float64)
        index: dict[tuple[str, str, str], int] = {}
        scale: dict[tuple[str, str], float] = {}
        for i, (facility, source, stream, p, q, unit) in enumerate(records):
            key = (facility, source, stream)
            if key not in index:
                index[key] = plan.channel_index(facility, source, stream)
            c = index[key]
            target = plan.channels[c].unit
            if (unit, target) not in scale:
                scale[(unit, target)] = conversion_factor(
                    unit, target, record=f"facility {facility}, source {source}"
                )
            channel[i], period[i], quantity[i] = c, p, q * scale[(unit, target)]
        return cls(channel, period, quantity)


@dataclass(frozen=True)
class Computation:
    """Activity totals and line results, arrays indexed [channel or line, period]."""

    plan: AccountingPlan
    periods: tuple[Period, ...]
    activity: npt.NDArray[np.float64]
    mass: npt.NDArray[np.float64]
    co2e: npt.NDArray[np.float64]

    def totals(self) -> dict[str, float]:
        """t CO2e per scope key (scope1, scope2_location, …), biogenic CO2 and exports."""
        totals = dict.fromkeys(TOTAL_KEYS.values(), 0.0)
        per_line = self.co2e.sum(axis=1)
        for line, value in zip(self.plan.lines, per_line, strict=True):
            totals[TOTAL_KEYS[line.plan.scope]] += float(value)
        return {key: round(value, 6) for key, value in totals.items()}

    def summary(self, *keys: str) -> dict[tuple[str, ...], float]:
        """t CO2e summed over lines grouped by ``keys`` (facility, source, scope, gas, period)."""
        allowed = {"facility", "source", "scope", "gas", "period", "category"}
        unknown = set(keys) - allowed
        if unknown:
            raise ValueError(f"cannot group by {sorted(unknown)}; use {sorted(allowed)}")
        out: dict[tuple[str, ...], float] = {}
        for line in self.lines():
            key = tuple(str(line[k]) for k in keys)
            out[key] = out.get(key, 0.0) + line["tco2e"]
        return out

    def line_quantities(self) -> npt.NDArray[np.float64]:
        """The activity each line prices, [line, period]: ``linear × A + fixed × w``.

        The channel's activity for most lines; an instrument's cover for a market-based
        instrument line and the uncovered rest for the residual-mix line.
        """
        plan = self.plan
        n_periods = self.activity.shape[1] if self.activity.ndim == 2 else 1
        total = self.activity.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total[:, None] > 0, self.activity / total[:, None], 1.0 / n_periods)
        lc = plan.line_channel
        return np.asarray(
            plan.line_linear[:, None] * self.activity[lc] + plan.line_fixed[:, None] * share[lc],
            dtype=np.float64,
        )

    def lines(self) -> list[dict[str, Any]]:
        """One dict per line and period with the lineage (the JSON ``lines``)."""
        out = []
        plan = self.plan
        priced = self.line_quantities()
        for l_index, line in enumerate(plan.lines):
            channel = plan.channels[line.channel]
            lp = line.plan
            f = lp.factor
            for p_index, period in enumerate(self.periods):
                out.append(
                    {
                        "facility": channel.facility,
                        "source": channel.source,
                        "stream": lp.stream or None,
                        "period": period.label,
                        "scope": lp.scope,
                        "category": lp.category or None,
                        "gas": lp.gas,
                        "mass_t": float(self.mass[l_index, p_index]),
                        "gwp": line.gwp,
                        "tco2e": float(self.co2e[l_index, p_index]),
                        "method": channel.method,
                        "formula": lp.formula,
                        "gwp_set": plan.gwp.name,
                        "gwp_key": line.gwp_key,
                        "activity": {
                            "id": channel.activity_id,
                            "quantity": float(self.activity[line.channel, p_index]),
                            "unit": channel.unit,
                            "priced": float(priced[l_index, p_index]),
                        },
                        "coefficient": lp.coefficient,
                        "coefficient_unit": f"t {lp.gas}/{channel.unit}",
                        "factor": {
                            "id": f.id,
                            "version": f.version,
                            "value": f.value,
                            "unit": f.unit,
                            "tier": f.tier.label,
                            "source": f.citation,
                            "year": f.year,
                            "licence": f.licence,
                            "check": f.check,
                            "reason": lp.reason,
                        },
                        "parameters": {
                            use.name: {
                                "value": use.value,
                                "unit": use.unit,
                                "factor_id": use.factor.id,
                                "version": use.factor.version,
                                "tier": use.factor.tier.label,
                                "measured": use.measured,
                                "source": use.factor.citation,
                                "reason": use.reason,
                            }
                            for use in lp.parameters
                        },
                    }
                )
        return out

    def to_dict(self) -> dict[str, Any]:
        """The document `carbonlink account --format json` prints."""
        plan = self.plan
        return {
            "organization": plan.organization,
            "period": {"start": plan.period.start.isoformat(), "end": plan.period.end.isoformat()},
            "gwp": plan.gwp.name,
            "unit": "t CO2e",
            "totals": self.totals(),
            "lines": self.lines(),
            "notes": [
                {"facility": f, "source": s, "note": n}
                for (f, s), notes in plan.notes.items()
                for n in notes
            ],
        }


def compile_inventory(
    inventory: Inventory,
    *,
    library: FactorLibrary | None = None,
    file: str | None = None,
) -> AccountingPlan:
    """Resolve every source's factors into an `AccountingPlan`; errors name the file and source."""
    library = library or default_library()
    gwp = gwp_set(inventory.gwp)
    methods = method_registry()
    channels: list[Channel] = []
    quantities: list[float | None] = []
    lines: list[PlannedLine] = []
    notes: dict[tuple[str, str], tuple[str, ...]] = {}
    instrument_ids: dict[str, str] = {}
    for facility in inventory.facilities:
        for source in facility.sources:
            where = f"facility {facility.id}, source {source.id}"
            for instrument in source.instruments:
                if instrument.id and instrument.id in instrument_ids:
                    raise InputError(
                        f"instrument {instrument.id} is already claimed by "
                        f"{instrument_ids[instrument.id]}",
                        file=file,
                        record=where,
                        hint="an instrument may be counted once; remove the duplicate",
                    )
                if instrument.id:
                    instrument_ids[instrument.id] = where
            ctx = MethodContext(
                source=source,
                facility=facility.id,
                library=library,
                gwp=gwp,
                year=inventory.period.year,
                jurisdiction=facility.jurisdiction or inventory.jurisdiction,
                region=facility.grid,
                vintage=inventory.vintage,
                period_label=inventory.period.label,
                combustion_gases=source.combustion_gases or inventory.combustion_gases,
            )
            try:
                source_plan = methods[source.method](ctx)
            except CarbonlinkError as exc:
                exc.file = exc.file or file
                exc.record = where if not exc.record or "source" not in exc.record else exc.record
                raise
            first = len(channels)
            for channel in source_plan.channels:
                channels.append(
                    Channel(
                        facility.id,
                        source.id,
                        channel.stream,
                        channel.unit,
                        channel.activity_id,
                        source.method,
                    )
                )
                quantities.append(channel.quantity)
            streams = {c.stream: first + i for i, c in enumerate(source_plan.channels)}
            for line in source_plan.lines:
                lines.append(
                    PlannedLine(
                        streams[line.stream],
                        line,
                        gwp.gwp(line.gas, fossil=line.fossil),
                        gwp.key(line.gas, fossil=line.fossil),
                    )
                )
            if ctx.notes:
                notes[(facility.id, source.id)] = tuple(ctx.notes)
    return AccountingPlan(
        organization=inventory.organization,
        period=inventory.period,
        gwp=gwp,
        channels=tuple(channels),
        lines=tuple(lines),
        notes=notes,
        default_quantities=tuple(quantities),
        file=file,
        line_channel=np.fromiter((x.channel for x in lines), np.intp, len(lines)),
        line_coefficient=np.fromiter((x.plan.coefficient for x in lines), np.float64, len(lines)),
        line_linear=np.fromiter((x.plan.linear for x in lines), np.float64, len(lines)),
        line_fixed=np.fromiter((x.plan.fixed_activity for x in lines), np.float64, len(lines)),
        line_gwp=np.fromiter((x.gwp for x in lines), np.float64, len(lines)),
    )


def compute(
    plan: AccountingPlan, batch: ActivityBatch, periods: Sequence[Period] | None = None
) -> Computation:
    """Evaluate activity records on a plan (vectorised; see the module docstring)."""
    periods = tuple(periods) if periods else (plan.period,)
    n_channels, n_periods = len(plan.channels), len(periods)
    quantity = np.asarray(batch.quantity, dtype=np.float64)
    # one pass for the sign (NaN fails it too); infinities show up in the small totals below
    if quantity.size and not quantity.min() >= 0:
        _refuse_quantity(plan, batch, quantity)
    period = batch.period
    # a period index out of range would silently land in the next channel's cell
    if len(period) and (period.min() < 0 or period.max() >= n_periods):
        raise _index_error(plan, "period", n_periods)
    key = np.multiply(batch.channel, n_periods, dtype=np.intp)
    key += period
    try:
        sums = np.bincount(key, weights=quantity, minlength=n_channels * n_periods)
    except ValueError as exc:  # a negative channel index
        raise _index_error(plan, "channel", n_channels) from exc
    if len(sums) > n_channels * n_periods:
        raise _index_error(plan, "channel", n_channels)
    activity = np.asarray(sums, dtype=np.float64).reshape(n_channels, n_periods)
    if not np.isfinite(activity).all():
        _refuse_quantity(plan, batch, quantity)
    channel_total = activity.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(
            channel_total[:, None] > 0, activity / channel_total[:, None], 1.0 / n_periods
        )
    _check_cover(plan, channel_total)
    lc = plan.line_channel
    mass = plan.line_coefficient[:, None] * (
        plan.line_linear[:, None] * activity[lc] + plan.line_fixed[:, None] * share[lc]
    )
    return Computation(plan, periods, activity, mass, mass * plan.line_gwp[:, None])


def _index_error(plan: AccountingPlan, name: str, size: int) -> InputError:
    return InputError(
        f"activity record {name} index out of range 0..{size - 1}",
        file=plan.file,
        hint="use plan.channel_index() for channels and one Period per period index",
    )


def _refuse_quantity(
    plan: AccountingPlan, batch: ActivityBatch, quantity: npt.NDArray[np.float64]
) -> None:
    """Raise for the first negative or non-finite quantity, naming its source."""
    bad = int(np.flatnonzero(~np.isfinite(quantity) | (quantity < 0))[0])
    channel = plan.channels[int(batch.channel[bad])]
    raise InputError(
        f"activity quantity {quantity[bad]!r} is negative or not a number",
        file=plan.file,
        record=f"facility {channel.facility}, source {channel.source}",
        hint="give non-negative quantities; corrections are new records, not negative ones",
    )


def _check_cover(plan: AccountingPlan, channel_total: npt.NDArray[np.float64]) -> None:
    """Instruments may not cover more than the consumption (Scope 2 Guidance, ch. 7.5)."""
    covered = np.bincount(
        plan.line_channel,
        weights=np.where(plan.line_linear == 0, plan.line_fixed, 0.0),
        minlength=len(plan.channels),
    )
    over = np.flatnonzero(covered > channel_total * (1 + 1e-12) + 1e-12)
    if over.size:
        channel = plan.channels[int(over[0])]
        raise InputError(
            f"instruments cover {covered[over[0]]:g} {channel.unit} but only "
            f"{channel_total[over[0]]:g} {channel.unit} were consumed",
            file=plan.file,
            record=f"facility {channel.facility}, source {channel.source}",
            hint="claim at most the consumption; retire the excess for another period or site",
        )


def account(inventory: Inventory, *, file: str | None = None) -> Computation:
    """Compile an inventory and evaluate the activity written in it."""
    plan = compile_inventory(inventory, file=file)
    return compute(plan, plan.inventory_batch())
