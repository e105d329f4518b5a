"""Errors of issuing and verifying credentials."""

from __future__ import annotations

from carbonlink.errors import CarbonlinkError


class CredentialError(CarbonlinkError, ValueError):
    """A credential, DID or key is malformed or cannot be used as asked."""


class VerificationFailed(CarbonlinkError, ValueError):
    """A credential's proof, dates, issuer or status do not check out."""
