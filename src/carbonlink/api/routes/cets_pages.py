"""The China ETS page of a legal entity: months × status, the year's calendar, findings, deposit
packs, the allocation position at the user's price, and the ways data comes in (ledger upload,
one value by form).

``GET /cets?entity=…&year=…&price=…`` shows; the forms post to ``/cets/import``, ``/cets/records``
and ``/cets/deposit`` (roles with ``write``, the page's CSRF token in the form) and come back to
the page with what happened. Downloads: the control plan (``/cets/plan.pdf``, ``/cets/plan.xlsx``)
and a month's deposit pack (``/cets/pack?entity=…&month=…``).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from carbonlink.api.deps import Context, ServiceContext
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.api.security import ForbiddenError, Principal, same_secret
from carbonlink.errors import CarbonlinkError, InputError

router = APIRouter(include_in_schema=False)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
STATE_CLASS = {
    "done": "good",
    "done_late": "warn",
    "open": "info",
    "not_yet_open": "muted",
    "overdue": "bad",
}


def _check_csrf(caller: Principal, sent: str) -> None:
    if not same_secret(caller.csrf_token, sent):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")


def _writer(request: Request, ctx: ServiceContext, csrf_token: str) -> Principal:
    caller = _page_caller(request, ctx)
    caller.require("write")
    _check_csrf(caller, csrf_token)
    return caller


def _back(entity: str, year: str | int | None, **message: str) -> RedirectResponse:
    query = {"entity": entity} | ({"year": str(year)} if year else {}) | message
    return RedirectResponse(f"/cets?{urlencode(query)}", status_code=303)


def _year(text: str | None, fallback: int) -> int:
    if text and text.isdigit() and 2000 <= int(text) <= 2100:
        return int(text)
    return fallback


def _number(text: str | None) -> float | None:
    try:
        value = float(text) if text not in (None, "") else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 and value == value else None


def page_values(
    ctx: ServiceContext, organization_id: str, entity: str, year: int, query: dict[str, str]
) -> dict[str, Any]:
    """Everything the page shows for one entity and year (plain values for the template)."""
    from carbonlink.cets import operations
    from carbonlink.cets.plausibility import RULES
    from carbonlink.store import cets as store

    engine = ctx.engine
    latest = store.latest_control_plan(engine, organization_id, entity)
    records = operations.year_records(engine, organization_id, entity, year)
    try:
        findings = operations.findings_of(engine, organization_id, entity, year)
        findings_error = ""
    except CarbonlinkError as exc:
        findings, findings_error = [], str(exc)
    deposits = store.deposits_of(engine, organization_id, entity)
    try:
        statuses = operations.calendar_status(engine, organization_id, entity, year, date.today())
        calendar_error = ""
    except CarbonlinkError as exc:
        statuses, calendar_error = (), str(exc)
    by_month: dict[str, dict[str, Any]] = {}
    for m in range(1, 13):
        label = f"{year:04d}-{m:02d}"
        by_month[label] = {
            "month": label,
            "records": 0,
            "reports": set(),
            "evidence": set(),
            "findings": [],
            "deposits": [],
            "status": None,
        }
    for r in records:
        row = by_month.get(r.month)
        if row is None:
            continue
        row["records"] += 1
        if r.report_id:
            row["reports"].add(r.report_id)
        if r.evidence_sha256:
            row["evidence"].add(r.evidence_name)
    for f in findings:
        if f.month in by_month:
            by_month[f.month]["findings"].append(f.rule)
    for d in deposits:
        if d.month in by_month:
            by_month[d.month]["deposits"].append(d)
    for s in statuses:
        if s.obligation.period in by_month:
            by_month[s.obligation.period]["status"] = s
    price = _number(query.get("price"))
    processes = [p.code for p in latest.plan.processes] if latest else []
    intensity = {
        code: value
        for code in processes
        if (value := _number(query.get(f"i_{code}"))) is not None and value > 0
    }
    position = None
    if price is not None:
        position = operations.entity_year(
            engine,
            organization_id,
            entity,
            year,
            price=price,
            intensity=intensity or None,
            intensity_source="entered on the page by the user",
        )
    return {
        "plan": latest.plan if latest else None,
        "plan_hash": latest.content_hash if latest else "",
        "plan_versions": len(store.control_plan_versions(engine, organization_id, entity)),
        "months": list(by_month.values()),
        "findings": findings,
        "findings_error": findings_error,
        "rules": RULES,
        "statuses": statuses,
        "calendar_error": calendar_error,
        "state_class": STATE_CLASS,
        "quarantine": store.quarantined(engine, organization_id, entity),
        "price": price,
        "intensity": intensity,
        "processes": processes,
        "position": position,
        "parameters": list(_parameter_names()),
        "sources": sorted(
            {s.id for s in latest.plan.sources} | set(processes) if latest else set()
        ),
        "record_count": len(records),
    }


def _parameter_names() -> list[str]:
    from carbonlink.cets.records import PARAMETERS

    return list(PARAMETERS)


@router.get("/cets")
def cets_page(request: Request, ctx: Context) -> HTMLResponse:
    from carbonlink.store import cets as store

    caller = _page_caller(request, ctx)
    entities = store.entities(ctx.engine, caller.organization_id)
    query = dict(request.query_params)
    entity = query.get("entity") or (entities[0][0] if entities else "")
    known = {e for e, _ in entities}
    values: dict[str, Any] = {}
    status = 200
    if entity and entity not in known:
        status, entity = 404, ""
    year = _year(query.get("year"), date.today().year)
    if entity:
        if not query.get("year"):
            months = [
                r.month for r in store.parameters_of(ctx.engine, caller.organization_id, entity)
            ]
            year = int(max(months)[:4]) if months else year
        values = page_values(ctx, caller.organization_id, entity, year, query)
    return _render(
        request,
        ctx,
        "cets.html",
        caller,
        status,
        nav="cets",
        entities=entities,
        entity=entity,
        year=year,
        message=query.get("done", ""),
        error=query.get("error", ""),
        may_write=caller.can("write"),
        **values,
    )


def _plan_or_404(ctx: ServiceContext, caller: Principal, entity: str) -> Any:
    from carbonlink.store import cets as store

    latest = store.latest_control_plan(ctx.engine, caller.organization_id, entity)
    if latest is None:
        raise NotFoundError("no control plan for this entity", record=entity)
    return latest.plan


@router.get("/cets/plan.pdf")
async def plan_pdf(request: Request, ctx: Context, entity: str = "") -> Response:
    from carbonlink.reports.cets_reports import control_plan_document
    from carbonlink.reports.render import render_pdf

    caller = _page_caller(request, ctx)
    plan = _plan_or_404(ctx, caller, entity)
    body = await run_in_threadpool(render_pdf, control_plan_document(plan))
    name = f"control-plan-{plan.entity_id}-v{plan.version}.pdf"
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/cets/plan.xlsx")
async def plan_xlsx(request: Request, ctx: Context, entity: str = "") -> Response:
    import tempfile
    from pathlib import Path

    from carbonlink.reports.cets_reports import control_plan_document
    from carbonlink.reports.render import write_report

    caller = _page_caller(request, ctx)
    plan = _plan_or_404(ctx, caller, entity)
    with tempfile.TemporaryDirectory() as scratch:
        path = write_report(control_plan_document(plan), Path(scratch) / "plan.xlsx", "xlsx")
        body = path.read_bytes()
    name = f"control-plan-{plan.entity_id}-v{plan.version}.xlsx"
    return Response(
        body,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/cets/pack")
def pack_download(request: Request, ctx: Context, entity: str = "", month: str = "") -> Response:
    from carbonlink.cets.operations import pack_folder
    from carbonlink.store import cets as store

    caller = _page_caller(request, ctx)
    found = [
        d for d in store.deposits_of(ctx.engine, caller.organization_id, entity) if d.month == month
    ]
    if not found:
        raise NotFoundError("no deposit pack for this month", record=f"{entity} {month}")
    folder = pack_folder(ctx.settings.workspace, found[-1])
    archive = folder.with_name(folder.name + ".zip")
    if not archive.is_file():
        raise NotFoundError(
            "the pack's zip is missing from the workspace",
            record=found[-1].pack_id,
            hint="restore the workspace's cets folder from the backup",
        )
    return Response(
        archive.read_bytes(),
        media_type="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{found[-1].pack_id}.zip"'},
    )


@router.post("/cets/import")
async def import_upload(
    request: Request,
    ctx: Context,
    entity: Annotated[str, Form(max_length=64)] = "",
    year: Annotated[str, Form(max_length=4)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    ledger: UploadFile | None = None,
    evidence: list[UploadFile] | None = None,
) -> Response:
    from carbonlink.cets.operations import import_ledger

    caller = _writer(request, ctx, csrf_token)
    if ledger is None or not ledger.filename:
        return _back(entity, year, error="choose the ledger workbook (XLSX) to upload")
    body = await ledger.read(MAX_UPLOAD_BYTES + 1)
    files: dict[str, bytes] = {}
    for item in evidence or []:
        if item.filename:
            files[item.filename.rsplit("/", 1)[-1]] = await item.read(MAX_UPLOAD_BYTES + 1)
    if len(body) > MAX_UPLOAD_BYTES or any(len(b) > MAX_UPLOAD_BYTES for b in files.values()):
        return _back(entity, year, error="a file is larger than 20 MB")
    try:
        summary = await run_in_threadpool(
            import_ledger,
            ctx.engine,
            caller.organization_id,
            body,
            ledger.filename.rsplit("/", 1)[-1],
            files,
            caller.subject,
            origin="upload",
        )
    except CarbonlinkError as exc:
        return _back(entity, year, error=str(exc))
    done = f"{summary.stored} stored, {len(summary.quarantined)} quarantined"
    return _back(entity, year, done=done)


@router.post("/cets/records")
async def record_form(
    request: Request,
    ctx: Context,
    entity: Annotated[str, Form(max_length=64)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    month: Annotated[str, Form(max_length=7)] = "",
    source: Annotated[str, Form(max_length=64)] = "",
    parameter: Annotated[str, Form(max_length=32)] = "",
    value: Annotated[str, Form(max_length=32)] = "",
    unit: Annotated[str, Form(max_length=32)] = "",
    report_id: Annotated[str, Form(max_length=64)] = "",
    accreditation: Annotated[str, Form(max_length=64)] = "",
    sample_id: Annotated[str, Form(max_length=64)] = "",
    sample_date: Annotated[str, Form(max_length=10)] = "",
    standard: Annotated[str, Form(max_length=200)] = "",
    evidence: UploadFile | None = None,
) -> Response:
    from carbonlink.cets.operations import save_form_record
    from carbonlink.cets.records import PARAMETERS, ParameterRecord

    caller = _writer(request, ctx, csrf_token)
    year = month[:4]
    number = _number(value)
    problem = ""
    if not _MONTH.match(month):
        problem = f"month {month!r} is not YYYY-MM"
    elif parameter not in PARAMETERS:
        problem = f"unknown parameter {parameter!r}"
    elif number is None:
        problem = f"value {value!r} is not a number not below zero"
    elif sample_date:
        try:
            date.fromisoformat(sample_date)
        except ValueError:
            problem = f"sampling date {sample_date!r} is not YYYY-MM-DD"
    if problem:
        return _back(entity, year, error=f"{entity} {month} {source}/{parameter}: {problem}")
    attached = None
    if evidence is not None and evidence.filename:
        content = await evidence.read(MAX_UPLOAD_BYTES + 1)
        if len(content) > MAX_UPLOAD_BYTES:
            return _back(entity, year, error="the evidence file is larger than 20 MB")
        attached = (evidence.filename.rsplit("/", 1)[-1], content)
    record = ParameterRecord(
        entity_id=entity,
        month=month,
        source=source,
        parameter=parameter,
        value=float(number or 0.0),
        unit=unit,
        report_id=report_id,
        accreditation=accreditation,
        sample_id=sample_id,
        sample_date=sample_date,
        standard=standard,
        sample_count=1 if report_id else 0,
        origin="form",
    )
    try:
        await run_in_threadpool(
            save_form_record, ctx.engine, caller.organization_id, record, caller.subject, attached
        )
    except (InputError, CarbonlinkError) as exc:
        return _back(entity, year, error=str(exc))
    return _back(entity, year, done=f"{month} {source}/{parameter} stored")


@router.post("/cets/deposit")
async def deposit_form(
    request: Request,
    ctx: Context,
    entity: Annotated[str, Form(max_length=64)] = "",
    month: Annotated[str, Form(max_length=7)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    from carbonlink.cets.operations import deposit_month
    from carbonlink.ledger import load_ledger_signer

    caller = _writer(request, ctx, csrf_token)
    if not _MONTH.match(month):
        return _back(entity, None, error=f"month {month!r} is not YYYY-MM")
    try:
        signer = load_ledger_signer(ctx.settings.workspace)
        deposit = await run_in_threadpool(
            lambda: deposit_month(
                ctx.engine,
                ctx.settings.workspace,
                signer,
                caller.organization_id,
                entity,
                month,
                deposited_on=date.today(),
            )
        )
    except CarbonlinkError as exc:
        return _back(entity, month[:4], error=str(exc))
    return _back(
        entity,
        month[:4],
        done=f"{deposit.pack_id}: ledger entry {deposit.ledger_index}",
    )
