"""Fill the official DG TAXUD CBAM communication template from a carbonlink communication.

The user downloads the Commission's workbook ("CBAM Communication template for installations",
version of 13 Dec 2024) and points carbonlink at it; carbonlink writes the input cells of
A_InstData, D_Processes, E_PurchPrec and the product rows of Summary_Products, so that the
workbook's own formulas (InputOutput, Summary_Products) compute the SEE. ``recalculate`` runs
LibreOffice headless over the filled copy; ``read_summary_products`` reads the computed SEE back.

Cell addresses come from the 13 Dec 2024 workbook: D_Processes has 10 process blocks of 65 rows
starting at row 11, E_PurchPrec 20 precursor blocks of 44 rows starting at row 14.

The fill writes the input cells straight into the sheets' XML (``workbook_cells``) instead of
loading the workbook into openpyxl and saving it again: that takes a fraction of a second rather
than many, and leaves everything else in the Commission's file exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl

from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.reports.workbook_cells import CellValue, write_cells

Edits = dict[str, dict[str, CellValue]]
"""Cell values to write, per sheet name and A1 reference."""

PROCESS_BLOCK_START, PROCESS_BLOCK_ROWS, MAX_PROCESSES = 11, 65, 10
PRECURSOR_BLOCK_START, PRECURSOR_BLOCK_ROWS, MAX_PRECURSORS = 14, 44, 20
GOODS_ROWS = range(62, 72)
PROCESS_ROWS = range(83, 93)
PURCHASED_ROWS = range(102, 122)
PRODUCT_FIRST_ROW, PRODUCT_LAST_ROW = 10, 313
ONLY_DIRECT = "Only direct production"
ALL_ROUTES = "All production routes"
REQUIRED_SHEETS = (
    "A_InstData",
    "B_EmInst",
    "C_Emissions&Energy",
    "D_Processes",
    "E_PurchPrec",
    "Summary_Products",
    "InputOutput",
    "Parameters_Constants",
    "c_CodeLists",
)
# Qualifying parameters of carbonlink goods → Summary_Products columns. Contents are mass
# fractions: the template formats these cells as percentages.
QUALIFYING_COLUMNS = {
    "reducing_agent": "P",
    "mill_id": "Q",
    "mn_content": "R",
    "cr_content": "S",
    "ni_content": "T",
    "other_alloys_content": "U",
    "carbon_content": "V",
    "scrap_t_per_t_steel": "W",
    "other_materials_content": "X",
    "pre_consumer_scrap_share": "Y",
    "scrap_t_per_t_aluminium": "Z",
    "non_aluminium_content": "AA",
    "clinker_factor": "AB",
}
SOURCE_STREAM_ROWS = range(17, 92)
VERIFIER_CELLS = {
    "company": "I37",
    "street": "I38",
    "city": "I39",
    "post_code": "I40",
    "country": "I41",
    "representative": "I45",
    "email": "I46",
    "phone": "I47",
    "fax": "I48",
    "accreditation_state": "I51",
    "accreditation_body": "I52",
    "accreditation_number": "I53",
}
NOT_VERIFIED = "Not verified"
DATA_QUALITY_DEFAULT = (
    "Mostly measurements & national standard factors for e.g. the emission factor"
)


class TemplateError(CarbonlinkError, ValueError):
    """The workbook is not the expected official template, or the data do not fit into it."""


class RecalculationError(CarbonlinkError, RuntimeError):
    """LibreOffice is missing or failed to recalculate the workbook."""


@dataclass(frozen=True)
class _Lists:
    """The template's code lists, read from the cached values of its hidden sheets."""

    categories: dict[str, str]  # stripped name → exact template name
    routes: dict[str, list[str]]
    countries: dict[str, str]  # ISO code → template country name


