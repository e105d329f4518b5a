"""MQTT collector into the ledger: each flush one import batch with its message-set hash."""

from __future__ import annotations

import json
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import text

from carbonlink.domain.metering import Meter
from carbonlink.ingest.mqtt import MqttCollector, MqttCollectorConfig, TopicMapping
from carbonlink.ledger import Ledger, RecomputeRegistry, TamperError, verify_ledger
from carbonlink.ledger.note import Signer
from carbonlink.provenance import LedgerSink
from carbonlink.store import Store


def _wait(condition: object, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.mark.broker
def test_every_flush_is_a_recorded_batch_that_verify_recomputes(
    mqtt_broker: tuple[str, int], topic_prefix: str, store: Store
) -> None:
    host, port = mqtt_broker
    config = MqttCollectorConfig(
        host=host,
        port=port,
        client_id=f"{topic_prefix}-collector",
        session_expiry=30,
        batch_size=8,
        flush_interval=0.05,
        topics=[TopicMapping(topic=f"{topic_prefix}/+/energy", meter="{1}", unit="kWh")],
    )
    ledger = Ledger(store.engine)
    store.save_meter(Meter("EM-1", "interval", "kWh"))
    collector = MqttCollector(config, LedgerSink(store, ledger), meters=store.meters)
    stop = threading.Event()
    worker = threading.Thread(target=collector.run, args=(stop,))
    worker.start()
    try:
        assert collector.wait_subscribed(10)
        publisher = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-pub", protocol=mqtt.MQTTv5
        )
        publisher.connect(host, port)
        publisher.loop_start()
        base = 1_709_252_100_000
        for i in range(20):
            body = {"ts": base + 900_000 * i, "value": float(i)}
            publisher.publish(f"{topic_prefix}/EM-1/energy", json.dumps(body), qos=1)
        publisher.publish(f"{topic_prefix}/EM-1/energy", b"{broken", qos=1).wait_for_publish(5)
        assert _wait(lambda: collector.stats.stored == 20 and collector.stats.quarantined == 1)
        publisher.disconnect()
        publisher.loop_stop()
    finally:
        stop.set()
        worker.join(10)
    entries = [e for e in ledger.entries() if e.kind == "import-batch"]
    assert len(entries) == collector.stats.batches >= 3  # batches of at most 8 messages
    contents = [e.content() for e in entries]
    assert sum(c["records"] for c in contents) == 21
    assert sum(c["details"]["readings"] for c in contents) == 20
    assert sum(c["rejected"] for c in contents) == 1
    for entry, content in zip(entries, contents, strict=True):
        batch = store.batch(content["batch_id"])
        assert (batch.kind, batch.ledger_index) == ("mqtt", entry.index)
        assert content["raw_sha256"] == batch.file_sha256
    registry = RecomputeRegistry.from_entry_points()
    signer = Signer.generate("example.com/collector")
    ledger.sign_checkpoint(signer)
    assert verify_ledger(ledger, signer.verifier(), full=True, recompute=registry).recomputed == {
        "import-batch": len(entries)
    }
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE readings SET value = value + 1 WHERE value = 7"))
    with pytest.raises(TamperError, match="import-batch") as caught:
        verify_ledger(ledger, signer.verifier(), full=True, recompute=registry)
    assert caught.value.index in {e.index for e in entries}
