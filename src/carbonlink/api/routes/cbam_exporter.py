"""The CBAM exporter page: the organization's published CBAM communications, with downloads.

For each communication it shows the installation, the verification status (verifier,
accreditation, report, opinion), the SEE per good and the carbon price paid per good, and links
the communication JSON, carbonlink's workbook and the Catena-X CBAM JSON that partners fetch
from the PACT host. Roles that may read see it; another organization's ids answer 404.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, Response

from carbonlink.api.deps import Context, ServiceContext
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.exchange import cbam

PAGE_PATH = "/cbam/exporter"
CommunicationId = Annotated[str, PathParam(pattern=cbam.COMMUNICATION_ID.pattern)]
router = APIRouter()


def _view(row: cbam.PublishedCbam) -> dict[str, Any]:
    """What the page shows of one stored communication; a damaged one says so."""
    try:
        c = json.loads(row.communication)
        goods = [
            {
                "cn_code": g["cn_code"],
                "name": g["name"],
                "see_direct": float(g["see_direct"]),
                "see_indirect": float(g["see_indirect"]),
                "see_total": float(g["see_total"]),
            }
            for g in c["goods"]
        ]
        price = c.get("carbon_price_paid") or None
        paid = {g["cn_code"]: g for g in (price or {}).get("goods", [])}
        return {
            "id": row.id,
            "ok": True,
            "installation": c["installation"],
            "period": c["reporting_period"],
            "status": row.status,
            "verification": c.get("verification") or {"status": "not verified"},
            "goods": goods,
            "price": price,
            "paid": paid,
            "published_at": row.published_at,
            "sha256": row.catenax_sha256,
        }
    except (ValueError, KeyError, TypeError) as exc:
        return {"id": row.id, "ok": False, "error": f"{type(exc).__name__}: {exc}"}


@router.get(PAGE_PATH, include_in_schema=False)
def cbam_exporter_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    rows = cbam.listed(ctx.engine, caller.organization_id)
    return _render(
        request,
        ctx,
        "cbam_exporter.html",
        caller,
        nav="cbam",
        communications=[_view(row) for row in rows],
        pact_path="/pact/cbam/communications",
    )


def _owned(ctx: ServiceContext, request: Request, communication_id: str) -> cbam.PublishedCbam:
    caller = _page_caller(request, ctx)
    found = cbam.published(ctx.engine, caller.organization_id, communication_id)
    if found is None:
        raise NotFoundError(f"no CBAM communication {communication_id}")
    return found


def _download(body: bytes, media_type: str, name: str) -> Response:
    return Response(
        body,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(f"{PAGE_PATH}/{{communication_id}}/catenax.json", include_in_schema=False)
def cbam_exporter_catenax(
    request: Request, ctx: Context, communication_id: CommunicationId
) -> Response:
    found = _owned(ctx, request, communication_id)
    return _download(found.catenax.encode(), "application/json", found.file_name)


@router.get(f"{PAGE_PATH}/{{communication_id}}/communication.json", include_in_schema=False)
def cbam_exporter_communication(
    request: Request, ctx: Context, communication_id: CommunicationId
) -> Response:
    found = _owned(ctx, request, communication_id)
    return _download(
        found.communication.encode(), "application/json", f"{found.id}.communication.json"
    )


@router.get(f"{PAGE_PATH}/{{communication_id}}/workbook.xlsx", include_in_schema=False)
def cbam_exporter_workbook(
    request: Request, ctx: Context, communication_id: CommunicationId
) -> Response:
    from carbonlink.reports.cbam import write_xlsx
    from carbonlink.reports.cbam_exporter import add_exporter_sheet

    found = _owned(ctx, request, communication_id)
    communication = json.loads(found.communication)
    with tempfile.TemporaryDirectory(prefix="carbonlink-cbam-") as tmp:
        path = add_exporter_sheet(
            communication, write_xlsx(communication, Path(tmp) / "communication.xlsx")
        )
        body = path.read_bytes()
    return _download(
        body,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"{found.id}.xlsx",
    )
