"""Errors of the composite-indicator engine (all under `CarbonlinkError`)."""

from __future__ import annotations

from carbonlink.errors import CarbonlinkError, InputError


class IndexSpecError(InputError):
    """An index spec is invalid: unknown method, broken framework, inconsistent weights."""


class IndexDataError(InputError):
    """Indicator data do not fit the spec: missing columns, non-numeric values, no units."""


class MethodDomainError(CarbonlinkError, ValueError):
    """A method cannot be applied to these values (a geometric mean of zeros, a zero range)."""


class IndexWarning(UserWarning):
    """Something in a spec or its data that changes the result in a way the user may not
    intend: a negative weight, an indicator that carries no information."""


class InconsistentJudgementsError(MethodDomainError):
    """An AHP pairwise matrix is not reciprocal or exceeds the accepted consistency ratio."""
