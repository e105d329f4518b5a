"""Reminders to portal suppliers, sent by the service itself in the background.

Every ``reminder_interval_s`` seconds, from start-up on, the service looks for requests due
within ``reminder_days`` days and reminds each supplier once
(`carbonlink.exchange.reminders.remind_due_requests`): the reminder is recorded before it is
sent, so several workers of one service, or a cron job running `carbonlink suppliers remind`
beside them, never remind twice. A round that fails is logged and the next one tries again.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date

import sqlalchemy as sa
from fastapi import FastAPI

from carbonlink.api.lifespan import with_task
from carbonlink.settings import Settings

log = logging.getLogger("carbonlink.api")


def remind_once(settings: Settings, engine: sa.Engine) -> int:
    """One round of reminders; the number recorded."""
    from carbonlink.commands.suppliers import smtp_send
    from carbonlink.exchange.reminders import remind_due_requests

    reminders = remind_due_requests(
        engine,
        today=date.today(),
        within_days=settings.reminder_days,
        service_url=settings.service_url,
        send=smtp_send(settings) if settings.smtp_host else None,
    )
    for r in reminders:
        if r.error:
            log.warning("reminder of request %s not sent: %s", r.request_event_id, r.error)
    return len(reminders)


async def run_reminders(settings: Settings, engine: sa.Engine) -> None:
    """Remind, then wait the interval, until cancelled."""
    while True:
        try:
            await asyncio.to_thread(remind_once, settings, engine)
        except Exception:  # the service goes on; the next round tries again
            log.exception("a round of supplier reminders failed")
        await asyncio.sleep(settings.reminder_interval_s)


def install_reminders(app: FastAPI, settings: Settings, engine: sa.Engine) -> None:
    """Run the reminder rounds for as long as the service runs (none when the interval is 0)."""
    if settings.reminder_interval_s <= 0:
        return
    app.router.lifespan_context = with_task(
        app.router.lifespan_context, lambda: run_reminders(settings, engine)
    )
