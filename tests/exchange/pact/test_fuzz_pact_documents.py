"""Fuzzing PACT bodies: a footprint or event from a partner is read or refused, by name.

Documents arrive from other companies' systems; whatever they hold, reading them ends in a
validated model or an `InvalidPactDocumentError` listing what is wrong — never another error.
"""

from __future__ import annotations

import contextlib
import json
import uuid

from exchange_helpers import footprint_document
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonlink.exchange.pact import parse_event, parse_product_footprint
from carbonlink.exchange.pact.parse import InvalidPactDocumentError
from fuzzing import byte_mutated, json_values, mutated

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FOOTPRINT = footprint_document(1)
EVENT = {
    "type": "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3",
    "specversion": "1.0",
    "id": str(uuid.UUID(int=7, version=4)),
    "source": "https://customer.example.com/pact",
    "time": "2026-01-15T00:00:00Z",
    "data": {"productId": ["urn:pact:steel.example.com:product-id:P1"], "comment": "please"},
}


def test_the_seed_documents_are_valid() -> None:
    parse_product_footprint(FOOTPRINT)
    parse_event(EVENT)


@FAST
@given(mutated(FOOTPRINT))
def test_a_mutated_footprint_is_read_or_refused(document: object) -> None:
    try:
        parse_product_footprint(json.dumps(document))
    except InvalidPactDocumentError as exc:
        assert exc.problems


@FAST
@given(mutated(EVENT))
def test_a_mutated_event_is_read_or_refused(document: object) -> None:
    try:
        parse_event(json.dumps(document))
    except InvalidPactDocumentError as exc:
        assert exc.problems


@FAST
@given(st.data())
def test_changed_bytes_and_any_json_are_read_or_refused(data: st.DataObject) -> None:
    body = data.draw(
        byte_mutated(json.dumps(FOOTPRINT).encode())
        | json_values.map(lambda value: json.dumps(value).encode())
    )
    for parse in (parse_product_footprint, parse_event):
        with contextlib.suppress(InvalidPactDocumentError):
            parse(body)


def test_bytes_that_are_not_utf8_or_nest_too_deeply_are_refused() -> None:
    for body in (b"\xfb{}", b"[" * 100_000 + b"]" * 100_000):
        for parse in (parse_product_footprint, parse_event):
            try:
                parse(body)
            except InvalidPactDocumentError as exc:
                assert exc.problems[0][0] == ""
            else:
                raise AssertionError("accepted")
