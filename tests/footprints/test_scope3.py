"""Scope 3 category 1 from supplier footprints, checked by hand.

coke:        360 000 t × 0.5082 kg CO2e/kg                 = 182 952 t CO2e
ferrochrome:   1 200 t × 6 146.667 kg CO2e per 1 000 kg    =   7 376 t CO2e
"""

from __future__ import annotations

import pytest

from carbonlink.domain.engine import account
from carbonlink.domain.footprint import EmissionProfile, SupplierFootprint
from carbonlink.domain.inventory import parse_inventory
from carbonlink.errors import InputError
from carbonlink.footprints.scope3 import (
    SupplierPurchase,
    add_to_inventory,
    category1_source,
    category1_sources,
)

COKE = SupplierFootprint(
    reference="0f6a6c1e-2d8b-4f0e-9a77-5b3c0e1d2a44",
    supplier="Demo Coking Co.",
    declared_unit="kilogram",
    profile=EmissionProfile(fossil=0.5082),
    primary_data_share=58.4,
)
FERROCHROME = SupplierFootprint(
    reference="7cb6fb3f-e7d8-4f10-a1cc-e4efc2b57656",
    supplier="Demo Ferroalloy Co.",
    declared_unit="kilogram",
    declared_unit_amount=1000.0,
    profile=EmissionProfile(fossil=6146.667),
)
INVENTORY = """
organization: Demo Steel
period: {start: 2025-01-01, end: 2026-01-01}
facilities:
  - id: works
    sources:
      - {id: bf-coke, method: combustion, fuel: coke, activity: {quantity: 360000, unit: t}}
"""


def _purchases() -> list[SupplierPurchase]:
    return [
        SupplierPurchase("s3-coke", 360_000, "t", COKE, "a" * 64),
        SupplierPurchase("s3-ferrochrome", 1_200, "t", FERROCHROME, "b" * 64),
    ]


def test_purchases_times_supplier_pcfs_are_category_1_lines_citing_the_footprints() -> None:
    text = add_to_inventory(INVENTORY, "works", category1_sources(_purchases()))
    computation = account(parse_inventory(text))
    lines = {line["source"]: line for line in computation.lines() if line["scope"] == "3"}
    assert lines["s3-coke"]["tco2e"] == pytest.approx(182_952.0)
    assert lines["s3-ferrochrome"]["tco2e"] == pytest.approx(7_376.0004)
    for line in lines.values():
        assert line["category"] == "category 1"
        assert line["factor"]["tier"] == "supplier_specific"
    coke = lines["s3-coke"]["factor"]["source"]
    assert coke == f"PACT footprint {COKE.reference} of Demo Coking Co., SHA-256 {'a' * 64}"
    assert computation.totals()["scope3"] == pytest.approx(182_952.0 + 7_376.0004)
    # the combustion of the same coke stays in scope 1: different emissions, no overlap
    assert computation.totals()["scope1"] > 0


def test_biogenic_uptake_is_left_out_of_the_category_1_factor() -> None:
    wood = SupplierFootprint(
        "pf-wood",
        "Pallet Co",
        "kilogram",
        EmissionProfile(fossil=0.3, biogenic_co2_uptake=-1.5),
    )
    source = category1_source(SupplierPurchase("s3-pallets", 10, "t", wood, "c" * 64))
    assert source.emission_factor is not None
    assert source.emission_factor.value == pytest.approx(0.3)
    assert source.emission_factor.unit == "kg/kg"


def test_adding_again_replaces_the_sources_of_the_same_ids() -> None:
    once = add_to_inventory(INVENTORY, "works", category1_sources(_purchases()))
    twice = add_to_inventory(once, "works", category1_sources(_purchases()))
    assert parse_inventory(twice) == parse_inventory(once)


def test_footprints_without_a_physical_unit_and_unknown_facilities_are_refused() -> None:
    piece = SupplierFootprint("pf-part", "Parts Co", "piece", EmissionProfile(fossil=2.0))
    with pytest.raises(InputError, match=r"s3-parts: .*declared per piece"):
        category1_source(SupplierPurchase("s3-parts", 100, "piece", piece, "d" * 64))
    with pytest.raises(InputError, match="no facility 'mill'"):
        add_to_inventory(INVENTORY, "mill", category1_sources(_purchases()))
    with pytest.raises(InputError, match="s3-coke: two purchases share a source id"):
        category1_sources(_purchases() + _purchases()[:1])
