"""China national ETS report for steel by the MEE's 2025 guideline: one per legal entity.

The Ministry of Ecology and Environment issued 《企业温室气体排放核算与报告指南 钢铁行业》 on
21 January 2025 (code cited as CETS-AG-03.01-V01-2024). As summarised by Climate Cooperation
China (IKI, "MEE releases guidelines for integrating the iron and steel sectors into the carbon
market", 2025) it accounts enterprise and process level at the same time, treats the captive
power plant as a process of its own, and computes both levels by carbon mass balance: a
process emits the carbon that enters it and does not leave it.

    C_fuel  = AD × NCV × CC × OF / 100        (t C; AD in t or 10^4 Nm3, NCV in GJ per unit,
                                               CC in t C/GJ, OF in %)
    C_mat   = AD × C                          (t C; C in t C/t)
    E_p     = (Σ C_in,p − Σ C_out,p) × 44/12  (t CO2, process p; inputs are fuels, carbon-bearing
                                               materials and carbon received from other processes)
    E_ent   = (Σ C_in − Σ C_out) × 44/12      (t CO2, the entity; flows between processes cancel)

so Σ_p E_p = E_ent. The national ETS covers direct CO2 only: E_ent is the figure the entity is
accountable for. Purchased electricity and heat are printed for information. The guideline's
default table was not read here; the defaults used (``data/cets/steel_guideline_2025.csv``) say
so row by row, and the report prints that status beside each value.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from carbonlink.domain.engine import Computation
from carbonlink.domain.inventory import Inventory, Source
from carbonlink.domain.units import parse_quantity, to_unit
from carbonlink.errors import InputError
from carbonlink.reports import china_2025_tables as tables
from carbonlink.reports.cets_entities import PROCESS_NAMES, Entity
from carbonlink.reports.china_2025_tables import CO2_PER_C, DEFAULTS_FILE, T, display_unit
from carbonlink.reports.document import Column, fact, num, subject_name_zh, table
from carbonlink.reports.lines import ReportLine, report_lines

__all__ = [
    "GUIDELINE_2025",
    "PROCESS_NAMES",
    "SCHEMA",
    "build_china_2025_reports",
    "build_entity_report",
    "guideline_values",
]

SCHEMA = "carbonlink.report.china-steel-2025/1"
GUIDELINE_2025 = "《企业温室气体排放核算与报告指南 钢铁行业》（生态环境部，2025 年 1 月 21 日印发）"
MEASURED = "实测"
DEFAULT = "缺省值"


@dataclass(frozen=True, slots=True)
class GuidelineValue:
    """A default value of the 2025 guideline as carbonlink ships it, with its status."""

    factor_id: str
    subject: str
    name_zh: str
    parameter: str
    value: float
    unit: str
    status: str
    source: str
    note_zh: str


@lru_cache(maxsize=1)
def guideline_values() -> dict[tuple[str, str], GuidelineValue]:
    """The shipped defaults by (subject, parameter)."""
    text = resources.files("carbonlink.data").joinpath("cets", DEFAULTS_FILE).read_text("utf-8")
    return {
        (row["subject"], row["parameter"]): GuidelineValue(
            row["factor_id"],
            row["subject"],
            row["name_zh"],
            row["parameter"],
            float(row["value"]),
            row["unit"],
            row["status"],
            row["source"],
            row["note_zh"],
        )
        for row in csv.DictReader(text.splitlines())
    }


def _name(subject: str) -> str:
    for (key, _), value in guideline_values().items():
        if key == subject:
            return value.name_zh
    return subject_name_zh(subject)


class _Defaults:
    """Looks up defaults and remembers which were used (for the defaults table)."""

    def __init__(self, entity: Entity) -> None:
        self.entity = entity
        self.used: dict[str, GuidelineValue] = {}

    def get(self, subject: str, parameter: str, record: str) -> GuidelineValue:
        value = guideline_values().get((subject, parameter))
        if value is None:
            raise InputError(
                f"the 2025 steel guideline table shipped with carbonlink has no {parameter} for "
                f"{subject!r}",
                record=f"entity {self.entity.id}: {record}",
                hint=f"give the measured {parameter} in the inventory or the entities file, or "
                f"add the guideline's value to data/cets/{DEFAULTS_FILE} with its source",
            )
        self.used[value.factor_id] = value
        return value


def _convert(value: float, unit: str, target: str, record: str) -> float:
    return to_unit(parse_quantity(value, unit, record=record), target, record=record)


def _fuel_row(line: ReportLine, process: str, defaults: _Defaults) -> dict[str, Any]:
    """One fuel's carbon input: AD × NCV × CC × OF, each parameter measured or default."""
    record = f"{line.facility.id}/{line.source.id}"
    subject = line.plan.factor.subject
    params = {use.name: use for use in line.plan.parameters}
    ncv_default = defaults.get(subject, "ncv", record)
    target = ncv_default.unit.split("/", 1)[1]
    activity = _convert(line.activity, line.unit, target, record)
    ad_source = "能源消耗统计台账"
    blend = line.source.biomass_fraction
    if blend:
        # Only the fossil part counts; the biomass part's CO2 is listed apart (附表 8).
        activity *= 1 - blend
        ad_source += f"（化石部分，已扣除生物质 {blend:.0%}）"

    def pick(name: str, parameter: str, unit: str) -> tuple[float, str]:
        use = params.get(name)
        if use is not None and use.measured:
            document = getattr(getattr(line.source, name, None), "document", "")
            return _convert(use.value, use.unit, unit, record), MEASURED + (
                f"（{document}）" if document else ""
            )
        return defaults.get(subject, parameter, record).value, DEFAULT

    ncv, ncv_source = pick("ncv", "ncv", ncv_default.unit)
    cc, cc_source = pick("carbon_content", "carbon_per_heat", "t/GJ")
    oxidation, of_source = pick("oxidation", "oxidation", "%")
    carbon = activity * ncv * cc * oxidation / 100
    return {
        "process": process,
        "source": line.source.id,
        "fuel": _name(subject),
        "activity": activity,
        "unit": display_unit(target),
        "ad_source": ad_source,
        "ncv": ncv,
        "ncv_unit": display_unit(ncv_default.unit),
        "ncv_source": ncv_source,
        "cc": cc,
        "cc_source": cc_source,
        "oxidation": oxidation,
        "oxidation_source": of_source,
        "carbon": carbon,
        "tco2": carbon * CO2_PER_C,
    }


