"""The PACT host inside the service: the /pact mount, its event worker, and its management API.

`mount_pact` serves the organizations' PACT v3 host at ``/pact`` (a partner's base URL is
``https://<service>/pact``) and runs one event-worker loop in the service's lifespan for every
organization with an exchange. The routes under ``/api/v1/pact`` let an organization manage it:
partners and their credentials (admins), published footprints (editors publish and deprecate),
and received footprints, each with its ledger receipt. Everything is scoped to the caller's
organization; another organization's records answer 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, FastAPI, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonlink.api.deps import Admin, Context, Reader, ServiceContext, Writer
from carbonlink.api.lifespan import with_task
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.security import Principal, RateLimitedError, Throttle, throttle_key
from carbonlink.errors import ConfigError, InputError
from carbonlink.exchange import receipts
from carbonlink.exchange.fulfilment import OwnersWorker
from carbonlink.exchange.host import HostConfig, create_pact_app, run_worker
from carbonlink.exchange.pact import InvalidPactDocumentError, parse_product_footprint
from carbonlink.exchange.repository import ExchangeRepository, Partner
from carbonlink.exchange.server import HttpsOnly
from carbonlink.ledger import ConcurrentWriterError, Ledger, load_ledger_signer
from carbonlink.ledger.note import Signer
from carbonlink.settings import Settings

PACT_ROOT = "/pact"
CLIENT_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$"
"""Client ids: no colon (HTTP Basic splits at the first one), no spaces."""
PF_ID = r"^[0-9A-Fa-f-]{36}$"
READ = problem_responses(401, 403, 422)
READ_ONE = problem_responses(401, 403, 404, 422)
WRITE = problem_responses(401, 403, 404, 422)
RECEIPT_MEDIA_TYPE = "text/plain; charset=us-ascii"

router = APIRouter(prefix="/api/v1/pact", tags=["pact"])

COMPANY_EXAMPLE = "urn:pact:steel.example.com:company-id:1"
PF_ID_EXAMPLE = "4f0b9a52-2c6e-4a57-9d37-5f1c0c1d2e3f"
SHA_EXAMPLE = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b"


# -- the mount and its worker ------------------------------------------------------------------
def service_worker(settings: Settings, engine: Engine) -> OwnersWorker | None:
    """The service's PACT event worker (None when ``pact_worker_interval`` is 0).

    Events go out with ``source`` = the public URL's /pact; each run also records ledger
    entries for the footprints published or received since the last run.
    """
    if settings.pact_worker_interval <= 0:
        return None
    from carbonlink.commands.pact import load_credentials
    from carbonlink.exchange.tls import trust

    base = (settings.public_url or "").rstrip("/")
    return OwnersWorker(
        ExchangeRepository(engine, secret_key=settings.key_bytes),
        source=f"{base}{PACT_ROOT}",
        credentials=load_credentials(settings.pact_credentials)
        if settings.pact_credentials
        else {},
        verify=trust(settings.pact_ca_cert) if settings.pact_ca_cert else True,
        after_run=receipts.ReceiptRecorder(engine).run_once,
    )


def mount_pact(app: FastAPI, settings: Settings, engine: Engine) -> None:
    """Mount the PACT host at /pact and start its event worker with the service.

    In production mode plain-HTTP requests to /pact are refused (PACT requires HTTPS), unless
    ``pact_forwarded_https`` trusts a TLS-terminating proxy's ``X-Forwarded-Proto``.
    """
    host = create_pact_app(
        engine,
        HostConfig(
            worker_interval=None,
            public_url=settings.public_url,
            secret_key=settings.key_bytes,
            ledger_signer=lambda: _workspace_signer(settings),
        ),
    )
    throttled = TokenThrottle(
        host, Throttle(engine, settings.login_window_s), settings.pact_token_attempts
    )
    guarded = HttpsOnly(throttled, forwarded=settings.pact_forwarded_https)
    app.mount(PACT_ROOT, guarded if settings.production else throttled, name="pact")
    worker = service_worker(settings, engine)
    if worker is not None:
        app.state.pact_worker = worker
        interval = settings.pact_worker_interval
        app.router.lifespan_context = with_task(
            app.router.lifespan_context, lambda: run_worker(worker, interval)
        )


class TokenThrottle:
    """ASGI middleware: failed token requests per client address, shared by all workers.

    Each request to ``/auth/token`` spends one attempt of its address's budget before the
    credentials are checked; a token issued (200) gives it back. Past the budget the answer is
    429 with ``Retry-After`` until the window ends.
    """

    def __init__(self, app: ASGIApp, throttle: Throttle, attempts: int) -> None:
        self.app = app
        self.throttle = throttle
        self.attempts = attempts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope.get("path", "").endswith("/auth/token"):
            await self.app(scope, receive, send)
            return
        client = scope.get("client") or ("-", 0)
        key = throttle_key("pact-token-addr", str(client[0]))
        try:
            spent = await asyncio.to_thread(self.throttle.spend, key, self.attempts)
        except RateLimitedError as exc:
            refused = JSONResponse(
                {
                    "error": "invalid_request",
                    "error_description": f"too many failed token requests; {exc.hint}",
                },
                status_code=429,
                headers={"Retry-After": str(exc.retry_after_s), "Cache-Control": "no-store"},
            )
            await refused(scope, receive, send)
            return
        status: list[int] = []

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(int(message["status"]))
            await send(message)

        await self.app(scope, receive, watch)
        if status == [200]:
            await asyncio.to_thread(self.throttle.refund, spent)


# -- models ------------------------------------------------------------------------------------
class PartnerIn(BaseModel):
    name: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]*$", examples=["Appliance Co purchasing"]
    )
    organization: str = Field(
        min_length=1, max_length=200, pattern=r"^[^\x00]*$", examples=["Appliance Co"]
    )
    client_id: str | None = Field(
        default=None,
        pattern=CLIENT_ID,
        description="The partner's client id; empty: one is made (pact-<16 hex digits>).",
        examples=["appliance-co"],
    )
    company_ids: list[Annotated[str, Field(max_length=512, pattern=r"^[^\x00]*$")]] = Field(
        default_factory=list,
        description="The partner's own company URNs.",
        examples=[["urn:pact:appliance.example.com:company-id:7"]],
    )
    host_url: str | None = Field(
        default=None,
        pattern=r"^https://[^\s\x00]+$",
        description="Base URL of the partner's PACT host, where answers to its requests go.",
        examples=["https://pact.appliance.example.com"],
    )
    grant_companies: list[Annotated[str, Field(max_length=512, pattern=r"^[^\x00]*$")]] = Field(
        default_factory=list,
        description="Company URNs of ours whose footprints the partner may see.",
        examples=[[COMPANY_EXAMPLE]],
    )
    grant_footprints: list[Annotated[str, Field(pattern=PF_ID)]] = Field(
        default_factory=list,
        description="Ids of single footprints the partner may see.",
        examples=[[PF_ID_EXAMPLE]],
    )


class GrantsIn(BaseModel):
    companies: list[Annotated[str, Field(max_length=512, pattern=r"^[^\x00]*$")]] = Field(
        default_factory=list, examples=[[COMPANY_EXAMPLE]]
    )
    footprints: list[Annotated[str, Field(pattern=PF_ID)]] = Field(
        default_factory=list, examples=[[PF_ID_EXAMPLE]]
    )


class PartnerOut(BaseModel):
    client_id: str = Field(examples=["appliance-co"])
    name: str = Field(examples=["Appliance Co purchasing"])
    organization: str = Field(examples=["Appliance Co"])
    company_ids: list[str] = Field(examples=[["urn:pact:appliance.example.com:company-id:7"]])
    host_url: str | None = Field(examples=["https://pact.appliance.example.com"])
    active: bool = Field(examples=[True])
    grant_companies: list[str] = Field(examples=[[COMPANY_EXAMPLE]])
    grant_footprints: list[str] = Field(examples=[[PF_ID_EXAMPLE]])


class PartnerCredentials(PartnerOut):
    client_secret: str = Field(
        description="Shown once: only its HMAC-SHA-256 under the service key is stored.",
        examples=["Vq3…the-secret…X1"],
    )
    token_url: str = Field(
        description="Where the partner gets access tokens (relative to the service's base URL).",
        examples=["/pact/auth/token"],
    )


class FootprintOut(BaseModel):
    id: str = Field(examples=[PF_ID_EXAMPLE])
    status: str = Field(examples=["Active"])
    product_ids: list[str] = Field(examples=[["urn:pact:steel.example.com:product-id:hrc"]])
    product_name: str = Field(examples=["Hot-rolled coil"])
    pcf_excluding_biogenic_uptake: str = Field(
        description="kg CO2e per declared unit, as the document states it", examples=["2.13"]
    )
    declared_unit: str = Field(examples=["kilogram"])
    published_at: datetime | None = Field(default=None, examples=["2026-06-01T12:00:00Z"])
    sha256: str = Field(description="of the stored JSON document", examples=[SHA_EXAMPLE])


class ReceivedOut(FootprintOut):
    source: str = Field(examples=["coke-supplier"])
    via: str = Field(description="pull, event, published or portal", examples=["event"])
    received_at: datetime = Field(examples=["2026-06-01T12:00:03Z"])


FOOTPRINT_EXAMPLE: dict[str, Any] = {
    "id": PF_ID_EXAMPLE,
    "specVersion": "3.0.3",
    "created": "2026-01-15T00:00:00Z",
    "status": "Active",
    "companyName": "Demo Steel",
    "companyIds": [COMPANY_EXAMPLE],
    "productDescription": "Hot-rolled steel coil",
    "productIds": ["urn:pact:steel.example.com:product-id:hrc"],
    "productClassifications": ["urn:pact:productclassification:hs:720810"],
    "productNameCompany": "Hot-rolled coil",
    "pcf": {
        "declaredUnitOfMeasurement": "kilogram",
        "declaredUnitAmount": "1",
        "productMassPerDeclaredUnit": "1",
        "referencePeriodStart": "2025-01-01T00:00:00Z",
        "referencePeriodEnd": "2026-01-01T00:00:00Z",
        "geographyCountry": "CN",
        "pcfExcludingBiogenicUptake": "2.13",
        "pcfIncludingBiogenicUptake": "2.13",
        "fossilCarbonContent": "0",
        "fossilGhgEmissions": "2.13",
        "landUseChangeGhgEmissions": "0",
        "landManagementBiogenicCO2Emissions": "0",
        "landManagementBiogenicCO2Removals": "0",
        "biogenicCO2Uptake": "0",
        "biogenicNonCO2Emissions": "0",
        "packagingEmissionsIncluded": False,
        "ipccCharacterizationFactors": ["AR6"],
        "crossSectoralStandards": ["ISO14067"],
        "exemptedEmissionsPercent": "0",
    },
}


# -- helpers -----------------------------------------------------------------------------------
def _repository(ctx: ServiceContext, caller: Principal) -> ExchangeRepository:
    return ExchangeRepository(
        ctx.engine, organization_id=caller.organization_id, secret_key=ctx.settings.key_bytes
    )


def _partner(repository: ExchangeRepository, client_id: str) -> Partner:
    found = repository.partner(client_id)
    if found is None:
        raise NotFoundError(
            f"PACT partner '{client_id}' not found",
            record=client_id,
            hint="list your partners with GET /api/v1/pact/partners",
        )
    return found


def _partner_out(repository: ExchangeRepository, partner: Partner) -> PartnerOut:
    grants = repository.grants(partner.client_id)
    return PartnerOut(
        client_id=partner.client_id,
        name=partner.name,
        organization=partner.organization,
        company_ids=list(partner.company_ids),
        host_url=partner.events_url,
        active=partner.active,
        grant_companies=grants["company"],
        grant_footprints=grants["footprint"],
    )


def _credentials(
    repository: ExchangeRepository, partner: Partner, secret: str
) -> PartnerCredentials:
    return PartnerCredentials(
        **_partner_out(repository, partner).model_dump(),
        client_secret=secret,
        token_url=f"{PACT_ROOT}/auth/token",
    )


def _summary(document: str) -> dict[str, Any]:
    footprint = parse_product_footprint(document)
    unit = footprint.pcf.declared_unit_of_measurement
    return {
        "id": footprint.id,
        "status": footprint.status,
        "product_ids": list(footprint.product_ids),
        "product_name": footprint.product_name_company,
        "pcf_excluding_biogenic_uptake": str(footprint.pcf.pcf_excluding_biogenic_uptake),
        "declared_unit": getattr(unit, "value", str(unit)),
        "sha256": hashlib.sha256(document.encode()).hexdigest(),
    }


def _record_now(ctx: ServiceContext, footprint: receipts.StoredFootprint) -> None:
    # The worker records whatever this misses (another writer holding the ledger).
    with contextlib.suppress(ConcurrentWriterError):
        receipts.record(Ledger(ctx.engine), footprint)


def _workspace_signer(settings: Settings) -> Signer | None:
    """The ledger's signing key when the workspace has one (receipts on the PACT host)."""
    try:
        return load_ledger_signer(settings.workspace)
    except ConfigError:
        return None


