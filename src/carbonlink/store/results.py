"""Computed results in the database: inventory runs with lineage lines, and monitoring alerts.

The dashboard reads emissions from here, never from readings times a factor of its own: a run
is saved exactly as the accounting engine computed it (`carbonlink.domain.engine.Computation`),
line by line with the activity and the factor behind each figure. Alerts are the rule engine's
events (`carbonlink.monitor.rules.AlertEvent`) folded into one row per open condition.
Every read takes the caller's organization id and filters on it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import numpy as np
import sqlalchemy as sa

from carbonlink.domain import metering
from carbonlink.domain.inventory import Inventory
from carbonlink.monitor.plan import MonitoringPlan
from carbonlink.monitor.rules import AlertEvent, AlertRule
from carbonlink.store import schema as t
from carbonlink.store.repository import Store
from carbonlink.store.results_schema import (
    alert_rules,
    alerts,
    inventories,
    inventory_lines,
    monitoring_plans,
    monitoring_reports,
)


class Formatter(Protocol):
    """What an alert's message needs of a language: a translation and number formats."""

    def gettext(self, message: str) -> str: ...
    def factor(self, value: float) -> str: ...
    def number(self, value: float, digits: int = ...) -> str: ...


@dataclass(frozen=True, slots=True)
class InventoryRun:
    """One saved computation of an organization's inventory."""

    id: str
    organization_id: str
    title: str
    period_start: str
    period_end: str
    gwp_set: str
    settings_hash: str
    totals: dict[str, float]
    created_at: datetime

    @property
    def year_label(self) -> str:
        """The period as a year when it is one calendar year, else start–end."""
        one_year = self.period_start[:4] == self.period_end[:4]
        if one_year and self.period_start[5:] == "01-01" and self.period_end[5:] == "12-31":
            return self.period_start[:4]
        return f"{self.period_start} – {self.period_end}"


