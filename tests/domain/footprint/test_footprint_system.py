"""A three-level BOM with a scrap loop, small enough to recompute by hand.

The steel plant's bracket (one piece, 2 kg) is stamped from 2.4 kg of sheet; the sheet is
rolled from 1.25 kg of steel per kg; the furnace takes back 0.2 kg of remelted scrap per kg of
steel, and that scrap carries the footprint of the 1 kg of sheet it was cut from. So

    x_steel = d_steel + 0.2 · x_scrap        d_steel = 1.06 (site) + 1.0 kg pellets × 0.2
    x_scrap = d_scrap + 1.0 · x_sheet                          + 0.4 kg coke × 0.5 = 1.46
    x_sheet = d_sheet + 1.25 · x_steel       d_scrap = 0.05, d_sheet = 0.15

Loop gain 0.2 × 1.0 × 1.25 = 0.25, so x_steel = (1.46 + 0.2 · (0.05 + 0.15)) / (1 − 0.25)
= 1.5 / 0.75 = 2.0 kg CO2e/kg; x_sheet = 0.15 + 1.25 · 2.0 = 2.65; x_scrap = 0.05 + 2.65 = 2.70.

The bracket: site 0.3 + paint 0.05 kg × 3.0 = 0.15 + cardboard 0.1 kg × 0.6 fossil = 0.06
+ sheet 2.4 × 2.65 = 6.36, i.e. 6.87 kg CO2e per piece excluding biogenic uptake; the cardboard's
uptake 0.1 × −1.2 = −0.12 gives 6.75 including it. Everything here is fossil: 6.87.

Primary data (site data; pellets at the supplier's 50 %; cardboard at 100 %; coke and paint
secondary or 0 %): own primary parts 1.06 + 0.1 = 1.16 (steel), 0.15, 0.05, 0.3 + 0.06 = 0.36.
P_steel = 1.16 + 0.2 · (0.05 + 0.15 + 1.25 P_steel) → P_steel = 1.2 / 0.75 = 1.6;
P_sheet = 0.15 + 1.25 · 1.6 = 2.15; P_bracket = 0.36 + 2.4 · 2.15 = 5.52 → 5.52 / 6.87 = 80.35 %.
"""

from __future__ import annotations

import pytest

from carbonlink.domain.footprint import (
    BillOfMaterials,
    DataQuality,
    DeclaredUnit,
    DirectEmissions,
    EmissionProfile,
    OwnInput,
    Product,
    ProductSystem,
    PurchasedInput,
    SecondaryFactor,
    SecondaryInput,
    SeriesSolver,
    SupplierFootprint,
    UnknownProductError,
    UnsolvableLoopError,
    gtin_urn,
    handle_urn,
)


def _fossil(value: float) -> EmissionProfile:
    return EmissionProfile(fossil=value)


def _products() -> list[Product]:
    kg = DeclaredUnit.KILOGRAM
    return [
        Product(
            "bracket",
            "Stamped bracket",
            DeclaredUnit.PIECE,
            2.0,
            identifiers=(
                gtin_urn("4006381333931"),
                handle_urn("88.118.8/bracket-7", issuer="x.cn"),
            ),
        ),
        Product("sheet", "Cold-rolled sheet", kg, 1.0),
        Product("steel", "Crude steel", kg, 1.0),
        Product("scrap", "Remelted home scrap", kg, 1.0),
    ]


