"""Fuel combustion (stationary).

Two formulas, picked per source by which parameters win resolution:

* carbon route (GB/T 32150-2015 Eq. 2; China iron-and-steel guideline 2013, Eq. 2):
  ``E_CO2 = FC × NCV × CC × OF × 44/12`` — FC fuel consumed, NCV net calorific value,
  CC carbon per unit heat (t C/GJ), OF oxidation rate;
* emission-factor route (2006 IPCC Guidelines Vol. 2, Ch. 2, Eq. 2.1, Tier 1):
  ``E_gas = FC × NCV × EF_gas`` — EF per unit energy (Table 1.4 for CO2, Table 2.3 for CH4
  and N2O), oxidation 1 unless measured.

The carbon route is taken when the carbon content outranks the printed CO2 factor (e.g. a
national default against an IPCC one), or when asked with ``co2_from: carbon_content``. IPCC
prints EF_CO2 rounded (diesel 74 100 kg/TJ where 20.2 × 44/12 × 1000 = 74 067), so the two
routes differ slightly; each line records which one it used. NCV and emission factors are only
combined on the same heating-value basis (NCV or HHV). ``combustion_gases: [CO2]`` limits a
source or inventory to CO2, as China's national ETS reports combustion.
"""

from __future__ import annotations

from carbonlink.domain.factors import Resolution
from carbonlink.domain.inventory import Value
from carbonlink.domain.methods import (
    BIOGENIC,
    CO2_PER_C,
    SCOPE_1,
    LinePlan,
    MethodContext,
    ParameterUse,
    SourcePlan,
    has_dimension,
    single_channel,
)
from carbonlink.domain.methods.biomass import Fuel, biogenic_share, fuel
from carbonlink.errors import NoFactorVintageError, UnknownFactorError


def _try(
    ctx: MethodContext,
    subject: str,
    parameter: str,
    *,
    gas: str = "",
    basis: str | None = None,
    given: Value | None = None,
) -> Resolution | None:
    """A resolution, or None when the library simply has no such row (pins and vintages raise)."""
    key = parameter if not gas or gas == "C" else f"{parameter}:{gas}"
    if given is not None or key in ctx.source.factors:
        return ctx.resolve(subject, parameter, gas=gas, basis=basis, given=given)
    try:
        return ctx.resolve(subject, parameter, gas=gas, basis=basis)
    except NoFactorVintageError:
        raise
    except UnknownFactorError:
        return None


def plan(ctx: MethodContext) -> SourcePlan:
    """Line plans for CO2 (fossil and biogenic parts), CH4 and N2O of one fuel source."""
    source = ctx.source
    assert source.fuel is not None and source.activity is not None
    channels = single_channel(ctx)
    unit = source.activity.unit
    try:
        known: Fuel | None = fuel(source.fuel)
    except UnknownFactorError:
        if not (source.ncv and (source.carbon_content or source.emission_factor)):
            raise
        known = None  # a fuel outside the library, fully described by measured values
    subject = known.id if known else source.fuel
    biogenic = biogenic_share(known.biogenic if known else False, source.biomass_fraction)

    ncv = ctx.resolve(subject, "ncv", given=source.ncv)
    basis = ncv.factor.basis or "NCV"
    energy = ctx.per_unit_of(ncv.factor, "GJ", unit, f"NCV {ncv.factor.id}")
    ncv_use = ParameterUse.of("ncv", ncv)

    ef = _try(ctx, subject, "ef", gas="CO2", basis=basis, given=source.emission_factor)
    cc = _try(ctx, subject, "carbon_content", gas="C", basis=basis, given=source.carbon_content)
    if source.co2_from == "carbon_content" and cc is None:
        raise UnknownFactorError(
            f"co2_from: carbon_content, but no carbon content for fuel {subject!r}",
            record=f"facility {ctx.facility}, source {source.id}",
            hint="give a measured carbon_content or remove co2_from",
        )
    if source.co2_from == "carbon_content" or (ef is None and cc is not None):
        use_carbon = cc is not None
    elif source.co2_from == "emission_factor" or cc is None:
        use_carbon = False
    else:
        assert ef is not None
        use_carbon = cc.factor.tier > ef.factor.tier
    if ef is None and not use_carbon:
        raise UnknownFactorError(
            f"no CO2 emission factor or carbon content for fuel {subject!r}",
            record=f"facility {ctx.facility}, source {source.id}",
            hint="give a measured carbon_content or emission_factor for the source",
        )

    lines: list[LinePlan] = []
    if use_carbon:
        assert cc is not None
        ox = ctx.resolve(subject, "oxidation", given=source.oxidation)
        carbon = ctx.per_unit_of(cc.factor, "t", "GJ", f"carbon content {cc.factor.id}")
        oxidation = ctx.per_unit_of(ox.factor, "1", "1", "oxidation")
        co2 = energy * carbon * oxidation * CO2_PER_C
        principal, reason = cc.factor, cc.reason
        params: tuple[ParameterUse, ...] = (
            ncv_use,
            ParameterUse.of("carbon_content", cc),
            ParameterUse.of("oxidation", ox),
        )
        formula = "FC × NCV × CC × OF × 44/12"
    else:
        assert ef is not None
        per_energy = has_dimension(ef.factor.unit, "[mass]/[energy]")
        if per_energy:
            co2_per_gj = ctx.per_unit_of(ef.factor, "t", "GJ", f"factor {ef.factor.id}")
            co2 = energy * co2_per_gj
        else:
            co2 = ctx.per_unit_of(ef.factor, "t", unit, f"factor {ef.factor.id}")
        params = (ncv_use, ParameterUse.of("ef_co2", ef))
        if source.oxidation is not None:
            ox = ctx.resolve(subject, "oxidation", given=source.oxidation)
            co2 *= ctx.per_unit_of(ox.factor, "1", "1", "oxidation")
            params = (*params, ParameterUse.of("oxidation", ox))
        principal, reason = ef.factor, ef.reason
        formula = "FC × NCV × EF_CO2" if per_energy else "FC × EF_CO2"
        if source.oxidation is not None:
            formula += " × OF"

    if biogenic < 1.0:
        lines.append(
            LinePlan("CO2", SCOPE_1, co2 * (1 - biogenic), principal, reason, formula, params)
        )
    if biogenic > 0.0:
        lines.append(
            LinePlan(
                "CO2",
                BIOGENIC,
                co2 * biogenic,
                principal,
                reason,
                formula + " (biogenic share)",
                params,
                fossil=False,
            )
        )

    for gas in ("CH4", "N2O"):
        if gas not in ctx.combustion_gases:
            ctx.notes.append(f"{gas} not reported: left out by combustion_gases")
            continue
        other = _try(ctx, subject, "ef", gas=gas, basis=basis)
        if other is None:
            ctx.notes.append(
                f"{gas} of {subject!r} not estimated: no {basis} factor in the library"
            )
            continue
        per_gj = ctx.per_unit_of(other.factor, "t", "GJ", f"factor {other.factor.id}")
        lines.append(
            LinePlan(
                gas,
                SCOPE_1,
                energy * per_gj,
                other.factor,
                other.reason,
                f"FC × NCV × EF_{gas}",
                (ncv_use, ParameterUse.of(f"ef_{gas.lower()}", other)),
                fossil=biogenic < 1.0,
            )
        )
    return SourcePlan(channels, tuple(lines))
