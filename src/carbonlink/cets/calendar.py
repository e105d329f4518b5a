"""The compliance calendar of China's national ETS for one entity and one compliance year.

Obligations of a key emitter (重点排放单位) in steel, cement or aluminium for compliance year Y:

- a monthly evidence deposit (月度信息化存证) for each month of Y from the sector's first month,
  due 40 days after the month ends;
- for 2025, a back-fill of January–June 2025, due 31 October 2025;
- the annual emissions report for Y, due 31 March of Y+1;
- verification of that report, in a window after the report (end date configurable: not confirmed);
- surrender of allowances for Y, due 31 December of Y+1.

How "within 40 days after the month ends" (每月结束后40日内) is counted: under the PRC Civil Code
Art. 201 a period counted in days starts on the day after the triggering day, so day 1 is the first
day of the next month; under Art. 1259 "within" (以内) includes the stated number, so day 40 counts.
The due date is therefore ``month_end + 40 days``, and a deposit made on that day is on time.
Example: January 2026 ends on 31 January; 31 Jan + 40 days = 12 March 2026 (28 days of February,
then 12 of March). Art. 203 moves a deadline that falls on a statutory holiday to the day after the
holiday; pass those days as ``rest_days`` to apply it (carbonlink ships no holiday calendar).

The rule values live in ``carbonlink/data/cets/calendar_rules.csv`` with their source.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from importlib import resources

from carbonlink.errors import InputError, UnknownFactorError

CIVIL_CODE_COUNTING = (
    "PRC Civil Code (2020) Art. 201 (a period in days starts the day after), "
    "Art. 203 (a last day on a statutory holiday moves to the day after), "
    "Art. 1259 (以内 includes the stated number)"
)


class ObligationKind(StrEnum):
    MONTHLY_DEPOSIT = "monthly_deposit"
    BACKFILL_DEPOSIT = "backfill_deposit"
    ANNUAL_REPORT = "annual_report"
    VERIFICATION = "verification"
    SURRENDER = "surrender"


class ObligationState(StrEnum):
    DONE = "done"
    DONE_LATE = "done_late"
    OPEN = "open"
    NOT_YET_OPEN = "not_yet_open"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class CalendarRule:
    rule: str
    sector: str
    value: str
    unit: str
    source: str
    check: str


@dataclass(frozen=True)
class Obligation:
    """One thing an entity must do by a date; ``period`` is ``YYYY-MM`` (months) or ``YYYY``."""

    entity: str
    kind: ObligationKind
    period: str
    opens: date
    due: date
    rule: str
    source: str

    @property
    def key(self) -> tuple[ObligationKind, str]:
        return (self.kind, self.period)


@dataclass(frozen=True)
class ObligationStatus:
    obligation: Obligation
    state: ObligationState
    done_on: date | None
    days_left: int

    @property
    def missing(self) -> bool:
        return self.done_on is None


def load_calendar_rules() -> dict[tuple[str, str], CalendarRule]:
    """The shipped calendar rules keyed by (sector, rule)."""
    text = resources.files("carbonlink.data").joinpath("cets/calendar_rules.csv").read_text("utf-8")
    rules: dict[tuple[str, str], CalendarRule] = {}
    for row in csv.DictReader(text.splitlines()):
        rule = CalendarRule(
            rule=row["rule"],
            sector=row["sector"],
            value=row["value"],
            unit=row["unit"],
            source=row["source"],
            check=row["check"],
        )
        rules[(rule.sector, rule.rule)] = rule
    return rules


def month_end(year: int, month: int) -> date:
    """Last day of a calendar month."""
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return first_of_next - timedelta(days=1)


def deadline_after(day: date, days: int, rest_days: Collection[date] = ()) -> date:
    """Last day of ``days`` days counted from the day after ``day``, day ``days`` included.

    A last day that falls on one of ``rest_days`` moves to the first following day that is not one.
    """
    due = day + timedelta(days=days)
    while due in rest_days:
        due += timedelta(days=1)
    return due


def _month(text: str) -> tuple[int, int]:
    year, month = text.split("-")
    return int(year), int(month)


def _rule(rules: Mapping[tuple[str, str], CalendarRule], sector: str, name: str) -> CalendarRule:
    try:
        return rules[(sector, name)]
    except KeyError:
        known = sorted({s for s, _ in rules})
        raise UnknownFactorError(
            f"no calendar rule {name!r} for sector {sector!r}",
            record=sector,
            hint=f"use one of the sectors {', '.join(known)}",
        ) from None


def compliance_calendar(
    entity: str,
    sector: str,
    year: int,
    *,
    rest_days: Collection[date] = (),
    verification_due: date | None = None,
    rules: Mapping[tuple[str, str], CalendarRule] | None = None,
) -> tuple[Obligation, ...]:
    """Every obligation of ``entity`` (in ``sector``) for compliance year ``year``, by due date."""
    rules = load_calendar_rules() if rules is None else rules
    first_year = _rule(rules, sector, "first_compliance_year")
    if year < int(first_year.value):
        raise InputError(
            f"{sector} has no national ETS obligations for {year}",
            record=entity,
            hint=f"the sector's first compliance year is {first_year.value}",
        )
    days_rule = _rule(rules, sector, "monthly_deposit_days")
    first_rule = _rule(rules, sector, "monthly_deposit_first_month")
    days = int(days_rule.value)
    first = _month(first_rule.value)
    backfill_from = _rule(rules, sector, "backfill_first_month")
    backfill_to = _rule(rules, sector, "backfill_last_month")
    backfill_due = _rule(rules, sector, "backfill_due")
    backfill_span = (_month(backfill_from.value), _month(backfill_to.value))

    out: list[Obligation] = []
    for month in range(1, 13):
        label = f"{year:04d}-{month:02d}"
        end = month_end(year, month)
        if backfill_span[0] <= (year, month) <= backfill_span[1]:
            out.append(
                Obligation(
                    entity,
                    ObligationKind.BACKFILL_DEPOSIT,
                    label,
                    end + timedelta(days=1),
                    date.fromisoformat(backfill_due.value),
                    backfill_due.rule,
                    backfill_due.source,
                )
            )
        elif (year, month) >= first:
            out.append(
                Obligation(
                    entity,
                    ObligationKind.MONTHLY_DEPOSIT,
                    label,
                    end + timedelta(days=1),
                    deadline_after(end, days, rest_days),
                    days_rule.rule,
                    f"{days_rule.source}; counting: {CIVIL_CODE_COUNTING}",
                )
            )
    report = _rule(rules, sector, "annual_report_due")
    verification = _rule(rules, sector, "verification_due")
    surrender = _rule(rules, sector, "surrender_due")
    report_due = _following_year_day(year, report.value, rest_days)
    out.append(
        Obligation(
            entity,
            ObligationKind.ANNUAL_REPORT,
            f"{year:04d}",
            date(year + 1, 1, 1),
            report_due,
            report.rule,
            report.source,
        )
    )
    out.append(
        Obligation(
            entity,
            ObligationKind.VERIFICATION,
            f"{year:04d}",
            report_due + timedelta(days=1),
            verification_due or _following_year_day(year, verification.value, rest_days),
            verification.rule,
            verification.source,
        )
    )
    out.append(
        Obligation(
            entity,
            ObligationKind.SURRENDER,
            f"{year:04d}",
            date(year + 1, 1, 1),
            _following_year_day(year, surrender.value, rest_days),
            surrender.rule,
            surrender.source,
        )
    )
    return tuple(sorted(out, key=lambda o: (o.due, o.kind, o.period)))


def _following_year_day(year: int, month_day: str, rest_days: Collection[date]) -> date:
    month, day = (int(part) for part in month_day.split("-"))
    return deadline_after(date(year + 1, month, day), 0, rest_days)


def compliance_status(
    obligations: tuple[Obligation, ...],
    done: Mapping[tuple[ObligationKind, str], date],
    today: date,
) -> tuple[ObligationStatus, ...]:
    """What each obligation's state is on ``today``, given the dates things were done.

    ``done`` maps (kind, period) to the day it was done (a deposit's upload date); an entry for an
    obligation not in the calendar is an error, so a typo cannot hide a missing deposit.
    """
    known = {o.key for o in obligations}
    stray = sorted(f"{kind}:{period}" for kind, period in done if (kind, period) not in known)
    if stray:
        raise InputError(
            f"done items match no obligation of this calendar: {', '.join(stray)}",
            hint="check the kind and the period (YYYY-MM for deposits, YYYY for the year)",
        )
    out = []
    for obligation in obligations:
        done_on = done.get(obligation.key)
        if done_on is not None:
            state = ObligationState.DONE if done_on <= obligation.due else ObligationState.DONE_LATE
        elif today > obligation.due:
            state = ObligationState.OVERDUE
        elif today < obligation.opens:
            state = ObligationState.NOT_YET_OPEN
        else:
            state = ObligationState.OPEN
        out.append(ObligationStatus(obligation, state, done_on, (obligation.due - today).days))
    return tuple(out)


def missing(statuses: tuple[ObligationStatus, ...]) -> tuple[ObligationStatus, ...]:
    """Obligations not done yet (open, overdue or not yet open), earliest due first."""
    return tuple(s for s in statuses if s.missing)


def due_within(statuses: tuple[ObligationStatus, ...], days: int) -> tuple[ObligationStatus, ...]:
    """Obligations not done whose deadline is ``days`` days away or less (overdue ones included);
    what a reminder before a deadline lists."""
    return tuple(
        s
        for s in statuses
        if s.missing and s.state is not ObligationState.NOT_YET_OPEN and s.days_left <= days
    )
