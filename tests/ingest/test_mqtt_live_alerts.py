"""Alert rules on a live MQTT stream: a day of 15-minute readings for 1 000 meters.

Every meter reads about 50 kWh per interval. Ten meters run hot (150) for intervals 40–43 and
four jump by +60 at interval 60 and fall back at 61. The rules watch all 1 000 meters; the test
expects exactly one opening and one closing per episode each rule sees — none lost, none
doubled, also after a QoS-1 replay of earlier messages.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from typer.testing import CliRunner

from carbonlink.cli import app
from carbonlink.domain.metering import Meter
from carbonlink.errors import InputError
from carbonlink.ingest.mqtt import MqttCollector, MqttCollectorConfig, TopicMapping
from carbonlink.monitor.live import AlertingSink
from carbonlink.monitor.rules import AlertEvent, AlertRule, RuleEngine
from carbonlink.store import Store

METERS = 1_000
INTERVALS = 96
START_MS = int(datetime(2025, 3, 3, tzinfo=UTC).timestamp() * 1000)
HOT = [i for i in range(METERS) if i % 100 == 7]
RAMP = [i for i in range(METERS) if i % 250 == 3]


def _value(meter: int, interval: int) -> float:
    value = 50.0 + (meter * 7 + interval * 13) % 10 / 10  # small, steady wobble
    if meter in HOT and 40 <= interval <= 43:
        value = 150.0
    if meter in RAMP and interval == 60:
        value += 60.0
    return value


def _wait(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
@pytest.mark.broker
def test_a_day_for_a_thousand_meters_raises_every_alert_once(
    private_broker: tuple[str, int], topic_prefix: str, store: Store
) -> None:
    host, port = private_broker
    meters = [f"m{i:04d}" for i in range(METERS)]
    engine = RuleEngine(
        [
            AlertRule(id="hot", kind="threshold", meter_id="*", above=120),
            AlertRule(id="ramp", kind="rate_of_change", meter_id="*", max_change_per_hour=200),
        ],
        meters,
    )
    events: list[AlertEvent] = []
    sink = AlertingSink(store, engine, events.extend)
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=f"{topic_prefix}-collector",
        session_expiry=60,
        batch_size=1000,
        flush_interval=0.1,
        topics=[TopicMapping(topic=f"{topic_prefix}/+/energy", meter="{1}", unit="kWh")],
    )
    for meter in meters:
        store.save_meter(Meter(meter, "interval", "kWh"))
    collector = MqttCollector(config, sink, meters=store.meters)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))
    worker.start()
    publisher = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-pub", protocol=mqtt.MQTTv5
    )
    publisher.max_inflight_messages_set(1000)
    publisher.connect(host, port)
    publisher.loop_start()
    try:
        assert collector.wait_subscribed(10)
        messages = 0
        last = None
        for hour in range(INTERVALS // 4):
            for meter in range(METERS):
                body = [
                    {"ts": START_MS + 900_000 * (i + 1), "value": _value(meter, i)}
                    for i in range(4 * hour, 4 * hour + 4)
                ]
                topic = f"{topic_prefix}/{meters[meter]}/energy"
                last = publisher.publish(topic, json.dumps(body), qos=1)
                messages += 1
        assert last is not None
        last.wait_for_publish(60)
        assert _wait(lambda: collector.stats.stored >= METERS * INTERVALS, 120)
        # A QoS-1 replay of the hot hour changes nothing: stored once, no second alert.
        for meter in HOT:
            body = [
                {"ts": START_MS + 900_000 * (i + 1), "value": _value(meter, i)}
                for i in range(40, 44)
            ]
            publisher.publish(f"{topic_prefix}/{meters[meter]}/energy", json.dumps(body), qos=1)
        assert _wait(lambda: collector.stats.received >= messages + len(HOT), 30)
        assert _wait(lambda: collector.stats.duplicates >= 4 * len(HOT), 30)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        stop.set()
        worker.join(30)

    assert store.reading_count() == METERS * INTERVALS
    assert sink.evaluated == METERS * INTERVALS
    seen = Counter((e.rule_id, e.meter_id, e.action) for e in events)
    expected: Counter[tuple[str, str, str]] = Counter()
    for action in ("opened", "closed"):
        for m in HOT:
            expected["hot", meters[m], action] += 1
            # +100 in 15 minutes going hot and −100 coming back: two separate ramps.
            expected["ramp", meters[m], action] += 2
        for m in RAMP:
            expected["ramp", meters[m], action] += 1
    assert seen == expected
    hot_open = {e.meter_id: e.ts for e in events if e.rule_id == "hot" and e.action == "opened"}
    # Interval 40 ends at 10:15 UTC (readings are stamped at the end of their interval).
    assert set(hot_open.values()) == {np.datetime64("2025-03-03T10:15", "ns")}
    assert engine.open_alerts() == []


def test_collector_refuses_a_rule_on_an_unknown_meter(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CARBONLINK_WORKSPACE", str(tmp_path / "ws"))
    mapping = tmp_path / "mqtt.yaml"
    mapping.write_text("topics: [{topic: 'plant/+/energy', meter: '{1}', unit: kWh}]\n")
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "meters: [EM-1]\nrules: [{id: hot, kind: threshold, meter_id: EM-2, above: 5}]\n"
    )
    result = CliRunner().invoke(app, ["ingest", "mqtt", str(mapping), "--rules", str(rules)])
    assert result.exit_code != 0
    assert isinstance(result.exception, InputError)
    assert "unknown meter 'EM-2'" in str(result.exception)
    assert "rules.yaml" in str(result.exception)