def _read_template(path: Path) -> _Lists:
    """Check that ``path`` is the official template and read its code lists.

    Lists (categories, routes, countries) are formulas in the template: their cached values are
    read, in openpyxl's streaming mode, which does not build the whole workbook.
    """
    if not path.is_file():
        raise TemplateError(
            f"official template not found: {path}",
            file=str(path),
            hint="download 'CBAM Communication template for installations' from the Commission",
        )
    with warnings.catch_warnings():
        # openpyxl announces that it ignores the template's conditional-formatting extensions.
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        missing = [name for name in REQUIRED_SHEETS if name not in wb.sheetnames]
        if missing or wb["D_Processes"]["C11"].value != 1 or wb["A_InstData"]["D62"].value != "G1":
            raise TemplateError(
                "this workbook does not look like the CBAM communication template (13 Dec 2024)"
                + (f"; missing sheets: {', '.join(missing)}" if missing else ""),
                file=str(path),
            )
        categories: dict[str, str] = {}
        routes: dict[str, list[str]] = {}
        for row in wb["Parameters_Constants"].iter_rows(
            min_row=89, max_row=106, max_col=16, values_only=True
        ):
            name = str(row[0])
            categories[name.strip()] = name
            routes[name.strip()] = [str(v) for v in row[6:16] if v and v != "n.a."]
        countries = {
            str(code): str(name)
            for code, name in wb["c_CodeLists"].iter_rows(
                min_row=11, max_row=277, min_col=6, max_col=7, values_only=True
            )
            if code
        }
    finally:
        wb.close()
    return _Lists(categories, routes, countries)


def _route_index(routes: dict[str, list[str]], category: str, route: str) -> int:
    """0-based position of ``route`` among the category's routes (0 when it has only one)."""
    options = routes.get(category.strip(), [])
    if route in options:
        return options.index(route)
    if not route or route == ALL_ROUTES or options in ([ALL_ROUTES], []):
        return 0
    raise TemplateError(
        f"route {route!r} is not a route of {category!r} in the template",
        hint="use one of: " + ", ".join(options),
    )


def _justification(text: str) -> str:
    lowered = text.lower()
    if "cost" in lowered:
        return "Unreasonable costs for more accurate monitoring"
    if "gap" in lowered or "not available" in lowered or "no data" in lowered:
        return "Data gaps"
    return "Other"


