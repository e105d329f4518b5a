"""China ETS documents in Chinese: the data-quality control plan, a month's deposit summary, and
the demo's made-up laboratory report. Each is a report document (`carbonlink.reports.document`)
that `carbonlink.reports.render.write_report` writes as PDF or XLSX.

The control plan follows the parts of the 2025 steel guideline's plan (see
`carbonlink.cets.control_plan`); the headings are carbonlink's wording of those parts, the
guideline's own table numbers were not confirmed from the original.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from carbonlink.cets.control_plan import DETERMINATION_ZH, FREQUENCY_ZH, ControlPlan
from carbonlink.cets.deposit import terms_zh
from carbonlink.cets.plausibility import RULES, Finding
from carbonlink.cets.records import ParameterRecord
from carbonlink.reports.cets_entities import PROCESS_NAMES
from carbonlink.reports.document import Column, fact, subject_name_zh, table

METHOD_ZH = {
    "combustion": "化石燃料燃烧",
    "carbonate": "熔剂消耗（碳酸盐分解）",
    "process": "工业生产过程",
    "electricity": "购入电力",
    "heat": "热力",
    "carbon_fixed": "固碳产品",
    "fugitive": "逸散排放（不纳入全国碳市场）",
    "generic": "其他",
}
FUEL_ZH = {
    "coke": "焦炭",
    "bituminous_coal": "烟煤",
    "anthracite": "无烟煤",
    "natural_gas": "天然气",
    "diesel": "柴油",
    "fuel_oil": "燃料油",
    "limestone": "石灰石",
    "dolomite": "白云石",
    "blast_furnace_gas": "高炉煤气",
    "coke_oven_gas": "焦炉煤气",
    "converter_gas": "转炉煤气",
}
DEMO_LAB_NOTICE = (
    "示例 — 演示用虚构检测报告，并非真实实验室出具 (demo, not a real laboratory report)"
)


def control_plan_document(plan: ControlPlan, *, valid_from: date | None = None) -> dict[str, Any]:
    """The control plan as the guideline's tables, in Chinese."""
    zh = terms_zh()
    sources = {s.id: s for s in plan.sources}
    process_of = {s: p for p in plan.processes for s in p.sources}
    codes = {p.code for p in plan.processes}

    def process_name(code: str) -> str:
        return PROCESS_NAMES.get(code, code)

    parameters = []
    for p in plan.parameters:
        source = sources.get(p.source)
        parameters.append(
            {
                "source": p.source,
                "process": process_name(process_of[p.source].code)
                if p.source in process_of
                else (process_name(p.source) if p.source in codes else "—"),
                "parameter": f"{zh.get(p.parameter, p.parameter)}",
                "unit": p.unit,
                "determination": DETERMINATION_ZH[p.determination],
                "value": p.default_value,
                "default_source": p.default_source,
                "instrument": p.instrument.name if p.instrument else "",
                "frequency": FREQUENCY_ZH.get(p.frequency or "", ""),
                "standard": p.standard,
                "laboratory": p.laboratory,
                "responsible": p.responsible,
                "note": p.note + (" (fuel: " + source.fuel + ")" if source and source.fuel else ""),
            }
        )
    instruments = [
        {
            "id": p.instrument.id,
            "name": p.instrument.name,
            "source": p.source,
            "parameter": zh.get(p.parameter, p.parameter),
            "accuracy": p.instrument.accuracy_class,
            "calibrated_on": p.instrument.calibrated_on.isoformat()
            if p.instrument.calibrated_on
            else "未填写",
            "due": p.instrument.calibration_due.isoformat()
            if p.instrument.calibration_due
            else "未填写",
            "by": p.instrument.calibrated_by,
        }
        for p in plan.parameters
        if p.instrument is not None
    ]
    return {
        "schema": "carbonlink/cets-control-plan/v1",
        "report": "cets_control_plan",
        "language": "zh",
        "title": "数据质量控制计划",
        "subtitle": (
            f"{plan.entity_name} · 第 {plan.version} 版 · 内容哈希 {plan.content_hash[:16]}…"
            + (f" · 替代 {plan.replaces[:16]}…" if plan.replaces else "")
        ),
        "organization": f"{plan.entity_name}（{plan.uscc}）" if plan.uscc else plan.entity_name,
        "period": {"start": (valid_from or date.today()).isoformat(), "end": "直至修订"},
        "gwp_set": "",
        "source_file": plan.guideline,
        "plan": plan.model_dump(mode="json") | {"content_hash": plan.content_hash},
        "facts": [
            fact("processes", "生产工序", len(plan.processes)),
            fact("sources", "排放源", len(plan.sources)),
            fact(
                "measured",
                "实测参数",
                sum(1 for p in plan.parameters if p.determination == "measured"),
            ),
            fact(
                "defaults",
                "采用缺省值的参数",
                sum(1 for p in plan.parameters if p.determination == "default"),
            ),
        ],
        "tables": {
            "entity": table(
                "表1 重点排放单位基本情况",
                [Column("item", "项目"), Column("value", "内容")],
                [
                    {"item": "单位名称", "value": plan.entity_name},
                    {"item": "统一社会信用代码", "value": plan.uscc or "未填写"},
                    {"item": "行业", "value": "钢铁" if plan.sector == "steel" else plan.sector},
                    {"item": "核算边界", "value": plan.boundary or "法人边界内全部生产系统"},
                    {"item": "计划版本", "value": f"第 {plan.version} 版"},
                ],
            ),
            "processes": table(
                "表2 生产工序及主要设施",
                [
                    Column("code", "工序代码"),
                    Column("name", "工序"),
                    Column("units", "主要生产设施"),
                    Column("sources", "排放源"),
                ],
                [
                    {
                        "code": p.code,
                        "name": p.name or process_name(p.code),
                        "units": p.units,
                        "sources": "、".join(p.sources) or "—",
                    }
                    for p in plan.processes
                ],
            ),
            "sources": table(
                "表3 排放源",
                [
                    Column("id", "排放源"),
                    Column("kind", "类别"),
                    Column("fuel", "燃料/物料"),
                    Column("process", "所属工序"),
                ],
                [
                    {
                        "id": s.id,
                        "kind": METHOD_ZH.get(s.method, s.method),
                        "fuel": FUEL_ZH.get(s.fuel) or subject_name_zh(s.fuel),
                        "process": process_name(process_of[s.id].code)
                        if s.id in process_of
                        else "—",
                    }
                    for s in plan.sources
                ],
            ),
            "parameters": table(
                "表4 核算参数的确定方式",
                [
                    Column("source", "排放源"),
                    Column("process", "工序"),
                    Column("parameter", "参数"),
                    Column("unit", "单位"),
                    Column("determination", "获取方式"),
                    Column("value", "缺省值", kind="number", digits=-1),
                    Column("instrument", "计量器具"),
                    Column("frequency", "采样/检测频次"),
                    Column("standard", "检测/计量标准"),
                    Column("laboratory", "检测机构"),
                    Column("responsible", "负责岗位"),
                ],
                parameters,
                note="缺省值取自 carbonlink 的 2025 年钢铁指南缺省值表，"
                "未与原文核对（见各因子编号）。",
            ),
            "instruments": table(
                "表5 计量器具配备及检定校准",
                [
                    Column("id", "器具编号"),
                    Column("name", "名称"),
                    Column("source", "排放源"),
                    Column("parameter", "计量参数"),
                    Column("accuracy", "准确度等级"),
                    Column("calibrated_on", "最近检定/校准日期"),
                    Column("due", "下次检定/校准日期"),
                    Column("by", "检定/校准机构"),
                ],
                instruments,
            ),
            "roles": table(
                "表6 数据质量管理岗位及职责",
                [Column("role", "岗位"), Column("name", "人员"), Column("duty", "职责")],
                [{"role": r.role, "name": r.name, "duty": r.duty} for r in plan.roles],
            ),
        },
        "notes": [
            f"依据：{plan.guideline}。",
            "采样、检测标准和频次为 carbonlink 按常见做法起草，需由企业确认；"
            "未与指南原文逐条核对。",
        ],
    }


