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
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carbonlink.api.schema import (
    ROLES,
    access_tokens,
    api_keys,
    oauth_clients,
    supplier_invitations,
    users,
    web_sessions,
)
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


# supplier portal -----------------------------------------------------------------------------
class InvitationError(CarbonlinkError, LookupError):
    """An invitation link is unknown, used already or expired."""


@dataclass(frozen=True, slots=True)
class Invitation:
    """A supplier invitation as the lead enterprise and the invited supplier see it."""

    id: str
    organization_id: str
    partner_id: str
    email: str
    expires_at: datetime
    accepted_at: datetime | None
    created_at: datetime

    def state(self, now: datetime | None = None) -> str:
        """``accepted``, ``expired`` or ``open``."""
        if self.accepted_at is not None:
            return "accepted"
        return "expired" if self.expires_at <= (now or _now()) else "open"


def _invitation(row: sa.Row[Any]) -> Invitation:
    return Invitation(
        id=row.id,
        organization_id=row.organization_id,
        partner_id=row.partner_id,
        email=row.email,
        expires_at=_aware(row.expires_at),
        accepted_at=_aware(row.accepted_at) if row.accepted_at else None,
        created_at=_aware(row.created_at),
    )


def invite_supplier(
    accounts: Accounts,
    organization_id: str,
    partner_id: str,
    email: str,
    *,
    lifetime: timedelta,
    invited_by: str | None = None,
) -> str:
    """Issue a one-time invitation for a supplier; return the token (only its digest is kept)."""
    address = email.strip().lower()
    if "@" not in address:
        raise InputError(f"'{email}' is not an e-mail address", hint="write name@company.example")
    token = secrets.token_urlsafe(32)
    now = _now()
    with accounts.engine.begin() as conn:
        conn.execute(
            supplier_invitations.insert().values(
                id=uuid.uuid4().hex,
                organization_id=organization_id,
                partner_id=partner_id,
                email=address,
                token_hash=digest(token),
                expires_at=now + lifetime,
                invited_by=invited_by,
                created_at=now,
            )
        )
    return token


def invitations_of(accounts: Accounts, organization_id: str) -> list[Invitation]:
    """The organization's invitations, newest first."""
    query = (
        sa.select(supplier_invitations)
        .where(supplier_invitations.c.organization_id == organization_id)
        .order_by(supplier_invitations.c.created_at.desc())
    )
    with accounts.engine.connect() as conn:
        return [_invitation(row) for row in conn.execute(query)]


def open_invitation(accounts: Accounts, token: str) -> Invitation:
    """The invitation behind a link; `InvitationError` when unknown, used or expired."""
    with accounts.engine.connect() as conn:
        row = conn.execute(
            sa.select(supplier_invitations).where(
                supplier_invitations.c.token_hash == digest(token)
            )
        ).first()
    if row is None:
        raise InvitationError(
            "this invitation link is not valid",
            hint="check that the whole link was copied, or ask your customer for a new one",
        )
    invitation = _invitation(row)
    state = invitation.state()
    if state != "open":
        raise InvitationError(
            f"this invitation link has been {'used' if state == 'accepted' else 'expired'}",
            record=invitation.email,
            hint="log in with the account you set up, or ask your customer for a new link",
        )
    return invitation


def accept_invitation(
    accounts: Accounts,
    token: str,
    *,
    display_name: str,
    password: str,
    locale: str = "zh",
) -> str:
    """Turn an open invitation into a supplier-role user bound to its partner; return its id.

    The invitation is marked accepted in the same transaction that creates the user, and only
    while it is still open, so a link works once even when two requests race.
    """
    invitation = open_invitation(accounts, token)
    if len(password) < 10:
        raise InputError("password shorter than 10 characters", record=invitation.email)
    if not display_name.strip():
        raise InputError("the name is empty", hint="write the name to show for your account")
    user_id = uuid.uuid4().hex
    now = _now()
    with accounts.engine.begin() as conn:
        taken = conn.execute(sa.select(users.c.id).where(users.c.email == invitation.email)).first()
        if taken is not None:
            raise InputError(
                f"an account with the e-mail {invitation.email} exists already",
                record=invitation.email,
                hint="log in with it, or ask your customer to invite another address",
            )
        done = conn.execute(
            supplier_invitations.update()
            .where(
                supplier_invitations.c.id == invitation.id,
                supplier_invitations.c.accepted_at.is_(None),
            )
            .values(accepted_at=now)
        )
        if done.rowcount != 1:
            raise InvitationError("this invitation link has been used", record=invitation.email)
        conn.execute(
            users.insert().values(
                id=user_id,
                organization_id=invitation.organization_id,
                email=invitation.email,
                display_name=display_name.strip(),
                password_hash=accounts._hasher.hash(password),
                role="supplier",
                locale=locale,
                disabled=False,
                created_at=now,
                partner_id=invitation.partner_id,
            )
        )
    return user_id


def supplier_partner(accounts: Accounts, principal: Principal) -> str | None:
    """The partner (client id) a supplier-role user answers for; None for anyone else."""
    if principal.role != "supplier" or not principal.subject.startswith("user:"):
        return None
    with accounts.engine.connect() as conn:
        found = conn.execute(
            sa.select(users.c.partner_id).where(
                users.c.id == principal.subject[5:],
                users.c.organization_id == principal.organization_id,
            )
        ).scalar()
    return str(found) if found else None


# administration of an organization's accounts ----------------------------------------------
# Every function takes the administrator's organization id and touches nothing outside it: an
# id of another organization's user, key or client is answered as not found.


