"""Allocation variants on one facility: 1 000 kg CO2e for 600 kg of A and 400 kg of B.

Mass:      A 600/1000 → 600 kg CO2e / 600 kg = 1.0 per kg;  B 400/1000 → 1.0 per kg.
Economic:  revenue A 300, B 700 → A 300 / 600 = 0.5 per kg;  B 700 / 400 = 1.75 per kg.
Physical:  energy content A 20 MJ/kg · 600 = 12 000 MJ, B 10 MJ/kg · 400 = 4 000 MJ
           → A 750 / 600 = 1.25 per kg;  B 250 / 400 = 0.625 per kg.
"""

from __future__ import annotations

import pytest

from carbonlink.domain.footprint import (
    AllocationRule,
    CoProductOutput,
    EmissionProfile,
    allocate,
)
from carbonlink.errors import InputError

FACILITY = EmissionProfile(fossil=1000.0)
OUTPUTS = [
    CoProductOutput("A", quantity=600, mass=600, revenue=300, physical=12_000),
    CoProductOutput("B", quantity=400, mass=400, revenue=700, physical=4_000),
]


@pytest.mark.parametrize(
    ("rule", "per_kg_a", "per_kg_b", "share_a"),
    [
        (AllocationRule.MASS, 1.0, 1.0, 0.6),
        (AllocationRule.ECONOMIC, 0.5, 1.75, 0.3),
        (AllocationRule.PHYSICAL, 1.25, 0.625, 0.75),
    ],
)
def test_allocation_variants(
    rule: AllocationRule, per_kg_a: float, per_kg_b: float, share_a: float
) -> None:
    result = allocate(FACILITY, OUTPUTS, rule, basis="energy content (MJ, LHV)")
    assert result.shares["A"] == pytest.approx(share_a)
    assert result.direct["A"].profile.fossil == pytest.approx(per_kg_a)
    assert result.direct["B"].profile.fossil == pytest.approx(per_kg_b)
    total = 600 * per_kg_a + 400 * per_kg_b
    assert total == pytest.approx(1000.0)
    assert result.rule is rule
    assert "ISO 14067" in result.description and str(rule) in result.description
    assert result.direct["A"].rule == result.description


def test_removals_are_allocated_with_their_sign() -> None:
    facility = EmissionProfile(fossil=100.0, biogenic_co2_uptake=-40.0)
    result = allocate(facility, OUTPUTS, AllocationRule.MASS)
    assert result.direct["B"].profile.biogenic_co2_uptake == pytest.approx(-0.04)


def test_missing_basis_is_named() -> None:
    outputs = [CoProductOutput("A", 1, mass=1), CoProductOutput("B", 1, mass=1)]
    with pytest.raises(InputError, match="revenue is missing for A, B"):
        allocate(FACILITY, outputs, AllocationRule.ECONOMIC)
    with pytest.raises(InputError, match="basis"):
        allocate(FACILITY, outputs, AllocationRule.PHYSICAL)
