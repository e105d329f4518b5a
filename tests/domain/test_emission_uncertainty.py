"""Uncertainty by IPCC Approach 1 (propagation) and Approach 2 (Monte Carlo), checked by hand."""

from __future__ import annotations

import math
import time
from importlib import resources
from typing import Any

import pytest
import yaml

from carbonlink.demo import demo_inventory_text
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.domain.uncertainty import (
    InventoryUncertainty,
    UncertainSource,
    UncertainTerm,
    default_uncertainty,
    inventory_sources,
    monte_carlo,
    propagate,
)
from carbonlink.errors import InputError, UnknownFactorError


def _two_sources(u_ad: float = 0.05, u_ef: float = 0.10) -> list[UncertainSource]:
    return [
        UncertainSource("coal", (UncertainTerm(1000, u_ad), UncertainTerm(2.0, u_ef))),
        UncertainSource("gas", (UncertainTerm(500, 0.03), UncertainTerm(1.0, 0.04))),
    ]


def test_approach_1_by_hand() -> None:
    """coal: 2000 t, U = √(5² + 10²) = 11.18 %; gas: 500 t, U = √(3² + 4²) = 5 %.

    Total 2500 t, U = √((0.1118·2000)² + (0.05·500)²)/2500 = √(50 000 + 625)/2500 = 225/2500 = 9 %.
    """
    result = propagate(_two_sources())
    assert result.source_u95["coal"] == pytest.approx(math.sqrt(0.0125))
    assert result.source_u95["gas"] == pytest.approx(0.05)
    assert result.total.central == pytest.approx(2500)
    assert result.total.lower == pytest.approx(2500 * 0.91)
    assert result.total.upper == pytest.approx(2500 * 1.09)
    assert result.total.plus_pct == pytest.approx(9.0)


def test_monte_carlo_matches_propagation_for_small_normal_uncertainties() -> None:
    sources = _two_sources(u_ad=0.02, u_ef=0.03)
    analytic = propagate(sources)
    simulated = monte_carlo(sources, draws=50_000, seed=7)
    assert simulated.draws == 50_000
    assert simulated.total.minus_pct == pytest.approx(analytic.total.minus_pct, rel=0.03)
    assert simulated.total.plus_pct == pytest.approx(analytic.total.plus_pct, rel=0.03)
    assert simulated.source_u95["gas"] == pytest.approx(0.05, rel=0.03)


def test_monte_carlo_is_reproducible_with_its_seed() -> None:
    first = monte_carlo(_two_sources(), seed=1)
    assert monte_carlo(_two_sources(), seed=1) == first
    assert monte_carlo(_two_sources(), seed=2).total.lower != first.total.lower


def test_shared_key_correlates_a_factor_across_sources() -> None:
    """Same grid factor (±10 %) in two equal sources: correlated U stays 10 %, independent 10/√2."""
    grid = UncertainTerm(0.5, 0.10, key="grid-2023")
    correlated = [UncertainSource(n, (UncertainTerm(100.0), grid)) for n in ("a", "b")]
    independent = [
        UncertainSource(n, (UncertainTerm(100.0), UncertainTerm(0.5, 0.10))) for n in ("a", "b")
    ]
    assert monte_carlo(correlated, draws=40_000).total.plus_pct == pytest.approx(10.0, rel=0.04)
    assert monte_carlo(independent, draws=40_000).total.plus_pct == pytest.approx(
        10.0 / math.sqrt(2), rel=0.04
    )


def test_lognormal_keeps_the_mean_and_skews_the_interval() -> None:
    source = [UncertainSource("fugitive", (UncertainTerm(100.0, 0.8, "lognormal"),))]
    result = monte_carlo(source, draws=40_000)
    assert result.total.upper - 100 > 100 - result.total.lower
    assert result.total.lower > 0


def test_triangular_standard_deviation_by_hand() -> None:
    """Symmetric triangle of half-width a has σ = a/√6: a = 10 % → σ = 4.082 %."""
    term = UncertainTerm(10.0, distribution="triangular", lower=-0.1, upper=0.1)
    assert term.relative_sd() == pytest.approx(0.1 / math.sqrt(6))
    result = monte_carlo([UncertainSource("t", (term,))], draws=40_000)
    # 95 % interval of a symmetric triangle: a·(1 − √0.05) = 7.76 % either side.
    assert result.total.plus_pct == pytest.approx(10 * (1 - math.sqrt(0.05)), rel=0.03)


