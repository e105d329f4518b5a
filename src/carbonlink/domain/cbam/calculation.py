"""Attribution of installation emissions to production processes and specific embedded emissions.

Implements Commission Implementing Regulation (EU) 2023/1773, Annex III, sections F.1 and G
(the rules carried into the definitive period by Implementing Regulation (EU) 2025/2547), in the
same arithmetic as the DG TAXUD communication template (sheets D_Processes and InputOutput):

- attributed direct emissions of process *p*::

      AttrEm_dir = DirEm* + Em_H,imp − Em_H,exp + WG_corr,imp − WG_corr,exp − Em_el,exp
      Em_H      = Q_heat [TJ] × EF_heat  (EF_heat = EF_NG / 0.90 = 62.3 t CO2/TJ without data)
      WG_corr,imp = Q_WG,imp [TJ] × EF_NG
      WG_corr,exp = Q_WG,exp [TJ] × EF_NG × Corr_η   (Corr_η = 0.667)
      Em_el,exp = E_el,exp [MWh] × EF_el,exp

- attributed indirect emissions: ``AttrEm_ind = E_el [MWh] × EF_el``;
- specific embedded emissions, direct and indirect separately::

      SEE_p = (AttrEm_p + Σ_i M_i,p × SEE_i) / AL_p

  with AL_p the total production of the process and the sum over own processes and purchased
  precursors consumed by *p*. All processes at once: ``(I − A) · SEE = AttrEm / AL + B · SEE_purch``
  with ``A[p, q] = M_q,p / AL_p`` — the template's matrix inversion, here a forward substitution
  (``I − A`` is unit lower triangular in topological order) after a topological sort that rejects
  cycles among own processes.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.linalg import solve_triangular

from carbonlink.domain.cbam.model import (
    CbamInstallationData,
    HeatFlow,
    ProductionProcess,
    PurchasedPrecursor,
)
from carbonlink.domain.cbam.reference import (
    default_heat_emission_factor,
    ef_natural_gas,
    goods_category,
    markup_for,
    parameter,
)
from carbonlink.errors import InputError

FloatArray = npt.NDArray[np.float64]


class PrecursorCycleError(InputError):
    """Own production processes feed each other in a loop, so no SEE order exists."""


class UnknownPrecursorError(InputError, LookupError):
    """A process consumes a precursor that is neither an own process nor a purchased precursor."""


@dataclass(frozen=True)
class AttributedEmissions:
    """Attributed emissions of one process with every correction term kept for the record (t)."""

    process_id: str
    direct_emissions: float
    heat_imported: float
    heat_exported: float
    waste_gas_imported: float
    waste_gas_exported: float
    electricity_exported: float
    direct: float
    indirect: float
    heat_imported_ef: float | None
    heat_exported_ef: float | None
    heat_default_used: tuple[str, ...]


@dataclass(frozen=True)
class PrecursorSee:
    """SEE of a purchased precursor as used in the calculation, with the default record."""

    precursor_id: str
    see_direct: float
    see_indirect: float
    origin: str
    markup: float
    markup_source: str
    base_see_direct: float
    justification: str


@dataclass(frozen=True)
class ProcessSee:
    """Specific embedded emissions of one process's output (t CO2e/t) and how they arose."""

    process_id: str
    see_direct: float
    see_indirect: float
    attributed: AttributedEmissions
    embedded_direct_from_precursors: float
    embedded_indirect_from_precursors: float
    embedded_electricity_mwh_per_t: float
    default_share: float
    """Share of the direct SEE that stems from default values (as the template's column M)."""

    @property
    def see_total(self) -> float:
        """Direct plus indirect SEE."""
        return self.see_direct + self.see_indirect


@dataclass(frozen=True)
class CbamResult:
    """SEE of every process and purchased precursor of an installation."""

    processes: dict[str, ProcessSee]
    precursors: dict[str, PrecursorSee]
    order: tuple[str, ...]
    defaults_used: tuple[str, ...]


