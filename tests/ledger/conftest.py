"""Fixtures of the ledger tests: a fresh ledger on SQLite and on PostgreSQL, and keys."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from carbonlink.ledger import Ledger
from carbonlink.ledger.note import COSIGNATURE_V1, Signer


def _unavailable(reason: str) -> None:
    if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CARBONLINK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def _postgres_engine() -> Iterator[Engine]:
    url = os.environ.get("CARBONLINK_TEST_POSTGRES_URL")
    if not url:
        _unavailable("CARBONLINK_TEST_POSTGRES_URL is not set")
    assert url is not None
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL at {url} is unreachable: {exc.orig}")
    separator = "&" if "?" in url else "?"
    engine = create_engine(f"{url}{separator}options=-csearch_path%3D{schema}")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def ledger_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database, once SQLite (a file) and once PostgreSQL (a schema of its own)."""
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
        yield engine
        engine.dispose()
    else:
        yield from _postgres_engine()


@pytest.fixture
def ledger(ledger_engine: Engine) -> Ledger:
    """A ledger with its tables created and nothing appended."""
    created = Ledger(ledger_engine)
    created.create_tables()
    return created


@pytest.fixture(scope="session")
def log_signer() -> Signer:
    return Signer.generate("example.com/carbonlink-test-log")


@pytest.fixture(scope="session")
def witness_signer() -> Signer:
    return Signer.generate("witness.example.com/w1", key_type=COSIGNATURE_V1)
