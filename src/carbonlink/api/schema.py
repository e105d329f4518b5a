"""The accounts tables, defined by the store (`carbonlink.store.accounts_schema`)."""

from carbonlink.store.accounts_schema import (
    ROLES,
    access_tokens,
    accounts_metadata,
    api_keys,
    auth_throttle,
    oauth_clients,
    password_resets,
    portal_purchases,
    supplier_invitations,
    users,
    web_sessions,
)

__all__ = [
    "ROLES",
    "access_tokens",
    "accounts_metadata",
    "api_keys",
    "auth_throttle",
    "oauth_clients",
    "password_resets",
    "portal_purchases",
    "supplier_invitations",
    "users",
    "web_sessions",
]
