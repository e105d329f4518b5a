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
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from carbonlink.api.schema import (
    ROLES,
    access_tokens,
    api_keys,
    auth_throttle,
    oauth_clients,
    password_resets,
    supplier_invitations,
    users,
    web_sessions,
)
from carbonlink.errors import CarbonlinkError, ConfigError, InputError
from carbonlink.service_key import KEYED_PREFIX as KEYED_PREFIX
from carbonlink.service_key import ServiceKey as ServiceKey
from carbonlink.service_key import same_secret as same_secret

PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"read", "write", "admin", "ledger", "exchange"}),
    "editor": frozenset({"read", "write", "exchange"}),
    "viewer": frozenset({"read"}),
    "auditor": frozenset({"read", "ledger"}),
    "supplier": frozenset({"exchange"}),
    "lender": frozenset({"lend"}),
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
        users.c.must_change_password,
        web_sessions.c.csrf_token,
        web_sessions.c.expires_at,
        web_sessions.c.locale.label("session_locale"),
    )
    .join(users, users.c.id == web_sessions.c.user_id)
    .where(web_sessions.c.token_hash == sa.bindparam("token_hash"))
)


class AuthenticationError(CarbonlinkError, PermissionError):
    """The caller could not be identified (no or bad credentials, expired session)."""


class ForbiddenError(CarbonlinkError, PermissionError):
    """The caller is known but its role does not allow the action."""


class UnknownUserError(CarbonlinkError, LookupError):
    """No user with this id in the caller's organization."""


class ResetTokenError(CarbonlinkError, PermissionError):
    """A password reset token is unknown, used, expired, or its account is disabled."""


class RateLimitedError(CarbonlinkError, RuntimeError):
    """Too many failed attempts from one address or for one account or client."""

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
    must_change_password: bool = False
    session_locale: str | None = None
    """The language chosen in this web session, if any: it outranks the user's ``locale``."""

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


# shared failure budgets ------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Spent:
    """One attempt counted against a budget (given back with `Throttle.refund`)."""

    key: str
    window_start: int


class Throttle:
    """Budgets of attempts per key and fixed time window, kept in the ``auth_throttle`` table.

    Shared by every worker process and kept across restarts. An attempt is counted *before* the
    credential is checked, in one atomic statement (``INSERT … ON CONFLICT DO UPDATE …
    RETURNING``, on SQLite and PostgreSQL alike): parallel requests each get their own count,
    so no more than the budget are ever checked. A successful attempt is given back, so the
    budget counts failures.
    """

    def __init__(
        self, engine: sa.Engine, window_s: int, clock: Callable[[], float] = time.time
    ) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ConfigError(
                f"login limits need SQLite or PostgreSQL, not {engine.dialect.name}",
                hint="use one of the supported databases",
            )
        self.engine = engine
        self.window_s = window_s
        self.clock = clock

    def _insert(self) -> Any:
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            return postgresql.insert(auth_throttle)
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(auth_throttle)

    def spend(self, key: str, limit: int) -> Spent:
        """Count one attempt for ``key``; `RateLimitedError` when it is past ``limit``."""
        now = int(self.clock())
        start = now - now % self.window_s
        upsert = self._insert().values(
            key=key, window_start=start, attempts=1, expires_at=start + self.window_s
        )
        statement = upsert.on_conflict_do_update(
            index_elements=[auth_throttle.c.key, auth_throttle.c.window_start],
            set_={"attempts": auth_throttle.c.attempts + 1},
        ).returning(auth_throttle.c.attempts)
        with self.engine.begin() as conn:
            attempts = int(conn.execute(statement).scalar_one())
        if attempts == 1:
            # A key's first attempt in a window: a good moment to forget finished windows.
            with self.engine.begin() as conn:
                conn.execute(auth_throttle.delete().where(auth_throttle.c.expires_at <= now))
        if attempts > limit:
            retry = start + self.window_s - now
            raise RateLimitedError(
                "too many attempts", retry_after_s=retry, hint=f"wait {retry} s and try again"
            )
        return Spent(key, start)

    def refund(self, *spent: Spent) -> None:
        """Give back attempts that succeeded."""
        with self.engine.begin() as conn:
            for one in spent:
                conn.execute(
                    auth_throttle.update()
                    .where(
                        auth_throttle.c.key == one.key,
                        auth_throttle.c.window_start == one.window_start,
                        auth_throttle.c.attempts > 0,
                    )
                    .values(attempts=auth_throttle.c.attempts - 1)
                )


def throttle_key(kind: str, value: str) -> str:
    """A budget's key: its kind and a digest of the value (no address or e-mail is stored)."""
    return f"{kind}:{hashlib.sha256(value.encode('utf-8', 'surrogatepass')).hexdigest()[:40]}"


