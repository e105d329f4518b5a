"""A small Tangshan-like control plan and records shared by the China ETS tests."""

from __future__ import annotations

from carbonlink.cets.control_plan import (
    ControlPlan,
    ParameterPlan,
    ProcessPlan,
    SourceInfo,
    draft_plan,
)
from carbonlink.cets.records import ParameterRecord

ENTITY = "tangshan"


def small_plan() -> ControlPlan:
    """Ironmaking with PCI coal (measured NCV and carbon, monthly), a gas furnace in rolling
    (defaults) and limestone flux in sintering (default carbon)."""
    return draft_plan(
        ENTITY,
        "唐山示范钢铁有限公司",
        [
            ProcessPlan(code="ironmaking", name="炼铁", sources=("bf-pci",)),
            ProcessPlan(code="rolling", name="轧钢", sources=("mill-gas",)),
            ProcessPlan(code="sintering", name="烧结", sources=("flux-limestone",)),
        ],
        [
            SourceInfo(id="bf-pci", method="combustion", fuel="bituminous_coal"),
            SourceInfo(id="mill-gas", method="combustion", fuel="natural_gas"),
            SourceInfo(id="flux-limestone", method="carbonate", fuel="limestone"),
        ],
        uscc="91130200MA0CL2N55X",
        laboratory="示例检测中心",
    )


def month(
    label: str,
    *,
    carbon: float = 64.5,
    ncv: float = 25.0,
    pci: float = 10_000.0,
    iron: float = 80_000.0,
    report: str | None = None,
    sample_date: str | None = None,
    evidence: str = "",
) -> list[ParameterRecord]:
    """One month: PCI coal burnt (t), its NCV and carbon from one laboratory report, hot metal."""
    report = report if report is not None else f"LAB-{label}"
    sampled = sample_date if sample_date is not None else f"{label}-20"
    lab = {
        "report_id": report,
        "accreditation": "CMA 000000000000",
        "sample_id": f"S-{label}",
        "sample_date": sampled if report else "",
        "sample_count": 1 if report else 0,
        "evidence_name": evidence,
        "evidence_kind": "lab_report" if evidence else "",
    }
    return [
        ParameterRecord(ENTITY, label, "bf-pci", "consumption", pci, "t"),
        ParameterRecord(ENTITY, label, "bf-pci", "ncv", ncv, "GJ/t", **lab),  # type: ignore[arg-type]
        ParameterRecord(ENTITY, label, "bf-pci", "carbon_content", carbon, "%", **lab),  # type: ignore[arg-type]
        ParameterRecord(ENTITY, label, "ironmaking", "output", iron, "t"),
    ]


def rows(records: list[ParameterRecord]) -> list[dict[str, object]]:
    return [r.as_table_row() | {"sample_count": r.sample_count} for r in records]


__all__ = ["ENTITY", "ParameterPlan", "month", "rows", "small_plan"]
