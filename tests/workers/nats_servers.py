"""NATS servers with JetStream started by a test: one, or a cluster, on free loopback ports.

Each server gets its own store directory and log file under the test's temporary folder; a
server can be killed (SIGKILL, no goodbye to its peers) and the whole set is stopped at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest


def nats_server_binary() -> str:
    """The nats-server program; skips (or fails, when services are required) without it."""
    found = shutil.which("nats-server") or (
        "/usr/sbin/nats-server" if os.access("/usr/sbin/nats-server", os.X_OK) else None
    )
    if found is None:
        reason = "nats-server is not installed (Debian package nats-server)"
        if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (CARBONLINK_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return found


def free_ports(n: int) -> list[int]:
    """n distinct TCP ports free on 127.0.0.1 now."""
    sockets = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing answers on 127.0.0.1:{port}")


@dataclass
class NatsServers:
    """A set of nats-server processes (a cluster when there are several)."""

    root: Path
    size: int = 1
    binary: str = ""
    client_ports: list[int] = field(default_factory=list)
    cluster_ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes] | None] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.binary = self.binary or nats_server_binary()
        ports = free_ports(2 * self.size)
        self.client_ports = ports[: self.size]
        self.cluster_ports = ports[self.size :]
        self.processes = [None] * self.size

    @property
    def urls(self) -> list[str]:
        return [f"nats://127.0.0.1:{port}" for port in self.client_ports]

    def start(self, index: int) -> None:
        store = self.root / f"n{index}"
        store.mkdir(parents=True, exist_ok=True)
        args = [
            self.binary,
            "-a",
            "127.0.0.1",
            "-p",
            str(self.client_ports[index]),
            "-js",
            "-sd",
            str(store),
            "-n",
            f"n{index}",
            "-l",
            str(self.root / f"n{index}.log"),
        ]
        if self.size > 1:
            routes = ",".join(f"nats://127.0.0.1:{p}" for p in self.cluster_ports)
            args += [
                "--cluster_name",
                "carbonlink-test",
                "--cluster",
                f"nats://127.0.0.1:{self.cluster_ports[index]}",
                "--routes",
                routes,
            ]
        self.processes[index] = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_port(self.client_ports[index])

    def start_all(self) -> NatsServers:
        for index in range(self.size):
            self.start(index)
        return self

    def kill(self, index: int) -> None:
        process = self.processes[index]
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
        self.processes[index] = None

    def stop(self) -> None:
        for index, process in enumerate(self.processes):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.kill(index)
