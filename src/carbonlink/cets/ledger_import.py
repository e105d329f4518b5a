"""Read a plant's monthly parameter ledger (月度参数台账, XLSX) into records or quarantined rows.

The first sheet's first row names the columns, in Chinese or English (either is accepted):

| 企业 entity | 月份 month | 排放源 source | 参数 parameter | 数值 value | 单位 unit |
| 报告编号 report_id | CMA/CNAS | 样品编号 sample_id | 采样日期 sample_date | 检测标准 standard |
| 样品数 sample_count | 证据文件 evidence |

``parameter`` is a code (``ncv``) or its Chinese name (低位发热量). ``evidence`` names a file
(a ledger scan or a laboratory report) found among the files handed in with the ledger; its
SHA-256 is recorded with the value. A row that cannot be stored (no number, a month that is not
YYYY-MM, an unknown parameter or source, a laboratory value without report, an evidence file not
handed in) is returned as quarantined with its row number and the reason; nothing is dropped.
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from carbonlink.cets.control_plan import LAB_PARAMETERS, ControlPlan
from carbonlink.cets.deposit import terms_zh
from carbonlink.cets.records import PARAMETERS, ParameterRecord
from carbonlink.errors import InputError

COLUMNS = {
    "entity": ("企业", "entity", "企业 entity"),
    "month": ("月份", "month", "月份 month"),
    "source": ("排放源", "source", "排放源 source"),
    "parameter": ("参数", "parameter", "参数 parameter"),
    "value": ("数值", "value", "数值 value"),
    "unit": ("单位", "unit", "单位 unit"),
    "report_id": ("报告编号", "report_id", "报告编号 report_id"),
    "accreditation": ("CMA/CNAS", "accreditation", "cma/cnas"),
    "sample_id": ("样品编号", "sample_id", "样品编号 sample_id"),
    "sample_date": ("采样日期", "sample_date", "采样日期 sample_date"),
    "standard": ("检测标准", "standard", "检测标准 standard"),
    "sample_count": ("样品数", "sample_count", "样品数 sample_count"),
    "evidence": ("证据文件", "evidence", "证据文件 evidence"),
}
REQUIRED = ("entity", "month", "source", "parameter", "value")
HEADER = [
    "企业 entity",
    "月份 month",
    "排放源 source",
    "参数 parameter",
    "数值 value",
    "单位 unit",
    "报告编号 report_id",
    "CMA/CNAS",
    "样品编号 sample_id",
    "采样日期 sample_date",
    "检测标准 standard",
    "样品数 sample_count",
    "证据文件 evidence",
]
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass
class LedgerRead:
    """What a ledger file gave: records to store and rows to quarantine."""

    records: list[ParameterRecord] = field(default_factory=list)
    quarantined: list[tuple[int, str, dict[str, Any], str]] = field(default_factory=list)
    evidence: dict[str, bytes] = field(default_factory=dict)
    """Evidence files the stored records cite, by name."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _header_map(header: list[Any], file_name: str) -> dict[str, int]:
    wanted = {alias.lower(): key for key, aliases in COLUMNS.items() for alias in aliases}
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = wanted.get(_text(cell).lower())
        if key:
            found.setdefault(key, index)
    missing = [k for k in REQUIRED if k not in found]
    if missing:
        raise InputError(
            f"the ledger's first row has no column {', '.join(missing)}",
            file=file_name,
            hint="name the columns as in the template: " + ", ".join(HEADER),
        )
    return found


