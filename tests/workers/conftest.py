"""Fixtures of the ingest-worker tests: PostgreSQL schemas, NATS servers, and no worker process
left behind."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ingest_plant import PostgresSchema, WorkerProcess, unavailable
from nats_servers import NatsServers
from sqlalchemy import text

from carbonlink.store import create_store_engine, upgrade


@pytest.fixture
def postgres_schema() -> Iterator[PostgresSchema]:
    base = os.environ.get("CARBONLINK_TEST_POSTGRES_URL")
    if not base:
        unavailable("PostgreSQL: CARBONLINK_TEST_POSTGRES_URL is not set")
    assert base is not None
    name = f"carbonlink_workers_{uuid.uuid4().hex[:10]}"
    admin = create_store_engine(base)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    except Exception as exc:
        admin.dispose()
        unavailable(f"PostgreSQL at {base} is unreachable: {exc}")
    separator = "&" if "?" in base else "?"
    url = f"{base}{separator}options=-csearch_path%3D{name}"
    engine = create_store_engine(url)
    try:
        upgrade(engine)
        yield PostgresSchema(engine, url)
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsServers]:
    servers = NatsServers(tmp_path / "nats", size=3).start_all()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def nats_single(tmp_path: Path) -> Iterator[NatsServers]:
    servers = NatsServers(tmp_path / "nats", size=1).start_all()
    try:
        yield servers
    finally:
        servers.stop()


@pytest.fixture(autouse=True)
def _no_worker_left() -> Iterator[None]:
    """Whatever a test leaves running of the workers it started is killed at its end."""
    yield
    for process in WorkerProcess.started:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
    WorkerProcess.started.clear()
