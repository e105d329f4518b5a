"""Readings posted to the API go through the organization's alert rules; messages in zh and en."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import create_app, results
from carbonlink.api.i18n import formatter, load_catalogues
from carbonlink.store import Store
from carbonlink.store.tenant_data import AssignedAccounting, StoreTenantData

if TYPE_CHECKING:
    from conftest import Service

GAS = "fac-steelmaking-m-gas"  # about 9 000 Nm3 an hour in the fixture, never above 20 000
RULE = {"id": "gas-surge", "kind": "threshold", "meter_id": GAS, "above": 20000}


def _batch(*values: float, day: int = 20) -> dict[str, object]:
    return {
        "batch_id": f"scada-{day}",
        "readings": [
            {"meter_id": GAS, "ts": f"2026-11-{day}T{hour:02d}:00:00Z", "value": v, "unit": "Nm3"}
            for hour, v in enumerate(values)
        ],
    }


def _editor(service: Service) -> TestClient:
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    return client


def _surges(engine: sa.Engine) -> list[results.Alert]:
    return [a for a in results.alerts_of(engine, DEMO_ORG_ID) if a.rule_id == "gas-surge"]


def test_a_batch_over_a_threshold_opens_one_alert_and_again_none(
    any_service: Service, engine: sa.Engine
) -> None:
    editor = _editor(any_service)
    saved = editor.put("/api/v1/alert-rules", json=[RULE])
    assert saved.status_code == 200, saved.text
    assert editor.get("/api/v1/alert-rules").json()[0]["above"] == 20000
    # Above the limit at 01:00, back below at 02:00: one alert, opened then closed.
    batch = _batch(9000, 25000.5, 9100)
    assert editor.post("/api/v1/readings", json=batch).json()["stored"] == 3
    [alert] = _surges(engine)
    assert (alert.status, alert.value, alert.meter_id) == ("closed", 25000.5, GAS)
    assert alert.detail and alert.detail["above"] == 20000

    again = editor.post("/api/v1/readings", json=batch).json()
    assert (again["stored"], again["duplicates"]) == (0, 3)
    assert len(_surges(engine)) == 1

    # A later surge is a new condition: a second alert, left open.
    editor.post("/api/v1/readings", json=_batch(26000, day=21))
    assert [a.status for a in _surges(engine)] == ["open", "closed"]


def test_readings_without_rules_open_nothing(any_service: Service, engine: sa.Engine) -> None:
    editor = _editor(any_service)
    before = len(results.alerts_of(engine, DEMO_ORG_ID))
    assert editor.post("/api/v1/readings", json=_batch(9000, 25000.5)).json()["stored"] == 2
    assert len(results.alerts_of(engine, DEMO_ORG_ID)) == before


def test_after_a_restart_a_batch_already_stored_opens_nothing(
    store_service: Service, engine: sa.Engine
) -> None:
    editor = _editor(store_service)
    editor.put("/api/v1/alert-rules", json=[RULE])
    batch = _batch(9000, 25000.5, 9100)
    editor.post("/api/v1/readings", json=batch)
    assert len(_surges(engine)) == 1

    data = StoreTenantData(Store(engine), AssignedAccounting())
    store_service.app = create_app(store_service.app.state.ctx.settings, engine=engine, data=data)
    editor = _editor(store_service)
    assert editor.post("/api/v1/readings", json=batch).json()["stored"] == 0
    assert len(_surges(engine)) == 1


def test_rules_are_checked_when_saved(any_service: Service) -> None:
    editor = _editor(any_service)
    foreign = editor.put("/api/v1/alert-rules", json=[RULE | {"meter_id": "mtr-other-power"}])
    assert foreign.status_code == 422
    assert "gas-surge" in foreign.text and "unknown meter" in foreign.text
    upside_down = editor.put("/api/v1/alert-rules", json=[RULE | {"below": 30000}])
    assert upside_down.status_code == 422 and "below" in upside_down.text
    viewer, csrf = any_service.login(any_service.users["viewer"])
    refused = viewer.put("/api/v1/alert-rules", json=[RULE], headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 403
    assert editor.get("/api/v1/alert-rules").json() == []


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh", "天然气总表 Gas main：读数 25,000.5 Nm3 高于限值 20,000 Nm3"),
        ("en", "天然气总表 Gas main: value 25,000.5 Nm3 above the limit 20,000 Nm3"),
    ],
)
def test_the_alert_message_is_in_the_page_language(
    service: Service, lang: str, expected: str
) -> None:
    editor = _editor(service)
    editor.put("/api/v1/alert-rules", json=[RULE])
    editor.post("/api/v1/readings", json=_batch(9000, 25000.5))
    page = editor.get(f"/alerts?lang={lang}")
    assert page.status_code == 200
    assert expected in page.text
    other = "value 25,000.5 above" if lang == "zh" else "高于限值"
    assert other not in page.text


def test_every_alert_message_has_a_chinese_wording() -> None:
    zh = formatter(load_catalogues(), "zh")
    for kind, detail, value in (
        ("threshold", {"above": 10.0}, 12.5),
        ("threshold", {"below": 2.0, "above": 10.0}, 1.5),
        ("rate_of_change", {"max_change_per_hour": 4.0}, 9.0),
        ("above_baseline", {"baseline_ratio": 1.5}, 30.0),
        ("meter_offline", {"offline_after_s": 7200.0}, None),
    ):
        text = results.alert_message({"kind": kind} | detail, "M1", value, zh)
        assert text.startswith("M1："), text
    below = results.alert_message({"kind": "threshold", "below": 2.0, "above": 10.0}, "M", 1.5, zh)
    assert below == "M：读数 1.5 低于限值 2"
    with_unit = results.alert_message({"kind": "threshold", "above": 10.0}, "M", 12.5, zh, "MWh")
    assert with_unit == "M：读数 12.5 MWh 高于限值 10 MWh"


def test_collector_alerts_keep_their_rule_for_the_message(engine: sa.Engine) -> None:
    import numpy as np

    from carbonlink.domain import metering
    from carbonlink.monitor.rules import RuleEngine, validate_rules

    store = Store(engine)
    store.save_organization(metering.Organization("org-c", "C"))
    store.save_facility(metering.Facility("fac-c", "org-c", "C plant", "UTC"))
    store.save_meter(metering.Meter("mtr-c", "interval", "kWh", facility_id="fac-c"))
    raw = [{"id": "kw-low", "kind": "threshold", "meter_id": "*", "below": 5}]
    rules = validate_rules(raw, ["mtr-c"])
    ts = np.array(["2026-11-20T00:00"], dtype="datetime64[ns]")
    events = RuleEngine(rules, ["mtr-c"]).evaluate(np.array([0]), ts, np.array([1.25]))
    assert results.record_meter_alert_events(engine, events, {r.id: r for r in rules}) == 1
    [alert] = results.alerts_of(engine, "org-c")
    en, zh = (formatter(load_catalogues(), lang) for lang in ("en", "zh"))
    assert alert.text(en, "Feeder 3") == "Feeder 3: value 1.25 below the limit 5"
    assert alert.text(zh, "Feeder 3") == "Feeder 3：读数 1.25 低于限值 5"


def test_the_documented_rules_are_accepted(any_service: Service) -> None:
    import json
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "service.md"
    (block,) = re.findall(r"```json\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    saved = _editor(any_service).put("/api/v1/alert-rules", json=json.loads(block))
    assert saved.status_code == 200, saved.text
    assert [r["id"] for r in saved.json()] == ["gas-surge", "power-jump", "meter-silent"]
    assert saved.json()[2]["offline_after_s"] == 7200
