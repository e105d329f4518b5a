"""MQTT readings checked against the meter registry and a plausible time window; the
collector waits for its broker at start, or stops at once with --fail-fast."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.domain.metering import Meter
from carbonlink.errors import IngestError
from carbonlink.ingest.base import MemorySink, Reading, Rejected
from carbonlink.ingest.mqtt import (
    Backoff,
    MeterCheck,
    MqttCollector,
    MqttCollectorConfig,
    TimeWindow,
    TopicMapping,
    parse_message,
)
from carbonlink.store import Store

MAPPING = TopicMapping(topic="plant/+/energy/+", meter="{3}", unit="kWh")
NOW = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
WINDOW = TimeWindow(datetime(2000, 1, 1, tzinfo=UTC), NOW + timedelta(days=1))
REGISTRY = {
    "EM-07": Meter("EM-07", "register", "kWh", min_value=0, max_value=1_000_000),
    "GM-02": Meter("GM-02", "interval", "Nm3"),
}
T_MS = 1_709_252_100_000  # 2024-03-01T00:15:00Z


def _parse(body: object, meter: str = "EM-07") -> tuple[list[Reading], list[Rejected]]:
    check = MeterCheck(lambda: REGISTRY)
    topic = f"plant/mill1/energy/{meter}"
    return parse_message(MAPPING, topic, json.dumps(body).encode(), window=WINDOW, check=check)


def test_a_registered_meter_in_range_is_accepted_in_a_unit_of_its_kind() -> None:
    readings, rejected = _parse({"ts": T_MS, "value": 812.5, "unit": "MWh"})
    assert rejected == []
    assert (readings[0].meter_id, readings[0].value, readings[0].unit) == ("EM-07", 812.5, "MWh")
    assert readings[0].ts == datetime(2024, 3, 1, 0, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "meter", "reason"),
    [
        ({"ts": T_MS, "value": 1.0}, "EM-99", "unknown meter 'EM-99': register it first"),
        ({"ts": T_MS, "value": -5.0}, "EM-07", "outside the plausible range [0, 1e+06] kWh"),
        # 2 000 MWh = 2 000 000 kWh: the limit applies in the meter's unit.
        ({"ts": T_MS, "value": 2000.0, "unit": "MWh"}, "EM-07", "outside the plausible range"),
        ({"ts": T_MS, "value": 1.0, "unit": "Nm3"}, "EM-07", "unit 'Nm3' does not fit meter"),
        ({"ts": T_MS, "value": 1.0}, "GM-02", "unit 'kWh' does not fit meter GM-02 (Nm3)"),
        ({"ts": "2030-01-01T00:00:00Z", "value": 1.0}, "EM-07", "is in the future"),
        ({"ts": 4_102_444_800_000, "value": 1.0}, "EM-07", "is in the future"),
        ({"ts": "0001-01-01T00:00:00Z", "value": 1.0}, "EM-07", "is before 2000-01-01"),
        ({"ts": 1e300, "value": 1.0}, "EM-07", "out of range as epoch milliseconds"),
        ({"ts": T_MS, "value": 1.0, "quality": 3}, "EM-07", "quality 3 is not a text"),
    ],
)
def test_readings_the_registry_does_not_accept_are_rejected_with_the_reason(
    body: object, meter: str, reason: str
) -> None:
    readings, rejected = _parse(body, meter)
    assert readings == []
    assert reason in rejected[0].reason
    assert rejected[0].meter_id == meter


def test_epoch_seconds_are_refused_not_read_as_milliseconds() -> None:
    # 1 709 252 100 read as milliseconds is 1970-01-20; as seconds it is 2024-03-01T00:15Z.
    readings, rejected = _parse({"ts": 1_709_252_100, "value": 1.0})
    assert readings == []
    assert rejected[0].reason == (
        "timestamp 1709252100 read as epoch milliseconds is 1970-01-20T18:47:32.100000Z, "
        "as seconds 2024-03-01T00:15:00Z: send epoch milliseconds (1709252100000) or ISO 8601"
    )
    # A small number that is not a plausible date either way is simply too early.
    _, rejected = _parse({"ts": 12, "value": 1.0})
    assert "is before 2000-01-01" in rejected[0].reason


def test_a_meter_registered_while_running_is_found_after_the_refresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    registry: dict[str, Meter] = {}
    loads = 0

    def read() -> dict[str, Meter]:
        nonlocal loads
        loads += 1
        return dict(registry)

    check = MeterCheck(read)
    reading = Reading("EM-07", NOW, 1.0, "kWh")
    assert check.problem(reading) is not None
    registry["EM-07"] = REGISTRY["EM-07"]
    assert check.problem(reading) is not None  # not re-read at once: one query per refresh
    assert loads == 1
    clock = time.monotonic() + 10
    monkeypatch.setattr("carbonlink.ingest.mqtt.time.monotonic", lambda: clock)
    assert check.problem(reading) is None
    assert loads == 2


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    backoff = Backoff(0.5, 4.0, jitter=0.2)
    delays = [backoff.next() for _ in range(6)]
    for delay, nominal in zip(delays, [0.5, 1.0, 2.0, 4.0, 4.0, 4.0], strict=True):
        assert nominal * 0.8 <= delay <= nominal * 1.2
    backoff.reset()
    assert backoff.next() <= 0.6


def _wait(condition: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


@pytest.mark.broker
def test_collector_quarantines_what_the_registry_refuses(
    mqtt_broker: tuple[str, int], topic_prefix: str, store: Store
) -> None:
    host, port = mqtt_broker
    store.save_meter(Meter("EM-07", "register", "kWh", min_value=0, max_value=1e6))
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=f"{topic_prefix}-collector",
        session_expiry=30,
        flush_interval=0.05,
        topics=[TopicMapping(topic=f"{topic_prefix}/+", meter="{1}", unit="kWh")],
    )
    collector = MqttCollector(config, store, meters=store.meters)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))
    worker.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-pub")
    try:
        assert collector.wait_subscribed(10)
        publisher.connect(host, port)
        publisher.loop_start()
        future_ms = int((datetime.now(UTC) + timedelta(days=30)).timestamp() * 1000)
        for meter, body in [
            ("EM-07", {"ts": T_MS, "value": 10.0}),
            ("EM-99", {"ts": T_MS, "value": 10.0}),
            ("EM-07", {"ts": T_MS + 1000, "value": 5e6}),
            ("EM-07", {"ts": T_MS + 2000, "value": 1.0, "unit": "t"}),
            ("EM-07", {"ts": future_ms, "value": 1.0}),
            ("EM-07", {"ts": T_MS // 1000 + 60, "value": 1.0}),
        ]:
            publisher.publish(f"{topic_prefix}/{meter}", json.dumps(body), qos=1)
        assert _wait(lambda: collector.stats.stored + collector.stats.quarantined == 6)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        stop.set()
        worker.join(10)
    assert store.reading_count() == 1
    assert store.series("EM-07").value.tolist() == [10.0]
    reasons = [r.reason for r in store.quarantined()]
    assert len(reasons) == 5
    assert any(r.startswith("unknown meter 'EM-99'") for r in reasons)
    assert any("outside the plausible range" in r for r in reasons)
    assert any(r.startswith("unit 't' does not fit meter EM-07") for r in reasons)
    assert any("is in the future" in r for r in reasons)
    assert any("read as epoch milliseconds" in r for r in reasons)


@pytest.mark.broker
def test_collector_honours_the_window_stored_for_a_meter(
    mqtt_broker: tuple[str, int], topic_prefix: str, store: Store
) -> None:
    host, port = mqtt_broker
    store.save_meter(Meter("EM-07", "register", "kWh"))
    store.save_reading_window("EM-07", valid_from=datetime(2024, 3, 1, 6, 0, tzinfo=UTC))
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=f"{topic_prefix}-collector",
        session_expiry=30,
        flush_interval=0.05,
        topics=[TopicMapping(topic=f"{topic_prefix}/+", meter="{1}", unit="kWh")],
    )
    collector = MqttCollector(config, store, meters=store.meters)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))
    worker.start()
    publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-pub")
    try:
        assert collector.wait_subscribed(10)
        publisher.connect(host, port)
        publisher.loop_start()
        # 00:15 lies in the collector's window (from 2000) but before the meter's own (06:00).
        for body in [{"ts": T_MS, "value": 1.0}, {"ts": T_MS + 8 * 3_600_000, "value": 2.0}]:
            publisher.publish(f"{topic_prefix}/EM-07", json.dumps(body), qos=1)
        assert _wait(lambda: collector.stats.stored + collector.stats.quarantined == 2)
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        stop.set()
        worker.join(10)
    assert store.series("EM-07").value.tolist() == [2.0]
    (kept,) = store.quarantined()
    assert kept.meter_id == "EM-07"
    assert kept.reason.startswith(
        "timestamp 2024-03-01T00:15:00+00:00 is outside the plausible window 2024-03-01 06:00 to "
    )


@pytest.fixture
def mosquitto_binary() -> str:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
            pytest.fail("the mosquitto binary is required (CARBONLINK_REQUIRE_SERVICES=1)")
        pytest.skip("the mosquitto binary is not installed")
    return binary


def _start_mosquitto(binary: str, port: int, tmp_path: Path) -> subprocess.Popen[bytes]:
    conf = tmp_path / f"mosquitto-{port}.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\n", encoding="utf-8")
    return subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.fixture
def late_broker(
    mosquitto_binary: str, tmp_path: Path, loopback_port: int
) -> Iterator[tuple[int, Callable[[], None]]]:
    """A free port and a function that starts a private Mosquitto on it (later)."""
    port = loopback_port
    started: list[subprocess.Popen[bytes]] = []
    yield port, lambda: started.append(_start_mosquitto(mosquitto_binary, port, tmp_path))
    for process in started:
        process.terminate()
        process.wait(10)


def test_collector_waits_for_a_broker_that_starts_later(
    late_broker: tuple[int, Callable[[], None]], caplog: pytest.LogCaptureFixture
) -> None:
    port, start_broker = late_broker
    config = MqttCollectorConfig(
        port=port,
        client_id="late-collector",
        flush_interval=0.05,
        reconnect_initial=0.2,
        reconnect_max=0.5,
        topics=[TopicMapping(topic="late/+", meter="{1}", unit="kWh")],
    )
    sink = MemorySink()
    collector = MqttCollector(config, sink, meters=lambda: REGISTRY)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))
    with caplog.at_level(logging.WARNING, logger="carbonlink.ingest.mqtt"):
        worker.start()
        try:
            assert _wait(lambda: "cannot reach the MQTT broker" in caplog.text, 5)
            assert worker.is_alive()
            start_broker()
            assert collector.wait_subscribed(10)
            publisher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="late-pub")
            publisher.connect("127.0.0.1", port)
            publisher.loop_start()
            body = json.dumps({"ts": T_MS, "value": 3.0})
            publisher.publish("late/EM-07", body, qos=1).wait_for_publish(5)
            assert _wait(lambda: len(sink.readings) == 1)
            publisher.disconnect()
            publisher.loop_stop()
        finally:
            stop.set()
            worker.join(10)
    assert not worker.is_alive()
    assert "retrying in" in caplog.text


def test_fail_fast_stops_at_once_when_the_broker_is_away(loopback_port: int) -> None:
    config = MqttCollectorConfig(
        port=loopback_port, fail_fast=True, topics=[TopicMapping(topic="x/+", meter="{1}")]
    )
    collector = MqttCollector(config, MemorySink(), meters=dict)
    started = time.monotonic()
    with pytest.raises(IngestError, match="cannot reach the MQTT broker"):
        collector.run(threading.Event())
    assert time.monotonic() - started < 5


def test_fail_fast_flag_of_the_command(tmp_path: Path, loopback_port: int) -> None:
    mapping = tmp_path / "map.yaml"
    mapping.write_text("topics: [{topic: 'x/+', meter: '{1}', unit: kWh}]\n", encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable, "-c", "from carbonlink.cli import main; main()", "ingest", "mqtt",
            str(mapping), "--port", str(loopback_port), "--fail-fast",
            "--database", f"sqlite:///{tmp_path / 'c.db'}",
        ],
        env={**os.environ, "CARBONLINK_WORKSPACE": str(tmp_path)},
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr.decode()
    assert b"cannot reach the MQTT broker" in result.stderr


def test_collector_reconnects_after_a_broker_restart(
    mosquitto_binary: str, tmp_path: Path, loopback_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    port = loopback_port
    broker = _start_mosquitto(mosquitto_binary, port, tmp_path)
    config = MqttCollectorConfig(
        port=port,
        client_id="restart-collector",
        flush_interval=0.05,
        reconnect_initial=0.2,
        reconnect_max=1.0,
        topics=[TopicMapping(topic="restart/+", meter="{1}", unit="kWh")],
    )
    sink = MemorySink()
    collector = MqttCollector(config, sink, meters=lambda: REGISTRY)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))

    def publish(ts: int, value: float) -> None:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="restart-pub")
        client.connect("127.0.0.1", port)
        client.loop_start()
        body = json.dumps({"ts": ts, "value": value})
        client.publish("restart/EM-07", body, qos=1).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()

    with caplog.at_level(logging.WARNING, logger="carbonlink.ingest.mqtt"):
        worker.start()
        try:
            assert _wait(lambda: collector.stats.connects == 1 and collector.wait_subscribed(0))
            publish(T_MS, 1.0)
            assert _wait(lambda: len(sink.readings) == 1)
            broker.terminate()
            broker.wait(10)
            assert _wait(lambda: "lost connection to the MQTT broker" in caplog.text, 10)
            time.sleep(2)
            assert worker.is_alive()
            broker = _start_mosquitto(mosquitto_binary, port, tmp_path)
            assert _wait(lambda: collector.stats.connects == 2 and collector.wait_subscribed(0), 15)
            publish(T_MS + 60_000, 2.0)
            assert _wait(lambda: len(sink.readings) == 2)
        finally:
            stop.set()
            worker.join(10)
            broker.terminate()
            broker.wait(10)
    assert "reconnected to the MQTT broker" in caplog.text
    assert sorted(r.value for r in sink.readings.values()) == [1.0, 2.0]
