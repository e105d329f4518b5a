"""Fixtures for the live-stream collectors: the real MQTT broker, or a private Mosquitto."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _unavailable(what: str) -> None:
    if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{what} is required (CARBONLINK_REQUIRE_SERVICES=1) but unavailable")
    pytest.skip(f"{what} unavailable")


@pytest.fixture(scope="session")
def mqtt_broker() -> tuple[str, int]:
    """(host, port) of the running broker: CARBONLINK_TEST_MQTT or 127.0.0.1:1883."""
    host, _, port = os.environ.get("CARBONLINK_TEST_MQTT", "127.0.0.1:1883").partition(":")
    if not _reachable(host, int(port)):
        _unavailable(f"MQTT broker {host}:{port}")
    return host, int(port)


@pytest.fixture
def topic_prefix() -> str:
    """A topic level (and client id stem) no other test or run uses."""
    return f"cltest-{uuid.uuid4().hex[:12]}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def loopback_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    return free_port()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """A Mosquitto of our own on a free loopback port, configured as a plant broker should be.

    The system broker keeps Mosquitto's default ``max_queued_messages 1000``, which drops
    QoS-1 messages for a disconnected session beyond that; a collector outage longer than
    1000 messages needs a broker configured for it, as here.
    """
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        _unavailable("the mosquitto binary")
    port = free_port()
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\n"
        "allow_anonymous true\n"
        "persistence false\n"
        "max_queued_messages 0\n"
        "max_inflight_messages 0\n"
        "log_dest stderr\n",
        encoding="utf-8",
    )
    log = (tmp_path / "mosquitto.log").open("wb")
    process = subprocess.Popen([binary, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not _reachable("127.0.0.1", port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"private mosquitto did not start: {(tmp_path / 'mosquitto.log')}")
            time.sleep(0.05)
        yield "127.0.0.1", port
    finally:
        process.terminate()
        process.wait(10)
        log.close()
