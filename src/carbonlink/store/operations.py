"""What people set and do in the web app: alert channels and notes, targets, report jobs.

The tables come with the revision ``0016_app_operations``. Every function takes the caller's
organization and touches only its rows: a record of another organization is "not found".
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from carbonlink.store.results_schema import (
    alert_channels,
    alert_notes,
    alerts,
    emission_targets,
    report_jobs,
)
from carbonlink.store.schema import documents
from carbonlink.store.sealing import SEALED_PREFIX, Opened, SecretSeal, UnreadableSecretError

SEVERITIES = ("info", "warning", "critical")


# notification channels -------------------------------------------------------------------------
CHANNEL_RECORD = "alert-channel"
"""The record kind a channel's secret is sealed for (part of its associated data)."""


@dataclass(frozen=True, slots=True)
class AlertChannel:
    """Where alerts go: a webhook signed with ``secret``, or e-mail through an SMTP server.

    ``secret_unreadable`` is True when a secret is stored but does not open with the service's
    key (the key was changed): it has to be entered again. It is only checked when the
    channels are read with the key.
    """

    id: str
    name: str
    kind: str
    config: dict[str, Any]
    has_secret: bool
    min_severity: str
    enabled: bool
    updated_at: datetime
    updated_by: str
    secret_unreadable: bool = False


def _channel(row: sa.Row[Any], seal: SecretSeal | None = None) -> AlertChannel:
    unreadable = False
    if seal is not None and row.secret:
        try:
            _open(seal, row)
        except UnreadableSecretError:
            unreadable = True
    return AlertChannel(
        row.id,
        row.name,
        row.kind,
        json.loads(row.config),
        bool(row.secret),
        row.min_severity,
        bool(row.enabled),
        row.updated_at,
        row.updated_by,
        unreadable,
    )


def _open(seal: SecretSeal, row: sa.Row[Any]) -> Opened:
    return seal.open(
        row.secret,
        kind=CHANNEL_RECORD,
        organization_id=row.organization_id,
        record_id=row.id,
        name=row.name,
    )


def _seal(seal: SecretSeal, secret: str, organization_id: str, channel_id: str) -> str:
    return seal.seal(
        secret, kind=CHANNEL_RECORD, organization_id=organization_id, record_id=channel_id
    )


def alert_channels_of(
    engine: sa.Engine, organization_id: str, *, key: bytes | None = None
) -> list[AlertChannel]:
    """The organization's notification channels, by name; with the service ``key``, each
    says whether its stored secret still opens."""
    query = (
        sa.select(alert_channels)
        .where(alert_channels.c.organization_id == organization_id)
        .order_by(alert_channels.c.name, alert_channels.c.id)
    )
    seal = SecretSeal(key) if key is not None else None
    with engine.connect() as conn:
        return [_channel(row, seal) for row in conn.execute(query)]


def channel_secret(
    engine: sa.Engine, organization_id: str, channel_id: str, *, key: bytes
) -> str | None:
    """The channel's webhook key or SMTP password (for delivery only; never shown).

    A secret stored in plain text by a version before sealing is returned and sealed in its
    row on this first use (`seal_plain_channel_secrets` does the same for all at start-up).
    Raises `UnreadableSecretError` when the sealed secret does not open with ``key``.
    """
    query = sa.select(alert_channels).where(
        alert_channels.c.organization_id == organization_id, alert_channels.c.id == channel_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None or not row.secret:
        return None
    seal = SecretSeal(key)
    opened = _open(seal, row)
    if opened.was_plain:
        _reseal(engine, seal, row)
    return opened.secret


def _reseal(engine: sa.Engine, seal: SecretSeal, row: sa.Row[Any]) -> bool:
    """Seal a plain secret in its row, unless the row changed meanwhile."""
    with engine.begin() as conn:
        done = conn.execute(
            alert_channels.update()
            .where(alert_channels.c.id == row.id, alert_channels.c.secret == row.secret)
            .values(secret=_seal(seal, row.secret, row.organization_id, row.id))
        )
    return bool(done.rowcount)


def seal_plain_channel_secrets(engine: sa.Engine, key: bytes) -> int:
    """Seal every channel secret still stored in plain text; return how many were sealed.

    The migration that brought sealing cannot do this (the service key is not known when the
    database is migrated), so the service does it when it starts, and `channel_secret` on
    first use for a row written by an older service meanwhile.
    """
    query = sa.select(alert_channels).where(
        alert_channels.c.secret.is_not(None),
        alert_channels.c.secret != "",
        alert_channels.c.secret.not_like(SEALED_PREFIX + "%"),
    )
    with engine.connect() as conn:
        plain = list(conn.execute(query))
    seal = SecretSeal(key)
    return sum(_reseal(engine, seal, row) for row in plain)


def save_alert_channel(
    engine: sa.Engine,
    organization_id: str,
    channel_id: str | None,
    *,
    name: str,
    kind: str,
    config: dict[str, Any],
    secret: str | None,
    min_severity: str,
    enabled: bool,
    who: str,
    key: bytes,
) -> AlertChannel | None:
    """Create (``channel_id`` None) or replace a channel; None when the id is not the
    organization's. A ``secret`` of None keeps the stored one; a given one is stored sealed
    under the service ``key``."""
    values: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "config": json.dumps(config, sort_keys=True),
        "min_severity": min_severity,
        "enabled": enabled,
        "updated_at": datetime.now(UTC),
        "updated_by": who,
    }
    seal = SecretSeal(key)
    with engine.begin() as conn:
        if channel_id is None:
            channel_id = uuid.uuid4().hex
            if secret is not None:
                values["secret"] = _seal(seal, secret, organization_id, channel_id)
            conn.execute(
                alert_channels.insert().values(
                    id=channel_id, organization_id=organization_id, **values
                )
            )
        else:
            if secret is not None:
                values["secret"] = _seal(seal, secret, organization_id, channel_id)
            done = conn.execute(
                alert_channels.update()
                .where(
                    alert_channels.c.organization_id == organization_id,
                    alert_channels.c.id == channel_id,
                )
                .values(**values)
            )
            if done.rowcount != 1:
                return None
        row = conn.execute(sa.select(alert_channels).where(alert_channels.c.id == channel_id)).one()
    return _channel(row, seal)


