"""Verifiable credentials over HTTP: issuers' DID documents and status lists (public), the
credentials API, and the lender's page.

- ``GET /orgs/{organization_id}/did.json``: the did:web document of an organization that has
  issued a credential (did:web §3.2 maps ``did:web:{host}:orgs:{id}`` to this path);
- ``GET /orgs/{organization_id}/credentials/status``: its signed Bitstring Status List;
- ``/api/v1/credentials``: issue (write), list and read (read), revoke (write), and verify
  (any signed-in role but supplier);
- ``/lender``: the KPI packs shared with a lender, their download, and a form that verifies a
  pasted or uploaded credential on the server. Lenders (role ``lender``) and the roles that read
  see it; supplier accounts get 403.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field

from carbonlink.api.deps import Caller, Context, ServiceContext, Writer, identify
from carbonlink.api.problems import NotFoundError, problem_responses
from carbonlink.api.routes.pages import (
    LoginRequired,
    PasswordChangeRequired,
    _form_writer,
    _render,
)
from carbonlink.api.routes.v1 import PREFIX, READ, WRITE, ApiModel
from carbonlink.api.security import ForbiddenError, Principal, same_secret
from carbonlink.credentials.errors import CredentialError, VerificationFailed
from carbonlink.credentials.registry import CredentialRegistry, issuer_key_exists, user_email
from carbonlink.errors import InputError

router = APIRouter()
MAX_CREDENTIAL_BYTES = 2 * 1024 * 1024
DID_JSON = "application/did+json"


def registry(ctx: ServiceContext) -> CredentialRegistry:
    return CredentialRegistry(ctx.engine, ctx.settings.workspace, ctx.settings.service_url)


def _known_issuer(ctx: ServiceContext, organization_id: str) -> CredentialRegistry:
    if not issuer_key_exists(ctx.settings.workspace, organization_id):
        raise NotFoundError(f"no issuer {organization_id} on this service")
    return registry(ctx)


@router.get("/orgs/{organization_id}/did.json", include_in_schema=False)
def did_document(organization_id: str, ctx: Context) -> Response:
    document = _known_issuer(ctx, organization_id).did_document(organization_id)
    return JSONResponse(document, media_type=DID_JSON)


@router.get("/orgs/{organization_id}/credentials/status", include_in_schema=False)
def status_list(organization_id: str, ctx: Context) -> Response:
    document = _known_issuer(ctx, organization_id).status_list(organization_id)
    return JSONResponse(document, media_type="application/vc+ld+json")


# API --------------------------------------------------------------------------------------------


def _reader_or_lender(caller: Principal) -> None:
    if not (caller.can("read") or caller.can("lend")):
        raise ForbiddenError(
            f"role '{caller.role}' may not see credentials",
            hint="ask an administrator of your organization for a lender or reader role",
        )


def _may_see(caller: Caller) -> Principal:
    _reader_or_lender(caller)
    return caller


Seer = Annotated[Principal, Depends(_may_see)]
"""A caller that may see credentials: the roles that read, and lenders (their shared ones)."""


def holder_address(ctx: ServiceContext, caller: Principal) -> str | None:
    """The e-mail of a lender (what credentials are shared with); None for other roles."""
    if caller.can("read") or not caller.subject.startswith("user:"):
        return None
    user_id = caller.subject.removeprefix("user:")
    return user_email(ctx.engine, caller.organization_id, user_id) or ""


class IssueIn(ApiModel):
    kind: Literal["pcf", "cbam"] = Field(
        description="pcf: a PACT v3 footprint; cbam: a CBAM communication.", examples=["pcf"]
    )
    document: dict[str, Any] = Field(
        description="The footprint or communication, as JSON.",
        examples=[{"id": "5b0f3c52-0d8e-4f0e-8f11-7a6b2c1d9e00", "specVersion": "3.0.3"}],
    )
    title: str = Field(default="", max_length=200, examples=["Hot-rolled coil"])
    holder: str | None = Field(
        default=None,
        max_length=254,
        description="E-mail of the lender it is shared with.",
        examples=["lender@bank.example"],
    )


def _summary(item: Any) -> dict[str, Any]:
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "holder": item.holder,
        "issued_at": item.issued_at.isoformat(),
        "revoked": item.revoked_at is not None,
    }


@router.post(f"{PREFIX}/credentials", tags=["credentials"], status_code=201, responses=WRITE)
def issue_credential(body: IssueIn, caller: Writer, ctx: Context) -> dict[str, Any]:
    """Sign a PCF or CBAM credential as the caller's organization (its did:web)."""
    from carbonlink.credentials.documents import cbam_subject, pcf_subject

    try:
        if body.kind == "pcf":
            subject = pcf_subject(body.document)
            title = body.title or str(body.document.get("productNameCompany", ""))
        else:
            subject = cbam_subject(body.document, body.title or "installation")
            title = body.title
        return registry(ctx).issue(
            caller.organization_id,
            body.kind,
            subject,
            title=title or body.kind,
            issued_by=caller.subject,
            holder=body.holder,
        )
    except CredentialError as exc:
        raise InputError(exc.message, record=exc.record, hint=exc.hint) from exc


