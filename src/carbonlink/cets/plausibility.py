"""Plausibility checks a verifier runs on an entity's monthly parameters.

Each rule has an id, a title and a source, and returns `Finding` records naming the entity, the
month, the source stream, the parameter and the value that tripped it. The checks work on whole
month tables (numpy arrays, one element per record); only the per-group medians loop, once per
group, never per record.

Rules:

- ``CETS-P1`` carbon content against NCV: the carbon per unit of heat of a coal sample,
  ``C/NCV = (C_ar / 100) / NCV_ar × 1000`` in t C/TJ (C_ar: as-received elemental carbon, mass %;
  NCV_ar: as-received net calorific value, GJ/t), must lie in the coal type's band (data file
  ``carbon_ncv_bands.csv``: 2006 IPCC Guidelines Vol. 2 Table 1.3 lower and upper limits).
  Carbon and NCV must be on the same basis from the same sample; a ratio outside the band points at
  a wrong basis (dry vs as-received), a unit slip or a report copied from another sample.
- ``CETS-P2`` month-to-month jump: ``|x_t − x_{t−1}| / |x_{t−1}|`` above a threshold (default 30 %)
  for the same entity, source stream and parameter, against the previous recorded month.
- ``CETS-P3`` consumption against production: the month's intensity ``consumption / production``
  outside ``median × (1 ± band)`` (default band 20 %), the median taken over the entity's own months
  for that source stream.
- ``CETS-P4`` laboratory sample outside the month: a report's sampling date not in the month whose
  value it supports (or no sampling date at all).
- ``CETS-P6`` carbon and NCV from different samples: in one month and source stream, the carbon
  content (or the hydrogen, sulphur or moisture, where reported) and the NCV backed by different
  laboratory reports or sampling dates, so their ratio (and the emission factor built from both)
  mixes two samples. The monthly deposits ask for carbon, calorific value, hydrogen, sulphur and
  moisture determined on the same sample.
- ``CETS-P5`` missing report: a parameter the data-quality control plan says is measured has, in
  a month of the table, no record with a laboratory report.
- ``CETS-P7`` sampling frequency: a measured parameter sampled less often than the control plan
  says (`carbonlink.cets.control_plan.sampling_findings`).

Thresholds for P2 and P3 are settings of the checker, not published limits; the MEE verification
guidance asks verifiers to judge the reasonableness of data without fixing numbers.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from importlib import resources

import numpy as np
import numpy.typing as npt

from carbonlink.errors import InputError, UnknownFactorError

VERIFICATION_GUIDANCE = (
    "MEE verification guideline for steel (companion to the 2025 accounting guideline): the "
    "verifier checks the reasonableness and consistency of reported data"
)


@dataclass(frozen=True)
class PlausibilityRule:
    id: str
    title: str
    source: str
    title_zh: str = ""


RULES: Mapping[str, PlausibilityRule] = {
    rule.id: rule
    for rule in (
        PlausibilityRule(
            "CETS-P1",
            "carbon content against NCV outside the coal type's band",
            "2006 IPCC Guidelines Vol. 2 Table 1.3 (carbon content lower/upper limits)",
            "元素碳含量与低位发热量之比超出该煤种范围",
        ),
        PlausibilityRule(
            "CETS-P2",
            "month-to-month jump above threshold",
            VERIFICATION_GUIDANCE,
            "环比变化超过阈值",
        ),
        PlausibilityRule(
            "CETS-P3",
            "consumption per unit of production outside the entity's band",
            VERIFICATION_GUIDANCE,
            "单位产品消耗量偏离本企业中位数",
        ),
        PlausibilityRule(
            "CETS-P4",
            "laboratory sample date outside the month",
            "monthly evidence deposits: each month's parameters backed by that month's reports",
            "检测报告采样日期不在当月",
        ),
        PlausibilityRule(
            "CETS-P5",
            "missing laboratory report for a measured parameter",
            "data-quality control plan (数据质量控制计划): parameters determined by measurement",
            "计划实测的参数缺少检测报告",
        ),
        PlausibilityRule(
            "CETS-P6",
            "carbon content and NCV not from the same sample",
            "monthly evidence deposits: carbon, calorific value, hydrogen, sulphur and moisture "
            "determined on the same sample",
            "元素碳含量与低位发热量非同一样品",
        ),
        PlausibilityRule(
            "CETS-P7",
            "parameter sampled less often than the control plan says",
            "企业温室气体排放核算与报告指南 钢铁行业 (MEE, 2025): the verifier checks the "
            "data-quality control plan against what was done",
            "采样检测频次低于数据质量控制计划",
        ),
    )
}


@dataclass(frozen=True)
class Finding:
    rule: str
    entity: str
    month: str
    source: str
    parameter: str
    value: float
    detail: str


@dataclass(frozen=True)
class CarbonNcvBand:
    fuel: str
    default: float
    lower: float
    upper: float
    source: str
    table: str


@dataclass(frozen=True)
class MonthTable:
    """One record per (entity, month, source stream, parameter), as plain aligned arrays.

    ``month`` is ``datetime64[M]``; ``report_id`` is ``""`` where no laboratory report backs the
    value; ``sample_date`` is ``datetime64[D]`` (``NaT`` where none).
    """

    entity: npt.NDArray[np.str_]
    month: npt.NDArray[np.datetime64]
    source: npt.NDArray[np.str_]
    parameter: npt.NDArray[np.str_]
    value: npt.NDArray[np.float64]
    report_id: npt.NDArray[np.str_]
    sample_date: npt.NDArray[np.datetime64]

    @classmethod
    def from_records(cls, records: Collection[Mapping[str, object]]) -> MonthTable:
        """Build from dicts with keys entity, month (YYYY-MM), source, parameter, value,
        and optional report_id and sample_date (YYYY-MM-DD)."""
        rows = list(records)
        for number, row in enumerate(rows, start=1):
            for key in ("entity", "month", "source", "parameter", "value"):
                if key not in row or row[key] in (None, ""):
                    raise InputError(
                        f"record {number} has no {key}",
                        record=str(number),
                        hint="every monthly record needs entity, month, source, parameter, value",
                    )
            _check_record(number, row)
        return cls(
            entity=np.array([str(r["entity"]) for r in rows], dtype=np.str_),
            month=np.array([str(r["month"]) for r in rows], dtype="datetime64[M]"),
            source=np.array([str(r["source"]) for r in rows], dtype=np.str_),
            parameter=np.array([str(r["parameter"]) for r in rows], dtype=np.str_),
            value=np.array([float(str(r["value"])) for r in rows], dtype=np.float64),
            report_id=np.array([str(r.get("report_id") or "") for r in rows], dtype=np.str_),
            sample_date=np.array(
                [str(r.get("sample_date") or "NaT") for r in rows], dtype="datetime64[D]"
            ),
        )

    def __len__(self) -> int:
        return len(self.value)

    def __post_init__(self) -> None:
        lengths = {
            name: len(getattr(self, name))
            for name in ("entity", "month", "source", "parameter", "value", "report_id")
        } | {"sample_date": len(self.sample_date)}
        if len(set(lengths.values())) > 1:
            raise InputError(
                f"month table columns differ in length: {lengths}",
                hint="give one element per record in every column",
            )


def _check_record(number: int, row: Mapping[str, object]) -> None:
    """Raise `InputError` naming the record whose value, month or sampling date does not parse."""
    checks = (
        ("value", row["value"], lambda text: float(text)),
        ("month", row["month"], lambda text: np.datetime64(text, "M")),
        ("sample_date", row.get("sample_date") or "NaT", lambda text: np.datetime64(text, "D")),
    )
    for field, raw, parse in checks:
        try:
            parse(str(raw))
        except ValueError as exc:
            raise InputError(
                f"record {number}: {field} {raw!r} cannot be read",
                record=str(number),
                hint="values are numbers, months YYYY-MM, sampling dates YYYY-MM-DD",
            ) from exc


def load_carbon_ncv_bands() -> dict[str, CarbonNcvBand]:
    """The shipped C/NCV bands by fuel (t C/TJ)."""
    path = resources.files("carbonlink.data").joinpath("cets/carbon_ncv_bands.csv")
    bands = {}
    for row in csv.DictReader(path.read_text("utf-8").splitlines()):
        bands[row["fuel"]] = CarbonNcvBand(
            fuel=row["fuel"],
            default=float(row["default"]),
            lower=float(row["lower"]),
            upper=float(row["upper"]),
            source=row["source"],
            table=row["table"],
        )
    return bands


def _month_text(months: npt.NDArray[np.datetime64]) -> list[str]:
    return [str(m) for m in months.astype("datetime64[M]")]


def _findings(
    rule: str,
    mask: npt.NDArray[np.bool_],
    entity: npt.NDArray[np.str_],
    month: npt.NDArray[np.datetime64],
    source: npt.NDArray[np.str_],
    parameter: npt.NDArray[np.str_],
    value: npt.NDArray[np.float64],
    details: list[str],
) -> list[Finding]:
    index = np.flatnonzero(mask)
    months = _month_text(month[index])
    return [
        Finding(rule, str(entity[i]), m, str(source[i]), str(parameter[i]), float(value[i]), d)
        for i, m, d in zip(index, months, details, strict=True)
    ]


def check_carbon_ncv(
    entity: npt.NDArray[np.str_],
    month: npt.NDArray[np.datetime64],
    source: npt.NDArray[np.str_],
    fuel: npt.NDArray[np.str_],
    carbon_percent: npt.NDArray[np.float64],
    ncv_gj_per_t: npt.NDArray[np.float64],
    bands: Mapping[str, CarbonNcvBand] | None = None,
) -> list[Finding]:
    """CETS-P1: samples whose carbon per unit heat lies outside their coal type's band."""
    bands = load_carbon_ncv_bands() if bands is None else bands
    unknown = sorted(set(np.unique(fuel).tolist()) - set(bands))
    if unknown:
        raise UnknownFactorError(
            f"no C/NCV band for fuel {', '.join(unknown)}",
            hint=f"use one of {', '.join(sorted(bands))} or leave the sample out of this check",
        )
    if np.any(ncv_gj_per_t <= 0):
        bad = int(np.flatnonzero(ncv_gj_per_t <= 0)[0])
        raise InputError(
            f"NCV must be positive, got {ncv_gj_per_t[bad]}",
            record=f"{entity[bad]} {month[bad]} {source[bad]}",
            hint="enter the as-received net calorific value in GJ/t",
        )
    lower = np.array([bands[f].lower for f in fuel.tolist()], dtype=np.float64)
    upper = np.array([bands[f].upper for f in fuel.tolist()], dtype=np.float64)
    ratio = carbon_percent / 100.0 / ncv_gj_per_t * 1000.0
    mask = (ratio < lower) | (ratio > upper)
    details = [
        f"C/NCV {ratio[i]:.2f} t C/TJ (C {carbon_percent[i]:g} %, NCV {ncv_gj_per_t[i]:g} GJ/t) "
        f"outside {fuel[i]} band {lower[i]:g}–{upper[i]:g} t C/TJ"
        for i in np.flatnonzero(mask)
    ]
    parameter = np.full(len(fuel), "carbon_content")
    return _findings("CETS-P1", mask, entity, month, source, parameter, carbon_percent, details)


