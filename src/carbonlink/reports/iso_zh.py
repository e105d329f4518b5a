"""The ISO 14064-1 inventory report in Chinese with the English alongside (``--lang zh``).

Headings, table titles, the labels of the report information and the report's own notes read
"中文 English", so that a verifier working from the English standard finds each item; column
labels and the fixed vocabulary of the cells (scopes, ISO categories, the clause 9.3.1 checklist,
statuses) are in Chinese. What a person stated (the statement file) and identifiers (facility,
source, factor ids) are printed as given; numbers and units are unchanged.
"""

from __future__ import annotations

import copy
import re
from typing import Any

LABELS: dict[str, str] = {
    # headings and labels of the page
    "Greenhouse gas inventory": "温室气体清单",
    "ISO 14064-1:2018 · GHG Protocol Corporate Standard": (
        "ISO 14064-1:2018 · 温室气体核算体系企业标准"
    ),
    "Organization": "组织",
    "Reporting period": "报告期",
    "GWP set": "全球变暖潜势（GWP）取值",
    "Input": "输入文件",
    "Warnings": "警告",
    "Factor vintages": "因子版本",
    "Report information": "报告信息",
    "Reporting organization": "报告组织",
    "Responsible person": "负责人",
    "Report date": "报告日期",
    "Report version": "报告版本",
    "Intended users": "预期使用者",
    "Statement of conformity": "符合性声明",
    "Verification status": "核查状态",
    "Verification body and standard": "核查机构和核查标准",
    "Level of assurance": "保证等级",
    "Verification statement": "核查声明",
    "1. Boundaries": "1. 边界",
    "Organizational boundary": "组织边界",
    "Reporting boundary": "报告边界",
    "Significance criteria": "重要性准则",
    "Significance threshold": "重要性阈值",
    "Significance check": "重要性核对",
    "Facilities": "设施",
    "Id": "编号",
    "Grid region": "电网区域",
    "Jurisdiction": "管辖地",
    "Time zone": "时区",
    "Sources": "排放源数",
    "2. Results": "2. 结果",
    "Direct emissions before the product-carbon deduction": "扣除产品固碳前的直接排放",
    "Carbon retained in products (deducted)": "产品中固定的碳（已扣除）",
    "Direct emissions (category 1, Scope 1)": "直接排放（类别 1，范围一）",
    "Direct GHG removals": "直接温室气体清除",
    "Biogenic CO2": "生物源 CO2",
    "3. Methodology": "3. 方法学",
    "Changes in methods": "方法变更",
    "4. Exclusions": "4. 排除项",
    "5. Data quality": "5. 数据质量",
    "6. Uncertainty": "6. 不确定性",
    "7. Base year": "7. 基准年",
    "Base year": "基准年",
    "Why this year": "选定理由",
    "Base-year inventory": "基准年清单",
    "Recalculation policy": "重新计算政策",
    "Recalculation threshold": "重新计算阈值",
    "8. ISO 14064-1:2018 clause 9.3.1 checklist": "8. ISO 14064-1:2018 第 9.3.1 条核对表",
    "Notes": "说明",
    # table titles
    "Results by scope": "按范围的结果",
    "Scope 2: location- and market-based side by side": "范围二：基于位置与基于市场并列",
    "Results by gas": "按气体的结果",
    "Results by facility": "按设施的结果",
    "Results by source": "按排放源的结果",
    "Scope 1 by source type": "按排放源类型的范围一",
    "Results by ISO 14064-1:2018 category": "按 ISO 14064-1:2018 类别的结果",
    "Methodology": "方法学",
    "Emission factors and parameters with their sources": "排放因子和参数及其来源",
    "Exclusions": "排除项",
    "Data quality per line": "逐行数据质量",
    "Uncertainty: 95 % interval of Scope 1 + Scope 2 location-based": (
        "不确定性：范围一 + 范围二（基于位置）的 95 % 区间"
    ),
    "Category 1: direct emissions per gas (before the product-carbon deduction)": (
        "类别 1：按气体的直接排放（扣除产品固碳前）"
    ),
    "Carbon retained in products (deducted from direct emissions; not a removal)": (
        "产品中固定的碳（从直接排放中扣除；不是清除）"
    ),
    "Indirect emissions per ISO 14064-1:2018 category, significance and exclusions": (
        "按 ISO 14064-1:2018 类别的间接排放、重要性和排除"
    ),
    "Market-based Scope 2: instruments and residual mix, line by line": (
        "基于市场的范围二：逐行列出的工具和残余组合"
    ),
    "Global warming potentials used (100-year)": "所用全球变暖潜势（100 年）",
    "Base-year inventory and the reporting year by category": "按类别的基准年清单和报告年",
    "Uncertainty per category (95 % interval, IPCC 2006 Vol. 1 Ch. 3 Approach 1)": (
        "按类别的不确定性（95 % 区间，IPCC 2006 第 1 卷第 3 章方法 1）"
    ),
    "ISO 14064-1:2018 clause 9.3.1: required information and where it is answered": (
        "ISO 14064-1:2018 第 9.3.1 条：要求的信息及其所在章节"
    ),
    "Statement: what the organization states (ISO 14064-1:2018 clause 9.3.1)": (
        "声明：组织陈述的事项（ISO 14064-1:2018 第 9.3.1 条）"
    ),
    "Factor vintages used, and whether a newer edition exists": "所用因子版本及是否有更新版本",
    "Factor vintages used for the period": "本期所用因子版本",
    "Newest vintage in library": "因子库中的最新版本",
    "Years behind the period": "落后报告期年数",
    # column labels
    "+": "+",
    "−": "−",
    "Activity": "活动数据",
    "Against the threshold": "与阈值对照",
    "Basis": "依据",
    "Biogenic (memo)": "生物源（备忘）",
    "Carbon as CO2": "以 CO2 计的碳",
    "Category": "类别",
    "Central": "中值",
    "Change": "变化",
    "Consumption": "消耗量",
    "Deducted": "扣除量",
    "Default parameters": "缺省参数",
    "Description": "说明",
    "Document": "文件",
    "Emissions": "排放量",
    "Emissions (location-based)": "排放量（基于位置）",
    "Emissions (market-based)": "排放量（基于市场）",
    "Exported (memo)": "输出（备忘）",
    "Facility": "设施",
    "Factor": "因子",
    "Factor id": "因子编号",
    "Formula": "公式",
    "GHG Protocol": "温室气体核算体系",
    "GWP": "GWP",
    "GWP (AR5)": "GWP（AR5）",
    "Gas": "气体",
    "Grid factor": "电网因子",
    "Instrument": "工具",
    "Instruments and residual mix": "工具和残余组合",
    "Item": "条目",
    "Lines": "行数",
    "Location-based": "基于位置",
    "Location-based Scope 2": "基于位置的范围二",
    "Lower 2.5 %": "下限 2.5 %",
    "Market-based": "基于市场",
    "Market-based Scope 2": "基于市场的范围二",
    "Mass": "质量",
    "Measured parameters": "实测参数",
    "Method": "方法",
    "Name": "名称",
    "Output": "产量",
    "Parameter": "参数",
    "Product": "产品",
    "Quantity": "数量",
    "Reason": "理由",
    "Reporting year": "报告年",
    "Requirement": "要求",
    "Scope": "范围",
    "Scope 1": "范围一",
    "Scope 1 + 2 (location-based)": "范围一 + 二（基于位置）",
    "Scope 1 + 2 (market-based)": "范围一 + 二（基于市场）",
    "Scope 1 mass": "范围一质量",
    "Scope 2 (location-based)": "范围二（基于位置）",
    "Scope 2 (market-based)": "范围二（基于市场）",
    "Scope 2 location": "范围二（基于位置）",
    "Scope 2 market": "范围二（基于市场）",
    "Scope 3": "范围三",
    "Scope 3 (reported categories)": "范围三（已报告类别）",
    "Section": "章节",
    "Set": "取值集",
    "Share of Scope 1 + 2": "占范围一 + 二的比例",
    "Significance": "重要性",
    "Source": "排放源",
    "Source type": "排放源类型",
    "Standard": "标准",
    "Statement item": "声明事项",
    "Status": "状态",
    "Table": "表",
    "Tier": "层级",
    "Treatment": "处理",
    "Upper 97.5 %": "上限 97.5 %",
    "Used by": "使用者",
    "Value": "数值",
    "Version": "版本",
    "Vintage": "年份",
    "What": "事项",
    "Why": "原因",
    "Why this approach": "选用理由",
    "Year": "年份",
    "± 95 %": "± 95 %",
    "Total": "合计",
    "Unit": "单位",
    "Newest": "最新版本",
    "Behind": "落后",
    "Period": "期间",
}
"""English heading, title or column label → its Chinese."""