def _material_row(
    *,
    process: str,
    item: str,
    subject: str,
    direction: str,
    quantity: float,
    carbon_content: float | None,
    ad_source: str,
    defaults: _Defaults,
    record: str,
) -> dict[str, Any]:
    """A carbon-bearing material entering or leaving the entity: AD × C."""
    if carbon_content is None:
        carbon_content, cc_source = defaults.get(subject, "carbon_content", record).value, DEFAULT
    else:
        cc_source = MEASURED
    carbon = quantity * carbon_content
    sign = 1 if direction == "输入" else -1
    return {
        "process": process,
        "source": item,
        "material": _name(subject),
        "direction": direction,
        "activity": quantity,
        "unit": "t",
        "ad_source": ad_source,
        "cc": carbon_content,
        "cc_source": cc_source,
        "carbon": carbon,
        "tco2": sign * carbon * CO2_PER_C,
    }


def _measured_ef_carbon(line: ReportLine) -> float | None:
    """A measured CO2 factor (t CO2/t) of a process line as carbon content (t C/t), else None."""
    for use in line.plan.parameters:
        if use.name == "ef_co2" and use.measured:
            return _convert(use.value, use.unit, "t/t", line.source.id) / CO2_PER_C
    return None


def _stream_rows(source: Source, process: str, defaults: _Defaults) -> list[dict[str, Any]]:
    rows = []
    for direction, streams in (("输入", source.inputs), ("输出", source.outputs)):
        for stream in streams:
            record = f"{source.id}/{stream.material}"
            cc = stream.carbon_content
            rows.append(
                _material_row(
                    process=process,
                    item=source.id,
                    subject=stream.material,
                    direction=direction,
                    quantity=_convert(stream.quantity, stream.unit, "t", record),
                    carbon_content=None
                    if cc is None
                    else _convert(cc.value, cc.unit, "t/t", record),
                    ad_source="物料统计台账",
                    defaults=defaults,
                    record=record,
                )
            )
    return rows