def _signer(ctx: ServiceContext) -> Signer | None:
    try:
        return load_ledger_signer(ctx.settings.workspace)
    except ConfigError:
        return None  # a receipt is still possible when a signed checkpoint covers the entry


def _receipt_response(ctx: ServiceContext, footprint: receipts.StoredFootprint) -> Response:
    index, receipt = receipts.receipt_of(Ledger(ctx.engine), footprint, _signer(ctx))
    name = f"{footprint.direction}-{footprint.pf_id}.tlog-proof"
    return Response(
        receipt.to_bytes(),
        media_type=RECEIPT_MEDIA_TYPE,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "X-Ledger-Index": str(index),
            "X-Document-SHA256": footprint.sha256,
        },
    )


def _document_response(footprint: receipts.StoredFootprint) -> Response:
    # The exact stored bytes: what the receipt's SHA-256 covers.
    return Response(footprint.document.encode(), media_type="application/json")


RECEIPT_DOC = {
    200: {
        "description": "The c2sp.org/tlog-proof@v1 receipt: check it offline with "
        "`carbonlink verify <receipt> <document.json> --key <ledger.vkey>`.",
        "content": {
            RECEIPT_MEDIA_TYPE: {
                "example": "c2sp.org/tlog-proof@v1\nextra eyJ2IjoxLC4uLn0=\nindex 12\n"
                "oRNxWVuPfaYRbMilQYwiK7zGG2dB7ZLQC0IlVdDYvuc=\n\n"
                "carbonlink.local/demo-workspace-2a1fdb31\n13\n…\n"
            }
        },
    },
    **problem_responses(400, 401, 403, 404, 422),
}
DOCUMENT_DOC = {
    200: {
        "description": "The footprint's JSON exactly as stored (the bytes its receipt covers).",
        "content": {"application/json": {"example": FOOTPRINT_EXAMPLE}},
    },
    **READ_ONE,
}
ClientId = Annotated[str, Path(pattern=CLIENT_ID, examples=["appliance-co"])]
PfId = Annotated[str, Path(pattern=PF_ID, examples=[PF_ID_EXAMPLE])]


