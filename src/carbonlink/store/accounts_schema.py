"""Tables of accounts and access: users, web sessions, API keys, OAuth2 clients and tokens.

``0010_supplier_portal`` adds supplier invitations, the purchases that weigh portal coverage,
and binds a supplier-role user to its partner (``users.partner_id``). ``0012_accounts_hardening``
makes an address unique per organization, and adds password resets and the shared counters of
failed attempts (``auth_throttle``).

They live on their own ``accounts_metadata`` beside the store's schema; the Alembic revision
``0003_accounts`` creates them. Secrets are never stored: passwords as argon2 hashes, API keys,
client secrets and tokens as SHA-256 digests (256-bit random values: a slow hash adds nothing).
"""

from __future__ import annotations

import sqlalchemy as sa

from carbonlink.store.schema import NAMING_CONVENTION

accounts_metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

ROLES = ("admin", "editor", "viewer", "auditor", "supplier", "lender")

users = sa.Table(
    "users",
    accounts_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("email", sa.String(254), nullable=False, index=True),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("locale", sa.String(8), nullable=False, server_default="zh"),
    sa.Column("disabled", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "partner_id",
        sa.String(128),
        nullable=True,
        comment="for the supplier role: the PACT partner (client id) the user answers for",
    ),
    sa.Column(
        "must_change_password",
        sa.Boolean,
        nullable=False,
        server_default=sa.false(),
        comment="the user must choose a new password at the next log-in",
    ),
    sa.CheckConstraint(
        "role IN ('admin','editor','viewer','auditor','supplier','lender')", name="role"
    ),
    # An address is unique within its organization only: no organization learns or blocks the
    # addresses of another (0012_accounts_hardening).
    sa.UniqueConstraint("organization_id", "email", name="uq_users_organization_id_email"),
)

password_resets = sa.Table(
    "password_resets",
    accounts_metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id",
        sa.String(32),
        sa.ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("created_by", sa.String(64), nullable=True, comment="subject of the admin"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
)

auth_throttle = sa.Table(
    "auth_throttle",
    accounts_metadata,
    sa.Column("key", sa.String(300), primary_key=True),
    sa.Column("window_start", sa.BigInteger, primary_key=True, comment="epoch seconds"),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("expires_at", sa.BigInteger, nullable=False, index=True, comment="epoch seconds"),
)

web_sessions = sa.Table(
    "web_sessions",
    accounts_metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.String(32), sa.ForeignKey("users.id", ondelete="CASCADE")),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column(
        "locale",
        sa.String(8),
        nullable=True,
        comment="language chosen in this session (0016_app_operations); else the user's",
    ),
)

api_keys = sa.Table(
    "api_keys",
    accounts_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
)

oauth_clients = sa.Table(
    "oauth_clients",
    accounts_metadata,
    sa.Column("client_id", sa.String(64), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

access_tokens = sa.Table(
    "access_tokens",
    accounts_metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "client_id", sa.String(64), sa.ForeignKey("oauth_clients.client_id", ondelete="CASCADE")
    ),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
)

supplier_invitations = sa.Table(
    "supplier_invitations",
    accounts_metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("organization_id", sa.String(64), nullable=False, index=True),
    sa.Column("partner_id", sa.String(128), nullable=False, comment="the supplier's client id"),
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("invited_by", sa.String(64), nullable=True, comment="subject of the inviting user"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)
"""One-time e-mail links that let a supplier without a PACT host set up its portal account."""

portal_purchases = sa.Table(
    "portal_purchases",
    accounts_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("request_event_id", sa.String(64), nullable=False),
    sa.Column("partner_id", sa.String(128), nullable=False),
    sa.Column("product_id", sa.String(512), nullable=False, comment="the URN asked for"),
    sa.Column("mass_kg", sa.Float, nullable=False, comment="purchased per year, kg"),
    sa.Column("spend", sa.Float, nullable=False, comment="spent per year, CNY"),
    sa.PrimaryKeyConstraint("organization_id", "request_event_id"),
)
"""What the lead enterprise buys of a requested product a year: the weights of its coverage."""

supplier_requests = sa.Table(
    "supplier_requests",
    accounts_metadata,
    sa.Column("organization_id", sa.String(64), nullable=False),
    sa.Column("request_event_id", sa.String(64), nullable=False),
    sa.Column("partner_id", sa.String(128), nullable=False),
    sa.Column("period_start", sa.Date, nullable=False, comment="reference period asked for"),
    sa.Column("period_end", sa.Date, nullable=False, comment="exclusive"),
    sa.Column("due_date", sa.Date, nullable=False),
    sa.Column("message", sa.Text, nullable=False, server_default=""),
    sa.Column("created_by", sa.String(64), nullable=True),
    sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("answer_fields", sa.Text, nullable=True, comment="JSON of the last answer's form"),
    sa.Column("review", sa.String(16), nullable=True, comment="accepted or returned"),
    sa.Column("review_reason", sa.Text, nullable=True),
    sa.Column("reviewed_by", sa.String(64), nullable=True),
    sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("review IS NULL OR review IN ('accepted','returned')", name="review_state"),
    sa.PrimaryKeyConstraint("organization_id", "request_event_id"),
)
"""The terms of a portal request (period, due date, message), its reminder and its review."""
