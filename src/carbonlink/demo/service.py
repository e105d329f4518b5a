"""The demo enterprise in the service: its inventories, alerts and monitoring in the workspace.

The last demo step registers the demo enterprise's organization, facilities and sources from
its inventory documents, saves both computed inventories (the 2025 enterprise inventory and the
metered 2018 works) as runs, runs the alert rules over the metered works' real readings, and
saves the monitoring report with the files the demo wrote. ``carbonlink serve --workspace
demo-output/workspace --demo`` then opens these numbers; nothing is generated for the service.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi import FastAPI

from carbonlink.api import results
from carbonlink.domain.engine import Computation
from carbonlink.domain.inventory import parse_inventory
from carbonlink.domain.metering import Meter
from carbonlink.monitor.anomaly import SeasonalBaseline
from carbonlink.monitor.plan import MonitoringPlan
from carbonlink.monitor.rules import RuleEngine, validate_rules
from carbonlink.store import Store
from carbonlink.store.operations import open_alert_count
from carbonlink.store.workspace import workspace_path

DEMO_ORG_ID = "org-demo-steel"
DEMO_USERS = (
    ("manager@demo.carbonlink.example", "admin", "王经理"),
    ("engineer@demo.carbonlink.example", "editor", "李工程师"),
    ("auditor@demo.carbonlink.example", "auditor", "陈审核"),
    ("lender@demo-bank.carbonlink.example", "lender", "绿色银行 张经理"),
)


def save_demo_results(
    store: Store,
    inventories: list[tuple[Path, Computation]],
    monitoring: dict[str, Any],
    outputs: dict[str, Path],
    rules: list[dict[str, Any]],
    workspace: Path,
) -> dict[str, int]:
    """Register and save the demo enterprise's results in the store's database.

    The written files are recorded relative to ``workspace`` (`workspace_path`), so that a
    copy of the demo's folder serves its own files.

    ``rules`` (the ``alert_rules`` of the demo's monitoring settings) are checked by the rule
    engine over the metered works' readings in one batch, as a collector would hand them in.
    """
    engine = store.engine
    first_text = inventories[0][0].read_text("utf-8")
    name = parse_inventory(first_text, file=str(inventories[0][0])).organization
    for number, (path, computation) in enumerate(inventories):
        inventory = parse_inventory(path.read_text("utf-8"), file=str(path))
        results.register_inventory(store, DEMO_ORG_ID, name, inventory)
        saved = results.save_inventory(
            engine, DEMO_ORG_ID, computation.to_dict(), results.settings_hash(inventory)
        )
        if number == 0:
            submit_for_review(engine, inventory.model_dump(mode="json"), saved.id)
    meter_id = monitoring["metered_works"]["meter"]
    opened = 0
    meter = store.meter(meter_id)
    if meter is not None:
        series = store.series(meter_id)
        ts = series.ts_us.astype("datetime64[us]").astype("datetime64[ns]")
        checked = validate_rules(
            [rule | {"meter_id": meter_id} for rule in rules], store.meters().keys()
        )
        baseline = SeasonalBaseline.fit(ts, series.value, meter.time_zone)
        rule_engine = RuleEngine(checked, [meter_id], {meter_id: baseline})
        events = rule_engine.evaluate(np.zeros(len(ts), dtype=np.int64), ts, series.value)
        # The works' meter has been silent since its last reading: a meter-offline rule opens
        # its alert now, as the service's timer would.
        now = np.datetime64(datetime.now(UTC).replace(tzinfo=None), "ns")
        events += rule_engine.tick(now)
        results.clear_alerts(engine, DEMO_ORG_ID)
        results.save_alert_rules(engine, DEMO_ORG_ID, checked)
        opened = results.record_alert_events(
            engine, DEMO_ORG_ID, events, {rule.id: rule for rule in checked}
        )
    if "plan" in monitoring:
        body = {k: v for k, v in monitoring["plan"].items() if k != "content_hash"}
        plan = MonitoringPlan.model_validate(body)
        # The plan names the meters it monitors: they are installed (registered) even where no
        # reading of theirs is in the demo, and the completeness check says that they are silent.
        for entry in plan.entries:
            for planned in entry.meters:
                if store.meter(planned) is None:
                    store.save_meter(
                        Meter(
                            planned,
                            "interval",
                            "MWh",
                            interval_s=900,
                            time_zone="Asia/Shanghai",
                            facility_id=plan.facility_id,
                            source_id=results.source_key(plan.facility_id, entry.source_id),
                            name=planned,
                        )
                    )
        results.save_plan(engine, DEMO_ORG_ID, MonitoringPlan.model_validate(body), "demo")
    results.save_monitoring(
        engine,
        DEMO_ORG_ID,
        monitoring,
        {label: workspace_path(path, workspace) for label, path in outputs.items()},
    )
    return {"alerts": opened, "open": open_alert_count(engine, DEMO_ORG_ID)}


def submit_for_review(engine: sa.Engine, document: dict[str, Any], inventory_id: str) -> None:
    """Open the enterprise inventory's period with its computed run, submitted for review by
    the demo's engineer, so that the auditor finds a period to approve."""
    from carbonlink.store import periods

    engineer = DEMO_USERS[1][2]
    for stale in periods.periods_of(engine, DEMO_ORG_ID):
        if (stale.period_start, stale.period_end) == (
            document["period"]["start"],
            document["period"]["end"],
        ):
            return
    period = periods.open_period(engine, DEMO_ORG_ID, document, engineer)
    periods.add_run(engine, period, inventory_id, engineer)
    periods.submit(engine, period, engineer, engineer)


def set_demo_users(app: FastAPI, password: str) -> list[tuple[str, str]]:
    """(Re)create the demo enterprise's users with one password; return (email, role)."""
    accounts = app.state.ctx.accounts
    for email, _role, _name in DEMO_USERS:
        user_id = accounts.user_id_of(DEMO_ORG_ID, email)
        if user_id is not None:
            accounts.delete_user(user_id)
    for email, role, display in DEMO_USERS:
        accounts.create_user(DEMO_ORG_ID, email, password, role, display, "zh", check_policy=False)
    return [(email, role) for email, role, _n in DEMO_USERS]
