"""Alerts and where they are sent, under /api/v1: notification channels, acknowledgement.

A channel is a webhook, whose body the receiver checks with the shared key (the
``X-Carbonlink-Signature`` of `carbonlink.monitor.notify`), or e-mail through an SMTP server.
Secrets are written, never read back: a channel answers with ``has_secret`` only. They are
stored sealed under the service's key (`carbonlink.store.sealing`); when that key was changed,
a channel says ``secret_unreadable`` and its test delivery answers 422 asking for the secret
again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Path, Query, Response
from pydantic import Field, HttpUrl, model_validator

from carbonlink.api import security
from carbonlink.api.deps import Context, Reader, ServiceContext, Writer
from carbonlink.api.notifications import deliver
from carbonlink.api.problems import problem_responses
from carbonlink.api.routes.v1 import PREFIX, READ, WRITE, ApiModel, not_found
from carbonlink.errors import InputError
from carbonlink.monitor.rules import AlertEvent
from carbonlink.store import operations, results

router = APIRouter(prefix=PREFIX)
ChannelId = Annotated[str, Path(min_length=1, max_length=32, pattern=r"^[0-9a-f]+$")]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, examples=[17])]
Email = Annotated[str, Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")]


class ChannelIn(ApiModel):
    """A notification channel: ``webhook`` (url + HMAC key) or ``email`` (SMTP settings)."""

    name: str = Field(min_length=1, max_length=200, examples=["Control room"])
    kind: Literal["webhook", "email"] = Field(examples=["webhook"])
    url: HttpUrl | None = Field(default=None, examples=["https://ops.example.com/carbonlink"])
    smtp_host: str | None = Field(default=None, max_length=253, examples=["smtp.example.com"])
    smtp_port: int | None = Field(default=None, ge=1, le=65535, examples=[587])
    sender: Email | None = Field(default=None, examples=["alerts@example.com"])
    recipients: list[Email] = Field(default=[], max_length=50, examples=[["ops@example.com"]])
    username: str | None = Field(default=None, max_length=254, examples=[None])
    starttls: bool = Field(default=True, examples=[True])
    secret: str | None = Field(
        default=None,
        examples=["a-long-random-signing-key"],
        min_length=16,
        max_length=200,
        description="webhook: the HMAC-SHA256 key (16+ characters); e-mail: the SMTP password. "
        "Left out on an edit, the stored one is kept.",
    )
    min_severity: Literal["info", "warning", "critical"] = Field(
        default="warning", examples=["warning"]
    )
    enabled: bool = Field(default=True, examples=[True])

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> ChannelIn:
        if self.kind == "webhook" and self.url is None:
            raise ValueError("a webhook channel needs 'url'")
        if self.kind == "email" and not (self.smtp_host and self.sender and self.recipients):
            raise ValueError("an e-mail channel needs 'smtp_host', 'sender' and 'recipients'")
        return self

    def config(self) -> dict[str, Any]:
        if self.kind == "webhook":
            return {"url": str(self.url)}
        return {
            "smtp_host": self.smtp_host,
            "smtp_port": self.smtp_port or (587 if self.starttls else 25),
            "sender": self.sender,
            "recipients": list(self.recipients),
            "username": self.username,
            "starttls": self.starttls,
        }


class ChannelOut(ApiModel):
    id: str = Field(examples=["0f3a9c1e2b3d4c5e6f708192a3b4c5d6"])
    name: str = Field(examples=["Control room"])
    kind: str = Field(examples=["webhook"])
    config: dict[str, Any] = Field(examples=[{"url": "https://ops.example.com/carbonlink"}])
    has_secret: bool = Field(examples=[True], description="a signing key or password is set")
    secret_unreadable: bool = Field(
        default=False,
        examples=[False],
        description="the stored key or password no longer opens with the service's secret key "
        "(it was changed): enter it again",
    )
    min_severity: str = Field(examples=["warning"])
    enabled: bool = Field(examples=[True])
    updated_at: datetime = Field(examples=["2026-12-07T08:00:00Z"])
    updated_by: str = Field(examples=["Li Wei"])


def _out(channel: operations.AlertChannel) -> ChannelOut:
    return ChannelOut(
        id=channel.id,
        name=channel.name,
        kind=channel.kind,
        config=channel.config,
        has_secret=channel.has_secret,
        secret_unreadable=channel.secret_unreadable,
        min_severity=channel.min_severity,
        enabled=channel.enabled,
        updated_at=channel.updated_at,
        updated_by=channel.updated_by,
    )


@router.get("/alert-channels", response_model=list[ChannelOut], responses=READ, tags=["monitoring"])
def list_channels(caller: Reader, ctx: Context) -> list[ChannelOut]:
    """Where the organization's alerts are sent."""
    channels = operations.alert_channels_of(
        ctx.engine, caller.organization_id, key=ctx.settings.key_bytes
    )
    return [_out(c) for c in channels]


