"""Engines for the embedded SQLite store and for PostgreSQL, built from `Settings`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from carbonlink.errors import ConfigError
from carbonlink.settings import Settings

# WAL lets readers run while an import writes; NORMAL sync is durable at each checkpoint and
# safe against application crashes, which is what a workstation needs.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
    "PRAGMA cache_size=-65536",
)


def normalise_url(url: str) -> str:
    """The URL with PostgreSQL pointed at psycopg 3, whatever driver the user wrote."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"cannot parse database URL {url!r}",
            hint="write sqlite:///path/to/file.db or postgresql+psycopg://user@host/db",
        ) from exc
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() != "psycopg":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _set_sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def create_store_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``: SQLite gets WAL and its pragmas, PostgreSQL uses psycopg 3."""
    url = normalise_url(url)
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            path = Path(parsed.database)
            path.parent.mkdir(parents=True, exist_ok=True)
            if not path.exists():
                # Readable by its owner only: the -wal and -shm files SQLite creates beside it
                # take the database file's mode.
                os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
            # A served file is used by many request threads at once; SQLAlchemy's default
            # pool of 5 then opens and closes a connection per request. Each connection keeps
            # its own page cache (cache_size above), so the pool is not sized for all 40
            # threads of the web server.
            if "poolclass" not in kwargs:
                kwargs.setdefault("pool_size", 20)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _set_sqlite_pragmas)
        return engine
    if backend == "postgresql":
        kwargs.setdefault("pool_pre_ping", True)
        return create_engine(url, **kwargs)
    raise ConfigError(
        f"database {backend!r} is not supported",
        hint="use SQLite (the default) or PostgreSQL (postgresql+psycopg://user@host/db)",
    )


def engine_from_settings(settings: Settings) -> Engine:
    """The engine of the database the settings name (the workspace's SQLite file by default)."""
    return create_store_engine(settings.resolved_database_url())