VALUES: dict[str, str] = {
    # scopes and ISO categories
    "Scope 1 (direct)": "范围一（直接）",
    "Scope 2, location-based": "范围二，基于位置",
    "Scope 2, market-based": "范围二，基于市场",
    "Scope 3 (reported categories)": "范围三（已报告类别）",
    "Biogenic CO2 (outside the scopes)": "生物源 CO2（范围之外）",
    "Exported energy (memo, outside the scopes)": "输出能源（备忘，范围之外）",
    "Direct GHG emissions and removals": "直接温室气体排放和清除",
    "Indirect GHG emissions from imported energy": "输入能源产生的间接温室气体排放",
    "Indirect GHG emissions from transportation": "运输产生的间接温室气体排放",
    "Indirect GHG emissions from products used by the organization": (
        "组织使用的产品产生的间接温室气体排放"
    ),
    "Indirect GHG emissions associated with the use of products from the organization": (
        "与使用组织产品相关的间接温室气体排放"
    ),
    "Indirect GHG emissions from other sources": "其他来源的间接温室气体排放",
    "Stationary and mobile fuel combustion": "固定和移动燃料燃烧",
    "Carbonates calcined": "碳酸盐煅烧",
    "Carbon-bearing process materials": "含碳过程物料",
    "Carbon fixed in products": "产品固碳",
    "Refrigerant losses": "制冷剂泄漏",
    "Purchased electricity": "外购电力",
    "Purchased or exported heat": "外购或输出热力",
    "Other activity × factor": "其他活动 × 因子",
    "Scope 2": "范围二",
    "national default": "国家缺省值",
    "ipcc default": "IPCC 缺省值",
    "supplier specific": "供应商特定值",
    "single edition": "单一版本",
    "current": "当前",
    "behind": "落后",
    # statuses
    "provided": "已提供",
    "not provided": "未提供",
    "quantified": "已量化",
    "significant": "重要",
    "not significant": "不重要",
    "excluded (not significant)": "已排除（不重要）",
    "significant but not quantified": "重要但未量化",
    "reaches the threshold: significant, as stated": "达到阈值：重要，与声明一致",
    "below the threshold: significant by the statement's other criteria": (
        "低于阈值：按声明的其他准则为重要"
    ),
    "below the threshold: not significant, as stated": "低于阈值：不重要，与声明一致",
    "not quantified: cannot be checked against the threshold": "未量化：无法与阈值对照",
    "CONTRADICTS THE STATEMENT: reaches the threshold but is stated not significant": (
        "与声明矛盾：达到阈值但声明为不重要"
    ),
    "no quantified emissions in this category": "该类别无已量化排放",
    "default": "缺省值",
    "measured": "实测",
    "partly measured": "部分实测",
    # the clause 9.3.1 checklist
    "Description of the reporting organization": "报告组织的说明",
    "Person or entity responsible for the report": "报告的负责人或负责单位",
    "Reporting period covered": "所覆盖的报告期",
    "Documentation of the organizational boundaries": "组织边界的文件",
    "Reporting boundaries and the criteria for significant emissions": "报告边界及重要排放的准则",
    "Direct GHG emissions per gas (CO2, CH4, N2O, NF3, SF6, HFCs, PFCs), t CO2e": (
        "按气体的直接温室气体排放（CO2、CH4、N2O、NF3、SF6、HFCs、PFCs），t CO2e"
    ),
    "Treatment of biogenic CO2 and biogenic CO2 quantified separately": (
        "生物源 CO2 的处理及单独量化的生物源 CO2"
    ),
    "Direct GHG removals, if quantified, in t CO2e": "直接温室气体清除（如已量化），t CO2e",
    "Exclusion of significant GHG sources or sinks explained": "对排除重要温室气体源或汇的说明",
    "Indirect GHG emissions per category, t CO2e": "按类别的间接温室气体排放，t CO2e",
    "Historical base year and the base-year GHG inventory": "历史基准年及基准年温室气体清单",
    "Changes to the base year or historical data, recalculation": (
        "基准年或历史数据的变更及重新计算"
    ),
    "Quantification approaches and the reasons for their selection": "量化方法及其选用理由",
    "Changes to quantification approaches previously used": "对以前所用量化方法的变更",
    "GHG emission or removal factors used": "所用温室气体排放或清除因子",
    "Impact of uncertainties on the accuracy of the data per category": (
        "不确定性对各类别数据准确性的影响"
    ),
    "Uncertainty assessment description and results": "不确定性评估的说明和结果",
    "Statement that the report is prepared in accordance with ISO 14064-1": (
        "报告按 ISO 14064-1 编制的声明"
    ),
    "Verification status, type of verification and level of assurance": (
        "核查状态、核查类型和保证等级"
    ),
    "GWP values used and their source": "所用 GWP 值及其来源",
    "Report header (reporting period)": "报告页首（报告期）",
    # statement items
    "Description of the reporting organization ": "报告组织的说明",
    "Verification body": "核查机构",
    "Verification standard": "核查标准",
    "Significance threshold, % of Scope 1 + 2": "重要性阈值，占范围一 + 二的 %",
    "Significance threshold, t CO2e": "重要性阈值，t CO2e",
    "Treatment of biogenic CO2": "生物源 CO2 的处理",
    "Consolidation approach": "合并方法",
    "Why this base year": "基准年的选定理由",
    "Recalculation threshold, % of base-year emissions": "重新计算阈值，占基准年排放的 %",
}
"""A cell's fixed English text → its Chinese (free text and identifiers are not listed)."""

PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^Category (\d): significance and reason$"), r"类别 \1：重要性及理由"),
    (re.compile(r"^(\S+): why not reported$"), r"\1：未报告的原因"),
    (re.compile(r"^ISO category (\d)$"), r"ISO 类别 \1"),
    (re.compile(r"^Scope 3: none reported$"), "范围三：未报告"),
    (re.compile(r"^Scope 3 categories ([\d, ]+)$"), r"范围三类别 \1"),
    (
        re.compile(
            r"^not quantified in this inventory \(only the categories listed under ISO category "
            r"3–6 were reported\)$"
        ),
        "本清单未量化（仅报告了 ISO 类别 3–6 下列出的类别）",
    ),
    (re.compile(r"^Scope 3: ([\d, ]+)$"), r"范围三：类别 \1"),
    (re.compile(r"^(\S+) \(direct emissions\)$"), r"\1（直接排放）"),
    (re.compile(r"^(\d+) lines, Approach 1$"), r"\1 行，方法 1"),
    (re.compile(r"^not emitted within the boundary: (.*)$", re.S), r"边界内无此排放：\1"),
    (re.compile(r"^none quantified; reason not provided$"), "未量化；理由未提供"),
    (
        re.compile(
            r"^each indirect category's location-based emissions checked against ([\d.,]+) % of "
            r"Scope 1 \+ Scope 2 location-based \(([\d.,]+) t CO2e\), i\.e\. ([\d.,]+) t CO2e: "
            r"no category contradicts its stated significance$"
        ),
        r"已将各间接排放类别的基于位置排放量与范围一 + 范围二（基于位置）\2 t CO2e 的 \1 %，"
        r"即 \3 t CO2e 对照：没有类别与其声明的重要性矛盾",
    ),
)
"""Cells made of fixed words around a number or a name."""

