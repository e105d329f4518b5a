"""Reconciliation: why the inventory total, the China-guideline total and CBAM differ, line by line.

A bridge walks from the inventory's Scope 1 + Scope 2 (location-based) total to the China
guideline total; each step is one cause, classed as boundary, method, factor, GWP set or
rounding, with its amount. The steps are computed from the same lines both reports use, so the
bridge closes exactly; a non-zero "unexplained" step would reveal a bug.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.gwp import gwp_set
from carbonlink.domain.inventory import Inventory
from carbonlink.errors import InputError
from carbonlink.reports.cets_entities import Entity
from carbonlink.reports.china import ROUND_DIGITS, build_china_report
from carbonlink.reports.document import Column, fact, num, table
from carbonlink.reports.lines import ReportLine, report_lines

SCHEMA = "carbonlink.report.reconciliation/1"

CBAM_NOT_COMPUTED: dict[str, Any] = {
    "computed": False,
    "note": (
        "No CBAM communication was given: pass the installation's CBAM communication "
        "(`--cbam`) to reconcile its attributed emissions (per installation and production "
        "process, Implementing Regulation 2023/1773 Annex III) with these accounts."
    ),
}


def _facility_for(inventory: Inventory, communication: dict[str, Any], facility: str | None) -> str:
    """The inventory facility a CBAM installation is: given, else the one of the same name."""
    ids = [f.id for f in inventory.facilities]
    if facility is not None:
        if facility not in ids:
            raise InputError(
                f"no facility {facility!r} in the inventory",
                hint="use one of " + ", ".join(ids),
            )
        return facility
    name = communication["installation"]["name"]
    matches = [f.id for f in inventory.facilities if (f.name or f.id) == name or f.id == name]
    if len(matches) != 1:
        raise InputError(
            f"cannot tell which facility is the CBAM installation {name!r}",
            hint="name it with --cbam-facility (one of " + ", ".join(ids) + ")",
        )
    return matches[0]


def _figures(communication: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The figures of the communication read from the inventory (empty when it stated them)."""
    basis = communication.get("inventory_basis") or {}
    return dict(basis.get("figures") or {})


def _attribution_terms(processes: list[dict[str, Any]], key: str) -> str:
    """The quantities × factors behind an attribution amount, as printed in its row."""
    from carbonlink.domain.cbam.reference import ef_natural_gas, parameter

    ef_ng = f"EF_NG {ef_natural_gas():.6g} t/TJ"
    corr = f"Corr_η {parameter('waste_gas_efficiency_correction'):.6g}"
    forms = {
        "heat_imported_t": ("heat", "imported_tj", "TJ", "imported_ef_t_per_tj", "t/TJ", ""),
        "heat_exported_t": ("heat", "exported_tj", "TJ", "exported_ef_t_per_tj", "t/TJ", ""),
        "waste_gas_imported_t": ("waste_gas", "imported_tj", "TJ", None, ef_ng, ""),
        "waste_gas_exported_t": ("waste_gas", "exported_tj", "TJ", None, ef_ng, f" × {corr}"),
        "electricity_exported_t": (
            "electricity", "exported_mwh", "MWh", "exported_ef_t_per_mwh", "t/MWh", ""
        ),
    }  # fmt: skip
    group, quantity, unit, factor, factor_unit, tail = forms[key]
    terms = []
    for p in processes:
        amount = p["attributed_emissions"][key]
        if not amount:
            continue
        flows = p.get(group) or {}
        q = flows.get(quantity)
        f = flows.get(factor) if factor else None
        if q is None or (factor and f is None):
            terms.append(f"{p['id']}: {amount:,.3f} t (quantities not in the communication)")
            continue
        product = f"{f:.8g} {factor_unit}" if factor else factor_unit
        terms.append(f"{p['id']}: {q:,.6g} {unit} × {product}{tail} = {amount:,.3f} t")
    return "; ".join(terms)


