"""The compliance calendar's dates for 2025 and 2026, each worked out by hand from the rules.

Monthly deposit: due = last day of the month + 40 days (day 40 included, see the module docstring).
"""

from __future__ import annotations

from datetime import date

import pytest

from carbonlink.cets.calendar import (
    ObligationKind,
    ObligationState,
    compliance_calendar,
    compliance_status,
    deadline_after,
    due_within,
    missing,
)
from carbonlink.errors import InputError, UnknownFactorError

K = ObligationKind


def _due(entity_year: int, sector: str = "steel") -> dict[tuple[ObligationKind, str], date]:
    return {o.key: o.due for o in compliance_calendar("tangshan", sector, entity_year)}


def test_steel_2025_dates() -> None:
    due = _due(2025)
    # January–June 2025 are back-filled, all due on the one fixed date.
    for month in range(1, 7):
        assert due[(K.BACKFILL_DEPOSIT, f"2025-{month:02d}")] == date(2025, 10, 31)
        assert (K.MONTHLY_DEPOSIT, f"2025-{month:02d}") not in due
    # 31 Jul + 40: 31 days of August reach 31 Aug, 9 more reach 9 Sep.
    assert due[(K.MONTHLY_DEPOSIT, "2025-07")] == date(2025, 9, 9)
    # 31 Aug + 40: 30 days of September, then 10 of October.
    assert due[(K.MONTHLY_DEPOSIT, "2025-08")] == date(2025, 10, 10)
    # 30 Sep + 40: 31 days of October, then 9 of November.
    assert due[(K.MONTHLY_DEPOSIT, "2025-09")] == date(2025, 11, 9)
    # 31 Oct + 40: 30 days of November, then 10 of December.
    assert due[(K.MONTHLY_DEPOSIT, "2025-10")] == date(2025, 12, 10)
    # 30 Nov + 40: 31 days of December, then 9 of January.
    assert due[(K.MONTHLY_DEPOSIT, "2025-11")] == date(2026, 1, 9)
    # 31 Dec + 40: 31 days of January, then 9 of February.
    assert due[(K.MONTHLY_DEPOSIT, "2025-12")] == date(2026, 2, 9)
    assert due[(K.ANNUAL_REPORT, "2025")] == date(2026, 3, 31)
    assert due[(K.VERIFICATION, "2025")] == date(2026, 6, 30)
    assert due[(K.SURRENDER, "2025")] == date(2026, 12, 31)
    assert len(due) == 6 + 6 + 3


def test_steel_2026_dates() -> None:
    due = _due(2026)
    expected = {
        "2026-01": date(2026, 3, 12),  # 31 Jan + 28 (Feb, not a leap year) + 12
        "2026-02": date(2026, 4, 9),  # 28 Feb + 31 (Mar) + 9
        "2026-03": date(2026, 5, 10),  # 31 Mar + 30 (Apr) + 10
        "2026-04": date(2026, 6, 9),  # 30 Apr + 31 (May) + 9
        "2026-05": date(2026, 7, 10),  # 31 May + 30 (Jun) + 10
        "2026-06": date(2026, 8, 9),  # 30 Jun + 31 (Jul) + 9
        "2026-07": date(2026, 9, 9),  # 31 Jul + 31 (Aug) + 9
        "2026-08": date(2026, 10, 10),  # 31 Aug + 30 (Sep) + 10
        "2026-09": date(2026, 11, 9),  # 30 Sep + 31 (Oct) + 9
        "2026-10": date(2026, 12, 10),  # 31 Oct + 30 (Nov) + 10
        "2026-11": date(2027, 1, 9),  # 30 Nov + 31 (Dec) + 9
        "2026-12": date(2027, 2, 9),  # 31 Dec + 31 (Jan) + 9
    }
    for period, day in expected.items():
        assert due[(K.MONTHLY_DEPOSIT, period)] == day, period
    assert not any(kind is K.BACKFILL_DEPOSIT for kind, _ in due)
    assert due[(K.ANNUAL_REPORT, "2026")] == date(2027, 3, 31)
    assert due[(K.VERIFICATION, "2026")] == date(2027, 6, 30)
    assert due[(K.SURRENDER, "2026")] == date(2027, 12, 31)


def test_leap_february_counts_its_29th_day() -> None:
    # 31 Jan 2028 + 29 (February of a leap year) + 11 = 11 March 2028.
    assert _due(2028)[(K.MONTHLY_DEPOSIT, "2028-01")] == date(2028, 3, 11)


