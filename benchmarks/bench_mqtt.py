"""MQTT QoS-1 readings per second, end to end: publisher → Mosquitto → collector → store.

Both runs use the same broker and the same messages, published at QoS 1 by a separate process
as fast as the broker accepts them:

* floor: a bare paho-mqtt subscriber (QoS 1, automatic acknowledgement, nothing stored) that
  only counts messages;
* carbonlink: `MqttCollector` (persistent session, manual acknowledgement after storing,
  JSON parsing and topic mapping) writing into the store (SQLite file in WAL mode by default,
  PostgreSQL with ``--database``).

Rates are counted on the receiving side, from the first message received to the last one
counted (floor) or stored (carbonlink), so process start-up is left out. Two situations:
a live stream (the publisher runs while the consumer reads, so the rate is bounded by the
publisher too) and a backlog (the consumer was offline; its persistent session queued the
whole stream in the broker, and the rate is what one consumer drains).

By default a private Mosquitto (the installed binary) runs on a free loopback port with
``max_queued_messages 0``: a publisher bursting faster than one consumer reads makes the
broker queue the difference, and the stock limit of 1000 queued messages would drop QoS-1
messages instead. ``--broker HOST:PORT`` uses an existing broker configured likewise.

    .venv/bin/python benchmarks/bench_mqtt.py [--messages 100000] [--database URL]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import deque
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from carbonlink.domain.metering import Meter
from carbonlink.ingest.mqtt import CollectorStats, MqttCollector, MqttCollectorConfig, TopicMapping
from carbonlink.store import Store, create_store_engine, upgrade

METERS = 100
T0_MS = 1_704_067_200_000
TARGET = 10_000.0


def publish(host: str, port: int, prefix: str, count: int) -> None:
    """Publish `count` readings at QoS 1 (runs in its own process)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{prefix}-pub", protocol=mqtt.MQTTv5
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(host, port)
    client.loop_start()
    # paho numbers messages 1–65535: keep fewer than that unacknowledged, or ids would clash.
    window: deque[mqtt.MQTTMessageInfo] = deque()
    for i in range(count):
        body = {"ts": T0_MS + (i // METERS) * 60_000, "value": i * 0.5}
        info = client.publish(f"{prefix}/EM-{i % METERS:03d}/energy", json.dumps(body), qos=1)
        if info.rc != mqtt.MQTT_ERR_SUCCESS:
            raise SystemExit(f"publish failed: {mqtt.error_string(info.rc)}")
        window.append(info)
        if len(window) >= 20_000:
            window.popleft().wait_for_publish(600)
    while window:
        window.popleft().wait_for_publish(600)
    client.disconnect()
    client.loop_stop()


def _start_publisher(host: str, port: int, prefix: str, count: int) -> multiprocessing.Process:
    process = multiprocessing.get_context("spawn").Process(
        target=publish, args=(host, port, prefix, count)
    )
    process.start()
    return process


def floor(host: str, port: int, count: int, *, backlog: bool) -> float:
    """Messages/s of a bare QoS-1 subscriber that only counts."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    received = 0
    first = last = 0.0
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(_c: mqtt.Client, _u: object, _m: mqtt.MQTTMessage) -> None:
        nonlocal received, first, last
        if received == 0:
            first = time.perf_counter()
        received += 1
        if received == count:
            last = time.perf_counter()
            done.set()

    def connect() -> mqtt.Client:
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{prefix}-sub", protocol=mqtt.MQTTv5
        )
        client.on_message = on_message
        client.on_subscribe = lambda *_a: subscribed.set()
        properties = Properties(PacketTypes.CONNECT)
        properties.ReceiveMaximum = 2000
        properties.SessionExpiryInterval = 600
        client.connect(host, port, clean_start=False, properties=properties)
        client.loop_start()
        return client

    client = connect()
    client.subscribe(f"{prefix}/+/energy", qos=1)
    subscribed.wait(10)
    if backlog:
        client.disconnect()
        client.loop_stop()
        _start_publisher(host, port, prefix, count).join()
        client = connect()
        if not done.wait(600):
            raise SystemExit(f"floor: received {received} of {count}")
    else:
        publisher = _start_publisher(host, port, prefix, count)
        while not done.wait(1.0):
            if publisher.exitcode not in (None, 0):
                raise SystemExit("floor: the publisher failed")
            if publisher.exitcode == 0 and not done.wait(30):
                raise SystemExit(f"floor: received {received} of {count}")
        publisher.join()
    client.disconnect()
    client.loop_stop()
    return count / (last - first)


def carbonlink(
    host: str, port: int, count: int, database: str, *, backlog: bool
) -> tuple[float, CollectorStats]:
    """Messages/s of the collector, counted when their readings are stored."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    engine = create_store_engine(database)
    upgrade(engine)
    store = Store(engine)
    before = store.reading_count()
    first = last = 0.0
    stop = threading.Event()

    def on_batch(stats: CollectorStats) -> None:
        nonlocal last
        if stats.stored >= count:
            last = time.perf_counter()
            stop.set()

    for i in range(METERS):
        store.save_meter(Meter(f"{prefix}.EM-{i:03d}", "interval", "kWh"))
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=f"{prefix}-collector",
        session_expiry=600,
        topics=[TopicMapping(topic=f"{prefix}/+/energy", meter=f"{prefix}.{{1}}", unit="kWh")],
    )

    def start() -> tuple[MqttCollector, threading.Thread]:
        collector = MqttCollector(config, store, meters=store.meters, on_batch=on_batch)
        original = collector._on_message

        def timed(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            nonlocal first
            if first == 0.0:
                first = time.perf_counter()
            original(client, userdata, message)

        collector._client.on_message = timed
        worker = threading.Thread(target=collector.run, args=(stop,))
        worker.start()
        return collector, worker

    collector, worker = start()
    if not collector.wait_subscribed(10):
        raise SystemExit("carbonlink: the collector did not subscribe")
    if backlog:
        # The collector stops; its session stays, and the broker queues the whole stream.
        stop.set()
        worker.join()
        stop.clear()
        _start_publisher(host, port, prefix, count).join()
        collector, worker = start()
        worker.join(600)
    else:
        publisher = _start_publisher(host, port, prefix, count)
        while worker.is_alive():
            worker.join(1.0)
            done = publisher.exitcode == 0 and _stalled(collector)
            if publisher.exitcode not in (None, 0) or done:
                stop.set()
        publisher.join()
    stored = store.reading_count() - before
    engine.dispose()
    if stored != count:
        raise SystemExit(f"carbonlink: stored {stored} of {count}")
    return count / (last - first), collector.stats


def _stalled(collector: MqttCollector) -> bool:
    """No batch stored for 30 s after the publisher finished."""
    return time.monotonic() - collector.stats.last_flush > 30


def _private_broker(folder: Path) -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    conf = folder / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\nlog_dest none\n",
        encoding="utf-8",
    )
    process = subprocess.Popen([binary, "-c", str(conf)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            time.sleep(0.05)
    raise SystemExit("mosquitto did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--broker", help="HOST:PORT of an existing broker")
    parser.add_argument("--database", help="store URL (default: a fresh SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = None
        if args.broker:
            host, _, port_text = args.broker.partition(":")
            port = int(port_text)
        else:
            broker, port = _private_broker(Path(tmp))
            host = "127.0.0.1"
        database = args.database or f"sqlite:///{Path(tmp) / 'bench.db'}"
        results = {}
        try:
            for mode, backlog in (("live stream", False), ("backlog after an outage", True)):
                bare = floor(host, port, args.messages, backlog=backlog)
                rate, stats = carbonlink(host, port, args.messages, database, backlog=backlog)
                results[mode] = (bare, rate, stats)
        finally:
            if broker is not None:
                broker.terminate()
                broker.wait(10)
    backend = database.split(":", 1)[0]
    print(f"MQTT QoS 1, {args.messages:,} JSON readings, broker {host}:{port}, store {backend}")
    for mode, (bare, rate, stats) in results.items():
        print(f"  {mode}:")
        print(f"    floor (bare paho subscriber, no storage): {bare:>9,.0f} msg/s")
        print(
            f"    carbonlink collector → store:            {rate:>9,.0f} msg/s "
            f"({stats.batches} batches)"
        )
        verdict = "met" if rate >= TARGET else "NOT met"
        print(f"    ratio to floor {rate / bare:.2f} (target ≥ 0.5); ≥ {TARGET:,.0f}/s {verdict}")


if __name__ == "__main__":
    main()
