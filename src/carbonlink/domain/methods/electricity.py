"""Purchased (and exported) electricity, reported both ways (GHG Protocol Scope 2 Guidance, 2015).

* location-based (ch. 6): ``E = Q × EF_grid`` with the grid-average factor of the facility's
  grid region, else of its jurisdiction (China: MEE/NBS regional and national averages);
* market-based (ch. 6–7): ``E = Σ_i Q_i × EF_i + (Q − Σ_i Q_i) × EF_residual`` — instruments
  (energy attribute certificates such as GEC / I-REC / GO, PPAs) cover Q_i at their own
  factor (0 for renewable certificates unless given); a supplier-specific rate without a
  quantity prices the uncovered rest; otherwise the residual mix (China: the national average
  excluding market-traded non-fossil electricity), and the grid average where none exists.

Instruments must be retired, must not be claimed twice and their cover may not exceed the
consumption (checked by the engine once activity is known). Exported electricity is a negative
line outside the scope totals (GB/T 32150-2015 subtracts it from the enterprise total).
"""

from __future__ import annotations

from carbonlink.domain.factors import Resolution
from carbonlink.domain.inventory import Instrument, Value
from carbonlink.domain.methods import (
    EXPORTED,
    SCOPE_2_LOCATION,
    SCOPE_2_MARKET,
    LinePlan,
    MethodContext,
    ParameterUse,
    SourcePlan,
    single_channel,
)
from carbonlink.domain.units import parse_quantity, to_unit
from carbonlink.errors import InputError, NoFactorVintageError, UnknownFactorError

ZERO_EMISSION = ("green_certificate", "i_rec", "go", "ppa")


def grid_location(ctx: MethodContext, subject: str = "grid_average") -> Resolution:
    """The grid-average factor for the facility's region (or jurisdiction)."""
    return ctx.resolve(subject, "ef", gas="CO2", pin_key="grid")


def _residual(ctx: MethodContext, location: Resolution) -> Resolution:
    try:
        return ctx.resolve("residual_mix", "ef", gas="CO2", pin_key="residual_mix")
    except NoFactorVintageError:
        raise
    except UnknownFactorError:
        return Resolution(
            location.factor,
            "no residual mix published for this place; grid average used "
            "(GHG Protocol Scope 2 Guidance, Table 6.3)",
        )


def _instrument_ef(ctx: MethodContext, instrument: Instrument, index: int) -> Resolution:
    name = instrument.id or f"{instrument.type}-{index + 1}"
    if instrument.emission_factor is not None:
        factor = ctx.measured(
            Value(
                value=instrument.emission_factor.value,
                unit=instrument.emission_factor.unit,
                tier="supplier_specific",
                document=instrument.emission_factor.document or f"instrument {name}",
            ),
            subject=f"instrument:{name}",
            parameter="ef",
            gas="CO2",
        )
        return Resolution(factor, f"factor stated by instrument {name}")
    if instrument.type not in ZERO_EMISSION:
        raise InputError(
            f"instrument {name} of type {instrument.type} needs an emission_factor",
            record=f"facility {ctx.facility}, source {ctx.source.id}",
            hint="give the supplier's rate as emission_factor: {value: …, unit: kg/kWh}",
        )
    factor = ctx.measured(
        Value(value=0.0, unit="kg/kWh", tier="supplier_specific", document=f"instrument {name}"),
        subject=f"instrument:{name}",
        parameter="ef",
        gas="CO2",
    )
    return Resolution(factor, f"{instrument.type} {name}: renewable attribute, 0 kg CO2/kWh")


def _check_instrument(ctx: MethodContext, instrument: Instrument, name: str) -> None:
    where = f"facility {ctx.facility}, source {ctx.source.id}"
    if not instrument.retired:
        raise InputError(
            f"instrument {name} is not retired and cannot be claimed",
            record=where,
            hint="retire (cancel) the certificate for this consumer first, or remove it",
        )
    if instrument.vintage is not None and abs(instrument.vintage - ctx.year) > 1:
        raise InputError(
            f"instrument {name} has vintage {instrument.vintage}, too far from {ctx.year}",
            record=where,
            hint="use instruments issued for generation close to the reporting period",
        )


def plan(ctx: MethodContext) -> SourcePlan:
    """Location- and market-based lines (or an exported line) for one electricity source."""
    source = ctx.source
    assert source.activity is not None
    unit = source.activity.unit
    location = (
        ctx.resolve("grid_average", "ef", gas="CO2", given=source.emission_factor)
        if source.direction == "exported" and source.emission_factor
        else grid_location(ctx)
    )
    loc_ef = ctx.per_unit_of(location.factor, "t", unit, f"grid factor {location.factor.id}")
    loc_use = ParameterUse.of("ef_grid", location)
    if source.direction == "exported":
        line = LinePlan(
            "CO2", EXPORTED, -loc_ef, location.factor, location.reason, "−Q × EF", (loc_use,)
        )
        return SourcePlan(single_channel(ctx), (line,))

    lines = [
        LinePlan(
            "CO2",
            SCOPE_2_LOCATION,
            loc_ef,
            location.factor,
            location.reason,
            "Q × EF_grid",
            (loc_use,),
        )
    ]
    covered = 0.0
    rest_rate: Resolution | None = None
    for index, instrument in enumerate(source.instruments):
        name = instrument.id or f"{instrument.type}-{index + 1}"
        _check_instrument(ctx, instrument, name)
        ef = _instrument_ef(ctx, instrument, index)
        if instrument.quantity is None:
            if instrument.type != "supplier_rate" or rest_rate is not None:
                raise InputError(
                    f"instrument {name} has no quantity",
                    record=f"facility {ctx.facility}, source {ctx.source.id}",
                    hint="give a quantity; only one supplier_rate may cover the whole rest",
                )
            rest_rate = ef
            continue
        quantity = to_unit(
            parse_quantity(instrument.quantity, instrument.unit, record=name), unit, record=name
        )
        covered += quantity
        per_unit = ctx.per_unit_of(ef.factor, "t", unit, f"instrument {name}")
        lines.append(
            LinePlan(
                "CO2",
                SCOPE_2_MARKET,
                per_unit,
                ef.factor,
                ef.reason,
                "Q_i × EF_i",
                (ParameterUse.of("ef_instrument", ef),),
                category=f"instrument:{instrument.type}",
                linear=0.0,
                fixed_activity=quantity,
            )
        )
    rest = rest_rate or _residual(ctx, location)
    rest_ef = ctx.per_unit_of(rest.factor, "t", unit, f"factor {rest.factor.id}")
    lines.append(
        LinePlan(
            "CO2",
            SCOPE_2_MARKET,
            rest_ef,
            rest.factor,
            rest.reason,
            "(Q − Σ Q_i) × EF_residual" if covered else "Q × EF_residual",
            (ParameterUse.of("ef_residual", rest),),
            category="supplier_rate" if rest_rate else "residual_mix",
            fixed_activity=-covered,
        )
    )
    return SourcePlan(single_channel(ctx), tuple(lines))
