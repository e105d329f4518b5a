"""Helpers of the ingest-worker tests: a plant with meters and alert rules, a PostgreSQL schema
that worker processes reach by URL, and `carbonlink worker ingest` run as a real process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pytest
from nats_servers import NatsServers
from sqlalchemy import Engine

from carbonlink.domain.metering import Facility, Meter, Organization
from carbonlink.monitor.rules import AlertRule
from carbonlink.store import Store
from carbonlink.store.results import save_alert_rules

ORG = "org-steel"
METERS = [f"plant{i // 5}.EM-{i:02d}" for i in range(20)]
WATCHED = METERS[:5]
LIMIT = 100.0


def unavailable(reason: str) -> None:
    if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CARBONLINK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@dataclass
class PostgresSchema:
    """A fresh, migrated schema: its engine and the URL a subprocess connects with."""

    engine: Engine
    url: str


def register_plant(engine: Engine) -> None:
    """One organization, four facilities of five electricity meters each, and a threshold rule
    (value above 100 kWh) on every meter."""
    store = Store(engine)
    store.save_organization(Organization(ORG, "Steel group"))
    for plant in range(4):
        store.save_facility(Facility(f"plant{plant}", ORG, f"Plant {plant}", "Asia/Shanghai"))
    for meter_id in METERS:
        facility = meter_id.split(".")[0]
        store.save_meter(Meter(meter_id, "interval", "kWh", facility_id=facility))
    rule = AlertRule(id="over-100", kind="threshold", meter_id="*", above=LIMIT)
    save_alert_rules(engine, ORG, [rule])


@dataclass
class WorkerProcess:
    """`carbonlink worker ingest` running as its own process, its output in a file."""

    args: list[str]
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started: ClassVar[list[subprocess.Popen[bytes]]] = []

    def start(self) -> WorkerProcess:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            self.args, env=self.env, stdout=handle, stderr=subprocess.STDOUT
        )
        handle.close()
        WorkerProcess.started.append(self.process)
        return self

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 15) -> int:
        """SIGTERM, then the exit code (the worker finishes its batch and stops)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def worker(
    tmp_path: Path,
    name: str,
    database_url: str,
    servers: NatsServers,
    *,
    replicas: int,
    ack_wait: float = 3.0,
    batch: int = 50,
) -> WorkerProcess:
    env = {
        **os.environ,
        "CARBONLINK_WORKSPACE": str(tmp_path / "workspace"),
        "CARBONLINK_DATABASE_URL": database_url,
        "CARBONLINK_NATS_URL": ",".join(servers.urls),
        "CARBONLINK_NATS_REPLICAS": str(replicas),
    }
    carbonlink = Path(sys.executable).with_name("carbonlink")
    args = [
        str(carbonlink),
        "worker",
        "ingest",
        "--ack-wait",
        str(ack_wait),
        "--batch",
        str(batch),
    ]
    return WorkerProcess(args, env, tmp_path / f"{name}.log")
