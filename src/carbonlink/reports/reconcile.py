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
from carbonlink.reports.china import ROUND_DIGITS, build_china_report
from carbonlink.reports.document import Column, fact, num, table
from carbonlink.reports.lines import report_lines

SCHEMA = "carbonlink.report.reconciliation/1"

CBAM_NOT_COMPUTED = {
    "computed": False,
    "note": (
        "CBAM attributed emissions are not part of this build: the CBAM attribution (per "
        "installation and production process, Implementing Regulation 2023/1773 Annex III) is "
        "needed to reconcile them."
    ),
}


def build_reconciliation(
    inventory: Inventory,
    result: Computation,
    *,
    cbam: dict[str, Any] | None = None,
    source_file: str | None = None,
) -> dict[str, Any]:
    """The reconciliation document (docs/reports.md)."""
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
        "cbam": cbam or CBAM_NOT_COMPUTED,
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
        },
        "notes": [],
    }
