"""The ISO 14064-1:2018 parts of the inventory report: what clause 9.3.1 asks for beyond totals.

Built from the computation and a `Statement` (what a person must state). It adds:

* direct (category 1) emissions per gas before the product-carbon deduction, every Kyoto gas
  named — those not emitted with the stated reason, or "not provided";
* carbon retained in products apart from emissions (the China iron and steel guideline deducts
  it from direct emissions; it is no removal by a sink, so removals are reported separately);
* indirect categories 2–6 with their significance and the reason for each exclusion;
* the base year with its inventory, the recalculation policy and threshold;
* the GWP values used with their source table; uncertainty per category;
* market-based Scope 2 line by line: each instrument's MWh and the uncovered rest × residual mix;
* a checklist of clause 9.3.1 items a)–t) pointing at where each is answered.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.gwp import gwp_set
from carbonlink.domain.inventory import Inventory
from carbonlink.errors import InputError
from carbonlink.reports.document import Column, num, table
from carbonlink.reports.inventory import ISO_CATEGORIES, iso_category
from carbonlink.reports.iso_statement import NOT_PROVIDED, Statement
from carbonlink.reports.lines import ReportLine, report_lines

KYOTO_GROUPS = ("CO2", "CH4", "N2O", "HFCs", "PFCs", "SF6", "NF3")
"""The gases ISO 14064-1:2018 9.3.1 f) asks to be reported separately (fluorinated by group)."""

PFCS = frozenset({"CF4", "C2F6", "C3F8", "c-C4F8", "C4F10", "C5F12", "C6F14"})


def gas_group(gas: str) -> str:
    """``HFC-134a`` → ``HFCs``; ``CF4`` → ``PFCs``; CO2, CH4, N2O, SF6, NF3 as they are."""
    if gas.startswith("HFC"):
        return "HFCs"
    if gas in PFCS:
        return "PFCs"
    return gas


def given(value: Any) -> Any:
    """The value, or the "not provided" marker when it is empty."""
    return value if value not in (None, "") else NOT_PROVIDED


def check_base_year(year: int | None, inventory: Inventory, *, file: str | None = None) -> None:
    """A base year after the reporting period is no historical base year: refuse it."""
    if year is not None and year > inventory.period.end.year:
        raise InputError(
            file=file,
            message=f"the base year {year} lies after the reporting period "
            f"{inventory.period.start} – {inventory.period.end}",
            hint="a base year is a past year (or the reporting year itself) whose inventory the "
            "later ones are compared with; give --base-year "
            f"{inventory.period.end.year} or earlier",
        )


def _direct_by_gas(lines: list[ReportLine], statement: Statement) -> list[dict[str, Any]]:
    groups: dict[str, dict[str, Any]] = {}
    for line in lines:
        if line.scope != "1" or line.method == "carbon_fixed":
            continue
        row = groups.setdefault(
            line.gas, {"gas": line.gas, "group": gas_group(line.gas), "mass_t": 0.0, "tco2e": 0.0}
        )
        row["mass_t"] += line.mass_t
        row["tco2e"] += line.tco2e
        row["gwp"] = line.gwp
    rows = []
    for group in KYOTO_GROUPS:
        present = [r for r in groups.values() if r["group"] == group]
        for row in present:
            rows.append(row | {"status": "quantified"})
        if not present:
            reason = statement.excluded_gases.get(group)
            rows.append(
                {
                    "gas": group,
                    "group": group,
                    "mass_t": 0.0,
                    "gwp": None,
                    "tco2e": 0.0,
                    "status": f"not emitted within the boundary: {reason}"
                    if reason
                    else f"none quantified; reason {NOT_PROVIDED}",
                }
            )
    return rows


def _retained(lines: list[ReportLine]) -> list[dict[str, Any]]:
    return [
        {
            "facility": line.facility.id,
            "source": line.source.id,
            "product": line.source.product,
            "quantity": line.activity,
            "unit": line.unit,
            "factor": -line.plan.coefficient,
            "factor_id": line.plan.factor.id,
            "tco2": -line.tco2e,
        }
        for line in lines
        if line.scope == "1" and line.method == "carbon_fixed"
    ]


def _category_totals(lines: list[ReportLine]) -> dict[int, dict[str, float]]:
    out: dict[int, dict[str, float]] = defaultdict(lambda: {"location": 0.0, "market": 0.0})
    for line in lines:
        category = iso_category(line)
        if category is None:
            continue
        if line.scope != "2_market":
            out[category]["location"] += line.tco2e
        if line.scope != "2_location":
            out[category]["market"] += line.tco2e
    return out


def significance_check(
    quantified: bool, emissions: float, significant: bool | None, threshold: float | None
) -> str:
    """How a category's stated significance stands against the stated threshold.

    ``emissions`` is the category's location-based total, ``threshold`` in t CO2e (the stated
    share of Scope 1 + Scope 2 location-based). A category stated not significant that reaches
    the threshold contradicts the statement; one stated significant below it rests on the other
    criteria of the statement (e.g. a customer's request).
    """
    if threshold is None:
        return f"threshold {NOT_PROVIDED}: not checked"
    if not quantified:
        return "not quantified: cannot be checked against the threshold"
    reaches = emissions >= threshold
    if significant is None:
        return (
            "reaches the threshold; significance "
            if reaches
            else "below the threshold; significance "
        ) + NOT_PROVIDED
    if reaches and significant:
        return "reaches the threshold: significant, as stated"
    if reaches:
        return "CONTRADICTS THE STATEMENT: reaches the threshold but is stated not significant"
    if significant:
        return "below the threshold: significant by the statement's other criteria"
    return "below the threshold: not significant, as stated"


def _indirect(
    lines: list[ReportLine], statement: Statement, base_total: float
) -> list[dict[str, Any]]:
    totals = _category_totals(lines)
    stated = {c.category: c for c in statement.categories}
    percent = statement.significance_threshold_percent
    threshold = None if percent is None else base_total * percent / 100.0
    rows = []
    for number in range(2, 7):
        quantified = any(iso_category(line) == number for line in lines)
        said = stated.get(number)
        location = totals[number]["location"]
        if said is None:
            significance, reason = NOT_PROVIDED, NOT_PROVIDED
        else:
            significance = "significant" if said.significant else "not significant"
            reason = said.reason
        if quantified:
            treatment = "quantified"
        elif said is not None and not said.significant:
            treatment = "excluded (not significant)"
        elif said is not None:
            treatment = "significant but not quantified"
        else:
            treatment = f"not quantified; reason {NOT_PROVIDED}"
        rows.append(
            {
                "category": number,
                "label": ISO_CATEGORIES[number],
                "location": totals[number]["location"],
                "market": totals[number]["market"],
                "significance": significance,
                "share_pct": 100.0 * location / base_total if quantified and base_total else None,
                "threshold_check": significance_check(
                    quantified, location, None if said is None else said.significant, threshold
                ),
                "treatment": treatment,
                "reason": reason,
            }
        )
    return rows


def _base_year(
    inventory: Inventory,
    lines: list[ReportLine],
    statement: Statement,
    year: int | None,
    base: tuple[Inventory, Computation] | None,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The base-year entry and its comparison rows (empty when no base-year data exist)."""
    policy = statement.base_year
    reporting_year = inventory.period.end.year
    entry: dict[str, Any] = {
        "year": given(year),
        "reason": given(policy.reason),
        "recalculation_policy": given(policy.recalculation_policy),
        "threshold_percent": given(policy.threshold_percent),
    }
    if year is None:
        entry["inventory"] = NOT_PROVIDED
        return entry, []
    if base is None and year == reporting_year:
        entry["inventory"] = "this report's inventory (the base year is the reporting year)"
        base_lines = lines
    elif base is None:
        entry["inventory"] = (
            f"{NOT_PROVIDED}: no inventory of {year} was given (statement base_year.inventory "
            "or --base-year-inventory)"
        )
        return entry, []
    else:
        base_inventory, base_result = base
        if base_inventory.period.end.year != year:
            raise InputError(
                f"the base-year inventory covers {base_inventory.period.label}, not {year}",
                hint=f"give the inventory of {year} as the base-year inventory",
            )
        entry["inventory"] = (
            f"{base_inventory.organization}, {base_inventory.period.start} – "
            f"{base_inventory.period.end}"
        )
        base_lines = report_lines(base_inventory, base_result)
    now, then = _category_totals(lines), _category_totals(base_lines)
    rows = []
    for number, label in ISO_CATEGORIES.items():
        for basis in ("location", "market") if number == 2 else ("location",):
            current, past = now[number][basis], then[number][basis]
            rows.append(
                {
                    "category": f"{number}" + (f" ({basis}-based)" if number == 2 else ""),
                    "label": label,
                    "base": past,
                    "current": current,
                    "change_pct": 100.0 * (current - past) / past if past else None,
                }
            )
    return entry, rows


def _gwp_rows(inventory: Inventory, lines: list[ReportLine]) -> list[dict[str, Any]]:
    gwps = gwp_set(inventory.gwp)
    others = {line.gas for line in lines if line.gas not in ("CO2", "CH4", "N2O")}
    gases = ["CH4", "N2O", *sorted(others)]
    rows = []
    for gas in gases:
        keys = [gwps.key(gas, fossil=True), gwps.key(gas, fossil=False)]
        for key in dict.fromkeys(keys):
            rows.append(
                {"gas": key, "gwp": gwps.values[key], "set": gwps.name, "source": gwps.document}
            )
    return rows


def _market_rows(lines: list[ReportLine]) -> list[dict[str, Any]]:
    """One row per market-based line: the MWh it covers, its factor, its emissions."""
    rows = []
    for line in lines:
        if line.scope != "2_market":
            continue
        factor = line.plan.factor
        instrument = line.plan.category.removeprefix("instrument:")
        found = next(
            (
                i
                for i in line.source.instruments
                if i.id and factor.id.endswith(f"/{i.id}") and i.type == instrument
            ),
            None,
        )
        rows.append(
            {
                "facility": line.facility.id,
                "source": line.source.id,
                "basis": {
                    "residual_mix": "residual mix (uncovered rest)",
                    "supplier_rate": "supplier rate (uncovered rest)",
                }.get(line.plan.category, instrument.replace("_", " ") or "default factor"),
                "instrument": found.id if found else "",
                "vintage": found.vintage if found else None,
                "quantity": line.quantity,
                "unit": line.unit,
                "coefficient": line.plan.coefficient,
                "coefficient_unit": f"t CO2/{line.unit}",
                "factor_id": factor.id,
                "tco2e": line.tco2e,
            }
        )
    return rows


def _uncertainty_rows(uncertainty: dict[str, Any]) -> list[dict[str, Any]]:
    if not uncertainty.get("computed"):
        return [
            {"category": number, "label": label, "central": None, "u95_pct": None,
             "status": NOT_PROVIDED}
            for number, label in ISO_CATEGORIES.items()
        ]  # fmt: skip
    found = {row["category"]: row for row in uncertainty.get("categories", [])}
    return [
        found.get(number)
        or {
            "category": number,
            "label": label,
            "central": None,
            "u95_pct": None,
            "status": "no quantified emissions in this category",
        }
        for number, label in ISO_CATEGORIES.items()
    ]


CHECKLIST = (
    ("a", "Description of the reporting organization", "Report information"),
    ("b", "Person or entity responsible for the report", "Report information"),
    ("c", "Reporting period covered", "Report header (reporting period)"),
    ("d", "Documentation of the organizational boundaries", "1. Boundaries"),
    ("e", "Reporting boundaries and the criteria for significant emissions", "1. Boundaries"),
    (
        "f",
        "Direct GHG emissions per gas (CO2, CH4, N2O, NF3, SF6, HFCs, PFCs), t CO2e",
        "2. Results",
    ),
    ("g", "Treatment of biogenic CO2 and biogenic CO2 quantified separately", "2. Results"),
    ("h", "Direct GHG removals, if quantified, in t CO2e", "2. Results"),
    ("i", "Exclusion of significant GHG sources or sinks explained", "4. Exclusions"),
    ("j", "Indirect GHG emissions per category, t CO2e", "2. Results"),
    ("k", "Historical base year and the base-year GHG inventory", "7. Base year"),
    ("l", "Changes to the base year or historical data, recalculation", "7. Base year"),
    ("m", "Quantification approaches and the reasons for their selection", "3. Methodology"),
    ("n", "Changes to quantification approaches previously used", "3. Methodology"),
    ("o", "GHG emission or removal factors used", "3. Methodology"),
    ("p", "Impact of uncertainties on the accuracy of the data per category", "6. Uncertainty"),
    ("q", "Uncertainty assessment description and results", "6. Uncertainty"),
    (
        "r",
        "Statement that the report is prepared in accordance with ISO 14064-1",
        "Report information",
    ),
    ("s", "Verification status, type of verification and level of assurance", "Report information"),
    ("t", "GWP values used and their source", "3. Methodology"),
)
"""ISO 14064-1:2018 clause 9.3.1 items (paraphrased) and the section answering each."""


STATEMENT_ITEMS = (
    ("a)", "Description of the reporting organization", "organization_description"),
    ("b)", "Responsible person", "responsible"),
    ("", "Report date", "report_date"),
    ("", "Report version", "report_version"),
    ("", "Intended users", "intended_users"),
    ("r)", "Statement of conformity", "conformity"),
    ("s)", "Verification status", "verification_status"),
    ("s)", "Verification body", "verification_body"),
    ("s)", "Verification standard", "verification_standard"),
    ("s)", "Level of assurance", "level_of_assurance"),
    ("s)", "Verification statement", "verification_statement"),
    ("e)", "Significance criteria", "significance_criteria"),
    ("e)", "Significance threshold, % of Scope 1 + 2", "significance_threshold_percent"),
    ("e)", "Significance threshold, t CO2e", "significance_threshold_tco2e"),
    ("e)", "Significance check", "significance_check"),
    ("g)", "Treatment of biogenic CO2", "biogenic_treatment"),
    ("n)", "Changes in methods", "changes_in_methods"),
    ("d)", "Consolidation approach", "consolidation"),
)
"""The statement items of the report, in the order of the statement sheet."""


def _statement_rows(
    info: dict[str, Any], base_entry: dict[str, Any], statement: Statement
) -> list[dict[str, Any]]:
    """Every item a person states, as rows (the XLSX gets them as a sheet of their own)."""
    rows = [{"item": i, "label": label, "value": info[key]} for i, label, key in STATEMENT_ITEMS]
    rows += [
        {"item": "k)", "label": "Base year", "value": base_entry["year"]},
        {"item": "k)", "label": "Why this base year", "value": base_entry["reason"]},
        {"item": "k)", "label": "Base-year inventory", "value": base_entry["inventory"]},
        {
            "item": "l)",
            "label": "Recalculation policy",
            "value": base_entry["recalculation_policy"],
        },
        {
            "item": "l)",
            "label": "Recalculation threshold, % of base-year emissions",
            "value": base_entry["threshold_percent"],
        },
    ]
    stated = {c.category: c for c in statement.categories}
    for number in range(2, 7):
        said = stated.get(number)
        rows.append(
            {
                "item": "e), i)",
                "label": f"Category {number}: significance and reason",
                "value": NOT_PROVIDED
                if said is None
                else ("significant" if said.significant else "not significant")
                + f": {said.reason}",
            }
        )
    for gas, reason in statement.excluded_gases.items():
        rows.append({"item": "f), i)", "label": f"{gas}: why not reported", "value": reason})
    return [r | {"value": _cell(r["value"])} for r in rows]


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.3f}" if not value.is_integer() else f"{value:g}"
    return str(value)