# -- partners ----------------------------------------------------------------------------------
@router.get("/partners", response_model=list[PartnerOut], responses=READ)
def list_partners(caller: Admin, ctx: Context) -> list[PartnerOut]:
    """The organization's PACT partners with their grants (admin only)."""
    repository = _repository(ctx, caller)
    return [_partner_out(repository, p) for p in repository.partners()]


@router.post("/partners", response_model=PartnerCredentials, status_code=201, responses=WRITE)
def create_partner(
    body: Annotated[
        PartnerIn,
        Body(
            openapi_examples={
                "customer seeing one company's footprints": {
                    "value": {
                        "name": "Appliance Co purchasing",
                        "organization": "Appliance Co",
                        "client_id": "appliance-co",
                        "grant_companies": [COMPANY_EXAMPLE],
                    }
                }
            }
        ),
    ],
    caller: Admin,
    ctx: Context,
) -> PartnerCredentials:
    """Register a partner; the answer carries its client secret, shown this once (admin only).

    The partner gets tokens at ``/pact/auth/token`` (HTTP Basic with the client id and secret)
    and lists the footprints its grants cover at ``/pact/3/footprints``.
    """
    repository = _repository(ctx, caller)
    client_id = body.client_id or f"pact-{secrets.token_hex(8)}"
    secret = secrets.token_urlsafe(32)
    partner = repository.add_partner(
        client_id,
        secret,
        name=body.name,
        organization=body.organization,
        company_ids=body.company_ids,
        events_url=body.host_url,
        grant_companies=body.grant_companies,
        grant_footprints=body.grant_footprints,
    )
    return _credentials(repository, partner, secret)