def delete_alert_channel(engine: sa.Engine, organization_id: str, channel_id: str) -> bool:
    """Remove a channel of the organization; False when it has none with this id."""
    with engine.begin() as conn:
        done = conn.execute(
            alert_channels.delete().where(
                alert_channels.c.organization_id == organization_id,
                alert_channels.c.id == channel_id,
            )
        )
    return bool(done.rowcount)


# alert notes -----------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class AlertNote:
    """A step of an alert's history written by a person: an acknowledgement with a comment."""

    action: str
    comment: str
    assignee: str | None
    author: str
    created_at: datetime


def acknowledge_with_note(
    engine: sa.Engine,
    organization_id: str,
    alert_id: int,
    *,
    comment: str,
    assignee: str | None,
    author: str,
) -> bool:
    """Acknowledge an open alert with a comment and the user it is handed to, in one step;
    False when the organization has no open alert with this id."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        done = conn.execute(
            alerts.update()
            .where(
                alerts.c.id == alert_id,
                alerts.c.organization_id == organization_id,
                alerts.c.status == "open",
            )
            .values(status="acknowledged", acknowledged_at=now, acknowledged_by=author)
        )
        if done.rowcount != 1:
            return False
        conn.execute(
            alert_notes.insert().values(
                alert_id=alert_id,
                organization_id=organization_id,
                action="acknowledged",
                comment=comment,
                assignee=assignee,
                author=author,
                created_at=now,
            )
        )
    return True


def alert_notes_of(engine: sa.Engine, organization_id: str, alert_id: int) -> list[AlertNote]:
    """The notes of one alert of the organization, oldest first."""
    query = (
        sa.select(alert_notes)
        .where(alert_notes.c.organization_id == organization_id, alert_notes.c.alert_id == alert_id)
        .order_by(alert_notes.c.created_at, alert_notes.c.id)
    )
    with engine.connect() as conn:
        return [
            AlertNote(row.action, row.comment, row.assignee, row.author, row.created_at)
            for row in conn.execute(query)
        ]


def open_alert_count(engine: sa.Engine, organization_id: str) -> int:
    """How many of the organization's alerts are open (not yet acknowledged or closed)."""
    query = (
        sa.select(sa.func.count())
        .select_from(alerts)
        .where(alerts.c.organization_id == organization_id, alerts.c.status == "open")
    )
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())


# emission targets ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredTarget:
    """An emission target as declared: base, target year, cut, pathway and boundary."""

    id: str
    name: str
    base_year: int
    base_tco2e: float
    target_year: int
    reduction_pct: float
    pathway: str
    scopes: tuple[str, ...]
    boundary: str
    updated_at: datetime
    updated_by: str


def _target(row: sa.Row[Any]) -> StoredTarget:
    return StoredTarget(
        row.target_id,
        row.name,
        row.base_year,
        row.base_tco2e,
        row.target_year,
        row.reduction_pct,
        row.pathway,
        tuple(row.scopes.split("+")),
        row.boundary,
        row.updated_at,
        row.updated_by,
    )


def targets_of(engine: sa.Engine, organization_id: str) -> list[StoredTarget]:
    """The organization's declared targets, by target year then id."""
    query = (
        sa.select(emission_targets)
        .where(emission_targets.c.organization_id == organization_id)
        .order_by(emission_targets.c.target_year, emission_targets.c.target_id)
    )
    with engine.connect() as conn:
        return [_target(row) for row in conn.execute(query)]


