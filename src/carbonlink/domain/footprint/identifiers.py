"""Product identifiers and classifications written as URNs (RFC 8141).

PACT v3 (Technical Specification §"Product identifier URNs") asks for every product id and
classification to be a URN: a registered or widely used namespace where one exists
(``urn:gtin:…`` for GS1 GTINs), otherwise ``urn:pact:<issuer>:<type>:<value>``. Industrial-internet
identifiers of China's Identifier Resolution System are Handle identifiers (``88.118.8/steel-42``)
without a URN namespace of their own, so they take the ``urn:pact`` form with the issuing
enterprise's domain. Customs classifications (EU Combined Nomenclature, the WCO Harmonized System)
follow the ``urn:pact:productclassification:<scheme>:<code>`` form of the specification's examples.
"""

from __future__ import annotations

import re

from carbonlink.errors import InputError

_URN = re.compile(r"^urn:[A-Za-z0-9][A-Za-z0-9-]{0,31}:\S+$", re.IGNORECASE)
_DOMAIN = re.compile(
    r"^(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
_HANDLE = re.compile(r"^(\d+(?:\.[0-9A-Za-z-]+)*)/(\S+)$")
_GTIN_LENGTHS = (8, 12, 13, 14)


def is_urn(text: str) -> bool:
    """Whether ``text`` has the ``urn:<namespace>:<specific string>`` shape of RFC 8141."""
    return bool(_URN.match(text))


def require_urn(text: str, *, record: str | None = None) -> str:
    """``text`` unchanged if it is a URN, else an `InputError` saying how to write one."""
    if not is_urn(text):
        raise InputError(
            f"{text!r} is not a URN",
            record=record,
            hint="write identifiers as urn:<namespace>:<id>, e.g. urn:gtin:4006381333931 "
            "or urn:pact:example.com:product-id:42",
        )
    return text


def gtin_check_digit(body: str) -> int:
    """GS1 modulo-10 check digit of a GTIN without its last digit.

    GS1 General Specifications §7.9.1: weights 3 and 1 alternate from the rightmost digit of the
    body; the check digit tops the weighted sum up to a multiple of ten.
    """
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin_urn(gtin: str) -> str:
    """``urn:gtin:<gtin>`` for a GTIN-8/12/13/14 whose check digit is right."""
    digits = gtin.strip()
    if not digits.isdigit() or len(digits) not in _GTIN_LENGTHS:
        raise InputError(
            f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits",
            record=gtin,
            hint="copy the number printed under the bar code, without spaces",
        )
    expected = gtin_check_digit(digits[:-1])
    if int(digits[-1]) != expected:
        raise InputError(
            f"GTIN {gtin!r} has check digit {digits[-1]}, expected {expected}",
            record=gtin,
            hint="a digit was mistyped; check the number against the label",
        )
    return f"urn:gtin:{digits}"


def handle_urn(handle: str, *, issuer: str) -> str:
    """URN for an industrial-internet (Handle) identifier such as ``88.118.8/steel-42``.

    ``issuer`` is the domain of the enterprise that registered the identifier prefix; the URN is
    ``urn:pact:<issuer>:handle:<prefix>/<suffix>`` (PACT v3 custom-identifier form).
    """
    match = _HANDLE.match(handle.strip())
    if not match:
        raise InputError(
            f"{handle!r} is not a Handle identifier",
            record=handle,
            hint="write it as <prefix>/<suffix>, e.g. 88.118.8/steel-42",
        )
    if not _DOMAIN.match(issuer):
        raise InputError(
            f"issuer {issuer!r} is not a domain name",
            record=handle,
            hint="give the domain of the enterprise owning the identifier prefix, e.g. example.com",
        )
    return f"urn:pact:{issuer.lower()}:handle:{match.group(1)}/{match.group(2)}"


def company_product_urn(issuer: str, product_id: str, *, kind: str = "product-id") -> str:
    """``urn:pact:<issuer>:<kind>:<id>`` for a company-internal product number.

    ``kind`` is one of the PACT identifier types: ``product-id``, ``buyer-id``, ``supplier-id``.
    """
    if kind not in ("product-id", "buyer-id", "supplier-id"):
        raise InputError(
            f"identifier type {kind!r} is not one of product-id, buyer-id, supplier-id",
            record=product_id,
        )
    if not _DOMAIN.match(issuer):
        raise InputError(f"issuer {issuer!r} is not a domain name", record=product_id)
    text = product_id.strip()
    if not text or any(ch.isspace() for ch in text):
        raise InputError(
            f"product id {product_id!r} is empty or contains spaces",
            record=product_id,
            hint="replace spaces with '-'",
        )
    return f"urn:pact:{issuer.lower()}:{kind}:{text}"


def cn_code_urn(code: str) -> str:
    """Classification URN for an EU Combined Nomenclature code (8 digits; dots, spaces ignored)."""
    digits = re.sub(r"[\s.]", "", code)
    if not digits.isdigit() or len(digits) != 8:
        raise InputError(
            f"CN code {code!r} must have 8 digits", record=code, hint="e.g. 7208 10 00 or 72081000"
        )
    return f"urn:pact:productclassification:cn:{digits}"


def hs_code_urn(code: str) -> str:
    """Classification URN for a Harmonized System code: 6 digits, or a national 8/10-digit line."""
    digits = re.sub(r"[\s.]", "", code)
    if not digits.isdigit() or len(digits) not in (6, 8, 10):
        raise InputError(
            f"HS code {code!r} must have 6 digits (or 8/10 for a national tariff line)",
            record=code,
            hint="e.g. 7208.10 or 720810",
        )
    return f"urn:pact:productclassification:hs:{digits}"