@dataclass(frozen=True, slots=True)
class UserInfo:
    """A user as an administrator sees it (never its password hash)."""

    id: str
    email: str
    display_name: str
    role: str
    locale: str
    disabled: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyInfo:
    """An API key as an administrator sees it (never its secret or digest)."""

    id: str
    name: str
    role: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """An OAuth2 client as an administrator sees it (never its secret)."""

    client_id: str
    name: str
    role: str
    created_at: datetime


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise InputError(f"unknown role '{role}'", hint=f"use one of {', '.join(ROLES)}")


def organization_users(engine: sa.Engine, organization_id: str) -> list[UserInfo]:
    """The organization's users, by e-mail address."""
    query = (
        sa.select(users).where(users.c.organization_id == organization_id).order_by(users.c.email)
    )
    with engine.connect() as conn:
        return [
            UserInfo(
                row.id,
                row.email,
                row.display_name,
                row.role,
                row.locale,
                bool(row.disabled),
                _aware(row.created_at),
            )
            for row in conn.execute(query)
        ]


def organization_user(engine: sa.Engine, organization_id: str, user_id: str) -> UserInfo | None:
    """One user of the organization, or None."""
    found = [u for u in organization_users(engine, organization_id) if u.id == user_id]
    return found[0] if found else None


def invite_user(
    accounts: Accounts,
    organization_id: str,
    email: str,
    role: str,
    display_name: str | None = None,
    locale: str = "zh",
) -> tuple[str, str]:
    """Add a user with a random first password; return (user id, the password, shown once)."""
    _check_role(role)
    address = email.strip().lower()
    with accounts.engine.connect() as conn:
        taken = conn.execute(sa.select(users.c.id).where(users.c.email == address)).first()
    if taken is not None:
        raise InputError(
            f"a user with the address '{address}' exists already",
            record=address,
            hint="enable that account again, or invite another address",
        )
    password = secrets.token_urlsafe(12)
    user_id = accounts.create_user(organization_id, address, password, role, display_name, locale)
    return user_id, password


def _update_user(engine: sa.Engine, organization_id: str, user_id: str, **values: object) -> bool:
    mine = sa.and_(users.c.id == user_id, users.c.organization_id == organization_id)
    with engine.begin() as conn:
        changed = conn.execute(users.update().where(mine).values(**values)).rowcount
        if changed and values.get("disabled"):
            # A disabled user's sessions end now, not when they expire.
            conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))
    return bool(changed)


def _refuse_self(caller_subject: str, user_id: str, action: str) -> None:
    if caller_subject == f"user:{user_id}":
        raise InputError(
            f"you cannot {action} your own account",
            record=user_id,
            hint="ask another administrator of your organization to do it",
        )


def set_user_role(
    engine: sa.Engine, organization_id: str, user_id: str, role: str, caller_subject: str
) -> bool:
    """Give a user another role; False when the organization has no such user."""
    _check_role(role)
    _refuse_self(caller_subject, user_id, "change the role of")
    return _update_user(engine, organization_id, user_id, role=role)


def set_user_disabled(
    engine: sa.Engine, organization_id: str, user_id: str, disabled: bool, caller_subject: str
) -> bool:
    """Disable a user (it cannot log in and its sessions end) or enable it again."""
    _refuse_self(caller_subject, user_id, "disable" if disabled else "enable")
    return _update_user(engine, organization_id, user_id, disabled=disabled)


def organization_api_keys(engine: sa.Engine, organization_id: str) -> list[ApiKeyInfo]:
    """The organization's API keys, revoked ones included, newest first."""
    query = (
        sa.select(api_keys)
        .where(api_keys.c.organization_id == organization_id)
        .order_by(api_keys.c.created_at.desc(), api_keys.c.id)
    )
    with engine.connect() as conn:
        return [
            ApiKeyInfo(
                row.id,
                row.name,
                row.role,
                _aware(row.created_at),
                _aware(row.revoked_at) if row.revoked_at else None,
            )
            for row in conn.execute(query)
        ]


def api_key_id(engine: sa.Engine, secret: str) -> str | None:
    """The id of the key whose secret this is (to show it beside the secret once)."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(api_keys.c.id).where(api_keys.c.key_hash == digest(secret))
        ).scalar()
    return str(found) if found else None


def revoke_api_key(engine: sa.Engine, organization_id: str, key_id: str) -> bool:
    """Revoke a key at once; False when the organization has no such key not yet revoked."""
    mine = sa.and_(
        api_keys.c.id == key_id,
        api_keys.c.organization_id == organization_id,
        api_keys.c.revoked_at.is_(None),
    )
    with engine.begin() as conn:
        return bool(conn.execute(api_keys.update().where(mine).values(revoked_at=_now())).rowcount)


def organization_clients(engine: sa.Engine, organization_id: str) -> list[ClientInfo]:
    """The organization's OAuth2 clients, newest first."""
    query = (
        sa.select(oauth_clients)
        .where(oauth_clients.c.organization_id == organization_id)
        .order_by(oauth_clients.c.created_at.desc(), oauth_clients.c.client_id)
    )
    with engine.connect() as conn:
        return [
            ClientInfo(row.client_id, row.name, row.role, _aware(row.created_at))
            for row in conn.execute(query)
        ]


def delete_client(engine: sa.Engine, organization_id: str, client_id: str) -> bool:
    """Delete a client and every token it was issued; False when not the organization's."""
    mine = sa.and_(
        oauth_clients.c.client_id == client_id,
        oauth_clients.c.organization_id == organization_id,
    )
    with engine.begin() as conn:
        if conn.execute(sa.select(oauth_clients.c.client_id).where(mine)).first() is None:
            return False
        conn.execute(access_tokens.delete().where(access_tokens.c.client_id == client_id))
        conn.execute(oauth_clients.delete().where(mine))
    return True
