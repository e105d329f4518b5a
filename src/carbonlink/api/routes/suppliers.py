"""Inviting many portal suppliers at once from a CSV, in the portal page and through the API.

Each good row registers a supplier and issues its one-time invitation (sent by e-mail when SMTP
is configured, else returned once to be passed on); each refused row comes back with its line
and reason. Only roles with ``write`` may invite; the role is checked before the file is read.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, ServiceContext, Writer
from carbonlink.api.i18n import formatter
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.pages import _language, _render
from carbonlink.api.routes.portal import (
    MAX_UPLOAD_BYTES,
    _answer,
    _check_csrf,
    _lead,
    _lead_page,
    _portal_suppliers,
    _repository,
    _request_rows,
    _send_invitation,
    ask_supplier,
)
from carbonlink.api.security import Principal, invitations_of, invite_supplier
from carbonlink.errors import InputError
from carbonlink.exchange.pact import parse_product_footprint, supplier_footprint
from carbonlink.exchange.portal import register_supplier, requests_for_supplier
from carbonlink.exchange.repository import Partner
from carbonlink.exchange.supplier_roster import RosterError, read_roster
from carbonlink.footprints.store import BomLine, ProductStore
from carbonlink.monitor.notify import NotificationError
from carbonlink.store.supplier_requests import ACCEPTED, RequestTerms, record_review, terms_of

router = APIRouter()
pages = APIRouter(include_in_schema=False)

MAIL_FAILED = "the invitation e-mail could not be sent; invite this supplier again later"


@dataclass(slots=True)
class RosterResult:
    """What became of each row of a supplier CSV."""

    invited: list[dict[str, str | int | None]] = field(default_factory=list)
    refused: list[RosterError] = field(default_factory=list)


def invite_roster(ctx: ServiceContext, caller: Principal, text: str, lang: str) -> RosterResult:
    """Register and invite every good row of ``text``; refuse the others with their reason."""
    known = frozenset(inv.email for inv in invitations_of(ctx.accounts, caller.organization_id))
    rows, refused = read_roster(text, known_emails=known)
    result = RosterResult(refused=list(refused))
    repository = _repository(ctx, caller)
    for row in rows:
        partner, _secret = register_supplier(
            repository,
            f"portal-{uuid.uuid4().hex[:12]}",
            name=row.name,
            organization=row.organization,
            company_ids=[row.company_id] if row.company_id else [],
        )
        token = invite_supplier(
            ctx.accounts,
            caller.organization_id,
            partner.client_id,
            row.email,
            lifetime=timedelta(days=ctx.settings.invitation_days),
            invited_by=caller.subject,
        )
        link = f"{ctx.settings.service_url}/portal/invite/{token}"
        if ctx.settings.smtp_host:
            try:
                _send_invitation(ctx, caller, row.email, link, partner.name, lang)
            except NotificationError:
                result.refused.append(RosterError(row.line, MAIL_FAILED, row.email))
                continue
        result.invited.append(
            {
                "line": row.line,
                "name": row.name,
                "email": row.email,
                "organization": row.organization,
                "client_id": partner.client_id,
                "link": None if ctx.settings.smtp_host else link,
            }
        )
    result.refused.sort(key=lambda e: e.line)
    return result


# page --------------------------------------------------------------------------------------
@pages.post("/supply-chain/portal/suppliers/import")
async def import_suppliers_page(request: Request, ctx: Context) -> Response:
    caller = _lead(request, ctx)
    async with request.form(max_files=1, max_fields=10) as form:
        _check_csrf(caller, str(form.get("csrf_token", "")))
        upload = form.get("roster")
        content = b""
        if upload is not None and not isinstance(upload, str):
            content = await upload.read(MAX_UPLOAD_BYTES + 1)
    fmt = formatter(ctx.catalogues, _language(request, caller))
    if not content:
        return _lead_page(
            request, ctx, caller, 422, error=fmt.gettext("Choose the CSV file of suppliers.")
        )
    if len(content) > MAX_UPLOAD_BYTES:
        return _lead_page(
            request, ctx, caller, 422, error=fmt.gettext("The file is larger than 5 MB.")
        )
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _lead_page(
            request, ctx, caller, 422, error=fmt.gettext("Save the CSV file as UTF-8.")
        )
    result = invite_roster(ctx, caller, text, _language(request, caller))
    # The file was read: what became of each row is the page's answer, refused rows included.
    page: HTMLResponse = _lead_page(request, ctx, caller, roster=result)
    return page


# API ---------------------------------------------------------------------------------------
class RosterIn(BaseModel):
    """A CSV of suppliers: header ``name,email,organization[,company_id]``, one row each."""

    csv: str = Field(
        max_length=MAX_UPLOAD_BYTES,
        examples=["name,email,organization\nDemo Coking Co.,sales@coke.example.cn,Demo Coking"],
    )


class InvitedOut(BaseModel):
    line: int = Field(description="line of the CSV", examples=[2])
    name: str = Field(examples=["Demo Coking Co."])
    email: str = Field(examples=["sales@coke.example.cn"])
    organization: str = Field(examples=["Demo Coking"])
    client_id: str = Field(
        description="the supplier's id in the portal", examples=["portal-3f9a1c2b7d4e"]
    )
    link: str | None = Field(
        description="the one-time invitation link when no SMTP server sends it; shown only once",
        examples=["https://carbonlink.example.cn/portal/invite/…"],
    )


class RefusedOut(BaseModel):
    line: int = Field(description="line of the CSV", examples=[3])
    reason: str = Field(examples=["the e-mail address is not valid"])
    value: str = Field(examples=["scrap-at-example"])


class RosterOut(BaseModel):
    invited: list[InvitedOut]
    refused: list[RefusedOut]


@router.post(
    "/api/v1/supply-chain/suppliers/invitations",
    response_model=RosterOut,
    tags=["supply chain"],
    responses=problem_responses(401, 403, 422),
)
def invite_suppliers(body: RosterIn, caller: Writer, ctx: Context) -> RosterOut:
    """Invite several portal suppliers from a CSV; every row is invited or refused with a reason."""
    result = invite_roster(ctx, caller, body.csv, "en")
    return RosterOut(
        invited=[InvitedOut.model_validate(row) for row in result.invited],
        refused=[RefusedOut(line=e.line, reason=e.reason, value=e.value) for e in result.refused],
    )


# a supplier's page and the review of its answers ---------------------------------------------
def _portal_supplier(ctx: ServiceContext, caller: Principal, client_id: str) -> Partner:
    """One of the caller's portal suppliers; 404 for any other."""
    found = next((p for p in _portal_suppliers(ctx, caller) if p.client_id == client_id), None)
    if found is None:
        raise NotFoundError("supplier not found", record=client_id)
    return found


