"""The importer's annual CBAM declaration, each rule checked against a number worked by hand.

Figures used (shipped data, see their sources): CN 7208 default values 2025/2621 India 4.28,
China 3.19 t CO2e/t (direct; iron and steel counts direct only); mark-up +10 % 2026, +20 % 2027;
CBAM benchmark hot-rolled flats BF-BOF 1.370; CBAM factor 0.975 (2026), 0.95 (2027); CSCF 1.0;
Q1 2026 certificate price 75.36 EUR.
"""

from __future__ import annotations

from datetime import date

import pytest

from carbonlink.cbam_import.declaration import (
    CommunicatedGood,
    Communication,
    PriceEntry,
    declare,
    prices_with_shipped,
)
from carbonlink.cbam_import.lines import CustomsLine
from carbonlink.cbam_import.reference import cbam_factor, default_value, sector_markup


def line(
    key: str,
    day: date,
    mass: float,
    country: str = "IN",
    installation: str = "IN-MILL-1",
    cn: str = "72083900",
) -> CustomsLine:
    return CustomsLine(key, 1, day, cn, mass, country, installation, "supplier")


TANGSHAN = Communication(
    installation_id="CN-TANGSHAN",
    installation_name="Tangshan works",
    country="CN",
    period_start=date(2025, 1, 1),
    period_end=date(2025, 12, 31),
    goods=(CommunicatedGood("72083900", 1.5, 0.4, "BF-BOF", 5.0, "CEA surrender 2025"),),
    verified=True,
)
Q1_2026 = [PriceEntry(2026, 1, 75.36, date(2026, 4, 7))]


def test_reference_figures_are_the_ones_the_hand_numbers_use() -> None:
    assert default_value("72083900", "IN").see_direct == 4.28
    assert default_value("72083900", "CN").see_direct == 3.19
    assert default_value("72083900", "BR").country == "*"  # other countries and territories
    assert sector_markup(2026).markup == 0.10
    assert sector_markup(2027).markup == 0.20
    assert cbam_factor(2026)[0] == 0.975
    assert cbam_factor(2025)[0] == 1.0


def test_default_value_with_the_year_mark_up() -> None:
    """100 t of Indian hot-rolled coil in 2026: 4.28 × 1.10 = 4.708 t/t; 100 × 4.708 = 470.8 t."""
    result = declare(2026, [line("D1", date(2026, 2, 10), 100.0)], {}, Q1_2026)
    (good,) = result.lines
    assert good.basis == "default"
    assert good.see == pytest.approx(4.708)
    assert good.embedded_t == pytest.approx(470.8)
    assert "no communication" in good.reason
    assert result.actual_share == 0.0


def test_free_allocation_adjustment_and_certificates_rounded_up() -> None:
    """FAA = 100 × 1.370 × 0.975 × 1.0 = 133.575 t; 470.8 − 133.575 = 337.225 → 338 certificates.

    Cost at the Q1 price: 337.225 × 75.36 = 25 413.276 EUR; projected at 80 EUR: 338 × 80 = 27 040.
    """
    result = declare(
        2026, [line("D1", date(2026, 2, 10), 100.0)], {}, Q1_2026, projected_price_eur=80.0
    )
    assert result.free_allocation_t == pytest.approx(133.575)
    assert result.obligation_t == pytest.approx(337.225)
    assert result.certificates == 338
    assert result.cost_published_eur == pytest.approx(25413.276)
    assert result.cost_complete is True
    assert result.projected_cost_eur == pytest.approx(27040.0)
    assert result.due_date == date(2027, 9, 30)


def test_carbon_price_paid_is_deducted() -> None:
    """1 000 t from Tangshan, actual SEE 1.5 (direct only for steel): E = 1 500 t.

    FAA = 1 000 × 1.33575 = 1 335.75 t; net 164.25 t. Carbon price paid 5 EUR/t on 1 500 t =
    7 500 EUR = 7 500 / 75.36 = 99.522293 certificates; obligation 164.25 − 99.522293 = 64.727707
    → 65 certificates.
    """
    result = declare(
        2026,
        [line("D2", date(2026, 3, 1), 1000.0, "CN", "CN-TANGSHAN")],
        {"CN-TANGSHAN": TANGSHAN},
        Q1_2026,
    )
    (good,) = result.lines
    assert good.basis == "actual"
    assert "verified" in good.reason
    assert good.embedded_t == pytest.approx(1500.0)
    assert good.deduction_certificates == pytest.approx(99.522293, abs=1e-6)
    assert result.obligation_t == pytest.approx(64.727707, abs=1e-6)
    assert result.certificates == 65
    assert good.carbon_price_evidence == "CEA surrender 2025"


def test_deduction_never_makes_a_line_negative() -> None:
    """At 100 EUR/t paid: 150 000 / 75.36 = 1 990.4 certificates, capped at the 164.25 t net."""
    rich = Communication(
        **{**TANGSHAN.__dict__, "goods": (CommunicatedGood("72083900", 1.5, 0.4, "", 100.0),)}
    )
    result = declare(
        2026,
        [line("D2", date(2026, 3, 1), 1000.0, "CN", "CN-TANGSHAN")],
        {"CN-TANGSHAN": rich},
        Q1_2026,
    )
    assert result.lines[0].deduction_certificates == pytest.approx(164.25)
    assert result.obligation_t == pytest.approx(0.0)
    assert result.certificates == 0


