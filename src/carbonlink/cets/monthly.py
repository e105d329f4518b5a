"""A month's (or a year's) parameters of one entity: checks, direct CO2 and output, from records.

Plain records in (dicts with entity, month, source, parameter, value, report_id, sample_date,
sample_count), plain results out; the store and the web hand the records over.

Direct CO2 of a month, as an estimate from the month's parameters (the annual report follows the
2025 steel guideline's carbon mass balance per process; this is the running monthly figure):

- fuel burnt, carbon measured: ``E = FC × C_ar/100 × OF/100 × 44/12`` (FC consumption in t,
  C_ar as-received carbon in %, OF oxidation in %);
- fuel burnt, carbon per unit heat: ``E = FC × NCV × CC × OF/100 × 44/12`` (NCV in GJ/t or
  GJ/10^4 Nm3, CC in t C/GJ);
- carbonate flux: ``E = Q × C × 44/12`` (C in t C/t).

A value the month does not record is taken from the control plan's default for that source
and parameter; a parameter with neither leaves the source out of the month's total and says so.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from carbonlink.cets.control_plan import ControlPlan, sampling_findings
from carbonlink.cets.plausibility import (
    Finding,
    MonthTable,
    check_carbon_ncv,
    check_intensity,
    check_missing_reports,
    check_month_jumps,
    check_same_sample,
    check_sample_in_month,
    load_carbon_ncv_bands,
)

CO2_PER_C = 44.0 / 12.0


@dataclass(frozen=True)
class MonthEmissions:
    month: str
    tco2: float
    by_source: dict[str, float] = field(default_factory=dict)
    left_out: tuple[str, ...] = ()


def _values(records: Iterable[Mapping[str, object]]) -> dict[tuple[str, str, str], float]:
    return {
        (str(r["month"]), str(r["source"]), str(r["parameter"])): float(str(r["value"]))
        for r in records
    }


def run_checks(
    plan: ControlPlan | None,
    records: Sequence[Mapping[str, object]],
    *,
    jump_threshold: float = 0.30,
    intensity_band: float = 0.20,
) -> list[Finding]:
    """Every plausibility check (CETS-P1 … P7) over the entity's records, sorted by month.

    Without a control plan the checks that need it (P1's fuel types, P3's processes, P5 and P7)
    are left out.
    """
    rows = [r for r in records if str(r.get("parameter")) != "sample_count"]
    if not rows:
        return []
    table = MonthTable.from_records(rows)
    findings = check_month_jumps(table, jump_threshold)
    findings += check_sample_in_month(table)
    findings += check_same_sample(table)
    if plan is not None:
        values = _values(rows)
        bands = load_carbon_ncv_bands()
        fuels = {s.id: s.fuel for s in plan.sources}
        p1 = [
            (month, source, fuels[source], values[(month, source, "carbon_content")], ncv)
            for (month, source, parameter), ncv in sorted(values.items())
            if parameter == "ncv"
            and fuels.get(source) in bands
            and (month, source, "carbon_content") in values
        ]
        if p1:
            columns = list(zip(*p1, strict=True))
            findings += check_carbon_ncv(
                np.full(len(p1), plan.entity_id),
                np.array(columns[0], dtype="datetime64[M]"),
                np.array(columns[1]),
                np.array(columns[2]),
                np.array(columns[3], dtype=np.float64),
                np.array(columns[4], dtype=np.float64),
                bands,
            )
        p3 = []
        for (month, source, parameter), used in sorted(values.items()):
            process = plan.process_of(source)
            if parameter != "consumption" or process is None:
                continue
            made = values.get((month, process.code, "output"))
            if made is not None:
                p3.append((month, source, used, made))
        if p3:
            cols = list(zip(*p3, strict=True))
            findings += check_intensity(
                np.full(len(p3), plan.entity_id),
                np.array(cols[0], dtype="datetime64[M]"),
                np.array(cols[1]),
                np.array(cols[2], dtype=np.float64),
                np.array(cols[3], dtype=np.float64),
                intensity_band,
            )
        findings += check_missing_reports(table, plan.measured())
        samples: dict[tuple[str, str, str], int] = defaultdict(int)
        for r in rows:
            if r.get("report_id"):
                count = int(str(r.get("sample_count") or 0)) or 1
                samples[(str(r["month"]), str(r["source"]), str(r["parameter"]))] += count
        months_seen = sorted({str(r["month"]) for r in rows})
        findings += sampling_findings(plan, samples, months_seen)
    return sorted(findings, key=lambda f: (f.month, f.rule, f.source, f.parameter))


def month_emissions(
    plan: ControlPlan, records: Sequence[Mapping[str, object]]
) -> list[MonthEmissions]:
    """Direct CO2 per month from the records and the plan's defaults (formulas in the module)."""
    values = _values(records)
    defaults = {p.key: p.default_value for p in plan.parameters if p.default_value is not None}
    kinds = {s.id: s.method for s in plan.sources}
    out = []
    for month in sorted({m for m, _, _ in values}):

        def get(source: str, parameter: str, month: str = month) -> float | None:
            found = values.get((month, source, parameter))
            return found if found is not None else defaults.get((source, parameter))

        by_source: dict[str, float] = {}
        left_out: list[str] = []
        for source, kind in kinds.items():
            used = values.get((month, source, "consumption"))
            if used is None or kind not in ("combustion", "carbonate"):
                continue
            carbon = get(source, "carbon_content")
            if kind == "carbonate":
                tco2 = None if carbon is None else used * carbon * CO2_PER_C
            else:
                oxidation = get(source, "oxidation")
                ncv, per_heat = get(source, "ncv"), get(source, "carbon_per_heat")
                if oxidation is None:
                    tco2 = None
                elif (month, source, "carbon_content") in values and carbon is not None:
                    tco2 = used * carbon / 100.0 * oxidation / 100.0 * CO2_PER_C
                elif ncv is not None and per_heat is not None:
                    tco2 = used * ncv * per_heat * oxidation / 100.0 * CO2_PER_C
                else:
                    tco2 = None
            if tco2 is None:
                left_out.append(source)
            else:
                by_source[source] = tco2
        out.append(MonthEmissions(month, sum(by_source.values()), by_source, tuple(left_out)))
    return out


def process_output(plan: ControlPlan, records: Sequence[Mapping[str, object]]) -> dict[str, float]:
    """Output per process (t) summed over the records' months (parameter ``output``)."""
    codes = {p.code for p in plan.processes}
    totals: dict[str, float] = defaultdict(float)
    for r in records:
        if r["parameter"] == "output" and r["source"] in codes:
            totals[str(r["source"])] += float(str(r["value"]))
    return dict(totals)
