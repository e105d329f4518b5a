"""The factor library: shipped data is complete and cited; resolution follows its rules."""

from __future__ import annotations

import pytest

from carbonlink.domain.factors import (
    FactorLibrary,
    FactorRequest,
    Tier,
    default_library,
    measured_factor,
)
from carbonlink.domain.units import parse_quantity
from carbonlink.errors import NoFactorVintageError, UnknownFactorError


def test_every_shipped_row_is_cited_and_has_a_valid_unit() -> None:
    library = default_library()
    assert len(library) > 150
    for factor in library:
        assert factor.document and factor.licence and factor.year > 1990, factor.id
        assert factor.check in {"confirmed-secondary", "reference-list", "unconfirmed"}, factor.id
        parse_quantity(factor.value, factor.unit, record=factor.id)


def test_printed_and_derived_diesel_factors_are_kept_apart() -> None:
    library = default_library()
    printed = library.find("ipcc2006/diesel/ef/CO2")
    carbon = library.find("ipcc2006/diesel/carbon_content")
    assert printed.value == 74_100
    assert carbon.value * 44 / 12 * 1000 == pytest.approx(74_066.67, abs=0.01)


def request(**kw: object) -> FactorRequest:
    base: dict[str, object] = {
        "subject": "grid_average",
        "parameter": "ef",
        "gas": "CO2",
        "year": 2025,
        "jurisdiction": "CN",
        "region": "CN-North",
    }
    return FactorRequest(**{**base, **kw})  # type: ignore[arg-type]


def test_region_beats_national_and_latest_vintage_wins() -> None:
    won = default_library().resolve(request())
    assert won.factor.value == 0.6361 and won.factor.year == 2023


def test_tier_beats_place_and_vintage() -> None:
    mine = measured_factor(
        source_id="s",
        subject="grid_average",
        parameter="ef",
        gas="CO2",
        value=0.3,
        unit="kg/kWh",
        year=2020,
    )
    won = default_library().with_factors([mine]).resolve(request())
    assert won.factor.tier is Tier.MEASURED and won.factor.value == 0.3


def test_power_sector_series_never_competes_with_statistical_factors() -> None:
    won = default_library().resolve(request(region="", year=2022))
    assert won.factor.value == 0.5366
    assert default_library().find("cn-mee-power-ets/grid_power_sector_ets/CN/2022").value == 0.5703


def test_unknown_subject_and_vintage_errors() -> None:
    with pytest.raises(UnknownFactorError, match="no ef CO2 of 'moon_grid'"):
        default_library().resolve(request(subject="moon_grid"))
    with pytest.raises(NoFactorVintageError, match="not after 2019 \\(pinned\\)"):
        default_library().resolve(request(vintage=2019))
    with pytest.raises(UnknownFactorError, match="valid for"):
        default_library().resolve(request(jurisdiction="FR", region=""))


def test_duplicate_ids_are_refused() -> None:
    row = default_library().find("ipcc2006/diesel/ncv")
    with pytest.raises(ValueError, match="defined twice"):
        FactorLibrary([row, row])
