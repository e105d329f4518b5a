"""Alerts sent to the organization's notification channels as they open.

Delivery runs in a thread of its own, so that a slow webhook or SMTP server never holds up the
readings that raised the alert; a failed delivery is logged with the channel and the reason
(the alert itself is stored and shown whatever happens to its notification).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import sqlalchemy as sa

from carbonlink.monitor.notify import EmailChannel, NotificationError, Webhook
from carbonlink.monitor.rules import AlertEvent
from carbonlink.store import operations
from carbonlink.store.sealing import UnreadableSecretError

log = logging.getLogger("carbonlink.api")
SEVERITY_RANK = {"info": 0, "warning": 1, "critical": 2}


def deliver(
    engine: sa.Engine,
    organization_id: str,
    channel: operations.AlertChannel,
    event: AlertEvent,
    *,
    key: bytes,
) -> None:
    """Send one alert through one channel (NotificationError when it fails).

    The channel's secret is opened with the service ``key``; `UnreadableSecretError` when it
    no longer opens (the key was changed), naming the channel.
    """
    secret = operations.channel_secret(engine, organization_id, channel.id, key=key) or ""
    config = channel.config
    if channel.kind == "webhook":
        Webhook(config["url"], secret.encode()).send(event)
        return
    EmailChannel(
        host=config["smtp_host"],
        port=int(config["smtp_port"]),
        sender=config["sender"],
        recipients=tuple(config["recipients"]),
        username=config.get("username"),
        password=secret or None,
        starttls=bool(config.get("starttls")),
    ).send(event)


def notify(
    engine: sa.Engine, organization_id: str, events: Sequence[AlertEvent], *, key: bytes
) -> threading.Thread | None:
    """Send newly opened alerts to every enabled channel whose severity floor they reach;
    return the delivering thread (None when there is nothing to send)."""
    channels = [c for c in operations.alert_channels_of(engine, organization_id) if c.enabled]
    wanted = [
        (channel, event)
        for event in events
        for channel in channels
        if SEVERITY_RANK.get(event.severity, 1) >= SEVERITY_RANK.get(channel.min_severity, 1)
    ]
    if not wanted:
        return None
    thread = threading.Thread(
        target=_send_all,
        args=(engine, organization_id, wanted, key),
        name="alert-notify",
        daemon=True,
    )
    thread.start()
    return thread


def _send_all(
    engine: sa.Engine,
    organization_id: str,
    wanted: list[tuple[operations.AlertChannel, AlertEvent]],
    key: bytes,
) -> None:
    for channel, event in wanted:
        try:
            deliver(engine, organization_id, channel, event, key=key)
        except (NotificationError, UnreadableSecretError) as exc:
            log.warning("alert %s not sent to channel %r: %s", event.rule_id, channel.name, exc)