def test_2024_has_yearly_obligations_but_no_monthly_deposits() -> None:
    due = _due(2024)
    assert set(due) == {(K.ANNUAL_REPORT, "2024"), (K.VERIFICATION, "2024"), (K.SURRENDER, "2024")}
    assert due[(K.ANNUAL_REPORT, "2024")] == date(2025, 3, 31)
    assert due[(K.SURRENDER, "2024")] == date(2025, 12, 31)


def test_year_before_coverage_and_unknown_sector_are_errors() -> None:
    with pytest.raises(InputError, match="first compliance year is 2024"):
        compliance_calendar("tangshan", "steel", 2023)
    with pytest.raises(UnknownFactorError, match="sector 'glass'"):
        compliance_calendar("tangshan", "glass", 2025)


def test_deadline_on_a_rest_day_moves_to_the_next_working_day() -> None:
    # 9 and 10 Feb 2026 declared rest days: the December 2025 deposit is due on 11 Feb.
    rest = {date(2026, 2, 9), date(2026, 2, 10)}
    cal = compliance_calendar("tangshan", "steel", 2025, rest_days=rest)
    due = {o.key: o.due for o in cal}
    assert due[(K.MONTHLY_DEPOSIT, "2025-12")] == date(2026, 2, 11)
    assert deadline_after(date(2025, 12, 31), 40) == date(2026, 2, 9)


def test_status_says_what_is_missing() -> None:
    cal = compliance_calendar("tangshan", "steel", 2025)
    done = {(K.BACKFILL_DEPOSIT, f"2025-{m:02d}"): date(2025, 10, 31) for m in range(1, 7)}
    done[(K.MONTHLY_DEPOSIT, "2025-07")] = date(2025, 9, 10)  # one day after 9 Sep
    done[(K.MONTHLY_DEPOSIT, "2025-09")] = date(2025, 11, 9)  # day 40 itself: on time
    statuses = {s.obligation.key: s for s in compliance_status(cal, done, today=date(2025, 11, 15))}
    assert statuses[(K.BACKFILL_DEPOSIT, "2025-03")].state is ObligationState.DONE
    assert statuses[(K.MONTHLY_DEPOSIT, "2025-07")].state is ObligationState.DONE_LATE
    assert statuses[(K.MONTHLY_DEPOSIT, "2025-08")].state is ObligationState.OVERDUE
    assert statuses[(K.MONTHLY_DEPOSIT, "2025-09")].state is ObligationState.DONE
    october = statuses[(K.MONTHLY_DEPOSIT, "2025-10")]
    assert october.state is ObligationState.OPEN
    assert october.days_left == 25  # 15 Nov → 10 Dec
    assert statuses[(K.MONTHLY_DEPOSIT, "2025-11")].state is ObligationState.NOT_YET_OPEN
    gaps = missing(tuple(statuses.values()))
    assert [s.obligation.period for s in gaps[:4]] == ["2025-08", "2025-10", "2025-11", "2025-12"]
    assert len(gaps) == 4 + 3  # Aug, Oct, Nov, Dec deposits; report, verification, surrender
    assert {s.obligation.kind for s in gaps} >= {K.ANNUAL_REPORT, K.SURRENDER}


def test_a_done_item_that_matches_nothing_is_an_error() -> None:
    cal = compliance_calendar("tangshan", "steel", 2025)
    with pytest.raises(InputError, match="monthly_deposit:2025-03"):
        compliance_status(cal, {(K.MONTHLY_DEPOSIT, "2025-03"): date(2025, 5, 1)}, date(2025, 6, 1))


def test_due_within_lists_what_a_reminder_names() -> None:
    # On 1 Dec 2025 with nothing done for July on: Jul–Sep overdue (negative days left),
    # October due 10 Dec (9 days): all four within 10 days; November opens 1 Dec, due 9 Jan
    # (39 days): not yet; December has not opened.
    cal = compliance_calendar("tangshan", "steel", 2025)
    done = {(K.BACKFILL_DEPOSIT, f"2025-{m:02d}"): date(2025, 10, 1) for m in range(1, 7)}
    statuses = compliance_status(cal, done, today=date(2025, 12, 1))
    soon = due_within(statuses, 10)
    assert [s.obligation.period for s in soon] == ["2025-07", "2025-08", "2025-09", "2025-10"]
    assert soon[-1].days_left == 9
    assert [s.obligation.period for s in due_within(statuses, 39)][-1] == "2025-11"
