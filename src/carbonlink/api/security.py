"""Who is calling: password login, web sessions with CSRF tokens, API keys, OAuth2 tokens, roles.

A `Principal` is what every route receives: the caller's organization and role. Routes ask
for a permission (``read``, ``write``, ``admin``, ``ledger``, ``exchange``); the role grants
it or the request ends with 403. Every lookup of tenant data is keyed by
``principal.organization_id``, so a caller never reaches another organization's records.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carbonlink.api.schema import ROLES, access_tokens, api_keys, oauth_clients, users, web_sessions
from carbonlink.errors import CarbonlinkError, InputError

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "admin", "ledger", "exchange"}),
    "editor": frozenset({"read", "write", "exchange"}),
    "viewer": frozenset({"read"}),
    "auditor": frozenset({"read", "ledger"}),
    "supplier": frozenset({"exchange"}),
}
API_KEY_PREFIX = "clk_"
TOKEN_LIFETIME = timedelta(hours=1)

# Every page request looks its session up: one primary-key lookup of the token's SHA-256 (the
# token is random, so no slow password hash is needed), with a statement built once so that
# SQLAlchemy reuses its compiled form.
SESSION_LOOKUP = (
    sa.select(
        users.c.id,
        users.c.organization_id,
        users.c.role,
        users.c.display_name,
        users.c.locale,
        users.c.disabled,
        web_sessions.c.csrf_token,
        web_sessions.c.expires_at,
    )
    .join(users, users.c.id == web_sessions.c.user_id)
    .where(web_sessions.c.token_hash == sa.bindparam("token_hash"))
)


class AuthenticationError(CarbonlinkError, PermissionError):
    """The caller could not be identified (no or bad credentials, expired session)."""


class ForbiddenError(CarbonlinkError, PermissionError):
    """The caller is known but its role does not allow the action."""


class RateLimitedError(CarbonlinkError, RuntimeError):
    """Too many failed logins from one address or for one account."""

    def __init__(self, message: str, *, retry_after_s: int, hint: str | None = None) -> None:
        self.retry_after_s = retry_after_s
        super().__init__(message, hint=hint)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user (web or API key holder) or an OAuth2 client."""

    organization_id: str
    role: str
    subject: str
    display_name: str
    locale: str = "zh"
    csrf_token: str | None = None
    via: str = "session"

    def can(self, permission: str) -> bool:
        """Whether the role grants ``permission``."""
        return permission in PERMISSIONS.get(self.role, frozenset())

    def require(self, permission: str) -> None:
        """Raise `ForbiddenError` unless the role grants ``permission``."""
        if not self.can(permission):
            raise ForbiddenError(
                f"role '{self.role}' may not {permission}",
                hint="ask an administrator of your organization for a role that allows it",
            )


