"""The PACT v3.0.3 host: a FastAPI application serving our footprints to partners.

Endpoints (PACT Technical Specification v3.0.3, §6 of REFERENCE.md):
``POST /auth/token`` (OAuth2 client credentials, RFC 6749 §4.4), ``GET
/.well-known/openid-configuration``, ``GET /3/footprints`` (eight filters, ``limit``, absolute
``Link: <…>; rel="next"`` pagination), ``GET /3/footprints/{id}`` and ``POST /3/events``
(CloudEvents in structured JSON). The service mounts `create_pact_app`; it also runs alone.
Errors are PACT ``{"code", "message"}`` objects, except on the token endpoint, which answers as
RFC 6749 §5.2 says (``{"error": "invalid_client"}``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlencode

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import Engine
from starlette.datastructures import QueryParams

from carbonlink.errors import CarbonlinkError
from carbonlink.exchange.cbam import add_cbam_routes
from carbonlink.exchange.pact import (
    PUBLISHED,
    REQUEST_CREATED,
    REQUEST_FULFILLED,
    REQUEST_REJECTED,
    InvalidPactDocumentError,
    parse_event,
)
from carbonlink.exchange.repository import (
    Clock,
    ExchangeRepository,
    FootprintFilter,
    Partner,
    parse_instant,
    utc_now,
)
from carbonlink.ledger.note import Signer

FILTERS = (
    "productId",
    "companyId",
    "geography",
    "classification",
    "validOn",
    "validAfter",
    "validBefore",
    "status",
)
FILTER_NAMES = {name.lower(): name for name in FILTERS}
PAGING = ("limit", "offset")
"""``limit`` is the specification's; ``offset`` is carried by the host's own next links."""
MAX_OFFSET = 2**53
"""Far beyond any listing; larger offsets would overflow the database's integers."""
ERROR_STATUS = {
    "BadRequest": 400,
    "AccessDenied": 403,
    "NotFound": 404,
    "TokenExpired": 401,
    "NotImplemented": 400,
    "InternalError": 500,
}
EVENT_MEDIA_TYPES = ("application/cloudevents+json", "application/json")


@dataclass(slots=True)
class HostConfig:
    """How the host behaves: token lifetime, page size, and the background event worker."""

    token_lifetime: timedelta = timedelta(hours=1)
    max_page_size: int = 100
    worker_interval: float | None = 1.0
    """Seconds between runs of the event worker (answers and deliveries); None: no worker."""
    clock: Clock = field(default=utc_now)
    public_url: str | None = None
    """The host's address as partners reach it (scheme, host, port); discovery and next links
    use it rather than echoing the request's Host header. Unset: the request's own address."""
    secret_key: bytes | None = field(default=None, repr=False)
    """The service key client secrets are stored under (see `ExchangeRepository`)."""
    ledger_signer: Callable[[], Signer | None] | None = field(default=None, repr=False)
    """Gives the ledger's signing key, to sign a checkpoint for a CBAM receipt when needed."""


class PactError(Exception):
    """An error the host answers with a PACT Error object."""

    def __init__(self, code: str, message: str, *, headers: dict[str, str] | None = None):
        self.code = code
        self.message = message
        self.headers = headers or {}
        super().__init__(message)


def pact_error(code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """A PACT ``{"code", "message"}`` response with the status the specification gives it."""
    status = 401 if code == "BadRequest" and headers and "WWW-Authenticate" in headers else None
    return JSONResponse(
        {"code": code, "message": message},
        status_code=status or ERROR_STATUS[code],
        headers=headers,
    )


def _oauth_error(error: str, description: str, status: int) -> JSONResponse:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="pact"'
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers=headers
    )