def _group_codes(*keys: npt.NDArray[np.str_]) -> npt.NDArray[np.intp]:
    joined = np.char.add(keys[0].astype(np.str_), "\x1f")
    for key in keys[1:]:
        joined = np.char.add(np.char.add(joined, key.astype(np.str_)), "\x1f")
    _, codes = np.unique(joined, return_inverse=True)
    return codes.reshape(-1)


def check_month_jumps(table: MonthTable, threshold: float = 0.30) -> list[Finding]:
    """CETS-P2: values that moved more than ``threshold`` (a fraction) since the month before."""
    if len(table) == 0:
        return []
    group = _group_codes(table.entity, table.source, table.parameter)
    order = np.lexsort((table.month, group))
    g, v, m = group[order], table.value[order], table.month[order]
    same = np.zeros(len(v), dtype=bool)
    same[1:] = g[1:] == g[:-1]
    previous = np.empty_like(v)
    previous[0] = np.nan
    previous[1:] = v[:-1]
    change = np.full(len(v), np.nan)
    ok = same & (previous != 0)
    np.divide(np.abs(v - previous), np.abs(previous), out=change, where=ok)
    jump = ok & (change > threshold)
    jump_from_zero = same & (previous == 0) & (v != 0)
    mask = np.zeros(len(v), dtype=bool)
    mask[order] = jump | jump_from_zero
    prev_month = np.empty_like(m)
    prev_month[1:] = m[:-1]
    prev_month[0] = m[0]
    details_sorted = {
        int(order[i]): (
            f"{previous[i]:g} in {prev_month[i]} → {v[i]:g}: "
            + (f"{change[i]:.1%} change" if ok[i] else "from zero")
            + f" (threshold {threshold:.0%})"
        )
        for i in np.flatnonzero(jump | jump_from_zero)
    }
    details = [details_sorted[int(i)] for i in np.flatnonzero(mask)]
    return _findings(
        "CETS-P2",
        mask,
        table.entity,
        table.month,
        table.source,
        table.parameter,
        table.value,
        details,
    )


