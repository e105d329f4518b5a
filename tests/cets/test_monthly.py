"""Checks, direct CO2 and output from a year of records, with hand-worked numbers."""

from __future__ import annotations

import pytest
from cets_fixture import month, rows, small_plan

from carbonlink.cets.monthly import month_emissions, process_output, run_checks
from carbonlink.cets.records import ParameterRecord


def test_clean_months_give_no_finding() -> None:
    records = month("2025-01") + month("2025-02")
    assert run_checks(small_plan(), rows(records)) == []


def test_dry_basis_carbon_is_caught_by_carbon_against_ncv() -> None:
    """Hand-worked: 72.5 % carbon with NCV 25.0 GJ/t gives 0.725 / 25.0 × 1000 = 29.0 t C/TJ,
    above the bituminous-coal band's upper limit 27.2; 64.5 % gives 25.8, inside 24.4–27.2."""
    records = month("2025-07") + month("2025-08", carbon=72.5)
    found = run_checks(small_plan(), rows(records))
    assert [(f.rule, f.month, f.source) for f in found] == [("CETS-P1", "2025-08", "bf-pci")]
    assert "29.00 t C/TJ" in found[0].detail


def test_each_rule_fires_through_the_month_checks() -> None:
    """One slip per rule, each found once:
    P2: March NCV 25.0 → April 33.0 is +32 % (> 30 %), and back in May −24 % (not a finding);
    P3: June 10 000 t coal for 50 000 t iron is 0.2 t/t against the median 0.125 (+60 %);
    P4: July's report sampled on 2025-08-02;
    P5 and P7: August's NCV and carbon without report (monthly plan: 0 samples < 1);
    P6: September's carbon and NCV from reports of different sampling days."""
    plan = small_plan()
    records = (
        month("2025-03")
        + month("2025-04", ncv=33.0, carbon=85.0)
        + month("2025-05")
        + month("2025-06", iron=50_000.0)
        + month("2025-07", sample_date="2025-08-02")
        + month("2025-08", report="")
        + [
            r
            if r.parameter != "ncv"
            else ParameterRecord(**{**r.__dict__, "sample_date": "2025-09-21"})
            for r in month("2025-09")
        ]
    )
    found = run_checks(plan, rows(records))
    by_rule: dict[str, set[tuple[str, str]]] = {}
    for f in found:
        by_rule.setdefault(f.rule, set()).add((f.month, f.parameter))
    assert by_rule["CETS-P2"] >= {("2025-04", "ncv")}
    assert ("2025-05", "ncv") not in by_rule["CETS-P2"]  # 33 → 25 is −24.2 %
    assert by_rule["CETS-P3"] == {("2025-06", "consumption_per_output")}
    assert by_rule["CETS-P4"] == {("2025-07", "ncv"), ("2025-07", "carbon_content")}
    assert by_rule["CETS-P5"] == {("2025-08", "ncv"), ("2025-08", "carbon_content")}
    assert by_rule["CETS-P7"] == {("2025-08", "ncv"), ("2025-08", "carbon_content")}
    assert by_rule["CETS-P6"] == {("2025-09", "carbon_content")}


def test_month_emissions_hand_worked() -> None:
    """PCI coal, carbon measured: 10 000 t × 64.5 % × 93 % (default oxidation) × 44/12
    = 10 000 × 0.645 × 0.93 × 3.6667 = 21 994.5 t CO2.
    Furnace gas, defaults: 50 (10^4 Nm3) × 389.31 GJ × 0.0153 t C/GJ × 99 % × 44/12
    = 19 465.5 GJ × 0.0153 × 0.99 × 3.6667 = 1 081.09 t CO2.
    Limestone: 2 000 t × 0.12 t C/t × 44/12 = 880 t CO2."""
    records = [
        *month("2025-01"),
        ParameterRecord("tangshan", "2025-01", "mill-gas", "consumption", 50.0, "10^4 Nm3"),
        ParameterRecord("tangshan", "2025-01", "flux-limestone", "consumption", 2_000.0, "t"),
    ]
    [january] = month_emissions(small_plan(), rows(records))
    assert january.by_source["bf-pci"] == pytest.approx(10_000 * 0.645 * 0.93 * 44 / 12)
    assert january.by_source["bf-pci"] == pytest.approx(21_994.5, abs=0.1)
    assert january.by_source["mill-gas"] == pytest.approx(50 * 389.31 * 0.0153 * 0.99 * 44 / 12)
    assert january.by_source["mill-gas"] == pytest.approx(1_081.09, abs=0.01)
    assert january.by_source["flux-limestone"] == pytest.approx(880.0)
    assert january.tco2 == pytest.approx(sum(january.by_source.values()))
    assert january.left_out == ()


def test_output_per_process_sums_the_months() -> None:
    records = month("2025-01", iron=80_000) + month("2025-02", iron=75_000)
    assert process_output(small_plan(), rows(records)) == {"ironmaking": 155_000.0}
