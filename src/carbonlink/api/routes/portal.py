"""Supplier portal pages: the lead enterprise invites suppliers and asks them for footprints;
a supplier without a PACT host answers with its activity data.

Lead enterprise (roles with ``write``): ``/supply-chain/portal``. Supplier (the ``supplier``
role, bound to one partner): ``/portal`` and ``/portal/requests/{event_id}``, nothing else. An
invitation is a one-time link ``{public_url}/portal/invite/{token}``; only the token's SHA-256 is
stored, and the access log shows the path without it.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import smtplib
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Annotated, Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from carbonlink.api.deps import Context, ServiceContext, identify
from carbonlink.api.i18n import formatter
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import LoginRequired, _language, _render, signed_in
from carbonlink.api.schema import portal_purchases
from carbonlink.api.security import (
    ForbiddenError,
    InvitationError,
    Principal,
    accept_invitation,
    invitations_of,
    invite_supplier,
    open_invitation,
    same_secret,
    supplier_partner,
)
from carbonlink.domain.footprint import (
    BillOfMaterials,
    EmissionProfile,
    PurchasedInput,
    SecondaryFactor,
    SecondaryInput,
    SupplierFootprint,
)
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.exchange.fulfilment import EventWorker
from carbonlink.exchange.pact import DataOwner, parse_product_footprint, supplier_footprint
from carbonlink.exchange.portal import (
    Coverage,
    SupplierRequest,
    compute_submission,
    create_supplier_request,
    register_supplier,
    requests_for_supplier,
    submit_activity_data,
    supplier_coverage,
)
from carbonlink.exchange.portal_sheet import (
    DECLARED_UNITS,
    ENERGY_ROWS,
    MATERIAL_ROWS,
    OUTPUT_ROWS,
    PRODUCT_FIELDS,
    TABLES,
    fields_from_workbook,
    submission_from_fields,
    template_workbook,
)
from carbonlink.exchange.repository import ExchangeRepository, Partner
from carbonlink.monitor.notify import NotificationError
from carbonlink.store.supplier_requests import (
    check_terms,
    record_answer,
    save_terms,
    terms_of,
)

INVITE_CSRF_COOKIE = "carbonlink_invite_csrf"
ACCEPTED_ALREADY = "Your customer has accepted this footprint: it can no longer be revised."
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
router = APIRouter(include_in_schema=False)


class RedactInvitationTokens(logging.Filter):
    """Access-log filter: an invitation path is logged without its token."""

    PATTERN = re.compile(r"(/portal/invite/)[^/?\s\"]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.PATTERN.sub(r"\1…", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        return True


def install(app: FastAPI) -> None:
    """Add the portal's routes to the app, and keep invitation tokens out of the access log."""
    app.include_router(router)
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactInvitationTokens) for f in access.filters):
        access.addFilter(RedactInvitationTokens())


# who is calling ----------------------------------------------------------------------------
def _lead(request: Request, ctx: ServiceContext) -> Principal:
    caller = identify(request, ctx)
    if caller is None:
        raise LoginRequired()
    caller.require("write")
    return caller


def _supplier(request: Request, ctx: ServiceContext) -> tuple[Principal, Partner]:
    caller = identify(request, ctx)
    if caller is None:
        raise LoginRequired()
    partner_id = supplier_partner(ctx.accounts, caller)
    partner = _repository(ctx, caller).partner(partner_id) if partner_id else None
    if partner is None:
        raise ForbiddenError(
            "the supplier portal is for supplier accounts",
            hint="log in with the account your customer invited you to set up",
        )
    return caller, partner


def _check_csrf(caller: Principal, sent: str) -> None:
    if not same_secret(caller.csrf_token, sent):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")


def _repository(ctx: ServiceContext, caller: Principal) -> ExchangeRepository:
    return ExchangeRepository(
        ctx.engine, organization_id=caller.organization_id, secret_key=ctx.settings.key_bytes
    )


