"""The carbonlink service: REST API, accounts and tenants, and the web dashboard."""

from carbonlink.api.app import create_app

__all__ = ["create_app"]