def settings_hash(inventory: Inventory) -> str:
    """sha256 of the inventory input as canonical JSON: equal inputs give equal hashes."""
    canonical = json.dumps(inventory.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def source_key(facility: str, source: str) -> str:
    """Store id of an inventory source: source ids repeat across facilities (grid-power)."""
    return f"{facility}:{source}"


def save_inventory(
    engine: sa.Engine, organization_id: str, document: dict[str, Any], input_hash: str
) -> InventoryRun:
    """Save a computation (``Computation.to_dict()``) as a new run with all its lines."""
    run = InventoryRun(
        id=uuid.uuid4().hex,
        organization_id=organization_id,
        title=str(document["organization"]),
        period_start=str(document["period"]["start"]),
        period_end=str(document["period"]["end"]),
        gwp_set=str(document["gwp"]),
        settings_hash=input_hash,
        totals={k: float(v) for k, v in document["totals"].items()},
        created_at=datetime.now(UTC),
    )
    rows = []
    for number, line in enumerate(document["lines"], start=1):
        activity = line.get("activity") or {}
        factor = line.get("factor") or {}
        rows.append(
            {
                "inventory_id": run.id,
                "line_no": number,
                "facility": line["facility"],
                "source": line["source"],
                "scope": str(line["scope"]),
                "gas": str(line.get("gas") or ""),
                "method": line.get("method"),
                "tco2e": float(line["tco2e"]),
                "activity_id": activity.get("id"),
                "activity_quantity": activity.get("quantity"),
                "activity_unit": activity.get("unit"),
                "factor_id": factor.get("id"),
                "factor_version": None if factor.get("version") is None else str(factor["version"]),
                "factor_value": factor.get("value"),
                "factor_unit": factor.get("unit"),
                "factor_source": factor.get("source"),
                "lineage": json.dumps(line, ensure_ascii=False, default=str),
            }
        )
    with engine.begin() as conn:
        conn.execute(
            inventories.insert().values(
                id=run.id,
                organization_id=organization_id,
                title=run.title,
                period_start=run.period_start,
                period_end=run.period_end,
                gwp_set=run.gwp_set,
                settings_hash=input_hash,
                totals=json.dumps(run.totals),
                created_at=run.created_at,
            )
        )
        if rows:
            conn.execute(inventory_lines.insert(), rows)
    return run


def _run(row: sa.Row[Any]) -> InventoryRun:
    return InventoryRun(
        row.id,
        row.organization_id,
        row.title,
        row.period_start,
        row.period_end,
        row.gwp_set,
        row.settings_hash,
        json.loads(row.totals),
        row.created_at,
    )


def inventory_runs(engine: sa.Engine, organization_id: str) -> list[InventoryRun]:
    """The organization's runs, newest period first, newest computation first within it."""
    query = (
        sa.select(inventories)
        .where(inventories.c.organization_id == organization_id)
        .order_by(inventories.c.period_end.desc(), inventories.c.created_at.desc())
    )
    with engine.connect() as conn:
        return [_run(row) for row in conn.execute(query)]


def current_runs(engine: sa.Engine, organization_id: str) -> list[InventoryRun]:
    """The latest computation of each period and title (older recomputations hidden)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for run in inventory_runs(engine, organization_id):
        key = (run.title, run.period_start, run.period_end)
        if key not in seen:
            seen.add(key)
            out.append(run)
    return out


def inventory_lines_of(
    engine: sa.Engine, organization_id: str, inventory_id: str
) -> list[dict[str, Any]]:
    """The lineage lines of one run of the organization (empty for another's run)."""
    query = (
        sa.select(inventory_lines.c.lineage)
        .join(inventories, inventories.c.id == inventory_lines.c.inventory_id)
        .where(
            inventories.c.organization_id == organization_id,
            inventory_lines.c.inventory_id == inventory_id,
        )
        .order_by(inventory_lines.c.line_no)
    )
    with engine.connect() as conn:
        return [json.loads(row.lineage) for row in conn.execute(query)]


def register_inventory(
    store: Store, organization_id: str, organization_name: str, inventory: Inventory
) -> None:
    """Register the organization, facilities and sources an inventory names in the store.

    Metered sources link their meter to the facility and source, so the dashboard can go from
    an accounted line to the raw readings behind it.
    """
    store.save_organization(metering.Organization(organization_id, organization_name))
    for facility in inventory.facilities:
        store.save_facility(
            metering.Facility(
                facility.id,
                organization_id,
                facility.name or facility.id,
                facility.timezone,
                facility.grid or None,
            )
        )
        for source in facility.sources:
            key = source_key(facility.id, source.id)
            name = source.description or source.id
            store.save_source(metering.Source(key, facility.id, name, source.method))
            meter_id = source.activity.meter if source.activity else None
            if meter_id and store.meter(meter_id) is not None:
                with store.engine.begin() as conn:
                    conn.execute(
                        t.meters.update()
                        .where(t.meters.c.id == meter_id)
                        .values(facility_id=facility.id, source_id=key)
                    )


# alerts --------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: open while its condition holds, acknowledged by a person, closed when cleared."""

    id: int
    rule_id: str
    meter_id: str
    severity: str
    message: str
    status: str
    value: float | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    closed_at: datetime | None
    detail: dict[str, Any] | None = None

    def text(self, fmt: Formatter, meter_name: str | None = None, unit: str = "") -> str:
        """The message in the formatter's language, worded from the rule's kind and limits,
        readings and limits in the meter's ``unit``.

        An alert stored without them (raised before they were kept) keeps its stored message.
        """
        if not self.detail:
            return self.message
        return alert_message(self.detail, meter_name or self.meter_id, self.value, fmt, unit)


ALERT_MESSAGES = {
    "above": "%(meter)s: value %(value)s above the limit %(limit)s",
    "below": "%(meter)s: value %(value)s below the limit %(limit)s",
    "rate_of_change": "%(meter)s: changing faster than %(limit)s per hour",
    "above_baseline": "%(meter)s: value %(value)s above %(limit)s × the seasonal median",
    "meter_offline": "%(meter)s: no reading for more than %(limit)s hours",
}


def alert_detail(rule: AlertRule) -> dict[str, Any]:
    """What a message needs of a rule: its kind and limits (JSON-ready)."""
    return {
        "kind": rule.kind,
        "above": rule.above,
        "below": rule.below,
        "max_change_per_hour": rule.max_change_per_hour,
        "baseline_ratio": rule.baseline_ratio,
        "offline_after_s": rule.offline_after.total_seconds() if rule.offline_after else None,
    }


def alert_message(
    detail: Mapping[str, Any], meter: str, value: float | None, fmt: Formatter, unit: str = ""
) -> str:
    """An alert's message in the formatter's language, numbers in its locale's format and, when
    ``unit`` is given, readings and limits with the meter's unit."""
    kind = str(detail.get("kind"))
    per = f" {unit}" if unit else ""
    shown = fmt.factor(value) + per if value is not None else "–"
    if kind == "threshold":
        above = detail.get("above")
        if above is not None and (value is None or value > above or detail.get("below") is None):
            key, limit = "above", fmt.factor(above) + per
        else:
            key, limit = "below", fmt.factor(detail.get("below") or 0.0) + per
    elif kind == "rate_of_change":
        key, limit = kind, fmt.factor(detail.get("max_change_per_hour") or 0.0) + per
    elif kind == "above_baseline":
        key, limit = kind, fmt.factor(detail.get("baseline_ratio") or 0.0)
    elif kind == "meter_offline":
        key, limit = kind, fmt.number((detail.get("offline_after_s") or 0.0) / 3600, 1)
    else:
        return meter
    return fmt.gettext(ALERT_MESSAGES[key]) % {"meter": meter, "value": shown, "limit": limit}


def _instant(ts: np.datetime64) -> datetime:
    us = int(ts.astype("datetime64[us]").astype(np.int64))
    return t.from_epoch_us(us)


def record_alert_events(
    engine: sa.Engine,
    organization_id: str,
    events: Iterable[AlertEvent],
    rules: Mapping[str, AlertRule] | None = None,
) -> int:
    """Fold rule-engine events into the alerts table; return the number of alerts opened.

    An "opened" event for a condition that already has an open or acknowledged alert is the
    same alert (deduplicated); a "closed" event closes it. With the ``rules`` (by id) that
    raised the events, each alert keeps its rule's kind and limits, from which the pages word
    the message in the reader's language.
    """
    rules = rules or {}
    opened = 0
    with engine.begin() as conn:
        for event in events:
            live = sa.and_(
                alerts.c.organization_id == organization_id,
                alerts.c.rule_id == event.rule_id,
                alerts.c.meter_id == event.meter_id,
                alerts.c.status != "closed",
            )
            existing = conn.execute(sa.select(alerts.c.id).where(live)).first()
            if event.action == "opened":
                if existing is None:
                    conn.execute(
                        alerts.insert().values(
                            organization_id=organization_id,
                            rule_id=event.rule_id,
                            meter_id=event.meter_id,
                            severity=event.severity,
                            message=event.message,
                            status="open",
                            value=None if np.isnan(event.value) else float(event.value),
                            opened_at=_instant(event.ts),
                            detail=(
                                json.dumps(alert_detail(rules[event.rule_id]))
                                if event.rule_id in rules
                                else None
                            ),
                        )
                    )
                    opened += 1
            elif existing is not None:
                conn.execute(
                    alerts.update()
                    .where(alerts.c.id == existing.id)
                    .values(status="closed", closed_at=_instant(event.ts))
                )
    return opened


def record_meter_alert_events(
    engine: sa.Engine,
    events: Iterable[AlertEvent],
    rules: Mapping[str, AlertRule] | None = None,
) -> int:
    """Fold events into the alerts of the organization each meter belongs to (a collector's
    sink knows meters, not organizations); events of meters without a facility are dropped."""
    batch = list(events)
    meter_ids = sorted({e.meter_id for e in batch})
    query = (
        sa.select(t.meters.c.id, t.facilities.c.organization_id)
        .join(t.facilities, t.facilities.c.id == t.meters.c.facility_id)
        .where(t.meters.c.id.in_(meter_ids))
    )
    with engine.connect() as conn:
        owner = {row.id: row.organization_id for row in conn.execute(query)}
    opened = 0
    for organization_id in sorted(set(owner.values())):
        mine = [e for e in batch if owner.get(e.meter_id) == organization_id]
        opened += record_alert_events(engine, organization_id, mine, rules)
    return opened


def alerts_of(engine: sa.Engine, organization_id: str, limit: int = 500) -> list[Alert]:
    """The organization's alerts, newest first."""
    query = (
        sa.select(alerts)
        .where(alerts.c.organization_id == organization_id)
        .order_by(alerts.c.opened_at.desc(), alerts.c.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [
            Alert(
                row.id,
                row.rule_id,
                row.meter_id,
                row.severity,
                row.message,
                row.status,
                row.value,
                row.opened_at,
                row.acknowledged_at,
                row.acknowledged_by,
                row.closed_at,
                json.loads(row.detail) if row.detail else None,
            )
            for row in conn.execute(query)
        ]


def acknowledge_alert(engine: sa.Engine, organization_id: str, alert_id: int, who: str) -> bool:
    """Mark an open alert of the organization acknowledged; False when there is none such."""
    with engine.begin() as conn:
        done = conn.execute(
            alerts.update()
            .where(
                alerts.c.id == alert_id,
                alerts.c.organization_id == organization_id,
                alerts.c.status == "open",
            )
            .values(status="acknowledged", acknowledged_at=datetime.now(UTC), acknowledged_by=who)
        )
    return bool(done.rowcount)


def clear_alerts(engine: sa.Engine, organization_id: str) -> int:
    """Delete all alerts of the organization, whatever their state; return how many.

    For results computed again from scratch (the demo enterprise's alerts, raised anew each run
    from the same readings); a live organization's alerts are acknowledged and closed instead.
    """
    with engine.begin() as conn:
        done = conn.execute(alerts.delete().where(alerts.c.organization_id == organization_id))
    return int(done.rowcount or 0)


# alert rules checked on readings posted to the API ---------------------------------------------
def save_alert_rules(engine: sa.Engine, organization_id: str, rules: Sequence[AlertRule]) -> None:
    """Replace the organization's alert rules (validated by `monitor.rules.validate_rules`)."""
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(alert_rules.delete().where(alert_rules.c.organization_id == organization_id))
        if rules:
            conn.execute(
                alert_rules.insert(),
                [
                    {
                        "organization_id": organization_id,
                        "rule_id": rule.id,
                        "position": position,
                        "rule": rule.model_dump_json(exclude_none=True),
                        "updated_at": now,
                    }
                    for position, rule in enumerate(rules)
                ],
            )


def alert_rules_of(engine: sa.Engine, organization_id: str) -> list[AlertRule]:
    """The organization's alert rules, in the order they were saved."""
    query = (
        sa.select(alert_rules.c.rule)
        .where(alert_rules.c.organization_id == organization_id)
        .order_by(alert_rules.c.position)
    )
    with engine.connect() as conn:
        return [AlertRule.model_validate_json(rule) for rule in conn.scalars(query)]


# monitoring reports and written files ----------------------------------------------------------
def save_monitoring(
    engine: sa.Engine, organization_id: str, report: dict[str, Any], outputs: dict[str, str]
) -> None:
    """Save a monitoring report and the files written with it (label → absolute path)."""
    with engine.begin() as conn:
        conn.execute(
            monitoring_reports.insert().values(
                organization_id=organization_id,
                report=json.dumps(report, ensure_ascii=False, default=str),
                outputs=json.dumps(outputs, ensure_ascii=False),
                created_at=datetime.now(UTC),
            )
        )


def latest_monitoring(
    engine: sa.Engine, organization_id: str
) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The organization's newest monitoring report and its files, or None."""
    query = (
        sa.select(monitoring_reports)
        .where(monitoring_reports.c.organization_id == organization_id)
        .order_by(monitoring_reports.c.id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        return None
    return json.loads(row.report), json.loads(row.outputs)


# monitoring plans -------------------------------------------------------------------------------
@dataclass(frozen=True)
class StoredPlan:
    """One saved version of a facility's monitoring plan."""

    plan: MonitoringPlan
    content_hash: str
    created_at: datetime
    created_by: str


def save_plan(engine: sa.Engine, organization_id: str, plan: MonitoringPlan, who: str) -> bool:
    """Insert a plan version (rows are never updated); False when this exact plan is saved."""
    with engine.begin() as conn:
        exists = conn.execute(
            sa.select(monitoring_plans.c.id).where(
                monitoring_plans.c.organization_id == organization_id,
                monitoring_plans.c.content_hash == plan.content_hash,
            )
        ).first()
        if exists is not None:
            return False
        conn.execute(
            monitoring_plans.insert().values(
                organization_id=organization_id,
                facility_id=plan.facility_id,
                version=plan.version,
                content_hash=plan.content_hash,
                replaces=plan.replaces,
                template_id=plan.template_id,
                plan=json.dumps(plan.model_dump(mode="json"), ensure_ascii=False),
                created_at=datetime.now(UTC),
                created_by=who,
            )
        )
    return True


def plan_versions(engine: sa.Engine, organization_id: str, facility_id: str) -> list[StoredPlan]:
    """Every saved version of the facility's plan, newest first."""
    query = (
        sa.select(monitoring_plans)
        .where(
            monitoring_plans.c.organization_id == organization_id,
            monitoring_plans.c.facility_id == facility_id,
        )
        .order_by(monitoring_plans.c.version.desc())
    )
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        StoredPlan(
            MonitoringPlan.model_validate(json.loads(row.plan)),
            row.content_hash,
            row.created_at,
            row.created_by,
        )
        for row in rows
    ]


def planned_facilities(engine: sa.Engine, organization_id: str) -> list[str]:
    """Facilities of the organization that have a monitoring plan."""
    query = (
        sa.select(monitoring_plans.c.facility_id)
        .where(monitoring_plans.c.organization_id == organization_id)
        .distinct()
        .order_by(monitoring_plans.c.facility_id)
    )
    with engine.connect() as conn:
        return list(conn.execute(query).scalars())


# what moves when another process saves results -------------------------------------------------
def _of_organization(column: Any, table: sa.Table) -> Any:
    where = table.c.organization_id == sa.bindparam("organization_id")
    return sa.select(column).where(where).scalar_subquery()


# Built once: SQLAlchemy memoizes the cache key of a statement object, not of an equal one.
STORED_VERSION = sa.select(
    _of_organization(sa.func.count(), inventories),
    _of_organization(sa.func.max(inventories.c.created_at), inventories),
    _of_organization(sa.func.max(monitoring_reports.c.id), monitoring_reports),
    _of_organization(sa.func.max(alerts.c.id), alerts),
    _of_organization(sa.func.count(alerts.c.acknowledged_at), alerts),
    _of_organization(sa.func.count(alerts.c.closed_at), alerts),
)


def stored_version(engine: sa.Engine, organization_id: str) -> tuple[Any, ...]:
    """What the database says about an organization's runs, monitoring reports and alerts.

    One query of aggregates over indexed columns: it moves when any process saves a run or a
    monitoring report, or opens, acknowledges or closes an alert.
    """
    with engine.connect() as conn:
        row = conn.execute(STORED_VERSION, {"organization_id": organization_id}).one()
    return tuple(row)
