"""Each plausibility rule with a hand-worked case."""

from __future__ import annotations

import math

import numpy as np
import pytest

from carbonlink.cets.plausibility import (
    RULES,
    MonthTable,
    check_carbon_ncv,
    check_intensity,
    check_missing_reports,
    check_month_jumps,
    check_same_sample,
    check_sample_in_month,
    load_carbon_ncv_bands,
)
from carbonlink.errors import InputError, UnknownFactorError


def _s(*values: str) -> np.ndarray:
    return np.array(values, dtype=np.str_)


def _m(*values: str) -> np.ndarray:
    return np.array(values, dtype="datetime64[M]")


def test_bands_are_cited_and_ordered() -> None:
    bands = load_carbon_ncv_bands()
    assert {"anthracite", "bituminous_coal", "coking_coal", "coke"} <= set(bands)
    for band in bands.values():
        assert band.lower < band.default < band.upper
        assert band.table == "Vol. 2 Table 1.3"
    assert all(rule.title_zh and rule.source for rule in RULES.values())
    assert set(RULES) == {f"CETS-P{n}" for n in range(1, 8)}


def test_p1_carbon_against_ncv() -> None:
    # 60 % C at 23 GJ/t: 0.60 / 23 × 1000 = 26.09 t C/TJ, inside bituminous 24.4–27.2.
    # 60 % C at 20 GJ/t: 0.60 / 20 × 1000 = 30.00 t C/TJ, above 27.2 (dry-basis carbon with
    #   an as-received NCV gives this kind of ratio).
    # 70 % C at 25 GJ/t: 0.70 / 25 × 1000 = 28.00 t C/TJ, above anthracite's 27.5.
    # 85 % C at 28.447 GJ/t: 29.88 t C/TJ, inside coke 26.1–32.4.
    findings = check_carbon_ncv(
        entity=_s("ts", "ts", "ts", "ts"),
        month=_m("2025-07", "2025-08", "2025-07", "2025-07"),
        source=_s("boiler coal", "boiler coal", "sinter fuel", "blast furnace coke"),
        fuel=_s("bituminous_coal", "bituminous_coal", "anthracite", "coke"),
        carbon_percent=np.array([60.0, 60.0, 70.0, 85.0]),
        ncv_gj_per_t=np.array([23.0, 20.0, 25.0, 28.447]),
    )
    assert [(f.month, f.source, f.value) for f in findings] == [
        ("2025-08", "boiler coal", 60.0),
        ("2025-07", "sinter fuel", 70.0),
    ]
    assert findings[0].rule == "CETS-P1"
    assert findings[0].parameter == "carbon_content"
    assert "30.00 t C/TJ" in findings[0].detail and "24.4–27.2" in findings[0].detail
    assert "28.00 t C/TJ" in findings[1].detail


def test_p1_unknown_fuel_and_bad_ncv_are_errors() -> None:
    args = {"entity": _s("ts"), "month": _m("2025-07"), "source": _s("x")}
    with pytest.raises(UnknownFactorError, match="peat"):
        check_carbon_ncv(
            **args, fuel=_s("peat"), carbon_percent=np.array([50.0]), ncv_gj_per_t=np.array([10.0])
        )
    with pytest.raises(InputError, match="NCV must be positive"):
        check_carbon_ncv(
            **args, fuel=_s("coke"), carbon_percent=np.array([50.0]), ncv_gj_per_t=np.array([0.0])
        )


def _table(rows: list[dict[str, object]]) -> MonthTable:
    return MonthTable.from_records(rows)


def test_p2_month_to_month_jumps() -> None:
    # Coal consumption 100, 110, 150, 0, 40 t in Jul–Nov (given out of order):
    # 110/100 − 1 = 10 % (fine); 150/110 − 1 = 36.4 % > 30 % (finding);
    # |0 − 150|/150 = 100 % (finding); 40 after 0 is a jump from zero (finding).
    # The NCV series 20.0 → 21.0 (5 %) raises nothing.
    values = {"2025-07": 100, "2025-08": 110, "2025-09": 150, "2025-10": 0, "2025-11": 40}
    rows: list[dict[str, object]] = [
        {"entity": "ts", "month": m, "source": "coal", "parameter": "consumption", "value": v}
        for m, v in reversed(values.items())
    ]
    rows += [
        {"entity": "ts", "month": "2025-07", "source": "coal", "parameter": "ncv", "value": 20.0},
        {"entity": "ts", "month": "2025-08", "source": "coal", "parameter": "ncv", "value": 21.0},
    ]
    findings = check_month_jumps(_table(rows))
    assert sorted((f.month, f.value) for f in findings) == [
        ("2025-09", 150.0),
        ("2025-10", 0.0),
        ("2025-11", 40.0),
    ]
    by_month = {f.month: f for f in findings}
    assert "36.4% change" in by_month["2025-09"].detail
    assert "from zero" in by_month["2025-11"].detail
    assert all(f.parameter == "consumption" and f.rule == "CETS-P2" for f in findings)
    assert check_month_jumps(_table(rows), threshold=0.40) != findings


