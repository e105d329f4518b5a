"""Asynchronous PACT events from the data owner's side: answering requests, delivering events.

A `RequestCreatedEvent` is recorded when it arrives (the host answers 200 at once). The
`EventWorker` later answers it with exactly one `RequestFulfilledEvent` (the footprints the
requesting partner may see that meet the request's criteria) or `RequestRejectedEvent`
(``NotFound`` when none do; always for ``urn:pact:null``), and delivers every sent event to
``…/3/events`` of its recipient, with retries after 2ᵏ × ``base_delay`` (bounded by
``max_delay``) until ``max_attempts`` is reached. Every attempt is recorded in the events table.

Events go only to the recipient's registered HTTPS host, never to a URL taken from a received
event: a request from a partner without a registered host is answered, and the answer kept
(status ``undeliverable``, with the reason) for the data owner to pass on.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx

from carbonlink.errors import InputError
from carbonlink.exchange.client import CLOUDEVENTS_JSON, PactClient, fetch_token
from carbonlink.exchange.pact import (
    PUBLISHED,
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
)
from carbonlink.exchange.repository import ExchangeRepository, FootprintFilter

NULL_PRODUCT = "urn:pact:null"
LOG = logging.getLogger(__name__)

Credentials = Mapping[str, tuple[str, str]]
"""Our client id and secret at a partner's host, by the host's base URL."""


def events_endpoint(base_url: str) -> str:
    """``{base}/3/events`` for a host's base URL (a URL already ending in /3/events is kept)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/3/events") else f"{base}/3/events"