def _resolve(entity: Entity, lines: list[ReportLine]) -> dict[tuple[str, str], str]:
    """(facility, source) → process code; every reference must name a source of the entity."""
    known = {(x.facility.id, x.source.id) for x in lines}
    mapping: dict[tuple[str, str], str] = {}
    for process in entity.processes:
        for reference in process.sources:
            facility, _, source = reference.rpartition("/")
            matches = [k for k in known if k[1] == source and (not facility or k[0] == facility)]
            if len(matches) != 1:
                raise InputError(
                    f"process {process.code} names the source {reference!r}, which "
                    + ("is not a source of" if not matches else "is ambiguous among")
                    + f" the facilities {', '.join(entity.facilities)}",
                    record=f"entity {entity.id}",
                    hint="name a source id of the inventory (facility-id/source-id when two "
                    "facilities share the id)",
                )
            if matches[0] in mapping:
                raise InputError(
                    f"the source {reference!r} is listed under two processes",
                    record=f"entity {entity.id}",
                    hint="give each source to one process",
                )
            mapping[matches[0]] = process.code
    for flow in entity.supplements:
        held = [k for k in known if k[1] == flow.dataset_source]
        if flow.dataset_source and held and held[0] not in mapping:
            mapping[held[0]] = flow.process
    return mapping


SUPPLEMENTED = "（企业数据集未含，取自重点排放单位信息文件）"
"""Appended to the data source of a figure the entities file supplies in place of the dataset."""


class _Production:
    """The ``production`` lists of the entity's facilities in the inventory, by product id.

    An inventory that lists no production at all leaves the entities file's fallback figures
    in force (marked as such); one that lists production must hold every product named.
    """

    def __init__(self, entity: Entity, inventory: Inventory) -> None:
        self.entity = entity
        self.items: dict[str, Any] = {}
        for facility in inventory.facilities:
            if facility.id in entity.facilities:
                for item in getattr(facility, "production", ()):
                    self.items[item.product] = item

    def get(self, product: str | None, record: str) -> Any:
        if product is None or not self.items:
            return None
        if product not in self.items:
            raise InputError(
                f"{record} names the product {product!r}, which the production of "
                f"{', '.join(self.entity.facilities)} does not list",
                record=f"entity {self.entity.id}",
                hint=f"use one of {', '.join(sorted(self.items))}",
            )
        return self.items[product]


def _transfer_rows(
    entity: Entity, defaults: _Defaults, production: _Production
) -> list[dict[str, Any]]:
    rows = []
    for transfer in entity.transfers:
        record = f"transfer {transfer.material} {transfer.from_process}→{transfer.to_process}"
        made = production.get(transfer.production, f"the {record}")
        quantity = transfer.quantity if made is None else made.quantity - (made.sold or 0)
        source = transfer.data_source + (
            SUPPLEMENTED if transfer.production and made is None else ""
        )
        row: dict[str, Any] = {
            "material": _name(transfer.material),
            "from": entity.process(transfer.from_process).label,
            "to": entity.process(transfer.to_process).label,
            "from_code": transfer.from_process,
            "to_code": transfer.to_process,
            "activity": quantity,
            "unit": display_unit(transfer.unit),
            "ad_source": source,
            "ncv": None,
            "cc": None,
            "carbon_content": None,
        }
        if transfer.unit == "t":
            row["carbon_content"] = defaults.get(transfer.material, "carbon_content", record).value
            row["carbon"] = quantity * row["carbon_content"]
        else:
            row["ncv"] = defaults.get(transfer.material, "ncv", record).value
            row["cc"] = defaults.get(transfer.material, "carbon_per_heat", record).value
            row["carbon"] = quantity * row["ncv"] * row["cc"]
        rows.append(row)
    return rows


@dataclass
class CarbonBalance:
    """Carbon in and out of one process (or the entity), t C."""

    fuel: float = 0.0
    material_in: float = 0.0
    transfer_in: float = 0.0
    product_out: float = 0.0
    transfer_out: float = 0.0

    @property
    def net(self) -> float:
        return (
            self.fuel + self.material_in + self.transfer_in - self.product_out - self.transfer_out
        )


