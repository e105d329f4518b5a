"""Asynchronous fulfilment: a lead's request answered by a supplier's host, over HTTPS."""

from __future__ import annotations

import ssl
import time
from datetime import timedelta
from pathlib import Path

import pytest
from exchange_helpers import FakeClock, HostFactory, footprint_document
from sqlalchemy import Engine

from carbonlink.exchange.fulfilment import send_request
from carbonlink.exchange.host import create_pact_app
from carbonlink.exchange.pact import (
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    parse_product_footprint,
    supplier_footprint,
)
from carbonlink.exchange.repository import ExchangeRepository
from carbonlink.exchange.server import BackgroundHost, free_port

SUPPLIER = "urn:pact:coke.example.com:company-id:7"
LEAD_AT_SUPPLIER = "lead-secret-at-supplier-0123456789"
SUPPLIER_AT_LEAD = "supplier-secret-at-lead-0123456789"


def _wait(condition, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_request_fulfilled_and_rejected_asynchronously(
    engine: Engine, second_engine: Engine, pact_host: HostFactory
) -> None:
    lead, lead_repo, lead_worker = pact_host(engine, worker_interval=0.1)
    supplier, supplier_repo, supplier_worker = pact_host(second_engine, worker_interval=0.1)
    # Each company registers the other as a partner of its own host.
    supplier_repo.add_partner(
        "lead", LEAD_AT_SUPPLIER, name="Lead", organization="Demo Steel", events_url=lead.url
    )
    supplier_repo.grant("lead", companies=[SUPPLIER])
    lead_repo.add_partner(
        "supplier", SUPPLIER_AT_LEAD, name="Coke", organization="Coke Co", events_url=supplier.url
    )
    lead_repo.add_partner("intruder", "intruder-secret-0123456789", name="X", organization="X Corp")
    lead_worker.credentials = {supplier.url: ("lead", LEAD_AT_SUPPLIER)}
    supplier_worker.credentials = {lead.url: ("supplier", SUPPLIER_AT_LEAD)}
    coke = footprint_document(1, company=SUPPLIER, pcf="0.42")
    hidden = footprint_document(2, company="urn:pact:coke.example.com:company-id:8")
    supplier_repo.publish(coke)
    supplier_repo.publish(hidden)

    wanted = send_request(lead_repo, lead_worker, "supplier", {"productId": coke["productIds"]})
    nothing = send_request(lead_repo, lead_worker, "supplier", {"productId": ["urn:pact:null"]})
    secret = send_request(lead_repo, lead_worker, "supplier", {"productId": hidden["productIds"]})

    def status(event_id: str) -> str:
        rows = lead_repo.events(direction="sent", type=REQUEST_CREATED)
        return next(row["status"] for row in rows if row["event_id"] == event_id)

    _wait(lambda: {status(wanted), status(nothing), status(secret)} <= {"fulfilled", "rejected"})
    assert (status(wanted), status(nothing), status(secret)) == (
        "fulfilled",
        "rejected",
        "rejected",  # the supplier's other company did not grant the lead access
    )
    # Exactly one answer per request, recorded on both sides.
    answers = supplier_repo.events(direction="sent")
    assert sorted(row["request_event_id"] for row in answers) == sorted([wanted, nothing, secret])
    # The supplier marks its answers delivered once the lead's 200 has come back.
    _wait(
        lambda: {row["status"] for row in supplier_repo.events(direction="sent")} == {"delivered"}
    )
    received = lead_repo.events(direction="received")
    assert {(row["request_event_id"], row["type"]) for row in received} == {
        (wanted, REQUEST_FULFILLED),
        (nothing, REQUEST_REJECTED),
        (secret, REQUEST_REJECTED),
    }
    supplier_worker.run_once()
    assert len(supplier_repo.events(direction="sent")) == 3
    # The footprint is kept with its provenance and feeds a bill of materials.
    [kept] = lead_repo.received()
    assert kept["pf_id"] == coke["id"] and kept["source"] == "supplier" and kept["via"] == "event"
    assert len(kept["sha256"]) == 64
    purchased = supplier_footprint(parse_product_footprint(kept["document"]))
    assert purchased.profile.fossil == pytest.approx(0.42)
    assert purchased.supplier == "Demo Steel"


def test_an_answer_from_another_partner_is_refused(
    engine: Engine, pact_host: HostFactory, tls_context: ssl.SSLContext
) -> None:
    from carbonlink.exchange.client import PactClient, PactClientError

    lead, lead_repo, lead_worker = pact_host(engine)
    lead_repo.add_partner(
        "supplier", SUPPLIER_AT_LEAD, name="S", organization="S", events_url="https://127.0.0.1:9"
    )
    lead_repo.add_partner("intruder", "intruder-secret-0123456789", name="X", organization="X")
    request_id = send_request(lead_repo, lead_worker, "supplier", {"productId": ["urn:x:1"]})
    answer = lead_worker.event(
        REQUEST_FULFILLED,
        {"requestEventId": request_id, "pfs": [footprint_document(3)]},
    )
    with (
        PactClient(lead.url, "intruder", "intruder-secret-0123456789", verify=tls_context) as c,
        pytest.raises(PactClientError) as caught,
    ):
        c.send_event(answer)
    assert (caught.value.status, caught.value.code) == (403, "AccessDenied")
    assert lead_repo.received() == []
    with PactClient(lead.url, "supplier", SUPPLIER_AT_LEAD, verify=tls_context) as c:
        c.send_event(answer)
        with pytest.raises(PactClientError) as caught:
            c.send_event(lead_worker.event(REQUEST_FULFILLED, answer["data"]))
        assert caught.value.code == "BadRequest"  # answered already
    assert [row["pf_id"] for row in lead_repo.received()] == [footprint_document(3)["id"]]


def test_delivery_retries_with_exponential_backoff(
    engine: Engine,
    second_engine: Engine,
    clock: FakeClock,
    dev_cert: tuple[Path, Path],
    tls_context: ssl.SSLContext,
) -> None:
    from carbonlink.exchange.fulfilment import EventWorker

    repository = ExchangeRepository(engine, clock=clock)
    port = free_port()
    remote = f"https://127.0.0.1:{port}"
    repository.add_partner(
        "supplier", SUPPLIER_AT_LEAD, name="S", organization="S", events_url=remote
    )
    worker = EventWorker(
        repository,
        source="https://lead.example",
        verify=tls_context,
        max_attempts=4,
        base_delay=timedelta(seconds=2),
        max_delay=timedelta(seconds=5),
        timeout=2.0,
    )
    event_id = send_request(repository, worker, "supplier", {"productId": ["urn:x:1"]})

    def row() -> dict[str, object]:
        return repository.events(direction="sent")[0]

    start = clock.now
    assert worker.run_once() == 0
    assert (row()["attempts"], row()["status"]) == (1, "pending")
    assert row()["next_attempt_at"] == start + timedelta(seconds=2)
    assert "127.0.0.1" in str(row()["last_error"])
    assert worker.run_once() == 0 and row()["attempts"] == 1  # not due yet
    clock.now += timedelta(seconds=2)
    worker.run_once()
    assert row()["attempts"] == 2 and row()["next_attempt_at"] == clock.now + timedelta(seconds=4)
    clock.now += timedelta(seconds=4)
    worker.run_once()
    assert row()["next_attempt_at"] == clock.now + timedelta(seconds=5)  # capped
    # The supplier's host comes up before the last attempt: the event gets through.
    remote_repo = ExchangeRepository(second_engine)
    remote_repo.add_partner("lead", LEAD_AT_SUPPLIER, name="L", organization="L")
    worker.credentials = {remote: ("lead", LEAD_AT_SUPPLIER)}
    app = create_pact_app(second_engine)
    with BackgroundHost(app, certfile=dev_cert[0], keyfile=dev_cert[1], port=port):
        clock.now += timedelta(seconds=5)
        assert worker.run_once() == 1
    assert (row()["attempts"], row()["status"], row()["last_error"]) == (4, "delivered", None)
    [arrived] = remote_repo.events(direction="received")
    assert arrived["event_id"] == event_id and arrived["partner"] == "lead"


def test_delivery_gives_up_after_the_last_attempt(engine: Engine, clock: FakeClock) -> None:
    from carbonlink.exchange.fulfilment import EventWorker

    repository = ExchangeRepository(engine, clock=clock)
    remote = f"https://127.0.0.1:{free_port()}"
    repository.add_partner("s", SUPPLIER_AT_LEAD, name="S", organization="S", events_url=remote)
    worker = EventWorker(repository, source="https://lead.example", max_attempts=3, timeout=2.0)
    send_request(repository, worker, "s", {"productId": ["urn:x:1"]})
    for _ in range(5):
        worker.run_once()
        clock.now += timedelta(minutes=20)
    row = repository.events(direction="sent")[0]
    assert (row["attempts"], row["status"]) == (3, "failed")


def test_published_event_makes_the_lead_pull_the_footprints(
    engine: Engine,
    second_engine: Engine,
    pact_host: HostFactory,
    tls_context: ssl.SSLContext,
) -> None:
    from carbonlink.exchange.client import PactClient
    from carbonlink.exchange.pact import PUBLISHED

    lead, lead_repo, lead_worker = pact_host(engine)
    supplier, supplier_repo, supplier_worker = pact_host(second_engine)
    supplier_repo.add_partner("lead", LEAD_AT_SUPPLIER, name="L", organization="L")
    supplier_repo.grant("lead", companies=[SUPPLIER])
    lead_repo.add_partner(
        "supplier", SUPPLIER_AT_LEAD, name="S", organization="S", events_url=supplier.url
    )
    lead_repo.add_partner("quiet", "quiet-secret-0123456789", name="Q", organization="Q")
    lead_worker.credentials = {supplier.url: ("lead", LEAD_AT_SUPPLIER)}
    coke = footprint_document(4, company=SUPPLIER)
    supplier_repo.publish(coke)
    announce = supplier_worker.event(PUBLISHED, {"pfIds": [coke["id"]]})
    with PactClient(lead.url, "supplier", SUPPLIER_AT_LEAD, verify=tls_context) as client:
        client.send_event(announce)
    with PactClient(lead.url, "quiet", "quiet-secret-0123456789", verify=tls_context) as client:
        client.send_event(supplier_worker.event(PUBLISHED, {"pfIds": [coke["id"]]}))
    lead_worker.run_once()
    [kept] = lead_repo.received()
    assert (kept["pf_id"], kept["via"], kept["source"]) == (coke["id"], "published", "supplier")
    statuses = {row["partner"]: row["status"] for row in lead_repo.events(direction="received")}
    assert statuses == {"supplier": "pulled", "quiet": "noted"}  # no host known for "quiet"