NOTES: dict[str, str] = {
    "Totals are sums of unrounded lines; tables show three decimals.": (
        "合计为未经修约的各行之和；表中保留三位小数。"
    ),
    "Exported energy and biogenic CO2 are memo items outside the scope totals.": (
        "输出能源和生物源 CO2 为备忘项，不计入各范围合计。"
    ),
    "Activity quantities are taken as given in the inventory file; whether a quantity was "
    "metered or estimated is not recorded there.": (
        "活动数据按清单文件所给取用；文件未记录数量为计量值还是估算值。"
    ),
    "Category 2 differs between the two columns; the other categories do not.": (
        "仅类别 2 在两列之间不同；其他类别相同。"
    ),
    "Items the organization did not state read “not provided”.": "组织未陈述的事项标为“未提供”。",
}
"""Notes the report itself writes (fixed text)."""


def zh(text: str) -> str | None:
    """The Chinese of a fixed English text, if it has one."""
    if text in LABELS:
        return LABELS[text]
    if text in VALUES:
        return VALUES[text]
    for pattern, replacement in PATTERNS:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return NOTES.get(text)


def both(text: str) -> str:
    """Chinese followed by the English, or the text as it is when it has no Chinese."""
    chinese = zh(text)
    return text if chinese is None or chinese == text else f"{chinese} {text}"


def bilingual(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of an inventory report document with every fixed text in Chinese and English."""
    doc = copy.deepcopy(document)
    doc["lang"] = "zh"
    doc["title"] = both(doc["title"])
    doc["subtitle"] = both(doc["subtitle"])
    for fact in doc.get("facts", []):
        fact["label"] = both(fact["label"])
    for spec in doc.get("tables", {}).values():
        translate_table(spec)
    doc["notes"] = [both(n) for n in doc.get("notes", [])]
    info = doc.get("iso14064", {}).get("info", {})
    if isinstance(info.get("significance_check"), str):
        info["significance_check"] = both(info["significance_check"])
    return doc


def translate_table(spec: dict[str, Any]) -> None:
    """Title, column labels, notes and fixed cell texts of one table, in place."""
    spec["title"] = both(spec["title"])
    for column in spec["columns"]:
        column["label"] = chinese(column["label"])
    if spec.get("note"):
        spec["note"] = both(spec["note"])
    text_keys = [c["key"] for c in spec["columns"] if c.get("kind") != "number"]
    for row in [*spec["rows"], *([spec["total"]] if spec.get("total") else [])]:
        for key in text_keys:
            if isinstance(row.get(key), str):
                row[key] = chinese(row[key])


def chinese(text: str) -> str:
    """The Chinese of a fixed text (column labels, cells), else the text as it is."""
    return zh(text) or text


def label(text: str, document: dict[str, Any]) -> str:
    """A template's fixed label: both languages when the document is in Chinese."""
    return both(text) if document.get("lang") == "zh" else text