@dataclass(slots=True)
class EventWorker:
    """Answers received requests and delivers pending events; call `run_once` periodically."""

    repository: ExchangeRepository
    source: str
    """Our own host's base URL, sent as each event's CloudEvents ``source``."""
    credentials: Credentials = field(default_factory=dict)
    verify: Any = True
    """What httpx verifies TLS with: True, a CA bundle path, or an ``ssl.SSLContext``."""
    max_attempts: int = 6
    base_delay: timedelta = timedelta(seconds=2)
    max_delay: timedelta = timedelta(minutes=10)
    timeout: float = 10.0
    transport: httpx.BaseTransport | None = None
    on_delivery: Callable[[dict[str, Any]], None] | None = None
    _tokens: dict[str, str] = field(default_factory=dict)

    def run_once(self) -> int:
        """Answer open requests, fetch announced footprints, then try every due delivery.

        Returns the number of events delivered.
        """
        self.answer_requests()
        self.follow_published()
        return self.deliver_due()

    def follow_published(self) -> int:
        """Pull the footprints announced by received PublishedEvents; returns how many.

        Needs the partner's host URL and our credentials there; without them the event is only
        noted. A failed pull is tried again on later runs, up to ``max_attempts``.
        """
        pulled = 0
        for row in self.repository.events(direction="received", type=PUBLISHED):
            if row["status"] != "received" or not self.repository.claim(
                row["id"], "received", "fetching"
            ):
                continue
            partner = self.repository.partner(row["partner"])
            registered = _answer_target(partner.events_url if partner else None)
            base = registered.removesuffix("/3/events") if registered else None
            creds = self.credentials.get(base) if base else None
            if base is None or creds is None:
                self.repository.set_event_status(row["id"], "noted")
                continue
            pf_ids = json.loads(row["document"])["data"].get("pfIds") or []
            attempts = row["attempts"] + 1
            try:
                with PactClient(
                    base, *creds, verify=self.verify, timeout=self.timeout, transport=self.transport
                ) as client:
                    for pf_id in pf_ids:
                        document = client.get_footprint(pf_id)
                        self.repository.store_received(
                            json.dumps(document, ensure_ascii=False),
                            source=row["partner"],
                            via="published",
                        )
                        pulled += 1
            except Exception as exc:
                status = "failed" if attempts >= self.max_attempts else "received"
                self.repository.set_event_status(
                    row["id"], status, attempts=attempts, last_error=str(exc)[:500]
                )
                continue
            self.repository.set_event_status(row["id"], "pulled", attempts=attempts)
        return pulled

    def answer_requests(self) -> int:
        """Create exactly one answer per open request; returns how many were answered."""
        answered = 0
        for row in self.repository.open_requests():
            if not self.repository.claim(row["id"], "received", "answering"):
                continue  # another worker has it
            request = json.loads(row["document"])
            partner = self.repository.partner(row["partner"])
            target = _answer_target(partner.events_url if partner else None)
            answer = self._answer(request, partner)
            self.repository.record_event(
                answer,
                direction="sent",
                partner=row["partner"],
                status="pending" if target else "undeliverable",
                request_event_id=request["id"],
                target_url=target,
            )
            if target is None:
                for kept in self.repository.events(
                    direction="sent", partner=row["partner"], request_event_id=request["id"]
                ):
                    if kept["event_id"] == answer["id"]:
                        self.repository.set_event_status(
                            kept["id"], "undeliverable", last_error=NO_REGISTERED_HOST
                        )
            outcome = "fulfilled" if answer["type"] == REQUEST_FULFILLED else "rejected"
            self.repository.set_event_status(row["id"], outcome)
            answered += 1
        return answered

    def _answer(self, request: dict[str, Any], partner: Any) -> dict[str, Any]:
        try:
            criteria = FootprintFilter.from_criteria(request.get("data") or {})
        except InputError as exc:
            return self.event(
                REQUEST_REJECTED,
                {
                    "requestEventId": request["id"],
                    "error": {"code": "BadRequest", "message": exc.message},
                },
            )
        products = [p.lower() for p in criteria.product_id]
        documents: list[str] = []
        if partner is not None and NULL_PRODUCT not in products:
            documents = self.repository.visible(partner, criteria)
        if documents:
            return self.event(
                REQUEST_FULFILLED,
                {"requestEventId": request["id"], "pfs": [json.loads(d) for d in documents]},
            )
        return self.event(
            REQUEST_REJECTED,
            {
                "requestEventId": request["id"],
                "error": {
                    "code": "NotFound",
                    "message": "no footprint you may see matches the request",
                },
            },
        )

    def event(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """A CloudEvents 1.0 envelope from our host."""
        return {
            "type": kind,
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": self.source,
            "time": self.repository.clock().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": data,
        }

    def deliver_due(self) -> int:
        """POST each due event once; reschedule failures with exponential backoff."""
        delivered = 0
        for row in self.repository.due():
            if not self.repository.claim(row["id"], "pending", "sending"):
                continue
            partner = self.repository.partner(row["partner"])
            if not registered_target(partner, row["target_url"]):
                # Recorded before the rule above, or the partner's host changed since: deliver
                # only to the host registered now.
                self.repository.set_event_status(
                    row["id"],
                    "undeliverable",
                    last_error=f"{row['target_url']} is not the partner's registered HTTPS host",
                )
                continue
            attempts = row["attempts"] + 1
            try:
                self._post(row["target_url"], row["document"])
            except DeliveryError as exc:
                if attempts >= self.max_attempts:
                    self.repository.set_event_status(
                        row["id"], "failed", attempts=attempts, last_error=str(exc)
                    )
                else:
                    self.repository.set_event_status(
                        row["id"],
                        "pending",
                        attempts=attempts,
                        last_error=str(exc),
                        next_attempt_at=self.repository.clock() + self.backoff(attempts),
                    )
                continue
            # An answer may have arrived already and moved the request on; keep that status.
            self.repository.set_event_status(
                row["id"],
                "delivered",
                expected="sending",
                attempts=attempts,
                last_error=None,
                next_attempt_at=None,
            )
            delivered += 1
            if self.on_delivery is not None:
                self.on_delivery(row)
        return delivered

    def backoff(self, attempts: int) -> timedelta:
        """Delay before attempt ``attempts + 1``: base · 2^(attempts − 1), at most ``max_delay``."""
        delay = self.base_delay * (2 ** (attempts - 1))
        return min(delay, self.max_delay)

    def _post(self, target: str, document: str) -> None:
        base = target.removesuffix("/3/events")
        with httpx.Client(
            verify=self.verify, timeout=self.timeout, transport=self.transport
        ) as client:
            headers = {"Content-Type": CLOUDEVENTS_JSON}
            token = self._token(client, base)
            if token:
                headers["Authorization"] = f"Bearer {token}"
            try:
                response = client.post(target, content=document.encode(), headers=headers)
                if response.status_code == 401 and token:
                    self._tokens.pop(base, None)
                    token = self._token(client, base)
                    headers["Authorization"] = f"Bearer {token}"
                    response = client.post(target, content=document.encode(), headers=headers)
            except httpx.HTTPError as exc:
                raise DeliveryError(f"{target}: {exc}") from exc
            if response.status_code != 200:
                raise DeliveryError(f"{target}: HTTP {response.status_code} {response.text[:200]}")

    def _token(self, client: httpx.Client, base: str) -> str | None:
        if base in self._tokens:
            return self._tokens[base]
        creds = self.credentials.get(base) or self.credentials.get(base.rstrip("/"))
        if creds is None:
            return None
        try:
            token = fetch_token(client, base, *creds)
        except Exception as exc:
            raise DeliveryError(f"{base}: no access token: {exc}") from exc
        self._tokens[base] = token
        return token


class DeliveryError(Exception):
    """One delivery attempt failed (network, TLS, or a non-200 answer)."""


NO_REGISTERED_HOST = (
    "the partner has no registered HTTPS host: the answer is kept here and never sent to the "
    "URL the request names as its source; register the partner's host to have answers delivered"
)


def _answer_target(registered: str | None) -> str | None:
    """Where an answer goes: the partner's registered HTTPS host, or nowhere.

    The CloudEvents ``source`` of a received request is whatever the sender wrote: following it
    would let any partner make the service POST footprints to any address (server-side request
    forgery), so it is never used as a destination.
    """
    if registered and registered.lower().startswith("https://"):
        return events_endpoint(registered)
    return None


def registered_target(partner: Any, target: str | None) -> bool:
    """Whether ``target`` is the ``/3/events`` endpoint of the partner's registered HTTPS host."""
    expected = _answer_target(partner.events_url if partner is not None else None)
    return expected is not None and target == expected


def send_request(
    repository: ExchangeRepository,
    worker: EventWorker,
    client_id: str,
    criteria: dict[str, Any],
) -> str:
    """Queue a RequestCreatedEvent to a partner; returns its event id (delivered by the worker)."""
    partner = repository.partner(client_id)
    target = _answer_target(partner.events_url if partner else None)
    if partner is None or target is None:
        raise InputError(
            f"PACT partner {client_id!r} is unknown or has no HTTPS host URL",
            hint="add it with `carbonlink pact partners add … --host https://…`",
        )
    event = worker.event(REQUEST_CREATED, criteria)
    repository.record_event(
        event,
        direction="sent",
        partner=client_id,
        status="pending",
        target_url=target,
    )
    return str(event["id"])


@dataclass(slots=True)
class OwnersWorker:
    """One `EventWorker` per organization with an exchange in the store, run in turn.

    A service hosting many organizations' exchanges runs this in its lifespan; each run also
    calls ``after_run`` (the service records footprint receipts there). One organization's
    failing run does not keep the others from theirs.
    """

    repository: ExchangeRepository
    source: str
    """The service's PACT base URL (…/pact), every event's CloudEvents ``source``."""
    credentials: Credentials = field(default_factory=dict)
    verify: Any = True
    after_run: Callable[[], object] | None = None
    _workers: dict[str, EventWorker] = field(default_factory=dict)

    def worker(self, owner: str) -> EventWorker:
        """The event worker of one organization (kept, with its cached partner tokens)."""
        if owner not in self._workers:
            self._workers[owner] = EventWorker(
                self.repository.for_owner(owner),
                source=self.source,
                credentials=self.credentials,
                verify=self.verify,
            )
        return self._workers[owner]

    def run_once(self) -> int:
        """Run every organization's worker once; returns the number of events delivered."""
        delivered = 0
        for owner in self.repository.owners():
            try:
                delivered += self.worker(owner).run_once()
            except Exception:
                # Delivery failures are kept on the events; this is anything else (the store
                # unreachable…). One organization's failure must not stop the others' runs.
                LOG.exception("the PACT event worker of organization %s failed", owner)
        if self.after_run is not None:
            self.after_run()
        return delivered