def _system(scrap_return: float = 0.2) -> ProductSystem:
    pellets = SupplierFootprint(
        "urn:pact:ore.example:product-id:pellets",
        "Ore Co",
        "kilogram",
        _fossil(0.2),
        primary_data_share=50.0,
    )
    paint = SupplierFootprint("paint-1", "Paint Co", "kilogram", _fossil(3.0))
    cardboard = SupplierFootprint(
        "box-1",
        "Box Co",
        "kilogram",
        EmissionProfile(fossil=0.6, biogenic_co2_uptake=-1.2),
        primary_data_share=100.0,
    )
    coke = SecondaryFactor("coke", "kg", _fossil(0.5), source="test database", version="1")
    boms = [
        BillOfMaterials(
            "bracket",
            (
                OwnInput("sheet", 2.4),
                PurchasedInput(paint, 0.05),
                PurchasedInput(cardboard, 0.1),
            ),
        ),
        BillOfMaterials("sheet", (OwnInput("steel", 1.25),)),
        BillOfMaterials(
            "steel",
            (
                OwnInput("scrap", scrap_return),
                PurchasedInput(pellets, 1.0),
                SecondaryInput(coke, 0.4),
            ),
        ),
        BillOfMaterials("scrap", (OwnInput("sheet", 1.0),)),
    ]
    direct = {
        "bracket": DirectEmissions(_fossil(0.3)),
        "sheet": DirectEmissions(_fossil(0.15)),
        "steel": DirectEmissions(_fossil(1.06)),
        "scrap": DirectEmissions(_fossil(0.05)),
    }
    return ProductSystem.build(_products(), boms, direct)


def test_three_level_bom_with_scrap_loop_matches_hand_calculation() -> None:
    result = _system().solve()
    assert result.footprint("steel").pcf_excluding_biogenic_uptake == pytest.approx(2.0, rel=1e-12)
    assert result.footprint("sheet").pcf_excluding_biogenic_uptake == pytest.approx(2.65, rel=1e-12)
    assert result.footprint("scrap").pcf_excluding_biogenic_uptake == pytest.approx(2.70, rel=1e-12)
    bracket = result.footprint("bracket")
    assert bracket.pcf_excluding_biogenic_uptake == pytest.approx(6.87, rel=1e-12)
    assert bracket.pcf_including_biogenic_uptake == pytest.approx(6.75, rel=1e-12)
    assert bracket.fossil == pytest.approx(6.87, rel=1e-12)
    assert bracket.profile.biogenic_co2_uptake == pytest.approx(-0.12, rel=1e-12)
    assert bracket.primary_data_share == pytest.approx(100 * 5.52 / 6.87, rel=1e-12)
    assert result.footprint("steel").primary_data_share == pytest.approx(100 * 1.6 / 2.0)
    assert result.statistics.loops == 1
    assert result.statistics.largest_loop == 3


def test_power_series_gives_the_same_footprints() -> None:
    system = _system()
    direct = system.solve()
    series = system.solve(SeriesSolver())
    assert series.totals == pytest.approx(direct.totals, rel=1e-12, abs=1e-14)


def test_contribution_tree_adds_up_and_marks_the_loop() -> None:
    tree = _system().solve().contributions("bracket")
    assert tree.pcf_excluding_biogenic_uptake == pytest.approx(6.87)
    by_label = {child.label: child for child in tree.children}
    assert by_label["sheet"].pcf_excluding_biogenic_uptake == pytest.approx(2.4 * 2.65)
    assert by_label["Paint Co: paint-1"].pcf_excluding_biogenic_uptake == pytest.approx(0.15)
    assert sum(c.pcf_excluding_biogenic_uptake for c in tree.children) == pytest.approx(6.87)
    steel = next(c for c in by_label["sheet"].children if c.label == "steel")
    assert steel.quantity == pytest.approx(3.0)
    assert steel.pcf_excluding_biogenic_uptake == pytest.approx(6.0)
    scrap = next(c for c in steel.children if c.label == "scrap")
    loop = next(c for c in scrap.children if c.kind == "loop")
    assert loop.label == "sheet"
    assert loop.pcf_excluding_biogenic_uptake == pytest.approx(0.6 * 2.65)

    def check(node) -> None:  # type: ignore[no-untyped-def]
        if node.children:
            total = sum(c.pcf_excluding_biogenic_uptake for c in node.children)
            assert total == pytest.approx(node.pcf_excluding_biogenic_uptake, rel=1e-12)
            for child in node.children:
                check(child)

    check(tree)


