"""Alert notifications: signed webhooks and e-mail.

A webhook body is the alert as JSON; the receiver checks it with the shared secret:
``X-Carbonlink-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``.
Signing the timestamp with the body lets a receiver refuse replays of old deliveries (the same
construction as Stripe's and Slack's webhook signatures).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import time
from dataclasses import asdict, dataclass
from email.message import EmailMessage

import httpx

from carbonlink.errors import CarbonlinkError
from carbonlink.monitor.rules import AlertEvent

SIGNATURE_HEADER = "X-Carbonlink-Signature"


class NotificationError(CarbonlinkError, ConnectionError):
    """A notification could not be delivered."""


def alert_payload(event: AlertEvent) -> bytes:
    """The JSON body of a webhook delivery."""
    body = asdict(event)
    body["ts"] = str(event.ts)
    body["value"] = None if event.value != event.value else event.value  # NaN → null
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_signature(
    secret: bytes, body: bytes, header: str, *, tolerance_s: int = 300, now: int | None = None
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and is not older than the tolerance."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (ValueError, KeyError):
        return False
    current = int(time.time()) if now is None else now
    if abs(current - timestamp) > tolerance_s:
        return False
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)


@dataclass(frozen=True)
class Webhook:
    url: str
    secret: bytes
    timeout_s: float = 5.0

    def send(self, event: AlertEvent, client: httpx.Client | None = None) -> None:
        body = alert_payload(event)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body, int(time.time())),
        }
        try:
            if client is None:
                with httpx.Client(timeout=self.timeout_s) as own:
                    response = own.post(self.url, content=body, headers=headers)
            else:
                response = client.post(self.url, content=body, headers=headers)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise NotificationError(
                f"webhook delivery to {self.url} failed: {exc}",
                record=event.rule_id,
                hint="check that the receiver is up; the alert stays open and is retried",
            ) from exc


@dataclass(frozen=True)
class EmailChannel:
    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    def send(self, event: AlertEvent) -> None:
        message = EmailMessage()
        status = "告警 Alert" if event.action == "opened" else "恢复 Cleared"
        message["Subject"] = f"[carbonlink] {status} {event.severity}: {event.message}"
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(
            f"{event.message}\nrule: {event.rule_id}\nmeter: {event.meter_id}\n"
            f"time (UTC): {event.ts}\nvalue: {event.value}\n"
        )
        try:
            with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.username and self.password:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as exc:
            raise NotificationError(
                f"e-mail via {self.host}:{self.port} failed: {exc}",
                record=event.rule_id,
                hint="check the SMTP settings",
            ) from exc
