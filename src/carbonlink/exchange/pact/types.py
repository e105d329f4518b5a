"""The simple types of the PACT v3 schema: decimal strings, URNs, UUIDs, date-times.

Values are kept as the strings that were received, so a document read and written again is the
same JSON; the validators only check them. PACT v3 OpenAPI ``components/schemas``: ``Decimal``
(``^[+-]?\\d+(\\.\\d+)?$``), ``PositiveNonZeroDecimal`` (> 0), ``PositiveOrZeroDecimal`` (≥ 0),
``NegativeOrZeroDecimal`` (≤ 0), ``Urn`` (``^([uU][rR][nN]):``), ``NonEmptyString``; ``format``
``uuid`` and ``date-time`` (RFC 3339) on the properties that declare them. The schema writes the
signed-decimal patterns with an unanchored alternation; they are applied here as their comments
state them (> 0, ≥ 0, ≤ 0) on top of the plain decimal pattern.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal as _Decimal
from typing import Annotated, TypeVar

from pydantic import AfterValidator, Strict

_DECIMAL = re.compile(r"^[+-]?\d+(\.\d+)?$")
_POSITIVE_OR_ZERO = re.compile(r"^[+]?\d+(\.\d+)?$")
_URN = re.compile(r"^([uU][rR][nN]):")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
_EXAMPLE = 'write it as a JSON string such as "12.5"'


def _decimal(text: str) -> str:
    if not _DECIMAL.match(text):
        raise ValueError(f"{text!r} is not a decimal string ({_EXAMPLE}; no exponent)")
    return text


def _positive_non_zero(text: str) -> str:
    if not _DECIMAL.match(text) or text.startswith("-") or _Decimal(text) <= 0:
        raise ValueError(f"{text!r} must be a decimal greater than 0 ({_EXAMPLE})")
    return text


def _positive_or_zero(text: str) -> str:
    if not _POSITIVE_OR_ZERO.match(text):
        raise ValueError(f"{text!r} must be a decimal ≥ 0 without a minus sign ({_EXAMPLE})")
    return text


def _negative_or_zero(text: str) -> str:
    if not _DECIMAL.match(text) or text.startswith("+") or _Decimal(text) > 0:
        raise ValueError(f'{text!r} must be a decimal ≤ 0, e.g. "-1.5" or "0"')
    return text


def _urn(text: str) -> str:
    if not _URN.match(text):
        raise ValueError(f"{text!r} is not a URN (it must start with 'urn:')")
    return text


def _uuid(text: str) -> str:
    if not _UUID.match(text):
        raise ValueError(f"{text!r} is not a UUID (8-4-4-4-12 hexadecimal digits)")
    return text


def _date_time(text: str) -> str:
    if not _DATE_TIME.match(text):
        raise ValueError(f"{text!r} is not an RFC 3339 date-time such as 2025-01-01T00:00:00Z")
    try:
        datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a real date and time: {exc}") from None
    return text


def _non_empty(text: str) -> str:
    if not text:
        raise ValueError("must not be empty")
    return text


def _uri(text: str) -> str:
    if not _URI.match(text):
        raise ValueError(f"{text!r} is not an absolute URI")
    return text


Decimal = Annotated[str, Strict(), AfterValidator(_decimal)]
PositiveNonZeroDecimal = Annotated[str, Strict(), AfterValidator(_positive_non_zero)]
PositiveOrZeroDecimal = Annotated[str, Strict(), AfterValidator(_positive_or_zero)]
NegativeOrZeroDecimal = Annotated[str, Strict(), AfterValidator(_negative_or_zero)]
Urn = Annotated[str, Strict(), AfterValidator(_urn)]
Uuid = Annotated[str, Strict(), AfterValidator(_uuid)]
DateTime = Annotated[str, Strict(), AfterValidator(_date_time)]
NonEmptyString = Annotated[str, Strict(), AfterValidator(_non_empty)]
Uri = Annotated[str, Strict(), AfterValidator(_uri)]
Text = Annotated[str, Strict()]

T = TypeVar("T")


def unique(items: list[T]) -> list[T]:
    """``items`` unchanged if no two are equal (JSON Schema ``uniqueItems``)."""
    seen: list[T] = []
    for item in items:
        if item in seen:
            raise ValueError(f"{item!r} appears twice; the items must be unique")
        seen.append(item)
    return items


def parse_decimal(text: str) -> float:
    """A PACT decimal string as a float."""
    return float(_Decimal(text))


def format_decimal(value: float, *, significant: int = 12) -> str:
    """A float as a PACT decimal string: no exponent, ``significant`` digits, no ``-0``."""
    text = format(_Decimal(f"{value:.{significant}g}"), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("-0", ""):
        text = "0"
    return text