def test_cutoff_gathers_small_inputs_into_rest() -> None:
    tree = _system().solve().contributions("bracket", cutoff=0.05, max_depth=1)
    kinds = [c.kind for c in tree.children]
    assert "rest" in kinds
    assert sum(c.pcf_excluding_biogenic_uptake for c in tree.children) == pytest.approx(6.87)


def test_loop_returning_as_much_as_it_takes_is_refused() -> None:
    # 0.8 kg scrap per kg steel: gain 0.8 × 1.0 × 1.25 = 1.0, no finite footprint exists
    with pytest.raises(UnsolvableLoopError) as caught:
        _system(scrap_return=0.8).solve()
    assert set(caught.value.products) == {"sheet", "steel", "scrap"}
    assert caught.value.loop_gain == pytest.approx(1.0)
    assert "loop gain" in str(caught.value)


def test_data_quality_is_weighted_by_contribution() -> None:
    """Rated site data 3 kg CO2e at (1, 2, 1) and a secondary factor 1 kg CO2e at (3, 4, 5).

    Weighted: technological (3·1 + 1·3) / 4 = 1.5, geographical (3·2 + 1·4) / 4 = 2.5,
    temporal (3·1 + 1·5) / 4 = 2.0.
    """
    kg = DeclaredUnit.KILOGRAM
    factor = SecondaryFactor(
        "electricity", "kWh", _fossil(0.5), "grid", "2024", DataQuality(3, 4, 5)
    )
    system = ProductSystem.build(
        [Product("part", "Part", kg, 1.0), Product("blank", "Blank", kg, 1.0)],
        [
            BillOfMaterials("part", (OwnInput("blank", 1.0),)),
            BillOfMaterials("blank", (SecondaryInput(factor, 2.0),)),
        ],
        {"part": DirectEmissions(_fossil(3.0), quality=DataQuality(1, 2, 1))},
    )
    part = system.solve().footprint("part")
    assert part.pcf_excluding_biogenic_uptake == pytest.approx(4.0)
    assert part.quality is not None
    assert part.quality.as_array() == pytest.approx([1.5, 2.5, 2.0])
    assert part.primary_data_share == pytest.approx(75.0)


def test_bom_naming_an_unknown_product_says_which() -> None:
    with pytest.raises(UnknownProductError, match="'ghost'"):
        ProductSystem.build(
            [Product("a", "A", DeclaredUnit.KILOGRAM, 1.0)],
            [BillOfMaterials("a", (OwnInput("ghost", 1.0),))],
        )


def test_declared_units_convert_through_mass() -> None:
    bracket = _products()[0]
    assert bracket.declared_units(3, "piece") == pytest.approx(3.0)
    assert bracket.declared_units(1, "t") == pytest.approx(500.0)
    sheet = _products()[1]
    assert sheet.declared_units(250, "g") == pytest.approx(0.25)


def test_system_from_arrays_shows_own_part_as_one_node() -> None:
    """Arrays straight from a store: wheel 2.0 own, car 1.0 own + 4 wheels → 9.0."""
    import numpy as np
    import scipy.sparse as sp

    from carbonlink.domain.footprint import COLUMNS

    kg = DeclaredUnit.KILOGRAM
    direct = np.zeros((2, len(COLUMNS)))
    direct[:, 0] = [1.0, 2.0]
    system = ProductSystem(
        (Product("car", "Car", DeclaredUnit.PIECE, 900.0), Product("wheel", "Wheel", kg, 1.0)),
        sp.csr_array(([4.0], ([1], [0])), shape=(2, 2)),
        direct,
    )
    tree = system.solve().contributions("car")
    assert tree.pcf_excluding_biogenic_uptake == pytest.approx(9.0)
    assert [(c.kind, c.pcf_excluding_biogenic_uptake) for c in tree.children] == [
        ("product", pytest.approx(8.0)),
        ("direct", pytest.approx(1.0)),
    ]
