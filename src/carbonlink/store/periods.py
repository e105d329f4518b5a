"""Period close in the database: periods, their runs through review to lock, and comments.

A period is opened with the inventory document it is computed from. Each computation is a run
(`carbonlink.store.results.save_inventory` keeps its lines); the newest run carries the period's
state: ``draft`` → ``in_review`` (submitted) → ``approved`` (by another person) → ``locked``.
Reopening a locked period for restatement, with its reason, marks the locked run ``restated``
and starts a new draft run. Runs are never deleted, so the history of a period is its runs.

State changes are checked here, in one transaction each, so that the API and the pages cannot
disagree on what may follow what. Every read takes the caller's organization id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from carbonlink.errors import InputError
from carbonlink.store.periods_schema import period_comments, period_runs, periods


class PeriodLockedError(InputError):
    """Data was sent for a day of a locked period."""


class PeriodStateError(InputError):
    """A step asked of a period that its state does not allow (submit a locked run, ...)."""


@dataclass(frozen=True, slots=True)
class Period:
    id: str
    organization_id: str
    period_start: str
    period_end: str
    title: str
    state: str
    document: dict[str, Any]
    created_at: datetime
    created_by: str


@dataclass(frozen=True, slots=True)
class PeriodRun:
    id: str
    period_id: str
    number: int
    inventory_id: str
    state: str
    reason: str | None
    computed_by: str
    computed_at: datetime
    submitted_by: str | None
    submitted_by_id: str | None
    submitted_at: datetime | None
    approved_by: str | None
    approved_at: datetime | None
    locked_by: str | None
    locked_at: datetime | None
    ledger_index: int | None
    receipt_sha256: str | None


@dataclass(frozen=True, slots=True)
class Comment:
    id: int
    run_id: str
    author: str
    body: str
    created_at: datetime


def _period(row: Any) -> Period:
    return Period(
        row.id,
        row.organization_id,
        row.period_start,
        row.period_end,
        row.title,
        row.state,
        json.loads(row.document),
        row.created_at,
        row.created_by,
    )


def open_period(
    engine: sa.Engine, organization_id: str, document: dict[str, Any], who: str
) -> Period:
    """Open the period of an inventory document (one period per date range)."""
    start = str(document["period"]["start"])
    end = str(document["period"]["end"])
    with engine.begin() as conn:
        taken = conn.execute(
            sa.select(periods.c.id).where(
                periods.c.organization_id == organization_id,
                periods.c.period_start == start,
                periods.c.period_end == end,
            )
        ).first()
        if taken is not None:
            raise InputError(
                f"the period {start} – {end} is open already",
                record=taken.id,
                hint="compute a new run of that period instead",
            )
        row = {
            "id": uuid.uuid4().hex,
            "organization_id": organization_id,
            "period_start": start,
            "period_end": end,
            "title": str(document.get("organization") or ""),
            "document": json.dumps(document, ensure_ascii=False),
            "state": "draft",
            "created_at": datetime.now(UTC),
            "created_by": who,
        }
        conn.execute(periods.insert().values(**row))
    found = period_of(engine, organization_id, str(row["id"]))
    assert found is not None
    return found


def periods_of(engine: sa.Engine, organization_id: str) -> list[Period]:
    """The organization's periods, newest first."""
    query = (
        sa.select(periods)
        .where(periods.c.organization_id == organization_id)
        .order_by(periods.c.period_end.desc(), periods.c.created_at.desc())
    )
    with engine.connect() as conn:
        return [_period(row) for row in conn.execute(query)]