def fill_official_template(
    template_path: Path, communication: dict[str, Any], out_path: Path
) -> Path:
    """Write the communication into a copy of the official workbook's input cells.

    The template itself is never modified; the filled copy goes to ``out_path``. Formulas are
    left to the spreadsheet: run ``recalculate`` (or open it in Excel) to see its results.
    """
    lists = _read_template(Path(template_path))
    wb: Edits = {name: {} for name in ("A_InstData", "D_Processes", "E_PurchPrec")}
    wb |= {"Summary_Products": {}, "Summary_Processes": {}}
    c = communication
    processes = c["processes"]
    purchased = c["purchased_precursors"]
    if len(processes) > MAX_PROCESSES or len(purchased) > MAX_PRECURSORS:
        raise TemplateError(
            f"{len(processes)} processes / {len(purchased)} purchased precursors do not fit the "
            f"template ({MAX_PROCESSES} / {MAX_PRECURSORS})",
            hint="merge processes or communicate the installation in two workbooks",
        )
    routes = lists.routes
    countries = lists.countries

    a = wb["A_InstData"]
    period = c["reporting_period"]
    a["I9"] = date.fromisoformat(period["start"])
    a["L9"] = date.fromisoformat(period["end"])
    site = c["installation"]
    country = site["address"]["country"]
    if country not in countries:
        raise TemplateError(f"country code {country!r} is not in the template's code list")
    for cell, value in {
        "I19": site["name"],
        "I20": site["name"],
        "I21": site["address"]["street"],
        "I22": site["economic_activity"],
        "I23": site["address"]["post_code"],
        "I25": site["address"]["city"],
        "I26": countries[country],
        "I27": site["unlocode"],
        "I28": site["coordinates"]["latitude"],
        "I29": site["coordinates"]["longitude"],
        "I30": site["contact"]["name"],
        "I31": site["contact"]["email"],
        "I32": site["contact"]["phone"],
    }.items():
        a[cell] = value

    categories: list[str] = []
    category_routes: dict[str, list[str]] = {}
    for p in processes:
        name = next((k for k in routes if k == p["goods_category"].strip()), None)
        if name is None:
            raise TemplateError(f"goods category {p['goods_category']!r} unknown to the template")
        if name not in categories:
            categories.append(name)
            category_routes[name] = []
        if p["route"] and p["route"] != ALL_ROUTES and p["route"] not in category_routes[name]:
            category_routes[name].append(p["route"])
    if len(categories) > len(GOODS_ROWS):
        raise TemplateError(f"{len(categories)} goods categories exceed the template's 10")
    template_name = lists.categories
    for row, name in zip(GOODS_ROWS, categories, strict=False):
        a[f"E{row}"] = template_name[name]
        for col, route in zip("IJKLMN", category_routes[name], strict=False):
            _route_index(routes, name, route)
            a[f"{col}{row}"] = route
    for row, p in zip(PROCESS_ROWS, processes, strict=False):
        a[f"E{row}"] = template_name[p["goods_category"].strip()]
        a[f"F{row}"] = ONLY_DIRECT
        a[f"L{row}"] = p["name"]
    listed = _template_precursors(purchased)
    if len(listed) > MAX_PRECURSORS:
        raise TemplateError(
            f"{len(listed)} purchased precursors (a supplier's default share counts as one "
            f"more) do not fit the template ({MAX_PRECURSORS})",
            hint="communicate the installation in two workbooks",
        )
    for row, pre in zip(PURCHASED_ROWS, listed, strict=False):
        a[f"E{row}"] = template_name[pre["goods_category"].strip()]
        a[f"F{row}"] = pre["country"]
        if pre["route"] and pre["route"] != ALL_ROUTES:
            _route_index(routes, pre["goods_category"], pre["route"])
            a[f"G{row}"] = pre["route"]
        a[f"L{row}"] = pre["name"]

    verifier = c.get("verifier") or {}
    for key, cell in VERIFIER_CELLS.items():
        a[cell] = verifier.get(key) or NOT_VERIFIED

    wb |= {"B_EmInst": {}, "C_Emissions&Energy": {}}
    _fill_source_streams(wb, c)
    _fill_processes(wb, processes, routes)
    _fill_purchased(wb, processes, purchased, routes)
    _fill_products(wb, c)
    notes = []
    if c["carbon_prices"]:
        wb["Summary_Processes"]["M13"] = "; ".join(
            f"{p['instrument']}: {p['amount']} {p['currency']}" for p in c["carbon_prices"]
        )
        described = [p["description"] for p in c["carbon_prices"] if p["description"]]
        if described:
            wb["Summary_Processes"]["M14"] = "; ".join(described)
    for pre in purchased:
        default = pre.get("default")
        if default:
            notes.append(
                f"{pre['name']}: default SEE (direct) {default['base_see_direct']:g} t CO2e/t "
                f"({default['source'] or 'Commission default values'}) "
                f"+ {default['markup']:.0%} mark-up ({c['methodology']['markup_year']}) "
                f"= {pre['see_direct']:g} t CO2e/t entered; electricity and its factor as "
                f"published; why a default: {default['justification']}"
            )
        elif pre.get("default_share"):
            notes.append(
                f"{pre['name']}: {pre['default_share']:.4%} of the supplier's direct SEE stems "
                "from default values; entered as two purchased precursors (default and actual "
                "part, in that mass ratio)"
            )
    if c.get("remarks"):
        notes.append(c["remarks"])
    if notes:
        wb["Summary_Processes"]["M16"] = " | ".join(notes)

    return write_cells(Path(template_path), Path(out_path), wb)


