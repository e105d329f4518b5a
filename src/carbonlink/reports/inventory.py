"""The corporate GHG inventory report (ISO 14064-1:2018, GHG Protocol Corporate Standard).

Built from one `Computation`: boundaries, base year, methodology, every factor with its
source, results by scope (Scope 2 location- and market-based side by side, Scope 2 Guidance
ch. 7.1), gas, facility, source and category (ISO 14064-1 categories 1–6 with the GHG Protocol
Scope 3 categories mapped onto them), exclusions, data quality and uncertainty.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.factors import Tier
from carbonlink.domain.inventory import Inventory
from carbonlink.errors import InputError
from carbonlink.reports.document import Column, fact, num, table
from carbonlink.reports.iso_statement import Statement
from carbonlink.reports.lines import ReportLine, report_lines

SCHEMA = "carbonlink.report.inventory/1"

SCOPE_LABELS = {
    "1": "Scope 1 (direct)",
    "2_location": "Scope 2, location-based",
    "2_market": "Scope 2, market-based",
    "3": "Scope 3 (reported categories)",
    "biogenic": "Biogenic CO2 (outside the scopes)",
    "exported": "Exported energy (memo, outside the scopes)",
}
SCOPE_COLUMNS = ("1", "2_location", "2_market", "3")

SCOPE3_CATEGORIES = {
    1: "Purchased goods and services",
    2: "Capital goods",
    3: "Fuel- and energy-related activities",
    4: "Upstream transportation and distribution",
    5: "Waste generated in operations",
    6: "Business travel",
    7: "Employee commuting",
    8: "Upstream leased assets",
    9: "Downstream transportation and distribution",
    10: "Processing of sold products",
    11: "Use of sold products",
    12: "End-of-life treatment of sold products",
    13: "Downstream leased assets",
    14: "Franchises",
    15: "Investments",
}
ISO_CATEGORIES = {
    1: "Direct GHG emissions and removals",
    2: "Indirect GHG emissions from imported energy",
    3: "Indirect GHG emissions from transportation",
    4: "Indirect GHG emissions from products used by the organization",
    5: "Indirect GHG emissions associated with the use of products from the organization",
    6: "Indirect GHG emissions from other sources",
}
# GHG Protocol Scope 3 category → ISO 14064-1:2018 category (Annex B groups by activity type).
SCOPE3_TO_ISO = {
    1: 4, 2: 4, 3: 4, 5: 4, 8: 4,
    4: 3, 6: 3, 7: 3, 9: 3,
    10: 5, 11: 5, 12: 5, 13: 5,
    14: 6, 15: 6,
}  # fmt: skip

METHODS = {
    "combustion": (
        "Stationary and mobile fuel combustion",
        "GB/T 32150-2015 Eq. 2 and the China iron and steel guideline (carbon route); "
        "2006 IPCC Guidelines Vol. 2 Ch. 2 Eq. 2.1 (emission-factor route)",
    ),
    "carbonate": ("Carbonates calcined", "2006 IPCC Guidelines Vol. 3 Eq. 2.15, Table 2.1"),
    "process": ("Carbon-bearing process materials", "China iron and steel guideline (2013)"),
    "carbon_fixed": ("Carbon fixed in products", "China iron and steel guideline (2013)"),
    "mass_balance": ("Carbon mass balance", "EU MRR 2018/2066 Annex II 3; 2006 IPCC Vol. 3"),
    "electricity": ("Purchased electricity", "GHG Protocol Scope 2 Guidance (2015) ch. 6–7"),
    "heat": ("Purchased or exported heat", "GB/T 32150-2015; China iron and steel guideline"),
    "fugitive": ("Refrigerant losses", "GHG Protocol HFC tool; 2006 IPCC Vol. 3 Ch. 7"),
    "generic": ("Other activity × factor", "GHG Protocol Corporate / Scope 3 Standards"),
}

METHOD_REASONS = {
    "combustion": "the China guideline's route for fuels (quantity × NCV × carbon content × "
    "oxidation); IPCC defaults for CH4 and N2O, which the guideline does not give",
    "carbonate": "flux quantities × the stoichiometric CO2 of the carbonate",
    "process": "the guideline's factor per tonne of carbon-bearing material consumed",
    "carbon_fixed": "the guideline deducts carbon leaving in products (shown apart)",
    "mass_balance": "carbon in and out is known for the whole process",
    "electricity": "purchased electricity; dual reporting as the Scope 2 Guidance requires",
    "heat": "heat × the guideline's default factor unless the supplier states one",
    "fugitive": "losses taken as the refrigerant refilled (screening method)",
    "generic": "activity × a factor stated by the supplier or the cited standard",
}
"""Why each quantification approach was chosen (ISO 14064-1:2018 9.3.1 m)."""

UNCERTAINTY_NOT_COMPUTED: dict[str, Any] = {
    "computed": False,
    "note": (
        "Not computed: the uncertainty engine (IPCC 2006 Vol. 1 Ch. 3 Approaches 1 and 2) is not "
        "part of this build. No interval is stated rather than an invented one."
    ),
}


def scope3_category(line: ReportLine) -> int | None:
    """The GHG Protocol Scope 3 category number of a line (``category 4`` → 4)."""
    text = line.plan.category
    if line.scope != "3" or not text.startswith("category "):
        return None
    return int(text.removeprefix("category "))


def iso_category(line: ReportLine) -> int | None:
    """ISO 14064-1:2018 category of a line; None for memo lines (biogenic, exported)."""
    if line.scope == "1":
        return 1
    if line.scope in ("2_location", "2_market"):
        return 2
    if line.scope == "3":
        category = scope3_category(line)
        return SCOPE3_TO_ISO.get(category, 6) if category else 6
    return None


def _by_scope(lines: list[ReportLine], key: Any) -> dict[Any, dict[str, float]]:
    out: dict[Any, dict[str, float]] = defaultdict(lambda: dict.fromkeys(SCOPE_LABELS, 0.0))
    for line in lines:
        out[key(line)][line.scope] += line.tco2e
    return out


def _scope_cells(values: dict[str, float]) -> dict[str, float]:
    return {f"s{k}": values[k] for k in SCOPE_LABELS}


SCOPE_NUM_COLUMNS = (
    num("s1", "Scope 1"),
    num("s2_location", "Scope 2 location"),
    num("s2_market", "Scope 2 market"),
    num("s3", "Scope 3"),
)


def _market_basis(line: ReportLine) -> str:
    """``green_certificate GEC-1 (0 kg/kWh)`` or ``residual_mix cn-…/CN/2023 (0.6096 kg/kWh)``."""
    factor = line.plan.factor
    name = (
        factor.subject.removeprefix("instrument:")
        if factor.subject.startswith("instrument:")
        else factor.id
    )
    kind = line.plan.category.removeprefix("instrument:") or (
        "supplier rate" if factor.tier >= Tier.SUPPLIER_SPECIFIC else "default factor"
    )
    return f"{kind} {name} ({factor.value:g} {factor.unit})"


def factor_rows(lines: list[ReportLine]) -> list[dict[str, Any]]:
    """Every factor and parameter used, once, with its citation and the sources using it."""
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        uses = [(use.name, use.factor) for use in line.plan.parameters]
        if not uses:
            uses = [(line.plan.factor.parameter, line.plan.factor)]
        for name, factor in uses:
            row = rows.setdefault(
                (factor.id, factor.version),
                {
                    "id": factor.id,
                    "version": factor.version,
                    "parameter": name,
                    "gas": factor.gas,
                    "value": factor.value,
                    "unit": factor.unit,
                    "tier": factor.tier.label.replace("_", " "),
                    "document": factor.document,
                    "table": factor.table,
                    "year": factor.year or None,
                    "licence": factor.licence,
                    "used_by": [],
                },
            )
            where = f"{line.facility.id}/{line.source.id}"
            if where not in row["used_by"]:
                row["used_by"].append(where)
    out = sorted(rows.values(), key=lambda r: (r["id"], r["version"]))
    for row in out:
        row["used_by"] = ", ".join(row["used_by"])
    return out


def _data_quality(lines: list[ReportLine]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Shares of gross emissions computed with measured, partly measured and default data."""
    gross = {"measured": 0.0, "partly measured": 0.0, "default": 0.0}
    rows = []
    for line in lines:
        if line.scope not in ("1", "2_location", "3"):
            continue
        status = {True: "measured", None: "partly measured", False: "default"}[line.measured]
        gross[status] += abs(line.tco2e)
        rows.append(
            {
                "facility": line.facility.id,
                "source": line.source.id + (f" / {line.stream}" if line.stream else ""),
                "gas": line.gas,
                "scope": line.scope,
                "tco2e": line.tco2e,
                "measured": ", ".join(u.name for u in line.plan.parameters if u.measured) or "—",
                "default": ", ".join(u.name for u in line.plan.parameters if not u.measured)
                or (
                    "—"
                    if line.plan.parameters
                    else f"{line.plan.factor.parameter} ({line.plan.factor.version})"
                ),
                "status": status,
            }
        )
    total = sum(gross.values())
    shares = {k: (v / total if total else 0.0) for k, v in gross.items()}
    return {
        "basis": "absolute t CO2e of Scope 1, Scope 2 location-based and Scope 3 lines",
        "gross_tco2e": total,
        "shares": shares,
    }, rows


