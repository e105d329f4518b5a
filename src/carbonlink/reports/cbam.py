"""The CBAM communication: what an installation operator hands to the EU importer.

``build_communication`` turns the installation data and its computed SEE into one plain,
JSON-ready dictionary (schema ``carbonlink.cbam.communication/1``, documented in docs/cbam.md).
``write_json`` and ``write_xlsx`` render it; the XLSX uses the sheet names of the DG TAXUD
communication template so that readers find the same sections in the same places.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from carbonlink.domain.cbam import CarbonPrice, CbamInstallationData, CbamResult, compute_see
from carbonlink.domain.cbam.reference import (
    default_heat_emission_factor,
    ef_natural_gas,
    goods_category,
    natural_gas_factor,
    parameters,
)

SCHEMA = "carbonlink.cbam.communication/1"

# Qualifying parameters with the template's wording and their unit. Contents and shares are
# mass fractions (0.0035 for 0.35 %), as the template's cells expect; `*_pct` keys of older
# input files are converted when the file is read (carbonlink.reports.cbam_input).
QUALIFYING_LABELS = {
    "reducing_agent": "Main reducing agent",
    "mill_id": "Steel mill identification number",
    "mn_content": "Mn (mass fraction)",
    "cr_content": "Cr (mass fraction)",
    "ni_content": "Ni (mass fraction)",
    "other_alloys_content": "Other alloys (mass fraction)",
    "carbon_content": "Carbon (mass fraction)",
    "scrap_t_per_t_steel": "Scrap per steel (t/t)",
    "other_materials_content": "Other materials (mass fraction)",
    "pre_consumer_scrap_share": "Pre-consumer scrap (fraction)",
    "scrap_t_per_t_aluminium": "Scrap per aluminium (t/t)",
    "non_aluminium_content": "Non-aluminium elements (mass fraction)",
    "clinker_factor": "Clinker factor (t/t)",
}


def _r(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(float(value), digits)


def _carbon_price(price: CarbonPrice) -> dict[str, Any]:
    return {
        "instrument": price.instrument,
        "instrument_type": price.instrument_type,
        "amount": price.amount,
        "currency": price.currency,
        "description": price.description,
        "share_covered": price.share_covered,
        "price_due_per_t": price.price_due_per_t,
        "rebate_type": price.rebate_type,
        "rebate_share": price.rebate_share,
        "rebate_per_t": price.rebate_per_t,
        "cn_codes": list(price.cn_codes),
    }


def build_communication(
    data: CbamInstallationData, result: CbamResult | None = None, *, year: int | None = None
) -> dict[str, Any]:
    """The communication document for an installation and period (plain dict, JSON-ready)."""
    result = result or compute_see(data, year=year)
    site = data.installation
    own_ids = {p.id for p in data.processes}
    purchased = {p.id: p for p in data.purchased_precursors}

    processes: list[dict[str, Any]] = []
    goods: list[dict[str, Any]] = []
    for process in data.processes:
        see = result.processes[process.id]
        att = see.attributed
        internal_use = sum(
            use.mass_t
            for other in data.processes
            for use in other.precursors
            if use.source == process.id
        )
        market = (
            process.produced_for_market_t
            if process.produced_for_market_t is not None
            else max(process.activity_level_t - internal_use - process.non_cbam_use_t, 0.0)
        )
        category = goods_category(process.goods_category, record=process.id)
        precursor_rows = []
        for use in process.precursors:
            if use.source in own_ids:
                pre = result.processes[use.source]
                origin, see_d, see_i = "own production", pre.see_direct, pre.see_indirect
            else:
                used = result.precursors[use.source]
                origin, see_d, see_i = used.origin, used.see_direct, used.see_indirect
            precursor_rows.append(
                {
                    "source": use.source,
                    "kind": "own" if use.source in own_ids else "purchased",
                    "mass_t": _r(use.mass_t),
                    "mass_per_t_output": _r(use.mass_t / process.activity_level_t),
                    "see_direct": _r(see_d),
                    "see_indirect": _r(see_i),
                    "origin": origin,
                }
            )
        processes.append(
            {
                "id": process.id,
                "name": process.name,
                "goods_category": category.category.strip(),
                "route": process.route,
                "activity_level_t": _r(process.activity_level_t),
                "produced_for_market_t": _r(market),
                "consumed_in_other_processes_t": _r(internal_use),
                "non_cbam_use_t": _r(process.non_cbam_use_t),
                "attributed_emissions": {
                    "direct_emissions_t": _r(att.direct_emissions),
                    "heat_imported_t": _r(att.heat_imported),
                    "heat_exported_t": _r(att.heat_exported),
                    "waste_gas_imported_t": _r(att.waste_gas_imported),
                    "waste_gas_exported_t": _r(att.waste_gas_exported),
                    "electricity_exported_t": _r(att.electricity_exported),
                    "direct_t": _r(att.direct),
                    "indirect_t": _r(att.indirect),
                },
                "heat": {
                    "imported_tj": _r(process.heat_imported.amount_tj)
                    if process.heat_imported
                    else 0.0,
                    "imported_ef_t_per_tj": _r(att.heat_imported_ef),
                    "exported_tj": _r(process.heat_exported.amount_tj)
                    if process.heat_exported
                    else 0.0,
                    "exported_ef_t_per_tj": _r(att.heat_exported_ef),
                },
                "waste_gas": {
                    "imported_tj": _r(process.waste_gas_imported_tj),
                    "exported_tj": _r(process.waste_gas_exported_tj),
                    "imported_ef_t_per_tj": _r(process.waste_gas_imported_ef),
                    "exported_ef_t_per_tj": _r(process.waste_gas_exported_ef),
                },
                "electricity": {
                    "consumed_mwh": _r(process.electricity_mwh),
                    "ef_t_per_mwh": _r(process.electricity_ef),
                    "ef_source": process.electricity_ef_source,
                    "ef_source_code": process.electricity_ef_source_code,
                    "exported_mwh": _r(process.electricity_exported_mwh),
                    "exported_ef_t_per_mwh": _r(process.electricity_exported_ef),
                },
                "precursors": precursor_rows,
                "see": {
                    "direct": _r(see.see_direct),
                    "indirect": _r(see.see_indirect),
                    "total": _r(see.see_total),
                    "unit": "t CO2e/t",
                },
                "embedded_electricity_mwh_per_t": _r(see.embedded_electricity_mwh_per_t),
                "default_share": _r(see.default_share),
            }
        )
        for good in process.goods:
            goods.append(
                {
                    "cn_code": good.cn_code,
                    "name": good.name,
                    "process_id": process.id,
                    "process_name": process.name,
                    "goods_category": category.category.strip(),
                    "route": process.route,
                    "see_direct": _r(see.see_direct),
                    "see_indirect": _r(see.see_indirect),
                    "see_total": _r(see.see_total),
                    "unit": "t CO2e/t",
                    "charged_emissions": category.charged_emissions,
                    "specific_electricity_mwh_per_t": _r(
                        process.electricity_mwh / process.activity_level_t
                    ),
                    "embedded_electricity_mwh_per_t": _r(see.embedded_electricity_mwh_per_t),
                    "electricity_ef_t_per_mwh": _r(process.electricity_ef),
                    "embedded_electricity_ef_t_per_mwh": _r(
                        see.see_indirect / see.embedded_electricity_mwh_per_t
                        if see.embedded_electricity_mwh_per_t
                        else 0.0
                    ),
                    "electricity_ef_source": process.electricity_ef_source,
                    "electricity_ef_source_code": process.electricity_ef_source_code,
                    "default_share": _r(see.default_share),
                    "qualifying_parameters": dict(good.qualifying_parameters),
                    "carbon_price": next(
                        (
                            _carbon_price(price)
                            for price in data.carbon_prices
                            if not price.cn_codes or good.cn_code in price.cn_codes
                        ),
                        None,
                    ),
                }
            )

    precursors_out = []
    for pid, used in result.precursors.items():
        spec = purchased[pid]
        precursors_out.append(
            {
                "id": pid,
                "name": spec.name,
                "goods_category": goods_category(spec.goods_category, record=pid).category.strip(),
                "country": spec.country,
                "route": spec.route,
                "supplier": spec.supplier,
                "purchased_t": _r(spec.purchased_t),
                "origin": used.origin,
                "see_direct": _r(used.see_direct),
                "see_indirect": _r(used.see_indirect),
                "specific_electricity_mwh_per_t": _r(spec.specific_electricity_mwh_per_t),
                "electricity_ef_t_per_mwh": _r(spec.electricity_ef),
                "electricity_ef_source": spec.electricity_ef_source,
                "electricity_ef_source_code": spec.electricity_ef_source_code,
                "default_share": _r(1.0 if used.origin == "default" else spec.default_share),
                "default": {
                    "base_see_direct": _r(used.base_see_direct),
                    "markup": _r(used.markup),
                    "markup_source": used.markup_source,
                    "source": spec.default_source,
                    "justification": used.justification,
                }
                if used.origin == "default"
                else None,
            }
        )

    attributed_direct = sum(p["attributed_emissions"]["direct_t"] for p in processes)
    attributed_indirect = sum(p["attributed_emissions"]["indirect_t"] for p in processes)
    return {
        "schema": SCHEMA,
        "installation": {
            "name": site.name,
            "operator": site.operator,
            "economic_activity": site.economic_activity,
            "address": {
                "street": site.street,
                "post_code": site.post_code,
                "city": site.city,
                "country": site.country,
            },
            "unlocode": site.unlocode,
            "coordinates": {"latitude": site.latitude, "longitude": site.longitude},
            "contact": {
                "name": site.contact_name,
                "email": site.contact_email,
                "phone": site.contact_phone,
            },
        },
        "reporting_period": {
            "start": data.period_start.isoformat(),
            "end": data.period_end.isoformat(),
        },
        "installation_emissions": {
            "direct_t": _r(data.installation_direct_emissions_t),
            "indirect_t": _r(data.installation_indirect_emissions_t),
            "attributed_direct_t": _r(attributed_direct),
            "attributed_indirect_t": _r(attributed_indirect),
        },
        "processes": processes,
        "goods": goods,
        "purchased_precursors": precursors_out,
        "carbon_prices": [_carbon_price(c) for c in data.carbon_prices],
        "defaults_used": list(result.defaults_used),
        "methodology": {
            "attribution": "Implementing Regulation (EU) 2023/1773 Annex III F.1: "
            "AttrEm = DirEm* + Em_H,imp − Em_H,exp + WG_corr,imp − WG_corr,exp − Em_el,exp; "
            "indirect = E_el × EF_el",
            "see": "SEE = (AttrEm + Σ M_i × SEE_i) / AL, direct and indirect separately",
            "default_heat_ef_t_per_tj": _r(default_heat_emission_factor()),
            "parameters": {
                "ef_natural_gas": {
                    "value": ef_natural_gas(),
                    "unit": "t CO2/TJ",
                    "source": natural_gas_factor().citation,
                    "factor_id": natural_gas_factor().id,
                },
                **{
                    name: {"value": p.value, "unit": p.unit, "source": p.source}
                    for name, p in parameters().items()
                },
            },
            "markup_year": year or data.markup_year or data.period_end.year,
        },
        "verifier": asdict(data.verifier) if data.verifier else None,
        "data_quality": asdict(data.data_quality),
        "remarks": data.remarks,
        "inventory_basis": data.inventory_basis,
    }


def _origin(c: dict[str, Any], key: str) -> str:
    """Where an installation total came from: the inventory only when it was read from it."""
    basis = c.get("inventory_basis") or {}
    used = basis.get("figures", {}).get(f"installation_emissions/{key}")
    if used is None:
        return "stated by the operator"
    return f"from the inventory {basis['file']}, facility {basis['facility']}"


def write_json(communication: dict[str, Any], out: Path) -> Path:
    """The communication as pretty-printed UTF-8 JSON."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(communication, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out