def test_ipcc_default_factor_uncertainty_is_loaded() -> None:
    gas = default_uncertainty("natural_gas_co2_ef")
    assert (gas.lower, gas.value, gas.upper) == (54300, 56100, 58300)
    assert gas.term().u95 == pytest.approx(4000 / (2 * 56100))
    with pytest.raises(UnknownFactorError):
        default_uncertainty("unobtainium")


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(InputError):
        propagate([])
    with pytest.raises(InputError, match="u95"):
        propagate([UncertainSource("x", (UncertainTerm(1.0, -0.1),))])
    with pytest.raises(InputError, match="lognormal"):
        monte_carlo([UncertainSource("x", (UncertainTerm(0.0, 0.1, "lognormal"),))])
    with pytest.raises(InputError, match="too few"):
        monte_carlo(_two_sources(), draws=10)


def test_ten_thousand_draws_for_a_plant_inventory_under_two_seconds() -> None:
    grid = UncertainTerm(0.5306, 0.05, key="grid")
    sources = [
        UncertainSource(
            f"source-{i}",
            (UncertainTerm(1000.0 + i, 0.02), UncertainTerm(2.0, 0.07, "lognormal"))
            if i % 3
            else (UncertainTerm(500.0, 0.01), grid),
        )
        for i in range(300)
    ]
    # CPU time, not wall time: the budget is the computation's, not the shared machine's load.
    start = time.process_time()
    result = monte_carlo(sources, draws=10_000)
    assert time.process_time() - start < 2.0
    assert result.total.lower < result.total.central < result.total.upper


def _line(
    source: str, quantity: float, tco2e: float, factor: str, scope: str = "1"
) -> dict[str, Any]:
    return {
        "facility": "works",
        "source": source,
        "stream": None,
        "scope": scope,
        "gas": "CO2",
        "tco2e": tco2e,
        "activity": {"quantity": quantity},
        "factor": {"id": factor},
    }


def test_inventory_lines_become_sources_with_given_and_shipped_uncertainties() -> None:
    """Gas 1 000 TJ × 56.1 t/TJ: the IPCC Table 1.4 range gives U = 4 000/(2·56 100) = 3.565 %.

    Boiler: √(2² + 3.565²) = 4.088 %; kiln 1 000 t × 0.44 with 5 % and 1 % → √26 = 5.099 %.
    """
    lines = [
        _line("boiler", 1000, 56100, "ipcc2006/natural_gas/ef/CO2"),
        _line("kiln", 1000, 440, "limestone"),
        _line("grid", 100, 50, "grid", scope="2_market"),  # not in the default scopes
    ]
    spec = InventoryUncertainty(
        activity_u95={"*": 0.02, "works/kiln": 0.05}, factor_u95={"limestone": 0.01}
    )
    sources = inventory_sources(lines, spec)
    assert [s.name for s in sources] == ["works/boiler/CO2", "works/kiln/CO2"]
    result = propagate(sources)
    assert result.source_u95["works/boiler/CO2"] == pytest.approx(
        math.hypot(0.02, 4000 / (2 * 56100))
    )
    assert result.source_u95["works/kiln/CO2"] == pytest.approx(math.sqrt(0.0026))
    assert result.total.central == pytest.approx(56540)


def test_missing_uncertainty_is_named() -> None:
    with pytest.raises(InputError, match="works/kiln"):
        inventory_sources([_line("kiln", 10, 4.4, "limestone")], InventoryUncertainty({}, {}))


def test_demo_inventory_monte_carlo_in_under_two_seconds() -> None:
    """All scope 1 and location-based scope 2 lines of the demo enterprise, 10 000 draws."""
    spec_doc = yaml.safe_load(
        resources.files("carbonlink.data").joinpath("demo", "uncertainty.yaml").read_text("utf-8")
    )
    spec = InventoryUncertainty(spec_doc["activity_u95"], spec_doc["factor_u95"])
    computation = account(parse_inventory(demo_inventory_text()))
    totals = computation.totals()
    start = time.process_time()
    sources = inventory_sources(computation.lines(), spec)
    simulated = monte_carlo(sources, draws=10_000)
    assert time.process_time() - start < 2.0
    analytic = propagate(sources)
    central = totals["scope1"] + totals["scope2_location"]
    assert simulated.total.central == pytest.approx(central, rel=1e-9)
    assert simulated.total.lower < central < simulated.total.upper
    # Shared factors (one grid factor, one fuel factor per site) make the simulated interval
    # at least as wide as independent propagation, and of the same order.
    assert 0.5 < simulated.total.plus_pct / analytic.total.plus_pct < 3
