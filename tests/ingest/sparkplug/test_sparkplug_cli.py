"""`carbonlink ingest sparkplug` and `sparkplug-simulator` as a plant engineer runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from carbonlink.store import Store, create_store_engine

pytestmark = pytest.mark.broker


def _cli(*args: str, workspace: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *args],
        env={**os.environ, "CARBONLINK_WORKSPACE": str(workspace)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow
def test_host_command_stores_what_the_simulator_command_sends(
    mqtt_broker: tuple[str, int], topic_prefix: str, tmp_path: Path
) -> None:
    host, port = mqtt_broker
    database = f"sqlite:///{tmp_path / 'carbonlink.db'}"
    broker = ["--host", host, "--port", str(port)]
    host_id = f"{topic_prefix}-host"
    states: list[dict[str, object]] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix}-watch")
    watcher.on_message = lambda _c, _u, m: states.append(json.loads(m.payload or b"null"))
    watcher.connect(host, port)
    watcher.subscribe(f"spBv1.0/STATE/{host_id}", qos=1)
    watcher.loop_start()
    app = _cli(
        "ingest", "sparkplug", *broker, "--host-id", host_id, "--group", topic_prefix,
        "--database", database, workspace=tmp_path,
    )  # fmt: skip
    try:
        assert _wait(lambda: any(s and s.get("online") for s in states), 30)  # type: ignore[union-attr]
        simulator = _cli(
            "ingest", "sparkplug-simulator", *broker, "--group", topic_prefix,
            "--edge-node", "gw", "--count", "5", "--interval", "0.05", workspace=tmp_path,
        )  # fmt: skip
        _, sim_err = simulator.communicate(timeout=60)
        assert simulator.returncode == 0, sim_err.decode()
        store = Store(create_store_engine(database))
        energy = f"{topic_prefix}/gw/EM-01/Active Energy"
        gas = f"{topic_prefix}/gw/GM-01/Gas Volume"
        # One reading per metric from the births, then one per data round.
        assert _wait(lambda: store.reading_count() == 12, 20), store.reading_count()
        assert store.series(energy).value.tolist() == [125_000.0 + 12.5 * i for i in range(6)]
        assert store.series(energy).unit == ["kWh"] * 6
        assert store.series(gas).unit == ["Nm3"] * 6
        store.engine.dispose()
    finally:
        app.send_signal(signal.SIGTERM)
        _, err = app.communicate(timeout=30)
    assert app.returncode == 0, err.decode()
    assert b"NBIRTH" in err and b"NDEATH" in err
    assert _wait(lambda: states[-1] == {"online": False, "timestamp": states[0]["timestamp"]}, 10)
    watcher.publish(f"spBv1.0/STATE/{host_id}", b"", qos=1, retain=True).wait_for_publish(5)
    watcher.disconnect()
    watcher.loop_stop()
