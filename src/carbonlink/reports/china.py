"""China enterprise GHG report in the structure of GB/T 32150-2015 and the iron and steel guideline.

The guideline (NDRC 2013, 《中国钢铁生产企业温室气体排放核算方法与报告指南（试行）》) counts CO2:

    E = E_燃烧 + E_过程 + E_电和热 − R_固碳

E_燃烧 = Σ FC × NCV × CC × OF × 44/12 (fuel combustion), E_过程 fluxes, electrodes and other
carbon-bearing materials, E_电和热 net purchased electricity and heat × the grid (regional
average) and heat factors, R_固碳 carbon leaving in products. Other gases (CH4, N2O, HFCs) and
biogenic CO2 are listed apart, outside the total.
"""

from __future__ import annotations

import contextlib
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.inventory import Inventory
from carbonlink.domain.units import parse_quantity, to_unit
from carbonlink.errors import CarbonlinkError
from carbonlink.reports.document import Column, fact, num, subject_name_zh, table
from carbonlink.reports.inventory import factor_rows
from carbonlink.reports.lines import ReportLine, report_lines

SCHEMA = "carbonlink.report.china/1"
ROUND_DIGITS = 2
"""Decimals shown for t CO2 in the China report; the total is summed before rounding."""

GUIDELINE = "中国钢铁生产企业温室气体排放核算方法与报告指南（试行）（国家发展改革委，2013）"
STANDARD = "GB/T 32150-2015《工业企业温室气体排放核算和报告通则》"

SUBTITLES = {
    "cn-steel-2013": "依据《中国钢铁生产企业温室气体排放核算方法与报告指南（试行）》（2013）"
    "和 GB/T 32150-2015 编制",
    "gbt32150-2015": "依据 GB/T 32150-2015《工业企业温室气体排放核算和报告通则》编制",
}

KIND_ZH = {
    "carbonate": "碳酸盐（熔剂）",
    "process": "含碳原料",
    "mass_balance": "碳平衡",
    "generic": "其他",
}
GAS_REASON_ZH = {
    "CH4": "钢铁指南仅核算 CO2",
    "N2O": "钢铁指南仅核算 CO2",
}


def _source_zh(measured: bool) -> str:
    return "实测" if measured else "缺省"


def _converted(value: float, unit: str, target: str) -> float:
    return to_unit(parse_quantity(value, unit), target)


def _fuel_row(line: ReportLine) -> dict[str, Any]:
    params = {use.name: use for use in line.plan.parameters}
    ncv = params["ncv"]
    activity, unit = line.activity, line.unit
    # Consumption in the unit the NCV is per (10^4 Nm3 beside GJ/10^4 Nm3), not mixed.
    per = ncv.unit.split("/", 1)[1] if "/" in ncv.unit else ""
    if per and per != unit:
        # A consumption the NCV's unit cannot express (volume against mass) stays as metered.
        with contextlib.suppress(CarbonlinkError):
            activity, unit = _converted(activity, unit, per), per
    row: dict[str, Any] = {
        "facility": line.facility.id,
        "source": line.source.id,
        "fuel": subject_name_zh(line.plan.factor.subject),
        "activity": activity,
        "unit": unit,
        "ncv": ncv.value,
        "ncv_unit": ncv.unit,
        "ncv_source": _source_zh(ncv.measured),
        "tco2": line.tco2e,
    }
    if "carbon_content" in params:
        cc = params["carbon_content"]
        row |= {"cc": _converted(cc.value, cc.unit, "t/GJ"), "cc_source": _source_zh(cc.measured)}
    else:
        ef = params["ef_co2"]
        row |= {"cc": None, "cc_source": f"按 EF_CO2 {ef.value:g} {ef.unit} 计算"}
    if "oxidation" in params:
        ox = params["oxidation"]
        row |= {
            "oxidation": 100 * _converted(ox.value, ox.unit, "1"),
            "oxidation_source": _source_zh(ox.measured),
        }
    else:
        row |= {"oxidation": 100.0, "oxidation_source": "IPCC 方法取 100 %"}
    return row


def _factor_row(line: ReportLine, name: str) -> dict[str, Any]:
    params = {use.name: use for use in line.plan.parameters}
    use = params.get(name) or next(iter(params.values()))
    activity, unit, ef, ef_unit = line.activity, line.unit, use.value, use.unit
    if line.method == "electricity":
        # MWh with t CO2/MWh, as the national ETS prints them, whatever the factor table's unit.
        activity, unit = _converted(activity, unit, "MWh"), "MWh"
        ef, ef_unit = _converted(ef, ef_unit, "t/MWh"), "t/MWh"
    return {
        "facility": line.facility.id,
        "source": line.source.id + (f" / {line.stream}" if line.stream else ""),
        "activity": activity,
        "unit": unit,
        "ef": ef,
        "ef_unit": ef_unit,
        "ef_source": _source_zh(use.measured),
        "tco2": line.tco2e,
    }