@router.post("/partners/{client_id}/grants", response_model=PartnerOut, responses=WRITE)
def add_grants(client_id: ClientId, body: GrantsIn, caller: Admin, ctx: Context) -> PartnerOut:
    """Let a partner see more footprints: by company URN or by footprint id (admin only)."""
    repository = _repository(ctx, caller)
    _partner(repository, client_id)
    repository.grant(client_id, companies=body.companies, footprints=body.footprints)
    return _partner_out(repository, _partner(repository, client_id))


@router.post("/partners/{client_id}/deactivate", response_model=PartnerOut, responses=WRITE)
def deactivate_partner(client_id: ClientId, caller: Admin, ctx: Context) -> PartnerOut:
    """Stop a partner's access at once: its secret and tokens no longer work (admin only)."""
    repository = _repository(ctx, caller)
    _partner(repository, client_id)
    return _partner_out(repository, repository.set_partner_active(client_id, False))


@router.post("/partners/{client_id}/reactivate", response_model=PartnerOut, responses=WRITE)
def reactivate_partner(client_id: ClientId, caller: Admin, ctx: Context) -> PartnerOut:
    """Let a deactivated partner get tokens again with its secret (admin only)."""
    repository = _repository(ctx, caller)
    _partner(repository, client_id)
    return _partner_out(repository, repository.set_partner_active(client_id, True))


