"""A workspace: a folder with a configuration file and the embedded database, migrated to head."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from carbonlink.settings import Settings
from carbonlink.store.engine import engine_from_settings
from carbonlink.store.migrate import current_revision, upgrade
from carbonlink.store.repository import Store

CONFIG_NAME = "carbonlink.yaml"

CONFIG_TEMPLATE = """\
# carbonlink workspace configuration.
# Settings may also come from CARBONLINK_* environment variables, which take precedence.

# Database: leave empty for the embedded SQLite file carbonlink.db in this folder, or give
# a PostgreSQL URL such as postgresql+psycopg://carbonlink@db.example/carbonlink
database_url:

# Your enterprise and its sites. Time zones are IANA names (Asia/Shanghai, Europe/Berlin).
organization:
  id: my-enterprise
  name: My Enterprise Co., Ltd.
facilities: []
"""


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where a workspace lives and what its database is."""

    directory: Path
    config_file: Path
    database_url: str
    revision: str | None


def init_workspace(directory: Path, settings: Settings) -> Workspace:
    """Create (or bring up to date) a workspace: its folder, config file and migrated database.

    Running it again is harmless: an existing config file is kept and the database is only
    migrated forward.
    """
    directory = directory.resolve()
    directory.mkdir(parents=True, exist_ok=True)
    config_file = directory / CONFIG_NAME
    if not config_file.exists():
        config_file.write_text(CONFIG_TEMPLATE, encoding="utf-8")
    local = settings.model_copy(update={"workspace": directory})
    engine = engine_from_settings(local)
    try:
        upgrade(engine)
        revision = current_revision(engine)
    finally:
        engine.dispose()
    return Workspace(directory, config_file, engine.url.render_as_string(), revision)


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The store the settings name, migrated to the newest schema unless ``migrate`` is false."""
    engine = engine_from_settings(settings)
    if migrate:
        upgrade(engine)
    return Store(engine)
