"""Alert rules applied to readings as the service stores them; the results it reads and writes.

The data access lives in the store (`carbonlink.store.results`); its names are re-exported here
for the pages and commands that read results through this module.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC

import numpy as np
import sqlalchemy as sa

from carbonlink.ingest.base import Reading
from carbonlink.monitor.anomaly import SeasonalBaseline
from carbonlink.monitor.live import AlertingSink
from carbonlink.monitor.rules import AlertEvent, AlertRule, RuleEngine
from carbonlink.store.results import (
    ALERT_MESSAGES,
    Alert,
    InventoryRun,
    StoredPlan,
    acknowledge_alert,
    alert_detail,
    alert_message,
    alert_rules_of,
    alerts_of,
    clear_alerts,
    current_runs,
    inventory_lines_of,
    inventory_runs,
    latest_monitoring,
    plan_versions,
    planned_facilities,
    record_alert_events,
    record_meter_alert_events,
    register_inventory,
    save_alert_rules,
    save_inventory,
    save_monitoring,
    save_plan,
    settings_hash,
    source_key,
)
from carbonlink.store.tenants import TenantData

__all__ = [
    "ALERT_MESSAGES",
    "Alert",
    "InventoryRun",
    "LiveAlerting",
    "StoredPlan",
    "acknowledge_alert",
    "alert_detail",
    "alert_message",
    "alert_rules_of",
    "alerts_of",
    "clear_alerts",
    "current_runs",
    "inventory_lines_of",
    "inventory_runs",
    "latest_monitoring",
    "plan_versions",
    "planned_facilities",
    "record_alert_events",
    "record_meter_alert_events",
    "register_inventory",
    "save_alert_rules",
    "save_inventory",
    "save_monitoring",
    "save_plan",
    "settings_hash",
    "source_key",
]


BASELINE_READINGS = 8 * 7 * 24
"""Readings an above-baseline rule learns its meter's seasonal median from (eight weeks hourly)."""


class LiveAlerting:
    """Readings posted to the API go through the organization's alert rules as they are stored.

    The service's counterpart of a collector's `AlertingSink` (the MQTT path): one sink per
    organization keeps the rule engine's state between batches, so a batch posted again opens
    nothing. A sink is rebuilt when the rules or the meters change; it first sees each watched
    meter's latest stored reading, so that after a restart a batch already stored is not
    evaluated a second time and an alert that is open stays open. ``channel_key`` (the
    service's secret key) opens the notification channels' sealed secrets.
    """

    def __init__(self, channel_key: bytes) -> None:
        self._channel_key = channel_key
        self._sinks: dict[str, tuple[str, AlertingSink]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def add_readings(
        self,
        engine: sa.Engine,
        data: TenantData,
        organization_id: str,
        readings: list[Reading],
    ) -> int:
        """Store the readings, then check the organization's rules; return how many were new."""
        rules = alert_rules_of(engine, organization_id)
        if not rules:
            return data.add_readings(readings)
        meters = sorted(m.id for m in data.meters(organization_id))
        key = json.dumps([[r.model_dump(mode="json") for r in rules], meters], sort_keys=True)
        with self._lock:
            lock = self._locks.setdefault(organization_id, threading.Lock())
        with lock:
            found = self._sinks.get(organization_id)
            if found is None or found[0] != key:
                found = (key, self._sink(engine, data, organization_id, rules, meters))
                self._sinks[organization_id] = found
            return found[1].add_readings(readings)

    @staticmethod
    def _baselines(
        data: TenantData, organization_id: str, rules: list[AlertRule], meters: list[str]
    ) -> dict[str, SeasonalBaseline]:
        """Seasonal medians (hour of week, facility time) of the meters an above-baseline rule
        watches, learnt from their latest stored readings; a meter without history has none
        (its rule stays quiet until the baseline is learnt at the next rebuild)."""
        wanted = {r.meter_id for r in rules if r.kind == "above_baseline"}
        if "*" in wanted:
            wanted = set(meters)
        found: dict[str, SeasonalBaseline] = {}
        for meter_id in sorted(wanted & set(meters)):
            meter = data.meter(organization_id, meter_id)
            facility = data.facility(organization_id, meter.facility_id) if meter else None
            history = data.readings(organization_id, meter_id, limit=BASELINE_READINGS)
            if facility is None or not history:
                continue
            ts = np.array(
                [r.ts.astimezone(UTC).replace(tzinfo=None) for r in history],
                dtype="datetime64[ns]",
            )
            values = np.array([r.value for r in history], dtype=np.float64)
            found[meter_id] = SeasonalBaseline.fit(ts, values, facility.timezone)
        return found

    def _sink(
        self,
        engine: sa.Engine,
        data: TenantData,
        organization_id: str,
        rules: list[AlertRule],
        meters: list[str],
    ) -> AlertingSink:
        # A rule whose meter was deleted since it was saved has nothing left to watch.
        rules = [r for r in rules if r.meter_id == "*" or r.meter_id in meters]
        by_id = {rule.id: rule for rule in rules}
        every = any(r.meter_id == "*" for r in rules)
        watched = meters if every else sorted({r.meter_id for r in rules})
        rule_engine = RuleEngine(
            rules, meters, LiveAlerting._baselines(data, organization_id, rules, meters)
        )
        latest = [r for m in watched for r in data.readings(organization_id, m, limit=1)]
        if latest:
            ts = np.array(
                [r.ts.astimezone(UTC).replace(tzinfo=None) for r in latest],
                dtype="datetime64[ns]",
            )
            rule_engine.evaluate(
                rule_engine.meter_index(r.meter_id for r in latest),
                ts,
                np.array([r.value for r in latest], dtype=np.float64),
            )

        def record(events: list[AlertEvent]) -> None:
            opened = [e for e in events if e.action == "opened"]
            live = (
                {
                    (a.rule_id, a.meter_id)
                    for a in alerts_of(engine, organization_id)
                    if a.status != "closed"
                }
                if opened
                else set()
            )
            record_alert_events(engine, organization_id, events, by_id)
            fresh = [e for e in opened if (e.rule_id, e.meter_id) not in live]
            if fresh:
                from carbonlink.api.notifications import notify

                notify(engine, organization_id, fresh, key=self._channel_key)

        return AlertingSink(data, rule_engine, record)