@router.post("/partners/{client_id}/secret", response_model=PartnerCredentials, responses=WRITE)
def rotate_secret(client_id: ClientId, caller: Admin, ctx: Context) -> PartnerCredentials:
    """Give a partner a new client secret, shown this once; the old one stops (admin only)."""
    repository = _repository(ctx, caller)
    _partner(repository, client_id)
    secret = secrets.token_urlsafe(32)
    return _credentials(repository, repository.rotate_secret(client_id, secret), secret)


# -- published footprints ----------------------------------------------------------------------
@router.get("/footprints", response_model=list[FootprintOut], responses=READ)
def list_footprints(caller: Reader, ctx: Context) -> list[FootprintOut]:
    """The footprints the organization publishes on its PACT host, oldest first."""
    rows = _repository(ctx, caller).published()
    return [
        FootprintOut(**_summary(row["document"]), published_at=row["published_at"]) for row in rows
    ]


@router.post("/footprints", response_model=FootprintOut, status_code=201, responses=WRITE)
def publish_footprint(
    document: Annotated[
        dict[str, Any], Body(openapi_examples={"a steel coil": {"value": FOOTPRINT_EXAMPLE}})
    ],
    caller: Writer,
    ctx: Context,
) -> FootprintOut:
    """Publish a PACT v3 ProductFootprint (validated) on the host; records its ledger entry.

    Publishing a footprint of the same id again replaces it (a new version, a new entry).
    """
    text = json.dumps(document, ensure_ascii=False)
    repository = _repository(ctx, caller)
    try:
        pf_id = repository.publish(text)
    except InvalidPactDocumentError as exc:
        raise InputError(
            f"not a valid PACT v3 footprint: {exc.message}",
            record=str(document.get("id", "")) or None,
            hint='fix the listed fields; PACT decimals are JSON strings, e.g. "2.13"',
        ) from exc
    return _published_out(ctx, repository, pf_id)