def period_of(engine: sa.Engine, organization_id: str, period_id: str) -> Period | None:
    """One period of the organization, or None (also for another organization's)."""
    query = sa.select(periods).where(
        periods.c.organization_id == organization_id, periods.c.id == period_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else _period(row)


def runs_of(engine: sa.Engine, period_id: str) -> list[PeriodRun]:
    """The period's runs, newest first."""
    query = (
        sa.select(period_runs)
        .where(period_runs.c.period_id == period_id)
        .order_by(period_runs.c.number.desc())
    )
    with engine.connect() as conn:
        return [PeriodRun(**row._mapping) for row in conn.execute(query)]


def comments_of(engine: sa.Engine, period_id: str) -> list[Comment]:
    """The period's comments, oldest first."""
    query = (
        sa.select(period_comments)
        .where(period_comments.c.period_id == period_id)
        .order_by(period_comments.c.id)
    )
    with engine.connect() as conn:
        return [
            Comment(row.id, row.run_id, row.author, row.body, row.created_at)
            for row in conn.execute(query)
        ]


def _newest(conn: sa.Connection, period_id: str) -> Any:
    return conn.execute(
        sa.select(period_runs)
        .where(period_runs.c.period_id == period_id)
        .order_by(period_runs.c.number.desc())
        .limit(1)
    ).first()


def _refuse(period: Period, state: str, wanted: tuple[str, ...], step: str, hint: str) -> None:
    if state not in wanted:
        raise PeriodStateError(
            f"the period {period.period_start} – {period.period_end} is {state.replace('_', ' ')}"
            f": it cannot be {step}",
            record=period.id,
            hint=hint,
        )


def _set_state(conn: sa.Connection, period_id: str, run_id: str, state: str, **values: Any) -> None:
    conn.execute(
        period_runs.update().where(period_runs.c.id == run_id).values(state=state, **values)
    )
    conn.execute(periods.update().where(periods.c.id == period_id).values(state=state))


def add_run(
    engine: sa.Engine, period: Period, inventory_id: str, who: str, reason: str | None = None
) -> str:
    """Record a computation as the period's new draft run; return its id.

    A draft run is replaced (kept as ``superseded``); a locked run only with a ``reason``
    (a restatement: the locked run is kept as ``restated``). A run in review or approved must
    be decided first.
    """
    with engine.begin() as conn:
        newest = _newest(conn, period.id)
        if newest is not None:
            if reason is None:
                _refuse(
                    period,
                    newest.state,
                    ("draft",),
                    "computed again",
                    "a locked period is reopened for restatement with a reason; a run in "
                    "review is approved or returned first",
                )
                conn.execute(
                    period_runs.update()
                    .where(period_runs.c.id == newest.id)
                    .values(state="superseded")
                )
            else:
                _refuse(
                    period,
                    newest.state,
                    ("locked",),
                    "reopened",
                    "only a locked period is reopened for restatement",
                )
                conn.execute(
                    period_runs.update()
                    .where(period_runs.c.id == newest.id)
                    .values(state="restated")
                )
        run_id = uuid.uuid4().hex
        conn.execute(
            period_runs.insert().values(
                id=run_id,
                period_id=period.id,
                number=1 if newest is None else newest.number + 1,
                inventory_id=inventory_id,
                state="draft",
                reason=reason,
                computed_by=who,
                computed_at=datetime.now(UTC),
            )
        )
        conn.execute(periods.update().where(periods.c.id == period.id).values(state="draft"))
    return run_id


def current_run(engine: sa.Engine, period: Period) -> PeriodRun | None:
    runs = runs_of(engine, period.id)
    return runs[0] if runs else None


def _current(conn: sa.Connection, period: Period, wanted: str, step: str, hint: str) -> Any:
    newest = _newest(conn, period.id)
    if newest is None:
        raise PeriodStateError(
            f"the period {period.period_start} – {period.period_end} has no run yet",
            record=period.id,
            hint="compute the period first",
        )
    _refuse(period, newest.state, (wanted,), step, hint)
    return newest


def submit(engine: sa.Engine, period: Period, who: str, subject: str) -> None:
    """Send the draft run for review."""
    with engine.begin() as conn:
        run = _current(conn, period, "draft", "submitted", "only a draft run is submitted")
        _set_state(
            conn,
            period.id,
            run.id,
            "in_review",
            submitted_by=who,
            submitted_by_id=subject,
            submitted_at=datetime.now(UTC),
        )


def return_to_draft(engine: sa.Engine, period: Period) -> None:
    """Send the run in review back to draft (the reviewer says why in a comment)."""
    with engine.begin() as conn:
        run = _current(conn, period, "in_review", "returned", "only a run in review is returned")
        _set_state(conn, period.id, run.id, "draft", submitted_by=None, submitted_by_id=None)


def run_in_review(engine: sa.Engine, period: Period, subject: str) -> PeriodRun:
    """The run in review that ``subject`` may approve (not one they submitted themselves)."""
    with engine.connect() as conn:
        run = _current(conn, period, "in_review", "approved", "submit the run for review first")
    if run.submitted_by_id == subject:
        raise PeriodStateError(
            "you submitted this run: another person approves it",
            record=run.id,
            hint="ask a reviewer, an auditor or an administrator of your organization",
        )
    return PeriodRun(**run._mapping)


def approve(
    engine: sa.Engine, period: Period, run_id: str, who: str, ledger_index: int, receipt: str
) -> None:
    """Mark the run in review approved, with its ledger entry and the kept run's digest."""
    with engine.begin() as conn:
        run = _current(conn, period, "in_review", "approved", "submit the run for review first")
        if run.id != run_id:
            raise PeriodStateError(
                "the run in review changed while it was being approved",
                record=run.id,
                hint="reload the page",
            )
        _set_state(
            conn,
            period.id,
            run.id,
            "approved",
            approved_by=who,
            approved_at=datetime.now(UTC),
            ledger_index=ledger_index,
            receipt_sha256=receipt,
        )


def lock(engine: sa.Engine, period: Period, who: str) -> None:
    """Lock the approved run: data for the period is refused from now on."""
    with engine.begin() as conn:
        run = _current(conn, period, "approved", "locked", "approve the run first")
        _set_state(conn, period.id, run.id, "locked", locked_by=who, locked_at=datetime.now(UTC))


def add_comment(engine: sa.Engine, period: Period, who: str, body: str) -> Comment:
    """Comment on the period's current run."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        run = _newest(conn, period.id)
        if run is None:
            raise PeriodStateError(
                "the period has no run to comment on yet",
                record=period.id,
                hint="compute the period first",
            )
        new_id = conn.execute(
            period_comments.insert().values(
                period_id=period.id, run_id=run.id, author=who, body=body, created_at=now
            )
        ).inserted_primary_key
    return Comment(int(new_id[0]) if new_id else 0, run.id, who, body, now)


LOCKED = sa.select(periods.c.id, periods.c.period_start, periods.c.period_end).where(
    periods.c.organization_id == sa.bindparam("organization_id"), periods.c.state == "locked"
)


def refuse_locked(engine: sa.Engine, organization_id: str, days: Iterable[tuple[str, str]]) -> None:
    """Raise `PeriodLockedError` when a (day YYYY-MM-DD, record) falls in a locked period.

    One indexed query of the organization's locked periods (few: one a year or a month), then
    string comparisons of the days; ``days`` is only walked when a period is locked.
    """
    with engine.connect() as conn:
        locked = conn.execute(LOCKED, {"organization_id": organization_id}).all()
    if not locked:
        return
    for day, record in days:
        for row in locked:
            if row.period_start <= day <= row.period_end:
                raise PeriodLockedError(
                    f"{record}: the period {row.period_start} – {row.period_end} is locked, "
                    f"so data for {day} is refused",
                    record=record,
                    hint="an administrator reopens the period for restatement (with the reason) "
                    "before data for it is accepted; it then goes into the restated run",
                )
