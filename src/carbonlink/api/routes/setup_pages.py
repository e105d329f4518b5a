"""The setup pages: facilities, emission sources and meters, and which meter feeds which source.

The pages only show; their forms are sent by ``static/forms.js`` as JSON to the catalogue's
routes under /api/v1 (the same checks, the same refusals, the same 403 for a reader).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carbonlink.api.deps import Context
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.monitor.plan import plan_methods

router = APIRouter(include_in_schema=False)

ZONES = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Seoul", "Asia/Tokyo", "Europe/Berlin", "UTC")


@router.get("/setup")
def setup_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    facilities = ctx.data.facilities(org)
    counts = {
        f.id: (len(ctx.data.sources(org, f.id)), len(ctx.data.meters(org, f.id)))
        for f in facilities
    }
    return _render(
        request,
        ctx,
        "setup.html",
        caller,
        nav="data",
        tab="setup",
        facilities=facilities,
        counts=counts,
        zones=ZONES,
    )


@router.get("/setup/facilities/{facility_id}")
def setup_facility_page(facility_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    facility = ctx.data.facility(org, facility_id)
    if facility is None:
        raise NotFoundError("facility not found", record=facility_id)
    sources = ctx.data.sources(org, facility_id)
    return _render(
        request,
        ctx,
        "setup_facility.html",
        caller,
        nav="data",
        tab="setup",
        facility=facility,
        sources=sources,
        source_names={s.id: s.name for s in sources},
        meters=ctx.data.meters(org, facility_id),
        methods=plan_methods(),
        zones=ZONES,
    )


@router.get("/setup/sources/{source_id}")
def setup_source_page(source_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    source = ctx.data.source(caller.organization_id, source_id)
    if source is None:
        raise NotFoundError("source not found", record=source_id)
    return _render(
        request,
        ctx,
        "setup_item.html",
        caller,
        nav="data",
        tab="setup",
        facility=ctx.data.facility(caller.organization_id, source.facility_id),
        source=source,
        meter=None,
        methods=plan_methods(),
    )


@router.get("/setup/meters/{meter_id}")
def setup_meter_page(meter_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    meter = ctx.data.meter(org, meter_id)
    if meter is None:
        raise NotFoundError("meter not found", record=meter_id)
    return _render(
        request,
        ctx,
        "setup_item.html",
        caller,
        nav="data",
        tab="setup",
        facility=ctx.data.facility(org, meter.facility_id),
        source=None,
        meter=meter,
        sources=ctx.data.sources(org, meter.facility_id),
    )