def _fill_processes(
    wb: Edits, processes: list[dict[str, Any]], routes: dict[str, list[str]]
) -> None:
    ws = wb["D_Processes"]
    ids = [p["id"] for p in processes]
    consumers: dict[str, dict[str, float]] = {pid: {} for pid in ids}
    for p in processes:
        for use in p["precursors"]:
            if use["kind"] == "own":
                consumers[use["source"]][p["id"]] = use["mass_t"]
    for k, p in enumerate(processes):
        o = PROCESS_BLOCK_START + PROCESS_BLOCK_ROWS * k - 11
        # The template lists every route of the category and wants an amount in each.
        route_index = _route_index(routes, p["goods_category"], p["route"])
        for index in range(max(len(routes.get(p["goods_category"].strip(), [])), 1)):
            ws[f"L{16 + index + o}"] = p["activity_level_t"] if index == route_index else 0.0
        ws[f"L{27 + o}"] = p["produced_for_market_t"]
        others = [pid for pid in ids if pid != p["id"]]
        for pos, other in enumerate(others):
            ws[f"L{32 + pos + o}"] = consumers[p["id"]].get(other, 0.0)
        ws[f"L{41 + o}"] = p["non_cbam_use_t"]
        heat, gas, el = p["heat"], p["waste_gas"], p["electricity"]
        has_heat = bool(heat["imported_tj"] or heat["exported_tj"])
        has_gas = bool(gas["imported_tj"] or gas["exported_tj"])
        ws[f"K{50 + o}"] = has_heat
        ws[f"L{50 + o}"] = has_gas
        ws[f"M{50 + o}"] = True
        ws[f"L{54 + o}"] = p["attributed_emissions"]["direct_emissions_t"]
        if has_heat:
            ws[f"L{57 + o}"] = heat["imported_tj"]
            ws[f"M{57 + o}"] = heat["exported_tj"]
            ws[f"L{58 + o}"] = heat["imported_ef_t_per_tj"] or 0.0
            ws[f"M{58 + o}"] = heat["exported_ef_t_per_tj"] or 0.0
        if has_gas:
            # The template corrects with EF_NG itself; these cells hold the gas's own factor.
            ws[f"L{61 + o}"] = gas["imported_tj"]
            ws[f"M{61 + o}"] = gas["exported_tj"]
            for column, key in (("L", "imported_ef_t_per_tj"), ("M", "exported_ef_t_per_tj")):
                if gas.get(key) is not None:
                    ws[f"{column}{62 + o}"] = gas[key]
        ws[f"L{65 + o}"] = el["consumed_mwh"]
        ws[f"L{66 + o}"] = el["ef_t_per_mwh"]
        if el["ef_source_code"]:
            ws[f"L{67 + o}"] = el["ef_source_code"]
        ws[f"L{71 + o}"] = el["exported_mwh"]
        ws[f"L{72 + o}"] = el["exported_ef_t_per_mwh"]