def _save(
    ctx: ServiceContext, caller: security.Principal, channel_id: str | None, body: ChannelIn
) -> ChannelOut:
    if body.kind == "webhook" and body.secret is None and channel_id is None:
        raise InputError(
            "a webhook channel needs a signing key",
            record=body.name,
            hint="give 'secret' (16 characters or more) and share it with the receiver",
        )
    saved = operations.save_alert_channel(
        ctx.engine,
        caller.organization_id,
        channel_id,
        name=body.name,
        kind=body.kind,
        config=body.config(),
        secret=body.secret,
        min_severity=body.min_severity,
        enabled=body.enabled,
        who=caller.display_name,
        key=ctx.settings.key_bytes,
    )
    if saved is None:
        raise not_found("alert-channel", channel_id or "")
    return _out(saved)


@router.post(
    "/alert-channels",
    response_model=ChannelOut,
    status_code=201,
    responses=WRITE,
    tags=["monitoring"],
)
def create_channel(body: ChannelIn, caller: Writer, ctx: Context) -> ChannelOut:
    """Add a notification channel: a signed webhook or an e-mail through SMTP."""
    return _save(ctx, caller, None, body)


@router.put(
    "/alert-channels/{channel_id}", response_model=ChannelOut, responses=WRITE, tags=["monitoring"]
)
def replace_channel(
    channel_id: ChannelId, body: ChannelIn, caller: Writer, ctx: Context
) -> ChannelOut:
    """Change a channel; a left-out ``secret`` keeps the stored one."""
    return _save(ctx, caller, channel_id, body)


@router.delete(
    "/alert-channels/{channel_id}", status_code=204, responses=WRITE, tags=["monitoring"]
)
def delete_channel(channel_id: ChannelId, caller: Writer, ctx: Context) -> Response:
    """Stop sending alerts to this channel."""
    if not operations.delete_alert_channel(ctx.engine, caller.organization_id, channel_id):
        raise not_found("alert-channel", channel_id)
    return Response(status_code=204)


@router.post(
    "/alert-channels/{channel_id}/test",
    status_code=204,
    responses=problem_responses(401, 403, 404, 422, 502),
    tags=["monitoring"],
)
def test_channel(channel_id: ChannelId, caller: Writer, ctx: Context) -> Response:
    """Send a test alert through the channel now; 502 names what failed, 422 a stored secret
    that has to be entered again."""
    org = caller.organization_id
    found = [c for c in operations.alert_channels_of(ctx.engine, org) if c.id == channel_id]
    if not found:
        raise not_found("alert-channel", channel_id)
    deliver(ctx.engine, org, found[0], test_event(found[0].name), key=ctx.settings.key_bytes)
    return Response(status_code=204)


def test_event(name: str) -> AlertEvent:
    """The alert a test delivery sends: a made-up rule on a made-up meter, said to be a test."""
    now = np.datetime64(datetime.now().replace(microsecond=0), "s")
    message = f"test of the channel {name}: no meter is concerned"
    return AlertEvent("channel-test", "-", "opened", now, float("nan"), "info", message)


