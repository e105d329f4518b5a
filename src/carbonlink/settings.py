"""Settings, declared once with their help text and read from ``CARBONLINK_*`` variables."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from carbonlink.errors import ConfigError

DEV_SECRET_KEY = "dev-only-insecure-key-change-me"
PLACEHOLDER_SECRETS = frozenset({"", DEV_SECRET_KEY, "changeme", "change-me", "secret", "dev"})


MIN_SECRET_KEY_BYTES = 32
MIN_SECRET_KEY_SYMBOLS = 8


def secret_key_problem(key: str) -> str | None:
    """What is wrong with a secret key, or None when it looks random enough.

    A key of at least 32 bytes without surrounding blanks, with at least 8 different symbols,
    none of them making up more than a third of it: 32 spaces, "k" × 40 or "abab…" are
    refused; 32 random hex digits or a `secrets.token_urlsafe(32)` pass. (With a quarter and
    10 symbols, about 1 in 500 random 32-digit hex keys was refused; now about 1 in 20 000.)
    """
    if key in PLACEHOLDER_SECRETS:
        return "is a well-known placeholder"
    stripped = key.strip()
    if len(stripped.encode()) < MIN_SECRET_KEY_BYTES:
        return f"is shorter than {MIN_SECRET_KEY_BYTES} bytes (blanks not counted)"
    symbols = {c: stripped.count(c) for c in set(stripped)}
    if len(symbols) < MIN_SECRET_KEY_SYMBOLS or max(symbols.values()) * 3 > len(stripped):
        return "repeats a few characters: it does not look random"
    return None


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
    nats_url: str | None = Field(
        default=None,
        description=(
            "NATS server(s) with JetStream, comma-separated (nats://127.0.0.1:4222). Set: the "
            "collectors publish readings to the ingest stream and `carbonlink worker ingest` "
            "stores them. Empty: collectors write straight to the database (one process)."
        ),
    )
    nats_stream: str = Field(
        default="CARBONLINK_READINGS", description="Name of the JetStream ingest stream."
    )
    nats_replicas: int = Field(
        default=1, ge=1, le=5, description="Copies of the ingest stream in a JetStream cluster."
    )
    nats_max_bytes: int = Field(
        default=-1,
        description=(
            "Largest size of the ingest stream's backlog, bytes (-1: no limit but the disk); "
            "when full, new publishes are refused, never old readings dropped."
        ),
    )
    production: bool = Field(
        default=False,
        description="Production mode: secure cookies, and placeholder secrets are refused.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEV_SECRET_KEY),
        description=(
            "Key of the service's keyed digests (PACT client secrets) and signed tokens (device "
            "cookies, log-in choices). Required in production, and whenever set: at least 32 "
            "random bytes (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`). "
            "Changing it invalidates the PACT client secrets stored with the old key, and the "
            "alert channels' signing keys and SMTP passwords sealed with it (enter them again)."
        ),
    )
    session_hours: float = Field(default=12.0, description="Lifetime of a web session, hours.")
    login_attempts: int = Field(
        default=5,
        ge=1,
        description=(
            "Failed logins allowed per window for one account from unknown browsers, and for "
            "each browser that has logged in to it before (its device cookie)."
        ),
    )
    login_address_attempts: int = Field(
        default=20, ge=1, description="Failed logins allowed per client address per window."
    )
    pact_token_attempts: int = Field(
        default=20,
        ge=1,
        description="Failed PACT token requests allowed per client address per login window.",
    )
    max_body_mb: float = Field(
        default=32.0,
        gt=0,
        description=(
            "Largest request body the service reads, MB (uploads, API batches); the log-in, "
            "password and token endpoints take at most 16 KiB, other forms 1 MiB."
        ),
    )
    password_reset_hours: float = Field(
        default=24.0, gt=0, description="Hours a password reset link stays valid."
    )
    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes per hash.")
    argon2_memory_kib: int = Field(
        default=65536, ge=8, description="argon2id memory per hash, KiB (RFC 9106 §4: 64 MiB)."
    )
    login_window_s: int = Field(default=300, description="Window of the login rate limit, s.")
    public_url: str | None = Field(
        default=None,
        description=(
            "The service's public base URL (https://host:port): links in invitation e-mails "
            "start with it, and its /pact path is the PACT host, the CloudEvents 'source' of "
            "the events it sends. Empty: the address `carbonlink serve` listens on."
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
    handle_prefix: str | None = Field(
        default=None,
        description=(
            "Handle prefix your identifier node assigned (e.g. 88.123.4567): each batch imported "
            "from production records is named <prefix>/<batch id> and resolves at "
            "/api/handles/<prefix>/<batch id>."
        ),
    )
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server for supplier invitations; empty: the page shows the link to copy.",
    )
    smtp_port: int = Field(default=25, description="SMTP server port.")
    smtp_sender: str = Field(
        default="carbonlink@localhost", description="From address of invitation e-mails."
    )
    smtp_username: str | None = Field(default=None, description="SMTP login, if required.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP link with STARTTLS.")
    invitation_days: float = Field(
        default=7.0, gt=0, description="Days a supplier invitation link stays valid."
    )
    reminder_interval_s: float = Field(
        default=3600.0,
        ge=0,
        description=(
            "Seconds between the service's rounds of reminders to portal suppliers of requests "
            "due soon (each request is reminded once, whichever worker finds it); 0 turns them "
            "off (then run `carbonlink suppliers remind` from cron)."
        ),
    )
    reminder_days: int = Field(
        default=3, ge=0, description="Suppliers are reminded of requests due within these days."
    )
    witness_prefix: str = Field(
        default="/witness",
        pattern=r"^(/[A-Za-z0-9._~-]+)+$",
        description=(
            "Path under which `carbonlink serve` answers as a witness (c2sp.org/tlog-witness): "
            "POST <prefix>/add-checkpoint, GET <prefix>/<origin hash>/checkpoint."
        ),
    )

    @property
    def service_url(self) -> str:
        """The public base URL without a trailing slash (``carbonlink serve``'s default)."""
        return (self.public_url or "http://127.0.0.1:8000").rstrip("/")

    def check_secrets(self) -> None:
        """Refuse a missing, short or well-known secret in production mode.

        Called by ``create_app()`` so that a misconfigured service never starts.
        """
        key = self.secret_key.get_secret_value()
        if not self.production and key == DEV_SECRET_KEY:
            return
        problem = secret_key_problem(key)
        if problem:
            raise ConfigError(
                f"CARBONLINK_SECRET_KEY {problem}",
                record="secret_key",
                hint=(
                    "set it to a long random value, e.g. the output of "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
                ),
            )

    @property
    def key_bytes(self) -> bytes:
        """The secret key as bytes, for the keyed digests and signatures made with it."""
        return self.secret_key.get_secret_value().encode()

    @property
    def secure_cookies(self) -> bool:
        """Cookies carry the Secure flag in production (served over HTTPS)."""
        return self.production

    def resolved_database_url(self) -> str:
        """The database URL, defaulting to the embedded SQLite file of the workspace."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.workspace / 'carbonlink.db').resolve()}"
