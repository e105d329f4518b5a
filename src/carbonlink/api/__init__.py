"""The carbonlink service: REST API, accounts and tenants, and the web dashboard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from carbonlink.api.app import create_app

__all__ = ["create_app"]


def __getattr__(name: str) -> Any:
    # The web stack loads only when the app is asked for, so the store's migrations can
    # import the accounts schema without FastAPI.
    if name == "create_app":
        from carbonlink.api.app import create_app

        return create_app
    raise AttributeError(name)