def _published_out(ctx: ServiceContext, repository: ExchangeRepository, pf_id: str) -> FootprintOut:
    footprint = receipts.stored(ctx.engine, repository.organization_id, pf_id)
    _record_now(ctx, footprint)
    row = next(r for r in repository.published() if r["pf_id"] == footprint.pf_id)
    return FootprintOut(**_summary(footprint.document), published_at=row["published_at"])


@router.get("/footprints/{pf_id}", responses=DOCUMENT_DOC, response_class=Response)
def get_footprint(pf_id: PfId, caller: Reader, ctx: Context) -> Response:
    """A published footprint's JSON exactly as stored and served to partners."""
    return _document_response(receipts.stored(ctx.engine, caller.organization_id, pf_id))


@router.post("/footprints/{pf_id}/deprecate", response_model=FootprintOut, responses=WRITE)
def deprecate_footprint(pf_id: PfId, caller: Writer, ctx: Context) -> FootprintOut:
    """Mark a published footprint Deprecated (PACT ``status``); partners still see it as such."""
    repository = _repository(ctx, caller)
    footprint = receipts.stored(ctx.engine, caller.organization_id, pf_id)
    document = json.loads(footprint.document)
    document["status"] = "Deprecated"
    return _published_out(
        ctx, repository, repository.publish(json.dumps(document, ensure_ascii=False))
    )


@router.get("/footprints/{pf_id}/receipt", responses=RECEIPT_DOC, response_class=Response)
def footprint_receipt(pf_id: PfId, caller: Reader, ctx: Context) -> Response:
    """The ledger receipt of a published footprint's stored document, for offline checks."""
    return _receipt_response(ctx, receipts.stored(ctx.engine, caller.organization_id, pf_id))


# -- received footprints -----------------------------------------------------------------------
@router.get("/received", response_model=list[ReceivedOut], responses=READ)
def list_received(caller: Reader, ctx: Context) -> list[ReceivedOut]:
    """Footprints received from partners, with their provenance, oldest first."""
    return [
        ReceivedOut(
            **_summary(row["document"]),
            source=row["source"],
            via=row["via"],
            received_at=row["received_at"],
        )
        for row in _repository(ctx, caller).received()
    ]


@router.get("/received/{pf_id}", responses=DOCUMENT_DOC, response_class=Response)
def get_received(pf_id: PfId, caller: Reader, ctx: Context) -> Response:
    """The newest received version of a footprint, exactly as received."""
    found = receipts.stored(ctx.engine, caller.organization_id, pf_id, receipts.RECEIVED)
    return _document_response(found)


@router.get("/received/{pf_id}/receipt", responses=RECEIPT_DOC, response_class=Response)
def received_receipt(pf_id: PfId, caller: Reader, ctx: Context) -> Response:
    """The ledger receipt of the newest received version of a footprint."""
    found = receipts.stored(ctx.engine, caller.organization_id, pf_id, receipts.RECEIVED)
    return _receipt_response(ctx, found)
