"""Dashboard pages over saved inventory runs and alerts: the engine's numbers, local months."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import sqlalchemy as sa

from carbonlink.api import results
from carbonlink.api.dashboard import build_run_view
from carbonlink.domain import metering
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.ingest.base import Reading
from carbonlink.ingest.metered_activity import resolve_metered_activity
from carbonlink.ledger import Ledger, ensure_ledger_key, load_ledger_signer, record_report
from carbonlink.monitor.rules import RuleEngine, validate_rules
from carbonlink.store import Store

if TYPE_CHECKING:
    from conftest import Service


HAND_ORG = "org-hand-works"
# One works in Shanghai: natural gas by the year, electricity from a meter with three
# end-labelled quarter-hour readings, 1, 1 and 3 MWh stamped 15:45, 16:00 and 16:15 UTC on
# 31 Jan 2022 = 23:45, 00:00 and 00:15 local: the first two intervals are January's (the one
# ending at local midnight too), the last is February's. Pinned MEE/NBS 2022 factors:
#   location-based 5 MWh × 0.5366 t/MWh = 2.683 t  (January 1.0732 t, February 1.6098 t)
#   market-based   5 MWh × 0.5856 t/MWh = 2.928 t  (February 1.7568 t)
HAND_INVENTORY = """
organization: Hand Works Ltd
period: {start: 2022-01-01, end: 2022-12-31}
gwp: AR5
jurisdiction: CN
facilities:
  - id: hand-works
    name: Hand-checked works
    timezone: Asia/Shanghai
    sources:
      - {id: boiler-gas, method: combustion, fuel: natural_gas,
         activity: {quantity: 10000, unit: Nm3}}
      - id: grid-power
        method: electricity
        activity: {meter: hand-grid, unit: MWh}
        factors:
          grid: cn-mee-nbs/grid_average/CN/2022
          residual_mix: cn-mee-nbs/residual_mix/CN/2022
