"""Public resolvers of batch identifiers and the batch passport (page and JSON).

- **GS1 Digital Link resolver** (GS1 Digital Link standard 1.4, GS1-Conformant Resolver
  standard 1.1/1.2): ``/01/{gtin}/10/{batch}[/21/{serial}]``. Without ``linkType`` the
  resolver redirects (307) to the default link, the passport page; ``linkType=gs1:pip``,
  ``gs1:sustainabilityInfo`` (the passport JSON) and ``gs1:certificationInfo`` (the ledger
  receipt) redirect to that link; a link type the batch does not offer falls back to the
  default link; ``linkType=all`` (or ``Accept: application/linkset+json``) answers the linkset
  (RFC 9264) itself. Every answer carries the links in a ``Link`` header (RFC 8288). A path
  that is not valid Digital Link syntax is 400, an unknown batch 404. The resolver describes
  itself at ``/.well-known/gs1resolver``.
- **Handle resolution** in the JSON of the Handle System's REST API:
  ``/api/handles/{prefix}/{suffix}`` answers ``responseCode`` 1 with typed values (``URL``, the
  passport's JSON URL, the passport itself, the GS1 Digital Link), filtered by repeated
  ``type`` (a type ending in ``.`` takes its subtypes) and ``index`` parameters; 100 / 404 for
  an unknown handle, 200 when no value matches the filters, 102 / 400 for a malformed one.
- **The passport** at ``/passports/{prefix}/{suffix}`` (page) and
  ``/api/passports/{prefix}/{suffix}`` (JSON): public fields for everyone; signed-in users of
  the producing organization (roles with ``read``) also see the restricted part.

These routes need no log-in: an identifier on a coil must resolve for whoever scans it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from carbonlink.api.deps import Context, Reader, ServiceContext, Writer, identify
from carbonlink.api.problems import NotFoundError, problem_response, problem_responses
from carbonlink.api.routes.pages import _render
from carbonlink.api.security import Principal
from carbonlink.batches.identifiers import GS1_LINK_TYPES, handle_path, parse_gs1_path
from carbonlink.batches.passport import PASSPORT_JSON_TYPE, passport_document
from carbonlink.batches.registry import handle_values
from carbonlink.batches.store import Batch, BatchStore, StoredPassport, find_by_gs1, find_by_handle
from carbonlink.errors import CarbonlinkError, InputError, StoreError

router = APIRouter()
LINKSET_TYPE = "application/linkset+json"
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Link, Location"}
"""Public identifiers answer scripts of any origin (the GS1-Conformant Resolver standard asks
for CORS); nothing behind a log-in is served with these headers."""
_FULL_TO_COMPACT = {full: compact for compact, full in GS1_LINK_TYPES.items()}


def _viewer(request: Request, ctx: ServiceContext) -> Principal | None:
    """The signed-in caller, if any; a public route answers everyone else as the public."""
    try:
        found = identify(request, ctx)
    except CarbonlinkError:
        return None
    if found is None or found.must_change_password or not found.can("read"):
        return None
    return found


def _owner(caller: Principal | None, batch: Batch) -> bool:
    return caller is not None and caller.organization_id == batch.organization_id


def _stored(ctx: ServiceContext, batch: Batch) -> StoredPassport | None:
    return BatchStore(ctx.engine, batch.organization_id).passport(batch.batch_id)


def _document(stored: StoredPassport, *, restricted: bool) -> dict[str, Any]:
    """The stored passport as JSON; a `StoreError` (503) when its stored text is unreadable."""
    try:
        return passport_document(stored, restricted=restricted)
    except ValueError as exc:
        raise StoreError(
            f"the stored passport of batch {stored.batch_id} cannot be read",
            hint="ask the producer to issue it again",
        ) from exc


def _links(ctx: ServiceContext, batch: Batch) -> dict[str, dict[str, Any]]:
    """The batch's links by compact link type (only those that exist)."""
    base = ctx.settings.service_url
    where = handle_path(batch.handle) if batch.handle else None
    links: dict[str, dict[str, Any]] = {}
    if where is None:
        return links
    page = {
        "href": f"{base}/passports/{where}",
        "title": f"Batch passport {batch.batch_id}",
        "type": "text/html",
        "hreflang": ["zh", "en"],
    }
    links["gs1:defaultLink"] = page
    links["gs1:pip"] = page
    if _stored(ctx, batch) is not None:
        links["gs1:sustainabilityInfo"] = {
            "href": f"{base}/api/passports/{where}",
            "title": f"Carbon footprint passport of batch {batch.batch_id}",
            "type": "application/json",
        }
        links["gs1:certificationInfo"] = {
            "href": f"{base}/api/passports/{where}/receipt",
            "title": "Ledger receipt of the passport (c2sp.org/tlog-proof@v1)",
            "type": "text/plain",
        }
    return links


