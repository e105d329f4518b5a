"""Bring a database to the newest schema with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from carbonlink.errors import StoreError

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic configuration pointing at the packaged migrations (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        url = engine.url.render_as_string(hide_password=False).replace("%", "%%")
        config.set_main_option("sqlalchemy.url", url)
    return config


def upgrade(engine: Engine, revision: str = "head", *, workspace: Path | None = None) -> None:
    """Migrate the database behind ``engine`` up to ``revision`` (the newest by default).

    ``workspace`` is the folder the database belongs to, for migrations that rewrite the paths
    it records (by default the folder of a SQLite file; none for a server database).
    """
    config = alembic_config(engine)
    if workspace is not None:
        config.attributes["workspace"] = workspace
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise StoreError(
            f"cannot migrate the database at {engine.url!r}: {exc.orig}",
            hint="check that the database server is running and the URL is right",
        ) from exc


def downgrade(engine: Engine, revision: str, *, workspace: Path | None = None) -> None:
    """Migrate the database behind ``engine`` down to ``revision`` (``base`` empties it)."""
    config = alembic_config(engine)
    if workspace is not None:
        config.attributes["workspace"] = workspace
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision among the packaged migrations."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()