def build_entity_report(
    entity: Entity,
    inventory: Inventory,
    result: Computation,
    *,
    source_file: str | None = None,
    lines: list[ReportLine] | None = None,
) -> dict[str, Any]:
    """The 2025-guideline report of one legal entity (docs/reports.md)."""
    facility_ids = {f.id for f in inventory.facilities}
    for facility in entity.facilities:
        if facility not in facility_ids:
            raise InputError(
                f"the entity names the facility {facility!r}, which the inventory does not hold",
                record=f"entity {entity.id}",
                hint=f"use one of {', '.join(sorted(facility_ids))}",
            )
    lines = [
        x for x in (lines or report_lines(inventory, result)) if x.facility.id in entity.facilities
    ]
    mapping = _resolve(entity, lines)
    defaults = _Defaults(entity)
    labels: dict[str, str] = {p.code: p.label for p in entity.processes}

    fuel_rows: list[dict[str, Any]] = []
    material_rows: list[dict[str, Any]] = []
    energy_rows: list[dict[str, Any]] = []
    excluded: list[dict[str, Any]] = []
    seen_mass_balance: set[tuple[str, str]] = set()
    for line in lines:
        key = (line.facility.id, line.source.id)
        record = f"{line.facility.id}/{line.source.id}"
        if line.method in ("electricity", "heat") and line.scope in ("2_location", "exported"):
            energy_rows.append(_energy_row(line))
            continue
        if line.scope != "1" or line.gas != "CO2":
            if line.scope in ("1", "3", "biogenic"):
                excluded.append(_excluded_row(line))
            continue
        if key not in mapping:
            raise InputError(
                f"the source {line.source.id} ({line.method}, direct CO2) is not given to a "
                "process",
                record=f"entity {entity.id}",
                hint="add it to the sources of one process in the entities file",
            )
        process = labels[mapping[key]]
        if line.method == "combustion":
            fuel_rows.append(_fuel_row(line, process, defaults) | {"code": mapping[key]})
        elif line.method in ("carbonate", "process", "carbon_fixed"):
            product = line.method == "carbon_fixed"
            material_rows.append(
                _material_row(
                    process=process,
                    item=line.source.id,
                    subject=line.plan.factor.subject,
                    direction="输出" if product else "输入",
                    quantity=_convert(line.activity, line.unit, "t", record),
                    carbon_content=_measured_ef_carbon(line),
                    ad_source="产品产量统计台账" if product else "物料消耗统计台账",
                    defaults=defaults,
                    record=record,
                )
                | {"code": mapping[key]}
            )
        elif line.method == "mass_balance":
            if key not in seen_mass_balance:
                seen_mass_balance.add(key)
                rows = _stream_rows(line.source, process, defaults)
                material_rows.extend(row | {"code": mapping[key]} for row in rows)
        else:
            raise InputError(
                f"the source {line.source.id} ({line.method}) cannot be accounted by carbon "
                "balance under the 2025 steel guideline",
                record=f"entity {entity.id}",
                hint="describe it as fuel combustion, a carbon-bearing material or a mass "
                "balance, or report it with --rulebook cn-steel-2013",
            )
    production = _Production(entity, inventory)
    held = {x.source.id for x in lines}
    for flow in entity.supplements:
        if flow.dataset_source in held:
            continue  # the dataset holds it now: its source is accounted above
        made = production.get(flow.production, f"the supplement {flow.id}")
        quantity = flow.quantity if made is None else made.sold or 0.0
        if quantity == 0:
            continue
        material_rows.append(
            _material_row(
                process=labels[flow.process],
                item=flow.id,
                subject=flow.material,
                direction="输入" if flow.direction == "input" else "输出",
                quantity=quantity,
                carbon_content=flow.carbon_content,
                ad_source=flow.data_source + ("" if made is not None else SUPPLEMENTED),
                defaults=defaults,
                record=f"supplement {flow.id}",
            )
            | {"code": flow.process}
        )
    transfer_rows = _transfer_rows(entity, defaults, production)

    balances: dict[str, CarbonBalance] = {p.code: CarbonBalance() for p in entity.processes}
    for row in fuel_rows:
        balances[row["code"]].fuel += row["carbon"]
    for row in material_rows:
        if row["direction"] == "输入":
            balances[row["code"]].material_in += row["carbon"]
        else:
            balances[row["code"]].product_out += row["carbon"]
    for row in transfer_rows:
        balances[row["from_code"]].transfer_out += row["carbon"]
        balances[row["to_code"]].transfer_in += row["carbon"]
    enterprise = CarbonBalance(
        fuel=sum(b.fuel for b in balances.values()),
        material_in=sum(b.material_in for b in balances.values()),
        product_out=sum(b.product_out for b in balances.values()),
    )
    e_total = enterprise.net * CO2_PER_C
    e_processes = sum(b.net for b in balances.values()) * CO2_PER_C
    process_rows = [
        {
            "process": entity.process(code).label,
            "code": code,
            "units": entity.process(code).units,
            "fuel": b.fuel,
            "material_in": b.material_in,
            "transfer_in": b.transfer_in,
            "product_out": b.product_out,
            "transfer_out": b.transfer_out,
            "net": b.net,
            "tco2": b.net * CO2_PER_C,
        }
        for code, b in balances.items()
    ]
    power = _power_rows(entity, balances)
    e_power = balances["captive_power"].net * CO2_PER_C if "captive_power" in balances else 0.0
    product_rows = _product_rows(entity, lines, production)
    document = _document(
        entity,
        inventory,
        source_file=source_file,
        e_total=e_total,
        e_processes=e_processes,
        e_power=e_power,
        tables={
            "basic": tables.basic_table(entity, inventory, e_total),
            "summary": tables.summary_table(e_total, e_processes, e_power, process_rows),
            "products": tables.products_table(product_rows),
            "fuels": tables.fuels_table(fuel_rows),
            "materials": tables.materials_table(material_rows),
            "transfers": tables.transfers_table(transfer_rows),
            "balance": tables.balance_table(process_rows, enterprise),
            "captive_power": tables.power_table(power),
            "purchased_energy": tables.energy_table(energy_rows),
            "excluded": tables.excluded_table(excluded),
            "defaults": tables.defaults_table(defaults.used),
            "inventory": _inventory_table(lines, mapping, fuel_rows, material_rows, e_total),
        },
    )
    document["totals"] = {
        "ets_direct_co2": e_total,
        "process_sum": e_processes,
        "captive_power": e_power,
        "carbon_in": enterprise.fuel + enterprise.material_in,
        "carbon_out": enterprise.product_out,
    }
    return document