def _supplier_page(
    request: Request,
    ctx: ServiceContext,
    caller: Principal,
    partner: Partner,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    rows = _request_rows(ctx, caller, [partner])
    terms = terms_of(ctx.engine, caller.organization_id, [r.request.event_id for r in rows])
    invitations = [
        inv
        for inv in invitations_of(ctx.accounts, caller.organization_id)
        if inv.partner_id == partner.client_id
    ]
    return _render(
        request,
        ctx,
        "portal_supplier.html",
        caller,
        status_code,
        nav="supply",
        partner=partner,
        rows=rows,
        terms=terms,
        invitations=invitations,
        products=ProductStore(ctx.engine, caller.organization_id).products(),
        today=date.today(),
        error=error,
    )


@pages.get("/supply-chain/portal/suppliers/{client_id}")
def supplier_detail_page(client_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _lead(request, ctx)
    return _supplier_page(request, ctx, caller, _portal_supplier(ctx, caller, client_id))


def review_answer(
    ctx: ServiceContext, caller: Principal, event_id: str, *, accept: bool, reason: str
) -> RequestTerms:
    """Accept an answered request, or return it with a reason; 404 for another's request."""
    terms = terms_of(ctx.engine, caller.organization_id, [event_id]).get(event_id)
    if terms is None:
        raise NotFoundError("request not found", record=event_id)
    repository = _repository(ctx, caller)
    answered = [
        r
        for r in requests_for_supplier(repository, terms.partner_id, open_only=False)
        if r.event_id == event_id and r.status == "fulfilled"
    ]
    if not answered:
        raise InputError(
            "the supplier has not answered this request yet",
            record=event_id,
            hint="review the footprint once it has arrived",
        )
    record_review(
        ctx.engine,
        caller.organization_id,
        event_id,
        accept=accept,
        reason=reason,
        by=caller.subject,
    )
    return terms_of(ctx.engine, caller.organization_id, [event_id])[event_id]


@pages.post("/supply-chain/portal/requests/{event_id}/review")
async def review_answer_page(event_id: str, request: Request, ctx: Context) -> Response:
    caller = _lead(request, ctx)
    async with request.form(max_files=0, max_fields=10) as form:
        _check_csrf(caller, str(form.get("csrf_token", "")))
        decision = str(form.get("decision", ""))
        reason = str(form.get("reason", ""))[:2000]
    terms = terms_of(ctx.engine, caller.organization_id, [event_id]).get(event_id)
    if terms is None:
        raise NotFoundError("request not found", record=event_id)
    partner = _portal_supplier(ctx, caller, terms.partner_id)
    fmt = formatter(ctx.catalogues, _language(request, caller))
    try:
        review_answer(
            ctx,
            caller,
            event_id,
            accept=decision == "accept",
            reason=reason,
        )
    except InputError as exc:
        return _supplier_page(request, ctx, caller, partner, 422, fmt.gettext(exc.message))
    return RedirectResponse(
        f"/supply-chain/portal/suppliers/{partner.client_id}#r-{event_id}", status_code=303
    )


class ReviewIn(BaseModel):
    """Accept the footprint a supplier sent, or return it with the reason it must read."""

    decision: Literal["accept", "return"] = Field(examples=["return"])
    reason: str = Field(
        default="", max_length=2000, examples=["the reference period must be the year 2025"]
    )


class ReviewOut(BaseModel):
    request_event_id: str = Field(examples=["b238fda3-d410-4fb0-a823-52ae5d308ebd"])
    review: str | None = Field(examples=["returned"])
    review_reason: str | None = Field(examples=["the reference period must be the year 2025"])
    reviewed_at: datetime | None = Field(examples=["2026-12-07T14:00:00Z"])


@router.post(
    "/api/v1/supply-chain/portal/requests/{event_id}/review",
    response_model=ReviewOut,
    tags=["supply chain"],
    responses=problem_responses(401, 403, 404, 422),
)
def review_answer_api(event_id: str, body: ReviewIn, caller: Writer, ctx: Context) -> ReviewOut:
    """Review a supplier's answer: accept it (no more revisions) or return it with a reason."""
    terms = review_answer(
        ctx, caller, event_id, accept=body.decision == "accept", reason=body.reason
    )
    return ReviewOut(
        request_event_id=event_id,
        review=terms.review,
        review_reason=terms.review_reason,
        reviewed_at=terms.reviewed_at,
    )


class PortalRequestIn(BaseModel):
    """A request to a portal supplier: products, period asked for, due date, message."""

    supplier: str = Field(
        max_length=128,
        description="the portal supplier's client id",
        examples=["portal-3f9a1c2b7d4e"],
    )
    product_ids: list[str] = Field(
        min_length=1,
        max_length=50,
        description="product URNs",
        examples=[["urn:pact:ferroalloy.example.cn:product-id:FECR-HC"]],
    )
    period_start: date = Field(examples=["2025-01-01"])
    period_end: date = Field(description="exclusive", examples=["2026-01-01"])
    due_date: date = Field(examples=["2027-01-31"])
    message: str = Field(default="", max_length=2000, examples=["请按 2025 自然年填报"])
    mass_t: float | None = Field(
        default=None, ge=0, description="purchased per year, t", examples=[1200]
    )
    spend: float | None = Field(
        default=None, ge=0, description="spent per year, CNY", examples=[11040000]
    )


class PortalRequestOut(BaseModel):
    request_event_id: str = Field(examples=["b238fda3-d410-4fb0-a823-52ae5d308ebd"])


@router.post(
    "/api/v1/supply-chain/portal/requests",
    response_model=PortalRequestOut,
    status_code=201,
    tags=["supply chain"],
    responses=problem_responses(401, 403, 404, 422),
)
def create_portal_request_api(
    body: PortalRequestIn, caller: Writer, ctx: Context
) -> PortalRequestOut:
    """Ask a portal supplier for footprints by a due date (it is reminded before it)."""
    _portal_supplier(ctx, caller, body.supplier)
    event_id = ask_supplier(
        ctx,
        caller,
        body.supplier,
        body.product_ids,
        period_start=body.period_start,
        period_end=body.period_end,
        due_date=body.due_date,
        message=body.message,
        mass_kg=None if body.mass_t is None else body.mass_t * 1000.0,
        spend=body.spend,
    )
    return PortalRequestOut(request_event_id=event_id)


# placing an accepted footprint in a bill of materials ----------------------------------------
def place_in_bom(
    ctx: ServiceContext, caller: Principal, event_id: str, product_key: str, quantity: float
) -> None:
    """Add the accepted footprint of a request to a product's BOM (or set its quantity there),
    keeping the BOM's other lines."""
    terms = terms_of(ctx.engine, caller.organization_id, [event_id]).get(event_id)
    if terms is None:
        raise NotFoundError("request not found", record=event_id)
    if terms.review != ACCEPTED:
        raise InputError(
            "accept the footprint before placing it in a bill of materials", record=event_id
        )
    store = ProductStore(ctx.engine, caller.organization_id)
    if store.product(product_key) is None:
        raise InputError(f"no product {product_key!r}", hint="choose one of your products")
    if not quantity > 0 or quantity == float("inf"):
        raise InputError("the quantity must be a positive number", record=product_key)
    answer = _answer(_repository(ctx, caller), terms.partner_id, event_id)
    assert answer is not None  # an accepted request has been answered
    pf = parse_product_footprint(json.dumps(answer["pf"]))
    line = BomLine.purchased(
        str(pf.id),
        quantity,
        supplier_footprint(pf).declared_unit,
        supplier=terms.partner_id,
        product_id=pf.product_ids[0] if pf.product_ids else None,
    )
    lines = [old for old in store.bom(product_key) if old.supplier_pf_id != line.supplier_pf_id]
    store.save_bom(product_key, [*lines, line])


@pages.post("/supply-chain/portal/requests/{event_id}/bom")
async def place_in_bom_page(event_id: str, request: Request, ctx: Context) -> Response:
    caller = _lead(request, ctx)
    async with request.form(max_files=0, max_fields=10) as form:
        _check_csrf(caller, str(form.get("csrf_token", "")))
        product_key = str(form.get("product", ""))[:128]
        quantity = str(form.get("quantity", ""))[:40]
    terms = terms_of(ctx.engine, caller.organization_id, [event_id]).get(event_id)
    if terms is None:
        raise NotFoundError("request not found", record=event_id)
    partner = _portal_supplier(ctx, caller, terms.partner_id)
    try:
        amount = float(quantity.replace(",", "")) if quantity.strip() else float("nan")
        place_in_bom(ctx, caller, event_id, product_key, amount)
    except ValueError:
        fmt = formatter(ctx.catalogues, _language(request, caller))
        message = fmt.gettext("the quantity must be a positive number")
        return _supplier_page(request, ctx, caller, partner, 422, message)
    except InputError as exc:
        fmt = formatter(ctx.catalogues, _language(request, caller))
        return _supplier_page(request, ctx, caller, partner, 422, fmt.gettext(exc.message))
    return RedirectResponse(f"/supply-chain/products/{product_key}", status_code=303)
