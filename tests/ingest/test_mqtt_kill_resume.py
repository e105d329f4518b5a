"""Nothing lost, nothing twice: SIGKILL the MQTT collector mid-stream, restart it, count."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from sqlalchemy import inspect

from carbonlink.store import Store, create_store_engine

pytestmark = pytest.mark.broker

T0_MS = 1_704_067_200_000  # 2024-01-01T00:00:00Z
STREAM = 4000
METERS = 8


def _collector(mapping: Path, database: str, workspace: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CARBONLINK_WORKSPACE": str(workspace)}
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from carbonlink.cli import main; main()",
            "ingest",
            "mqtt",
            str(mapping),
            "--database",
            database,
            "--batch-size",
            "200",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class _Observer:
    """Reads the collector's store from outside, as an operator would."""

    def __init__(self, database: str) -> None:
        self.database = database
        self.store: Store | None = None

    def _open(self) -> Store | None:
        if self.store is None:
            # The collector creates and migrates the database; wait until it has.
            store = Store(create_store_engine(self.database))
            if not inspect(store.engine).has_table("readings"):
                store.engine.dispose()
                return None
            self.store = store
        return self.store

    def count(self, meter: str | None = None) -> int:
        store = self._open()
        if store is None:
            return 0
        total = store.reading_count(meter)
        return total if meter is not None else total - store.reading_count("probe")

    def stored(self) -> dict[tuple[str, int], float]:
        store = self._open()
        assert store is not None
        values = {}
        for i in range(METERS):
            series = store.series(f"EM-{i:02d}")
            for ts, value in zip(series.ts_us.tolist(), series.value.tolist(), strict=True):
                values[(series.meter_id, ts // 1000)] = value
        return values


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _meter_ids() -> list[str]:
    return ["probe", *(f"EM-{i:02d}" for i in range(METERS))]


def _reading(i: int) -> tuple[str, dict[str, float]]:
    meter = f"EM-{i % METERS:02d}"
    return meter, {"ts": T0_MS + (i // METERS) * 900_000, "value": round(i * 0.25, 2)}


@pytest.mark.slow
def test_sigkill_mid_stream_loses_nothing_and_stores_nothing_twice(
    private_broker: tuple[str, int], topic_prefix: str, tmp_path: Path
) -> None:
    host, port = private_broker
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        f"host: {host}\nport: {port}\nclient_id: {topic_prefix}-collector\n"
        f"topics:\n  - topic: '{topic_prefix}/+/energy'\n    meter: '{{1}}'\n    unit: kWh\n"
        "meters:\n"
        + "".join(f"  - {{id: {m}, kind: interval, unit: kWh}}\n" for m in _meter_ids()),
        encoding="utf-8",
    )
    database = f"sqlite:///{tmp_path / 'carbonlink.db'}"
    db = _Observer(database)
    publisher = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-pub", protocol=mqtt.MQTTv5
    )
    publisher.max_inflight_messages_set(100)
    publisher.connect(host, port)
    publisher.loop_start()

    first = _collector(mapping, database, tmp_path)
    # The broker keeps messages only for a session that exists: wait until the collector's
    # subscription is live (a probe reading arrives) before the stream starts.
    probe = 0

    def probed() -> bool:
        nonlocal probe
        probe += 1
        body = json.dumps({"ts": T0_MS + probe, "value": 0})
        publisher.publish(f"{topic_prefix}/probe/energy", body, qos=1)
        return db.count("probe") > 0

    assert _wait(probed, 20), first.stderr.read1() if first.stderr else ""  # type: ignore[union-attr]

    published_after_kill = threading.Event()
    killed = threading.Event()

    def stream() -> None:
        for i in range(STREAM):
            meter, body = _reading(i)
            publisher.publish(f"{topic_prefix}/{meter}/energy", json.dumps(body), qos=1)
            if killed.is_set():
                published_after_kill.set()
            time.sleep(0.0005)

    streamer = threading.Thread(target=stream)
    streamer.start()
    assert _wait(lambda: db.count() >= 600, 30)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    killed.set()
    stored_at_kill = db.count()
    assert stored_at_kill >= 600
    time.sleep(0.5)  # the stream goes on while no collector runs
    second = _collector(mapping, database, tmp_path)
    streamer.join(60)
    assert published_after_kill.is_set()
    assert stored_at_kill < STREAM

    assert _wait(lambda: db.count() == STREAM, 60), f"stored {db.count()} of {STREAM}"

    # QoS-1 duplicates (a publisher retrying, a broker redelivering) change nothing, not even
    # with another value in the payload.
    for i in range(0, 400):
        meter, body = _reading(i)
        body["value"] = -1.0
        publisher.publish(f"{topic_prefix}/{meter}/energy", json.dumps(body), qos=1)
    # A last probe, published after the duplicates, marks that they have all been processed.
    probes = db.count("probe")
    last = json.dumps({"ts": T0_MS - 1, "value": 0})
    publisher.publish(f"{topic_prefix}/probe/energy", last, qos=1)
    assert _wait(lambda: db.count("probe") == probes + 1, 20)
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=20)
    publisher.disconnect()
    publisher.loop_stop()

    expected = {}
    for i in range(STREAM):
        meter, body = _reading(i)
        expected[(meter, int(body["ts"]))] = body["value"]
    assert db.stored() == expected
    assert db.count() == STREAM
    assert second.returncode == 0, err.decode()
    assert b"duplicates ignored" in err