def _template_precursors(purchased: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Purchased precursors as the template takes them: a supplier's default share split off.

    The template marks a precursor's SEE as measured or default as a whole. A supplier SEE of
    which a share stems from default values (e.g. coil made from default-valued pig iron) is
    entered as two precursors with the same SEE, the default part carrying that share of the
    mass, so that the template's share of default values equals carbonlink's.
    """
    out: list[dict[str, Any]] = []
    for pre in purchased:
        share = pre.get("default_share") or 0.0
        if pre["origin"] == "default" or not share:
            out.append(pre | {"mass_share": 1.0, "marked_default": pre["origin"] == "default"})
            continue
        out.append(
            pre
            | {
                "name": f"{pre['name']} (default-value part)",
                "mass_share": share,
                "marked_default": True,
                "template_justification": "Other",
            }
        )
        out.append(
            pre
            | {
                "name": f"{pre['name']} (actual part)",
                "mass_share": 1.0 - share,
                "marked_default": False,
            }
        )
    return out


def _fill_purchased(
    wb: Edits,
    processes: list[dict[str, Any]],
    purchased: list[dict[str, Any]],
    routes: dict[str, list[str]],
) -> None:
    ws = wb["E_PurchPrec"]
    for j, pre in enumerate(_template_precursors(purchased)):
        o = PRECURSOR_BLOCK_START + PRECURSOR_BLOCK_ROWS * j - 14
        share = pre["mass_share"]
        route_index = _route_index(routes, pre["goods_category"], pre["route"])
        for index in range(max(len(routes.get(pre["goods_category"].strip(), [])), 1)):
            amount = pre["purchased_t"] * share if index == route_index else 0.0
            ws[f"L{17 + index + o}"] = amount
        consumed = 0.0
        for k, p in enumerate(processes):
            mass = share * sum(u["mass_t"] for u in p["precursors"] if u["source"] == pre["id"])
            ws[f"L{28 + k + o}"] = mass
            consumed += mass
        ws[f"L{38 + o}"] = max(pre["purchased_t"] * share - consumed, 0.0)
        word = "Default" if pre["marked_default"] else "Measured"
        # A default's direct SEE is entered with its mark-up (shown in Summary_Processes
        # "Any additional information"); its electricity and factor as published.
        ws[f"L{49 + o}"] = pre["see_direct"]
        ws[f"M{49 + o}"] = word
        ws[f"L{50 + o}"] = pre["specific_electricity_mwh_per_t"]
        ws[f"M{50 + o}"] = "Default" if pre["origin"] == "default" else "Measured"
        ws[f"L{51 + o}"] = pre["electricity_ef_t_per_mwh"]
        if pre["electricity_ef_source_code"]:
            ws[f"M{51 + o}"] = pre["electricity_ef_source_code"]
        if pre["marked_default"]:
            ws[f"K{54 + o}"] = pre.get("template_justification") or _justification(
                pre["default"]["justification"]
            )


def _fill_source_streams(wb: Edits, c: dict[str, Any]) -> None:
    """B_EmInst source streams and C_Emissions&Energy totals, fuel balance and data quality.

    Source streams come from the inventory the communication was read from; a communication
    stating its totals instead gets them as C_Emissions&Energy's manual entries.
    """
    b, e = wb["B_EmInst"], wb["C_Emissions&Energy"]
    basis = c.get("inventory_basis") or {}
    streams = basis.get("source_streams") or []
    if len(streams) > len(SOURCE_STREAM_ROWS):
        raise TemplateError(f"{len(streams)} source streams exceed the template's 75 rows")
    assigned: set[str] = set()
    for key, used in (basis.get("figures") or {}).items():
        if key.endswith("/direct_emissions_t"):
            assigned |= set(used["sources"])
    cbam_fuel = other_fuel = 0.0
    for row, stream in zip(SOURCE_STREAM_ROWS, streams, strict=False):
        if stream["approach"] is None:
            raise TemplateError(
                f"source stream {stream['source']!r} is stated in {stream['activity_unit']}, "
                "which the template cannot take (t or 1000 Nm3)",
                record=stream["source"],
            )
        b[f"D{row}"] = stream["approach"]
        b[f"E{row}"] = stream["name"]
        b[f"F{row}"] = stream["activity"]
        b[f"G{row}"] = stream["activity_unit"]
        for column, key in (
            ("H", "ncv"),
            ("J", "emission_factor"),
            ("K", "emission_factor_unit"),
            ("L", "carbon_content"),
            ("N", "oxidation_pct"),
            ("P", "conversion_pct"),
        ):
            if stream.get(key) is not None:
                b[f"{column}{row}"] = stream[key]
        b[f"R{row}"] = 0.0
        if stream.get("energy_tj"):
            if stream["source"] in assigned:
                cbam_fuel += stream["energy_tj"]
            else:
                other_fuel += stream["energy_tj"]
    emissions = c["installation_emissions"]
    if streams:
        e["I16"] = cbam_fuel
        e["J16"] = 0.0
        e["K16"] = other_fuel
    elif emissions["direct_t"] is not None:
        e["H26"] = emissions["direct_t"]
    if emissions["indirect_t"] is not None:
        e["M26"] = emissions["indirect_t"]
    quality = c.get("data_quality") or {}
    e["H40"] = quality.get("general") or DATA_QUALITY_DEFAULT
    justification = quality.get("default_justification")
    if not justification:
        defaults = [
            p["default"]["justification"] for p in c["purchased_precursors"] if p["default"]
        ]
        justification = _justification(defaults[0]) if defaults else ""
        if not justification and any(p.get("default_share") for p in c["purchased_precursors"]):
            justification = "Other"
    if justification:
        e["H41"] = justification
    e["H42"] = quality.get("quality_assurance") or (
        "Third-party verification" if c.get("verifier") else "None"
    )


def _fill_products(wb: Edits, c: dict[str, Any]) -> None:
    ws = wb["Summary_Products"]
    names = {p["id"]: p["name"] for p in c["processes"]}
    goods = c["goods"]
    if len(goods) > PRODUCT_LAST_ROW - PRODUCT_FIRST_ROW + 1:
        raise TemplateError(f"{len(goods)} products exceed the template's product rows")
    for i, good in enumerate(goods):
        row = PRODUCT_FIRST_ROW + i
        ws[f"D{row}"] = names[good["process_id"]]
        ws[f"F{row}"] = good["cn_code"]
        ws[f"H{row}"] = good["name"]
        for key, value in good["qualifying_parameters"].items():
            column = QUALIFYING_COLUMNS.get(key)
            if column:
                ws[f"{column}{row}"] = value
        price = good.get("carbon_price")
        if price:
            for column, key in (
                ("AL", "instrument_type"),
                ("AM", "share_covered"),
                ("AP", "currency"),
                ("AR", "price_due_per_t"),
                ("AT", "rebate_type"),
                ("AU", "rebate_share"),
                ("AX", "rebate_per_t"),
            ):
                if price[key] not in (None, ""):
                    ws[f"{column}{row}"] = price[key]


def libreoffice_binary() -> str | None:
    """The LibreOffice executable on PATH, if any."""
    return shutil.which("soffice") or shutil.which("libreoffice")


_RECALC_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry"
 xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load">
 <prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def recalculate(
    path: Path, out_dir: Path, *, convert_to: str = "xlsx", timeout: float = 240
) -> Path:
    """Open ``path`` in LibreOffice headless, recalculate every formula and save a copy.

    A throw-away user profile tells LibreOffice to always recalculate OOXML files on load
    (its default keeps the cached values, and a workbook saved by openpyxl has none).
    """
    binary = libreoffice_binary()
    if binary is None:
        raise RecalculationError(
            "LibreOffice (soffice) is not installed",
            hint="apt-get install -y libreoffice-calc",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="carbonlink-lo-") as profile:
        user = Path(profile) / "user"
        user.mkdir()
        (user / "registrymodifications.xcu").write_text(_RECALC_PROFILE, encoding="utf-8")
        work = Path(profile) / "in"
        work.mkdir()
        source = work / path.name
        shutil.copyfile(path, source)
        command = [
            binary,
            f"-env:UserInstallation={Path(profile).as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            convert_to,
            "--outdir",
            str(out_dir),
            str(source),
        ]
        env = {**os.environ, "HOME": profile}
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout, env=env, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise RecalculationError(f"LibreOffice took longer than {timeout:.0f} s") from exc
    target = out_dir / f"{path.stem}.{convert_to.split(':')[0]}"
    if done.returncode != 0 or not target.is_file():
        raise RecalculationError(
            f"LibreOffice failed (exit {done.returncode}): {done.stderr.strip()[:300]}",
            file=str(path),
        )
    return target


def read_summary_products(path: Path) -> list[dict[str, Any]]:
    """Computed rows of Summary_Products (process, CN code, SEE direct/indirect/total)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        wb = openpyxl.load_workbook(path, data_only=True)
    ws = wb["Summary_Products"]
    rows = []
    for row in range(PRODUCT_FIRST_ROW, PRODUCT_LAST_ROW + 1):
        process = ws[f"D{row}"].value
        if not process:
            continue
        rows.append(
            {
                "process": process,
                "goods_category": ws[f"E{row}"].value,
                "cn_code": str(ws[f"F{row}"].value),
                "name": ws[f"H{row}"].value,
                "see_direct": ws[f"I{row}"].value,
                "see_indirect": ws[f"J{row}"].value,
                "see_total": ws[f"K{row}"].value,
                "default_share": ws[f"M{row}"].value,
                "electricity_source": ws[f"N{row}"].value,
                "embedded_electricity_mwh_per_t": ws[f"O{row}"].value,
                "carbon_price_covered": ws[f"AN{row}"].value,
                # The template's own completeness check of the row: TRUE when complete.
                "complete": ws[f"BI{row}"].value,
            }
        )
    if not rows:
        raise InputError("Summary_Products has no product rows", file=str(path))
    return rows