def _finding_rows(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    return [
        {
            "rule": f.rule,
            "title": RULES[f.rule].title_zh,
            "source": f.source,
            "parameter": f.parameter,
            "value": f.value,
            "detail": f.detail,
        }
        for f in findings
    ]


def deposit_summary_document(
    entity_id: str,
    month: str,
    records: Sequence[ParameterRecord],
    findings: Sequence[Finding],
) -> dict[str, Any]:
    """The month's deposit summary (月度存证汇总): parameters, evidence with SHA-256, findings."""
    zh = terms_zh()
    evidence: dict[str, dict[str, Any]] = {}
    for r in records:
        if r.evidence_sha256:
            item = evidence.setdefault(
                r.evidence_name,
                {
                    "name": r.evidence_name,
                    "kind": zh.get(r.evidence_kind, r.evidence_kind),
                    "report": r.report_id,
                    "cma": r.accreditation,
                    "sample": r.sample_id,
                    "date": r.sample_date,
                    "sha256": r.evidence_sha256,
                    "backs": [],
                },
            )
            item["backs"].append(f"{r.source}/{zh.get(r.parameter, r.parameter)}")
    for item in evidence.values():
        item["backs"] = "、".join(item["backs"])
    return {
        "schema": "carbonlink/cets-deposit-summary/v1",
        "report": "cets_deposit",
        "language": "zh",
        "title": "月度信息化存证汇总",
        "subtitle": f"{entity_id} · {month}",
        "organization": entity_id,
        "period": {"start": month, "end": month},
        "gwp_set": "",
        "source_file": f"cets-deposit-{entity_id}-{month}",
        "facts": [
            fact("records", "参数条数", len(records)),
            fact("evidence", "证据文件", len(evidence)),
            fact("findings", "检查发现", len(findings)),
        ],
        "tables": {
            "parameters": table(
                "月度参数",
                [
                    Column("source", "排放源"),
                    Column("parameter", "参数"),
                    Column("value", "数值", kind="number", digits=-1),
                    Column("unit", "单位"),
                    Column("report", "报告编号"),
                    Column("sample", "样品编号"),
                    Column("date", "采样日期"),
                    Column("standard", "检测标准"),
                ],
                [
                    {
                        "source": r.source,
                        "parameter": zh.get(r.parameter, r.parameter),
                        "value": r.value,
                        "unit": r.unit,
                        "report": r.report_id,
                        "sample": r.sample_id,
                        "date": r.sample_date,
                        "standard": r.standard,
                    }
                    for r in records
                ],
            ),
            "evidence": table(
                "证据文件及其 SHA-256",
                [
                    Column("name", "文件"),
                    Column("kind", "类型"),
                    Column("report", "报告编号"),
                    Column("cma", "CMA/CNAS"),
                    Column("backs", "支撑的参数"),
                    Column("sha256", "SHA-256"),
                ],
                list(evidence.values()),
            ),
            "findings": table(
                "合理性检查发现",
                [
                    Column("rule", "规则"),
                    Column("title", "说明"),
                    Column("source", "排放源"),
                    Column("parameter", "参数"),
                    Column("value", "数值", kind="number", digits=-1),
                    Column("detail", "详情"),
                ],
                _finding_rows(findings),
                note="" if findings else "无发现",
            ),
        },
        "notes": [
            "本汇总与参数、证据文件、检查结果一并写入存证包；账本回执证明存证包此后未被修改。",
        ],
    }


def lab_report_document(
    report_id: str,
    client: str,
    laboratory: str,
    accreditation: str,
    sample_date: str,
    results: Sequence[Mapping[str, Any]],
    *,
    demo: bool = True,
) -> dict[str, Any]:
    """A laboratory test report (检测报告) of coal samples; the demo's are labelled as made up."""
    return {
        "schema": "carbonlink/cets-lab-report/v1",
        "report": "cets_lab_report",
        "language": "zh",
        "title": ("【示例】" if demo else "") + "检测报告",
        "subtitle": f"{laboratory} · {accreditation}",
        "organization": client,
        "period": {"start": sample_date, "end": sample_date},
        "gwp_set": "",
        "source_file": report_id,
        "warnings": [DEMO_LAB_NOTICE] if demo else [],
        "facts": [],
        "tables": {
            "results": table(
                "检测结果（收到基）",
                [
                    Column("sample", "样品编号"),
                    Column("source", "样品名称"),
                    Column("ncv", "低位发热量", "GJ/t", "number", 2),
                    Column("carbon", "元素碳含量", "%", "number", 2),
                    Column("hydrogen", "氢", "%", "number", 2),
                    Column("sulphur", "全硫", "%", "number", 2),
                    Column("moisture", "全水分", "%", "number", 1),
                    Column("standard", "检测标准"),
                ],
                [dict(r) for r in results],
            )
        },
        "notes": [DEMO_LAB_NOTICE] if demo else [],
    }