def attribute_emissions(process: ProductionProcess) -> AttributedEmissions:
    """Attributed direct and indirect emissions of one process (2023/1773 Annex III F.1)."""
    ef_ng = ef_natural_gas()
    corr_eta = parameter("waste_gas_efficiency_correction")
    defaults: list[str] = []

    def heat(flow_name: str, flow: HeatFlow | None) -> tuple[float, float | None]:
        if flow is None:
            return 0.0, None
        amount = flow.amount_tj
        ef = flow.emission_factor
        if ef is None:
            ef = default_heat_emission_factor()
            defaults.append(
                f"{process.id}: {flow_name} heat without emission-factor data, "
                f"EF_NG/0.90 = {ef:.4g} t CO2/TJ (2023/1773 Annex III F.1)"
            )
        return amount * float(ef), float(ef)

    heat_imp, ef_imp = heat("imported", process.heat_imported)
    heat_exp, ef_exp = heat("exported", process.heat_exported)
    wg_imp = process.waste_gas_imported_tj * ef_ng
    wg_exp = process.waste_gas_exported_tj * ef_ng * corr_eta
    el_exp = process.electricity_exported_mwh * process.electricity_exported_ef
    direct = process.direct_emissions_t + heat_imp - heat_exp + wg_imp - wg_exp - el_exp
    indirect = process.electricity_mwh * process.electricity_ef
    return AttributedEmissions(
        process_id=process.id,
        direct_emissions=process.direct_emissions_t,
        heat_imported=heat_imp,
        heat_exported=heat_exp,
        waste_gas_imported=wg_imp,
        waste_gas_exported=wg_exp,
        electricity_exported=el_exp,
        direct=direct,
        indirect=indirect,
        heat_imported_ef=ef_imp,
        heat_exported_ef=ef_exp,
        heat_default_used=tuple(defaults),
    )


def precursor_see(precursor: PurchasedPrecursor, year: int) -> PrecursorSee:
    """SEE of a purchased precursor; a default direct SEE carries the mark-up of ``year``.

    ``SEE_ind = specific electricity [MWh/t] × EF_el``, as published, without mark-up: the
    mark-up of Implementing Regulation 2025/2621 is applied to the default direct SEE, and the
    official template computes a precursor's indirect SEE from the electricity consumption and
    factor entered, so a mark-up folded into either would be hidden in a wrong figure. A default
    value without a justification is refused: the communication must say why no actual data
    was used.
    """
    see_indirect = precursor.specific_electricity_mwh_per_t * precursor.electricity_ef
    if precursor.origin != "default":
        return PrecursorSee(
            precursor.id,
            precursor.see_direct,
            see_indirect,
            precursor.origin,
            0.0,
            "",
            precursor.see_direct,
            "",
        )
    if not precursor.default_justification.strip():
        raise InputError(
            f"purchased precursor {precursor.id!r} uses a default value without a justification",
            record=precursor.id,
            hint="say why actual data from the supplier was not available (default_justification)",
        )
    sector = goods_category(precursor.goods_category, record=precursor.id).sector
    markup = markup_for(sector, year) if precursor.apply_markup else None
    factor = 1.0 + (markup.markup if markup else 0.0)
    return PrecursorSee(
        precursor.id,
        precursor.see_direct * factor,
        see_indirect,
        "default",
        markup.markup if markup else 0.0,
        markup.source if markup else "mark-up not applied",
        precursor.see_direct,
        precursor.default_justification,
    )


def topological_order(data: CbamInstallationData) -> tuple[str, ...]:
    """Own processes ordered so that every precursor comes before its consumer.

    Raises PrecursorCycleError naming the processes in the loop.
    """
    own = {p.id for p in data.processes}
    purchased = {p.id for p in data.purchased_precursors}
    feeds: dict[str, set[str]] = {p.id: set() for p in data.processes}
    for process in data.processes:
        for use in process.precursors:
            if use.source in own:
                if use.source == process.id:
                    raise PrecursorCycleError(
                        f"process {process.id!r} lists itself as its own precursor",
                        record=process.id,
                        hint="internal recycling stays inside the process boundary; remove it",
                    )
                feeds[process.id].add(use.source)
            elif use.source not in purchased:
                raise UnknownPrecursorError(
                    f"process {process.id!r} consumes unknown precursor {use.source!r}",
                    record=process.id,
                    hint="declare it as a production process or a purchased precursor",
                )
    # Kahn's algorithm; ready processes are taken in sorted order so the result is stable.
    waiting = {pid: len(inputs) for pid, inputs in feeds.items()}
    consumers: dict[str, list[str]] = {pid: [] for pid in feeds}
    for pid, inputs in feeds.items():
        for source in inputs:
            consumers[source].append(pid)
    ready = sorted(pid for pid, count in waiting.items() if count == 0)
    order: list[str] = []
    while ready:
        pid = ready.pop(0)
        order.append(pid)
        for consumer in consumers[pid]:
            waiting[consumer] -= 1
            if waiting[consumer] == 0:
                bisect.insort(ready, consumer)
    if len(order) < len(feeds):
        loop = sorted(pid for pid, count in waiting.items() if count > 0)
        raise PrecursorCycleError(
            "own production processes form a precursor cycle: " + " → ".join(loop),
            record=loop[0],
            hint="merge the processes of the loop into one production process",
        )
    return tuple(order)


