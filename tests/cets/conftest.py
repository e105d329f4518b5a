from __future__ import annotations

import pytest
from sqlalchemy import Engine

from carbonlink.ledger import Ledger
from carbonlink.ledger.note import Signer


@pytest.fixture
def ledger(engine: Engine) -> Ledger:
    return Ledger(engine)


@pytest.fixture(scope="session")
def log_signer() -> Signer:
    return Signer.generate("example.com/carbonlink-cets-test-log")