def _energy_row(line: ReportLine) -> dict[str, Any]:
    kind = {"electricity": "电力", "heat": "热力"}[line.method]
    direction = "输出" if line.scope == "exported" else "净购入"
    use = line.plan.parameters[0]
    electricity = line.method == "electricity"
    unit, factor_unit = ("MWh", "t/MWh") if electricity else ("GJ", "t/GJ")
    return {
        "facility": line.facility.id,
        "kind": direction + kind,
        "activity": _convert(line.activity, line.unit, unit, line.source.id),
        "unit": unit,
        "ef": _convert(use.value, use.unit, factor_unit, line.source.id),
        "ef_unit": "tCO2/MWh" if electricity else "tCO2/GJ",
        "ef_source": line.plan.factor.id,
        "tco2": line.tco2e,
    }


def _excluded_row(line: ReportLine) -> dict[str, Any]:
    if line.scope == "3":
        reason = "范围三排放，不属于重点排放单位边界"
    elif line.scope == "biogenic":
        reason = "生物质燃烧 CO2，不计入"
    else:
        reason = f"全国碳市场钢铁行业仅核算 CO2，{line.gas} 不计入"
    return {
        "source": line.source.id,
        "gas": line.gas,
        "tco2e": line.tco2e,
        "reason": reason,
    }


def _power_rows(entity: Entity, balances: dict[str, CarbonBalance]) -> list[dict[str, Any]]:
    if entity.captive_power is None or "captive_power" not in balances:
        return []
    plant = entity.captive_power
    emissions = balances["captive_power"].net * CO2_PER_C
    return [
        {
            "generation": plant.generation_mwh,
            "supplied": plant.supplied_mwh,
            "tco2": emissions,
            "intensity": emissions / plant.generation_mwh,
            "ad_source": plant.data_source,
        }
    ]


