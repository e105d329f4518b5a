"""Nothing lost, nothing twice: SIGKILL the MQTT collector mid-stream, restart it, count."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

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


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    if not db.exists():
        return []
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute(sql).fetchall()
        except sqlite3.OperationalError:  # table not created yet
            return []


def _count(db: Path) -> int:
    return int(_rows(db, "SELECT count(*) FROM reading WHERE meter_id != 'probe'")[0][0] or 0)


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _reading(i: int) -> tuple[str, dict[str, float]]:
    meter = f"EM-{i % METERS:02d}"
    return meter, {"ts": T0_MS + (i // METERS) * 900_000, "value": round(i * 0.25, 2)}


def test_sigkill_mid_stream_loses_nothing_and_stores_nothing_twice(
    private_broker: tuple[str, int], topic_prefix: str, tmp_path: Path
) -> None:
    host, port = private_broker
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        f"host: {host}\nport: {port}\nclient_id: {topic_prefix}-collector\n"
        f"topics:\n  - topic: '{topic_prefix}/+/energy'\n    meter: '{{1}}'\n    unit: kWh\n",
        encoding="utf-8",
    )
    db = tmp_path / "carbonlink.db"
    database = f"sqlite:///{db}"
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
        return bool(_rows(db, "SELECT 1 FROM reading WHERE meter_id = 'probe'"))

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
    assert _wait(lambda: _count(db) >= 600, 30)
    first.send_signal(signal.SIGKILL)
    first.communicate(timeout=10)
    killed.set()
    stored_at_kill = _count(db)
    assert stored_at_kill >= 600
    time.sleep(0.5)  # the stream goes on while no collector runs
    second = _collector(mapping, database, tmp_path)
    streamer.join(60)
    assert published_after_kill.is_set()
    assert stored_at_kill < STREAM

    assert _wait(lambda: _count(db) == STREAM, 60), f"stored {_count(db)} of {STREAM}"

    # QoS-1 duplicates (a publisher retrying, a broker redelivering) change nothing, not even
    # with another value in the payload.
    for i in range(0, 400):
        meter, body = _reading(i)
        body["value"] = -1.0
        publisher.publish(f"{topic_prefix}/{meter}/energy", json.dumps(body), qos=1)
    publisher.publish(
        f"{topic_prefix}/probe/energy", json.dumps({"ts": T0_MS - 1, "value": 0}), qos=1
    )
    assert _wait(
        lambda: bool(_rows(db, f"SELECT 1 FROM reading WHERE ts = '{_iso(T0_MS - 1)}'")), 20
    )
    second.send_signal(signal.SIGTERM)
    _, err = second.communicate(timeout=20)
    publisher.disconnect()
    publisher.loop_stop()

    stored = {
        (str(m), str(ts)): float(v)  # type: ignore[arg-type]
        for m, ts, v in _rows(
            db, "SELECT meter_id, ts, value FROM reading WHERE meter_id != 'probe'"
        )
    }
    expected = {}
    for i in range(STREAM):
        meter, body = _reading(i)
        expected[(meter, _iso(int(body["ts"])))] = body["value"]
    assert stored == expected
    assert second.returncode == 0, err.decode()
    assert b"duplicates ignored" in err


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat()