def digest(secret: str) -> str:
    """SHA-256 hex digest of a high-entropy secret (token, API key, client secret)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(ts: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return ts if ts.tzinfo else ts.replace(tzinfo=UTC)


class LoginLimiter:
    """Sliding-window count of failed logins per client address and per account."""

    def __init__(self, attempts: int, window_s: int) -> None:
        self.attempts = attempts
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        """Raise `RateLimitedError` when any key has used up its failures in the window."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                window = self._failures[key]
                while window and now - window[0] > self.window_s:
                    window.popleft()
                if len(window) >= self.attempts:
                    retry = int(self.window_s - (now - window[0])) + 1
                    raise RateLimitedError(
                        "too many failed logins",
                        retry_after_s=retry,
                        hint=f"wait {retry} s before trying again",
                    )

    def fail(self, *keys: str) -> None:
        """Record one failed attempt for each key."""
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._failures[key].append(now)

    def reset(self, *keys: str) -> None:
        """Forget the failures of keys after a successful login."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)


class Accounts:
    """Users, sessions, API keys and OAuth2 clients over the accounts tables."""

    def __init__(
        self,
        engine: sa.Engine,
        session_lifetime: timedelta,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self.engine = engine
        self.session_lifetime = session_lifetime
        self._hasher = hasher or PasswordHasher()
        # Verifying against a real hash for unknown accounts keeps login timing uniform.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))

    # users ---------------------------------------------------------------------------------
    def create_user(
        self,
        organization_id: str,
        email: str,
        password: str,
        role: str,
        display_name: str | None = None,
        locale: str = "zh",
    ) -> str:
        """Add a user; return its id."""
        if role not in ROLES:
            raise InputError(f"unknown role '{role}'", hint=f"use one of {', '.join(ROLES)}")
        if len(password) < 10:
            raise InputError("password shorter than 10 characters", record=email)
        user_id = uuid.uuid4().hex
        with self.engine.begin() as conn:
            conn.execute(
                users.insert().values(
                    id=user_id,
                    organization_id=organization_id,
                    email=email.strip().lower(),
                    display_name=display_name or email,
                    password_hash=self._hasher.hash(password),
                    role=role,
                    locale=locale,
                    disabled=False,
                    created_at=_now(),
                )
            )
        return user_id

    def verify_password(self, email: str, password: str) -> str | None:
        """The user id when the password matches an enabled account, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(users.c.id, users.c.password_hash, users.c.disabled).where(
                    users.c.email == email.strip().lower()
                )
            ).first()
        try:
            self._hasher.verify(row.password_hash if row else self._dummy_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row.disabled:
            return None
        return str(row.id)

    # web sessions ----------------------------------------------------------------------------
    def open_session(self, user_id: str) -> tuple[str, str]:
        """Start a web session; return (session token for the cookie, CSRF token)."""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as conn:
            conn.execute(
                web_sessions.insert().values(
                    token_hash=digest(token),
                    user_id=user_id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + self.session_lifetime,
                )
            )
        return token, csrf

    def close_session(self, token: str) -> None:
        """End a web session."""
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.token_hash == digest(token)))

    def session_principal(self, token: str) -> Principal | None:
        """The user behind a session cookie, or None when unknown or expired."""
        with self.engine.connect() as conn:
            row = conn.execute(SESSION_LOOKUP, {"token_hash": digest(token)}).first()
        if row is None or row.disabled or _aware(row.expires_at) <= _now():
            return None
        return Principal(
            organization_id=row.organization_id,
            role=row.role,
            subject=f"user:{row.id}",
            display_name=row.display_name,
            locale=row.locale,
            csrf_token=row.csrf_token,
            via="session",
        )

    def user_can(self, user_id: str, permission: str) -> bool:
        """Whether the user's role grants ``permission``."""
        with self.engine.connect() as conn:
            role = conn.execute(sa.select(users.c.role).where(users.c.id == user_id)).scalar()
        return permission in PERMISSIONS.get(role or "", frozenset())

    def set_locale(self, subject: str, locale: str) -> None:
        """Remember a user's interface language."""
        if subject.startswith("user:"):
            with self.engine.begin() as conn:
                conn.execute(users.update().where(users.c.id == subject[5:]).values(locale=locale))

    # API keys ------------------------------------------------------------------------------
    def create_api_key(self, organization_id: str, name: str, role: str) -> str:
        """Issue an API key; the returned secret is shown once and never stored."""
        if role not in ROLES:
            raise InputError(f"unknown role '{role}'", hint=f"use one of {', '.join(ROLES)}")
        key_id = uuid.uuid4().hex
        secret = f"{API_KEY_PREFIX}{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(
                api_keys.insert().values(
                    id=key_id,
                    organization_id=organization_id,
                    name=name,
                    key_hash=digest(secret),
                    role=role,
                    created_at=_now(),
                )
            )
        return secret

    def api_key_principal(self, secret: str) -> Principal | None:
        """The holder of an API key, or None when unknown or revoked."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(api_keys).where(api_keys.c.key_hash == digest(secret))
            ).first()
        if row is None or row.revoked_at is not None:
            return None
        return Principal(row.organization_id, row.role, f"key:{row.id}", row.name, via="api_key")

    # OAuth2 client credentials ---------------------------------------------------------------
    def create_client(self, organization_id: str, name: str, role: str) -> tuple[str, str]:
        """Register an OAuth2 client; return (client_id, client_secret shown once)."""
        if role not in ROLES:
            raise InputError(f"unknown role '{role}'", hint=f"use one of {', '.join(ROLES)}")
        client_id, secret = f"client-{uuid.uuid4().hex[:16]}", secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                oauth_clients.insert().values(
                    client_id=client_id,
                    organization_id=organization_id,
                    name=name,
                    secret_hash=digest(secret),
                    role=role,
                    created_at=_now(),
                )
            )
        return client_id, secret

    def issue_token(self, client_id: str, client_secret: str) -> tuple[str, int]:
        """Exchange client credentials for a bearer token; return (token, lifetime s)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(oauth_clients.c.secret_hash).where(oauth_clients.c.client_id == client_id)
            ).first()
        if row is None or not hmac.compare_digest(row.secret_hash, digest(client_secret)):
            raise AuthenticationError("invalid client credentials", record=client_id)
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                access_tokens.insert().values(
                    token_hash=digest(token),
                    client_id=client_id,
                    expires_at=_now() + TOKEN_LIFETIME,
                )
            )
        return token, int(TOKEN_LIFETIME.total_seconds())

    def token_principal(self, token: str) -> Principal | None:
        """The OAuth2 client behind a bearer token, or None when unknown or expired."""
        query = (
            sa.select(oauth_clients, access_tokens.c.expires_at)
            .join(oauth_clients, oauth_clients.c.client_id == access_tokens.c.client_id)
            .where(access_tokens.c.token_hash == digest(token))
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None or _aware(row.expires_at) <= _now():
            return None
        return Principal(
            row.organization_id, row.role, f"client:{row.client_id}", row.name, via="oauth"
        )
