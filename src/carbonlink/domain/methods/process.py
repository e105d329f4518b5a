"""Process emissions from materials consumed, and carbon fixed in products.

* carbonate (2006 IPCC Guidelines Vol. 3, Eq. 2.15 simplified; stoichiometric factors of
  Table 2.1): ``E_CO2 = M × EF × F`` — M carbonate consumed, EF t CO2 per t, F fraction calcined;
* process material (China iron-and-steel guideline 2013: fluxes, electrodes, purchased pig
  iron, DRI, ferroalloys): ``E_CO2 = M × EF``;
* carbon fixed in products (same guideline; GB/T 32150 total): ``R_CO2 = −P × EF`` — P the
  product leaving the site (crude steel, methanol), subtracted in Scope 1.
"""

from __future__ import annotations

from carbonlink.domain.methods import (
    SCOPE_1,
    LinePlan,
    MethodContext,
    ParameterUse,
    SourcePlan,
    single_channel,
)


def _material_line(
    ctx: MethodContext, subject: str, sign: float, formula: str, category: str
) -> SourcePlan:
    source = ctx.source
    assert source.activity is not None
    ef = ctx.resolve(subject, "ef", gas="CO2", given=source.emission_factor)
    per_unit = ctx.per_unit_of(ef.factor, "t", source.activity.unit, f"factor {ef.factor.id}")
    line = LinePlan(
        "CO2",
        SCOPE_1,
        sign * per_unit * source.fraction,
        ef.factor,
        ef.reason,
        formula,
        (ParameterUse.of("ef_co2", ef),),
        category=category,
    )
    return SourcePlan(single_channel(ctx), (line,))


def plan_carbonate(ctx: MethodContext) -> SourcePlan:
    """CO2 released from a carbonate (limestone, dolomite, …) by calcination."""
    assert ctx.source.material is not None
    formula = "M × EF" + (" × F" if ctx.source.fraction != 1.0 else "")
    return _material_line(ctx, ctx.source.material, 1.0, formula, "carbonate")


def plan_process(ctx: MethodContext) -> SourcePlan:
    """CO2 from a carbon-bearing process material (electrodes, pig iron, DRI, ferroalloys)."""
    assert ctx.source.material is not None
    return _material_line(ctx, ctx.source.material, 1.0, "M × EF", "process")


def plan_carbon_fixed(ctx: MethodContext) -> SourcePlan:
    """Carbon leaving in products, as a negative Scope 1 line."""
    assert ctx.source.product is not None
    return _material_line(ctx, ctx.source.product, -1.0, "−P × EF", "carbon_fixed")