@router.get(f"{PREFIX}/credentials", tags=["credentials"], responses=READ)
def list_credentials(caller: Seer, ctx: Context) -> list[dict[str, Any]]:
    """The organization's credentials (a lender: those shared with it)."""
    holder = holder_address(ctx, caller)
    found = registry(ctx).credentials(caller.organization_id, holder=holder)
    return [_summary(item) for item in found]


def _shared(ctx: ServiceContext, caller: Principal, credential_id: str) -> Any:
    _reader_or_lender(caller)
    found = registry(ctx).credential(caller.organization_id, credential_id)
    holder = holder_address(ctx, caller)
    if found is None or (holder is not None and found.holder != holder):
        raise NotFoundError(f"credential {credential_id} not found in your organization")
    return found


@router.get(
    f"{PREFIX}/credentials/{{credential_id}}",
    tags=["credentials"],
    responses=problem_responses(401, 403, 404),
)
def get_credential(credential_id: str, caller: Seer, ctx: Context) -> dict[str, Any]:
    """The signed credential, exactly as issued."""
    document: dict[str, Any] = _shared(ctx, caller, credential_id).document
    return document


@router.post(
    f"{PREFIX}/credentials/{{credential_id}}/revoke", tags=["credentials"], responses=WRITE
)
def revoke_credential(credential_id: str, caller: Writer, ctx: Context) -> dict[str, Any]:
    """Revoke a credential: its bit in the organization's status list is set."""
    if not registry(ctx).revoke(caller.organization_id, credential_id, caller.subject):
        raise NotFoundError(f"credential {credential_id} not found in your organization")
    return {"id": credential_id, "revoked": True}


VERIFY_EXAMPLE = {
    "@context": [
        "https://www.w3.org/ns/credentials/v2",
        {"@vocab": "https://www.w3.org/ns/credentials/issuer-dependent#"},
    ],
    "id": "urn:uuid:3d6f0b8e-8c4c-4d53-9f3e-2a1c0b9d8e7f",
    "type": ["VerifiableCredential", "SustainabilityKpiCredential"],
    "issuer": "did:web:carbon.example:orgs:org-demo-steel",
    "validFrom": "2026-03-01T00:00:00Z",
    "credentialSubject": {"loan": "SLL-2026-001"},
    "proof": {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "verificationMethod": "did:web:carbon.example:orgs:org-demo-steel#z6Mk…",
        "proofPurpose": "assertionMethod",
        "proofValue": "z…",
    },
}


def check(ctx: ServiceContext, credential: dict[str, Any]) -> dict[str, Any]:
    """What verifying a credential found, as a plain answer (never raises for a bad one)."""
    try:
        found = registry(ctx).verify(credential)
    except (VerificationFailed, CredentialError) as exc:
        return {"verified": False, "error": str(exc)}
    return {
        "verified": True,
        "issuer": found.issuer,
        "kind": found.kind,
        "verification_method": found.verification_method,
        "checks": list(found.checks),
        "revoked": found.revoked,
    }


@router.post(f"{PREFIX}/credentials/verify", tags=["credentials"], responses=READ)
def verify_credential(
    credential: Annotated[
        dict[str, Any],
        Body(openapi_examples={"kpi-pack": {"summary": "A KPI pack", "value": VERIFY_EXAMPLE}}),
    ],
    caller: Seer,
    ctx: Context,
) -> dict[str, Any]:
    """Check a credential's proof, issuer, dates and revocation (did:key, or a did:web of this
    service); ``verified`` false with the reason when it fails."""
    return check(ctx, credential)


