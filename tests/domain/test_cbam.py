"""CBAM attribution and SEE, checked against numbers worked out by hand."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonlink.domain.cbam import (
    CbamInstallationData,
    HeatFlow,
    Installation,
    PrecursorCycleError,
    PrecursorInput,
    ProductionProcess,
    PurchasedPrecursor,
    UnknownPrecursorError,
    attribute_emissions,
    compute_see,
)
from carbonlink.domain.cbam.reference import default_heat_emission_factor, markup_for
from carbonlink.errors import InputError

SITE = Installation(
    name="Test works",
    operator="Test Steel Co.",
    street="1 Mill Road",
    city="Tangshan",
    post_code="063000",
    country="CN",
    unlocode="CNTGS",
    latitude=39.63,
    longitude=118.18,
)


def _installation(
    processes: list[ProductionProcess],
    purchased: list[PurchasedPrecursor] | None = None,
    year: int = 2026,
) -> CbamInstallationData:
    return CbamInstallationData(
        installation=SITE,
        period_start=date(year, 1, 1),
        period_end=date(year, 12, 31),
        processes=tuple(processes),
        purchased_precursors=tuple(purchased or ()),
    )


def _process(pid: str, category: str, al: float, direct: float, **kw: object) -> ProductionProcess:
    return ProductionProcess(
        id=pid,
        name=pid,
        goods_category=category,
        route="",
        activity_level_t=al,
        direct_emissions_t=direct,
        **kw,  # type: ignore[arg-type]
    )


def _chain() -> CbamInstallationData:
    ferromanganese = PurchasedPrecursor(
        id="femn",
        name="ferro-manganese",
        goods_category="Alloys (FeMn, FeCr, FeNi)",
        country="ZA",
        route="",
        purchased_t=10,
        see_direct=1.5,
        origin="supplier",
        specific_electricity_mwh_per_t=3.0,
        electricity_ef=0.6,
    )
    return _installation(
        [
            _process(
                "hrc",
                "Iron or steel products",
                950,
                95,
                electricity_mwh=95,
                electricity_ef=0.5,
                precursors=(PrecursorInput("steel", 1000),),
            ),
            _process("sinter", "Sintered Ore", 1000, 200, electricity_mwh=30, electricity_ef=0.5),
            _process(
                "steel",
                "Crude steel",
                1000,
                150,
                electricity_mwh=100,
                electricity_ef=0.5,
                precursors=(PrecursorInput("iron", 800), PrecursorInput("femn", 10)),
            ),
            _process(
                "iron",
                "Pig iron",
                800,
                1200,
                electricity_mwh=40,
                electricity_ef=0.5,
                precursors=(PrecursorInput("sinter", 1000),),
            ),
        ],
        [ferromanganese],
    )


def test_four_level_chain_sinter_pig_iron_crude_steel_hot_rolled_coil() -> None:
    """SEE through sinter → pig iron → crude steel (+ purchased FeMn) → hot-rolled coil.

    By hand (t CO2e/t), indirect = MWh × 0.5 t/MWh:
      sinter  d = 200/1000 = 0.2             i = 15/1000 = 0.015
      iron    d = (1200 + 1000·0.2)/800 = 1.75
              i = (20 + 1000·0.015)/800 = 35/800 = 0.04375
      FeMn    d = 1.5 (supplier)             i = 3 MWh/t · 0.6 = 1.8
      steel   d = (150 + 800·1.75 + 10·1.5)/1000 = 1565/1000 = 1.565
              i = (50 + 800·0.04375 + 10·1.8)/1000 = 103/1000 = 0.103
      hrc     d = (95 + 1000·1.565)/950 = 1660/950 = 1.747368…
              i = (47.5 + 1000·0.103)/950 = 150.5/950 = 0.158421…
    Embedded electricity of hrc: (95 + 1000·(100 + 800·(40 + 1000·0.03)/800 + 10·3)/1000)/950
      = (95 + 1000·0.2)/950 = 295/950 MWh/t.
    """
    result = compute_see(_chain())
    see = result.processes
    assert result.order.index("sinter") < result.order.index("iron") < result.order.index("steel")
    assert see["sinter"].see_direct == pytest.approx(0.2)
    assert see["sinter"].see_indirect == pytest.approx(0.015)
    assert see["iron"].see_direct == pytest.approx(1.75)
    assert see["iron"].see_indirect == pytest.approx(0.04375)
    assert see["steel"].see_direct == pytest.approx(1.565)
    assert see["steel"].see_indirect == pytest.approx(0.103)
    assert see["hrc"].see_direct == pytest.approx(1660 / 950)
    assert see["hrc"].see_indirect == pytest.approx(150.5 / 950)
    assert see["hrc"].see_total == pytest.approx((1660 + 150.5) / 950)
    assert see["hrc"].embedded_electricity_mwh_per_t == pytest.approx(295 / 950)
    assert see["hrc"].default_share == 0.0
    assert result.defaults_used == ()


def test_simple_good_is_attributed_emissions_over_activity_level() -> None:
    result = compute_see(
        _installation(
            [
                _process(
                    "clinker", "Cement clinker", 2000, 1700, electricity_mwh=100, electricity_ef=0.8
                )
            ]
        )
    )
    assert result.processes["clinker"].see_direct == pytest.approx(0.85)
    assert result.processes["clinker"].see_indirect == pytest.approx(0.04)


def test_heat_waste_gas_and_exported_electricity_corrections() -> None:
    """AttrEm = 1000 + 10·70 − 5·(56.1/0.9) + 4·56.1 − 10·56.1·0.667 − 100·0.8 = 1158.5463…"""
    process = _process(
        "bf",
        "Pig iron",
        1000,
        1000,
        heat_imported=HeatFlow(10, 70.0),
        heat_exported=HeatFlow(5, None),
        waste_gas_imported_tj=4,
        waste_gas_exported_tj=10,
        electricity_exported_mwh=100,
        electricity_exported_ef=0.8,
    )
    attributed = attribute_emissions(process)
    assert attributed.heat_imported == pytest.approx(700)
    assert attributed.heat_exported == pytest.approx(5 * 56.1 / 0.9)
    assert attributed.waste_gas_imported == pytest.approx(224.4)
    assert attributed.waste_gas_exported == pytest.approx(374.187)
    assert attributed.electricity_exported == pytest.approx(80)
    expected = 1000 + 700 - 5 * 56.1 / 0.9 + 224.4 - 374.187 - 80
    assert expected == pytest.approx(1158.5463, abs=1e-4)
    assert attributed.direct == pytest.approx(expected)
    assert len(attributed.heat_default_used) == 1
    assert "62.33" in attributed.heat_default_used[0]


def test_default_heat_factor_is_natural_gas_over_boiler_efficiency() -> None:
    assert default_heat_emission_factor() == pytest.approx(62.3, abs=0.05)


@pytest.mark.parametrize(
    ("sector", "year", "markup"),
    [
        ("iron_and_steel", 2025, 0.0),
        ("iron_and_steel", 2026, 0.10),
        ("cement", 2027, 0.20),
        ("aluminium", 2028, 0.30),
        ("iron_and_steel", 2034, 0.30),
        ("fertilisers", 2027, 0.02),
    ],
)
def test_markup_schedule(sector: str, year: int, markup: float) -> None:
    assert markup_for(sector, year).markup == pytest.approx(markup)


def _with_default_pig_iron(year: int) -> CbamInstallationData:
    pig_iron = PurchasedPrecursor(
        id="bought_iron",
        name="pig iron from a trader",
        goods_category="Pig iron",
        country="IN",
        route="Blast furnace route",
        purchased_t=100,
        see_direct=2.0,
        origin="default",
        default_justification="supplier did not provide installation data",
    )
    return _installation(
        [
            _process(
                "steel", "Crude steel", 200, 40, precursors=(PrecursorInput("bought_iron", 100),)
            )
        ],
        [pig_iron],
        year=year,
    )


@pytest.mark.parametrize(("year", "factor"), [(2026, 1.1), (2027, 1.2), (2028, 1.3)])
def test_default_precursor_carries_markup_and_is_recorded(year: int, factor: float) -> None:
    """steel d = (40 + 100 · 2.0 · factor)/200; the whole precursor part comes from a default."""
    result = compute_see(_with_default_pig_iron(year))
    steel = result.processes["steel"]
    assert steel.see_direct == pytest.approx((40 + 200 * factor) / 200)
    assert steel.default_share == pytest.approx(200 * factor / (40 + 200 * factor))
    assert result.precursors["bought_iron"].markup == pytest.approx(factor - 1)
    # The mark-up is on the direct default only: 0.08 MWh/t × 0.71 t/MWh stays as published.
    marked = _with_default_pig_iron(year)
    with_power = replace(
        marked.purchased_precursors[0], specific_electricity_mwh_per_t=0.08, electricity_ef=0.71
    )
    bought = compute_see(replace(marked, purchased_precursors=(with_power,))).precursors
    assert bought["bought_iron"].see_indirect == pytest.approx(0.08 * 0.71)
    assert len(result.defaults_used) == 1
    assert "supplier did not provide" in result.defaults_used[0]


def test_default_without_justification_is_refused() -> None:
    data = _with_default_pig_iron(2026)
    bare = replace(data.purchased_precursors[0], default_justification="  ")
    with pytest.raises(InputError, match="justification"):
        compute_see(replace(data, purchased_precursors=(bare,)))


def test_cycle_among_own_processes_is_rejected() -> None:
    data = _installation(
        [
            _process("a", "Crude steel", 10, 1, precursors=(PrecursorInput("b", 1),)),
            _process("b", "Iron or steel products", 10, 1, precursors=(PrecursorInput("a", 1),)),
            _process("c", "Pig iron", 10, 1),
        ]
    )
    with pytest.raises(PrecursorCycleError, match="cycle: a → b"):
        compute_see(data)


def test_self_loop_is_rejected() -> None:
    data = _installation(
        [_process("a", "Crude steel", 10, 1, precursors=(PrecursorInput("a", 1),))]
    )
    with pytest.raises(PrecursorCycleError, match="itself"):
        compute_see(data)


def test_unknown_precursor_is_rejected() -> None:
    data = _installation(
        [_process("a", "Crude steel", 10, 1, precursors=(PrecursorInput("x", 1),))]
    )
    with pytest.raises(UnknownPrecursorError, match="'x'"):
        compute_see(data)


def test_zero_activity_level_is_rejected() -> None:
    with pytest.raises(InputError, match="activity level"):
        compute_see(_installation([_process("a", "Crude steel", 0, 1)]))


def test_consuming_more_than_produced_is_rejected() -> None:
    data = _installation(
        [
            _process("iron", "Pig iron", 100, 150),
            _process("steel", "Crude steel", 120, 10, precursors=(PrecursorInput("iron", 101),)),
        ]
    )
    with pytest.raises(InputError, match="more than its activity level"):
        compute_see(data)


def test_consuming_more_than_purchased_is_rejected() -> None:
    data = _with_default_pig_iron(2026)
    short = replace(data.purchased_precursors[0], purchased_t=99)
    with pytest.raises(InputError, match="more than the 99 t purchased"):
        compute_see(replace(data, purchased_precursors=(short,)))


@st.composite
def _acyclic_installations(draw: st.DrawFn) -> CbamInstallationData:
    """Random layered precursor graphs: each process may consume earlier ones and a purchase."""
    size = draw(st.integers(1, 8))
    bought = PurchasedPrecursor(
        id="bought",
        name="bought",
        goods_category="Pig iron",
        country="IN",
        route="",
        purchased_t=1e9,
        see_direct=draw(st.floats(0, 3)),
        origin=draw(st.sampled_from(["supplier", "default"])),
        specific_electricity_mwh_per_t=draw(st.floats(0, 1)),
        electricity_ef=0.5,
        default_justification="data gaps",
    )
    processes = []
    for i in range(size):
        sources = draw(st.lists(st.integers(0, i), max_size=3, unique=True)) if i else []
        inputs = [PrecursorInput(f"p{j}", draw(st.floats(0.0, 50.0))) for j in sources if j < i]
        if draw(st.booleans()):
            inputs.append(PrecursorInput("bought", draw(st.floats(0.0, 50.0))))
        processes.append(
            _process(
                f"p{i}",
                "Crude steel",
                draw(st.floats(400.0, 1e4)),  # > 7 consumers × 50 t: balances hold
                draw(st.floats(0.0, 1e4)),
                electricity_mwh=draw(st.floats(0.0, 1e3)),
                electricity_ef=draw(st.floats(0.0, 1.0)),
                precursors=tuple(inputs),
            )
        )
    processes.reverse()  # declaration order must not matter
    return _installation(processes, [bought])


@given(_acyclic_installations())
@settings(max_examples=60, deadline=None)
def test_see_satisfies_its_defining_equation(data: CbamInstallationData) -> None:
    """For every process: SEE·AL = AttrEm + Σ M·SEE_precursor, direct and indirect."""
    result = compute_see(data)
    position = {pid: k for k, pid in enumerate(result.order)}
    for process in data.processes:
        see = result.processes[process.id]
        direct = see.attributed.direct
        indirect = see.attributed.indirect
        for use in process.precursors:
            if use.source in result.processes:
                assert position[use.source] < position[process.id]
                direct += use.mass_t * result.processes[use.source].see_direct
                indirect += use.mass_t * result.processes[use.source].see_indirect
            else:
                direct += use.mass_t * result.precursors[use.source].see_direct
                indirect += use.mass_t * result.precursors[use.source].see_indirect
        assert see.see_direct * process.activity_level_t == pytest.approx(
            direct, rel=1e-9, abs=1e-6
        )
        assert see.see_indirect * process.activity_level_t == pytest.approx(
            indirect, rel=1e-9, abs=1e-6
        )
        assert 0.0 <= see.default_share <= 1.0 + 1e-12
