"""Sparkplug host through broker outages, seq gaps that never close, and its own STATE."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.errors import IngestError
from carbonlink.ingest.base import MemorySink
from carbonlink.ingest.sparkplug.host import SparkplugHost, SparkplugHostConfig
from carbonlink.ingest.sparkplug.schema import DataType, Payload
from carbonlink.ingest.sparkplug.simulator import EdgeNodeSimulator, SimulatedMetric
from carbonlink.ingest.sparkplug.topics import SparkplugTopic, state_topic
from carbonlink.store import Store, create_store_engine


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


# --- held messages after a gap: stored, never dropped -----------------------------------------
def _offline_host() -> tuple[SparkplugHost, MemorySink]:
    sink = MemorySink()
    app = SparkplugHost(SparkplugHostConfig(default_unit="kWh", reorder_timeout=1.0), sink)
    app._client.publish = lambda *a, **k: None  # type: ignore[assignment,method-assign]
    return app, sink


# Offline messages are dated from here: times near 1970 are refused.
T0_MS = 1_709_251_200_000  # 2024-03-01T00:00:00Z
T0_S = T0_MS // 1000


def _birth(seq: int = 0, bd_seq: int = 0) -> Payload:
    birth = Payload(timestamp=T0_MS + 1_000_000, seq=seq)
    birth.metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=bd_seq)
    birth.metrics.add(name="Power", alias=5, datatype=int(DataType.Double), double_value=1.0)
    return birth


def _data(seq: int, value: float, ts: int) -> Payload:
    data = Payload(timestamp=T0_MS + ts, seq=seq)
    data.metrics.add(alias=5, double_value=value)
    return data


NBIRTH = SparkplugTopic("g", "NBIRTH", "e")
NDATA = SparkplugTopic("g", "NDATA", "e")


def test_messages_held_past_a_gap_timeout_are_stored_with_their_own_times() -> None:
    app, sink = _offline_host()
    app.handle(NBIRTH, _birth(), b"")
    # seq 1 is lost; seq 2..9 (eight values) wait for it.
    for seq in range(2, 10):
        app.handle(NDATA, _data(seq, float(seq), 2_000_000 + seq * 60_000), b"")
    assert len(sink.readings) == 1  # only the birth so far
    app.check_reorder_timeouts(now=time.monotonic() + 5)
    stored = {r.ts: (r.value, r.quality) for r in sink.readings.values() if r.value > 1}
    assert len(stored) == 8
    for seq in range(2, 10):
        ts = datetime.fromtimestamp(T0_S + (2_000_000 + seq * 60_000) / 1000, UTC)
        assert stored[ts] == (float(seq), "good+seq_gap")
    assert app.stats.held_released == 8
    assert app.stats.rebirths_requested == 1
    assert sink.rejected == []


@pytest.mark.parametrize("arrives", ["NBIRTH", "NDEATH"])
def test_messages_held_when_a_birth_or_death_arrives_are_stored_first(arrives: str) -> None:
    app, sink = _offline_host()
    app.handle(NBIRTH, _birth(bd_seq=4), b"")
    app.handle(NDATA, _data(3, 30.0, 3_000_000), b"")  # seq 1 and 2 lost
    if arrives == "NBIRTH":
        app.handle(NBIRTH, _birth(bd_seq=5), b"")
    else:
        death = Payload(timestamp=T0_MS + 4_000_000)
        death.metrics.add(name="bdSeq", datatype=int(DataType.Int64), long_value=4)
        app.handle(SparkplugTopic("g", "NDEATH", "e"), death, b"")
    reading = sink.readings[("g/e/Power", datetime.fromtimestamp(T0_S + 3_000, UTC))]
    assert (reading.value, reading.quality) == (30.0, "good+seq_gap")


def test_a_held_device_birth_declares_the_aliases_of_the_data_held_after_it() -> None:
    app, sink = _offline_host()
    app.handle(NBIRTH, _birth(), b"")
    dbirth = Payload(timestamp=T0_MS + 6_000_000, seq=2)  # seq 1 lost
    dbirth.metrics.add(name="Flow", alias=9, datatype=int(DataType.Double), double_value=4.0)
    app.handle(SparkplugTopic("g", "DBIRTH", "e", "d"), dbirth, b"")
    ddata = Payload(timestamp=T0_MS + 6_060_000, seq=3)
    ddata.metrics.add(alias=9, double_value=5.0)
    app.handle(SparkplugTopic("g", "DDATA", "e", "d"), ddata, b"")
    app.check_reorder_timeouts(now=time.monotonic() + 5)
    readings = sink.readings.values()
    flow = {r.ts: (r.value, r.quality) for r in readings if r.meter_id == "g/e/d/Flow"}
    assert flow == {
        datetime.fromtimestamp(T0_S + 6_000, UTC): (4.0, "good+seq_gap"),
        datetime.fromtimestamp(T0_S + 6_060, UTC): (5.0, "good+seq_gap"),
    }
    assert sink.rejected == []


def test_held_metrics_whose_alias_is_unknown_are_quarantined_not_dropped() -> None:
    app, sink = _offline_host()
    app.handle(NBIRTH, _birth(), b"")
    unknown = Payload(timestamp=T0_MS + 5_000_000, seq=2)
    unknown.metrics.add(alias=77, double_value=7.0)
    app.handle(NDATA, unknown, b"")
    app.check_reorder_timeouts(now=time.monotonic() + 5)
    assert len(sink.rejected) == 1
    assert "alias 77 not declared" in sink.rejected[0].reason


# --- STATE: the host watches its own topic ---------------------------------------------------
@pytest.mark.broker
def test_host_declared_offline_by_someone_else_says_online_again(
    mqtt_broker: tuple[str, int], topic_prefix: str
) -> None:
    host, port = mqtt_broker
    host_id = f"{topic_prefix}-host"
    app = SparkplugHost(SparkplugHostConfig(host=host, port=port, host_id=host_id), MemorySink())
    stop = threading.Event()
    worker = threading.Thread(target=app.run, args=(stop,))
    worker.start()
    states: list[dict[str, object]] = []
    other = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-other")
    other.on_message = lambda _c, _u, m: states.append(json.loads(m.payload or b"{}"))
    try:
        assert app.wait_online(10)
        other.connect(host, port)
        other.subscribe(state_topic(host_id), qos=1)
        other.loop_start()
        assert _wait(lambda: len(states) >= 1 and states[-1].get("online") is True)
        stale = json.dumps({"online": False, "timestamp": 1}).encode()
        other.publish(state_topic(host_id), stale, qos=1, retain=True).wait_for_publish(5)
        assert _wait(lambda: app.stats.state_republished == 1)
        assert _wait(lambda: states[-1].get("online") is True)
        assert {"online": False, "timestamp": 1} in states
    finally:
        stop.set()
        worker.join(10)
        other.publish(state_topic(host_id), b"", qos=1, retain=True).wait_for_publish(5)
        other.disconnect()
        other.loop_stop()
    # Its own offline STATE at shutdown is not answered.
    assert app.stats.state_republished == 1


# --- broker outages ---------------------------------------------------------------------------
class _Mosquitto:
    """A private Mosquitto on a fixed loopback port that the test can stop and start again."""

    def __init__(self, binary: str, port: int, folder: Path) -> None:
        self.port = port
        self.conf = folder / f"mosquitto-{port}.conf"
        self.conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n", "utf-8")
        self.binary = binary
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        assert _wait(self._listening, 10), "mosquitto did not start"

    def _listening(self) -> bool:
        import socket

        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def mosquitto(tmp_path: Path, loopback_port: int) -> Iterator[_Mosquitto]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        pytest.skip("the mosquitto binary is not installed")
    broker = _Mosquitto(binary, loopback_port, tmp_path)
    try:
        yield broker
    finally:
        broker.stop()


def _devices() -> dict[str, list[SimulatedMetric]]:
    return {"EM-01": [SimulatedMetric("Active Energy", 1, "kWh", 1000.0)]}


@pytest.mark.slow
def test_host_command_rides_through_a_broker_outage_of_more_than_ten_seconds(
    mosquitto: _Mosquitto, tmp_path: Path
) -> None:
    mosquitto.start()
    port = str(mosquitto.port)
    database = f"sqlite:///{tmp_path / 'carbonlink.db'}"
    host = subprocess.Popen(
        [
            sys.executable, "-c", "from carbonlink.cli import main; main()",
            "ingest", "sparkplug", "--host", "127.0.0.1", "--port", port, "--host-id", "h1",
            "--group", "plant", "--reorder-timeout", "0.5", "--reconnect-max", "2",
            "--database", database,
        ],
        env={**os.environ, "CARBONLINK_WORKSPACE": str(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    states: list[dict[str, object]] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watch")
    watcher.on_message = lambda _c, _u, m: states.append(json.loads(m.payload or b"{}"))
    watcher.on_connect = lambda c, *_a: c.subscribe(state_topic("h1"), qos=1)
    watcher.connect("127.0.0.1", mosquitto.port)
    watcher.loop_start()
    edge = EdgeNodeSimulator("plant", "gw", _devices(), host="127.0.0.1", port=mosquitto.port)
    store: Store | None = None
    energy = "plant/gw/EM-01/Active Energy"
    t0 = 1_709_252_100_000
    try:
        assert _wait(lambda: any(s.get("online") is True for s in states), 30)
        edge.start()
        for i in range(3):
            edge.publish_data("EM-01", {"Active Energy": 1000.0 + i}, ts_ms=t0 + i * 60_000)
        store = Store(create_store_engine(database))
        assert _wait(lambda: store.reading_count(energy) == 4, 20)  # birth + 3

        mosquitto.stop()
        time.sleep(11)
        assert host.poll() is None, "the host stopped while the broker was away"
        mosquitto.start()

        # The edge node reconnects as a new session (bdSeq + 1) and publishes its births; the
        # host, reconnected, takes them (or asks for them): a new birth reading is stored.
        assert _wait(lambda: edge.connects >= 2, 20)
        assert _wait(lambda: store.reading_count(energy) >= 5, 30)
        t1 = t0 + 3_600_000
        for i in range(3):
            edge.publish_data("EM-01", {"Active Energy": 2000.0 + i}, ts_ms=t1 + i * 60_000)
        after = [int((t1 + i * 60_000) * 1000) for i in range(3)]
        assert _wait(lambda: set(after) <= set(store.series(energy).ts_us.tolist()), 20)
        series = store.series(energy)
        values = dict(zip(series.ts_us.tolist(), series.value.tolist(), strict=True))
        assert [values[ts] for ts in after] == [2000.0, 2001.0, 2002.0]
        assert host.poll() is None
    finally:
        edge.crash()
        watcher.disconnect()
        watcher.loop_stop()
        if store is not None:
            store.engine.dispose()
        host.send_signal(signal.SIGTERM)
        _, err = host.communicate(timeout=30)
    text = " ".join(err.decode().split())
    assert host.returncode == 0, text
    assert f"lost connection to the MQTT broker at 127.0.0.1:{port}" in text
    assert "retrying in" in text
    assert f"reconnected to the MQTT broker at 127.0.0.1:{port}" in text


def test_host_waits_for_a_broker_that_starts_later(
    mosquitto: _Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    config = SparkplugHostConfig(
        port=mosquitto.port, host_id="late", reconnect_initial=0.2, reconnect_max=0.5
    )
    app = SparkplugHost(config, MemorySink())
    stop = threading.Event()
    worker = threading.Thread(target=app.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="carbonlink.ingest.sparkplug.host"):
        worker.start()
        try:
            assert _wait(lambda: "cannot reach the MQTT broker" in caplog.text, 5)
            assert worker.is_alive()
            mosquitto.start()
            assert app.wait_online(10)
        finally:
            stop.set()
            worker.join(10)
    assert not worker.is_alive()


def test_fail_fast_host_stops_at_once(loopback_port: int) -> None:
    config = SparkplugHostConfig(port=loopback_port, fail_fast=True)
    with pytest.raises(IngestError, match="cannot reach the MQTT broker"):
        SparkplugHost(config, MemorySink()).run(threading.Event())
