"""Shared fixtures.

``engine`` and ``store`` give each test a freshly migrated database, once on SQLite and once on
PostgreSQL. PostgreSQL runs when CARBONLINK_TEST_POSTGRES_URL names a server; each test session
works in a schema of its own (dropped at the end), and the tables are emptied between tests.
With CARBONLINK_REQUIRE_SERVICES=1 (CI) an unset or unreachable server fails instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from carbonlink.store import Store, create_store_engine, upgrade

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CARBONLINK_SHARED", PROJECT_ROOT.parent / "shared"))


def services_required() -> bool:
    """Whether a missing service must fail the run (CI) rather than skip the test."""
    return os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1"


def _unavailable(reason: str) -> None:
    if services_required():
        pytest.fail(f"{reason} (CARBONLINK_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "carbonlink.db"
    engine = create_store_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_engine() -> Iterator[Engine]:
    url = os.environ.get("CARBONLINK_TEST_POSTGRES_URL")
    if not url:
        _unavailable("CARBONLINK_TEST_POSTGRES_URL is not set")
    assert url is not None
    schema_name = f"carbonlink_test_{uuid.uuid4().hex[:12]}"
    admin = create_store_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema_name}"'))
    except OperationalError as exc:
        admin.dispose()
        _unavailable(f"PostgreSQL at {url} is unreachable: {exc.orig}")
    engine = create_store_engine(url, connect_args={"options": f"-csearch_path={schema_name}"})
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema_name}" CASCADE'))
        admin.dispose()


def _empty_postgres(engine: Engine) -> None:
    with engine.begin() as connection:
        tables = connection.execute(
            text(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
        ).scalars()
        names = ", ".join(f'"{name}"' for name in tables)
        if names:
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated, empty database: SQLite in tmp_path or the session's PostgreSQL schema."""
    if request.param == "sqlite":
        path = tmp_path / "carbonlink.db"
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
        sqlite_engine = create_store_engine(f"sqlite:///{path}")
        yield sqlite_engine
        sqlite_engine.dispose()
        return
    postgres_engine: Engine = request.getfixturevalue("_postgres_engine")
    _empty_postgres(postgres_engine)
    yield postgres_engine
    _empty_postgres(postgres_engine)


@pytest.fixture
def store(engine: Engine) -> Store:
    """A `Store` over the ``engine`` fixture's database (both backends)."""
    return Store(engine)


@pytest.fixture(scope="session")
def steel_plant_file() -> Path:
    """The real UCI steel plant file beside the project (``../shared``), or skip without it."""
    path = SHARED / "data" / "steel-industry-energy" / "Steel_industry_data.csv"
    if not path.is_file():
        pytest.skip(f"the plant file {path} is not present")
    return path
