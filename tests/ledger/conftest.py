"""Fixtures of the ledger tests: a migrated ledger on SQLite and PostgreSQL, and keys.

The database comes from the shared ``engine`` fixture (tests/conftest.py): migrated to head by
Alembic, once SQLite and once PostgreSQL.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from carbonlink.ledger import Ledger
from carbonlink.ledger.note import COSIGNATURE_V1, Signer


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    """An empty ledger in a freshly migrated database."""
    return Ledger(engine)


@pytest.fixture(scope="session")
def log_signer() -> Signer:
    return Signer.generate("example.com/carbonlink-test-log")


@pytest.fixture(scope="session")
def witness_signer() -> Signer:
    return Signer.generate("witness.example.com/w1", key_type=COSIGNATURE_V1)
