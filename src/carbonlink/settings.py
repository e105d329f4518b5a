"""Settings, declared once with their help text and read from ``CARBONLINK_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from carbonlink.errors import ConfigError

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
PLACEHOLDER_SECRETS = frozenset({"", DEV_SECRET_KEY, "changeme", "change-me", "secret", "dev"})


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
    pact_organization: str = Field(
        default="default",
        description=(
            "Organization whose PACT exchange the `carbonlink pact` commands manage; 'default' "
            "is the owner a stand-alone PACT host serves."
        ),
    )
    mqtt_host: str = Field(default="127.0.0.1", description="MQTT broker host.")
    mqtt_port: int = Field(default=1883, description="MQTT broker port.")
    production: bool = Field(
        default=False,
        description="Production mode: secure cookies, and placeholder secrets are refused.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description=(
            "Key for session and CSRF tokens. Required in production: at least 32 random "
            "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
        ),
    )
    session_hours: float = Field(default=12.0, description="Lifetime of a web session, hours.")
    login_attempts: int = Field(
        default=5, description="Failed logins allowed per address and account per window."
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes per hash.")
    argon2_memory_kib: int = Field(
        default=65536, ge=8, description="argon2id memory per hash, KiB (RFC 9106 §4: 64 MiB)."
    )
    login_window_s: int = Field(default=300, description="Window of the login rate limit, s.")
    public_url: str | None = Field(
        default=None,
        description=(
            "The service's public base URL (https://host:port). Its /pact path is the PACT "
            "host: the CloudEvents 'source' of the events it sends. Empty: the address "
            "`carbonlink serve` listens on."
        ),
    )
    pact_worker_interval: float = Field(
        default=5.0,
        ge=0,
        description=(
            "Seconds between runs of the service's PACT event worker (answers requests, "
            "delivers events with backoff, records footprint receipts); 0 turns it off."
        ),
    )
    pact_credentials: Path | None = Field(
        default=None,
        description=(
            "JSON file of our credentials at partners' PACT hosts, "
            '{"https://host/base": ["client id", "secret"]}, used to deliver events.'
        ),
    )
    pact_ca_cert: Path | None = Field(
        default=None,
        description="Certificate (PEM) to trust for partners' PACT hosts; empty: the system CAs.",
    )
    pact_forwarded_https: bool = Field(
        default=False,
        description=(
            "Behind a TLS-terminating proxy: take 'X-Forwarded-Proto: https' as HTTPS, so that "
            "production mode serves /pact. Enable only when the proxy sets that header."
        ),
    )

    def check_secrets(self) -> None:
        """Refuse a missing, short or well-known secret in production mode.

        Called by ``create_app()`` so that a misconfigured service never starts.
        """
        if not self.production:
            return
        key = self.secret_key.get_secret_value()
        if key in PLACEHOLDER_SECRETS or len(key) < 32:
            raise ConfigError(
                "CARBONLINK_SECRET_KEY is a placeholder or shorter than 32 characters",
                record="secret_key",
                hint="set it to a long random value before running in production mode",
            )

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry the Secure flag in production (served over HTTPS)."""
        return self.production

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file of the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'carbonlink.db').resolve()}"