def _sum(rows: list[dict[str, Any]], key: str = "tco2") -> float:
    return float(sum(row[key] for row in rows))


def build_china_report(
    inventory: Inventory,
    result: Computation,
    *,
    source_file: str | None = None,
    rulebook: str = "cn-steel-2013",
) -> dict[str, Any]:
    """The GB/T 32150 / iron and steel guideline report document (docs/reports.md).

    ``rulebook`` is ``cn-steel-2013`` (the NDRC 2013 trial guideline) or ``gbt32150-2015``
    (the general standard); the 2025 guideline has its own builder (`reports.china_2025`).
    """
    if rulebook not in SUBTITLES:
        raise ValueError(f"unknown rulebook {rulebook!r}: use one of {', '.join(SUBTITLES)}")
    lines = report_lines(inventory, result)
    co2 = [x for x in lines if x.gas == "CO2"]

    fuel_rows = [_fuel_row(x) for x in co2 if x.method == "combustion" and x.scope == "1"]

    process_rows = []
    for line in co2:
        if line.scope != "1" or line.method not in KIND_ZH:
            continue
        name = "carbon_fraction" if line.method == "mass_balance" else "ef_co2"
        subject = line.plan.factor.subject
        process_rows.append(
            _factor_row(line, name)
            | {"kind": KIND_ZH[line.method], "material": subject_name_zh(subject)}
        )

    energy_rows = []
    for line in co2:
        if line.method not in ("electricity", "heat") or line.scope not in (
            "2_location",
            "exported",
        ):
            continue
        kind = {"electricity": "电力", "heat": "热力"}[line.method]
        direction = "输出" if line.scope == "exported" else "净购入"
        name = "ef_grid" if line.method == "electricity" else "ef_heat"
        energy_rows.append(_factor_row(line, name) | {"kind": f"{direction}{kind}"})

    fixed_rows = [
        _factor_row(line, "ef_co2")
        | {"product": subject_name_zh(line.plan.factor.subject), "tco2": -line.tco2e}
        for line in co2
        if line.method == "carbon_fixed"
    ]

    excluded = [
        {
            "facility": line.facility.id,
            "source": line.source.id,
            "gas": line.gas,
            "tco2e": line.tco2e,
            "reason": "生物质 CO2 单独报告"
            if line.scope == "biogenic"
            else "范围三，不属于企业边界"
            if line.scope == "3"
            else GAS_REASON_ZH.get(line.gas, f"钢铁指南仅核算 CO2，{line.gas} 不计入"),
        }
        for line in lines
        if (line.gas != "CO2" and line.scope == "1") or line.scope in ("biogenic", "3")
    ]

    counted = [
        x
        for x in co2
        if x.scope == "1"
        or (x.method in ("electricity", "heat") and x.scope in ("2_location", "exported"))
    ]
    source_rows = factor_rows(counted)
    e_fuel = _sum(fuel_rows)
    e_process = _sum(process_rows)
    e_electricity = _sum([r for r in energy_rows if r["kind"].endswith("电力")])
    e_heat = _sum([r for r in energy_rows if r["kind"].endswith("热力")])
    r_fixed = _sum(fixed_rows)
    total = e_fuel + e_process + e_electricity + e_heat - r_fixed
    summary_rows: list[dict[str, Any]] = [
        {"item": "燃料燃烧排放", "en": "Fuel combustion", "tco2": e_fuel},
        {"item": "工业生产过程排放", "en": "Industrial processes", "tco2": e_process},
        {"item": "净购入电力隐含的排放", "en": "Net purchased electricity", "tco2": e_electricity},
        {"item": "净购入热力隐含的排放", "en": "Net purchased heat", "tco2": e_heat},
        {
            "item": "固碳产品隐含的排放 (扣除)",
            "en": "Carbon fixed in products (subtracted)",
            "tco2": -r_fixed,
        },
    ]
    rounded_total = round(sum(round(r["tco2"], ROUND_DIGITS) for r in summary_rows), ROUND_DIGITS)
    facilities = [
        {"id": f.id, "name": f.name or f.id, "grid": f.grid or "—", "timezone": f.timezone}
        for f in inventory.facilities
    ]
    t = "t CO2"
    return {
        "schema": SCHEMA,
        "report": "china",
        "title": "企业温室气体排放报告",
        "rulebook": rulebook,
        "subtitle": SUBTITLES[rulebook],
        "organization": inventory.organization,
        "period": {
            "start": inventory.period.start.isoformat(),
            "end": inventory.period.end.isoformat(),
        },
        "gwp_set": inventory.gwp,
        "unit": t,
        "source_file": source_file,
        "basic_information": {
            "enterprise": inventory.organization,
            "reporting_year": inventory.period.year,
            "period": inventory.period.label,
            "industry": "钢铁生产",
            "standards": [STANDARD] if rulebook == "gbt32150-2015" else [GUIDELINE, STANDARD],
            "boundary": "法人边界内全部设施（见下表）",
            "facilities": facilities,
        },
        "totals": {
            "fuel_combustion": e_fuel,
            "process": e_process,
            "purchased_electricity": e_electricity,
            "purchased_heat": e_heat,
            "carbon_fixed": r_fixed,
            "total": total,
            "total_rounded": rounded_total,
        },
        "facts": [
            fact("total", "企业温室气体排放总量", total, t),
            fact("fuel_combustion", "燃料燃烧排放", e_fuel, t),
            fact("process", "工业生产过程排放", e_process, t),
            fact(
                "purchased_energy",
                "净购入电力和热力",
                e_electricity + e_heat,
                t,
            ),
            fact("carbon_fixed", "固碳产品隐含的排放", r_fixed, t),
        ],
        "tables": {
            "fuel_combustion": table(
                "表1 燃料燃烧排放",
                [
                    Column("facility", "设施"),
                    Column("source", "排放源"),
                    Column("fuel", "燃料品种"),
                    num("activity", "消耗量", "", 2),
                    Column("unit", "单位"),
                    num("ncv", "低位发热量", "", 3),
                    Column("ncv_unit", "NCV 单位"),
                    Column("ncv_source", "NCV 来源"),
                    num("cc", "单位热值含碳量", "t C/GJ", 5),
                    Column("cc_source", "含碳量来源"),
                    num("oxidation", "碳氧化率", "%", 1),
                    Column("oxidation_source", "氧化率来源"),
                    num("tco2", "排放量", t, ROUND_DIGITS),
                ],
                fuel_rows,
                total={"fuel": "合计", "tco2": e_fuel},
                note="E = FC × NCV × CC × OF × 44/12 (GB/T 32150-2015 式 (2))",
            ),
            "process": table(
                "表2 工业生产过程排放",
                [
                    Column("facility", "设施"),
                    Column("material", "原料"),
                    Column("kind", "类别"),
                    num("activity", "消耗量", "", 2),
                    Column("unit", "单位"),
                    num("ef", "排放因子", "", 5),
                    Column("ef_unit", "因子单位"),
                    Column("ef_source", "来源"),
                    num("tco2", "排放量", t, ROUND_DIGITS),
                ],
                process_rows,
                total={"material": "合计", "tco2": e_process},
                note="E = M × EF (熔剂、电极、含碳原料)",
            ),
            "purchased_energy": table(
                "表3 净购入电力和热力隐含的排放",
                [
                    Column("facility", "设施"),
                    Column("kind", "类型"),
                    num("activity", "数量", "", 2),
                    Column("unit", "单位"),
                    num("ef", "排放因子", "", 5),
                    Column("ef_unit", "因子单位"),
                    Column("ef_source", "来源"),
                    num("tco2", "排放量", t, ROUND_DIGITS),
                ],
                energy_rows,
                total={"kind": "合计", "tco2": e_electricity + e_heat},
                note="电力按所在区域电网平均排放因子；输出的电力和热力为负值。",
            ),
            "carbon_fixed": table(
                "表4 固碳产品隐含的排放",
                [
                    Column("facility", "设施"),
                    Column("product", "产品"),
                    num("activity", "产量", "", 2),
                    Column("unit", "单位"),
                    num("ef", "排放因子", "", 5),
                    Column("ef_unit", "因子单位"),
                    Column("ef_source", "来源"),
                    num("tco2", "固碳量", t, ROUND_DIGITS),
                ],
                fixed_rows,
                total={"product": "合计", "tco2": r_fixed},
                note="从总量中扣除",
            ),
            "total": table(
                "表5 排放总量",
                [
                    Column("item", "项目"),
                    num("tco2", "排放量", t, ROUND_DIGITS),
                ],
                summary_rows,
                total={"item": "企业温室气体排放总量", "en": "Total emissions", "tco2": total},
            ),
            "excluded": table(
                "表6 未计入总量的排放",
                [
                    Column("facility", "设施"),
                    Column("source", "排放源"),
                    Column("gas", "气体"),
                    num("tco2e", "排放量", "t CO2e", ROUND_DIGITS),
                    Column("reason", "原因"),
                ],
                excluded,
            ),
            "sources": table(
                "表7 参数来源",
                [
                    Column("id", "编号"),
                    Column("parameter", "参数"),
                    num("value", "数值", "", -1),
                    Column("unit", "单位"),
                    Column("tier", "类别"),
                    Column("document", "文件"),
                    Column("table", "表"),
                    Column("year", "年份"),
                ],
                source_rows,
            ),
        },
        "notes": [
            f"排放量保留 {ROUND_DIGITS} 位小数；总量按未取整数值合计。",
            "来源：实测 = 企业实测值；缺省 = 指南缺省值（2013 年指南附录二）。",
        ],
    }
