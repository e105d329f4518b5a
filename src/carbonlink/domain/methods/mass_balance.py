"""Carbon mass balance over a process or an enterprise.

``E_CO2 = (Σ_in M_i × C_i − Σ_out M_j × C_j) × 44/12`` — M mass of each stream, C its carbon
fraction (t C/t). EU MRR 2018/2066 Annex II 3 and CBAM Implementing Regulation 2023/1773
(which write the ratio as 3.664), and the 2025 MEE iron-and-steel guideline. Carbon fractions
default to the 2006 IPCC Guidelines Vol. 3 Table 4.3 unless measured. Each stream is its own
activity channel and line, so a verifier sees every term.
"""

from __future__ import annotations

from carbonlink.domain.methods import (
    CO2_PER_C,
    SCOPE_1,
    ChannelPlan,
    LinePlan,
    MethodContext,
    ParameterUse,
    SourcePlan,
)


def plan(ctx: MethodContext) -> SourcePlan:
    """One channel and one CO2 line per input (positive) and output (negative) stream."""
    channels: list[ChannelPlan] = []
    lines: list[LinePlan] = []
    streams = [(s, 1.0, "input") for s in ctx.source.inputs]
    streams += [(s, -1.0, "output") for s in ctx.source.outputs]
    for stream, sign, category in streams:
        name = stream.id or f"{category}:{stream.material}"
        cf = ctx.resolve(
            stream.material,
            "carbon_fraction",
            gas="C",
            given=stream.carbon_content,
            pin_key=f"carbon_fraction:{stream.material}",
        )
        carbon = ctx.per_unit_of(cf.factor, "t", stream.unit, f"carbon fraction {cf.factor.id}")
        channels.append(ChannelPlan(name, stream.unit, stream.quantity, ctx.activity_id(name)))
        lines.append(
            LinePlan(
                "CO2",
                SCOPE_1,
                sign * carbon * CO2_PER_C,
                cf.factor,
                cf.reason,
                ("+" if sign > 0 else "−") + "M × C × 44/12",
                (ParameterUse.of("carbon_fraction", cf),),
                stream=name,
                category=category,
            )
        )
    return SourcePlan(tuple(channels), tuple(lines))
