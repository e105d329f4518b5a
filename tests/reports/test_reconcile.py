"""The reconciliation bridge closes and names each cause with its amount."""

from __future__ import annotations

import pytest
from small_works import (
    CHINA_TOTAL,
    GAS_CH4,
    GAS_GJ,
    GAS_N2O,
    GRID_NORTH,
    HFC,
    SCOPE1,
)

from carbonlink.reports.reconcile import build_reconciliation


def test_bridge_from_inventory_to_china_total(small_works) -> None:
    doc = build_reconciliation(*small_works)
    steps = {r["what"]: r for r in doc["tables"]["bridge"]["rows"]}
    assert steps["CH4 in Scope 1"]["amount"] == pytest.approx(-GAS_CH4)
    assert steps["N2O in Scope 1"]["amount"] == pytest.approx(-GAS_N2O)
    assert steps["HFC-134a in Scope 1"]["amount"] == pytest.approx(-HFC)
    assert steps["exported heat and electricity"]["amount"] == pytest.approx(-110)
    assert steps["exported heat and electricity"]["kind"] == "boundary"
    assert steps["unexplained"]["amount"] == pytest.approx(0, abs=1e-6)
    assert doc["totals"]["inventory_scope1_2_location"] == pytest.approx(SCOPE1 + GRID_NORTH)
    assert doc["totals"]["china_total"] == pytest.approx(CHINA_TOTAL)
    last = doc["tables"]["bridge"]["rows"][-1]
    assert last["kind"] == "rounding"
    assert last["running"] == pytest.approx(8899.11)


def test_gwp_sensitivity(small_works) -> None:
    doc = build_reconciliation(*small_works)
    rows = {r["gwp_set"]: r for r in doc["tables"]["gwp_sensitivity"]["rows"]}
    assert rows["AR5"]["difference"] == pytest.approx(0, abs=1e-5)  # totals keep 6 decimals
    # AR4: CH4 25, N2O 298, HFC-134a 1430 instead of 28, 265, 1300
    tj = GAS_GJ / 1000
    expected = tj * 1e-3 * (25 - 28) + tj * 0.1e-3 * (298 - 265) + 0.010 * (1430 - 1300)
    assert rows["AR4"]["difference"] == pytest.approx(expected)
    assert doc["cbam"]["computed"] is False
