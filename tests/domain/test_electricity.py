"""Scope 2: location- and market-based electricity, heat, dual reporting."""

from __future__ import annotations

import pytest
from inventory_builders import line, run

from carbonlink.errors import InputError, NoFactorVintageError


def power(quantity: float = 25_000, **extra: object) -> dict[str, object]:
    return {
        "id": "power",
        "method": "electricity",
        "activity": {"quantity": quantity, "unit": "MWh"},
        **extra,
    }


def test_location_based_uses_latest_regional_vintage() -> None:
    result = run(power())
    loc = line(result, scope="2_location")
    assert loc["tco2e"] == pytest.approx(25_000 * 0.5500)
    assert loc["factor"]["id"] == "cn-mee-nbs/grid_average/CN-East/2023"
    assert "latest not after 2025" in loc["factor"]["reason"]


def test_period_2022_takes_the_2022_regional_factor() -> None:
    loc = line(run(power(), year=2022), scope="2_location")
    assert loc["factor"]["value"] == 0.5617


def test_no_regional_vintage_falls_back_to_national_average() -> None:
    loc = line(run(power(), year=2021), scope="2_location")
    assert loc["factor"]["id"] == "cn-mee-nbs/grid_average/CN/2021"
    assert "no CN-East value" in loc["factor"]["reason"]


def test_pinned_vintage() -> None:
    loc = line(run(power(vintage=2022)), scope="2_location")
    assert loc["factor"]["value"] == 0.5617


def test_period_no_grid_vintage_covers_is_an_error() -> None:
    with pytest.raises(NoFactorVintageError, match="2021, 2022, 2023") as info:
        run(power(), year=2018)
    assert "source power" in str(info.value) and "test.yaml" in str(info.value)


def test_market_based_certificates_and_residual_mix() -> None:
    # 5 000 MWh certificates at 0 + 20 000 MWh × 0.6096 (2023 residual-mix role) = 12 192 t
    result = run(power(instruments=[{"type": "green_certificate", "quantity": 5000}]))
    totals = result.totals()
    assert totals["scope2_location"] == pytest.approx(25_000 * 0.55)
    assert totals["scope2_market"] == pytest.approx(20_000 * 0.6096)


def test_each_market_based_line_states_the_quantity_it_prices() -> None:
    """25 000 MWh consumed, 5 000 MWh covered by certificates: lines of 5 000 and 20 000."""
    lines = run(power(instruments=[{"type": "green_certificate", "quantity": 5000}])).lines()
    market = {ln["category"]: ln["activity"] for ln in lines if ln["scope"] == "2_market"}
    assert market["instrument:green_certificate"]["quantity"] == pytest.approx(5000)
    assert market["residual_mix"]["quantity"] == pytest.approx(20_000)
    assert market["residual_mix"]["source_quantity"] == pytest.approx(25_000)
    location = line(run(power()), scope="2_location")["activity"]
    assert location["quantity"] == location["source_quantity"] == pytest.approx(25_000)


def test_market_based_without_instruments_uses_residual_mix() -> None:
    assert run(power()).totals()["scope2_market"] == pytest.approx(25_000 * 0.6096)


def test_supplier_rate_prices_the_uncovered_rest() -> None:
    instruments = [
        {"type": "ppa", "quantity": 10_000, "emission_factor": {"value": 0.02, "unit": "kg/kWh"}},
        {"type": "supplier_rate", "emission_factor": {"value": 0.45, "unit": "kg/kWh"}},
    ]
    totals = run(power(instruments=instruments)).totals()
    assert totals["scope2_market"] == pytest.approx(10_000 * 0.02 + 15_000 * 0.45)


def test_instruments_may_not_exceed_consumption() -> None:
    with pytest.raises(InputError, match="instruments cover 30000 MWh but only 25000"):
        run(power(instruments=[{"type": "green_certificate", "quantity": 30_000}]))


def test_unretired_certificate_is_refused() -> None:
    with pytest.raises(InputError, match="not retired"):
        run(power(instruments=[{"type": "go", "quantity": 1, "retired": False}]))


def test_certificate_counted_twice_is_refused() -> None:
    cert = {"type": "i_rec", "id": "IREC-1", "quantity": 1}
    with pytest.raises(InputError, match="already claimed"):
        run(power(instruments=[cert]), {**power(instruments=[cert]), "id": "power-2"})


def test_exported_electricity_is_outside_the_scopes() -> None:
    result = run(power(1000, direction="exported"))
    assert line(result)["scope"] == "exported"
    assert result.totals()["exported"] == pytest.approx(-550.0)
    assert result.totals()["scope2_location"] == 0


def test_purchased_heat_dual_and_exported_heat() -> None:
    purchased = run(
        {
            "id": "steam",
            "method": "heat",
            "activity": {"quantity": 1000, "unit": "GJ"},
            "emission_factor": {"value": 0.08, "unit": "t/GJ", "tier": "supplier_specific"},
        }
    )
    assert purchased.totals()["scope2_location"] == pytest.approx(110.0)
    assert purchased.totals()["scope2_market"] == pytest.approx(80.0)
    exported = run(
        {
            "id": "steam",
            "method": "heat",
            "direction": "exported",
            "activity": {"quantity": 1, "unit": "TJ"},
        }
    )
    assert exported.totals()["exported"] == pytest.approx(-110.0)


def test_steam_as_mass_is_a_unit_error() -> None:
    with pytest.raises(InputError, match="does not fit"):
        run({"id": "steam", "method": "heat", "activity": {"quantity": 10, "unit": "t"}})


def test_inventory_wide_vintage_caps_every_factor_type() -> None:
    gas = {
        "id": "gas",
        "method": "combustion",
        "fuel": "natural_gas",
        "activity": {"quantity": 1, "unit": "10^4 Nm3"},
    }
    result = run(power(), gas, vintage=2022)
    assert line(result, scope="2_location")["factor"]["value"] == 0.5617
    assert "pinned 2022" in line(result, scope="2_location")["factor"]["reason"]
    assert round(next(x for x in result.lines() if x["source"] == "gas")["tco2e"], 2) == 21.62
