"""Carbon price paid per tonne of good and the verifier's statement (CBAM definitive period)."""

from __future__ import annotations

from datetime import date

import pytest

from carbonlink.domain.cbam.exporter import (
    Accreditation,
    CetsPosition,
    ExchangeRate,
    SampledDatum,
    VerificationStatement,
    carbon_price_paid,
)
from carbonlink.errors import InputError

RATE = ExchangeRate(8.0, date(2025, 12, 31), "test rate")


def _position(**changes: float) -> CetsPosition:
    fields: dict[str, object] = {
        "scheme": "China national ETS",
        "legal_act": "State Council Decree No. 775",
        "country": "CN",
        "year": 2025,
        "currency": "CNY",
        "verified_emissions_t": 1_000_000.0,
        "free_allocation_t": 970_000.0,
        "surrendered_t": 1_000_000.0,
        "bought_t": 30_000.0,
        "bought_price": 80.0,
        "rebates": 0.0,
    }
    fields.update(changes)
    return CetsPosition(**fields)  # type: ignore[arg-type]


def test_carbon_price_paid_per_tonne_of_good_by_hand() -> None:
    """A works verified at 1 000 000 t CO2 surrendered 970 000 free allowances and 30 000 bought
    at 80 CNY:

    - amount paid N = 30 000 × 80 − 0 = 2 400 000 CNY;
    - per t CO2e p = 2 400 000 / 1 000 000 = 2.4 CNY/t; at 8.0 CNY/EUR p€ = 2.4 / 8 = 0.3 EUR/t;
    - hot-rolled coil, direct SEE 2.0 t/t: 2.0 × 0.3 = 0.60 EUR/t (4.8 CNY/t);
    - pig iron, direct SEE 1.5 t/t: 1.5 × 0.3 = 0.45 EUR/t (3.6 CNY/t).
    The indirect SEE (0.4 and 0.1) is not priced: the scheme covers direct emissions.
    """
    paid = carbon_price_paid(_position(), RATE, {"72083900": (2.0, 0.4), "72011011": (1.5, 0.1)})
    assert paid.amount_paid == pytest.approx(2_400_000.0)
    assert paid.local_per_t_co2e == pytest.approx(2.4)
    assert paid.eur_per_t_co2e == pytest.approx(0.3)
    by_code = {g.cn_code: g for g in paid.goods}
    assert by_code["72083900"].eur_per_t_good == pytest.approx(0.60)
    assert by_code["72083900"].local_per_t_good == pytest.approx(4.8)
    assert by_code["72011011"].eur_per_t_good == pytest.approx(0.45)
    assert by_code["72011011"].see_covered == pytest.approx(1.5)


def test_a_rebate_is_deducted_and_a_scheme_covering_indirect_prices_both() -> None:
    """Rebate 400 000 CNY: N = 2 400 000 − 400 000 = 2 000 000; p = 2.0 CNY/t = 0.25 EUR/t.
    Covering direct + indirect, coil (2.0 + 0.4 t/t): 2.4 × 0.25 = 0.60 EUR/t."""
    paid = carbon_price_paid(
        _position(rebates=400_000.0, covers="direct+indirect"),  # type: ignore[arg-type]
        RATE,
        {"72083900": (2.0, 0.4)},
    )
    assert paid.amount_paid == pytest.approx(2_000_000.0)
    assert paid.eur_per_t_co2e == pytest.approx(0.25)
    assert paid.goods[0].eur_per_t_good == pytest.approx(0.60)


def test_free_allocation_alone_is_no_price_paid() -> None:
    """Surplus year: nothing bought, so N = 0 and every good carries 0 EUR/t (Art. 9(1))."""
    paid = carbon_price_paid(
        _position(free_allocation_t=1_100_000.0, bought_t=0.0), RATE, {"72083900": (2.0, 0.4)}
    )
    assert paid.amount_paid == 0.0
    assert paid.goods[0].eur_per_t_good == 0.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"bought_t": 1_200_000.0}, "exceed"),
        ({"bought_t": 10_000.0}, "free allocation is only"),
        ({"rebates": 3_000_000.0}, "rebates exceed"),
        ({"verified_emissions_t": 0.0}, "must be positive"),
    ],
)
def test_an_inconsistent_position_is_refused(changes: dict[str, float], message: str) -> None:
    with pytest.raises(InputError, match=message):
        carbon_price_paid(_position(**changes), RATE, {"72083900": (2.0, 0.4)})


def test_only_a_positive_opinion_counts_as_verified_and_samples_show_their_deviation() -> None:
    def statement(opinion: str) -> VerificationStatement:
        return VerificationStatement(
            verifier="V",
            accreditation=Accreditation("DAkkS", "D-VS-1"),
            report_reference="R-1",
            report_date=date(2026, 3, 1),
            opinion=opinion,  # type: ignore[arg-type]
            site_visit="physical",
        )

    assert statement("verified as satisfactory").verified
    assert statement("verified with comments").verified
    assert not statement("not verified").verified
    assert not statement("not yet verified").verified
    # 1 000 reported, 990 found: (990 − 1 000) / 1 000 = −1 %.
    assert SampledDatum("coke", 1000.0, "t", "weighbridge", 990.0).deviation == pytest.approx(-0.01)
    assert SampledDatum("coke", 1000.0, "t", "weighbridge").deviation is None