DEVICE_COOKIE = "carbonlink_device"
DEVICE_LIFETIME = timedelta(days=180)


class LoginLimiter:
    """Failed log-ins per client address, and per account or per known device.

    A browser that once logged in to an account holds a device cookie signed for that account
    (OWASP's "device cookies"). Its attempts spend the budget of that device, not the account's:
    someone guessing an account's password from elsewhere exhausts the account's budget for
    unknown browsers only, and the owner still logs in from a browser it has used before. Each
    budget refills when its window ends, so nothing locks an account for good.
    """

    def __init__(
        self,
        throttle: Throttle,
        key: ServiceKey,
        *,
        account_attempts: int,
        address_attempts: int,
    ) -> None:
        self.throttle = throttle
        self.key = key
        self.account_attempts = account_attempts
        self.address_attempts = address_attempts

    def begin(self, address: str, account: str, device_cookie: str | None) -> list[Spent]:
        """Count a log-in attempt before the password is checked; `RateLimitedError` if over."""
        spent = [self.throttle.spend(throttle_key("addr", address), self.address_attempts)]
        device = self.device_of(device_cookie, account)
        per = throttle_key("device", device) if device else throttle_key("account", account)
        spent.append(self.throttle.spend(per, self.account_attempts))
        return spent

    def succeeded(self, spent: Sequence[Spent]) -> None:
        """The password was right: the attempts were no failures."""
        self.throttle.refund(*spent)

    def device_cookie(self, account: str) -> str:
        """A new device cookie for a browser that has just logged in to ``account``."""
        return self.key.sign("device", f"{secrets.token_urlsafe(12)}|{account}", DEVICE_LIFETIME)

    def device_of(self, cookie: str | None, account: str) -> str | None:
        """The device id in ``cookie`` when it was issued for ``account``, else None."""
        payload = self.key.unsign("device", cookie) if cookie else None
        if payload is None:
            return None
        device, _, owner = payload.partition("|")
        return device if owner == account else None


# pages -----------------------------------------------------------------------------------------
SCRIPT_JSON_ESCAPES = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}


def script_json(text: str | None) -> Markup:
    """JSON text made safe inside ``<script type="application/json">``: the Jinja filter
    ``script_json``, for every JSON a template embeds.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e`` and ``\\u0026`` (and the line
    separators U+2028/9 their escapes): the same JSON to a parser, but a ``</script>`` in a
    facility or supplier name can no longer end the element. These characters occur in JSON
    only inside strings, where the escapes mean the same character.
    """
    escaped = "".join(SCRIPT_JSON_ESCAPES.get(c, c) for c in (text or "null"))
    # Safe to mark: no character that could end the element or start markup is left.
    return Markup(escaped)


# password policy -------------------------------------------------------------------------------
MIN_PASSWORD_LENGTH = 10
MIN_PASSWORD_SCORE = 3
"""zxcvbn score at least 3: about 10⁸ guesses or more ("safely unguessable" online)."""


class WeakPasswordError(InputError):
    """A new password is too short, common, or made of the user's own name or address."""


def _letters_and_digits(text: str) -> str:
    return "".join(c for c in text.lower() if c.isalnum())