def _product_rows(
    entity: Entity, lines: list[ReportLine], production: _Production
) -> list[dict[str, Any]]:
    rows = []
    for process in entity.processes:
        for product in process.products:
            quantity, unit = product.quantity, product.unit
            made = production.get(product.production, f"the product {product.name}")
            source = product.data_source
            if made is not None:
                quantity, unit = made.quantity, made.unit
            elif product.production:
                source += SUPPLEMENTED
            if quantity is None and product.source is None:
                raise InputError(
                    f"the product {product.name} has no quantity",
                    record=f"entity {entity.id}: process {process.code}",
                    hint="give its quantity, the production entry or the inventory source of it",
                )
            if product.source is not None:
                match = [x for x in lines if x.source.id == product.source and x.gas == "CO2"]
                if not match:
                    raise InputError(
                        f"the product {product.name} takes its output from the source "
                        f"{product.source!r}, which the entity's facilities do not hold",
                        record=f"entity {entity.id}: process {process.code}",
                        hint="name a source id of the inventory, or give the quantity",
                    )
                quantity, unit = match[0].activity, match[0].unit
            rows.append(
                {
                    "process": process.label,
                    "units": process.units,
                    "product": product.name,
                    "quantity": quantity,
                    "unit": unit,
                    "ad_source": source,
                }
            )
    return rows


def _document(
    entity: Entity,
    inventory: Inventory,
    *,
    source_file: str | None,
    e_total: float,
    e_processes: float,
    e_power: float,
    tables: dict[str, Any],
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "report": "china_steel_2025",
        "rulebook": "cn-steel-2025",
        "title": f"{inventory.period.year} 年度温室气体排放报告（钢铁行业）",
        "subtitle": f"依据{GUIDELINE_2025}编制 · 企业层级和工序层级 · 碳平衡法",
        "organization": entity.name,
        "entity_id": entity.id,
        "uscc": entity.uscc,
        "period": {
            "start": inventory.period.start.isoformat(),
            "end": inventory.period.end.isoformat(),
        },
        "gwp_set": None,
        "unit": T,
        "source_file": source_file,
        "facts": [
            fact("ets_direct_co2", "纳入全国碳市场的二氧化碳直接排放量", e_total, T),
            fact("process_sum", "工序层级排放量合计", e_processes, T),
            *(
                [fact("captive_power", "其中：自备电厂", e_power, T)]
                if any(p.code == "captive_power" for p in entity.processes)
                else []
            ),
        ],
        "tables": tables,
        "declaration": {
            "title": "声明",
            "text": f"本单位（{entity.name}，统一社会信用代码 {entity.uscc}）承诺：本报告所填报的"
            f"{inventory.period.year} 年度温室气体排放数据及相关信息真实、准确、完整，"
            "数据来源可追溯，原始记录及支撑材料按规定保存；如有不实，本单位愿承担相应的法律责任。",
            "signatures": [
                f"法定代表人（签字）：{entity.legal_representative}",
                "重点排放单位（盖章）：",
                f"日期：{entity.report_date.isoformat() if entity.report_date else ''}",
            ],
        },
        "notes": [
            f"核算依据：{GUIDELINE_2025}；企业层级和工序层级同时核算，自备电厂作为单独工序核算，"
            "各工序及企业层级均采用碳平衡法（碳输入减碳输出）。",
            "二氧化碳排放量 =（碳输入量 − 碳输出量）× 44/12；燃料碳输入 = 消耗量 × 低位发热量 × "
            "单位热值含碳量 × 碳氧化率。工序之间传递的铁水、煤气按相同碳量计入输出工序和输入工序，"
            "在企业层级相互抵消，故各工序排放量之和等于企业层级排放量。",
            "含碳量、单位热值含碳量以 tC/t、tC/GJ 表示，碳氧化率以 % 表示；气体燃料消耗量以 10⁴Nm³ "
            "计，低位发热量以 GJ/10⁴Nm³ 计。",
            "缺省值未能与指南原文逐项核对，附表 9 逐行注明其来源与核对状态；本报告所列附表编排参照"
            "指南的报告要求，附表编号未与原文核对。",
            "净购入电力和热力为信息项，不计入全国碳市场直接排放量。",
        ],
    }