# Lender page ------------------------------------------------------------------------------------


def _lender_caller(request: Request, ctx: ServiceContext) -> Principal:
    found = identify(request, ctx)
    if found is None:
        raise LoginRequired()
    if found.must_change_password:
        raise PasswordChangeRequired()
    _reader_or_lender(found)
    return found


def _period(subject: Any) -> str:
    if not isinstance(subject, dict):
        return ""
    return f"{subject.get('periodStart', '?')} – {subject.get('periodEnd', '?')}"


def _kpi_rows(ctx: ServiceContext, caller: Principal) -> list[dict[str, Any]]:
    holder = holder_address(ctx, caller)
    rows = []
    for item in registry(ctx).credentials(caller.organization_id, holder=holder):
        if item.kind != "kpi":
            continue
        subject = item.document.get("credentialSubject", {})
        kpis = subject.get("kpi", []) if isinstance(subject, dict) else []
        rows.append(
            {
                "item": item,
                "uuid": item.id.removeprefix("urn:uuid:"),
                "loan": subject.get("loan", "") if isinstance(subject, dict) else "",
                "period": _period(subject),
                "kpis": [k for k in kpis if isinstance(k, dict)],
            }
        )
    return rows


def _lender_page(
    request: Request,
    ctx: ServiceContext,
    caller: Principal,
    result: dict[str, Any] | None = None,
    pasted: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    return _render(
        request,
        ctx,
        "lender.html",
        caller,
        status_code=status_code,
        nav="lender",
        packs=_kpi_rows(ctx, caller),
        result=result,
        pasted=pasted,
    )


@router.get("/lender", include_in_schema=False)
def lender_page(request: Request, ctx: Context) -> HTMLResponse:
    return _lender_page(request, ctx, _lender_caller(request, ctx))


@router.get("/lender/credentials/{credential_uuid}", include_in_schema=False)
def lender_download(credential_uuid: str, request: Request, ctx: Context) -> Response:
    caller = _lender_caller(request, ctx)
    found = _shared(ctx, caller, f"urn:uuid:{credential_uuid}")
    return Response(
        json.dumps(found.document, ensure_ascii=False, indent=2) + "\n",
        media_type="application/vc+ld+json",
        headers={"content-disposition": f'attachment; filename="kpi-pack-{credential_uuid}.json"'},
    )


@router.post("/lender/verify", include_in_schema=False)
async def lender_verify(
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    credential: Annotated[str, Form(max_length=MAX_CREDENTIAL_BYTES)] = "",
    upload: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse:
    caller = _lender_caller(request, ctx)
    if not same_secret(caller.csrf_token, csrf_token):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    text = credential
    if upload is not None and upload.filename:
        raw = await upload.read(MAX_CREDENTIAL_BYTES + 1)
        if len(raw) > MAX_CREDENTIAL_BYTES:
            result = {"verified": False, "error": "the file is larger than 2 MB"}
            return _lender_page(request, ctx, caller, result, status_code=422)
        text = raw.decode("utf-8", "replace")
    if not text.strip():
        result = {"verified": False, "error": "paste a credential or choose its file"}
        return _lender_page(request, ctx, caller, result, status_code=422)
    from carbonlink.credentials.documents import read_credential

    try:
        document = read_credential(text)
    except CredentialError as exc:
        return _lender_page(
            request, ctx, caller, {"verified": False, "error": str(exc)}, text, status_code=422
        )
    result = check(ctx, document)
    subject = document.get("credentialSubject")
    result["subject"] = subject if isinstance(subject, dict) else {}
    return _lender_page(request, ctx, caller, result, text)


@router.post("/lender/credentials/{credential_uuid}/revoke", include_in_schema=False)
def lender_revoke(
    credential_uuid: str,
    caller: Annotated[Principal, Depends(_form_writer)],
    ctx: Context,
) -> Response:
    """Revoke a pack from the page (roles that write): its status bit is set."""
    credential_id = f"urn:uuid:{credential_uuid}"
    if not registry(ctx).revoke(caller.organization_id, credential_id, caller.subject):
        raise NotFoundError(f"credential {credential_id} not found in your organization")
    return RedirectResponse("/lender#packs", status_code=303)