def test_quarterly_holding_from_2027() -> None:
    """2027: 100 t in Q1 and 40 t in Q3, Indian defaults 4.28 × 1.20 = 5.136 t/t.

    Q1 net = 513.6 − 100 × 1.370 × 0.95 (130.15) = 383.45 → hold ⌈0.5 × 383.45⌉ = 192 (Q1, Q2);
    Q3 net = 205.44 − 52.06 = 153.38; cumulative 536.83 → hold ⌈268.415⌉ = 269 (Q3, Q4).
    """
    result = declare(
        2027, [line("A", date(2027, 1, 20), 100.0), line("B", date(2027, 8, 5), 40.0)], {}
    )
    holds = [q.certificates_to_hold for q in result.quarters]
    assert holds == [192, 192, 269, 269]
    assert result.quarters[2].cumulative_obligation_t == pytest.approx(536.83)
    assert result.certificates == 537
    # No price entered for 2027: the cost is not complete and says so.
    assert result.cost_complete is False


def test_no_holding_requirement_in_2026() -> None:
    result = declare(2026, [line("D1", date(2026, 2, 10), 100.0)], {}, Q1_2026)
    assert [q.certificates_to_hold for q in result.quarters] == [0, 0, 0, 0]
    assert any("no quarterly holding" in n for n in result.notes)


def test_threshold_of_50_tonnes() -> None:
    """50 t exactly does not exceed the threshold (exempt); 50.001 t does."""
    at = declare(2026, [line("A", date(2026, 1, 5), 30.0), line("B", date(2026, 5, 5), 20.0)], {})
    assert at.exempt is True and at.certificates == 0
    over = declare(
        2026, [line("A", date(2026, 1, 5), 30.0), line("B", date(2026, 5, 5), 20.001)], {}
    )
    assert over.exempt is False and over.certificates > 0


def test_communication_for_another_cn_code_falls_back_to_default() -> None:
    """Tangshan's communication has no 72071210: Chinese default 3.17 × 1.10 = 3.487 t/t."""
    result = declare(
        2026,
        [line("S", date(2026, 6, 1), 10.0, "CN", "CN-TANGSHAN", cn="72071210")],
        {"CN-TANGSHAN": TANGSHAN},
    )
    (good,) = result.lines
    assert good.basis == "default"
    assert "has no CN 72071210" in good.reason
    assert good.see == pytest.approx(3.487)


def test_shipped_price_is_overridden_by_the_users_entry() -> None:
    merged = prices_with_shipped([PriceEntry(2026, 1, 70.0, None, "mine")])
    assert [p.price_eur for p in merged if (p.year, p.quarter) == (2026, 1)] == [70.0]
    assert any(p.price_eur == 75.36 for p in prices_with_shipped([]))


def test_carbon_price_paid_is_read_at_the_top_or_inside_each_good() -> None:
    from carbonlink.cbam_import.declaration import communication_from_json

    base = {
        "installation": {"name": "Works", "address": {"country": "CN"}},
        "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
    }
    nested = communication_from_json(
        base
        | {
            "goods": [
                {
                    "cn_code": "72083900",
                    "see_direct": 1.5,
                    "carbon_price_paid": {"amount_eur_per_t_co2e": 2.5, "evidence": "CEA"},
                }
            ]
        },
        "W",
    )
    assert nested.goods[0].carbon_price_eur_per_t == 2.5
    top = communication_from_json(
        base
        | {
            "goods": [{"cn_code": "72083900", "see_direct": 1.5}],
            "carbon_price_paid": [{"cn_code": "72083900", "amount_eur_per_t_co2e": 3}],
        },
        "W",
    )
    assert top.goods[0].carbon_price_eur_per_t == 3.0


def test_a_good_without_a_shipped_default_is_refused_with_what_to_do() -> None:
    """Unwrought aluminium from China has no row in the shipped file: a clear error, no guess."""
    from carbonlink.errors import UnknownFactorError

    with pytest.raises(UnknownFactorError, match="no CBAM default value for CN 76011000 from CN"):
        declare(2026, [line("AL", date(2026, 1, 5), 60.0, "CN", cn="76011000")], {})


def test_a_bad_carbon_price_block_is_refused() -> None:
    from carbonlink.cbam_import.declaration import communication_from_json
    from carbonlink.errors import InputError

    document = {
        "installation": {"name": "Works"},
        "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
        "goods": [{"cn_code": "72083900", "see_direct": 1.5}],
        "carbon_price_paid": [{"cn_code": "72083900", "amount_eur_per_t_co2e": -1}],
    }
    with pytest.raises(InputError, match="non-negative"):
        communication_from_json(document, "W")
    with pytest.raises(InputError, match="not a carbonlink CBAM communication"):
        communication_from_json({"goods": []}, "W")