def _group_median(
    group: npt.NDArray[np.intp], values: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Median of the finite values of each group code (NaN for a group with none), by sorting."""
    finite = np.isfinite(values)
    order = np.lexsort((np.where(finite, values, np.inf), ~finite, group))
    ordered = values[order]
    groups = int(group.max()) + 1
    start = np.searchsorted(group[order], np.arange(groups))
    count = np.bincount(group, weights=finite, minlength=groups).astype(np.intp)
    result = np.full(groups, np.nan)
    has = count > 0
    low = start[has] + (count[has] - 1) // 2
    high = start[has] + count[has] // 2
    result[has] = (ordered[low] + ordered[high]) / 2.0
    return result


def check_intensity(
    entity: npt.NDArray[np.str_],
    month: npt.NDArray[np.datetime64],
    source: npt.NDArray[np.str_],
    consumption: npt.NDArray[np.float64],
    production: npt.NDArray[np.float64],
    band: float = 0.20,
) -> list[Finding]:
    """CETS-P3: months whose consumption per unit of output lies outside median × (1 ± band).

    The median is the entity's own, per source stream, over the months given. A month with
    consumption but no production is always a finding.
    """
    intensity = np.full(len(consumption), np.inf)
    np.divide(consumption, production, out=intensity, where=production > 0)
    intensity[(production <= 0) & (consumption == 0)] = np.nan
    group = _group_codes(entity, source)
    median = _group_median(group, intensity)[group] if len(group) else intensity
    with np.errstate(invalid="ignore", divide="ignore"):
        deviation = np.abs(intensity / median - 1.0)
    no_output = (production <= 0) & (consumption > 0)
    mask = no_output | (deviation > band)  # NaN (0 of 0) compares False
    details = [
        (
            f"consumption {consumption[i]:g} with no production"
            if no_output[i]
            else f"intensity {intensity[i]:.4g} vs own median {median[i]:.4g} "
            f"({deviation[i]:+.1%} off, band ±{band:.0%})"
        )
        for i in np.flatnonzero(mask)
    ]
    parameter = np.full(len(consumption), "consumption_per_output")
    return _findings("CETS-P3", mask, entity, month, source, parameter, intensity, details)


def check_sample_in_month(table: MonthTable) -> list[Finding]:
    """CETS-P4: a laboratory report whose sampling date is missing or outside the record's month."""
    has_report = table.report_id != ""
    sampled_month = table.sample_date.astype("datetime64[M]")
    no_date = has_report & np.isnat(table.sample_date)
    outside = has_report & ~no_date & (sampled_month != table.month)
    mask = no_date | outside
    details = [
        f"report {table.report_id[i]}: "
        + ("no sampling date" if no_date[i] else f"sampled {table.sample_date[i]}")
        + f", value is for {table.month[i]}"
        for i in np.flatnonzero(mask)
    ]
    return _findings(
        "CETS-P4",
        mask,
        table.entity,
        table.month,
        table.source,
        table.parameter,
        table.value,
        details,
    )


def check_missing_reports(
    table: MonthTable, measured: Collection[tuple[str, str, str]]
) -> list[Finding]:
    """CETS-P5: for each (entity, source, parameter) the plan says is measured, each month of
    that entity in the table without a record backed by a laboratory report.

    A month with no record at all for the parameter is a finding too (value NaN).
    """
    out: list[Finding] = []
    if len(table) == 0 or not measured:
        return out
    reported = {
        (str(e), str(s), str(p), str(m))
        for e, s, p, m, r in zip(
            table.entity, table.source, table.parameter, table.month, table.report_id, strict=True
        )
        if r != ""
    }
    values = {
        (str(e), str(s), str(p), str(m)): float(v)
        for e, s, p, m, v in zip(
            table.entity, table.source, table.parameter, table.month, table.value, strict=True
        )
    }
    for entity, source, parameter in sorted(measured):
        months = np.unique(table.month[table.entity == entity])
        for month in _month_text(months):
            key = (entity, source, parameter, month)
            if key in reported:
                continue
            value = values.get(key, float("nan"))
            detail = (
                "value recorded without a laboratory report"
                if key in values
                else "no value and no laboratory report"
            )
            out.append(
                Finding(
                    "CETS-P5",
                    entity,
                    month,
                    source,
                    parameter,
                    value,
                    f"{detail}; the control plan says this parameter is measured",
                )
            )
    return out


SAME_SAMPLE = ("carbon_content", "hydrogen", "sulphur", "moisture")
"""Parameters that must come from the sample the NCV was determined on, where reported."""


def check_same_sample(table: MonthTable) -> list[Finding]:
    """CETS-P6: carbon content (and hydrogen, sulphur, moisture where reported) and NCV of one
    month and source stream from different samples.

    Compares the report id and the sampling date of each of those records with those of the
    ``ncv`` record; a month with only one of them, or without reports, is left to P5.
    """
    key = {
        (str(e), str(m), str(s), str(p)): i
        for i, (e, m, s, p) in enumerate(
            zip(table.entity, table.month, table.source, table.parameter, strict=True)
        )
    }
    out: list[Finding] = []
    for (entity, month, source, parameter), i in sorted(key.items()):
        if parameter not in SAME_SAMPLE:
            continue
        j = key.get((entity, month, source, "ncv"))
        if j is None or not table.report_id[i] or not table.report_id[j]:
            continue
        same_report = table.report_id[i] == table.report_id[j]
        same_day = str(table.sample_date[i]) == str(table.sample_date[j])
        if same_report and same_day:
            continue
        out.append(
            Finding(
                "CETS-P6",
                entity,
                month,
                source,
                parameter,
                float(table.value[i]),
                f"{'carbon' if parameter == 'carbon_content' else parameter} from report "
                f"{table.report_id[i]} sampled {table.sample_date[i]}, "
                f"NCV from report {table.report_id[j]} sampled {table.sample_date[j]}",
            )
        )
    return out