def read_ledger(
    body: bytes,
    file_name: str,
    *,
    evidence: Mapping[str, bytes],
    plans: Mapping[str, ControlPlan] | None = None,
    origin: str = "ledger",
) -> LedgerRead:
    """Parse the ledger workbook ``body``; evidence file bytes are looked up by name.

    With ``plans`` (entity id → control plan) a row naming a source the entity's plan does not
    know, or an entity without plan, is quarantined too.
    """
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(body), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several kinds for a file that is not a workbook
        raise InputError(
            f"{file_name} is not an XLSX workbook ({type(exc).__name__})",
            file=file_name,
            hint="save the ledger as .xlsx (Excel 2007 or later)",
        ) from exc
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header = list(next(rows, ()) or ())
    columns = _header_map(header, file_name)
    names = {zh: code for code, zh in terms_zh().items()}
    out = LedgerRead()
    for number, raw in enumerate(rows, start=2):
        cells = list(raw)
        if not any(_text(c) for c in cells):
            continue
        row = {
            key: _text(cells[index]) if index < len(cells) else "" for key, index in columns.items()
        }
        entity = row.get("entity", "")
        problem, record = _record(row, names, evidence, plans, origin)
        if problem:
            out.quarantined.append((number, entity, row, problem))
        elif record is not None:
            out.records.append(record)
            if record.evidence_name:
                out.evidence[record.evidence_name] = evidence[record.evidence_name]
    book.close()
    return out


def _record(
    row: dict[str, str],
    names: Mapping[str, str],
    evidence: Mapping[str, bytes],
    plans: Mapping[str, ControlPlan] | None,
    origin: str,
) -> tuple[str, ParameterRecord | None]:
    for key in REQUIRED:
        if not row.get(key):
            return f"no {key}", None
    parameter = names.get(row["parameter"], row["parameter"])
    if parameter not in PARAMETERS:
        return f"unknown parameter {row['parameter']!r}; use one of {', '.join(PARAMETERS)}", None
    month = row["month"][:7] if re.match(r"^\d{4}-\d{2}-\d{2}$", row["month"]) else row["month"]
    if not _MONTH.match(month):
        return f"month {row['month']!r} is not YYYY-MM", None
    try:
        value = float(row["value"].replace(",", ""))
    except ValueError:
        return f"value {row['value']!r} is not a number", None
    if value != value or value < 0:
        return f"value {row['value']!r} must be a number not below zero", None
    sample_date = row.get("sample_date", "")
    if sample_date:
        try:
            date.fromisoformat(sample_date[:10])
        except ValueError:
            return f"sampling date {sample_date!r} is not YYYY-MM-DD", None
        sample_date = sample_date[:10]
    try:
        count = int(float(row.get("sample_count") or 0))
    except ValueError:
        return f"sample count {row['sample_count']!r} is not a whole number", None
    if plans is not None:
        plan = plans.get(row["entity"])
        if plan is None:
            return f"entity {row['entity']!r} has no control plan; save one first", None
        known = {s.id for s in plan.sources} | {p.code for p in plan.processes}
        if row["source"] not in known:
            return (
                f"source {row['source']!r} is not in {row['entity']}'s control plan "
                f"v{plan.version}",
                None,
            )
    if parameter in LAB_PARAMETERS and row.get("report_id") and not row.get("accreditation"):
        return f"laboratory report {row['report_id']} has no CMA/CNAS number", None
    name = row.get("evidence", "")
    digest = ""
    if name:
        if name not in evidence:
            return f"evidence file {name!r} was not handed in with the ledger", None
        digest = hashlib.sha256(evidence[name]).hexdigest()
    kind = "lab_report" if row.get("report_id") else ("ledger_scan" if name else "")
    return "", ParameterRecord(
        entity_id=row["entity"],
        month=month,
        source=row["source"],
        parameter=parameter,
        value=value,
        unit=row.get("unit", ""),
        report_id=row.get("report_id", ""),
        accreditation=row.get("accreditation", ""),
        sample_id=row.get("sample_id", ""),
        sample_date=sample_date,
        standard=row.get("standard", ""),
        sample_count=count or (1 if row.get("report_id") else 0),
        evidence_kind=kind,
        evidence_name=name,
        evidence_sha256=digest,
        origin=origin,
    )


def write_ledger(records: list[ParameterRecord]) -> bytes:
    """A ledger workbook of ``records`` in the layout `read_ledger` reads (the template)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "月度参数台账"
    sheet.append(HEADER)
    zh = terms_zh()
    for r in records:
        sheet.append(
            [
                r.entity_id,
                r.month,
                r.source,
                zh.get(r.parameter, r.parameter),
                r.value,
                r.unit,
                r.report_id,
                r.accreditation,
                r.sample_id,
                r.sample_date,
                r.standard,
                r.sample_count or None,
                r.evidence_name,
            ]
        )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
