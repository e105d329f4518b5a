"""A workspace: a folder with a configuration file and the embedded database, migrated to head."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from carbonlink.domain.metering import Facility, Organization
from carbonlink.errors import ConfigError
from carbonlink.settings import Settings
from carbonlink.store.engine import engine_from_settings
from carbonlink.store.migrate import current_revision, upgrade
from carbonlink.store.repository import Store

CONFIG_NAME = "carbonlink.yaml"

CONFIG_TEMPLATE = """\
# carbonlink workspace configuration (read by every carbonlink command run on this workspace).
# CARBONLINK_* environment variables take precedence over what is written here.

# Database: leave empty for the embedded SQLite file carbonlink.db in this folder, or give
# a PostgreSQL URL such as postgresql+psycopg://carbonlink@db.example/carbonlink
database_url:

# Your enterprise and its sites; time zones are IANA names, used to cut days, months and years.
# organization:
#   id: my-enterprise
#   name: My Enterprise Co., Ltd.
#   country: CN
# facilities:
#   - id: main-works
#     name: Main works
#     time_zone: Asia/Shanghai
#     grid_region: CN-East
"""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OrganizationConfig(_Section):
    """The enterprise the workspace belongs to."""

    id: str
    name: str
    country: str | None = None


class FacilityConfig(_Section):
    """A site: its IANA time zone cuts the accounting periods of its meters."""

    id: str
    name: str
    time_zone: str
    grid_region: str | None = None
    address: str | None = None

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}; use an IANA name") from exc
        return value


class WorkspaceConfig(BaseModel):
    """The workspace file. Sections other areas of carbonlink read are passed over here."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    database_url: str | None = None
    organization: OrganizationConfig | None = None
    facilities: list[FacilityConfig] = Field(default_factory=list)


def load_workspace_config(directory: Path) -> WorkspaceConfig:
    """The workspace's configuration file, or an empty configuration when there is none."""
    path = directory / CONFIG_NAME
    if not path.is_file():
        return WorkspaceConfig()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return WorkspaceConfig.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=str(path)) from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()
        )
        raise ConfigError(f"invalid workspace configuration: {problems}", file=str(path)) from exc


def effective_settings(settings: Settings, config: WorkspaceConfig) -> Settings:
    """The settings with the workspace file's database URL unless the environment gave one."""
    if settings.database_url or not config.database_url:
        return settings
    return settings.model_copy(update={"database_url": config.database_url})


def register_reference(store: Store, config: WorkspaceConfig) -> None:
    """Put the configured organization and facilities into the store (idempotent)."""
    if config.facilities and config.organization is None:
        raise ConfigError(
            "facilities are configured without an organization",
            file=CONFIG_NAME,
            hint="add an organization: section with id and name",
        )
    if config.organization is not None:
        org = config.organization
        store.save_organization(Organization(org.id, org.name, org.country))
        for site in config.facilities:
            store.save_facility(
                Facility(site.id, org.id, site.name, site.time_zone, site.grid_region, site.address)
            )


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where a workspace lives and what its database is."""

    directory: Path
    config_file: Path
    database_url: str
    revision: str | None


def workspace_path(path: Path, workspace: Path) -> str:
    """How the workspace's database records a file: relative to the workspace folder.

    A file inside the workspace is recorded as ``reports/q1.pdf``, one in the folder that holds
    the workspace (where ``carbonlink demo`` writes its outputs, beside its ``workspace``) as
    ``../q1.pdf``, with ``/`` separators on every system. A copied, moved or restored workspace
    then serves its own files, never the original folder's. A file anywhere else is not the
    workspace's own and keeps its absolute path.
    """
    target = Path(os.path.abspath(path))
    root = Path(os.path.abspath(workspace))
    if target.is_relative_to(root):
        return target.relative_to(root).as_posix()
    beside = root.parent not in (root, Path(root.anchor))
    if beside and target.is_relative_to(root.parent):
        return (PurePosixPath("..") / target.relative_to(root.parent).as_posix()).as_posix()
    return str(target)


def resolve_workspace_path(stored: str, workspace: Path) -> Path:
    """The file a path recorded by `workspace_path` names, for the workspace at ``workspace``
    (an absolute path, as older workspaces recorded them, is taken as it is)."""
    path = Path(stored)
    if path.is_absolute():
        return path
    return Path(os.path.normpath(Path(os.path.abspath(workspace)) / path))


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
    store = open_store(settings.model_copy(update={"workspace": directory}))
    engine = store.engine
    try:
        revision = current_revision(engine)
    finally:
        engine.dispose()
    return Workspace(directory, config_file, engine.url.render_as_string(), revision)


def open_store(settings: Settings, *, migrate: bool = True) -> Store:
    """The store of the settings' workspace, migrated to the newest schema (unless ``migrate``
    is false), with the organization and facilities of the workspace file registered."""
    config = load_workspace_config(settings.workspace)
    engine = engine_from_settings(effective_settings(settings, config))
    if migrate:
        upgrade(engine, workspace=settings.workspace)
    store = Store(engine)
    if migrate:
        register_reference(store, config)
    return store
