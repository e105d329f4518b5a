"""The MQTT collector in JetStream mode: what it receives reaches the database through the
ingest stream and a worker — readings stored, an unreadable message quarantined with its topic."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
import sqlalchemy as sa
from ingest_plant import register_plant, unavailable
from nats_servers import NatsServers
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.ingest.jetstream import JetStreamSink, StreamSpec
from carbonlink.ingest.mqtt import MqttCollector, MqttCollectorConfig, TopicMapping
from carbonlink.workers.ingest import IngestWorker

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def broker() -> tuple[str, int]:
    host, _, port = os.environ.get("CARBONLINK_TEST_MQTT", "127.0.0.1:1883").partition(":")
    try:
        socket.create_connection((host, int(port)), timeout=1.0).close()
    except OSError:
        unavailable(f"MQTT broker {host}:{port}")
    return host, int(port)


def test_mqtt_readings_reach_the_database_through_the_stream(
    engine: sa.Engine, nats_single: NatsServers
) -> None:
    host, port = broker()
    register_plant(engine)
    prefix = f"cltest-{uuid.uuid4().hex[:12]}"
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=prefix,
        session_expiry=0,
        flush_interval=0.1,
        topics=[TopicMapping(topic=f"{prefix}/+", meter="plant0.{1}", unit="kWh")],
    )
    spec = StreamSpec(servers=tuple(nats_single.urls), ack_wait=5.0)
    sink = JetStreamSink(spec, "mqtt")
    collector = MqttCollector(config, sink, meters=None)
    stop = threading.Event()
    thread = threading.Thread(target=collector.run, args=(stop,))
    thread.start()
    try:
        assert collector.wait_subscribed(10)
        client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        client.connect(host, port)
        client.loop_start()
        sent = [
            (f"{prefix}/EM-00", json.dumps({"ts": f"2026-11-01T0{h}:00:00Z", "value": 40.0 + h}))
            for h in range(3)
        ] + [(f"{prefix}/EM-01", "not json")]
        for topic, payload in sent:
            client.publish(topic, payload, qos=1).wait_for_publish(5)
        client.loop_stop()
        client.disconnect()
        deadline = time.monotonic() + 15
        while collector.stats.received < len(sent) or collector.stats.stored < 3:
            assert time.monotonic() < deadline, collector.stats
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
        sink.close()
    # The collector handed 3 readings and 1 rejected record to the stream, acknowledged there.
    assert (collector.stats.stored, collector.stats.quarantined) == (3, 1)

    worker = IngestWorker(spec, engine, batch=10)

    async def consume() -> None:
        stop_worker = asyncio.Event()
        task = asyncio.create_task(worker.run(stop_worker))
        for _ in range(200):
            await asyncio.sleep(0.05)
            if worker.stats.messages >= sink.published:
                break
        stop_worker.set()
        await task

    asyncio.run(consume())
    with engine.connect() as conn:
        values = conn.execute(
            sa.text("SELECT value FROM readings WHERE meter_id = 'plant0.EM-00' ORDER BY ts")
        ).scalars()
        assert list(values) == [40.0, 41.0, 42.0]
        kept = conn.execute(sa.text("SELECT source_ref, reason FROM quarantine")).all()
    assert [(ref, reason.split(":")[0]) for ref, reason in kept] == [
        (f"mqtt:{prefix}/EM-01", "payload is not JSON")
    ]
