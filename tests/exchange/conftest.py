"""Fixtures of the exchange tests: a development certificate, hosts over HTTPS on loopback."""

from __future__ import annotations

import shutil
import ssl
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from exchange_helpers import FakeClock, HostFactory
from sqlalchemy import Engine

from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.host import HostConfig, create_pact_app
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.exchange.server import BackgroundHost
from carbonlink.exchange.tls import make_dev_certificate, trust
from carbonlink.store import create_store_engine


@pytest.fixture(scope="session")
def dev_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost."""
    return make_dev_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def tls_context(dev_cert: tuple[Path, Path]) -> ssl.SSLContext:
    """A client context trusting the development certificate only."""
    return trust(dev_cert[0])


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def pact_host(dev_cert: tuple[Path, Path], tls_context: ssl.SSLContext) -> Iterator[HostFactory]:
    """Start PACT hosts over HTTPS on free loopback ports; all stopped at the end."""
    started: list[BackgroundHost] = []

    def start(
        engine: Engine,
        clock: Callable[[], datetime] | None = None,
        *,
        worker_interval: float | None = None,
        max_page_size: int = 100,
        credentials: dict[str, tuple[str, str]] | None = None,
        public_url: str | None = None,
    ) -> tuple[BackgroundHost, ExchangeRepository, EventWorker]:
        config = HostConfig(
            worker_interval=worker_interval, max_page_size=max_page_size, public_url=public_url
        )
        if clock is not None:
            config.clock = clock
        repository = ExchangeRepository(engine, clock=config.clock)
        worker = EventWorker(repository, source="", credentials=credentials or {})
        worker.verify = tls_context
        app = create_pact_app(engine, config, worker=worker)
        host = BackgroundHost(app, certfile=dev_cert[0], keyfile=dev_cert[1]).start()
        worker.source = host.url
        started.append(host)
        return host, repository, worker

    yield start
    for host in started:
        host.stop()


@pytest.fixture
def second_engine(tmp_path: Path, _sqlite_template: Path) -> Iterator[Engine]:
    """Another freshly migrated SQLite database: the store of a second company's host."""
    path = tmp_path / "second.db"
    shutil.copyfile(_sqlite_template, path)
    engine = create_store_engine(f"sqlite:///{path}")
    yield engine
    engine.dispose()