def _worker(ctx: ServiceContext, repository: ExchangeRepository) -> EventWorker:
    return EventWorker(repository, source=f"{ctx.settings.service_url}/pact")


# lead enterprise ---------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RequestRow:
    """A request to a portal supplier with its answer, as the lead enterprise sees it."""

    request: SupplierRequest
    supplier: Partner
    products: list[str]
    mass_kg: float | None
    spend: float | None
    footprint: SupplierFootprint | None
    answered_at: Any


def _answer(repository: ExchangeRepository, supplier: str, event_id: str) -> dict[str, Any] | None:
    """The latest footprint answering a request (a revision supersedes), with its time."""
    rows = repository.events(partner=supplier, direction="received", request_event_id=event_id)
    for row in reversed(rows):
        pfs = json.loads(row["document"]).get("data", {}).get("pfs") or []
        if pfs:
            return {"pf": pfs[0], "at": row["created_at"]}
    return None


def _portal_suppliers(ctx: ServiceContext, caller: Principal) -> list[Partner]:
    invited = {inv.partner_id for inv in invitations_of(ctx.accounts, caller.organization_id)}
    return [p for p in _repository(ctx, caller).partners() if p.client_id in invited]


def _request_rows(
    ctx: ServiceContext, caller: Principal, suppliers: list[Partner]
) -> list[RequestRow]:
    repository = _repository(ctx, caller)
    with ctx.engine.connect() as conn:
        purchases = {
            row.request_event_id: row
            for row in conn.execute(
                sa.select(portal_purchases).where(
                    portal_purchases.c.organization_id == caller.organization_id
                )
            )
        }
    out = []
    for supplier in suppliers:
        for request in requests_for_supplier(repository, supplier.client_id, open_only=False):
            answer = _answer(repository, supplier.client_id, request.event_id)
            footprint = (
                supplier_footprint(parse_product_footprint(json.dumps(answer["pf"])))
                if answer
                else None
            )
            bought = purchases.get(request.event_id)
            products = request.criteria.get("productId") or []
            out.append(
                RequestRow(
                    request=request,
                    supplier=supplier,
                    products=[products] if isinstance(products, str) else list(products),
                    mass_kg=bought.mass_kg if bought else None,
                    spend=bought.spend if bought else None,
                    footprint=footprint,
                    answered_at=answer["at"] if answer else None,
                )
            )
    return sorted(out, key=lambda r: r.request.created_at, reverse=True)


def portal_coverage(rows: list[RequestRow]) -> tuple[dict[str, Coverage], dict[str, Coverage]]:
    """Coverage per purchased product and per supplier of what the lead buys from portal suppliers.

    Each request with its yearly purchase is one bill of materials of the requested product: a
    purchased input with the supplier's footprint once answered, else an input without supplier
    data (a zero secondary factor that only counts the mass and spend). `supplier_coverage`
    then gives the share with primary data; per supplier, its products' coverages add up.
    """
    boms = []
    prices: dict[str, float] = {}
    owners: dict[str, str] = {}
    for row in rows:
        if row.mass_kg is None:
            continue
        product = row.products[0] if row.products else row.request.event_id
        key = f"{product} · {row.request.event_id}"
        owners[key] = row.supplier.name
        price = (row.spend or 0.0) / row.mass_kg if row.mass_kg else 0.0
        if row.footprint is not None:
            footprint = replace(row.footprint, reference=key, supplier=row.supplier.name)
            prices[key] = price
            line: PurchasedInput | SecondaryInput = PurchasedInput(footprint, row.mass_kg)
        else:
            factor = SecondaryFactor(
                name=key,
                unit="kilogram",
                profile=EmissionProfile(),
                source="no supplier data yet",
                version="-",
            )
            prices[key] = price
            line = SecondaryInput(factor, row.mass_kg)
        boms.append(BillOfMaterials(key, (line,)))
    per_key, _ = supplier_coverage(boms, prices=prices)
    per_product: dict[str, Coverage] = {}
    per_supplier: dict[str, Coverage] = {}
    for key, coverage in per_key.items():
        product = key.rsplit(" · ", 1)[0]
        per_product[product] = per_product.get(product, Coverage()) + coverage
        per_supplier[owners[key]] = per_supplier.get(owners[key], Coverage()) + coverage
    return per_product, per_supplier


