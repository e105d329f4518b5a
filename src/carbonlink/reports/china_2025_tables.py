"""The tables of the 2025-guideline China ETS report, laid out in Chinese.

The figures come from `carbonlink.reports.china_2025`; these functions only give them their
titles, columns, units and notes (one place for the wording of the filing).
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, Any

from carbonlink.reports.document import Column, num, table

if TYPE_CHECKING:
    from carbonlink.domain.inventory import Inventory
    from carbonlink.reports.cets_entities import Entity
    from carbonlink.reports.china_2025 import CarbonBalance, GuidelineValue

CO2_PER_C = 44 / 12
T = "tCO2"
DEFAULTS_FILE = "steel_guideline_2025.csv"
"""The 2025 guideline's defaults as carbonlink ships them, in ``data/cets/``."""
C = "tC"
ETS_THRESHOLD_T = 26000.0
"""Inclusion threshold, t CO2e a year (MEE work plan of March 2025, 环气候〔2025〕23号, as
summarised in secondary sources; the primary text was not read)."""


def display_unit(unit: str) -> str:
    """A unit as the report prints it: ``10^4 Nm3`` → ``10⁴Nm³``, ``t C/GJ`` → ``tC/GJ``."""
    return (
        unit.replace("10^4 ", "10⁴")
        .replace("10^4", "10⁴")
        .replace("Nm3", "Nm³")
        .replace("t C/", "tC/")
    )


def basic_table(entity: Entity, inventory: Inventory, e_total: float) -> dict[str, Any]:
    facilities = {f.id: f for f in inventory.facilities}
    processes = "；".join(
        f"{p.label}（{p.units}）" if p.units else p.label for p in entity.processes
    )
    threshold = (
        f"达到（{e_total:,.0f} tCO2 ≥ {ETS_THRESHOLD_T:,.0f} tCO2e）"
        if e_total >= ETS_THRESHOLD_T
        else f"未达到（{e_total:,.0f} tCO2 < {ETS_THRESHOLD_T:,.0f} tCO2e），按自愿或地方要求报告"
    )
    rows = [
        ("重点排放单位名称", entity.name),
        ("统一社会信用代码", entity.uscc),
        ("法定代表人", entity.legal_representative),
        ("注册地址", entity.registered_address),
        ("生产经营场所地址", entity.production_address or entity.registered_address),
        ("所属行业", entity.industry),
        ("报告年度", f"{inventory.period.year} 年（{inventory.period.label}）"),
        (
            "核算边界内的设施",
            "；".join(
                entity.facility_names.get(f) or facilities[f].name or f for f in entity.facilities
            ),
        ),
        ("生产单元/工序", processes),
        ("填报联系人", f"{entity.contact.name}　{entity.contact.phone}　{entity.contact.email}"),
        ("纳入门槛（年排放 2.6 万 tCO2e）", threshold),
    ]
    return table(
        "一、重点排放单位基本信息",
        [Column("item", "项目"), Column("value", "内容")],
        [{"item": k, "value": v} for k, v in rows],
        note="纳入门槛见生态环境部 2025 年 3 月工作方案（环气候〔2025〕23号），据二手资料转述，"
        "未与原文核对。",
    )


def summary_table(
    e_total: float, e_processes: float, e_power: float, process_rows: list[dict[str, Any]]
) -> dict[str, Any]:
    rows = [{"item": "企业层级二氧化碳排放量（碳平衡法）", "tco2": e_total}]
    rows += [{"item": f"　{r['process']}工序", "tco2": r["tco2"]} for r in process_rows]
    rows.append({"item": "工序层级排放量合计", "tco2": e_processes})
    if any(r["code"] == "captive_power" for r in process_rows):
        rows.append({"item": "其中：自备电厂", "tco2": e_power})
    return table(
        "表 1　排放量汇总",
        [Column("item", "项目"), num("tco2", "二氧化碳排放量", T, 2)],
        rows,
        total={"item": "纳入全国碳市场的二氧化碳直接排放量", "tco2": e_total},
    )


def products_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return table(
        "附表 1　生产工序及主要产品产量",
        [
            Column("process", "工序"),
            Column("units", "生产单元"),
            Column("product", "主要产品"),
            num("quantity", "产量", "", 0),
            Column("unit", "单位"),
            Column("ad_source", "数据来源"),
        ],
        rows,
    )


def fuels_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return table(
        "附表 2　化石燃料碳输入",
        [
            Column("process", "工序"),
            Column("source", "排放源编号"),
            Column("fuel", "燃料品种"),
            num("activity", "消耗量", "", 2),
            Column("unit", "单位"),
            num("ncv", "低位发热量", "", 3),
            Column("ncv_unit", "单位"),
            Column("ncv_source", "来源"),
            num("cc", "单位热值含碳量", "tC/GJ", 5),
            Column("cc_source", "来源"),
            num("oxidation", "碳氧化率", "%", 1),
            Column("oxidation_source", "来源"),
            num("carbon", "碳输入量", C, 2),
            num("tco2", "折合二氧化碳", T, 2),
        ],
        rows,
        total={
            "fuel": "合计",
            "carbon": sum(r["carbon"] for r in rows),
            "tco2": sum(r["tco2"] for r in rows),
        },
        note="碳输入量 = 消耗量 × 低位发热量 × 单位热值含碳量 × 碳氧化率 / 100；"
        "消耗量数据来源为能源消耗统计台账。",
    )