def iso_sections(
    inventory: Inventory,
    result: Computation,
    *,
    statement: Statement | None,
    base_year: int | None,
    base: tuple[Inventory, Computation] | None,
    uncertainty: dict[str, Any],
    consolidation: str,
    source_file: str | None = None,
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The document's ``iso14064`` entry and the tables it adds to the inventory report."""
    statement = statement or Statement()
    year = base_year if base_year is not None else statement.base_year.year
    check_base_year(year, inventory, file=source_file)
    lines = report_lines(inventory, result)
    direct = _direct_by_gas(lines, statement)
    totals = result.totals()
    base_total = totals["scope1"] + totals["scope2_location"]
    indirect = _indirect(lines, statement, base_total)
    percent = statement.significance_threshold_percent
    contradictions = [r for r in indirect if r["threshold_check"].startswith("CONTRADICTS")]
    retained = _retained(lines)
    gross = sum(r["tco2e"] for r in direct)
    deducted = sum(r["tco2"] for r in retained)
    base_entry, base_rows = _base_year(inventory, lines, statement, year, base)
    responsible = statement.responsible
    verification = statement.verification
    info = {
        "organization_description": given(statement.organization_description),
        "responsible": given(
            ", ".join(p for p in (responsible.name, responsible.role, responsible.contact) if p)
            if responsible
            else ""
        ),
        "report_date": given(statement.report.date and statement.report.date.isoformat()),
        "report_version": given(statement.report.version),
        "intended_users": given(statement.report.intended_users),
        "conformity": given(statement.conformity),
        "verification_status": given(verification and verification.status),
        "verification_body": given(verification and verification.body),
        "verification_standard": given(verification and verification.standard),
        "level_of_assurance": given(verification and verification.level_of_assurance),
        "verification_statement": given(verification and verification.statement),
        "significance_criteria": given(statement.significance_criteria),
        "significance_threshold_percent": given(statement.significance_threshold_percent),
        "biogenic_treatment": given(statement.biogenic_treatment),
        "changes_in_methods": given(statement.changes_in_methods),
        "consolidation": consolidation,
        "significance_base_tco2e": base_total,
        "significance_threshold_tco2e": given(
            None if percent is None else base_total * percent / 100.0
        ),
        "significance_check": (
            f"{NOT_PROVIDED}: without a threshold the categories are not checked"
            if percent is None
            else "each indirect category's location-based emissions checked against "
            f"{percent:g} % of Scope 1 + Scope 2 location-based ({base_total:,.3f} t CO2e), "
            f"i.e. {base_total * percent / 100.0:,.3f} t CO2e: "
            + (
                ("category " if len(contradictions) == 1 else "categories ")
                + ", ".join(str(r["category"]) for r in contradictions)
                + (" reaches" if len(contradictions) == 1 else " reach")
                + " the threshold but "
                + ("is" if len(contradictions) == 1 else "are")
                + " stated not significant"
                if contradictions
                else "no category contradicts its stated significance"
            )
        ),
    }
    direct_summary = {
        "gross_tco2e": gross,
        "retained_tco2": deducted,
        "net_tco2e": gross - deducted,
        "excluded": [
            {"what": f"{row['gas']} (direct emissions)", "reason": row["status"]}
            for row in direct
            if row["status"] != "quantified"
        ]
        + [
            {"what": f"ISO category {row['category']}", "reason": row["reason"]}
            for row in indirect
            if row["treatment"] != "quantified"
        ],
        "removals": "none quantified: no GHG sink (no land, forest or CO2 storage) lies within "
        "the organizational boundary",
    }
    provided = {
        "a": info["organization_description"] != NOT_PROVIDED,
        "b": info["responsible"] != NOT_PROVIDED,
        "e": info["significance_criteria"] != NOT_PROVIDED,
        "i": not any(NOT_PROVIDED in row["reason"] for row in direct_summary["excluded"]),
        "g": info["biogenic_treatment"] != NOT_PROVIDED,
        "k": base_entry["year"] != NOT_PROVIDED
        and not base_entry["inventory"].startswith(NOT_PROVIDED),
        "l": base_entry["recalculation_policy"] != NOT_PROVIDED,
        "n": info["changes_in_methods"] != NOT_PROVIDED,
        "p": bool(uncertainty.get("computed")),
        "q": bool(uncertainty.get("computed")),
        "r": info["conformity"] != NOT_PROVIDED,
        "s": info["verification_status"] != NOT_PROVIDED,
    }
    checklist = [
        {
            "item": f"{item})",
            "requirement": requirement,
            "section": section,
            "status": "provided" if provided.get(item, True) else NOT_PROVIDED,
        }
        for item, requirement, section in CHECKLIST
    ]
    tables = {
        "iso_direct_by_gas": table(
            "Category 1: direct emissions per gas (before the product-carbon deduction)",
            [
                Column("gas", "Gas"),
                num("mass_t", "Mass", "t"),
                num("gwp", "GWP", "", -1),
                num("tco2e", "Emissions"),
                Column("status", "Status"),
            ],
            direct,
            total={"gas": "Total", "tco2e": gross},
        ),
        "iso_retained": table(
            "Carbon retained in products (deducted from direct emissions; not a removal)",
            [
                Column("facility", "Facility"),
                Column("source", "Source"),
                Column("product", "Product"),
                num("quantity", "Output", "", 1),
                Column("unit", "Unit"),
                num("factor", "Carbon as CO2", "t CO2/t", -1),
                Column("factor_id", "Factor"),
                num("tco2", "Deducted", "t CO2"),
            ],
            retained,
            note="Carbon that leaves the works in crude steel never reaches the atmosphere; the "
            "China iron and steel guideline subtracts it. It is shown here apart, so direct "
            "emissions = gross emissions − carbon retained in products.",
        ),
        "iso_indirect": table(
            "Indirect emissions per ISO 14064-1:2018 category, significance and exclusions",
            [
                num("category", "Category", "", 0),
                Column("label", "Description"),
                num("location", "Emissions (location-based)"),
                num("market", "Emissions (market-based)"),
                Column("significance", "Significance"),
                num("share_pct", "Share of Scope 1 + 2", "%", 3),
                Column("threshold_check", "Against the threshold"),
                Column("treatment", "Treatment"),
                Column("reason", "Reason"),
            ],
            indirect,
            note=info["significance_check"],
        ),
        "iso_statement": table(
            "Statement: what the organization states (ISO 14064-1:2018 clause 9.3.1)",
            [Column("item", "Item"), Column("label", "Statement item"), Column("value", "Value")],
            _statement_rows(info, base_entry, statement),
            note="Items the organization did not state read “not provided”.",
        ),
        "market_instruments": table(
            "Market-based Scope 2: instruments and residual mix, line by line",
            [
                Column("facility", "Facility"),
                Column("source", "Source"),
                Column("basis", "Basis"),
                Column("instrument", "Instrument"),
                Column("vintage", "Vintage"),
                num("quantity", "Quantity", "", 1),
                Column("unit", "Unit"),
                num("coefficient", "Factor", "t CO2 per unit", -1),
                Column("factor_id", "Factor id"),
                num("tco2e", "Emissions"),
            ],
            _market_rows(lines),
            note="Each source's quantities add up to its consumption; emissions = quantity × "
            "factor. Instruments are retired certificates or contracts claimed by the source.",
        ),
        "gwp": table(
            "Global warming potentials used (100-year)",
            [
                Column("gas", "Gas"),
                num("gwp", "GWP", "", -1),
                Column("set", "Set"),
                Column("source", "Source"),
            ],
            _gwp_rows(inventory, lines),
        ),
        "base_year": table(
            "Base-year inventory and the reporting year by category",
            [
                Column("category", "Category"),
                Column("label", "Description"),
                num("base", "Base year"),
                num("current", "Reporting year"),
                num("change_pct", "Change", "%", 1),
            ],
            base_rows,
        ),
        "uncertainty_by_category": table(
            "Uncertainty per category (95 % interval, IPCC 2006 Vol. 1 Ch. 3 Approach 1)",
            [
                num("category", "Category", "", 0),
                Column("label", "Description"),
                num("central", "Emissions"),
                num("u95_pct", "± 95 %", "%", 1),
                Column("status", "Status"),
            ],
            _uncertainty_rows(uncertainty),
        ),
        "iso_checklist": table(
            "ISO 14064-1:2018 clause 9.3.1: required information and where it is answered",
            [
                Column("item", "Item"),
                Column("requirement", "Requirement"),
                Column("section", "Section"),
                Column("status", "Status"),
            ],
            checklist,
        ),
    }
    return {
        "info": info,
        "direct": direct_summary,
        "base_year": base_entry,
    }, tables