def _lead_page(
    request: Request,
    ctx: ServiceContext,
    caller: Principal,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    suppliers = _portal_suppliers(ctx, caller)
    rows = _request_rows(ctx, caller, suppliers)
    per_product, per_supplier = portal_coverage(rows)
    invitations: dict[str, Any] = {}
    for invitation in invitations_of(ctx.accounts, caller.organization_id):
        invitations.setdefault(invitation.partner_id, invitation)  # newest first
    return _render(
        request,
        ctx,
        "portal_admin.html",
        caller,
        status_code,
        nav="supply",
        suppliers=suppliers,
        invitations=invitations,
        rows=rows,
        per_product=sorted(per_product.items()),
        total=sum(per_product.values(), Coverage()),
        per_supplier=sorted(per_supplier.items()),
        smtp=bool(ctx.settings.smtp_host),
        terms=terms_of(ctx.engine, caller.organization_id),
        form_terms=default_terms(date.today()),
        **{
            "sent": request.query_params.get("sent"),
            "invite_link": None,
            "error": None,
            "roster": None,
            **values,
        },
    )


@router.get("/supply-chain/portal")
def portal_admin(request: Request, ctx: Context) -> HTMLResponse:
    caller = _lead(request, ctx)
    return _lead_page(request, ctx, caller)


def _send_invitation(
    ctx: ServiceContext, caller: Principal, email: str, link: str, supplier: str, lang: str
) -> None:
    """E-mail the invitation link through the configured SMTP server (both languages)."""
    settings = ctx.settings
    org = ctx.data.organization(caller.organization_id)
    customer = org.name if org else caller.organization_id
    days = settings.invitation_days
    message = EmailMessage()
    message["Subject"] = f"[carbonlink] {customer}: 供应商门户邀请 / supplier portal invitation"
    message["From"] = settings.smtp_sender
    message["To"] = email
    message.set_content(
        f"{customer} 邀请 {supplier} 通过供应商门户提交产品碳足迹。\n"
        f"请在 {days:g} 天内打开以下一次性链接，设置名称和密码：\n{link}\n\n"
        f"{customer} invites {supplier} to answer its product carbon footprint requests in the "
        f"supplier portal.\nOpen this one-time link within {days:g} days to set your name and "
        f"password:\n{link}\n"
    )
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        assert settings.smtp_host is not None
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
            if settings.smtp_starttls:
                smtp.starttls()
            if settings.smtp_username and password:
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotificationError(
            f"the invitation e-mail via {settings.smtp_host}:{settings.smtp_port} failed: "
            f"{type(exc).__name__}",
            record=email,
            hint="check the CARBONLINK_SMTP_* settings, then send the invitation again",
        ) from None


def _invite(
    request: Request, ctx: ServiceContext, caller: Principal, partner: Partner, email: str
) -> Response:
    token = invite_supplier(
        ctx.accounts,
        caller.organization_id,
        partner.client_id,
        email,
        lifetime=timedelta(days=ctx.settings.invitation_days),
        invited_by=caller.subject,
    )
    link = f"{ctx.settings.service_url}/portal/invite/{token}"
    if not ctx.settings.smtp_host:
        # Shown once on this page, never in a URL the service redirects to (and logs).
        return _lead_page(request, ctx, caller, invite_link=link, invited=partner.name)
    try:
        _send_invitation(ctx, caller, email, link, partner.name, _language(request, caller))
    except NotificationError as exc:
        return _lead_page(request, ctx, caller, 502, error=str(exc))
    return RedirectResponse("/supply-chain/portal?sent=1", status_code=303)


@router.post("/supply-chain/portal/suppliers")
def register_portal_supplier(
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    company_id: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    caller = _lead(request, ctx)
    _check_csrf(caller, csrf_token)
    try:
        if not name.strip():
            raise InputError("the supplier's name is empty", hint="write the company name")
        if not company_id.strip().lower().startswith("urn:"):
            raise InputError(
                f"{company_id!r} is not a company URN",
                record=name,
                hint="write e.g. urn:pact:supplier.example.cn:company-id:ACME",
            )
        if "@" not in email:
            raise InputError(f"{email!r} is not an e-mail address", record=name)
        client_id = f"portal-{uuid.uuid4().hex[:12]}"
        partner, _secret = register_supplier(
            _repository(ctx, caller),
            client_id,
            name=name.strip(),
            organization=name.strip(),
            company_ids=[company_id.strip()],
        )
    except InputError as exc:
        return _lead_page(request, ctx, caller, 422, error=str(exc))
    return _invite(request, ctx, caller, partner, email)


@router.post("/supply-chain/portal/suppliers/{client_id}/invite")
def reinvite_portal_supplier(
    client_id: str,
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
) -> Response:
    caller = _lead(request, ctx)
    _check_csrf(caller, csrf_token)
    partner = next((p for p in _portal_suppliers(ctx, caller) if p.client_id == client_id), None)
    if partner is None:
        raise NotFoundError("supplier not found", record=client_id)
    try:
        return _invite(request, ctx, caller, partner, email)
    except InputError as exc:
        return _lead_page(request, ctx, caller, 422, error=str(exc))


@router.post("/supply-chain/portal/requests")
def create_portal_request(
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    supplier: Annotated[str, Form(max_length=128)] = "",
    product_ids: Annotated[str, Form(max_length=4000)] = "",
    mass_t: Annotated[str, Form(max_length=40)] = "",
    spend: Annotated[str, Form(max_length=40)] = "",
    period_start: Annotated[str, Form(max_length=10)] = "",
    period_end: Annotated[str, Form(max_length=10)] = "",
    due_date: Annotated[str, Form(max_length=10)] = "",
    message: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    caller = _lead(request, ctx)
    _check_csrf(caller, csrf_token)
    if supplier not in {p.client_id for p in _portal_suppliers(ctx, caller)}:
        raise NotFoundError("supplier not found", record=supplier)
    start, end, due = default_terms(date.today())
    try:
        mass = _optional_number(mass_t, "purchased mass")
        money = _optional_number(spend, "spend")
        ask_supplier(
            ctx,
            caller,
            supplier,
            [part for part in product_ids.replace(",", " ").split() if part],
            period_start=_date(period_start, "period start") or start,
            period_end=_date(period_end, "period end") or end,
            due_date=_date(due_date, "due date") or due,
            message=message,
            mass_kg=None if mass is None else mass * 1000.0,
            spend=money,
        )
    except InputError as exc:
        return _lead_page(request, ctx, caller, 422, error=str(exc))
    return RedirectResponse("/supply-chain/portal#requests", status_code=303)


def ask_supplier(
    ctx: ServiceContext,
    caller: Principal,
    supplier: str,
    ids: list[str],
    *,
    period_start: date,
    period_end: date,
    due_date: date,
    message: str,
    mass_kg: float | None = None,
    spend: float | None = None,
) -> str:
    """Send a portal supplier a request for the footprints of ``ids``, with its terms and the
    yearly purchase that weighs coverage; returns the request's event id."""
    if not ids or not all(i.lower().startswith("urn:") for i in ids):
        raise InputError(
            "product ids must be URNs",
            record=" ".join(ids)[:80] or "product ids",
            hint="write e.g. urn:pact:supplier.example.cn:product-id:FECR-HC, one per line",
        )
    check_terms(period_start, period_end, due_date, date.today())
    repository = _repository(ctx, caller)
    event_id = create_supplier_request(
        repository, _worker(ctx, repository), supplier, {"productId": ids}
    )
    save_terms(
        ctx.engine,
        caller.organization_id,
        event_id,
        supplier,
        period_start=period_start,
        period_end=period_end,
        due_date=due_date,
        message=message.strip(),
        created_by=caller.subject,
    )
    if mass_kg is not None or spend is not None:
        with ctx.engine.begin() as conn:
            conn.execute(
                portal_purchases.insert().values(
                    organization_id=caller.organization_id,
                    request_event_id=event_id,
                    partner_id=supplier,
                    product_id=ids[0],
                    mass_kg=mass_kg or 0.0,
                    spend=spend or 0.0,
                )
            )
    return event_id


def default_terms(today: date) -> tuple[date, date, date]:
    """Last calendar year, due in 30 days: what the request form proposes."""
    return date(today.year - 1, 1, 1), date(today.year, 1, 1), today + timedelta(days=30)


def _date(text: str, what: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            f"{text!r} is not a date", record=what, hint="write e.g. 2026-12-31"
        ) from None


def _optional_number(text: str, what: str) -> float | None:
    text = text.strip().replace(",", "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number", record=what, hint="write e.g. 2940") from None
    if not value >= 0 or value == float("inf"):
        raise InputError(f"{text} is not a non-negative number", record=what)
    return value


# invitation --------------------------------------------------------------------------------
@router.get("/portal/invite/{token}")
def invitation_page(token: str, request: Request, ctx: Context) -> HTMLResponse:
    try:
        invitation = open_invitation(ctx.accounts, token)
    except InvitationError as exc:
        return _render(request, ctx, "portal_invite.html", None, 404, invalid=exc, invitation=None)
    form_token = secrets.token_urlsafe(32)
    response = _invite_form(request, ctx, invitation, form_token)
    response.set_cookie(
        INVITE_CSRF_COOKIE,
        form_token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.secure_cookies,
    )
    return response


def _invite_form(
    request: Request,
    ctx: ServiceContext,
    invitation: Any,
    form_token: str,
    status_code: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    partner = ExchangeRepository(ctx.engine, organization_id=invitation.organization_id).partner(
        invitation.partner_id
    )
    org = ctx.data.organization(invitation.organization_id)
    return _render(
        request,
        ctx,
        "portal_invite.html",
        None,
        status_code,
        invalid=None,
        invitation=invitation,
        supplier=partner.name if partner else invitation.partner_id,
        customer=org.name if org else invitation.organization_id,
        form_token=form_token,
        error=error,
    )


@router.post("/portal/invite/{token}")
def accept_invitation_page(
    token: str,
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    display_name: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=1000)] = "",
    password_again: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    expected = request.cookies.get(INVITE_CSRF_COOKIE, "")
    if not same_secret(expected, csrf_token):
        raise ForbiddenError("the form expired", hint="open the invitation link again")
    try:
        invitation = open_invitation(ctx.accounts, token)
    except InvitationError as exc:
        return _render(request, ctx, "portal_invite.html", None, 404, invalid=exc, invitation=None)
    try:
        if password != password_again:
            raise InputError("the two passwords differ", hint="type the same password twice")
        user_id = accept_invitation(
            ctx.accounts,
            token,
            display_name=display_name,
            password=password,
            locale=_language(request, None),
        )
    except InvitationError as exc:
        return _render(request, ctx, "portal_invite.html", None, 404, invalid=exc, invitation=None)
    except InputError as exc:
        return _invite_form(request, ctx, invitation, csrf_token, 422, error=str(exc))
    session, _csrf = ctx.accounts.open_session(user_id)
    return signed_in(ctx, session, "/portal", INVITE_CSRF_COOKIE)


# supplier ----------------------------------------------------------------------------------
@router.get("/portal")
def supplier_home(request: Request, ctx: Context) -> HTMLResponse:
    caller, partner = _supplier(request, ctx)
    requests = requests_for_supplier(_repository(ctx, caller), partner.client_id, open_only=False)
    terms = terms_of(ctx.engine, caller.organization_id, [r.event_id for r in requests])

    def returned(r: SupplierRequest) -> bool:
        return r.event_id in terms and terms[r.event_id].review == "returned"

    return _render(
        request,
        ctx,
        "portal_home.html",
        caller,
        nav="portal",
        partner=partner,
        terms=terms,
        open_requests=[r for r in requests if r.status != "fulfilled" or returned(r)],
        answered=[r for r in requests if r.status == "fulfilled" and not returned(r)],
    )


def _own_request(
    ctx: ServiceContext, caller: Principal, partner: Partner, event_id: str
) -> SupplierRequest:
    """The request when it is addressed to this supplier; 404 for any other (never 403)."""
    mine = requests_for_supplier(_repository(ctx, caller), partner.client_id, open_only=False)
    found = next((r for r in mine if r.event_id == event_id), None)
    if found is None:
        raise NotFoundError("request not found", record=event_id)
    return found


def _prefill(
    found: SupplierRequest, partner: Partner, terms: Any = None, sent: Any = None
) -> dict[str, str]:
    """The answer form's first values: the request's period, or what was sent before."""
    ids = found.criteria.get("productId") or []
    year = date.today().year - 1
    values = {
        "product_ids": "\n".join([ids] if isinstance(ids, str) else ids),
        "declared_unit": "kilogram",
        "mass_per_unit": "1",
        "period_start": str(terms.period_start) if terms else f"{year}-01-01",
        "period_end": str(terms.period_end) if terms else f"{year + 1}-01-01",
        "geography": "CN",
        "rule": "mass",
    }
    if sent is not None:
        values["product_name"] = sent.product_name_company
        values["product_ids"] = "\n".join(sent.product_ids)
    if terms is not None and terms.answer_fields:
        values = dict(terms.answer_fields)
    return values


def _labels(fmt: Any) -> dict[str, str]:
    """Translated label of each form field, for error messages that name the field."""
    labels = {name: fmt.gettext(label) for name, label in PRODUCT_FIELDS}
    for title, prefix, rows, columns in TABLES:
        for i in range(rows):
            for column in columns:
                labels[f"{prefix}_{i}_{column.key}"] = (
                    f"{fmt.gettext(title)} {i + 1}: {fmt.gettext(column.heading)}"
                )
    return labels


def _request_page(
    request: Request,
    ctx: ServiceContext,
    caller: Principal,
    partner: Partner,
    found: SupplierRequest,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    error: str | None = None,
    preview: Any = None,
) -> HTMLResponse:
    repository = _repository(ctx, caller)
    answer = _answer(repository, partner.client_id, found.event_id)
    result = None
    if answer is not None:
        pf = parse_product_footprint(json.dumps(answer["pf"]))
        result = {"pf": pf, "supplier": supplier_footprint(pf), "at": answer["at"]}
    terms = terms_of(ctx.engine, caller.organization_id, [found.event_id]).get(found.event_id)
    return _render(
        request,
        ctx,
        "portal_request.html",
        caller,
        status_code,
        nav="portal",
        partner=partner,
        found=found,
        result=result,
        terms=terms,
        preview=preview,
        revisable=result is not None and terms is not None and terms.review != "accepted",
        values=values or _prefill(found, partner, terms, result["pf"] if result else None),
        error=error,
        product_fields=PRODUCT_FIELDS,
        tables=TABLES,
        declared_units=[u.value for u in DECLARED_UNITS],
        rows={"energy": ENERGY_ROWS, "output": OUTPUT_ROWS, "material": MATERIAL_ROWS},
    )


@router.get("/portal/requests/{event_id}")
def supplier_request(event_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller, partner = _supplier(request, ctx)
    found = _own_request(ctx, caller, partner, event_id)
    return _request_page(request, ctx, caller, partner, found)


def _submit(
    request: Request,
    ctx: ServiceContext,
    caller: Principal,
    partner: Partner,
    found: SupplierRequest,
    fields: dict[str, str],
    where: dict[str, str] | None,
    preview: bool = False,
) -> Response:
    fmt = formatter(ctx.catalogues, _language(request, caller))
    labels = _labels(fmt)
    terms = terms_of(ctx.engine, caller.organization_id, [found.event_id]).get(found.event_id)
    owner = DataOwner(partner.organization, partner.company_ids)
    try:
        if found.status == "fulfilled" and terms is not None and terms.review == "accepted":
            raise InputError(
                fmt.gettext(ACCEPTED_ALREADY),
                hint=fmt.gettext("ask your customer for a new request to send another one"),
            )
        if found.status == "fulfilled" and terms is None:
            raise InputError(
                "this request has been answered already", hint="a request takes one answer"
            )
        submission = submission_from_fields(fields, (where or labels).__getitem__)
        if preview:
            pf = compute_submission(
                submission, owner=owner, pf_id=uuid.uuid4(), created=datetime.now(UTC)
            )
            shown = {"pf": pf, "supplier": supplier_footprint(pf)}
            return _request_page(request, ctx, caller, partner, found, 200, fields, None, shown)
        repository = _repository(ctx, caller)
        submit_activity_data(
            repository,
            _worker(ctx, repository),
            partner.client_id,
            found.event_id,
            submission,
            owner=owner,
            revise=terms is not None,
        )
        if terms is not None:
            kept = {k: v for k, v in fields.items() if k != "csrf_token"}
            record_answer(ctx.engine, caller.organization_id, found.event_id, kept)
    except CarbonlinkError as exc:
        shown_values = fields if where is None else _prefill(found, partner)
        return _request_page(request, ctx, caller, partner, found, 422, shown_values, str(exc))
    return RedirectResponse(f"/portal/requests/{found.event_id}#result", status_code=303)


@router.post("/portal/requests/{event_id}")
async def supplier_answer(event_id: str, request: Request, ctx: Context) -> Response:
    caller, partner = _supplier(request, ctx)
    form = await request.form()
    _check_csrf(caller, str(form.get("csrf_token", "")))
    found = _own_request(ctx, caller, partner, event_id)
    fields = {k: str(v)[:4000] for k, v in form.items() if isinstance(v, str)}
    preview = fields.pop("action", "") == "preview"
    return _submit(request, ctx, caller, partner, found, fields, None, preview)


@router.get("/portal/requests/{event_id}/template.xlsx")
def supplier_template(event_id: str, request: Request, ctx: Context) -> Response:
    caller, partner = _supplier(request, ctx)
    found = _own_request(ctx, caller, partner, event_id)
    content = template_workbook(_prefill(found, partner))
    return Response(
        content,
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="carbonlink-footprint.xlsx"'},
    )


@router.post("/portal/requests/{event_id}/upload")
async def supplier_upload(
    event_id: str,
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    workbook: UploadFile | None = None,
) -> Response:
    caller, partner = _supplier(request, ctx)
    _check_csrf(caller, csrf_token)
    found = _own_request(ctx, caller, partner, event_id)
    if workbook is None:
        return _request_page(
            request, ctx, caller, partner, found, 422, None, "choose the filled XLSX file to upload"
        )
    content = await workbook.read(MAX_UPLOAD_BYTES + 1)
    try:
        if len(content) > MAX_UPLOAD_BYTES:
            raise InputError(
                "the file is larger than 5 MB",
                record=workbook.filename or "upload",
                hint="upload the filled template only",
            )
        fields, where = await run_in_threadpool(fields_from_workbook, content)
    except InputError as exc:
        return _request_page(request, ctx, caller, partner, found, 422, None, str(exc))
    return _submit(request, ctx, caller, partner, found, fields, where)