def materials_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return table(
        "附表 3　含碳原料、产品的碳输入与碳输出（含外购生铁）",
        [
            Column("process", "工序"),
            Column("source", "编号"),
            Column("material", "物料"),
            Column("direction", "输入/输出"),
            num("activity", "数量", "", 2),
            Column("unit", "单位"),
            Column("ad_source", "数量来源"),
            num("cc", "含碳量", "tC/t", 5),
            Column("cc_source", "含碳量来源"),
            num("carbon", "碳量", C, 2),
            num("tco2", "对排放的贡献", T, 2),
        ],
        rows,
        total={"material": "合计（输入为正、输出为负）", "tco2": sum(r["tco2"] for r in rows)},
        note="碳量 = 数量 × 含碳量。",
    )


def transfers_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return table(
        "附表 4　工序间碳传递",
        [
            Column("material", "物料"),
            Column("from", "输出工序"),
            Column("to", "输入工序"),
            num("activity", "数量", "", 2),
            Column("unit", "单位"),
            num("ncv", "低位发热量", "GJ/10⁴Nm³", 3),
            num("cc", "单位热值含碳量", "tC/GJ", 5),
            num("carbon_content", "含碳量", "tC/t", 5),
            num("carbon", "碳量", C, 2),
            Column("ad_source", "数据来源"),
        ],
        rows,
        note="煤气：碳量 = 数量 × 低位发热量 × 单位热值含碳量；铁水等固体：碳量 = 数量 × 含碳量。"
        "传递的碳计入输出工序的碳输出和输入工序的碳输入，在企业层级相互抵消。",
    )


def balance_table(rows: list[dict[str, Any]], enterprise: CarbonBalance) -> dict[str, Any]:
    transfers = sum(r["transfer_in"] for r in rows)
    return table(
        "附表 5　工序层级和企业层级碳平衡",
        [
            Column("process", "工序"),
            num("fuel", "燃料碳输入", C, 2),
            num("material_in", "含碳原料碳输入", C, 2),
            num("transfer_in", "其他工序转入碳", C, 2),
            num("product_out", "产品等碳输出", C, 2),
            num("transfer_out", "转出至其他工序碳", C, 2),
            num("net", "净碳排放", C, 2),
            num("tco2", "二氧化碳排放量", T, 2),
        ],
        rows,
        total={
            "process": "企业层级",
            "fuel": enterprise.fuel,
            "material_in": enterprise.material_in,
            "transfer_in": transfers,
            "product_out": enterprise.product_out,
            "transfer_out": transfers,
            "net": enterprise.net,
            "tco2": enterprise.net * CO2_PER_C,
        },
        note="净碳排放 = 燃料碳输入 + 含碳原料碳输入 + 其他工序转入碳 − 产品等碳输出 − "
        "转出至其他工序碳；二氧化碳排放量 = 净碳排放 × 44/12。",
    )


def power_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return table(
        "附表 6　自备电厂",
        [
            num("generation", "发电量", "MWh", 0),
            num("supplied", "供电量", "MWh", 0),
            num("tco2", "二氧化碳排放量", T, 2),
            num("intensity", "发电排放强度", "tCO2/MWh", 4),
            Column("ad_source", "数据来源"),
        ],
        rows,
        note="排放量取附表 5 自备电厂工序的碳平衡结果；发电排放强度 = 排放量 / 发电量。",
    )


def energy_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return table(
        "附表 7　净购入电力和热力（信息项）",
        [
            Column("facility", "设施"),
            Column("kind", "类型"),
            num("activity", "数量", "", 2),
            Column("unit", "单位"),
            num("ef", "排放因子", "", 4),
            Column("ef_unit", "因子单位"),
            Column("ef_source", "因子编号"),
            num("tco2", "隐含排放量", T, 2),
        ],
        rows,
        note="电力排放因子取所在区域电网平均排放因子；输出热力为负值。本表不计入全国碳市场直接排放量。",
    )


def excluded_table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    by_key: dict[tuple[str, str, str], float] = defaultdict(float)
    for row in rows:
        by_key[(row["source"], row["gas"], row["reason"])] += row["tco2e"]
    return table(
        "附表 8　未计入的排放",
        [
            Column("source", "排放源编号"),
            Column("gas", "气体"),
            num("tco2e", "排放量", "tCO2e", 2),
            Column("reason", "原因"),
        ],
        [{"source": s, "gas": g, "tco2e": v, "reason": r} for (s, g, r), v in by_key.items()],
    )


def defaults_table(used: dict[str, GuidelineValue]) -> dict[str, Any]:
    rows = [
        {
            "id": v.factor_id,
            "name": v.name_zh,
            "parameter": {
                "ncv": "低位发热量",
                "carbon_per_heat": "单位热值含碳量",
                "oxidation": "碳氧化率",
                "carbon_content": "含碳量",
            }[v.parameter],
            "value": v.value,
            "unit": display_unit(v.unit),
            "status": v.note_zh,
        }
        for v in sorted(used.values(), key=lambda v: v.factor_id)
    ]
    return table(
        "附表 9　缺省值及其来源",
        [
            Column("id", "编号"),
            Column("name", "燃料/物料"),
            Column("parameter", "参数"),
            num("value", "数值", "", -1),
            Column("unit", "单位"),
            Column("status", "来源及核对状态"),
        ],
        rows,
        note=f"数据文件：carbonlink data/cets/{DEFAULTS_FILE}。",
    )