def test_p3_consumption_against_production() -> None:
    # Output 1000 t each month; coke 500, 520, 480, 700 t → 0.50, 0.52, 0.48, 0.70 t/t.
    # Median of the four = (0.50 + 0.52) / 2 = 0.51; 0.70 / 0.51 − 1 = +37.3 % (> 20 %, finding);
    # 0.48 / 0.51 − 1 = −5.9 % (fine). A fifth month, 100 t of coke and no output: finding.
    findings = check_intensity(
        entity=_s("ts", "ts", "ts", "ts", "ts"),
        month=_m("2025-07", "2025-08", "2025-09", "2025-10", "2025-11"),
        source=_s("coke", "coke", "coke", "coke", "coke"),
        consumption=np.array([500.0, 520.0, 480.0, 700.0, 100.0]),
        production=np.array([1000.0, 1000.0, 1000.0, 1000.0, 0.0]),
    )
    assert [f.month for f in findings] == ["2025-10", "2025-11"]
    assert findings[0].value == pytest.approx(0.70)
    assert "+37.3% off" in findings[0].detail
    assert "no production" in findings[1].detail


def test_p4_sample_date_outside_month() -> None:
    base = {"entity": "ts", "source": "coal", "parameter": "ncv", "value": 21.0}
    rows: list[dict[str, object]] = [
        base | {"month": "2025-07", "report_id": "A1", "sample_date": "2025-07-31"},
        base | {"month": "2025-08", "report_id": "A2", "sample_date": "2025-09-01"},
        base | {"month": "2025-09", "report_id": "A3"},
        base | {"month": "2025-10"},
    ]
    findings = check_sample_in_month(_table(rows))
    assert [(f.month, f.rule) for f in findings] == [("2025-08", "CETS-P4"), ("2025-09", "CETS-P4")]
    assert "sampled 2025-09-01" in findings[0].detail
    assert "no sampling date" in findings[1].detail


def test_p5_missing_report_for_measured_parameter() -> None:
    # Plan: NCV and carbon content of the coal are measured. July has both with reports;
    # August has NCV without a report and no carbon content at all: two findings.
    rows: list[dict[str, object]] = [
        {
            "entity": "ts",
            "month": "2025-07",
            "source": "coal",
            "parameter": "ncv",
            "value": 21.0,
            "report_id": "A1",
            "sample_date": "2025-07-15",
        },
        {
            "entity": "ts",
            "month": "2025-07",
            "source": "coal",
            "parameter": "carbon_content",
            "value": 58.0,
            "report_id": "A1",
            "sample_date": "2025-07-15",
        },
        {"entity": "ts", "month": "2025-08", "source": "coal", "parameter": "ncv", "value": 21.3},
        {
            "entity": "ts",
            "month": "2025-08",
            "source": "coal",
            "parameter": "consumption",
            "value": 900.0,
        },
    ]
    measured = {("ts", "coal", "ncv"), ("ts", "coal", "carbon_content")}
    findings = check_missing_reports(_table(rows), measured)
    assert [(f.month, f.parameter) for f in findings] == [
        ("2025-08", "carbon_content"),
        ("2025-08", "ncv"),
    ]
    assert math.isnan(findings[0].value)
    assert "no value" in findings[0].detail
    assert findings[1].value == 21.3
    assert "without a laboratory report" in findings[1].detail


def test_record_without_value_is_rejected() -> None:
    with pytest.raises(InputError, match="record 1 has no value"):
        MonthTable.from_records(
            [{"entity": "ts", "month": "2025-07", "source": "c", "parameter": "ncv"}]
        )