def _link_header(anchor: str, links: dict[str, dict[str, Any]]) -> str:
    parts = [f'<{anchor}?linkType=all>; rel="linkset"; type="{LINKSET_TYPE}"']
    for compact, link in links.items():
        text = f'<{link["href"]}>; rel="{GS1_LINK_TYPES[compact]}"; type="{link["type"]}"'
        if link.get("hreflang"):
            text += f'; hreflang="{",".join(link["hreflang"])}"'
        parts.append(text)
    return ", ".join(parts)


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "json" in accept and "text/html" not in accept


def _not_found(
    request: Request, ctx: ServiceContext, error: NotFoundError, identifier: str
) -> Response:
    """404: a problem document for programs, a page naming the identifier for people."""
    if _wants_json(request):
        return problem_response(error)
    return _missing_page(request, ctx, identifier)


def _missing_page(request: Request, ctx: ServiceContext, identifier: str) -> HTMLResponse:
    return _render(
        request,
        ctx,
        "passport.html",
        _viewer(request, ctx),
        status_code=404,
        nav="supply",
        batch=None,
        identifier=identifier,
    )


@router.get("/.well-known/gs1resolver", include_in_schema=False)
def resolver_description(ctx: Context) -> JSONResponse:
    """The resolver description file of the GS1-Conformant Resolver standard."""
    return JSONResponse(
        {
            "name": "carbonlink",
            "resolverRoot": ctx.settings.service_url,
            "supportedPrimaryKeys": ["01"],
            "linkTypeDefaultCanBeLinkset": False,
            "supportedLinkType": [
                {"namespace": "https://gs1.org/voc/", "prefix": "gs1:", "profile": compact}
                for compact in GS1_LINK_TYPES
            ],
            "supportedContextValuesEnumerated": [],
        }
    )


def _resolve(request: Request, ctx: ServiceContext) -> Response:
    try:
        key = parse_gs1_path(request.url.path)
    except InputError as exc:
        return JSONResponse(
            {"title": "Bad Request", "status": 400, "detail": exc.message, "hint": exc.hint},
            status_code=400,
            media_type="application/problem+json",
        )
    anchor = key.uri(ctx.settings.service_url)
    batch = find_by_gs1(ctx.engine, key)
    if batch is None:
        return _not_found(
            request,
            ctx,
            NotFoundError(
                f"no batch is known under {anchor}",
                hint="check the GTIN, batch and serial printed on the label",
            ),
            anchor,
        )
    links = _links(ctx, batch)
    headers = {"Link": _link_header(anchor, links), "Vary": "Accept", **CORS}
    asked = request.query_params.get("linkType")
    if asked is not None:
        asked = _FULL_TO_COMPACT.get(asked, asked)
    if asked in ("all", "linkset") or (
        asked is None and LINKSET_TYPE in request.headers.get("accept", "")
    ):
        body = {
            "linkset": [
                {
                    "anchor": anchor,
                    **{GS1_LINK_TYPES[compact]: [link] for compact, link in links.items()},
                }
            ]
        }
        return Response(
            json.dumps(body, ensure_ascii=False),
            media_type=LINKSET_TYPE,
            headers=headers,
        )
    target = links.get(asked or "", links.get("gs1:defaultLink"))
    if target is None:
        return _not_found(
            request, ctx, NotFoundError(f"batch {batch.batch_id} has no links yet"), anchor
        )
    return RedirectResponse(target["href"], status_code=307, headers=headers)


@router.api_route("/01/{gtin}/10/{batch}", methods=["GET", "HEAD"], include_in_schema=False)
def resolve_batch(request: Request, ctx: Context, gtin: str, batch: str) -> Response:
    return _resolve(request, ctx)


@router.api_route(
    "/01/{gtin}/10/{batch}/21/{serial}", methods=["GET", "HEAD"], include_in_schema=False
)
def resolve_serial(request: Request, ctx: Context, gtin: str, batch: str, serial: str) -> Response:
    return _resolve(request, ctx)


