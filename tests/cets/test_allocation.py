"""Allocation position for steel, worked by hand."""

from __future__ import annotations

import pytest

from carbonlink.cets.allocation import allocation_position, load_allocation_basis
from carbonlink.errors import UnknownFactorError

# Illustrative intensities for the arithmetic only, not the plan's figures.
OUTPUT = {"sinter": 1_000_000.0, "blast_furnace": 800_000.0, "converter": 850_000.0}
INTENSITY = {"sinter": 0.2, "blast_furnace": 1.3, "converter": 0.1}


def test_2025_intensity_allocation_shortfall_and_cost() -> None:
    # A = 1 000 000 × 0.2 + 800 000 × 1.3 + 850 000 × 0.1 = 200 000 + 1 040 000 + 85 000
    #   = 1 325 000 t; E = 1 400 000 t → S = −75 000 t; at 80 CNY/t the shortfall costs 6 000 000.
    position = allocation_position(
        2025,
        1_400_000.0,
        80.0,
        output_t=OUTPUT,
        intensity=INTENSITY,
        intensity_source="test figures",
    )
    assert position.allocation_t == pytest.approx(1_325_000.0)
    assert position.surplus_t == pytest.approx(-75_000.0)
    assert position.shortfall_cost == pytest.approx(6_000_000.0)
    assert position.surplus_value == 0.0
    assert "test figures" in position.basis


def test_2025_adjustment_factor_and_surplus() -> None:
    # A = 1 325 000 × 1.1 = 1 457 500 t; E = 1 400 000 → S = +57 500 t;
    # at 80 CNY/t worth 57 500 × 80 = 4 600 000.
    position = allocation_position(
        2025, 1_400_000.0, 80.0, output_t=OUTPUT, intensity=INTENSITY, adjustment=1.1
    )
    assert position.surplus_t == pytest.approx(57_500.0)
    assert position.surplus_value == pytest.approx(4_600_000.0)
    assert position.shortfall_cost == 0.0


def test_2024_allocation_equals_verified_emissions() -> None:
    position = allocation_position(2024, 1_234_567.0, 80.0)
    assert position.allocation_t == 1_234_567.0
    assert position.surplus_t == 0.0 and position.shortfall_cost == 0.0
    assert load_allocation_basis()[("steel", 2024)].status == "confirmed-secondary"


def test_2025_without_intensities_refuses_to_guess() -> None:
    assert load_allocation_basis()[("steel", 2025)].value is None
    with pytest.raises(UnknownFactorError, match="blast_furnace"):
        allocation_position(
            2025, 1.0, 80.0, output_t=OUTPUT, intensity={"sinter": 0.2, "converter": 0.1}
        )
    with pytest.raises(UnknownFactorError, match="no allocation rule for steel 2023"):
        allocation_position(2023, 1.0, 80.0)
