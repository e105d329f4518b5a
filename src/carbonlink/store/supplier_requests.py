"""The terms of supplier portal requests, their reminders and the lead's review of the answer.

A request asks for a reference period by a due date, with a message to the supplier. The lead
reviews each answer: ``accepted`` closes it, ``returned`` asks again with a reason the supplier
sees. A supplier may revise its answer until it is accepted; a revision clears a ``returned``
review so the new answer waits for review again. One reminder is recorded per request.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from carbonlink.errors import InputError
from carbonlink.store.accounts_schema import supplier_requests

__all__ = [
    "ACCEPTED",
    "RETURNED",
    "RequestTerms",
    "due_soon",
    "mark_reminded",
    "record_answer",
    "record_review",
    "save_terms",
    "terms_of",
]

ACCEPTED = "accepted"
RETURNED = "returned"


@dataclass(frozen=True, slots=True)
class RequestTerms:
    """What a request asks for and by when, its reminder and its review."""

    organization_id: str
    request_event_id: str
    partner_id: str
    period_start: date
    period_end: date
    due_date: date
    message: str
    reminded_at: datetime | None = None
    answer_fields: dict[str, str] = field(default_factory=dict)
    review: str | None = None
    review_reason: str | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None


def _terms(row: sa.Row[tuple[object, ...]]) -> RequestTerms:
    values = dict(row._mapping)
    values.pop("created_by", None)
    values["answer_fields"] = json.loads(values["answer_fields"] or "{}")
    return RequestTerms(**values)


def check_terms(period_start: date, period_end: date, due_date: date, today: date) -> None:
    """Refuse a period that ends before it starts, or a due date in the past."""
    if period_end <= period_start:
        raise InputError(
            f"the period ends ({period_end}) on or before it starts ({period_start})",
            record="period",
            hint="give the first day of the period and the first day after it",
        )
    if due_date < today:
        raise InputError(
            f"the due date {due_date} has passed", record="due date", hint="give a future date"
        )


def save_terms(
    engine: sa.Engine,
    organization_id: str,
    request_event_id: str,
    partner_id: str,
    *,
    period_start: date,
    period_end: date,
    due_date: date,
    message: str,
    created_by: str | None,
) -> None:
    """Keep the terms of a request just sent."""
    with engine.begin() as conn:
        conn.execute(
            supplier_requests.insert().values(
                organization_id=organization_id,
                request_event_id=request_event_id,
                partner_id=partner_id,
                period_start=period_start,
                period_end=period_end,
                due_date=due_date,
                message=message,
                created_by=created_by,
            )
        )


def terms_of(
    engine: sa.Engine, organization_id: str, event_ids: Iterable[str] | None = None
) -> dict[str, RequestTerms]:
    """The organization's request terms by request event id."""
    query = sa.select(supplier_requests).where(
        supplier_requests.c.organization_id == organization_id
    )
    if event_ids is not None:
        query = query.where(supplier_requests.c.request_event_id.in_(list(event_ids)))
    with engine.connect() as conn:
        return {row.request_event_id: _terms(row) for row in conn.execute(query)}


def record_review(
    engine: sa.Engine,
    organization_id: str,
    request_event_id: str,
    *,
    accept: bool,
    reason: str,
    by: str,
    now: datetime | None = None,
) -> None:
    """Accept the answer of a request, or return it to the supplier with a reason."""
    reason = reason.strip()
    if not accept and not reason:
        raise InputError(
            "say why the answer is returned",
            record=request_event_id,
            hint="the supplier reads the reason before it revises its answer",
        )
    with engine.begin() as conn:
        done = conn.execute(
            supplier_requests.update()
            .where(
                supplier_requests.c.organization_id == organization_id,
                supplier_requests.c.request_event_id == request_event_id,
                sa.or_(
                    supplier_requests.c.review.is_(None),
                    supplier_requests.c.review != ACCEPTED,
                ),
            )
            .values(
                review=ACCEPTED if accept else RETURNED,
                review_reason=reason or None,
                reviewed_by=by,
                reviewed_at=now or datetime.now(UTC),
            )
        ).rowcount
    if not done:
        raise InputError(
            "this answer has been accepted already", record=request_event_id, hint="nothing to do"
        )


def record_answer(
    engine: sa.Engine, organization_id: str, request_event_id: str, fields: dict[str, str]
) -> None:
    """Keep the form of the answer just sent (the supplier sees and revises it); a revised
    answer waits for review again (a returned answer's reason stays to read)."""
    where = (
        supplier_requests.c.organization_id == organization_id,
        supplier_requests.c.request_event_id == request_event_id,
    )
    with engine.begin() as conn:
        conn.execute(
            supplier_requests.update()
            .where(*where)
            .values(answer_fields=json.dumps(fields, ensure_ascii=False))
        )
        conn.execute(
            supplier_requests.update()
            .where(*where, supplier_requests.c.review == RETURNED)
            .values(review=None)
        )


def due_soon(engine: sa.Engine, today: date, within_days: int) -> list[RequestTerms]:
    """Requests of every organization due within ``within_days`` (or overdue), not reminded,
    not accepted; whether they are still unanswered is for the caller to check."""
    query = (
        sa.select(supplier_requests)
        .where(
            supplier_requests.c.due_date <= today + timedelta(days=within_days),
            supplier_requests.c.reminded_at.is_(None),
            sa.or_(
                supplier_requests.c.review.is_(None),
                supplier_requests.c.review != ACCEPTED,
            ),
        )
        .order_by(supplier_requests.c.due_date)
    )
    with engine.connect() as conn:
        return [_terms(row) for row in conn.execute(query)]


def mark_reminded(
    engine: sa.Engine, organization_id: str, request_event_id: str, now: datetime
) -> bool:
    """Record the reminder of a request; False when another run recorded it first."""
    with engine.begin() as conn:
        return bool(
            conn.execute(
                supplier_requests.update()
                .where(
                    supplier_requests.c.organization_id == organization_id,
                    supplier_requests.c.request_event_id == request_event_id,
                    supplier_requests.c.reminded_at.is_(None),
                )
                .values(reminded_at=now)
            ).rowcount
        )
