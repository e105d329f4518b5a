"""The vectorised engine equals a record-by-record evaluation and apportions instruments."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonlink.domain.engine import ActivityBatch, compile_inventory, compute
from carbonlink.domain.inventory import Period, parse_inventory
from carbonlink.errors import InputError

DOC = {
    "organization": "T",
    "period": {"start": "2025-01-01", "end": "2025-12-31"},
    "facilities": [
        {
            "id": "p",
            "grid": "CN-North",
            "sources": [
                {
                    "id": "gas",
                    "method": "combustion",
                    "fuel": "natural_gas",
                    "activity": {"quantity": 0, "unit": "Nm3"},
                },
                {
                    "id": "coke",
                    "method": "combustion",
                    "fuel": "coke",
                    "activity": {"quantity": 0, "unit": "t"},
                },
                {
                    "id": "power",
                    "method": "electricity",
                    "activity": {"quantity": 0, "unit": "MWh"},
                    "instruments": [{"type": "green_certificate", "quantity": 100}],
                },
            ],
        }
    ],
}
PLAN = compile_inventory(parse_inventory(yaml.safe_dump(DOC)))
MONTHS = [Period(start=dt.date(2025, m, 1), end=dt.date(2025, m, 28)) for m in range(1, 13)]


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 11), st.floats(0, 1e6)), min_size=3))
def test_vectorised_equals_record_by_record(records: list[tuple[int, int, float]]) -> None:
    records = [*records, (2, 0, 500.0)]  # enough electricity for the certificate
    batch = ActivityBatch(
        channel=np.array([r[0] for r in records]),
        period=np.array([r[1] for r in records]),
        quantity=np.array([r[2] for r in records]),
    )
    result = compute(PLAN, batch, MONTHS)
    for index, line in enumerate(PLAN.lines):
        if line.plan.linear == 1 and line.plan.fixed_activity == 0:
            expected = sum(
                q * line.plan.coefficient * line.gwp for c, _, q in records if c == line.channel
            )
            assert result.co2e[index].sum() == pytest.approx(expected, rel=1e-9, abs=1e-9)
    power_total = sum(q for c, _, q in records if c == 2)
    market = sum(
        r.plan.coefficient * (power_total - 100)
        for r in PLAN.lines
        if r.plan.scope == "2_market" and r.plan.linear == 1
    )
    assert result.totals()["scope2_market"] == pytest.approx(market, rel=1e-9, abs=1e-6)


def test_instrument_cover_is_apportioned_over_periods_by_consumption() -> None:
    channel = PLAN.channel_index("p", "power")
    batch = ActivityBatch(np.array([channel, channel]), np.array([0, 1]), np.array([300.0, 100.0]))
    result = compute(PLAN, batch, MONTHS[:2])
    residual = next(i for i, x in enumerate(PLAN.lines) if x.plan.category == "residual_mix")
    rate = PLAN.lines[residual].plan.coefficient
    # 400 MWh, 100 covered: covered share per month follows consumption (75 % / 25 %)
    assert result.mass[residual] == pytest.approx([rate * (300 - 75), rate * (100 - 25)])


def test_records_in_other_units_are_converted() -> None:
    batch = ActivityBatch.from_records(
        PLAN, [("p", "coke", "", 0, 2.0, "kt"), ("p", "power", "", 0, 500.0, "MWh")]
    )
    result = compute(PLAN, batch)
    assert result.activity[PLAN.channel_index("p", "coke"), 0] == 2000.0


def test_negative_record_is_refused() -> None:
    batch = ActivityBatch(np.array([0]), np.array([0]), np.array([-1.0]))
    with pytest.raises(InputError, match="source gas"):
        compute(PLAN, batch)


def test_unknown_channel() -> None:
    with pytest.raises(InputError, match="no activity channel p/boiler"):
        PLAN.channel_index("p", "boiler")


def test_summary_by_facility_and_scope() -> None:
    channel = PLAN.channel_index("p", "power")
    batch = ActivityBatch(np.array([channel]), np.array([0]), np.array([1000.0]))
    summary = compute(PLAN, batch).summary("facility", "scope")
    assert summary[("p", "2_location")] == pytest.approx(1000 * 0.6361)
    assert summary[("p", "2_market")] == pytest.approx(900 * 0.6096)
    with pytest.raises(ValueError, match="cannot group by"):
        compute(PLAN, batch).summary("colour")


def test_period_index_out_of_range_is_refused() -> None:
    batch = ActivityBatch(np.array([0]), np.array([1]), np.array([1.0]))
    with pytest.raises(InputError, match=r"period index out of range 0\.\.0"):
        compute(PLAN, batch)


def test_infinite_quantity_is_refused() -> None:
    batch = ActivityBatch(np.array([1]), np.array([0]), np.array([np.inf]))
    with pytest.raises(InputError, match="source coke"):
        compute(PLAN, batch)


@pytest.mark.parametrize("channel", [-1, 99])
def test_channel_index_out_of_range_is_refused(channel: int) -> None:
    batch = ActivityBatch(np.array([channel]), np.array([0]), np.array([1.0]))
    with pytest.raises(InputError, match="channel index out of range"):
        compute(PLAN, batch)