def save_target(
    engine: sa.Engine, organization_id: str, target: StoredTarget, *, create: bool
) -> bool:
    """Create (``create``) or replace a target; False when it exists already (create) or is
    not the organization's (replace)."""
    values = {
        "name": target.name,
        "base_year": target.base_year,
        "base_tco2e": target.base_tco2e,
        "target_year": target.target_year,
        "reduction_pct": target.reduction_pct,
        "pathway": target.pathway,
        "scopes": "+".join(target.scopes),
        "boundary": target.boundary,
        "updated_at": target.updated_at,
        "updated_by": target.updated_by,
    }
    key = (
        emission_targets.c.organization_id == organization_id,
        emission_targets.c.target_id == target.id,
    )
    with engine.begin() as conn:
        exists = conn.execute(sa.select(emission_targets.c.target_id).where(*key)).first()
        if create:
            if exists:
                return False
            conn.execute(
                emission_targets.insert().values(
                    organization_id=organization_id, target_id=target.id, **values
                )
            )
            return True
        if not exists:
            return False
        conn.execute(emission_targets.update().where(*key).values(**values))
    return True


def delete_target(engine: sa.Engine, organization_id: str, target_id: str) -> bool:
    """Remove a target of the organization; False when it has none with this id."""
    with engine.begin() as conn:
        done = conn.execute(
            emission_targets.delete().where(
                emission_targets.c.organization_id == organization_id,
                emission_targets.c.target_id == target_id,
            )
        )
    return bool(done.rowcount)


# reports generated on demand -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ReportJob:
    """A report asked for in the app, generated in the background."""

    id: str
    report: str
    period: str
    format: str
    status: str
    progress: int
    step: str | None
    error: str | None
    file: str | None
    receipt: str | None
    ledger_index: int | None
    created_by: str
    created_at: datetime
    finished_at: datetime | None


STALE_JOB = timedelta(minutes=10)
"""A queued or running job that has recorded no progress for this long has stopped: every step
of a report records its progress within seconds, so only a stopped service leaves one so."""


def _job(row: sa.Row[Any]) -> ReportJob:
    if row.status in ("queued", "running"):
        last = row.updated_at or row.created_at
        if datetime.now(UTC) - last > STALE_JOB:
            return ReportJob(
                row.id, row.report, row.period, row.format, "failed", row.progress, row.step,
                "interrupted: the service stopped while the job ran; generate the report again",
                None, None, None, row.created_by, row.created_at, last,
            )  # fmt: skip
    return ReportJob(
        row.id,
        row.report,
        row.period,
        row.format,
        row.status,
        row.progress,
        row.step,
        row.error,
        row.file,
        row.receipt,
        row.ledger_index,
        row.created_by,
        row.created_at,
        row.finished_at,
    )


def create_report_job(
    engine: sa.Engine, organization_id: str, *, report: str, period: str, fmt: str, who: str
) -> ReportJob:
    """Queue a report job of the organization; return it."""
    job_id = uuid.uuid4().hex
    with engine.begin() as conn:
        conn.execute(
            report_jobs.insert().values(
                id=job_id,
                organization_id=organization_id,
                report=report,
                period=period,
                format=fmt,
                status="queued",
                progress=0,
                created_by=who,
                created_at=datetime.now(UTC),
                updated_at=datetime.now(UTC),
            )
        )
        row = conn.execute(sa.select(report_jobs).where(report_jobs.c.id == job_id)).one()
    return _job(row)


def update_report_job(engine: sa.Engine, job_id: str, **values: Any) -> None:
    """Record a job's progress, step, result or error (``finished_at`` set when it ends)."""
    values["updated_at"] = datetime.now(UTC)
    if values.get("status") in ("done", "failed"):
        values["finished_at"] = values["updated_at"]
    with engine.begin() as conn:
        conn.execute(report_jobs.update().where(report_jobs.c.id == job_id).values(**values))


def report_jobs_of(engine: sa.Engine, organization_id: str, limit: int = 100) -> list[ReportJob]:
    """The organization's report jobs, newest first."""
    query = (
        sa.select(report_jobs)
        .where(report_jobs.c.organization_id == organization_id)
        .order_by(report_jobs.c.created_at.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [_job(row) for row in conn.execute(query)]


def report_job(engine: sa.Engine, organization_id: str, job_id: str) -> ReportJob | None:
    """One report job of the organization, or None."""
    query = sa.select(report_jobs).where(
        report_jobs.c.organization_id == organization_id, report_jobs.c.id == job_id
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    return _job(row) if row else None


def kept_inventories(engine: sa.Engine) -> list[tuple[str, bytes]]:
    """(file name, body) of every inventory file the store keeps (YAML), newest first."""
    return kept_documents(engine, "application/yaml")


def kept_documents(engine: sa.Engine, media_type: str) -> list[tuple[str, bytes]]:
    """(file name, body) of every kept input file of one media type, newest first."""
    query = (
        sa.select(documents.c.name, documents.c.body)
        .where(documents.c.media_type == media_type)
        .order_by(documents.c.stored_at.desc())
    )
    with engine.connect() as conn:
        return [(row.name, bytes(row.body)) for row in conn.execute(query)]
