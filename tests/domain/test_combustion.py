"""Fuel combustion against published worked examples."""

from __future__ import annotations

import pytest
from inventory_builders import line, run

from carbonlink.errors import NoFactorVintageError, UnitError, UnknownFactorError


def diesel(**extra: object) -> dict[str, object]:
    return {
        "id": "gen",
        "method": "combustion",
        "fuel": "diesel",
        "activity": {"quantity": 1000, "unit": "t"},
        **extra,
    }


def test_ipcc_diesel_worked_example_uses_the_printed_factor() -> None:
    # 1 000 t = 1 Gg × 43.0 TJ/Gg = 43 TJ × 74.1 t CO2/TJ = 3 186.3 t CO2 (IPCC 2006 Vol. 2)
    result = run(diesel(), jurisdiction="DE", grid="")
    co2 = line(result)
    assert co2["tco2e"] == pytest.approx(3186.3, abs=1e-6)
    assert co2["factor"]["id"] == "ipcc2006/diesel/ef/CO2"
    assert co2["factor"]["value"] == 74100
    assert co2["parameters"]["ncv"]["measured"] is False


def test_ipcc_diesel_derived_from_carbon_content_differs_from_printed() -> None:
    # 43 TJ × 20.2 t C/TJ × 44/12 = 3 184.87 t, not 3 186.3: printed 74 100 vs derived 74 067
    result = run(diesel(co2_from="carbon_content"), jurisdiction="DE", grid="")
    assert line(result)["tco2e"] == pytest.approx(43 * 20.2 * 44 / 12, rel=1e-12)
    assert line(result)["formula"] == "FC × NCV × CC × OF × 44/12"


def test_ipcc_diesel_ch4_and_n2o_use_table_2_3() -> None:
    result = run(diesel(), jurisdiction="DE", grid="", gwp="AR4")
    assert line(result, gas="CH4")["mass_t"] == pytest.approx(43 * 3 / 1000)
    assert line(result, gas="CH4")["tco2e"] == pytest.approx(43 * 3 / 1000 * 25)
    assert line(result, gas="N2O")["tco2e"] == pytest.approx(43 * 0.6 / 1000 * 298)


def test_china_natural_gas_default_ten_thousand_nm3() -> None:
    # 10^4 Nm3 × 389.31 GJ/10^4 Nm3 × 0.0153 t C/GJ × 0.99 × 44/12 ≈ 21.62 t CO2
    result = run(
        {
            "id": "boiler",
            "method": "combustion",
            "fuel": "natural_gas",
            "activity": {"quantity": 1, "unit": "10^4 Nm3"},
        }
    )
    co2 = line(result)
    assert co2["tco2e"] == pytest.approx(389.31 * 0.0153 * 0.99 * 44 / 12, rel=1e-12)
    assert round(co2["tco2e"], 2) == 21.62
    assert set(co2["parameters"]) == {"ncv", "carbon_content", "oxidation"}
    assert co2["parameters"]["oxidation"]["value"] == 0.99
    assert "national default" in co2["factor"]["reason"]


def test_measured_ncv_wins_and_is_marked_measured() -> None:
    result = run(
        {
            "id": "boiler",
            "method": "combustion",
            "fuel": "natural_gas",
            "activity": {"quantity": 1, "unit": "10^4 Nm3"},
            "ncv": {"value": 400.0, "unit": "GJ/10^4 Nm3"},
        }
    )
    co2 = line(result)
    assert co2["tco2e"] == pytest.approx(400.0 * 0.0153 * 0.99 * 44 / 12, rel=1e-12)
    assert co2["parameters"]["ncv"]["measured"] is True
    assert "wins over default cn-steel-2013/natural_gas/ncv" in co2["parameters"]["ncv"]["reason"]
    assert co2["parameters"]["carbon_content"]["measured"] is False


def test_us_epa_hub_uses_higher_heating_value_basis() -> None:
    # 10^6 scf × 0.001026 mmBtu/scf × 53.06 kg/mmBtu = 54.44 t CO2 (EPA Hub 2024, Table 1)
    result = run(
        {
            "id": "boiler",
            "method": "combustion",
            "fuel": "natural_gas",
            "activity": {"quantity": 1e6, "unit": "scf"},
        },
        jurisdiction="US",
        grid="",
    )
    co2 = line(result)
    assert co2["tco2e"] == pytest.approx(1026 * 53.06 / 1000, rel=1e-9)
    assert co2["parameters"]["ncv"]["factor_id"] == "epa-hub-2024/natural_gas/ncv"
    assert line(result, gas="CH4")["factor"]["id"] == "epa-hub-2024/natural_gas/ef/CH4"


