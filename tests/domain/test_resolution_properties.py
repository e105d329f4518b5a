"""Properties of factor resolution over the shipped library (hypothesis)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from carbonlink.domain.factors import FactorRequest, Tier, default_library, measured_factor
from carbonlink.errors import UnknownFactorError

LIBRARY = default_library()
KEYS = sorted({(f.subject, f.parameter, f.gas) for f in LIBRARY if f.subject != "*"})
REGIONS = ["", "CN-North", "CN-East", "CN-South", "CN-Southwest"]


@given(
    st.sampled_from(KEYS),
    st.integers(2000, 2030),
    st.sampled_from(["CN", "US", "DE"]),
    st.sampled_from(REGIONS),
)
def test_winner_is_never_newer_than_the_period_and_fits_the_place(
    key: tuple[str, str, str], year: int, jurisdiction: str, region: str
) -> None:
    subject, parameter, gas = key
    request = FactorRequest(subject, parameter, year, gas, jurisdiction, region)
    try:
        won = LIBRARY.resolve(request).factor
    except UnknownFactorError:
        return
    assert won.year <= year
    assert won.jurisdiction in ("INT", jurisdiction)
    assert won.region in ("", region)
    rivals = [
        f
        for f in LIBRARY
        if f.subject in (subject, "*")
        and (f.parameter, f.gas) == (parameter, gas)
        and f.year <= year
        and f.jurisdiction in ("INT", jurisdiction)
        and f.region in ("", region)
    ]
    assert won.tier == max(f.tier for f in rivals)


@given(st.sampled_from(KEYS), st.integers(2024, 2030))
def test_a_measured_value_always_wins(key: tuple[str, str, str], year: int) -> None:
    subject, parameter, gas = key
    mine = measured_factor(
        source_id="s",
        subject=subject,
        parameter=parameter,
        gas=gas,
        value=1.0,
        unit="t/t",
        year=year,
    )
    request = FactorRequest(subject, parameter, year, gas, "CN", "CN-East")
    assert LIBRARY.with_factors([mine]).resolve(request).factor.tier is Tier.MEASURED