@router.options("/01/{gtin}/10/{batch}", include_in_schema=False)
@router.options("/01/{gtin}/10/{batch}/21/{serial}", include_in_schema=False)
def resolver_options() -> Response:
    """What the resolver allows (CORS preflight included)."""
    return Response(
        status_code=204,
        headers={
            "Allow": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
            "Access-Control-Allow-Headers": "Accept, Accept-Language",
            **CORS,
        },
    )


# -- Handle REST API ----------------------------------------------------------------------------
def _handle_values(ctx: ServiceContext, batch: Batch) -> list[dict[str, Any]]:
    return handle_values(batch, _stored(ctx, batch), ctx.settings.service_url)


def _matches(item: dict[str, Any], types: list[str], indices: list[int]) -> bool:
    if not types and not indices:
        return True
    if item["index"] in indices:
        return True
    return any(
        item["type"] == kind or (kind.endswith(".") and item["type"].startswith(kind))
        for kind in types
    )


@router.get("/api/handles/{prefix}/{suffix:path}", include_in_schema=False)
def resolve_handle(request: Request, ctx: Context, prefix: str, suffix: str) -> JSONResponse:
    handle = f"{prefix}/{suffix}"
    if not prefix or not suffix:
        return JSONResponse(
            {"responseCode": 102, "handle": handle, "message": "Invalid handle"}, status_code=400
        )
    batch = find_by_handle(ctx.engine, handle)
    if batch is None:
        return JSONResponse(
            {"responseCode": 100, "handle": handle, "message": "Handle Not Found"},
            status_code=404,
        )
    try:
        indices = [int(i) for i in request.query_params.getlist("index")]
    except ValueError:
        return JSONResponse(
            {"responseCode": 2, "handle": handle, "message": "index must be an integer"},
            status_code=400,
        )
    types = request.query_params.getlist("type")
    values = [v for v in _handle_values(ctx, batch) if _matches(v, types, indices)]
    if not values:
        return JSONResponse({"responseCode": 200, "handle": handle, "values": []}, headers=CORS)
    return JSONResponse({"responseCode": 1, "handle": handle, "values": values}, headers=CORS)


# -- the passport -------------------------------------------------------------------------------
def _batch_of(prefix: str, suffix: str, ctx: ServiceContext) -> Batch:
    batch = find_by_handle(ctx.engine, f"{prefix}/{suffix}")
    if batch is None:
        raise NotFoundError(
            f"no batch is known under the identifier {prefix}/{suffix}",
            hint="check the identifier printed on the label",
        )
    return batch


@router.get("/api/passports/{prefix}/{suffix}", include_in_schema=False)
def passport_json(prefix: str, suffix: str, request: Request, ctx: Context) -> Response:
    batch = _batch_of(prefix, suffix, ctx)
    stored = _stored(ctx, batch)
    if stored is None:
        raise NotFoundError(
            f"batch {batch.batch_id} has no passport yet",
            hint="the producer issues it once the batch's footprint is computed",
        )
    document = _document(stored, restricted=_owner(_viewer(request, ctx), batch))
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type=PASSPORT_JSON_TYPE,
        headers=CORS if "restricted" not in document else {},
    )