_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_TITLE_FONT = Font(bold=True, size=13)


def _table(ws: Worksheet, row: int, headers: list[str], rows: list[list[Any]]) -> int:
    """Write a header row and data rows from ``row``; return the next free row."""
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row=row, column=col, value=text)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.row_dimensions[row].height = 30
    for offset, values in enumerate(rows, start=1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row + offset, column=col, value=value)
            if isinstance(value, float):
                cell.number_format = "0.000###"
    return row + len(rows) + 2


def _title(ws: Worksheet, text: str, subtitle: str = "") -> int:
    ws.cell(row=1, column=1, value=text).font = _TITLE_FONT
    if subtitle:
        ws.cell(row=2, column=1, value=subtitle)
    return 4


def _widths(ws: Worksheet) -> None:
    """Columns as wide as their longest value (within limits), so PDFs and screens stay legible."""
    longest: dict[int, int] = {}
    for row in ws.iter_rows(min_row=4):
        for cell in row:
            if cell.value is not None:
                text = f"{cell.value:.6g}" if isinstance(cell.value, float) else str(cell.value)
                longest[cell.column] = max(longest.get(cell.column, 0), len(text))
    for col, length in longest.items():
        ws.column_dimensions[get_column_letter(col)].width = min(max(length + 2, 12), 48)
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def write_xlsx(communication: dict[str, Any], out: Path) -> Path:
    """carbonlink's own workbook with the official template's sheet structure."""
    c = communication
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "A_InstData"
    row = _title(ws, "A. Installation data", "Sheet names follow the DG TAXUD template.")
    site = c["installation"]
    period = c["reporting_period"]
    row = _table(
        ws,
        row,
        ["Field", "Value"],
        [
            ["Reporting period start", period["start"]],
            ["Reporting period end", period["end"]],
            ["Name of the installation", site["name"]],
            ["Operator", site["operator"]],
            ["Economic activity", site["economic_activity"]],
            ["Street, number", site["address"]["street"]],
            ["Post code", site["address"]["post_code"]],
            ["City", site["address"]["city"]],
            ["Country (ISO 3166-1)", site["address"]["country"]],
            ["UN/LOCODE", site["unlocode"]],
            ["Latitude (°)", site["coordinates"]["latitude"]],
            ["Longitude (°)", site["coordinates"]["longitude"]],
            ["Authorised representative", site["contact"]["name"]],
            ["Email", site["contact"]["email"]],
            ["Telephone", site["contact"]["phone"]],
        ],
    )
    row = _table(
        ws,
        row,
        ["Production process", "Aggregated goods category", "Route", "ID"],
        [[p["name"], p["goods_category"], p["route"], p["id"]] for p in c["processes"]],
    )
    _table(
        ws,
        row,
        ["Purchased precursor", "Aggregated goods category", "Country", "Route", "ID"],
        [
            [p["name"], p["goods_category"], p["country"], p["route"], p["id"]]
            for p in c["purchased_precursors"]
        ],
    )
    _widths(ws)

    ws = wb.create_sheet("B_EmInst")
    row = _title(ws, "B. Emissions of the installation")
    emissions = c["installation_emissions"]
    row = _table(
        ws,
        row,
        ["Quantity", "Value (t CO2e)"],
        [
            [f"Installation direct emissions ({_origin(c, 'direct_t')})", emissions["direct_t"]],
            [
                f"Installation indirect emissions ({_origin(c, 'indirect_t')})",
                emissions["indirect_t"],
            ],
            ["Sum of attributed direct emissions", emissions["attributed_direct_t"]],
            ["Sum of attributed indirect emissions", emissions["attributed_indirect_t"]],
        ],
    )
    streams = (c.get("inventory_basis") or {}).get("source_streams") or []
    if streams:
        _table(
            ws,
            row,
            [
                "Source stream (from the inventory)",
                "Method",
                "Activity data",
                "Unit",
                "NCV (GJ/unit)",
                "EF",
                "EF unit",
                "Carbon content (t C/t)",
                "Oxidation factor (%)",
                "Conversion factor (%)",
                "CO2 (t)",
            ],
            [
                [
                    x["name"],
                    x["approach"],
                    x["activity"],
                    x["activity_unit"],
                    x["ncv"],
                    x.get("emission_factor"),
                    x.get("emission_factor_unit"),
                    x["carbon_content"],
                    x["oxidation_pct"],
                    x["conversion_pct"],
                    x["co2_t"],
                ]
                for x in streams
            ],
        )
    _widths(ws)

    ws = wb.create_sheet("C_Emissions&Energy")
    row = _title(ws, "C. Energy flows per production process")
    _table(
        ws,
        row,
        [
            "Production process",
            "Electricity consumed (MWh)",
            "Electricity EF (t CO2/MWh)",
            "EF source",
            "EF source code",
            "Electricity exported (MWh)",
            "Heat imported (TJ)",
            "Heat exported (TJ)",
            "Waste gas imported (TJ)",
            "Waste gas exported (TJ)",
        ],
        [
            [
                p["name"],
                p["electricity"]["consumed_mwh"],
                p["electricity"]["ef_t_per_mwh"],
                p["electricity"]["ef_source"],
                p["electricity"]["ef_source_code"],
                p["electricity"]["exported_mwh"],
                p["heat"]["imported_tj"],
                p["heat"]["exported_tj"],
                p["waste_gas"]["imported_tj"],
                p["waste_gas"]["exported_tj"],
            ]
            for p in c["processes"]
        ],
    )
    _widths(ws)

    ws = wb.create_sheet("D_Processes")
    row = _title(ws, "D. Production processes: activity levels and attributed emissions")
    row = _table(
        ws,
        row,
        [
            "Production process",
            "Activity level (t)",
            "Produced for the market (t)",
            "Consumed in other processes (t)",
            "Non-CBAM use (t)",
            "DirEm* (t CO2e)",
            "Em heat imported (t CO2e)",
            "Em heat exported (t CO2e)",
            "WG corr imported (t CO2e)",
            "WG corr exported (t CO2e)",
            "Em electricity exported (t CO2e)",
            "Attributed direct (t CO2e)",
            "Attributed indirect (t CO2e)",
        ],
        [
            [
                p["name"],
                p["activity_level_t"],
                p["produced_for_market_t"],
                p["consumed_in_other_processes_t"],
                p["non_cbam_use_t"],
                p["attributed_emissions"]["direct_emissions_t"],
                p["attributed_emissions"]["heat_imported_t"],
                p["attributed_emissions"]["heat_exported_t"],
                p["attributed_emissions"]["waste_gas_imported_t"],
                p["attributed_emissions"]["waste_gas_exported_t"],
                p["attributed_emissions"]["electricity_exported_t"],
                p["attributed_emissions"]["direct_t"],
                p["attributed_emissions"]["indirect_t"],
            ]
            for p in c["processes"]
        ],
    )
    _table(
        ws,
        row,
        [
            "Consuming process",
            "Precursor",
            "Kind",
            "Mass (t)",
            "Mass per t output (t/t)",
            "SEE direct (t CO2e/t)",
            "SEE indirect (t CO2e/t)",
            "Origin",
        ],
        [
            [
                p["name"],
                u["source"],
                u["kind"],
                u["mass_t"],
                u["mass_per_t_output"],
                u["see_direct"],
                u["see_indirect"],
                u["origin"],
            ]
            for p in c["processes"]
            for u in p["precursors"]
        ],
    )
    _widths(ws)

    ws = wb.create_sheet("E_PurchPrec")
    row = _title(ws, "E. Purchased precursors")
    _table(
        ws,
        row,
        [
            "Purchased precursor",
            "Country",
            "Purchased (t)",
            "Origin of SEE",
            "SEE direct used (t CO2e/t)",
            "SEE indirect used (t CO2e/t)",
            "Specific electricity (MWh/t)",
            "Electricity EF (t CO2/MWh)",
            "Default before mark-up (t CO2e/t)",
            "Mark-up (fraction)",
            "Default source",
            "Justification for default",
        ],
        [
            [
                p["name"],
                p["country"],
                p["purchased_t"],
                p["origin"],
                p["see_direct"],
                p["see_indirect"],
                p["specific_electricity_mwh_per_t"],
                p["electricity_ef_t_per_mwh"],
                (p["default"] or {}).get("base_see_direct"),
                (p["default"] or {}).get("markup"),
                (p["default"] or {}).get("source"),
                (p["default"] or {}).get("justification"),
            ]
            for p in c["purchased_precursors"]
        ],
    )
    _widths(ws)

    ws = wb.create_sheet("Summary_Processes")
    row = _title(ws, "Summary of production processes")
    _table(
        ws,
        row,
        [
            "Production process",
            "Aggregated goods category",
            "Route",
            "Activity level (t)",
            "SEE direct (t CO2e/t)",
            "SEE indirect (t CO2e/t)",
            "SEE total (t CO2e/t)",
            "Embedded electricity (MWh/t)",
            "Share of emissions by default value",
        ],
        [
            [
                p["name"],
                p["goods_category"],
                p["route"],
                p["activity_level_t"],
                p["see"]["direct"],
                p["see"]["indirect"],
                p["see"]["total"],
                p["embedded_electricity_mwh_per_t"],
                p["default_share"],
            ]
            for p in c["processes"]
        ],
    )
    _widths(ws)

    ws = wb.create_sheet("Summary_Products")
    row = _title(ws, "Summary of products")
    parameter_names = sorted({k for g in c["goods"] for k in g["qualifying_parameters"]})
    _table(
        ws,
        row,
        [
            "Production process",
            "Aggregated goods category",
            "CN code",
            "Product name",
            "SEE direct (t CO2e/t)",
            "SEE indirect (t CO2e/t)",
            "SEE total (t CO2e/t)",
            "Charged emissions",
            "Share of emissions by default value",
            "Electricity EF source",
            "Embedded electricity (MWh/t)",
            *[QUALIFYING_LABELS.get(k, k) for k in parameter_names],
        ],
        [
            [
                g["process_name"],
                g["goods_category"],
                g["cn_code"],
                g["name"],
                g["see_direct"],
                g["see_indirect"],
                g["see_total"],
                g["charged_emissions"],
                g["default_share"],
                g["electricity_ef_source_code"] or g["electricity_ef_source"],
                g["embedded_electricity_mwh_per_t"],
                *[g["qualifying_parameters"].get(k) for k in parameter_names],
            ]
            for g in c["goods"]
        ],
    )
    _widths(ws)

    ws = wb.create_sheet("Summary_Communication")
    row = _title(
        ws, "What the importer receives", f"{site['name']}, {period['start']}–{period['end']}"
    )
    row = _table(
        ws,
        row,
        [
            "CN code",
            "Product",
            "SEE direct (t CO2e/t)",
            "SEE indirect (t CO2e/t)",
            "SEE total (t CO2e/t)",
            "Embedded electricity (MWh/t)",
            "EF of the embedded electricity (t CO2/MWh; SEE indirect ÷ MWh/t)",
        ],
        [
            [
                g["cn_code"],
                g["name"],
                g["see_direct"],
                g["see_indirect"],
                g["see_total"],
                g["embedded_electricity_mwh_per_t"],
                g["embedded_electricity_ef_t_per_mwh"],
            ]
            for g in c["goods"]
        ],
    )
    row = _table(
        ws,
        row,
        [
            "Carbon price instrument",
            "Type",
            "Amount paid",
            "Currency",
            "Share of embedded emissions covered",
            "Price due per t product",
            "Rebate type",
            "Rebate per t product",
            "Goods (CN)",
            "Description",
        ],
        [
            [
                p["instrument"],
                p["instrument_type"],
                p["amount"],
                p["currency"],
                p["share_covered"],
                p["price_due_per_t"],
                p["rebate_type"],
                p["rebate_per_t"],
                ", ".join(p["cn_codes"]) or "all",
                p["description"],
            ]
            for p in c["carbon_prices"]
        ],
    )
    _table(
        ws, row, ["Defaults used and why"], [[text] for text in c["defaults_used"]] or [["none"]]
    )
    _widths(ws)

    out.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out)
    return out