def test_p6_carbon_and_ncv_from_different_samples() -> None:
    # July: both from report A1 sampled 15 Jul: fine. August: carbon from B1 (10 Aug), NCV from
    # B2 (20 Aug): finding. September: only NCV reported: left to P5.
    def row(month: str, parameter: str, report: str, day: str, value: float) -> dict[str, object]:
        return {
            "entity": "ts",
            "month": month,
            "source": "coal",
            "parameter": parameter,
            "value": value,
            "report_id": report,
            "sample_date": day,
        }

    table = _table(
        [
            row("2025-07", "carbon_content", "A1", "2025-07-15", 58.0),
            row("2025-07", "ncv", "A1", "2025-07-15", 22.0),
            row("2025-08", "carbon_content", "B1", "2025-08-10", 59.0),
            row("2025-08", "ncv", "B2", "2025-08-20", 22.5),
            row("2025-09", "ncv", "C1", "2025-09-12", 22.1),
        ]
    )
    findings = check_same_sample(table)
    assert [(f.rule, f.month, f.value) for f in findings] == [("CETS-P6", "2025-08", 59.0)]
    assert "B1 sampled 2025-08-10" in findings[0].detail
    assert "B2 sampled 2025-08-20" in findings[0].detail


def test_p6_hydrogen_sulphur_moisture_on_the_ncv_sample() -> None:
    # July's NCV, carbon and sulphur all from report A1 sampled 15 Jul: fine; its moisture from
    # A2 sampled 16 Jul: a finding on moisture. August reports no hydrogen, sulphur or moisture:
    # nothing to compare.
    def row(month: str, parameter: str, report: str, day: str, value: float) -> dict[str, object]:
        return {
            "entity": "ts",
            "month": month,
            "source": "coal",
            "parameter": parameter,
            "value": value,
            "report_id": report,
            "sample_date": day,
        }

    table = _table(
        [
            row("2025-07", "ncv", "A1", "2025-07-15", 22.0),
            row("2025-07", "carbon_content", "A1", "2025-07-15", 58.0),
            row("2025-07", "sulphur", "A1", "2025-07-15", 0.6),
            row("2025-07", "moisture", "A2", "2025-07-16", 9.5),
            row("2025-08", "ncv", "B1", "2025-08-12", 22.1),
            row("2025-08", "carbon_content", "B1", "2025-08-12", 58.3),
        ]
    )
    findings = check_same_sample(table)
    assert [(f.rule, f.month, f.parameter, f.value) for f in findings] == [
        ("CETS-P6", "2025-07", "moisture", 9.5)
    ]
    assert findings[0].detail.startswith("moisture from report A2 sampled 2025-07-16")


@pytest.mark.parametrize(
    ("field", "bad"), [("value", "twelve"), ("month", "July"), ("sample_date", "2025-13-40")]
)
def test_unreadable_record_names_the_record(field: str, bad: str) -> None:
    row: dict[str, object] = {
        "entity": "ts",
        "month": "2025-07",
        "source": "c",
        "parameter": "ncv",
        "value": 1.0,
        "sample_date": "2025-07-01",
    }
    with pytest.raises(InputError, match=f"record 2: {field}"):
        MonthTable.from_records([dict(row), row | {field: bad}])


def test_columns_of_different_length_are_refused() -> None:
    table = _table(
        [{"entity": "ts", "month": "2025-07", "source": "c", "parameter": "ncv", "value": 1.0}]
    )
    with pytest.raises(InputError, match="differ in length"):
        MonthTable(
            table.entity,
            table.month,
            table.source,
            table.parameter,
            np.array([1.0, 2.0]),
            table.report_id,
            table.sample_date,
        )


def test_group_median_matches_numpy_per_group() -> None:
    from carbonlink.cets.plausibility import _group_median

    rng = np.random.default_rng(7)
    group = rng.integers(0, 40, 500)
    values = rng.normal(1.0, 0.2, 500)
    values[rng.integers(0, 500, 30)] = np.inf
    values[group == 3] = np.inf  # a group with no finite value
    medians = _group_median(group, values)
    for code in range(40):
        finite = values[(group == code) & np.isfinite(values)]
        if finite.size:
            assert medians[code] == pytest.approx(np.median(finite))
        else:
            assert np.isnan(medians[code])


def test_p3_zero_median_raises_no_warning() -> None:
    # Output but no consumption in three months: median 0; a month using 5 t stands out
    # (infinitely far from 0) without a division warning.
    findings = check_intensity(
        entity=_s("ts", "ts", "ts", "ts"),
        month=_m("2025-07", "2025-08", "2025-09", "2025-10"),
        source=_s("gas", "gas", "gas", "gas"),
        consumption=np.array([0.0, 0.0, 0.0, 5.0]),
        production=np.array([100.0, 100.0, 100.0, 100.0]),
    )
    assert [f.month for f in findings] == ["2025-10"]
