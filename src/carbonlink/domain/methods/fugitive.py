"""Fugitive refrigerant losses.

``E_CO2e = Σ_g L × w_g × GWP_g`` — L mass of refrigerant lost (GHG Protocol HFC tool,
mass-balance or simplified approach; 2006 IPCC Guidelines Vol. 3 Ch. 7), w_g the mass fraction
of gas g in the refrigerant (1 for a pure HFC; blends per ASHRAE 34 in ``refrigerant_blends.csv``).
The GWP is applied by the engine from the inventory's GWP set, so one line per component gas.
"""

from __future__ import annotations

from carbonlink.domain.factors import INTERNATIONAL, Factor, Tier
from carbonlink.domain.gwp import refrigerant_composition
from carbonlink.domain.methods import SCOPE_1, LinePlan, MethodContext, SourcePlan, single_channel


def plan(ctx: MethodContext) -> SourcePlan:
    """One Scope 1 line per gas of the refrigerant."""
    source = ctx.source
    assert source.refrigerant is not None and source.activity is not None
    lines = []
    for gas, share in refrigerant_composition(source.refrigerant).items():
        gwp = ctx.gwp.gwp(gas)  # raises for an unknown gas, naming the known ones
        factor = Factor(
            id=f"gwp/{ctx.gwp.name}/{gas}",
            version=ctx.gwp.name,
            subject=source.refrigerant,
            parameter="gwp",
            gas=gas,
            value=gwp,
            unit="t/t",
            basis="",
            jurisdiction=INTERNATIONAL,
            region="",
            tier=Tier.IPCC_DEFAULT,
            year=0,
            document=ctx.gwp.document,
            table="",
            licence="CC0-1.0",
        )
        mass = ctx.per_unit(factor.quantity / factor.value, "t", source.activity.unit, "mass lost")
        lines.append(
            LinePlan(
                gas,
                SCOPE_1,
                mass * share,
                factor,
                f"{gas} is {share:.0%} of {source.refrigerant} by mass",
                "L × w × GWP",
                category="fugitive",
            )
        )
    return SourcePlan(single_channel(ctx), tuple(lines))
