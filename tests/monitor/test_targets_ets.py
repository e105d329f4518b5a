import numpy as np
import pytest

from carbonlink.errors import InputError
from carbonlink.monitor.ets import EtsPosition, benchmark_allocation
from carbonlink.monitor.targets import Target, progress, project_year


def test_science_based_linear_pathway() -> None:
    # 4.2 % of base-year emissions a year: 100 000 t in 2020 → 58 000 t in 2030.
    target = Target.linear_reduction("sbti", 2020, 100_000.0, 2030, 0.042)
    assert target.target_value == pytest.approx(58_000.0)
    assert float(target.pathway(2025)) == pytest.approx(79_000.0)
    assert float(target.pathway(2020)) == pytest.approx(100_000.0)


def test_projection_scales_last_year_by_this_years_level() -> None:
    last_year = np.full(12, 100.0)
    last_year[11] = 200.0  # a heavy December
    this_year = np.full(12, np.nan)
    this_year[:6] = 90.0  # 10 % below last year so far
    projected = project_year(this_year, last_year)
    assert projected[:6].tolist() == [90.0] * 6
    assert projected[6:11] == pytest.approx([90.0] * 5)
    assert projected[11] == pytest.approx(180.0)


def test_progress_against_target_says_whether_the_year_is_on_track() -> None:
    target = Target.linear_reduction("t", 2020, 1200.0, 2030, 0.042)  # 2025: 948 t allowed
    this_year = np.full(12, np.nan)
    this_year[:3] = 85.0
    result = progress(target, 2025, this_year)
    assert result.allowed == pytest.approx(948.0)
    assert result.projected == pytest.approx(1020.0)
    assert result.gap == pytest.approx(72.0)
    assert not result.on_track
    assert result.months_measured == 3


def test_intensity_progress_uses_output() -> None:
    target = Target("i", "intensity", 2020, 2.0, 2030, 1.5)
    emissions = np.full(12, 180.0)
    output = np.full(12, 100.0)
    result = progress(target, 2025, emissions, output=output)
    assert result.allowed == pytest.approx(1.75)
    assert result.projected == pytest.approx(1.8)


def test_bad_targets_are_refused() -> None:
    with pytest.raises(InputError, match="not after base year"):
        Target("x", "absolute", 2030, 1.0, 2020, 0.5)
    with pytest.raises(InputError, match="impossible"):
        Target.linear_reduction("x", 2020, 1.0, 2050, 0.042)
    with pytest.raises(InputError, match="12 monthly values"):
        project_year(np.ones(11))


def test_ets_position_deficit_and_cost() -> None:
    allocation = benchmark_allocation(output=1_000_000, benchmark=1.5, adjustment=0.98)
    assert allocation == pytest.approx(1_470_000)
    position = EtsPosition("CN-ETS", 2025, allocation, 1_520_000, "projected", 95.0, "CNY")
    assert position.balance_t == pytest.approx(-50_000)
    assert position.cost == pytest.approx(4_750_000)
    assert position.value_of_surplus == 0.0


def test_target_overshoot_alert_opens_once_and_closes() -> None:
    from carbonlink.monitor.targets import TargetWatch

    target = Target.linear_reduction("t", 2020, 1200.0, 2030, 0.042)  # 948 t allowed in 2025
    watch = TargetWatch()
    ts = np.datetime64("2025-04-01", "ns")
    over = np.full(12, np.nan)
    over[:3] = 85.0  # projected 1 020 t
    [opened] = watch.check(target, progress(target, 2025, over), ts)
    assert (opened.action, opened.rule_id) == ("opened", "target:t")
    assert "+72.0" in opened.message
    assert watch.check(target, progress(target, 2025, over), ts) == []  # still over: no repeat
    under = np.full(12, np.nan)
    under[:3] = 75.0  # projected 900 t
    [closed] = watch.check(target, progress(target, 2025, under), ts)
    assert closed.action == "closed"