"""


def _hand_org(
    service: Service, engine: sa.Engine, password: str
) -> tuple[results.InventoryRun, dict]:  # type: ignore[type-arg]
    """Register, meter, account and save the hand-checked inventory; add an English viewer."""
    from datetime import UTC, datetime

    store = Store(engine)
    inventory = parse_inventory(HAND_INVENTORY, file="hand.yaml")
    results.register_inventory(store, HAND_ORG, "Hand Works Ltd", inventory)
    store.save_meter(
        metering.Meter(
            "hand-grid",
            "interval",
            "MWh",
            time_zone="Asia/Shanghai",
            interval_s=900,
            facility_id="hand-works",
            name="Hand incomer",
        )
    )
    store.add_readings(
        [
            Reading("hand-grid", datetime(2022, 1, 31, 15, 45, tzinfo=UTC), 1.0, "MWh"),
            Reading("hand-grid", datetime(2022, 1, 31, 16, 0, tzinfo=UTC), 1.0, "MWh"),
            Reading("hand-grid", datetime(2022, 1, 31, 16, 15, tzinfo=UTC), 3.0, "MWh"),
        ]
    )
    results.register_inventory(store, HAND_ORG, "Hand Works Ltd", inventory)
    resolved, _uses = resolve_metered_activity(inventory, store)
    document = account(resolved).to_dict()
    run = results.save_inventory(engine, HAND_ORG, document, results.settings_hash(inventory))
    service.app.state.ctx.accounts.create_user(
        HAND_ORG, "viewer@hand.test", password, "viewer", "Hand viewer", "en"
    )
    return run, document


def test_saved_run_gives_the_engines_totals_and_local_months(
    store_service: Service, engine: sa.Engine, tmp_path: Path, password: str
) -> None:
    service = store_service
    run, document = _hand_org(service, engine, password)
    totals = document["totals"]
    assert totals["scope2_location"] == pytest.approx(2.683, abs=1e-9)
    assert totals["scope2_market"] == pytest.approx(2.928, abs=1e-9)

    view = build_run_view(engine, run, results.inventory_lines_of(engine, HAND_ORG, run.id))
    [works] = view.facilities
    assert works.by_scope["1"] == pytest.approx(totals["scope1"], abs=1e-6)
    assert works.by_scope["2_location"] == pytest.approx(totals["scope2_location"], abs=1e-6)
    months = {m["month"]: m for m in view.months}
    assert set(months) == {"2022-01", "2022-02"}  # in UTC all three are January's
    assert months["2022-01"]["2_location"] == pytest.approx(1.0732, abs=1e-9)
    assert months["2022-02"]["2_location"] == pytest.approx(1.6098, abs=1e-9)
    assert months["2022-02"]["2_market"] == pytest.approx(1.7568, abs=1e-9)

    client, _ = service.login("viewer@hand.test")
    page = client.get("/").text
    kpis = page[page.index('class="kpis"') : page.index("</section>", page.index('class="kpis"'))]
    for key in ("scope1", "scope2_location", "scope2_market"):
        assert f"{totals[key]:,.1f}" in kpis
    total = totals["scope1"] + totals["scope2_location"] + totals["scope3"]
    assert f"{total:,.1f}" in kpis
    assert "Feb 2022" in page and "Jan 2022" in page

    source = client.get("/sources/hand-works:grid-power").text
    assert "cn-mee-nbs/grid_average/CN/2022" in source
    assert "MEE/NBS announcement of 20 Dec 2024" in source
    assert 'href="/meters/hand-grid"' in source
    # a written file gets the "verified" badge only when the ledger proves its bytes: a file
    # named like a receipt is not one
    written = tmp_path / "hand-inventory.json"
    written.write_text(json.dumps(document), "utf-8")
    rendered = tmp_path / "report.html"
    rendered.write_text("<html></html>", "utf-8")
    (tmp_path / "report.tlog-proof").write_text("receipt of the report", "utf-8")
    outputs = {"inventory result": str(written), "GHG inventory (HTML)": str(rendered)}
    results.save_monitoring(engine, HAND_ORG, {}, outputs)
    page = client.get("/").text
    assert '<a class="pill unverified" href="/files/GHG%20inventory%20%28HTML%29/receipt">' in page
    assert "✓" not in page
    # the ledger records both files and writes <report id>.tlog-proof beside them
    ensure_ledger_key(tmp_path)
    record_report(
        Ledger(engine),
        load_ledger_signer(tmp_path),
        "report",
        report_kind="ghg-inventory",
        paths=[rendered, written],
    )
    (tmp_path / "hand-inventory.json.tlog-proof").write_bytes(
        (tmp_path / "report.tlog-proof").read_bytes()
    )
    page = client.get("/").text
    assert 'href="/files/inventory%20result/receipt">✓ verified' in page
    assert 'href="/files/GHG%20inventory%20%28HTML%29/receipt">✓ verified' in page
    # a file changed on disk loses the badge and is served with a warning
    written.write_text(json.dumps(document) + " ", "utf-8")
    page = client.get("/").text
    assert 'href="/files/inventory%20result/receipt">⚠ changed since recorded' in page
    served = client.get("/files/inventory%20result")
    assert served.headers["x-carbonlink-file-check"] == "changed"
    assert "changed" in served.headers["warning"]
    assert (
        client.get("/files/GHG%20inventory%20%28HTML%29").headers["x-carbonlink-file-check"]
        == "verified"
    )
    runs = client.get("/api/v1/inventories").json()
    assert [r["id"] for r in runs] == [run.id]
    saved = client.get(f"/api/v1/inventories/{run.id}").json()
    assert saved["totals"] == totals and saved["lines"] == document["lines"]
    # the demo organization never sees the hand-checked run
    demo, _ = service.login(service.users["viewer"])
    assert "Hand Works" not in demo.get("/").text
    assert demo.get("/sources/hand-works:grid-power").status_code == 404
    assert demo.get("/api/v1/inventories").json() == []
    assert demo.get(f"/api/v1/inventories/{run.id}").status_code == 404


def test_rule_alert_is_listed_and_acknowledged(
    store_service: Service, engine: sa.Engine, tmp_path: Path, password: str
) -> None:
    service = store_service
    editor, csrf = service.login(service.users["editor"])
    page = editor.get("/alerts").text
    open_part = page[page.index('id="alerts-open"') : page.index('id="alerts-acknowledged"')]
    closed_part = page[page.index('id="alerts-closed"') :]
    assert "gas-below-450" in open_part  # opened on the 400 Nm3 reading, still holding
    assert "gas-above-500" in closed_part  # opened at 600 Nm3, cleared at 400 Nm3
    alert_id = service.ids["alert_id"]
    url = f"/alerts/{alert_id}/acknowledge"
    assert editor.post(url, data={"csrf_token": "wrong"}).status_code == 403
    viewer, viewer_csrf = service.login(service.users["viewer"])
    assert viewer.post(url, data={"csrf_token": viewer_csrf}).status_code == 403
    done = editor.post(url, data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303
    page = editor.get("/alerts").text
    acknowledged = page[page.index('id="alerts-acknowledged"') : page.index('id="alerts-closed"')]
    assert "gas-below-450" in acknowledged and "Test editor" in acknowledged
    # a second acknowledgement finds no open alert
    assert editor.post(url, data={"csrf_token": csrf}).status_code == 404


def test_rule_events_fold_into_one_alert_per_condition(engine: sa.Engine) -> None:
    rules = validate_rules(
        [{"id": "hot", "kind": "threshold", "meter_id": "m", "above": 10}], ["m"]
    )
    rule_engine = RuleEngine(rules, ["m"])
    ts = np.array(["2026-01-01T00:00", "2026-01-01T00:15"], dtype="datetime64[ns]")
    first = rule_engine.evaluate(np.zeros(2, dtype=np.int64), ts, np.array([11.0, 12.0]))
    assert results.record_alert_events(engine, "org-a", first) == 1
    assert results.record_alert_events(engine, "org-a", first) == 0  # same condition, still open
    later = np.array(["2026-01-01T00:30"], dtype="datetime64[ns]")
    cleared = rule_engine.evaluate(np.zeros(1, dtype=np.int64), later, np.array([5.0]))
    results.record_alert_events(engine, "org-a", cleared)
    [alert] = results.alerts_of(engine, "org-a")
    assert alert.status == "closed" and alert.value == 11.0
    assert results.alerts_of(engine, "org-b") == []


def test_clearing_alerts_deletes_one_organizations_alerts_in_any_state(
    engine: sa.Engine,
) -> None:
    rules = validate_rules(
        [
            {"id": "hot", "kind": "threshold", "meter_id": "m", "above": 10},
            {"id": "cold", "kind": "threshold", "meter_id": "m", "below": 0},
        ],
        ["m"],
    )
    ts = np.array(["2026-01-01T00:00", "2026-01-01T00:15"], dtype="datetime64[ns]")
    # org-a: "hot" opens at 11 and closes at 5, "cold" opens at -1 and is acknowledged
    events = RuleEngine(rules, ["m"]).evaluate(
        np.zeros(3, dtype=np.int64),
        np.concatenate([ts, np.array(["2026-01-01T00:30"], dtype="datetime64[ns]")]),
        np.array([11.0, 5.0, -1.0]),
    )
    assert results.record_alert_events(engine, "org-a", events) == 2
    cold = next(a for a in results.alerts_of(engine, "org-a") if a.rule_id == "cold")
    assert results.acknowledge_alert(engine, "org-a", cold.id, "user:test")
    assert sorted(a.status for a in results.alerts_of(engine, "org-a")) == [
        "acknowledged",
        "closed",
    ]
    hot = RuleEngine(rules, ["m"]).evaluate(np.zeros(2, dtype=np.int64), ts, np.array([12.0, 13.0]))
    assert results.record_alert_events(engine, "org-b", hot) == 1

    assert results.clear_alerts(engine, "org-a") == 2
    assert results.alerts_of(engine, "org-a") == []
    assert [a.rule_id for a in results.alerts_of(engine, "org-b")] == ["hot"]
    assert results.clear_alerts(engine, "org-a") == 0


def test_monitoring_pages_and_files_stay_in_their_organization(
    store_service: Service, engine: sa.Engine, tmp_path: Path, password: str
) -> None:
    service = store_service
    other, _ = service.login(service.users["other"])
    assert "gas-below-450" not in other.get("/alerts").text
    assert other.get("/files/inventory result").status_code == 404
    targets = other.get("/targets").text
    assert "tangshan-target" not in targets and "No target yet" in targets
    assert "No installation under an emissions trading scheme" in other.get("/ets").text
    demo, _ = service.login(service.users["auditor"])
    assert demo.get("/files/inventory result").json() == {"organization": "华东示范钢铁"}
    assert demo.get("/files/inventory result", params={"proof": "true"}).text == "proof"
    # 1 000 t in 2020 less 4.2 % of it a year: 748 t allowed in 2026; 12 × 70 t = 840 t
    demo_targets = demo.get("/targets?lang=en").text
    assert "tangshan-target" in demo_targets and "748" in demo_targets
    assert "840" in demo_targets and "over target" in demo_targets


def test_alerts_page_in_both_languages(
    store_service: Service, engine: sa.Engine, tmp_path: Path, password: str
) -> None:
    service = store_service
    client, _ = service.login(service.users["viewer"])
    zh = client.get("/alerts").text
    assert "未处理的告警" in zh and re.search(r"2026年11月1日", zh)
    en = client.get("/alerts?lang=en").text
    assert "alerts open" in en


def test_collector_events_reach_the_meters_organization(
    store_service: Service, engine: sa.Engine, tmp_path: Path, password: str
) -> None:
    service = store_service
    rules = validate_rules(
        [{"id": "power-high", "kind": "threshold", "meter_id": "*", "above": 50}],
        ["fac-hot-rolling-m-power", "mtr-unregistered"],
    )
    rule_engine = RuleEngine(rules, ["fac-hot-rolling-m-power", "mtr-unregistered"])
    ts = np.array(["2026-11-20T00:00", "2026-11-20T00:00"], dtype="datetime64[ns]")
    events = rule_engine.evaluate(np.array([0, 1]), ts, np.array([60.0, 70.0]))
    assert len(events) == 2
    assert results.record_meter_alert_events(engine, events) == 1  # no owner for the other
    [alert] = [a for a in results.alerts_of(engine, "org-demo-steel") if a.rule_id == "power-high"]
    assert alert.meter_id == "fac-hot-rolling-m-power" and alert.status == "open"
    other, _ = service.login(service.users["other"])
    assert "power-high" not in other.get("/alerts").text