def _difference_reason(line: ReportLine | None, row: dict[str, Any]) -> str:
    """Why the guideline's figure for a source differs from the inventory's, by parameter."""
    if line is None:
        return "清单未含该碳流（取自重点排放单位信息文件）"
    params = {use.name: use for use in line.plan.parameters}
    record = line.source.id
    if line.method == "combustion":
        names = []
        for name, key, unit, label in (
            ("ncv", "ncv", None, "低位发热量"),
            ("carbon_content", "cc", "t/GJ", "单位热值含碳量"),
            ("oxidation", "oxidation", "%", "碳氧化率"),
        ):
            use = params.get(name)
            if use is None:
                names.append(f"{label}（清单按排放因子法）")
                continue
            value = use.value if unit is None else _convert(use.value, use.unit, unit, record)
            if abs(value - row[key]) > 1e-9 * max(1.0, abs(value)):
                names.append(f"{label}（清单 {value:g}，本报告 {row[key]:g}）")
        return "缺省值不同：" + "；".join(names) if names else "参数一致"
    use = params.get("ef_co2")
    if use is None:
        return "清单按碳平衡法"
    ef = _convert(use.value, use.unit, "t/t", record)
    if abs(ef - row["cc"] * CO2_PER_C) <= 1e-6:
        return "参数一致"
    return (
        f"排放因子不同：清单 {ef:g} tCO2/t，本报告含碳量 {row['cc']:g} tC/t × 44/12 = "
        f"{row['cc'] * CO2_PER_C:.4f} tCO2/t"
    )


def _inventory_table(
    lines: list[ReportLine],
    mapping: dict[tuple[str, str], str],
    fuel_rows: list[dict[str, Any]],
    material_rows: list[dict[str, Any]],
    e_total: float,
) -> dict[str, Any]:
    """Each source's CO2 in the enterprise's GHG inventory beside its share of the ETS figure.

    The inventory (GB/T 32150 structure, 2013 defaults) and this report count the same sources;
    they differ only where a default differs, where the entities file adds a carbon flow, or
    where the inventory has a non-CO2 line (not listed: 附表 8). Carbon passed between
    processes nets to zero and is not listed.
    """
    inventory = {
        x.source.id: x
        for x in lines
        if x.scope == "1" and x.gas == "CO2" and (x.facility.id, x.source.id) in mapping
    }
    rows = []
    for row in [*fuel_rows, *material_rows]:
        line = inventory.get(row["source"])
        listed = 0.0 if line is None else line.tco2e
        rows.append(
            {
                "source": row["source"],
                "process": row["process"],
                "inventory": listed,
                "report": row["tco2"],
                "difference": row["tco2"] - listed,
                "reason": _difference_reason(line, row),
            }
        )
    listed_total = sum(x.tco2e for x in inventory.values())
    return table(
        "附表 10　与企业温室气体清单（范围一 CO2）的对照",
        [
            Column("source", "排放源编号"),
            Column("process", "工序"),
            num("inventory", "清单排放量", T, 2),
            num("report", "本报告排放量", T, 2),
            num("difference", "差异", T, 2),
            Column("reason", "原因"),
        ],
        rows,
        total={
            "source": "合计",
            "inventory": listed_total,
            "report": e_total,
            "difference": e_total - listed_total,
        },
        note="清单排放量为同一企业数据集按 GB/T 32150-2015 和 2013 年指南缺省值核算的范围一 CO2；"
        "工序间传递的碳在企业层级相互抵消，不列入本表。",
    )


def build_china_2025_reports(
    entities: tuple[Entity, ...],
    inventory: Inventory,
    result: Computation,
    *,
    source_file: str | None = None,
) -> list[dict[str, Any]]:
    """One report per legal entity; every direct-CO2 source must belong to exactly one entity."""
    lines = report_lines(inventory, result)
    owner: dict[str, str] = {}
    for entity in entities:
        for facility in entity.facilities:
            if facility in owner:
                raise InputError(
                    f"the facility {facility} belongs to two entities ({owner[facility]}, "
                    f"{entity.id})",
                    hint="a facility is part of one legal entity",
                )
            owner[facility] = entity.id
    orphans = sorted(
        {x.facility.id for x in lines if x.scope == "1" and x.gas == "CO2"} - set(owner)
    )
    if orphans:
        raise InputError(
            f"the facilities {', '.join(orphans)} have direct CO2 but belong to no entity",
            hint="list them under the facilities of their legal entity in the entities file",
        )
    return [
        build_entity_report(entity, inventory, result, source_file=source_file, lines=lines)
        for entity in entities
    ]
