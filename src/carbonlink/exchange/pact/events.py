"""PACT v3 events: CloudEvents 1.0 in structured JSON mode (``application/cloudevents+json``).

PACT v3 OpenAPI ``BaseEvent`` and its four kinds, told apart by ``type``:
``org.wbcsd.pact.ProductFootprint.{RequestCreated,RequestFulfilled,RequestRejected,Published}Event.3``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from carbonlink.exchange.pact.models import Error, PactModel, ProductFootprint, Status
from carbonlink.exchange.pact.types import DateTime, Text, Urn, Uuid, unique

EVENT_TYPE_PREFIX = "org.wbcsd.pact.ProductFootprint."
REQUEST_CREATED = "org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"
REQUEST_FULFILLED = "org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"
REQUEST_REJECTED = "org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"
PUBLISHED = "org.wbcsd.pact.ProductFootprint.PublishedEvent.3"
EVENT_TYPES = (REQUEST_CREATED, REQUEST_FULFILLED, REQUEST_REJECTED, PUBLISHED)


class BaseEvent(PactModel):
    """The CloudEvents context attributes every PACT event carries."""

    type: Text
    specversion: Text
    id: Text
    source: Text
    time: DateTime


class RequestCriteria(PactModel):
    """What a data recipient asks for: the same filters as ``GET /3/footprints``."""

    product_id: list[Urn] | None = Field(default=None, alias="productId")
    company_id: list[Urn] | None = Field(default=None, alias="companyId")
    geography: list[Text] | None = None
    classification: list[Urn] | None = None
    valid_on: DateTime | None = Field(default=None, alias="validOn")
    valid_after: DateTime | None = Field(default=None, alias="validAfter")
    valid_before: DateTime | None = Field(default=None, alias="validBefore")
    status: Status | None = None
    comment: Text | None = None


class RequestCreatedEvent(BaseEvent):
    """A data recipient asks a data owner for footprints matching ``data``."""

    type: Literal["org.wbcsd.pact.ProductFootprint.RequestCreatedEvent.3"]
    data: RequestCriteria


class FulfilledData(PactModel):
    """The footprints answering a request (never an empty list)."""

    request_event_id: Text = Field(alias="requestEventId")
    pfs: Annotated[list[ProductFootprint], Field(min_length=1)]


class RequestFulfilledEvent(BaseEvent):
    """The data owner answers a request with footprints."""

    type: Literal["org.wbcsd.pact.ProductFootprint.RequestFulfilledEvent.3"]
    data: FulfilledData


class RejectedData(PactModel):
    """Why a request cannot be fulfilled."""

    request_event_id: Text = Field(alias="requestEventId")
    error: Error


class RequestRejectedEvent(BaseEvent):
    """The data owner declines a request."""

    type: Literal["org.wbcsd.pact.ProductFootprint.RequestRejectedEvent.3"]
    data: RejectedData


class PublishedData(PactModel):
    """Ids of footprints published or updated by the data owner."""

    pf_ids: Annotated[list[Uuid], AfterValidator(unique)] | None = Field(
        default=None, alias="pfIds"
    )


class PublishedEvent(BaseEvent):
    """The data owner tells a recipient that footprints were published or updated."""

    type: Literal["org.wbcsd.pact.ProductFootprint.PublishedEvent.3"]
    data: PublishedData


PactEvent = Annotated[
    RequestCreatedEvent | RequestFulfilledEvent | RequestRejectedEvent | PublishedEvent,
    Field(discriminator="type"),
]
