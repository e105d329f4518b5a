"""The monitoring plan of a facility as a report (HTML, PDF, XLSX, JSON), bilingual.

It carries what a verifier checks a plan against: each source with its method, tier, meters,
factor choice, sampling and data-gap procedure; the completeness findings; and the template's
list of sources with the documents the template follows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from carbonlink.reports.document import Column, fact, table

KIND_LABELS = {
    "missing_source": "缺少排放源 missing source",
    "meter_without_data": "表计无数据 meter without data",
    "source_without_method": "未选方法 no method",
}


def build_plan_report(
    plan: Mapping[str, Any],
    template: Mapping[str, Any],
    findings: Sequence[Mapping[str, Any]],
    *,
    organization: str = "",
    valid_from: date | None = None,
) -> dict[str, Any]:
    """The report document of a monitoring plan (see `carbonlink.reports.render`).

    Takes plain data — ``MonitoringPlan.model_dump(mode="json")`` with its ``content_hash``,
    ``IndustryTemplate.model_dump(mode="json")`` and the findings as dicts — so the reports
    layer needs nothing from the monitoring layer.
    """
    names = {s["id"]: s["name"] for s in template["sources"]}
    entries = [
        {
            "source": entry["source_id"],
            "template_source": entry["template_source"],
            "name": _label(names[entry["template_source"]]),
            "method": entry["method"] or "—",
            "tier": entry["tier"],
            "meters": ", ".join(entry["meters"]) or "—",
            "factors": entry["factor_choice"].replace("_", " "),
            "sampling": entry["sampling"],
            "gaps": entry["data_gap_procedure"],
        }
        for entry in plan["entries"]
    ]
    covered = {entry["template_source"] for entry in plan["entries"]}
    sources = template["sources"]
    required = [s for s in sources if s["required"]]
    return {
        "schema": "carbonlink/monitoring-plan/v1",
        "report": "monitoring_plan",
        "title": "监测计划 Monitoring plan",
        "subtitle": (
            f"{_label(template['name'])} · version {plan['version']} · "
            f"content hash {plan['content_hash'][:16]}…"
            + (f" · replaces {plan['replaces'][:16]}…" if plan.get("replaces") else "")
        ),
        "organization": (
            f"{organization} · {plan['facility_id']}" if organization else plan["facility_id"]
        ),
        "period": {
            "start": (valid_from or date.today()).isoformat(),
            "end": "until revised / 直至修订",
        },
        "gwp_set": "",
        "source_file": template["id"],
        "template_sources": "; ".join(template["sources_of_template"]),
        "plan": dict(plan),
        "facts": [
            fact("sources", "计划内排放源 Sources in the plan", len(plan["entries"])),
            fact(
                "required_covered",
                "已覆盖的必需排放源 Required sources covered",
                sum(1 for s in required if s["id"] in covered),
                f"of {len(required)}",
            ),
            fact("findings", "完整性问题 Completeness findings", len(findings)),
        ],
        "tables": {
            "entries": table(
                "每个排放源的监测方式 How each source is monitored",
                [
                    Column("source", "排放源 Source"),
                    Column("name", "模板排放源 Template source"),
                    Column("method", "方法 Method"),
                    Column("tier", "层级 Tier"),
                    Column("meters", "计量表 Meters"),
                    Column("factors", "因子 Factors"),
                    Column("sampling", "采样频次 Sampling"),
                    Column("gaps", "数据缺失处理 Data gaps"),
                ],
                entries,
            ),
            "findings": table(
                "完整性检查发现 Findings",
                [
                    Column("kind", "类型 Kind"),
                    Column("subject", "对象 Subject"),
                    Column("zh", "说明"),
                    Column("en", "Explanation"),
                ],
                [
                    {
                        "kind": KIND_LABELS[f["kind"]],
                        "subject": f["subject"],
                        "zh": f["message_zh"],
                        "en": f["message_en"],
                    }
                    for f in findings
                ],
                note="" if findings else "无 — none: the plan covers what the template requires",
            ),
            "template": table(
                _label(template["name"]),
                [
                    Column("id", "编号 Id"),
                    Column("name", "名称 Name"),
                    Column("category", "类别 Category"),
                    Column("gases", "气体 Gases"),
                    Column("required", "必需 Required"),
                    Column("in_plan", "在计划中 In plan"),
                ],
                [
                    {
                        "id": s["id"],
                        "name": _label(s["name"]),
                        "category": s["category"],
                        "gases": ", ".join(s["gases"]),
                        "required": "是 yes" if s["required"] else "",
                        "in_plan": "是 yes" if s["id"] in covered else "否 no",
                    }
                    for s in sources
                ],
            ),
        },
    }


def _label(name: Mapping[str, str]) -> str:
    return f"{name['zh']} / {name['en']}"