def build_inventory_report(
    inventory: Inventory,
    result: Computation,
    *,
    consolidation: str = "operational control",
    base_year: int | None = None,
    uncertainty: dict[str, Any] | None = None,
    source_file: str | None = None,
    statement: Statement | None = None,
    base: tuple[Inventory, Computation] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """The inventory report document (see docs/reports.md for its schema).

    ``statement`` holds what a person states for ISO 14064-1:2018 9.3.1 (absent items are
    printed as "not provided"); ``base`` is the base-year inventory with its computation.
    ``lang="zh"`` gives every fixed text in Chinese with the English alongside.
    """
    if lang not in ("en", "zh"):
        raise InputError(f"no report language {lang!r}", hint="use en or zh")
    document = _inventory_document(
        inventory,
        result,
        consolidation=consolidation,
        base_year=base_year,
        uncertainty=uncertainty,
        source_file=source_file,
        statement=statement,
        base=base,
    )
    if lang == "zh":
        from carbonlink.reports.iso_zh import bilingual

        return bilingual(document)
    return document


def _inventory_document(
    inventory: Inventory,
    result: Computation,
    *,
    consolidation: str,
    base_year: int | None,
    uncertainty: dict[str, Any] | None,
    source_file: str | None,
    statement: Statement | None,
    base: tuple[Inventory, Computation] | None,
) -> dict[str, Any]:
    """The inventory report document in English."""
    from carbonlink.reports.iso14064 import iso_sections

    iso_part, iso_tables = iso_sections(
        inventory,
        result,
        statement=statement,
        base_year=base_year,
        base=base,
        uncertainty=uncertainty or UNCERTAINTY_NOT_COMPUTED,
        consolidation=consolidation,
        source_file=source_file,
    )
    lines = report_lines(inventory, result)
    totals = result.totals()
    s12_location = totals["scope1"] + totals["scope2_location"]
    s12_market = totals["scope1"] + totals["scope2_market"]

    scope_rows = [
        {"scope": key, "label": label, "tco2e": totals[total_key]}
        for (key, label), total_key in zip(
            SCOPE_LABELS.items(),
            ("scope1", "scope2_location", "scope2_market", "scope3", "biogenic_co2", "exported"),
            strict=True,
        )
    ]

    gas_rows = []
    gases: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        cell = gases[line.gas]
        cell[line.scope] += line.tco2e
        if line.scope == "1":
            cell["mass_t"] += line.mass_t
            cell["gwp"] = line.gwp
    for gas, cell in sorted(gases.items(), key=lambda item: -abs(item[1]["1"])):
        gas_rows.append(
            {"gas": gas, "mass_t": cell["mass_t"], "gwp": cell.get("gwp") or None}
            | _scope_cells(defaultdict(float, cell))
        )

    facility_names = {f.id: f.name or f.id for f in inventory.facilities}
    by_facility = _by_scope(lines, lambda line: line.facility.id)
    facility_rows = [
        {"facility": fid, "name": facility_names[fid]} | _scope_cells(values)
        for fid, values in by_facility.items()
    ]

    by_source = _by_scope(lines, lambda line: (line.facility.id, line.source.id))
    activity: dict[tuple[str, str], tuple[float, str, str]] = {}
    for line in lines:
        if not line.stream:
            activity[(line.facility.id, line.source.id)] = (line.activity, line.unit, line.method)
        else:
            activity.setdefault((line.facility.id, line.source.id), (0.0, "", line.method))
    source_rows = []
    for (fid, sid), values in by_source.items():
        quantity, unit, method = activity[(fid, sid)]
        source_rows.append(
            {
                "facility": fid,
                "source": sid,
                "method": method,
                "activity": quantity if unit else None,
                "unit": unit or "(streams)",
            }
            | _scope_cells(values)
        )

    iso: dict[int, dict[str, float]] = defaultdict(lambda: {"location": 0.0, "market": 0.0})
    for line in lines:
        category = iso_category(line)
        if category is None:
            continue
        if line.scope != "2_market":
            iso[category]["location"] += line.tco2e
        if line.scope != "2_location":
            iso[category]["market"] += line.tco2e
    scope3_present = sorted({c for line in lines if (c := scope3_category(line)) is not None})
    category_rows = [
        {
            "category": number,
            "label": ISO_CATEGORIES[number],
            "ghg_protocol": {1: "Scope 1", 2: "Scope 2"}.get(
                number,
                "Scope 3: "
                + (
                    ", ".join(str(c) for c in scope3_present if SCOPE3_TO_ISO.get(c, 6) == number)
                    or "none reported"
                ),
            ),
            "location": iso[number]["location"],
            "market": iso[number]["market"],
        }
        for number in ISO_CATEGORIES
    ]

    type_rows: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for line in lines:
        if line.scope == "1":
            type_rows[METHODS[line.method][0]]["tco2e"] += line.tco2e
    source_type_rows = [{"type": k, "tco2e": v["tco2e"]} for k, v in type_rows.items()]

    scope2_rows = []
    for (fid, sid), values in by_source.items():
        if values["2_location"] == 0 and values["2_market"] == 0:
            continue
        own = [x for x in lines if (x.facility.id, x.source.id) == (fid, sid)]
        location = next(x for x in own if x.scope == "2_location")
        market = [x for x in own if x.scope == "2_market"]
        scope2_rows.append(
            {
                "facility": fid,
                "source": sid,
                "activity": location.activity,
                "unit": location.unit,
                "location": values["2_location"],
                "location_factor": f"{location.plan.factor.id} ({location.plan.factor.value:g} "
                f"{location.plan.factor.unit})",
                "market": values["2_market"],
                "market_basis": "; ".join(_market_basis(x) for x in market),
            }
        )

    method_rows: dict[tuple[str, str], dict[str, Any]] = {}
    for line in lines:
        label, standard = METHODS[line.method]
        method_rows.setdefault(
            (line.method, line.plan.formula),
            {
                "method": label,
                "formula": line.plan.formula,
                "standard": standard,
                "reason": METHOD_REASONS[line.method],
                "sources": 0,
            },
        )["sources"] += 1

    exclusions = [
        {"what": f"{facility}/{source}", "reason": note}
        for (facility, source), notes in result.plan.notes.items()
        for note in notes
    ]
    missing = [c for c in SCOPE3_CATEGORIES if c not in scope3_present]
    if missing:
        exclusions.append(
            {
                "what": "Scope 3 categories " + ", ".join(str(c) for c in missing),
                "reason": "not quantified in this inventory (only the categories listed under "
                "ISO category 3–6 were reported)",
            }
        )
    exclusions += iso_part["direct"].pop("excluded")
    quality, quality_rows = _data_quality(lines)
    uncertainty = uncertainty or UNCERTAINTY_NOT_COMPUTED
    extra_tables: dict[str, dict[str, Any]] = {}
    if uncertainty["computed"]:
        extra_tables["uncertainty"] = table(
            "Uncertainty: 95 % interval of Scope 1 + Scope 2 location-based",
            [
                Column("method", "Method"),
                num("central", "Central"),
                num("lower", "Lower 2.5 %"),
                num("upper", "Upper 97.5 %"),
                num("minus_pct", "−", "%", 1),
                num("plus_pct", "+", "%", 1),
            ],
            uncertainty["results"],
        )

    return {
        "schema": SCHEMA,
        "report": "inventory",
        "title": "Greenhouse gas inventory",
        "subtitle": "ISO 14064-1:2018 · GHG Protocol Corporate Standard",
        "organization": inventory.organization,
        "period": {
            "start": inventory.period.start.isoformat(),
            "end": inventory.period.end.isoformat(),
        },
        "gwp_set": inventory.gwp,
        "unit": "t CO2e",
        "source_file": source_file,
        "boundaries": {
            "organizational": f"{consolidation} approach: 100 % of every facility listed",
            "consolidation": consolidation,
            "operational": "Scope 1 and Scope 2 (both methods) for every facility; Scope 3 "
            "only for the categories listed; biogenic CO2 and exported energy as memo items",
            "facilities": [
                {
                    "id": f.id,
                    "name": f.name or f.id,
                    "grid": f.grid or None,
                    "jurisdiction": f.jurisdiction or inventory.jurisdiction,
                    "timezone": f.timezone,
                    "sources": len(f.sources),
                }
                for f in inventory.facilities
            ],
        },
        "base_year": iso_part["base_year"],
        "iso14064": iso_part,
        "totals": totals | {"scope1_2_location": s12_location, "scope1_2_market": s12_market},
        "facts": [
            fact("scope1", "Scope 1", totals["scope1"], "t CO2e"),
            fact(
                "scope2_location", "Scope 2 (location-based)", totals["scope2_location"], "t CO2e"
            ),
            fact("scope2_market", "Scope 2 (market-based)", totals["scope2_market"], "t CO2e"),
            fact("scope1_2_location", "Scope 1 + 2 (location-based)", s12_location, "t CO2e"),
            fact("scope1_2_market", "Scope 1 + 2 (market-based)", s12_market, "t CO2e"),
            fact("scope3", "Scope 3 (reported categories)", totals["scope3"], "t CO2e"),
        ],
        "data_quality": quality,
        "uncertainty": uncertainty,
        "tables": {
            # what the organization states comes first in the workbook, after the summary
            "iso_statement": iso_tables.pop("iso_statement"),
            "by_scope": table(
                "Results by scope",
                [Column("label", "Scope"), num("tco2e", "Emissions")],
                scope_rows,
            ),
            "scope2": table(
                "Scope 2: location- and market-based side by side",
                [
                    Column("facility", "Facility"),
                    Column("source", "Source"),
                    num("activity", "Consumption", "", 1),
                    Column("unit", "Unit"),
                    num("location", "Location-based"),
                    Column("location_factor", "Grid factor"),
                    num("market", "Market-based"),
                    Column("market_basis", "Instruments and residual mix"),
                ],
                scope2_rows,
            ),
            "by_gas": table(
                "Results by gas",
                [
                    Column("gas", "Gas"),
                    num("mass_t", "Scope 1 mass", "t"),
                    num("gwp", f"GWP ({inventory.gwp})", "", 0),
                    *SCOPE_NUM_COLUMNS,
                ],
                gas_rows,
            ),
            "by_facility": table(
                "Results by facility",
                [Column("facility", "Facility"), Column("name", "Name"), *SCOPE_NUM_COLUMNS],
                facility_rows,
            ),
            "by_source": table(
                "Results by source",
                [
                    Column("facility", "Facility"),
                    Column("source", "Source"),
                    Column("method", "Method"),
                    num("activity", "Activity", "", 1),
                    Column("unit", "Unit"),
                    *SCOPE_NUM_COLUMNS,
                    num("sexported", "Exported (memo)"),
                    num("sbiogenic", "Biogenic (memo)"),
                ],
                source_rows,
            ),
            "by_source_type": table(
                "Scope 1 by source type",
                [Column("type", "Source type"), num("tco2e", "Scope 1")],
                source_type_rows,
            ),
            "by_category": table(
                "Results by ISO 14064-1:2018 category",
                [
                    num("category", "Category", "", 0),
                    Column("label", "Description"),
                    Column("ghg_protocol", "GHG Protocol"),
                    num("location", "Location-based Scope 2"),
                    num("market", "Market-based Scope 2"),
                ],
                category_rows,
                note="Category 2 differs between the two columns; the other categories do not.",
            ),
            "methodology": table(
                "Methodology",
                [
                    Column("method", "Method"),
                    Column("formula", "Formula"),
                    Column("standard", "Standard"),
                    Column("reason", "Why this approach"),
                    num("sources", "Lines", "", 0),
                ],
                method_rows.values(),
            ),
            "factors": table(
                "Emission factors and parameters with their sources",
                [
                    Column("id", "Factor id"),
                    Column("version", "Version"),
                    Column("parameter", "Parameter"),
                    num("value", "Value", "", -1),
                    Column("unit", "Unit"),
                    Column("tier", "Tier"),
                    Column("document", "Document"),
                    Column("table", "Table"),
                    Column("year", "Year"),
                    Column("used_by", "Used by"),
                ],
                factor_rows(lines),
            ),
            "exclusions": table(
                "Exclusions", [Column("what", "What"), Column("reason", "Why")], exclusions
            ),
            "data_quality": table(
                "Data quality per line",
                [
                    Column("facility", "Facility"),
                    Column("source", "Source"),
                    Column("gas", "Gas"),
                    Column("scope", "Scope"),
                    num("tco2e", "Emissions"),
                    Column("measured", "Measured parameters"),
                    Column("default", "Default parameters"),
                    Column("status", "Status"),
                ],
                quality_rows,
                note="Activity quantities are taken as given in the inventory file; whether a "
                "quantity was metered or estimated is not recorded there.",
            ),
            **extra_tables,
            **iso_tables,
        },
        "notes": [
            "Totals are sums of unrounded lines; tables show three decimals.",
            "Exported energy and biogenic CO2 are memo items outside the scope totals.",
        ],
    }