def test_wood_co2_is_biogenic_and_outside_scope_1() -> None:
    result = run(
        {
            "id": "wood",
            "method": "combustion",
            "fuel": "wood",
            "activity": {"quantity": 1000, "unit": "t"},
        },
        gwp="AR6",
    )
    co2 = line(result)
    assert co2["scope"] == "biogenic"
    assert co2["tco2e"] == pytest.approx(15.6 * 112)
    totals = result.totals()
    assert totals["biogenic_co2"] == pytest.approx(15.6 * 112)
    # AR6 tells non-fossil methane apart: 27.0, not 29.8
    assert line(result, gas="CH4")["gwp"] == 27.0
    assert totals["scope1"] == pytest.approx(15.6 * (30 * 27.0 + 4 * 273) / 1000)


def test_blended_fuel_splits_fossil_and_biogenic_co2() -> None:
    result = run(diesel(biomass_fraction=0.2), jurisdiction="DE", grid="")
    assert line(result, scope="1")["tco2e"] == pytest.approx(3186.3 * 0.8)
    assert line(result, scope="biogenic")["tco2e"] == pytest.approx(3186.3 * 0.2)


def test_unknown_fuel_lists_known_fuels() -> None:
    with pytest.raises(UnknownFactorError, match="unknown fuel 'unobtainium'") as info:
        run(
            {
                "id": "x",
                "method": "combustion",
                "fuel": "unobtainium",
                "activity": {"quantity": 1, "unit": "t"},
            }
        )
    assert "natural_gas" in str(info.value)
    assert info.value.file == "test.yaml" and "source x" in (info.value.record or "")


def test_volume_activity_for_a_solid_fuel_is_a_unit_error() -> None:
    with pytest.raises(UnitError, match="does not fit") as info:
        run(
            {
                "id": "coal",
                "method": "combustion",
                "fuel": "anthracite",
                "activity": {"quantity": 1, "unit": "Nm3"},
            }
        )
    assert "source coal" in str(info.value)


def test_period_before_every_vintage_is_refused() -> None:
    with pytest.raises(NoFactorVintageError, match="vintages available: 2006"):
        run(diesel(), year=2005, jurisdiction="DE", grid="")


def test_pinned_factor_overrides_resolution() -> None:
    # China diesel with the IPCC NCV pinned: 1 000 t × 43.0 GJ/t × 0.0202 × 0.98 × 44/12
    result = run(diesel(factors={"ncv": "ipcc2006/diesel/ncv"}))
    co2 = line(result)
    assert co2["tco2e"] == pytest.approx(1000 * 43.0 * 0.0202 * 0.98 * 44 / 12, rel=1e-12)
    assert co2["parameters"]["ncv"]["factor_id"] == "ipcc2006/diesel/ncv"
    assert "pinned by the source" in co2["parameters"]["ncv"]["reason"]
    assert co2["parameters"]["carbon_content"]["factor_id"] == "cn-steel-2013/diesel/carbon_content"


def test_china_diesel_guideline_default() -> None:
    # 1 000 t × 42.652 GJ/t × 0.0202 t C/GJ × 0.98 × 44/12 = 3 096.0 t CO2
    co2 = line(run(diesel()))
    assert co2["tco2e"] == pytest.approx(42.652 * 20.2 * 0.98 * 44 / 12, rel=1e-12)


def test_measured_oxidation_in_percent() -> None:
    result = run(
        {
            "id": "boiler",
            "method": "combustion",
            "fuel": "natural_gas",
            "activity": {"quantity": 1, "unit": "10^4 Nm3"},
            "oxidation": {"value": 98, "unit": "percent"},
        }
    )
    assert line(result)["tco2e"] == pytest.approx(389.31 * 0.0153 * 0.98 * 44 / 12, rel=1e-12)
    assert line(result)["parameters"]["oxidation"]["measured"] is True


def test_fuel_outside_the_library_with_measured_values() -> None:
    # 100 t × 30 GJ/t × 0.025 t C/GJ × 1 (oxidation, IPCC default) × 44/12 = 275 t CO2
    result = run(
        {
            "id": "kiln",
            "method": "combustion",
            "fuel": "tyre_derived_fuel",
            "activity": {"quantity": 100, "unit": "t"},
            "ncv": {"value": 30, "unit": "GJ/t"},
            "carbon_content": {"value": 25, "unit": "t/TJ"},
        }
    )
    assert result.totals()["scope1"] == pytest.approx(275.0)
    assert next(n["note"] for n in result.to_dict()["notes"]).startswith(
        "CH4 of 'tyre_derived_fuel'"
    )


def test_co2_only_reporting_leaves_out_ch4_and_n2o_with_a_note() -> None:
    result = run(diesel(), combustion_gases=["CO2"])
    assert {x["gas"] for x in result.lines()} == {"CO2"}
    notes = [n["note"] for n in result.to_dict()["notes"]]
    assert "CH4 not reported: left out by combustion_gases" in notes
