"""Settings, declared once with their help text and read from ``CARBONLINK_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime settings. Built once in the CLI callback or ``create_app()`` and passed down."""

    model_config = SettingsConfigDict(env_prefix="CARBONLINK_", extra="ignore")

    workspace: Path = Field(
        default=Path("carbonlink-workspace"),
        description="Folder holding the workspace configuration, the embedded database and keys.",
    )
    database_url: str | None = Field(
        default=None,
        description=(
            "SQLAlchemy URL of the database. Empty: SQLite file 'carbonlink.db' inside the "
            "workspace. Production: postgresql+psycopg://user@host/db."
        ),
    )
    mqtt_host: str = Field(default="127.0.0.1", description="MQTT broker host.")
    mqtt_port: int = Field(default=1883, description="MQTT broker port.")

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file of the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'carbonlink.db').resolve()}"
