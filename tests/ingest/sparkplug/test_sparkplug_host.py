"""Sparkplug B host application against the edge-node simulator, over the real broker."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.ingest.base import MemorySink
from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.simulator import EdgeNodeSimulator, SimulatedMetric
from carbonlink.ingest.sparkplug.topics import SparkplugTopic, parse_topic, state_topic

pytestmark = pytest.mark.broker


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _devices() -> dict[str, list[SimulatedMetric]]:
    return {
        "EM-01": [SimulatedMetric("Active Energy", 1, "kWh", 1000.0)],
        "GM-01": [SimulatedMetric("Gas Volume", 2, "Nm3", 50.0, DataType.Float)],
    }


class _Retained:
    """Collects the messages of one topic (retained ones included)."""

    def __init__(self, host: str, port: int, topic: str, client_id: str) -> None:
        self.messages: list[dict[str, object]] = []
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self.client.on_message = lambda _c, _u, m: self.messages.append(json.loads(m.payload))
        self.client.connect(host, port)
        self.client.subscribe(topic, qos=1)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def running_host(
    mqtt_broker: tuple[str, int], topic_prefix: str
) -> Iterator[tuple[SparkplugHost, MemorySink, list[tuple[str, str]]]]:
    host, port = mqtt_broker
    config = SparkplugHostConfig(
        host=host, port=port, host_id=f"{topic_prefix}-host", group=topic_prefix,
        reorder_timeout=0.5,
    )  # fmt: skip
    sink = MemorySink()
    events: list[tuple[str, str]] = []
    app = SparkplugHost(config, sink, on_event=lambda e, t: events.append((e, str(t))))
    stop = threading.Event()
    worker = threading.Thread(target=app.run, args=(stop,))
    worker.start()
    assert app.wait_online(10)
    yield app, sink, events
    stop.set()
    worker.join(10)


def test_host_publishes_state_online_then_offline_with_the_same_timestamp(
    mqtt_broker: tuple[str, int], topic_prefix: str
) -> None:
    host, port = mqtt_broker
    host_id = f"{topic_prefix}-host"
    app = SparkplugHost(SparkplugHostConfig(host=host, port=port, host_id=host_id), MemorySink())
    stop = threading.Event()
    worker = threading.Thread(target=app.run, args=(stop,))
    before = int(time.time() * 1000)
    worker.start()
    assert app.wait_online(10)
    watcher = _Retained(host, port, state_topic(host_id), f"{topic_prefix}-watch")
    try:
        assert _wait(lambda: len(watcher.messages) >= 1)
        online = watcher.messages[0]
        assert online["online"] is True
        assert before <= int(str(online["timestamp"])) <= int(time.time() * 1000)
        stop.set()
        worker.join(10)
        assert _wait(lambda: len(watcher.messages) >= 2)
        assert watcher.messages[1] == {"online": False, "timestamp": online["timestamp"]}
    finally:
        watcher.close()
    # Retained: a late subscriber still learns that the host is offline.
    late = _Retained(host, port, state_topic(host_id), f"{topic_prefix}-late")
    try:
        assert _wait(lambda: len(late.messages) == 1)
        assert late.messages[0]["online"] is False
    finally:
        late.close()
        cleanup = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-clean")
        cleanup.connect(host, port)
        cleanup.loop_start()
        cleanup.publish(state_topic(host_id), b"", qos=1, retain=True).wait_for_publish(5)
        cleanup.disconnect()
        cleanup.loop_stop()


def test_births_aliases_data_gap_rebirth_and_death(
    running_host: tuple[SparkplugHost, MemorySink, list[tuple[str, str]]],
    mqtt_broker: tuple[str, int],
    topic_prefix: str,
) -> None:
    app, sink, events = running_host
    host, port = mqtt_broker
    edge = EdgeNodeSimulator(topic_prefix, "gw1", _devices(), host=host, port=port, bd_seq=3)
    edge.start()
    node = lambda: app.nodes.get((topic_prefix, "gw1"))  # noqa: E731
    assert _wait(lambda: node() is not None and node().online and len(node().aliases) == 2)
    assert node().bd_seq == 3
    energy = f"{topic_prefix}/gw1/EM-01/Active Energy"
    gas = f"{topic_prefix}/gw1/GM-01/Gas Volume"
    # Births carry values: one reading per device metric.
    assert _wait(lambda: {r.meter_id for r in sink.readings.values()} == {energy, gas})

    t0 = 1_709_252_100_000
    for i in range(1, 4):
        edge.publish_data("EM-01", {"Active Energy": 1000.0 + 10 * i}, ts_ms=t0 + i * 60_000)
        edge.publish_data("GM-01", {"Gas Volume": 50.0 + i}, ts_ms=t0 + i * 60_000)
    assert _wait(lambda: len(sink.readings) == 2 + 6)
    reading = sink.readings[(energy, datetime.fromtimestamp((t0 + 120_000) / 1000, UTC))]
    assert (reading.value, reading.unit) == (1020.0, "kWh")
    assert sink.readings[(gas, datetime.fromtimestamp((t0 + 180_000) / 1000, UTC))].value == 53.0
    assert app.stats.rebirths_requested == 0

    # A lost message: the next one waits for the reorder timeout, then the host asks for a
    # rebirth, the node answers with new births, and data flows again.
    edge.skip_seq()
    edge.publish_data("EM-01", {"Active Energy": 2000.0}, ts_ms=t0 + 600_000)
    assert _wait(lambda: any(e == "gap" for e, _ in events))
    assert app.stats.rebirths_requested == 0  # not before the timeout
    assert _wait(lambda: edge.rebirths_answered == 1)
    assert _wait(lambda: not node().awaiting_birth and node().online)
    assert app.stats.rebirths_requested == 1
    held = datetime.fromtimestamp((t0 + 600_000) / 1000, UTC)
    # Held past the gap: stored with its own time, marked as received after a gap.
    assert sink.readings[(energy, held)].value == 2000.0
    assert sink.readings[(energy, held)].quality == "good+seq_gap"
    assert app.stats.held_released == 1
    edge.publish_data("EM-01", {"Active Energy": 2100.0}, ts_ms=t0 + 660_000)
    later = datetime.fromtimestamp((t0 + 660_000) / 1000, UTC)
    assert _wait(lambda: (energy, later) in sink.readings)

    # An NDEATH from an earlier session (bdSeq 2) must not take the node offline.
    stale = Payload(timestamp=t0)
    stale.metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=2)
    intruder = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-stale")
    intruder.connect(host, port)
    intruder.loop_start()
    topic = str(SparkplugTopic(topic_prefix, "NDEATH", "gw1"))
    intruder.publish(topic, stale.SerializeToString(), qos=1).wait_for_publish(5)
    intruder.disconnect()
    intruder.loop_stop()
    assert _wait(lambda: app.stats.stale_deaths_ignored == 1)
    assert node().online

    # Power cut: the broker publishes the node's will, whose bdSeq matches → offline.
    edge.crash()
    assert _wait(lambda: not node().online)
    assert ("NDEATH", str(SparkplugTopic(topic_prefix, "NDEATH", "gw1"))) in events
    assert sink.rejected == []


def _offline_host() -> tuple[SparkplugHost, MemorySink]:
    sink = MemorySink()
    app = SparkplugHost(SparkplugHostConfig(default_unit="kWh", reorder_timeout=1.0), sink)
    app._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    return app, sink


# Offline messages are dated from here (milliseconds): times near 1970 are refused.
T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z


def _birth(seq: int = 0, bd_seq: int = 0) -> Payload:
    birth = Payload(timestamp=T0_MS + 1_000, seq=seq)
    birth.metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=bd_seq)
    birth.metrics.add(name="Power", alias=5, datatype=int(DataType.Double), double_value=1.0)
    return birth


def _data(seq: int, value: float, ts: int) -> Payload:
    data = Payload(timestamp=T0_MS + ts, seq=seq)
    data.metrics.add(alias=5, double_value=value)
    return data


def test_messages_reordered_within_the_timeout_are_applied_in_seq_order() -> None:
    app, sink = _offline_host()
    nbirth = SparkplugTopic("g", "NBIRTH", "e")
    ndata = SparkplugTopic("g", "NDATA", "e")
    app.handle(nbirth, _birth(), b"")
    app.handle(ndata, _data(2, 3.0, 3_000), b"")  # arrives before seq 1
    assert len(sink.readings) == 1
    app.handle(ndata, _data(1, 2.0, 2_000), b"")
    assert sorted(r.value for r in sink.readings.values()) == [1.0, 2.0, 3.0]
    app.check_reorder_timeouts(now=time.monotonic() + 5)
    assert app.stats.rebirths_requested == 0


def test_seq_wraps_from_255_to_0() -> None:
    app, sink = _offline_host()
    app.handle(SparkplugTopic("g", "NBIRTH", "e"), _birth(seq=254), b"")
    for i, seq in enumerate((255, 0, 1)):
        app.handle(SparkplugTopic("g", "NDATA", "e"), _data(seq, float(i), 10_000 + i), b"")
    assert len(sink.readings) == 4
    assert app.nodes[("g", "e")].next_seq == 2


def test_data_before_birth_and_unknown_alias_are_quarantined_and_ask_for_rebirth() -> None:
    app, sink = _offline_host()
    app.handle(SparkplugTopic("g", "NDATA", "e"), _data(7, 1.0, 1_000), b"raw")
    assert sink.rejected[0].reason == "NDATA before NBIRTH of its edge node"
    assert app.stats.rebirths_requested == 1
    app.handle(SparkplugTopic("g", "NBIRTH", "e"), _birth(), b"")
    unknown = Payload(timestamp=T0_MS + 2_000, seq=1)
    unknown.metrics.add(alias=99, double_value=1.0)
    app.handle(SparkplugTopic("g", "NDATA", "e"), unknown, b"")
    assert "alias 99 not declared" in sink.rejected[1].reason
    assert app.stats.rebirths_requested == 2


def test_topic_parsing() -> None:
    assert parse_topic("spBv1.0/g/DDATA/e/d") == SparkplugTopic("g", "DDATA", "e", "d")
    assert parse_topic("spBv1.0/g/NDATA/e") == SparkplugTopic("g", "NDATA", "e")
    assert parse_topic("spBv1.0/STATE/host") is None
    assert parse_topic("spBv1.0/g/DDATA/e") is None
    assert parse_topic("plant/g/NDATA/e") is None