def create_pact_app(
    engine: Engine,
    config: HostConfig | None = None,
    *,
    worker: Any | None = None,
) -> FastAPI:
    """The PACT host over the store behind ``engine``, for every organization in it.

    A partner's credentials name the organization whose partner it is; everything the partner
    sees or sends is scoped to that organization's exchange.

    ``worker`` is an `EventWorker` (carbonlink.exchange.events) that answers requests and
    delivers events; when given and ``config.worker_interval`` is set, it runs in the background
    while the application is up.
    """
    config = config or HostConfig()
    repository = ExchangeRepository(engine, clock=config.clock, secret_key=config.secret_key)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = None
        if worker is not None and config.worker_interval is not None:
            task = asyncio.create_task(run_worker(worker, config.worker_interval))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app = FastAPI(
        title="carbonlink PACT host",
        version="3.0.3",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.pact_repository = repository
    app.state.pact_config = config

    @app.exception_handler(PactError)
    async def _pact_error(_request: Request, exc: PactError) -> JSONResponse:
        return pact_error(exc.code, exc.message, exc.headers)

    @app.exception_handler(Exception)
    async def _internal(_request: Request, exc: Exception) -> JSONResponse:
        return pact_error("InternalError", "the host could not process the request")

    @app.get("/.well-known/openid-configuration")
    async def discovery(request: Request) -> JSONResponse:
        base = _base_url(request, config)
        return JSONResponse(
            {
                "issuer": base,
                "token_endpoint": f"{base}/auth/token",
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "grant_types_supported": ["client_credentials"],
                "response_types_supported": ["token"],
                "scopes_supported": ["footprint:list", "footprint:read"],
                "jwks_uri": f"{base}/.well-known/jwks.json",
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["none"],
            }
        )

    @app.get("/.well-known/jwks.json")
    async def jwks() -> JSONResponse:
        # Tokens are opaque (looked up in the store), so no signing keys are published.
        return JSONResponse({"keys": []})

    @app.post("/auth/token")
    async def token(request: Request) -> JSONResponse:
        credentials = _basic_credentials(request.headers.get("authorization"))
        if credentials is None:
            return _oauth_error(
                "invalid_client", "authenticate with HTTP Basic (client id and secret)", 401
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return _oauth_error(
                "invalid_request", "send the form as application/x-www-form-urlencoded", 400
            )
        form = await request.form()
        grant_type = form.get("grant_type")
        client_id, secret = credentials
        partner = await asyncio.to_thread(repository.authenticate, client_id, secret)
        if partner is None:
            return _oauth_error("invalid_client", "unknown client or wrong secret", 401)
        if grant_type is None:
            return _oauth_error("invalid_request", "grant_type is missing", 400)
        if grant_type != "client_credentials":
            return _oauth_error(
                "unsupported_grant_type", "only client_credentials is supported", 400
            )
        access = await asyncio.to_thread(
            repository.issue_token, partner.client_id, config.token_lifetime
        )
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": int(config.token_lifetime.total_seconds()),
                "scope": "footprint:list footprint:read",
            },
            headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
        )

    def authorised(request: Request) -> Partner:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        token_url = f"{_base_url(request, config)}/auth/token"
        if scheme.lower() != "bearer" or not value.strip():
            raise PactError(
                "BadRequest",
                f"a bearer access token is needed; get one at {token_url}",
                headers={"WWW-Authenticate": 'Bearer realm="pact"'},
            )
        check = repository.check_token(value.strip())
        if check.expired:
            raise PactError(
                "TokenExpired",
                f"the access token has expired; get a new one at {token_url}",
                headers={"WWW-Authenticate": 'Bearer realm="pact", error="invalid_token"'},
            )
        if check.partner is None:
            raise PactError(
                "BadRequest",
                f"the access token is not valid; get one at {token_url}",
                headers={"WWW-Authenticate": 'Bearer realm="pact", error="invalid_token"'},
            )
        return check.partner

    @app.get("/3/footprints")
    async def list_footprints(request: Request) -> Response:
        partner = await asyncio.to_thread(authorised, request)
        criteria, limit, offset = _list_arguments(request, config.max_page_size)
        # One row more than the page tells whether there is a next page.
        owned = repository.for_owner(partner.owner)
        documents = await asyncio.to_thread(
            functools.partial(owned.visible, partner, criteria, offset=offset, limit=limit + 1)
        )
        page = documents[:limit]
        headers = {}
        if len(documents) > limit:
            # A page of zero (limit=0, which the specification allows) links on to a page of the
            # host's size: a link that asks for zero again would never move on.
            link = _next_link(request, config, limit or config.max_page_size, offset + limit)
            headers["Link"] = f'<{link}>; rel="next"'
        # The documents go out as stored: the exact JSON published, not re-serialised.
        body = '{"data":[' + ",".join(page) + "]}"
        return Response(body.encode(), media_type="application/json", headers=headers)

    @app.get("/3/footprints/{pf_id}")
    async def get_footprint(request: Request, pf_id: str) -> Response:
        partner = await asyncio.to_thread(authorised, request)
        owned = repository.for_owner(partner.owner)
        found = await asyncio.to_thread(owned.footprint_document, pf_id)
        if found is None:
            raise PactError("NotFound", f"no footprint with id {pf_id}")
        if not await asyncio.to_thread(owned.may_see, partner, pf_id):
            raise PactError("AccessDenied", f"you have no access to footprint {pf_id}")
        body = '{"data":' + found[0] + "}"
        return Response(body.encode(), media_type="application/json")

    @app.post("/3/events")
    async def events(request: Request) -> Response:
        partner = await asyncio.to_thread(authorised, request)
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in EVENT_MEDIA_TYPES:
            raise PactError(
                "BadRequest", "send the event as application/cloudevents+json (structured mode)"
            )
        body = await request.body()
        owned = repository.for_owner(partner.owner)
        await asyncio.to_thread(receive_event, owned, partner, body)
        return Response(status_code=200)

    add_cbam_routes(app, engine, authorised, config.ledger_signer or _no_signer, PactError)
    return app


def _no_signer() -> None:
    return None