def cbam_reconciliation(
    inventory: Inventory,
    result: Computation,
    communication: dict[str, Any],
    *,
    facility: str | None = None,
) -> dict[str, Any]:
    """How the CBAM installation's attributed emissions relate to the facility's accounts.

    Reads a CBAM communication document (schema ``carbonlink.cbam.communication/1``). The steps
    follow Implementing Regulation 2023/1773 Annex III F.1: facility Scope 1 → CBAM gases →
    installation boundary → DirEm* of the production processes → heat, waste-gas and
    exported-electricity corrections → attributed direct emissions; the facility's Scope 2
    electricity → the electricity of the CBAM processes → attributed indirect emissions. When
    the communication was derived from the inventory (``inventory_basis``), each step is
    recomputed from the inventory lines of the sources it names; what the rules do not account
    for is the "unexplained" remainder (stated figures that do not come from the inventory).
    """
    fid = _facility_for(inventory, communication, facility)
    own = [x for x in report_lines(inventory, result) if x.facility.id == fid]
    figures = _figures(communication)

    def co2_of(sources: set[str]) -> float:
        return float(
            sum(
                x.tco2e for x in own if x.scope == "1" and x.gas == "CO2" and x.source.id in sources
            )
        )

    scope1 = sum(x.tco2e for x in own if x.scope == "1")
    china_direct = sum(x.tco2e for x in own if x.scope == "1" and x.gas == "CO2")
    electricity_lines = [x for x in own if x.scope == "2_location" and x.method == "electricity"]
    electricity = float(sum(x.tco2e for x in electricity_lines))
    exported_memo = float(sum(x.tco2e for x in own if x.scope == "exported"))
    heat_lines = [x for x in own if x.scope == "2_location" and x.method != "electricity"]
    heat_memo = float(sum(x.tco2e for x in heat_lines))
    site = communication["installation_emissions"]
    processes = communication["processes"]
    attributed = [p["attributed_emissions"] for p in processes]

    def total(key: str) -> float:
        return float(sum(a[key] or 0.0 for a in attributed))

    rows: list[dict[str, Any]] = []
    residuals: list[float] = []

    def row(kind: str, what: str, value: float | None, amount: float | None, why: str) -> None:
        rows.append({"kind": kind, "what": what, "value": value, "amount": amount, "why": why})

    row("start", f"inventory Scope 1 of {fid}", scope1, None, "all gases, inventory GWP set")
    other_gases = sorted({x.gas for x in own if x.scope == "1" and x.gas != "CO2"})
    row(
        "gases",
        "CO2 only",
        china_direct,
        china_direct - scope1,
        "CBAM counts CO2 for iron and steel (N2O and PFCs only for some goods); the inventory "
        f"also holds {', '.join(other_gases) or 'no other gas'}",
    )
    running = china_direct
    direct = site["direct_t"]
    basis_direct = figures.get("installation_emissions/direct_t")
    if basis_direct is not None:
        excluded = set(basis_direct["exclude"])
        amount = 0.0 - co2_of(excluded)
        running += amount
        row(
            "boundary",
            "sources outside the installation: " + (", ".join(sorted(excluded)) or "none"),
            running,
            amount,
            (
                "excluded from the installation's emissions by its CBAM input: mobile machinery "
                "for transport purposes, left out as under the EU ETS monitoring rules "
                "(Regulation (EU) 2018/2066) that 2023/1773 Annex III builds on: "
                + "; ".join(f"{s}: {co2_of({s}):,.3f} t CO2" for s in sorted(excluded))
            )
            if excluded
            else "every CO2 source of the facility is inside the installation",
        )
    if direct is not None:
        residuals.append(direct - running)
        row(
            "result" if basis_direct is not None else "unexplained",
            "CBAM installation direct emissions",
            direct,
            direct - running,
            "read from the inventory ("
            + (", ".join(basis_direct["exclude"]) or "no source")
            + " excluded)"
            if basis_direct is not None
            else "stated by the operator, not read from the inventory",
        )
        running = direct
    assigned: set[str] = set()
    for p in processes:
        used = figures.get(f"processes/{p['id']}/direct_emissions_t")
        if used is not None:
            assigned |= set(used["sources"])
    if basis_direct is not None:
        installation_sources = {
            x.source.id for x in own if x.scope == "1" and x.gas == "CO2"
        } - set(basis_direct["exclude"])
        outside = installation_sources - assigned
        amount = 0.0 - co2_of(outside)
        running += amount
        row(
            "boundary",
            "source streams in no CBAM production process: "
            + (", ".join(sorted(outside)) or "none"),
            running,
            amount,
            "emissions of the installation not attributed to a CBAM production process "
            "(e.g. a captive power plant, non-CBAM activities)",
        )
    dir_star = total("direct_emissions_t")
    residuals.append(dir_star - running)
    from_inventory = all(f"processes/{p['id']}/direct_emissions_t" in figures for p in processes)
    row(
        "result" if from_inventory else "unexplained",
        "Σ DirEm* of the CBAM production processes",
        dir_star,
        dir_star - running,
        "each process's source streams, read from the inventory"
        if from_inventory
        else "stated by the operator per process, not read from the inventory",
    )
    running = dir_star
    for key, label, sign in (
        ("heat_imported_t", "measurable heat imported", 1.0),
        ("heat_exported_t", "measurable heat exported", -1.0),
        ("waste_gas_imported_t", "waste gas imported (correction)", 1.0),
        ("waste_gas_exported_t", "waste gas exported (correction)", -1.0),
        ("electricity_exported_t", "electricity exported", -1.0),
    ):
        amount = sign * total(key)
        if amount:
            running += amount
            why = (
                "2023/1773 Annex III F.1 moves the emissions of heat and waste gas to the "
                "process that uses them: " + _attribution_terms(processes, key)
            )
            kind = "attribution"
            if key == "heat_imported_t" and heat_memo:
                why += (
                    "; the inventory counts the same heat in Scope 2 (location-based) at its "
                    "supplier's factor: "
                    + "; ".join(
                        f"{x.source.id}: {x.activity:,.3f} {x.unit} → {x.tco2e:,.3f} t"
                        for x in heat_lines
                    )
                )
            if key == "heat_exported_t":
                kind = "exported heat"
                why += (
                    f"; the inventory shows the same export as a memo item ({exported_memo:,.3f} t)"
                )
            row(kind, label, running, amount, why)
    attributed_direct = total("direct_t")
    residuals.append(attributed_direct - running)
    unexplained_direct = float(sum(residuals))
    row(
        "result",
        "Σ attributed direct emissions",
        attributed_direct,
        attributed_direct - running,
        "sum over production processes (the amount is what rounding leaves)",
    )
    row(
        "check",
        "unexplained (direct)",
        None,
        unexplained_direct,
        "what the rules above do not account for: 0 when every figure was read from the "
        "inventory, else the operator's own data (and rounding to 6 decimals)",
    )

    row("start", f"inventory Scope 2 electricity of {fid} (location-based)", electricity, None, "")
    indirect = total("indirect_t")
    by_source: dict[str, float] = {}
    for x in electricity_lines:
        by_source[x.source.id] = by_source.get(x.source.id, 0.0) + x.tco2e
    mwh_of = {x.source.id: x.activity for x in electricity_lines}
    shared = 0.0
    factor_gap = 0.0
    stated = 0.0
    share_terms: list[str] = []
    factor_terms: list[str] = []
    for p in processes:
        used = figures.get(f"processes/{p['id']}/electricity/consumed_mwh")
        own_indirect = p["attributed_emissions"]["indirect_t"] or 0.0
        if used is None or len(used["sources"]) != 1 or used["sources"][0] not in by_source:
            stated += own_indirect
            continue
        source = used["sources"][0]
        share_t = used["share"] * by_source[source]
        shared += share_t
        share_terms.append(f"{p['id']} {used['share']:.6g} of {source}")
        inventory_ef = by_source[source] / mwh_of[source] if mwh_of[source] else 0.0
        gap = p["electricity"]["consumed_mwh"] * (p["electricity"]["ef_t_per_mwh"] - inventory_ef)
        factor_gap += gap
        if gap:
            factor_terms.append(
                f"{p['id']}: {p['electricity']['consumed_mwh']:,.3f} MWh × "
                f"({p['electricity']['ef_t_per_mwh']:.6g} − {inventory_ef:.6g}) t/MWh"
            )
    running = electricity
    if shared or factor_gap:
        row(
            "boundary",
            "electricity used outside the CBAM production processes",
            shared,
            shared - electricity,
            "the CBAM input gives each production process a share of the works' electricity; "
            "what the shares leave out is used outside the CBAM processes: "
            + "; ".join(
                f"{s}: {mwh_of[s]:,.3f} MWh × {by_source[s] / mwh_of[s]:.6g} t/MWh"
                for s in sorted(by_source)
                if mwh_of[s]
            )
            + (f"; shares {', '.join(share_terms)}" if share_terms else ""),
        )
        row(
            "factor",
            "CBAM electricity factor against the inventory's",
            shared + factor_gap,
            factor_gap,
            "each process's factor (2023/1773 Annex III D.4) against the location-based grid "
            "factor: " + ("; ".join(factor_terms) or "the same factor"),
        )
        running = shared + factor_gap + stated
    unexplained_indirect = indirect - running
    row(
        "result",
        "Σ attributed indirect emissions",
        indirect,
        indirect - running,
        "electricity of the CBAM processes × their factor"
        + "".join(
            f"; {p['id']}: {p['electricity']['consumed_mwh']:,.3f} MWh × "
            f"{p['electricity']['ef_t_per_mwh']:.6g} t/MWh"
            for p in processes
            if (p.get("electricity") or {}).get("consumed_mwh")
        ),
    )
    row(
        "check",
        "unexplained (indirect)",
        None,
        unexplained_indirect,
        "electricity not read from the inventory"
        + (f" ({stated:,.3f} t stated by the operator)" if stated else "")
        + " and rounding",
    )

    goods = []
    by_id = {p["id"]: p for p in processes}
    for good in communication["goods"]:
        process = by_id[good["process_id"]]
        market = process["produced_for_market_t"] or 0.0
        level = process.get("activity_level_t") or 0.0
        process_direct = process["attributed_emissions"]["direct_t"]
        precursors_direct = float(
            sum(u["mass_t"] * (u["see_direct"] or 0.0) for u in process.get("precursors") or [])
        )
        goods.append(
            {
                "cn_code": good["cn_code"],
                "name": good["name"],
                "see_direct": good["see_direct"],
                "see_indirect": good["see_indirect"],
                "market_t": market,
                "embedded_direct": good["see_direct"] * market,
                "activity_level_t": level,
                "attributed_direct": process_direct,
                "precursors_direct": precursors_direct,
                "see_direct_recomputed": (process_direct + precursors_direct) / level
                if level
                else None,
            }
        )
    return {
        "computed": True,
        "installation": communication["installation"]["name"],
        "facility": fid,
        "totals": {
            "inventory_scope1": scope1,
            "facility_co2_direct": china_direct,
            "installation_direct": direct,
            "attributed_direct": attributed_direct,
            "attributed_indirect": indirect,
            "unexplained_direct": unexplained_direct,
            "unexplained_indirect": unexplained_indirect,
        },
        "table": table(
            f"From the facility's accounts to the CBAM attributed emissions ({fid})",
            [
                Column("kind", "Cause"),
                Column("what", "Item"),
                num("value", "Value"),
                num("amount", "Difference"),
                Column("why", "Why"),
            ],
            rows,
        ),
        "goods": table(
            "Goods: embedded emissions include precursors, attributed emissions do not",
            [
                Column("cn_code", "CN code"),
                Column("name", "Good"),
                num("see_direct", "SEE direct", "t CO2e/t", 6),
                num("see_indirect", "SEE indirect", "t CO2e/t", 4),
                num("market_t", "For the market", "t", 0),
                num("embedded_direct", "Embedded direct (SEE × t)"),
                num("activity_level_t", "Output AL", "t", 0),
                num("attributed_direct", "AttrEm direct of its process"),
                num("precursors_direct", "Precursors Σ M × SEE direct"),
                num("see_direct_recomputed", "(AttrEm + Σ M × SEE) / AL", "t CO2e/t", 6),
            ],
            goods,
            note="SEE = (AttrEm + Σ M_i × SEE_i) / AL: the precursors' embedded emissions "
            "(own and purchased) are added, so SEE × output exceeds the process's own "
            "attributed emissions; the last column recomputes the SEE from the printed figures.",
        ),
    }


