"""MQTT collector: topic mapping, JSON parsing, and storing over the real broker."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.domain.metering import Meter
from carbonlink.errors import ConfigError
from carbonlink.ingest.base import Reading, Rejected
from carbonlink.ingest.mqtt import (
    MqttCollector,
    MqttCollectorConfig,
    TopicMapping,
    load_config,
    parse_message,
    topic_matches,
)
from carbonlink.store import Store

MAPPING = TopicMapping(topic="plant/+/energy/+", meter="{1}.{3}", unit="kWh")


# --- topic filters ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("topic_filter", "topic", "expected"),
    [
        ("plant/+/energy", "plant/mill1/energy", True),
        ("plant/+/energy", "plant/mill1/gas", False),
        ("plant/+/energy", "plant/mill1/energy/extra", False),
        ("plant/#", "plant", True),  # MQTT 5 §4.7.1.2: '#' also matches the parent level
        ("plant/#", "plant/a/b/c", True),
        ("+/x", "$SYS/x", False),  # §4.7.2: no wildcard match of '$' topics at the first level
        ("#", "$SYS/broker", False),
        ("plant/+", "plant/", True),  # an empty level is a level
    ],
)
def test_topic_filter_matching_follows_mqtt5(topic_filter: str, topic: str, expected: bool) -> None:
    assert topic_matches(topic_filter, topic) is expected


level = st.text(st.characters(blacklist_characters="/+#$", codec="utf-8"), max_size=6)


@given(st.lists(level, min_size=1, max_size=6), st.data())
def test_a_topic_matches_any_filter_made_from_it(levels: list[str], data: st.DataObject) -> None:
    topic = "/".join(levels)
    wild = [data.draw(st.booleans()) for _ in levels]
    topic_filter = "/".join("+" if w else lv for w, lv in zip(wild, levels, strict=True))
    assert topic_matches(topic_filter, topic)
    cut = data.draw(st.integers(0, len(levels) - 1))
    assert topic_matches("/".join([*levels[:cut], "#"]), topic)
    assert not topic_matches(topic_filter + "/x", topic)


def test_invalid_filters_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("topics:\n  - {topic: 'plant/en#', meter: x}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="'#' must be a whole level"):
        load_config(path)
    path.write_text("topics: []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="topics"):
        load_config(path)


def test_config_file_overrides_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "map.yaml"
    path.write_text("port: 1999\ntopics:\n  - {topic: 'a/+', meter: '{1}'}\n", encoding="utf-8")
    config = load_config(path, defaults={"host": "broker.plant", "port": 1883}, client_id="c7")
    assert (config.host, config.port, config.client_id) == ("broker.plant", 1999, "c7")
    assert config.mapping_for("a/EM-1") is not None
    assert config.mapping_for("b/EM-1") is None


# --- payloads ---------------------------------------------------------------------------------
def _parse(
    payload: object, mapping: TopicMapping = MAPPING
) -> tuple[list[Reading], list[Rejected]]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return parse_message(mapping, "plant/mill1/energy/EM-07", raw)


def test_iso_and_epoch_millisecond_timestamps_give_the_same_utc_reading() -> None:
    iso, _ = _parse({"ts": "2024-03-01T08:15:00+08:00", "value": 12.5})
    epoch, _ = _parse({"ts": 1709252100000, "value": 12.5})
    expected = datetime(2024, 3, 1, 0, 15, tzinfo=UTC)
    assert iso[0].ts == epoch[0].ts == expected
    assert iso[0].meter_id == "mill1.EM-07"
    assert (iso[0].value, iso[0].unit) == (12.5, "kWh")


def test_local_time_needs_a_configured_zone() -> None:
    local = TopicMapping(topic="plant/#", meter="m", unit="kWh", timezone="Asia/Shanghai")
    readings, _ = _parse({"ts": "2024-03-01T08:15:00", "value": 1}, local)
    assert readings[0].ts == datetime(2024, 3, 1, 0, 15, tzinfo=UTC)
    readings, rejected = _parse({"ts": "2024-03-01T08:15:00", "value": 1})
    assert readings == []
    assert "no UTC offset" in rejected[0].reason


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe not json", "not JSON"),
        ({"value": 1}, "missing key 'ts'"),
        ({"ts": 1709252100000}, "missing key 'value'"),
        ({"ts": 1709252100000, "value": "12,5"}, "not a number"),
        ({"ts": 1709252100000, "value": True}, "not a number"),
        ({"ts": "yesterday", "value": 1}, "Invalid isoformat"),
        ({"ts": 1709252100000, "value": 1, "unit": ""}, "no unit"),
        ([1, 2], "expected a JSON object"),
    ],
)
def test_bad_messages_are_rejected_with_their_reason(payload: object, reason: str) -> None:
    readings, rejected = _parse(payload)
    assert readings == []
    assert rejected
    assert reason in rejected[0].reason
    assert rejected[0].meter_id == "mill1.EM-07"
    assert rejected[0].source_ref.startswith("mqtt:plant/mill1/energy/EM-07")


def test_a_list_payload_gives_one_record_per_element() -> None:
    readings, rejected = _parse(
        [
            {"ts": 1709252100000, "value": 1.0, "unit": "MWh"},
            {"ts": 1709253000000, "value": "x"},
            {"ts": 1709253900000, "value": 3.0},
        ]
    )
    assert [(r.value, r.unit) for r in readings] == [(1.0, "MWh"), (3.0, "kWh")]
    assert [r.source_ref.rsplit("#", 1)[1] for r in rejected] == ["1"]


# --- over the real broker ---------------------------------------------------------------------
def _publisher(host: str, port: int, client_id: str) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.max_inflight_messages_set(100)
    client.connect(host, port)
    client.loop_start()
    return client


def _wait(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.broker
def test_collector_stores_readings_once_and_quarantines_the_rest(
    mqtt_broker: tuple[str, int], topic_prefix: str, store: Store
) -> None:
    host, port = mqtt_broker
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=f"{topic_prefix}-collector",
        session_expiry=30,
        batch_size=50,
        flush_interval=0.05,
        topics=[TopicMapping(topic=f"{topic_prefix}/+/energy", meter="{1}", unit="kWh")],
    )
    for meter in ("EM-0", "EM-1"):
        store.save_meter(Meter(meter, "interval", "kWh"))
    collector = MqttCollector(config, store, meters=store.meters)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))
    worker.start()
    try:
        assert collector.wait_subscribed(10)
        publisher = _publisher(host, port, f"{topic_prefix}-pub")
        base = 1_709_252_100_000
        for i in range(200):
            body = {"ts": base + 900_000 * (i // 2), "value": float(i // 2)}
            publisher.publish(f"{topic_prefix}/EM-{i % 2}/energy", json.dumps(body), qos=1)
        # A QoS-1 duplicate of the first reading with another value changes nothing.
        dup = {"ts": base, "value": 999.0}
        publisher.publish(f"{topic_prefix}/EM-0/energy", json.dumps(dup), qos=1)
        publisher.publish(f"{topic_prefix}/EM-0/energy", b"{broken", qos=1)
        publisher.publish(f"{topic_prefix}/EM-0/gas", b"{}", qos=1).wait_for_publish(5)
        assert _wait(lambda: collector.stats.received >= 202)
        assert _wait(lambda: collector.stats.stored == 200 and collector.stats.quarantined == 1)
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        stop.set()
        worker.join(10)
    assert store.reading_count() == 200
    series = store.series("EM-0")
    assert series.ts_us[0] == base * 1000
    assert series.value.tolist() == [float(i) for i in range(100)]
    assert collector.stats.duplicates == 1
    (kept,) = store.quarantined()
    assert "not JSON" in kept.reason
    assert (kept.raw, kept.meter_id) == (b"{broken", "EM-0")
    assert kept.source_ref == f"mqtt:{topic_prefix}/EM-0/energy"
    # The gas topic has no mapping and no subscription: the broker never delivered it.
    assert collector.stats.received == 202
