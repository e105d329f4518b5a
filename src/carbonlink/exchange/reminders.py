"""Reminders to portal suppliers of requests due soon: found, recorded once, sent by e-mail.

A request is reminded when its due date is within the given number of days (or has passed), it
is still waiting for an answer or was returned for revision, and it has not been reminded
before. The reminder is recorded first, so two runs at once never remind twice; it is then sent
to the address the supplier was invited at, through ``send`` (no ``send``: recorded only, and
shown to the lead and the supplier on their pages).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import sqlalchemy as sa

from carbonlink.exchange.portal import requests_for_supplier
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.monitor.notify import NotificationError
from carbonlink.store.accounts_schema import supplier_invitations
from carbonlink.store.supplier_requests import RETURNED, RequestTerms, due_soon, mark_reminded

__all__ = ["Reminder", "remind_due_requests"]

Send = Callable[[str, str, str], None]
"""Send a message: (recipient address, subject, body)."""


@dataclass(frozen=True, slots=True)
class Reminder:
    """A reminder recorded for a request, and whether it was sent (or why not)."""

    organization_id: str
    request_event_id: str
    supplier: str
    email: str | None
    due_date: date
    sent: bool
    error: str | None = None


def _email(engine: sa.Engine, terms: RequestTerms) -> str | None:
    query = (
        sa.select(supplier_invitations.c.email)
        .where(
            supplier_invitations.c.organization_id == terms.organization_id,
            supplier_invitations.c.partner_id == terms.partner_id,
        )
        .order_by(supplier_invitations.c.created_at.desc())
    )
    with engine.connect() as conn:
        return conn.execute(query).scalars().first()


def _message(terms: RequestTerms, supplier: str, url: str) -> tuple[str, str]:
    link = f"{url}/portal/requests/{terms.request_event_id}"
    subject = f"[carbonlink] 碳足迹请求将于 {terms.due_date} 到期 / footprint request due"
    body = (
        f"{supplier}：您的客户请求的产品碳足迹（{terms.period_start} 至 {terms.period_end}）"
        f"将于 {terms.due_date} 到期，请登录供应商门户提交：\n{link}\n\n"
        f"{supplier}: the product carbon footprint your customer asked for "
        f"({terms.period_start} to {terms.period_end}) is due on {terms.due_date}. "
        f"Answer it in the supplier portal:\n{link}\n"
    )
    return subject, body


def remind_due_requests(
    engine: sa.Engine,
    *,
    today: date,
    within_days: int,
    service_url: str,
    send: Send | None = None,
    now: datetime | None = None,
) -> list[Reminder]:
    """Remind, once each, the suppliers whose requests are due within ``within_days``."""
    out: list[Reminder] = []
    for terms in due_soon(engine, today, within_days):
        repository = ExchangeRepository(engine, organization_id=terms.organization_id)
        request = next(
            (
                r
                for r in requests_for_supplier(repository, terms.partner_id, open_only=False)
                if r.event_id == terms.request_event_id
            ),
            None,
        )
        if request is None:
            continue
        if request.status == "fulfilled" and terms.review != RETURNED:
            continue  # answered and waiting for the lead's review
        if not mark_reminded(
            engine, terms.organization_id, terms.request_event_id, now or datetime.now(UTC)
        ):
            continue
        partner = repository.partner(terms.partner_id)
        supplier = partner.name if partner else terms.partner_id
        email = _email(engine, terms)
        sent, error = False, None
        if send is not None and email:
            subject, body = _message(terms, supplier, service_url)
            try:
                send(email, subject, body)
                sent = True
            except NotificationError as exc:
                error = str(exc)
        out.append(
            Reminder(
                terms.organization_id,
                terms.request_event_id,
                supplier,
                email,
                terms.due_date,
                sent,
                error,
            )
        )
    return out
