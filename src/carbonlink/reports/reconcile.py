"""Reconciliation: why the inventory total, the China-guideline total and CBAM differ, line by line.

A bridge walks from the inventory's Scope 1 + Scope 2 (location-based) total to the China
guideline total; each step is one cause, classed as boundary, method, factor, GWP set or
rounding, with its amount. The steps are computed from the same lines both reports use, so the
bridge closes exactly; a non-zero "unexplained" step would reveal a bug.
"""

from __future__ import annotations

from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.gwp import gwp_set
from carbonlink.domain.inventory import Inventory
from carbonlink.errors import InputError
from carbonlink.reports.china import ROUND_DIGITS, build_china_report
from carbonlink.reports.document import Column, fact, num, table
from carbonlink.reports.lines import report_lines

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
        amount = -co2_of(excluded)
        running += amount
        row(
            "boundary",
            "sources outside the installation: " + (", ".join(sorted(excluded)) or "none"),
            running,
            amount,
            "excluded from the installation's emissions by its CBAM input: mobile machinery "
            "for transport purposes, left out as under the EU ETS monitoring rules "
            "(Regulation (EU) 2018/2066) that 2023/1773 Annex III builds on",
        )
    if direct is not None:
        residuals.append(direct - running)
        row(
            "result" if basis_direct is not None else "unexplained",
            "CBAM installation direct emissions",
            direct,
            direct - running,
            "read from the inventory (" + ", ".join(basis_direct["exclude"]) + " excluded)"
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
        amount = -co2_of(outside)
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
                "process that uses them"
            )
            kind = "attribution"
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
    for p in processes:
        used = figures.get(f"processes/{p['id']}/electricity/consumed_mwh")
        own_indirect = p["attributed_emissions"]["indirect_t"] or 0.0
        if used is None or len(used["sources"]) != 1 or used["sources"][0] not in by_source:
            stated += own_indirect
            continue
        source = used["sources"][0]
        share_t = used["share"] * by_source[source]
        shared += share_t
        inventory_ef = by_source[source] / mwh_of[source] if mwh_of[source] else 0.0
        factor_gap += p["electricity"]["consumed_mwh"] * (
            p["electricity"]["ef_t_per_mwh"] - inventory_ef
        )
    running = electricity
    if shared or factor_gap:
        row(
            "boundary",
            "electricity used outside the CBAM production processes",
            shared,
            shared - electricity,
            "the shares of the works' electricity the CBAM input gives each production process "
            "add up to less than the whole",
        )
        row(
            "factor",
            "CBAM electricity factor against the inventory's",
            shared + factor_gap,
            factor_gap,
            "each process's factor (2023/1773 Annex III D.4) against the location-based grid "
            "factor",
        )
        running = shared + factor_gap + stated
    unexplained_indirect = indirect - running
    row(
        "result",
        "Σ attributed indirect emissions",
        indirect,
        indirect - running,
        "electricity of the CBAM processes × their factor",
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
        goods.append(
            {
                "cn_code": good["cn_code"],
                "name": good["name"],
                "see_direct": good["see_direct"],
                "see_indirect": good["see_indirect"],
                "market_t": market,
                "embedded_direct": good["see_direct"] * market,
                "attributed_direct": process["attributed_emissions"]["direct_t"],
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
                num("see_direct", "SEE direct", "t CO2e/t", 4),
                num("see_indirect", "SEE indirect", "t CO2e/t", 4),
                num("market_t", "Produced for the market", "t", 0),
                num("embedded_direct", "Embedded direct (SEE × t)"),
                num("attributed_direct", "Attributed direct of its process"),
            ],
            goods,
            note="SEE = (AttrEm + Σ M_i × SEE_i) / AL: the precursors' embedded emissions "
            "(own and purchased) are added, so SEE × output exceeds the process's own "
            "attributed emissions.",
        ),
    }


def build_reconciliation(
    inventory: Inventory,
    result: Computation,
    *,
    cbam: dict[str, Any] | None = None,
    cbam_facility: str | None = None,
    source_file: str | None = None,
) -> dict[str, Any]:
    """The reconciliation document (docs/reports.md); ``cbam`` a CBAM communication document."""
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
    if cbam:
        cbam_section = cbam_reconciliation(inventory, result, cbam, facility=cbam_facility)
        cbam_tables = {"cbam": cbam_section.pop("table"), "cbam_goods": cbam_section.pop("goods")}
        site = cbam_section["installation"]
        summary_rows += [
            {
                "total": f"CBAM installation direct emissions ({site})",
                "rulebook": "EU CBAM, Implementing Regulation 2023/1773",
                "tco2e": cbam_section["totals"]["installation_direct"],
            },
            {
                "total": "CBAM attributed direct emissions (Σ production processes)",
                "rulebook": "2023/1773 Annex III F.1",
                "tco2e": cbam_section["totals"]["attributed_direct"],
            },
            {
                "total": "CBAM attributed indirect emissions (Σ production processes)",
                "rulebook": "2023/1773 Annex III F.1",
                "tco2e": cbam_section["totals"]["attributed_indirect"],
            },
            {
                "total": "CBAM: unexplained against the inventory (direct + indirect)",
                "rulebook": "0 when the CBAM input reads its figures from the inventory",
                "tco2e": cbam_section["totals"]["unexplained_direct"]
                + cbam_section["totals"]["unexplained_indirect"],
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
