"""Identifiers of a batch: a GS1 Digital Link URI and a Handle.

GS1 Digital Link (URI syntax standard 1.4, §4): ``/01/{GTIN-14}/10/{batch or lot}/21/{serial}``;
AI (01) carries a GTIN whose modulo-10 check digit must hold, AIs (10) and (21) up to 20
characters of GS1 character set 82. The element strings are checked and the path built by
`biip` (an independent GS1 parser), so carbonlink never writes an identifier that a scanner or a
resolver would refuse.

A Handle (RFC 3650) is ``<prefix>/<suffix>``: the prefix is the one the identifier node
assigned to the enterprise (in China's Identifier Resolution System, ``88.<industry>.<company>``),
the suffix is the batch's own id.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

from biip import ParseError
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gs1_element_strings import GS1ElementString, GS1ElementStrings

from carbonlink.errors import InputError

_PREFIX = re.compile(r"^\d+(?:\.[0-9A-Za-z-]+)*$")
_SUFFIX = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,127}$")
GS1_LINK_TYPES = {
    "gs1:pip": "https://gs1.org/voc/pip",
    "gs1:sustainabilityInfo": "https://gs1.org/voc/sustainabilityInfo",
    "gs1:certificationInfo": "https://gs1.org/voc/certificationInfo",
    "gs1:defaultLink": "https://gs1.org/voc/defaultLink",
}
"""The link types the resolver serves, compact (``gs1:``) and full (GS1 Web Vocabulary)."""


@dataclass(frozen=True, slots=True)
class GS1Key:
    """A GTIN with its batch/lot and optional serial: the key of a GS1 Digital Link URI."""

    gtin: str
    batch: str
    serial: str | None = None

    @property
    def path(self) -> str:
        """The URI path ``/01/…/10/…[/21/…]``, values percent-encoded."""
        return gs1_path(self.gtin, self.batch, self.serial)

    def uri(self, resolver: str) -> str:
        """The GS1 Digital Link URI on ``resolver`` (``https://host[:port]``)."""
        return resolver.rstrip("/") + self.path


def _element(ai: str, value: str, *, record: str | None) -> GS1ElementString:
    try:
        element = GS1ElementString.parse(f"{ai}{value}")
    except ParseError as exc:
        raise InputError(
            f"AI ({ai}) value {value!r} is not valid GS1 syntax: {exc}",
            record=record,
            hint="batch and serial numbers take up to 20 letters, digits and - . _ characters",
        ) from exc
    if element.gtin_error:
        raise InputError(
            element.gtin_error,
            record=record,
            hint="copy the GTIN printed under the bar code; the last digit is its check digit",
        )
    if element.value != value:
        raise InputError(f"AI ({ai}) value {value!r} was read as {element.value!r}", record=record)
    return element


def gs1_key(
    gtin: str, batch: str, serial: str | None = None, *, record: str | None = None
) -> GS1Key:
    """The checked key of a batch: a GTIN-14 (8, 12 and 13 digits are padded) and AIs 10/21."""
    digits = gtin.strip()
    if not digits.isdigit() or len(digits) not in (8, 12, 13, 14):
        raise InputError(
            f"GTIN {gtin!r} must be 8, 12, 13 or 14 digits",
            record=record,
            hint="copy the number printed under the bar code, without spaces",
        )
    digits = digits.zfill(14)
    _element("01", digits, record=record)
    _element("10", batch, record=record)
    if serial:
        _element("21", serial, record=record)
    return GS1Key(digits, batch, serial or None)


def check_batch_id(batch_id: str, *, record: str | None = None) -> str:
    """``batch_id`` unchanged if it can be a GS1 batch/lot number (AI 10) and a Handle suffix."""
    _element("10", batch_id, record=record)
    if not _SUFFIX.match(batch_id):
        raise InputError(
            f"batch id {batch_id!r} cannot be a Handle suffix",
            record=record,
            hint="use letters, digits and - . _",
        )
    return batch_id


def gs1_path(gtin: str, batch: str, serial: str | None = None) -> str:
    """The Digital Link path of a key, built by biip from the checked element strings."""
    elements = GS1ElementStrings(
        [_element("01", gtin, record=None), _element("10", batch, record=None)]
        + ([_element("21", serial, record=None)] if serial else [])
    )
    uri = GS1DigitalLinkURI.from_element_strings(elements).as_uri(domain="resolver.invalid")
    return uri.removeprefix("https://resolver.invalid")


def parse_gs1_path(path: str) -> GS1Key:
    """The key of a Digital Link path (``/01/…/10/…/21/…``); `InputError` if it is not one."""
    try:
        parsed = GS1DigitalLinkURI.parse("https://resolver.invalid" + path)
    except ParseError as exc:
        raise InputError(f"{path!r} is not a GS1 Digital Link path: {exc}") from exc
    values = {element.ai.ai: element for element in parsed.element_strings}
    gtin = values.get("01")
    if gtin is None:
        raise InputError(f"{path!r} carries no GTIN (AI 01)")
    if gtin.gtin_error:
        raise InputError(
            f"{path!r} carries no valid GTIN: {gtin.gtin_error}",
            hint="check the GTIN printed on the label",
        )
    batch = values.get("10")
    if batch is None:
        raise InputError(f"{path!r} names no batch (AI 10)", hint="append /10/<batch>")
    serial = values.get("21")
    return GS1Key(gtin.value, batch.value, serial.value if serial else None)


def check_handle_prefix(prefix: str) -> str:
    """``prefix`` unchanged if it has the Handle prefix shape (``88.123.4567``)."""
    if not _PREFIX.match(prefix):
        raise InputError(
            f"{prefix!r} is not a Handle prefix",
            hint="give the prefix your identifier node assigned, e.g. 88.123.4567",
        )
    return prefix


def handle_of(prefix: str, suffix: str, *, record: str | None = None) -> str:
    """The Handle ``<prefix>/<suffix>`` of a batch (the suffix is the batch id)."""
    check_handle_prefix(prefix)
    if not _SUFFIX.match(suffix):
        raise InputError(
            f"{suffix!r} cannot be a Handle suffix",
            record=record,
            hint="use letters, digits and - . _ (up to 128 characters)",
        )
    return f"{prefix}/{suffix}"


def handle_path(handle: str) -> str:
    """The Handle as it goes into a URL path (the suffix percent-encoded, the '/' kept)."""
    prefix, _, suffix = handle.partition("/")
    return f"{prefix}/{quote(suffix, safe='')}"


def split_handle(text: str) -> tuple[str, str]:
    """(prefix, suffix) of a Handle, percent-decoding the suffix."""
    prefix, slash, suffix = text.partition("/")
    if not slash or not prefix or not suffix:
        raise InputError(f"{text!r} is not a Handle", hint="write it as <prefix>/<suffix>")
    return prefix, unquote(suffix)
