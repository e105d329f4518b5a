"""Any other activity with a per-gas factor: ``E_gas = Q × EF_gas`` (GHG Protocol, Scope 1 or 3).

Used for Scope 3 categories (GHG Protocol Corporate Value Chain Standard, 15 categories) and
for sources no specific method covers. The factor is given for the source (supplier or
measured) or taken from the library by ``subject``.
"""

from __future__ import annotations

from carbonlink.domain.methods import (
    SCOPE_1,
    SCOPE_3,
    LinePlan,
    MethodContext,
    ParameterUse,
    SourcePlan,
    single_channel,
)


def plan(ctx: MethodContext) -> SourcePlan:
    """One line for the source's gas."""
    source = ctx.source
    assert source.activity is not None
    subject = source.subject or f"source:{source.id}"
    ef = ctx.resolve(subject, "ef", gas=source.gas, given=source.emission_factor)
    per_unit = ctx.per_unit_of(ef.factor, "t", source.activity.unit, f"factor {ef.factor.id}")
    category = f"category {source.scope3_category}" if source.scope3_category else ""
    line = LinePlan(
        source.gas,
        SCOPE_3 if source.scope == 3 else SCOPE_1,
        per_unit,
        ef.factor,
        ef.reason,
        "Q × EF",
        (ParameterUse.of(f"ef_{source.gas.lower()}", ef),),
        category=category,
    )
    return SourcePlan(single_channel(ctx), (line,))
