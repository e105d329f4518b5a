"""Purchased and exported heat or steam.

``E = Q × EF_heat`` with Q the heat in GJ (China iron-and-steel guideline 2013 and GB/T 32150:
default 0.11 t CO2/GJ). Purchased heat is Scope 2, reported location-based with the default
and market-based with the supplier's rate where one is given (else the same default).
Exported heat is a negative line outside the scope totals. Steam given as a mass must first
be converted to heat with its enthalpy, so only energy units are accepted.
"""

from __future__ import annotations

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


def plan(ctx: MethodContext) -> SourcePlan:
    """Scope 2 location and market lines for purchased heat, or one exported line."""
    source = ctx.source
    assert source.activity is not None
    unit = source.activity.unit
    default = ctx.resolve("heat", "ef", gas="CO2")
    default_ef = ctx.per_unit_of(default.factor, "t", unit, f"heat factor {default.factor.id}")
    use = ParameterUse.of("ef_heat", default)
    if source.direction == "exported":
        line = LinePlan(
            "CO2", EXPORTED, -default_ef, default.factor, default.reason, "−Q × EF", (use,)
        )
        return SourcePlan(single_channel(ctx), (line,))
    market = ctx.resolve("heat", "ef", gas="CO2", given=source.emission_factor)
    market_ef = ctx.per_unit_of(market.factor, "t", unit, f"heat factor {market.factor.id}")
    lines = (
        LinePlan(
            "CO2", SCOPE_2_LOCATION, default_ef, default.factor, default.reason, "Q × EF", (use,)
        ),
        LinePlan(
            "CO2",
            SCOPE_2_MARKET,
            market_ef,
            market.factor,
            market.reason,
            "Q × EF_supplier" if source.emission_factor else "Q × EF",
            (ParameterUse.of("ef_heat", market),),
        ),
    )
    return SourcePlan(single_channel(ctx), lines)