def receive_event(repository: ExchangeRepository, partner: Partner, body: bytes) -> None:
    """Validate and record one event from a partner (PACT v3 ``Action Events``).

    A request is answered later by the event worker. A fulfilled or rejected event must answer a
    request we sent to this same partner; anything else is refused with AccessDenied.
    """
    try:
        event = parse_event(body)
    except InvalidPactDocumentError as exc:
        raise PactError("BadRequest", exc.message) from exc
    document = json.loads(body)
    if event.type == REQUEST_CREATED:
        repository.record_event(
            document, direction="received", partner=partner.client_id, status="received"
        )
        return
    if event.type in (REQUEST_FULFILLED, REQUEST_REJECTED):
        request_id = document["data"]["requestEventId"]
        sent = repository.events(
            partner=partner.client_id,
            direction="sent",
            type=REQUEST_CREATED,
        )
        ours = [row for row in sent if row["event_id"] == request_id]
        if not ours:
            raise PactError(
                "AccessDenied", f"request {request_id} was not sent to you; nothing to answer"
            )
        request_row = ours[0]
        if request_row["status"] in ("fulfilled", "rejected"):
            raise PactError("BadRequest", f"request {request_id} has been answered already")
        fresh = repository.record_event(
            document,
            direction="received",
            partner=partner.client_id,
            status="accepted",
            request_event_id=request_id,
        )
        if not fresh:
            return
        if event.type == REQUEST_FULFILLED:
            for footprint in document["data"]["pfs"]:
                repository.store_received(
                    json.dumps(footprint, ensure_ascii=False),
                    source=partner.client_id,
                    via="event",
                )
        answered = "fulfilled" if event.type == REQUEST_FULFILLED else "rejected"
        repository.set_event_status(request_row["id"], answered)
        return
    if event.type == PUBLISHED:
        repository.record_event(
            document, direction="received", partner=partner.client_id, status="received"
        )
        return
    raise PactError("NotImplemented", f"event type {event.type} is not handled")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    # RFC 6749 §2.3.1: the id and secret are form-encoded before Basic encoding.
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


def _base_url(request: Request, config: HostConfig) -> str:
    root = request.scope.get("root_path", "")
    if config.public_url:
        return f"{config.public_url.rstrip('/')}{root}"
    return f"{request.url.scheme}://{request.url.netloc}{root}"


def _filter_pairs(request: Request) -> list[tuple[str, str]]:
    """The request's filter parameters under the names the specification gives them.

    The specification's filtering example writes ``productid`` and ``validon`` beside
    ``productId``: filter names are matched whatever their case.
    """
    return [
        (FILTER_NAMES[name.lower()], value)
        for name, value in request.query_params.multi_items()
        if name.lower() in FILTER_NAMES
    ]


def _list_arguments(request: Request, max_page: int) -> tuple[FootprintFilter, int, int]:
    """Filters, page size and offset of a list request; what v3 does not define is refused.

    A v2 ``$filter`` or a misspelt filter silently ignored would answer with every footprint,
    which the caller would take for the filtered list.
    """
    unknown = sorted(
        {
            name
            for name in request.query_params
            if name.lower() not in FILTER_NAMES and name not in PAGING
        }
    )
    if unknown:
        raise PactError(
            "BadRequest",
            f"unknown query parameter {unknown[0]!r}: PACT v3 filters by "
            f"{', '.join(FILTERS)} (the v2 $filter is not part of v3), pages by limit",
        )
    params = QueryParams(_filter_pairs(request))
    try:
        limit_text = request.query_params.get("limit")
        limit = max_page if limit_text is None else int(limit_text)
        offset = int(request.query_params.get("offset", "0"))
        if limit < 0:
            raise ValueError("limit must be a whole number from 0")
        if not 0 <= offset <= MAX_OFFSET:
            raise ValueError(f"offset must be a whole number from 0 to {MAX_OFFSET}")
        limit = min(limit, max_page)
        # A status other than Active or Deprecated matches no footprint: the official
        # conformance suite (test case 37) expects an empty list, not an error.
        status = params.get("status")

        def instant(name: str) -> Any:
            value = params.get(name)
            return None if value is None else parse_instant(value)

        criteria = FootprintFilter(
            product_id=tuple(params.getlist("productId")),
            company_id=tuple(params.getlist("companyId")),
            geography=tuple(params.getlist("geography")),
            classification=tuple(params.getlist("classification")),
            valid_on=instant("validOn"),
            valid_after=instant("validAfter"),
            valid_before=instant("validBefore"),
            status=status,
        )
    except (ValueError, CarbonlinkError) as exc:
        raise PactError("BadRequest", f"invalid query parameter: {exc}") from exc
    return criteria, limit, offset


def _next_link(request: Request, config: HostConfig, limit: int, offset: int) -> str:
    """The absolute link to the next page, on the host the request was sent to.

    Offsets over the publication order stay valid for as long as the footprints do (well over
    the 180 s PACT asks for).
    """
    pairs = [*_filter_pairs(request), ("limit", str(limit)), ("offset", str(offset))]
    return f"{_base_url(request, config)}/3/footprints?{urlencode(pairs)}"


async def run_worker(worker: Any, interval: float) -> None:
    """Run ``worker.run_once`` every ``interval`` seconds until cancelled.

    A mounted sub-application gets no lifespan of its own: a service mounting the host starts
    this in its own lifespan.
    """
    while True:
        # The worker records its own failures; one bad run must not stop the loop.
        with contextlib.suppress(Exception):
            await asyncio.to_thread(worker.run_once)
        await asyncio.sleep(interval)
