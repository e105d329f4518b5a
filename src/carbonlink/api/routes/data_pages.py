"""The data-entry pages: import a file of readings, and enter activity values by hand.

The pages only show; ``static/data_import.js`` and ``static/forms.js`` send their forms to the
routes under /api/v1 (`carbonlink.api.routes.imports`, `carbonlink.api.routes.activity`).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from carbonlink.api.deps import Context
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.imports import held_kind
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.api.routes.setup_pages import ZONES
from carbonlink.store.data_entry import (
    activity_history,
    batch_quarantine,
    file_import,
    recent_file_imports,
)

router = APIRouter(include_in_schema=False)


@router.get("/data")
def data_index(request: Request, ctx: Context) -> RedirectResponse:
    _page_caller(request, ctx)
    return RedirectResponse("/data/import", status_code=303)


@router.get("/data/import")
def import_index(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    return _render(
        request,
        ctx,
        "data_import.html",
        caller,
        nav="data",
        tab="import",
        imports=recent_file_imports(ctx.engine, caller.organization_id),
    )


@router.get("/data/import/{import_id}")
def import_page(import_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    found = file_import(ctx.engine, org, import_id)
    if found is None:
        raise NotFoundError("import not found", record=import_id)
    meters = ctx.data.meters(org)
    held = batch_quarantine(ctx.engine, found.batch_id) if found.batch_id else []
    page = {
        "import_id": found.id,
        "status": found.status,
        "meters": [{"id": m.id, "name": m.name, "unit": m.unit} for m in meters],
    }
    return _render(
        request,
        ctx,
        "data_import_file.html",
        caller,
        nav="data",
        tab="import",
        found=found,
        meters=meters,
        held=[(record, held_kind(record.reason)) for record in held],
        zones=ZONES,
        page_json=json.dumps(page, ensure_ascii=False),
        mapping=json.loads(found.mapping) if found.mapping else None,
    )


@router.get("/data/activity")
def activity_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    history = activity_history(ctx.engine, org)
    corrected = {entry.supersedes for entry in history if entry.supersedes is not None}
    by_id = {entry.id: entry for entry in history}
    current = []
    for entry in reversed(history):
        if entry.id in corrected:
            continue
        trail = [entry]
        while trail[-1].supersedes is not None and trail[-1].supersedes in by_id:
            trail.append(by_id[trail[-1].supersedes])
        current.append((entry, trail))
    sources = ctx.data.sources(org)
    return _render(
        request,
        ctx,
        "data_activity.html",
        caller,
        nav="data",
        tab="activity",
        current=sorted(current, key=lambda item: (item[0].period, item[0].source_id), reverse=True),
        sources=sources,
        source_names={s.id: s.name for s in sources},
    )