def _check_balances(
    data: CbamInstallationData,
    consumed_own: FloatArray,
    order: tuple[str, ...],
    activity: FloatArray,
) -> None:
    """Refuse consuming more of a precursor than was produced or purchased in the period."""
    tolerance = 1e-9
    for k in np.flatnonzero(consumed_own > activity * (1 + tolerance)):
        raise InputError(
            f"other processes consume {consumed_own[k]:g} t of {order[k]!r}, "
            f"more than its activity level {activity[k]:g} t",
            record=order[k],
            hint="check the precursor masses and the activity level of the period",
        )
    for pre in data.purchased_precursors:
        used = sum(u.mass_t for p in data.processes for u in p.precursors if u.source == pre.id)
        if used > pre.purchased_t * (1 + tolerance):
            raise InputError(
                f"processes consume {used:g} t of purchased {pre.id!r}, "
                f"more than the {pre.purchased_t:g} t purchased",
                record=pre.id,
                hint="purchased_t is the amount bought in the period (stock changes included)",
            )


def compute_see(data: CbamInstallationData, *, year: int | None = None) -> CbamResult:
    """SEE (direct and indirect) of every production process, recursively through precursors.

    ``year`` selects the default-value mark-up (default: ``data.markup_year``, else the year
    the period ends in).
    """
    if year is None:
        year = data.markup_year if data.markup_year is not None else data.period_end.year
    order = topological_order(data)
    by_id = {p.id: p for p in data.processes}
    for process in data.processes:
        if process.activity_level_t <= 0:
            raise InputError(
                f"process {process.id!r} has activity level {process.activity_level_t} t",
                record=process.id,
                hint="the activity level (total production in the period) must be positive",
            )
    precursors = {p.id: precursor_see(p, year) for p in data.purchased_precursors}
    purchased_by_id = {p.id: p for p in data.purchased_precursors}

    n = len(order)
    index = {pid: k for k, pid in enumerate(order)}
    attributed = {pid: attribute_emissions(by_id[pid]) for pid in order}
    activity = np.array([by_id[pid].activity_level_t for pid in order], dtype=np.float64)
    attr_dir = np.array([attributed[pid].direct for pid in order], dtype=np.float64)
    attr_ind = np.array([attributed[pid].indirect for pid in order], dtype=np.float64)
    electricity = np.array([by_id[pid].electricity_mwh for pid in order], dtype=np.float64)

    own_mass = np.zeros((n, n))
    purch_dir = np.zeros(n)
    purch_ind = np.zeros(n)
    purch_el = np.zeros(n)
    default_dir = np.zeros(n)
    for pid in order:
        row = index[pid]
        for use in by_id[pid].precursors:
            if use.source in index:
                own_mass[row, index[use.source]] += use.mass_t
            else:
                pre = precursors[use.source]
                spec = purchased_by_id[use.source]
                purch_dir[row] += use.mass_t * pre.see_direct
                purch_ind[row] += use.mass_t * pre.see_indirect
                purch_el[row] += use.mass_t * spec.specific_electricity_mwh_per_t
                share = 1.0 if pre.origin == "default" else spec.default_share
                default_dir[row] += use.mass_t * pre.see_direct * share

    # (I − A)·SEE = rhs with A[p, q] = M_q,p / AL_p. In topological order A is strictly lower
    # triangular, so one forward substitution solves every right-hand side at once: direct and
    # indirect SEE, embedded electricity, and the part of the direct SEE that comes from defaults.
    system = np.eye(n) - own_mass / activity[:, None]
    rhs = (
        np.column_stack(
            [attr_dir + purch_dir, attr_ind + purch_ind, electricity + purch_el, default_dir]
        )
        / activity[:, None]
    )
    solved = solve_triangular(system, rhs, lower=True, unit_diagonal=True)
    see_dir, see_ind, emb_el, see_default = solved.T
    _check_balances(data, own_mass.sum(axis=0), order, activity)

    results: dict[str, ProcessSee] = {}
    for pid in order:
        k = index[pid]
        from_own_dir = float(own_mass[k] @ see_dir)
        from_own_ind = float(own_mass[k] @ see_ind)
        results[pid] = ProcessSee(
            process_id=pid,
            see_direct=float(see_dir[k]),
            see_indirect=float(see_ind[k]),
            attributed=attributed[pid],
            embedded_direct_from_precursors=from_own_dir + float(purch_dir[k]),
            embedded_indirect_from_precursors=from_own_ind + float(purch_ind[k]),
            embedded_electricity_mwh_per_t=float(emb_el[k]),
            default_share=float(see_default[k] / see_dir[k]) if see_dir[k] > 0 else 0.0,
        )

    notes: list[str] = []
    for pid in order:
        notes.extend(attributed[pid].heat_default_used)
    for pre in precursors.values():
        if pre.origin == "default":
            notes.append(
                f"{pre.precursor_id}: default SEE {pre.base_see_direct:.4g} t CO2e/t "
                f"+ {pre.markup:.0%} mark-up ({year}) = {pre.see_direct:.4g}; "
                f"why: {pre.justification}"
            )
    return CbamResult(results, precursors, order, tuple(notes))
