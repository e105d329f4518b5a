"""Answers go only to a partner's registered HTTPS host, never to a URL a request names."""

from __future__ import annotations

import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import httpx
import pytest
from exchange_helpers import HostFactory, footprint_document
from sqlalchemy import Engine

from carbonlink.errors import InputError
from carbonlink.exchange.fulfilment import NO_REGISTERED_HOST
from carbonlink.exchange.pact import REQUEST_CREATED, REQUEST_FULFILLED
from carbonlink.exchange.repository import ExchangeRepository

COMPANY = "urn:pact:steel.example.com:company-id:1"
SECRET = "partner-secret-0123456789abcdef"


class _Trap(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        _Trap.hits.append(self.path)
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def trap() -> Iterator[str]:
    """A plain-HTTP listener on loopback that records every request it gets."""
    _Trap.hits = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Trap)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _request_from(
    host_url: str, tls: ssl.SSLContext, client_id: str, source: str
) -> httpx.Response:
    with httpx.Client(verify=tls) as http:
        token = http.post(
            f"{host_url}/auth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, SECRET),
        ).json()["access_token"]
        event = {
            "type": REQUEST_CREATED,
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": source,
            "time": "2026-06-01T12:00:00Z",
            "data": {"companyId": [COMPANY]},
        }
        return http.post(
            f"{host_url}/3/events",
            content=json.dumps(event),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/cloudevents+json; charset=UTF-8",
            },
        )


def test_a_partner_without_a_host_cannot_aim_the_answer_anywhere(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext, trap: str
) -> None:
    host, repository, worker = pact_host(engine)
    repository.add_partner("no-host", SECRET, name="Buyer", organization="Buyer Co")
    repository.grant("no-host", companies=[COMPANY])
    repository.publish(footprint_document(1, company=COMPANY))
    accepted = _request_from(host.url, tls_context, "no-host", f"{trap}/collect")
    assert accepted.status_code == 200  # the request is taken, as the specification allows
    for _ in range(3):
        worker.run_once()
    assert _Trap.hits == []  # nothing was sent to the URL the event named
    [answer] = repository.events(direction="sent")
    assert answer["type"] == REQUEST_FULFILLED  # answered, and kept for the data owner
    assert (answer["status"], answer["target_url"]) == ("undeliverable", None)
    assert answer["last_error"] == NO_REGISTERED_HOST


def test_an_answer_goes_to_the_registered_host_whatever_the_source_says(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext, trap: str
) -> None:
    host, repository, worker = pact_host(engine)
    registered = "https://buyer.invalid/pact"
    repository.add_partner(
        "buyer", SECRET, name="Buyer", organization="Buyer Co", events_url=registered
    )
    assert _request_from(host.url, tls_context, "buyer", trap).status_code == 200
    worker.answer_requests()
    [answer] = repository.events(direction="sent")
    assert answer["target_url"] == f"{registered}/3/events"
    assert _Trap.hits == []


def test_a_pending_event_aimed_elsewhere_is_not_delivered(
    engine: Engine, pact_host: HostFactory, trap: str
) -> None:
    """An answer recorded by an earlier version toward a request's ``source`` stays here."""
    _host, repository, worker = pact_host(engine)
    repository.add_partner("no-host", SECRET, name="Buyer", organization="Buyer Co")
    event = worker.event(REQUEST_FULFILLED, {"requestEventId": "r-1", "pfs": []})
    repository.record_event(
        event,
        direction="sent",
        partner="no-host",
        status="pending",
        target_url=f"{trap}/3/events",
    )
    assert worker.deliver_due() == 0
    assert _Trap.hits == []
    [row] = repository.events(direction="sent")
    assert row["status"] == "undeliverable"
    assert "registered HTTPS host" in row["last_error"]


def test_a_partner_host_must_be_an_https_url(engine: Engine, trap: str) -> None:
    repository = ExchangeRepository(engine)
    with pytest.raises(InputError, match="not an HTTPS URL"):
        repository.add_partner("plain", SECRET, name="P", organization="P", events_url=trap)
    assert repository.partner("plain") is None