# alerts ----------------------------------------------------------------------------------------
class AcknowledgeIn(ApiModel):
    comment: str = Field(min_length=1, max_length=2000, pattern=r"\S", examples=["Valve closed"])
    assignee: str | None = Field(
        default=None,
        max_length=32,
        examples=["5f0c9a1e2b3d4c5e6f708192a3b4c5d6"],
        description="id of a user of the organization who follows the alert up",
    )


class AlertNoteOut(ApiModel):
    action: str = Field(examples=["acknowledged"])
    comment: str = Field(examples=["Valve closed, gas flow back to normal"])
    assignee: str | None = Field(examples=["5f0c9a1e2b3d4c5e6f708192a3b4c5d6"])
    author: str = Field(examples=["Li Wei"])
    created_at: datetime = Field(examples=["2026-12-07T08:15:00Z"])


class AlertOut(ApiModel):
    id: int = Field(examples=[17])
    rule_id: str = Field(examples=["gas-above-500"])
    meter_id: str = Field(examples=["mtr-0a1b2c3d4e5f"])
    severity: str = Field(examples=["warning"])
    status: Literal["open", "acknowledged", "closed"] = Field(examples=["acknowledged"])
    message: str = Field(examples=["mtr-0a1b2c3d4e5f: value 612 outside [None, 500.0]"])
    value: float | None = Field(examples=[612.0])
    opened_at: datetime = Field(examples=["2026-12-07T07:00:00Z"])
    acknowledged_at: datetime | None = Field(examples=["2026-12-07T08:15:00Z"])
    acknowledged_by: str | None = Field(examples=["Li Wei"])
    closed_at: datetime | None = Field(examples=[None])
    notes: list[AlertNoteOut] = Field(description="acknowledgements, oldest first")


def alert_out(ctx: ServiceContext, organization_id: str, alert: results.Alert) -> AlertOut:
    notes = operations.alert_notes_of(ctx.engine, organization_id, alert.id)
    return AlertOut(
        id=alert.id,
        rule_id=alert.rule_id,
        meter_id=alert.meter_id,
        severity=alert.severity,
        status=alert.status,  # type: ignore[arg-type]
        message=alert.message,
        value=None if alert.value is None or alert.value != alert.value else alert.value,
        opened_at=alert.opened_at,
        acknowledged_at=alert.acknowledged_at,
        acknowledged_by=alert.acknowledged_by,
        closed_at=alert.closed_at,
        notes=[_note(n) for n in notes],
    )


def _note(note: operations.AlertNote) -> AlertNoteOut:
    return AlertNoteOut(
        action=note.action,
        comment=note.comment,
        assignee=note.assignee,
        author=note.author,
        created_at=note.created_at,
    )


@router.get("/alerts", response_model=list[AlertOut], responses=READ, tags=["monitoring"])
def list_alerts(
    caller: Reader,
    ctx: Context,
    status: Annotated[Literal["open", "acknowledged", "closed"] | None, Query()] = None,
) -> list[AlertOut]:
    """The organization's alerts, newest first, each with its history of notes."""
    found = results.alerts_of(ctx.engine, caller.organization_id)
    return [
        alert_out(ctx, caller.organization_id, a)
        for a in found
        if status is None or a.status == status
    ]


@router.post(
    "/alerts/{alert_id}/acknowledge",
    response_model=AlertOut,
    responses=WRITE,
    tags=["monitoring"],
)
def acknowledge(alert_id: AlertId, body: AcknowledgeIn, caller: Writer, ctx: Context) -> AlertOut:
    """Acknowledge an open alert with a comment and, optionally, the user who follows it up."""
    org = caller.organization_id
    if body.assignee and security.organization_user(ctx.engine, org, body.assignee) is None:
        raise InputError(
            f"no user {body.assignee!r} in your organization",
            record=str(alert_id),
            hint="choose the assignee among the organization's users",
        )
    done = operations.acknowledge_with_note(
        ctx.engine,
        org,
        alert_id,
        comment=body.comment.strip(),
        assignee=body.assignee or None,
        author=caller.display_name,
    )
    if not done:
        raise not_found("open alert", str(alert_id))
    [alert] = [a for a in results.alerts_of(ctx.engine, org) if a.id == alert_id]
    return alert_out(ctx, org, alert)
