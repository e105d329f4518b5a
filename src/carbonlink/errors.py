"""The exception tree of carbonlink.

Every error raised on purpose derives from `CarbonlinkError`. Each leaf also subclasses the
built-in it resembles, so callers that only know Python's exceptions still catch it. Errors carry
structured fields (the file, the record, what to do) and their message says what was wrong and how
to fix it. Adapters translate third-party exceptions at the boundary with ``raise ... from exc``.
"""

from __future__ import annotations


class CarbonlinkError(Exception):
    """Root of every error carbonlink raises on purpose."""

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        record: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.record = record
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = ": ".join(part for part in (self.file, self.record) if part)
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f" — {self.hint}"
        return text


class ConfigError(CarbonlinkError, ValueError):
    """Settings or a workspace configuration are invalid."""


class InputError(CarbonlinkError, ValueError):
    """A user-supplied file or record is invalid (syntax, missing field, bad value)."""


class UnitError(InputError):
    """A quantity has an unknown unit or one of the wrong dimension."""


class UnknownFactorError(CarbonlinkError, LookupError):
    """No emission factor (or parameter) matches what a source asks for."""


class NoFactorVintageError(UnknownFactorError):
    """Factors exist, but none is valid for the requested period."""


class StoreError(CarbonlinkError, RuntimeError):
    """The database could not be reached or is in an unexpected state."""


class IngestError(CarbonlinkError, RuntimeError):
    """A data source could not be read at all (as opposed to single bad records)."""


class LedgerError(CarbonlinkError, RuntimeError):
    """The verifiable log is inconsistent or a proof does not verify."""


class ExchangeError(CarbonlinkError, RuntimeError):
    """A partner system returned an error or an invalid document."""