def check_password(
    password: str, *, email: str, display_name: str | None = None, organization_id: str = ""
) -> None:
    """Refuse a password that is short, common or built from the user's own details.

    zxcvbn (Wheeler, USENIX Security 2016) estimates the guesses an attacker needs from lists of
    common passwords, words and names, keyboard patterns, dates and repeats; the user's e-mail,
    its parts, the display name and the organization count as words an attacker knows.
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPasswordError(
            f"password shorter than {MIN_PASSWORD_LENGTH} characters",
            record=email,
            hint="choose a longer password, e.g. a few unrelated words",
        )
    local, _, domain = email.lower().partition("@")
    plain = _letters_and_digits(password)
    for own in (_letters_and_digits(local), _letters_and_digits(display_name or "")):
        if len(own) >= 4 and own in plain:
            raise WeakPasswordError(
                "password contains your name or e-mail address",
                record=email,
                hint="choose a password that has nothing to do with you",
            )
    from zxcvbn import zxcvbn

    known = [email.lower(), local, domain, *domain.split("."), organization_id, "carbonlink"]
    if display_name:
        known += [display_name, *display_name.split()]
    # zxcvbn's matching grows with the length; the first 100 characters decide.
    result = zxcvbn(password[:100], user_inputs=[k for k in known if k])
    if int(result["score"]) < MIN_PASSWORD_SCORE:
        warning = str(result["feedback"].get("warning") or "it is easy to guess")
        raise WeakPasswordError(
            f"password too easy to guess: {warning.rstrip('.').lower()}",
            record=email,
            hint="avoid common passwords, your name and your e-mail; a few unrelated words work",
        )


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
        *,
        must_change_password: bool = False,
        check_policy: bool = True,
    ) -> str:
        """Add a user; return its id. An address is unique within its organization.

        ``check_policy`` False skips the password policy (not the minimum length): for the demo
        enterprise's users, whose password the person starting the demo chose to publish.
        """
        if role not in ROLES:
            raise InputError(f"unknown role '{role}'", hint=f"use one of {', '.join(ROLES)}")
        address = email.strip().lower()
        if check_policy:
            check_password(
                password, email=address, display_name=display_name, organization_id=organization_id
            )
        elif len(password) < MIN_PASSWORD_LENGTH:
            raise WeakPasswordError(
                f"password shorter than {MIN_PASSWORD_LENGTH} characters", record=address
            )
        user_id = uuid.uuid4().hex
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    users.insert().values(
                        id=user_id,
                        organization_id=organization_id,
                        email=address,
                        display_name=display_name or email,
                        password_hash=self._hasher.hash(password),
                        role=role,
                        locale=locale,
                        disabled=False,
                        created_at=_now(),
                        must_change_password=must_change_password,
                    )
                )
        except IntegrityError as exc:
            raise InputError(
                f"a user with the address {address} exists already in {organization_id}",
                record=address,
                hint="give the existing user a new password (`carbonlink users reset`) instead",
            ) from exc
        return user_id

    def user_id_of(self, organization_id: str, email: str) -> str | None:
        """The id of the organization's user with that address, or None when there is none."""
        query = sa.select(users.c.id).where(
            users.c.organization_id == organization_id, users.c.email == email.strip().lower()
        )
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def delete_user(self, user_id: str) -> bool:
        """Remove a user with its web sessions and password resets; False when there is none.

        For accounts made for one task and of no use after it (the demo's lead editor that
        drives the supplier portal, the demo users made anew). An organization's people are
        disabled instead (`set_user_disabled`), which keeps who did what readable.
        """
        with self.engine.begin() as conn:
            conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))
            conn.execute(password_resets.delete().where(password_resets.c.user_id == user_id))
            done = conn.execute(users.delete().where(users.c.id == user_id))
        return bool(done.rowcount)

    def authenticate(self, email: str, password: str) -> list[tuple[str, str]]:
        """(user id, organization id) of each enabled account of ``email`` that ``password`` opens.

        An address may have an account in several organizations; each is checked, so a caller
        learns of another account only by knowing its password. An unknown address costs one
        hash, as a known one does.
        """
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    users.c.id, users.c.organization_id, users.c.password_hash, users.c.disabled
                )
                .where(users.c.email == email.strip().lower())
                .order_by(users.c.organization_id)
            ).all()
        opened = []
        candidates: list[Any] = list(rows) or [None]
        for row in candidates:
            try:
                self._hasher.verify(row.password_hash if row else self._dummy_hash, password)
            except (VerificationError, InvalidHashError):
                continue
            if row is not None and not row.disabled:
                opened.append((str(row.id), str(row.organization_id)))
        return opened

    def verify_password(self, email: str, password: str) -> str | None:
        """The user id when the password opens exactly one enabled account, else None."""
        opened = self.authenticate(email, password)
        return opened[0][0] if len(opened) == 1 else None

    def change_password(self, user_id: str, current: str, new: str) -> int:
        """Set a user's own new password after checking the current one; its sessions end.

        Returns the number of sessions ended.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None or row.disabled:
            raise AuthenticationError("no enabled user behind this session", record=user_id)
        try:
            self._hasher.verify(row.password_hash, current)
        except (VerificationError, InvalidHashError) as exc:
            raise ForbiddenError(
                "the current password is wrong", hint="type the password you logged in with"
            ) from exc
        if new == current:
            raise WeakPasswordError(
                "the new password is the current one", hint="choose a password you have not used"
            )
        return self.set_password(user_id, new)

    def set_password(self, user_id: str, new: str) -> int:
        """Store a new password (checked against the policy); end every session of the user.

        Returns the number of sessions ended. Open reset links of the user stop working.
        """
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.id == user_id)).first()
        if row is None:
            raise InputError("no such user", record=user_id)
        check_password(
            new,
            email=row.email,
            display_name=row.display_name,
            organization_id=row.organization_id,
        )
        with self.engine.begin() as conn:
            conn.execute(
                users.update()
                .where(users.c.id == user_id)
                .values(password_hash=self._hasher.hash(new), must_change_password=False)
            )
            conn.execute(
                password_resets.update()
                .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
                .values(used_at=_now())
            )
            ended = conn.execute(web_sessions.delete().where(web_sessions.c.user_id == user_id))
        return int(ended.rowcount or 0)

    def issue_password_reset(
        self, organization_id: str, user_id: str, *, lifetime: timedelta, issued_by: str
    ) -> tuple[str, datetime]:
        """A one-time reset token for one of the organization's users; (token, expiry).

        Only the token's digest is kept; an earlier open token of the user stops working, and
        the user must choose a new password at the next log-in.
        """
        mine = sa.and_(users.c.id == user_id, users.c.organization_id == organization_id)
        token = secrets.token_urlsafe(32)
        now = _now()
        with self.engine.begin() as conn:
            if conn.execute(sa.select(users.c.id).where(mine)).first() is None:
                raise UnknownUserError("no user with this id in your organization", record=user_id)
            conn.execute(
                password_resets.update()
                .where(password_resets.c.user_id == user_id, password_resets.c.used_at.is_(None))
                .values(used_at=now)
            )
            conn.execute(
                password_resets.insert().values(
                    token_hash=digest(token),
                    user_id=user_id,
                    created_by=issued_by,
                    created_at=now,
                    expires_at=now + lifetime,
                )
            )
            conn.execute(users.update().where(mine).values(must_change_password=True))
        return token, now + lifetime

    def redeem_password_reset(self, token: str, new: str) -> str:
        """Set a new password with a reset token; the token is used up; return the user id.

        The token is marked used in the same transaction that checks it is open, so it works
        once even when two requests race.
        """
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(password_resets, users.c.disabled)
                .join(users, users.c.id == password_resets.c.user_id)
                .where(password_resets.c.token_hash == digest(token))
            ).first()
        if row is None or row.used_at is not None or _aware(row.expires_at) <= _now():
            raise ResetTokenError(
                "this password reset link is unknown, used or expired",
                hint="ask an administrator of your organization for a new one",
            )
        if row.disabled:
            raise ResetTokenError("this account is disabled", hint="ask an administrator")
        with self.engine.connect() as conn:
            email = conn.execute(sa.select(users.c.email).where(users.c.id == row.user_id)).scalar()
        check_password(new, email=str(email))
        with self.engine.begin() as conn:
            done = conn.execute(
                password_resets.update()
                .where(
                    password_resets.c.token_hash == row.token_hash,
                    password_resets.c.used_at.is_(None),
                )
                .values(used_at=_now())
            )
            if done.rowcount != 1:
                raise ResetTokenError("this password reset link has been used")
        self.set_password(str(row.user_id), new)
        return str(row.user_id)

    # web sessions ----------------------------------------------------------------------------
    def open_session(self, user_id: str, locale: str | None = None) -> tuple[str, str]:
        """Start a web session (in ``locale`` when one was chosen before it began); return
        (session token for the cookie, CSRF token)."""
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
                    locale=locale,
                )
            )
        return token, csrf

    def set_session_locale(self, token: str, locale: str) -> bool:
        """Show this web session, and no other session of its user, in ``locale``."""
        with self.engine.begin() as conn:
            done = conn.execute(
                web_sessions.update()
                .where(web_sessions.c.token_hash == digest(token))
                .values(locale=locale)
            )
        return done.rowcount == 1

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
            must_change_password=bool(row.must_change_password),
            session_locale=row.session_locale,
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
    if not display_name.strip():
        raise InputError("the name is empty", hint="write the name to show for your account")
    check_password(
        password,
        email=invitation.email,
        display_name=display_name,
        organization_id=invitation.organization_id,
    )
    user_id = uuid.uuid4().hex
    now = _now()
    with accounts.engine.begin() as conn:
        # Unique within the inviting organization only: an account the address has elsewhere
        # is neither revealed nor in the way.
        taken = conn.execute(
            sa.select(users.c.id).where(
                users.c.email == invitation.email,
                users.c.organization_id == invitation.organization_id,
            )
        ).first()
        if taken is not None:
            raise InputError(
                f"this customer has an account with the e-mail {invitation.email} already",
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
    # Only the organization's own users are looked at: whether the address has an account in
    # another organization is none of this administrator's business.
    with accounts.engine.connect() as conn:
        taken = conn.execute(
            sa.select(users.c.id).where(
                users.c.email == address, users.c.organization_id == organization_id
            )
        ).first()
    if taken is not None:
        raise InputError(
            f"a user with the address '{address}' exists already in your organization",
            record=address,
            hint="enable that account again, or invite another address",
        )
    password = secrets.token_urlsafe(12)
    user_id = accounts.create_user(
        organization_id, address, password, role, display_name, locale, must_change_password=True
    )
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