def _supplier_good(
    pre: dict[str, Any], others: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The communication and good a purchased precursor's SEE was read from, if given."""
    for other in others:
        for good in other["goods"]:
            if (
                abs(good["see_direct"] - (pre["see_direct"] or 0.0)) < 1e-9
                and abs(good["see_indirect"] - (pre["see_indirect"] or 0.0)) < 1e-9
            ):
                return other, good
    return None


def precursor_chain(communications: list[dict[str, Any]]) -> dict[str, Any]:
    """Purchased precursors of each installation, each traced to its supplier's communication.

    A precursor bought from another installation of the enterprise carries that installation's
    SEE of the good: the embedded emissions it brings in are mass × SEE, direct and indirect. The
    official template takes a supplier SEE that stems partly from default values as two
    precursors (default-value part and actual part, same SEE, mass split by the default share);
    both parts are shown so that their sum can be checked against the whole.
    """
    rows: list[dict[str, Any]] = []
    for communication in communications:
        others = [c for c in communications if c is not communication]
        used_by: dict[str, float] = {}
        for process in communication["processes"]:
            for use in process.get("precursors") or []:
                if use["kind"] == "purchased":
                    used_by[use["source"]] = used_by.get(use["source"], 0.0) + use["mass_t"]
        for pre in communication.get("purchased_precursors") or []:
            mass = used_by.get(pre["id"], 0.0)
            supplier = _supplier_good(pre, others) if pre["origin"] != "default" else None
            share = pre.get("default_share") or 0.0
            rows.append(
                {
                    "installation": communication["installation"]["name"],
                    "precursor": pre["name"],
                    "mass_t": mass,
                    "see_direct": pre["see_direct"],
                    "see_indirect": pre["see_indirect"],
                    "embedded_direct": mass * (pre["see_direct"] or 0.0),
                    "embedded_indirect": mass * (pre["see_indirect"] or 0.0),
                    "supplier": (
                        f"{supplier[0]['installation']['name']}, CN {supplier[1]['cn_code']} "
                        "(same SEE)"
                    )
                    if supplier
                    else ("default value" if pre["origin"] == "default" else pre.get("supplier")),
                    "default_share": share,
                    "default_part_t": mass * share,
                    "actual_part_t": mass * (1.0 - share),
                }
            )
    return table(
        "Precursors bought by each installation and where their embedded emissions come from",
        [
            Column("installation", "Installation"),
            Column("precursor", "Precursor"),
            num("mass_t", "Consumed", "t", 0),
            num("see_direct", "SEE dir.", "t CO2e/t", 6),
            num("see_indirect", "SEE ind.", "t CO2e/t", 6),
            num("embedded_direct", "t × SEE dir."),
            num("embedded_indirect", "t × SEE ind."),
            Column("supplier", "SEE from"),
            num("default_share", "Default share", "", 6),
            num("default_part_t", "Default part", "t", 3),
            num("actual_part_t", "Actual part", "t", 3),
        ],
        rows,
        note="The precursors' embedded emissions enter the buyer's SEE, not its attributed "
        "emissions: they are the supplier's attributed emissions already reconciled above, so "
        "they add nothing to be explained. The official template takes a supplier SEE partly from "
        "default values as two precursors: the default part (consumed × default share) and "
        "the actual part, which add up to the mass consumed.",
    )


def ets_entity_bridge(
    entity: Entity, report: dict[str, Any], lines: list[ReportLine]
) -> dict[str, Any]:
    """From an entity's inventory Scope 1 to its national ETS direct CO2 (2025 steel guideline).

    Walks the China report's 附表 10 (each source's CO2 in the inventory beside the report's):
    other gases leave, each source whose guideline figure differs is one step with the report's
    reason (a default differs, or a carbon flow the inventory does not carry), and what is left
    is the unexplained remainder.
    """
    own = [x for x in lines if x.facility.id in entity.facilities]
    scope1 = float(sum(x.tco2e for x in own if x.scope == "1"))
    co2 = float(sum(x.tco2e for x in own if x.scope == "1" and x.gas == "CO2"))
    comparison = report["tables"]["inventory"]
    listed = float(comparison["total"]["inventory"])
    ets_total = float(report["totals"]["ets_direct_co2"])
    rows: list[dict[str, Any]] = []
    running = scope1

    def step(kind: str, what: str, amount: float | None, why: str) -> None:
        nonlocal running
        if amount is not None:
            running += amount
        rows.append({"kind": kind, "what": what, "amount": amount, "running": running, "why": why})

    step("start", "inventory Scope 1 of " + ", ".join(entity.facilities), None, "all gases")
    others = sorted({x.gas for x in own if x.scope == "1" and x.gas != "CO2"})
    step(
        "gases",
        "CO2 only",
        co2 - scope1,
        "the national ETS counts CO2 only; the inventory also holds "
        + (", ".join(others) or "no other gas"),
    )
    step(
        "boundary",
        "inventory CO2 sources outside the guideline's accounting",
        listed - co2,
        "sources the report lists in neither its fuels nor its materials (附表 2, 3)",
    )
    quantities = {
        m["source"]: f"{m['activity']:,.3f} {m['unit']} × {m['cc']:g} tC/t × 44/12"
        + (" (carbon out)" if m["tco2"] < 0 else "")
        for m in report["tables"]["materials"]["rows"]
    }
    for r in comparison["rows"]:
        if abs(r["difference"]) < 0.0005:
            continue
        flow = r["inventory"] == 0.0 and r["reason"].startswith("清单未含")
        quantity = quantities.get(r["source"])
        step(
            "method" if flow else "factor",
            f"{r['source']} ({r['process']})",
            r["difference"],
            f"inventory {r['inventory']:,.3f} t → report "
            + (f"{quantity} = " if quantity else "")
            + f"{r['report']:,.3f} t: "
            + (
                "a carbon flow the inventory does not carry (carbon leaving in a sold product, "
                "deducted by the guideline's carbon balance)"
                if flow
                else "the guideline's parameter against the inventory's"
            )
            + f"; {r['reason']}",
        )
    unexplained = ets_total - running
    step("result", "ETS direct CO2 (表 1)", None, f"{ets_total:,.3f} t CO2 as the report prints it")
    rows[-1]["running"] = ets_total
    step("check", "unexplained", unexplained, "0 when every difference has its step above")
    rows[-1]["running"] = ets_total
    return {
        "entity": entity.id,
        "organization": report["organization"],
        "facilities": list(entity.facilities),
        "totals": {
            "inventory_scope1": scope1,
            "ets_direct_co2": ets_total,
            "unexplained": unexplained,
        },
        "table": table(
            f"From the inventory to the national ETS direct CO2: {report['organization']} "
            f"({entity.id})",
            [
                Column("kind", "Cause"),
                Column("what", "Item"),
                num("amount", "Difference"),
                num("running", "Running total"),
                Column("why", "Why"),
            ],
            rows,
            note="Each source's two figures are those of the China report's 附表 10; the "
            "guideline's parameters are printed in its 附表 2 and 3.",
        ),
    }


def build_reconciliation(
    inventory: Inventory,
    result: Computation,
    *,
    cbam: dict[str, Any] | Sequence[dict[str, Any]] | None = None,
    cbam_facility: str | None = None,
    source_file: str | None = None,
    entities: tuple[Entity, ...] = (),
) -> dict[str, Any]:
    """The reconciliation document (docs/reports.md).

    With ``entities`` (the national ETS's legal entities) each entity's inventory Scope 1 is
    walked to its direct CO2 under the 2025 steel guideline.

    ``cbam`` is a CBAM communication document, or one per installation of the enterprise: each is
    reconciled with its facility's accounts (``cbam_facility`` names the facility when only one
    is given), and precursors one installation buys from another are followed along the chain.
    """
    lines = report_lines(inventory, result)
    totals = result.totals()
    china = build_china_report(inventory, result)
    china_total = china["totals"]["total"]
    start = totals["scope1"] + totals["scope2_location"]

    def of(predicate: Any) -> float:
        return float(sum(x.tco2e for x in lines if predicate(x)))

    steps: list[dict[str, Any]] = []

    def step(kind: str, what: str, amount: float, why: str) -> None:
        running = (steps[-1]["running"] if steps else start) + amount
        steps.append({"kind": kind, "what": what, "amount": amount, "running": running, "why": why})

    for gas in sorted({x.gas for x in lines if x.scope == "1" and x.gas != "CO2"}):
        step(
            "boundary",
            f"{gas} in Scope 1",
            -of(lambda x, g=gas: x.scope == "1" and x.gas == g),
            f"the iron and steel guideline accounts CO2 only; the inventory includes {gas} "
            f"(weighted with {inventory.gwp} GWP)",
        )
    step(
        "boundary",
        "exported heat and electricity",
        totals["exported"],
        "GB/T 32150 subtracts energy sold to others from the enterprise total; the GHG Protocol "
        "reports it as a memo item and does not net it off Scope 1 or 2",
    )
    step(
        "method",
        "Scope 2 method",
        0.0,
        "the guideline prices net purchased electricity with the regional grid average, i.e. "
        "location-based; instruments (certificates, PPAs) count only in the market-based total "
        f"({totals['scope2_market'] - totals['scope2_location']:+,.3f} t CO2e against "
        "location-based)",
    )
    step(
        "method",
        "carbon fixed in products",
        0.0,
        "subtracted in both: the inventory carries it as a negative Scope 1 line "
        f"({-china['totals']['carbon_fixed']:,.3f} t CO2), the guideline as R_固碳",
    )
    step(
        "factor",
        "emission factors and parameters",
        0.0,
        "both reports use the same resolved factors (one computation); for a CN jurisdiction "
        "these are the guideline defaults and measured values shown in the China report",
    )
    step(
        "GWP set",
        f"GWP set {inventory.gwp}",
        0.0,
        "no effect on the guideline total, which holds CO2 only; see the GWP sensitivity below",
    )
    unexplained = china_total - steps[-1]["running"]
    step(
        "check",
        "unexplained",
        unexplained,
        "difference left after the steps above (0 when the bridge closes)",
    )
    rounding = china["totals"]["total_rounded"] - china_total
    step(
        "rounding",
        f"rounding to {ROUND_DIGITS} decimals",
        rounding,
        "the China report prints each item rounded; the printed total is the sum of the "
        "printed items",
    )

    gwp_rows = []
    for name in ("AR4", "AR5", "AR6"):
        gases = gwp_set(name)
        value = 0.0
        for line in lines:
            if line.scope not in ("1", "2_location"):
                continue
            value += line.mass_t * gases.gwp(line.gas, fossil=line.plan.fossil)
        gwp_rows.append(
            {
                "gwp_set": name,
                "total": value,
                "difference": value - start,
                "used": "yes" if name == inventory.gwp else "",
            }
        )

    summary_rows = [
        {
            "total": "GHG inventory: Scope 1 + Scope 2 location-based",
            "rulebook": "ISO 14064-1 / GHG Protocol",
            "tco2e": start,
        },
        {
            "total": "GHG inventory: Scope 1 + Scope 2 market-based",
            "rulebook": "ISO 14064-1 / GHG Protocol",
            "tco2e": totals["scope1"] + totals["scope2_market"],
        },
        {
            "total": "China guideline total (企业温室气体排放总量)",
            "rulebook": "GB/T 32150-2015, iron and steel guideline",
            "tco2e": china_total,
        },
        {
            "total": "China guideline total as printed",
            "rulebook": f"rounded to {ROUND_DIGITS} decimals per item",
            "tco2e": china["totals"]["total_rounded"],
        },
    ]
    cbam_tables: dict[str, dict[str, Any]] = {}
    cbam_section = CBAM_NOT_COMPUTED
    communications = [cbam] if isinstance(cbam, dict) else list(cbam or [])
    if len(communications) > 1 and cbam_facility is not None:
        raise InputError(
            "--cbam-facility names the facility of one CBAM communication, not of several",
            hint="name each installation after its facility, or reconcile one at a time",
        )
    sections: list[dict[str, Any]] = []
    for number, communication in enumerate(communications):
        section = cbam_reconciliation(inventory, result, communication, facility=cbam_facility)
        suffix = "" if number == 0 else f"_{section['facility']}"
        if any(s["facility"] == section["facility"] for s in sections):
            raise InputError(
                f"two CBAM communications for the facility {section['facility']!r}",
                hint="give one communication per installation",
            )
        cbam_tables[f"cbam{suffix}"] = section.pop("table")
        cbam_tables[f"cbam_goods{suffix}"] = section.pop("goods")
        section["tables"] = [f"cbam{suffix}", f"cbam_goods{suffix}"]
        sections.append(section)
    if sections:
        chain = precursor_chain(communications)
        if chain["rows"]:
            cbam_tables["cbam_precursors"] = chain
        cbam_section = {
            **sections[0],
            "installations": sections,
            "unexplained_direct": float(sum(s["totals"]["unexplained_direct"] for s in sections)),
            "unexplained_indirect": float(
                sum(s["totals"]["unexplained_indirect"] for s in sections)
            ),
        }
    ets_sections: list[dict[str, Any]] = []
    if entities:
        from carbonlink.reports.china_2025 import build_china_2025_reports

        reports = {d["entity_id"]: d for d in build_china_2025_reports(entities, inventory, result)}
        for entity in entities:
            part = ets_entity_bridge(entity, reports[entity.id], lines)
            cbam_tables[f"ets_{entity.id}"] = part.pop("table")
            part["table"] = f"ets_{entity.id}"
            ets_sections.append(part)
            summary_rows += [
                {
                    "total": f"China national ETS direct CO2 ({part['organization']})",
                    "rulebook": "MEE iron and steel guideline 2025",
                    "tco2e": part["totals"]["ets_direct_co2"],
                },
                {
                    "total": f"ETS: unexplained against the inventory ({part['organization']})",
                    "rulebook": "0 when every difference has a step",
                    "tco2e": part["totals"]["unexplained"],
                },
            ]
    for section in sections:
        site = section["installation"]
        summary_rows += [
            {
                "total": f"CBAM installation direct emissions ({site})",
                "rulebook": "EU CBAM, Implementing Regulation 2023/1773",
                "tco2e": section["totals"]["installation_direct"],
            },
            {
                "total": f"CBAM attributed direct emissions (Σ production processes, {site})",
                "rulebook": "2023/1773 Annex III F.1",
                "tco2e": section["totals"]["attributed_direct"],
            },
            {
                "total": f"CBAM attributed indirect emissions (Σ production processes, {site})",
                "rulebook": "2023/1773 Annex III F.1",
                "tco2e": section["totals"]["attributed_indirect"],
            },
            {
                "total": f"CBAM: unexplained against the inventory, direct + indirect ({site})",
                "rulebook": "0 when the CBAM input reads its figures from the inventory",
                "tco2e": section["totals"]["unexplained_direct"]
                + section["totals"]["unexplained_indirect"],
            },
        ]
    return {
        "schema": SCHEMA,
        "report": "reconcile",
        "title": "Reconciliation of totals",
        "subtitle": "GHG inventory · China guideline · EU CBAM",
        "organization": inventory.organization,
        "period": {
            "start": inventory.period.start.isoformat(),
            "end": inventory.period.end.isoformat(),
        },
        "gwp_set": inventory.gwp,
        "unit": "t CO2e",
        "source_file": source_file,
        "totals": {
            "inventory_scope1_2_location": start,
            "inventory_scope1_2_market": totals["scope1"] + totals["scope2_market"],
            "china_total": china_total,
            "china_total_rounded": china["totals"]["total_rounded"],
            "unexplained": unexplained,
        },
        "facts": [
            fact(
                "inventory_scope1_2_location",
                "Inventory, Scope 1 + 2 location-based",
                start,
                "t CO2e",
            ),
            fact("china_total", "China guideline total", china_total, "t CO2"),
            fact("unexplained", "Unexplained difference", unexplained, "t CO2e"),
        ],
        "cbam": cbam_section,
        "ets": ets_sections,
        "tables": {
            "totals": table(
                "The totals",
                [
                    Column("total", "Total"),
                    Column("rulebook", "Rulebook"),
                    num("tco2e", "Emissions"),
                ],
                summary_rows,
            ),
            "bridge": table(
                "From the inventory total to the China guideline total",
                [
                    Column("kind", "Cause"),
                    Column("what", "Item"),
                    num("amount", "Difference"),
                    num("running", "Running total"),
                    Column("why", "Why"),
                ],
                steps,
                note="Starts at Scope 1 + Scope 2 location-based "
                f"({start:,.3f} t CO2e) and ends at the China total.",
            ),
            "gwp_sensitivity": table(
                "GWP sensitivity of the inventory total (Scope 1 + 2 location-based)",
                [
                    Column("gwp_set", "GWP set"),
                    num("total", "Total"),
                    num("difference", "Against the start"),
                    Column("used", "Used"),
                ],
                gwp_rows,
            ),
            **cbam_tables,
        },
        "notes": [],
    }