@router.get("/api/passports/{prefix}/{suffix}/receipt", include_in_schema=False)
def passport_receipt(prefix: str, suffix: str, ctx: Context) -> Response:
    batch = _batch_of(prefix, suffix, ctx)
    stored = _stored(ctx, batch)
    if stored is None:
        raise NotFoundError(f"batch {batch.batch_id} has no passport yet")
    name = quote(f"{batch.batch_id}.tlog-proof")
    return Response(
        stored.receipt,
        media_type="text/plain; charset=us-ascii",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/passports/{prefix}/{suffix}", include_in_schema=False)
def passport_page(prefix: str, suffix: str, request: Request, ctx: Context) -> HTMLResponse:
    batch = find_by_handle(ctx.engine, f"{prefix}/{suffix}")
    if batch is None:
        return _missing_page(request, ctx, f"{prefix}/{suffix}")
    caller = _viewer(request, ctx)
    owner = _owner(caller, batch)
    stored = _stored(ctx, batch)
    document, unreadable = None, False
    if stored is not None:
        try:
            document = _document(stored, restricted=owner)
        except StoreError:
            unreadable = True
    where = handle_path(batch.handle or f"{prefix}/{suffix}")
    return _render(
        request,
        ctx,
        "passport.html",
        caller,
        nav="supply",
        batch=batch,
        passport=document,
        unreadable=unreadable,
        owner=owner,
        json_url=f"/api/passports/{where}",
        receipt_url=f"/api/passports/{where}/receipt",
        handle_url=f"/api/handles/{where}",
        gs1_uri=batch.gs1.uri(ctx.settings.service_url) if batch.gs1 else None,
    )


# -- the producer's API: import production records, list batches ------------------------------
class RejectedOut(BaseModel):
    line: int = Field(description="Line (CSV) or row (XLSX) of the record.", examples=[7])
    reason: str = Field(examples=["produced_on '4 March' is not a date — write it as 2025-03-04"])
    raw: str = Field(
        description="The record as it was read.",
        examples=["coil-2025-000999,coil,hrc,4 March,1,t,,,,,"],
    )


class BatchImportOut(BaseModel):
    file: str = Field(examples=["production-2025-03.csv"])
    sha256: str = Field(examples=["9f2c" + "0" * 60])
    records: int = Field(examples=[6])
    new: list[str] = Field(description="Batches stored by this import.")
    unchanged: list[str] = Field(description="Batches stored before with the same values.")
    rejected: list[RejectedOut]


class BatchOut(BaseModel):
    batch_id: str = Field(examples=["coil-2025-000123"])
    stage: str = Field(examples=["coil"])
    produced_on: str = Field(examples=["2025-03-04"])
    quantity: float = Field(examples=[22.5])
    unit: str = Field(examples=["t"])
    product_key: str | None = Field(examples=["hrc"])
    made_from: list[str]
    handle: str | None = Field(examples=["88.123.4567/coil-2025-000123"])
    gs1_digital_link: str | None = Field(
        examples=["https://carbon.example.cn/01/09520123456788/10/coil-2025-000123/21/0001"]
    )
    passport_version: int | None = Field(
        description="Newest issued passport, if any.", examples=[1]
    )


BATCH_SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


@router.post(
    "/api/v1/batches/imports",
    response_model=BatchImportOut,
    responses=problem_responses(401, 403, 422),
    tags=["batches"],
)
async def import_batches(
    caller: Writer, ctx: Context, file: Annotated[UploadFile, File()]
) -> BatchImportOut:
    """Import a CSV or XLSX file of production records (heat → slab → coil) as batches.

    Every row becomes a batch or is listed with its line and reason; importing the same file
    again changes nothing. The Handle prefix is the service's ``CARBONLINK_HANDLE_PREFIX``.
    """
    from carbonlink.batches.records import import_production_records

    name = (file.filename or "production.csv").replace("/", "_").replace("\\", "_")[-200:]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    if suffix not in BATCH_SUFFIXES:
        raise InputError(f"{name}: only CSV and XLSX files are imported", record=name)
    prefix = ctx.settings.handle_prefix
    if not prefix:
        raise InputError(
            "the service has no Handle prefix",
            hint="an administrator sets CARBONLINK_HANDLE_PREFIX to the node's prefix",
        )
    body = await file.read()
    report = import_production_records(
        ctx.engine,
        caller.organization_id,
        Path(name),
        handle_prefix=prefix,
        data=body,
        kind="xlsx" if BATCH_SUFFIXES[suffix] == "xlsx" else "csv",
    )
    return BatchImportOut(
        file=report.file,
        sha256=report.sha256,
        records=report.records,
        new=report.new,
        unchanged=report.unchanged,
        rejected=[RejectedOut(line=r.line, reason=r.reason, raw=r.raw) for r in report.rejected],
    )


@router.get(
    "/api/v1/batches",
    response_model=list[BatchOut],
    responses=problem_responses(401, 403),
    tags=["batches"],
)
def list_batches(caller: Reader, ctx: Context) -> list[BatchOut]:
    """The organization's batches with their identifiers and newest passport version."""
    store = BatchStore(ctx.engine, caller.organization_id)
    issued = {p.batch_id: p.version for p in store.passports()}
    return [
        BatchOut(
            batch_id=b.batch_id,
            stage=b.stage,
            produced_on=b.produced_on,
            quantity=b.quantity,
            unit=b.unit,
            product_key=b.product_key,
            made_from=list(b.made_from),
            handle=b.handle,
            gs1_digital_link=b.gs1.uri(ctx.settings.service_url) if b.gs1 else None,
            passport_version=issued.get(b.batch_id),
        )
        for b in store.batches().values()
    ]
