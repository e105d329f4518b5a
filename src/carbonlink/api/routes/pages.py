"""Server-rendered dashboard pages: login, overview, facility, source, meter, data quality."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Hashable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from carbonlink.api import results
from carbonlink.api.dashboard import RunView, build_run_view
from carbonlink.api.deps import LANG_COOKIE, SESSION_COOKIE, Context, ServiceContext, identify
from carbonlink.api.domain_text import plan_text_source
from carbonlink.api.file_check import receipt_beside
from carbonlink.api.i18n import LANGUAGES, formatter
from carbonlink.api.overview import render_content
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.conflicts import ConflictId
from carbonlink.api.routes.factors import search_factors
from carbonlink.api.routes.readings import API_REF, ReadingIn, reprocess_quarantine
from carbonlink.api.security import ForbiddenError, Principal, same_secret
from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.ingest.validation import suspect_reason
from carbonlink.monitor.plan import FACTOR_CHOICES, PLAN_TIERS, plan_methods
from carbonlink.store.tenant_data import organization_conflicts, resolve_organization_conflict
from carbonlink.store.workspace import resolve_workspace_path

LOGIN_CSRF_COOKIE = "carbonlink_login_csrf"
router = APIRouter(include_in_schema=False)


class LoginRequired(Exception):
    """A page was asked for without a valid session; the handler redirects to /login."""


def _language(request: Request, caller: Principal | None) -> str:
    """``?lang=``, else this session's choice, else (signed out) the browser's, else the user's."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    if caller and caller.session_locale in LANGUAGES:
        return str(caller.session_locale)
    cookie = None if caller and caller.via == "session" else request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return caller.locale if caller and caller.locale in LANGUAGES else "zh"


class PasswordChangeRequired(Exception):
    """The user must choose a new password first; the handler redirects to that form."""


def _page_caller(request: Request, ctx: ServiceContext) -> Principal:
    found = identify(request, ctx)
    if found is None:
        raise LoginRequired()
    if found.must_change_password:
        raise PasswordChangeRequired()
    found.require("read")
    return found


def _render(
    request: Request,
    ctx: ServiceContext,
    template: str,
    caller: Principal | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    lang = _language(request, caller)
    fmt = formatter(ctx.catalogues, lang)
    org = values.pop("organization", None)
    if org is None and caller:
        org = ctx.data.organization(caller.organization_id)
    response = ctx.templates.TemplateResponse(
        request,
        template,
        {
            "_": fmt.gettext,
            "fmt": fmt,
            "lang": lang,
            "languages": LANGUAGES,
            "caller": caller,
            "organization": org,
            "csrf_token": caller.csrf_token if caller else None,
            **values,
        },
        status_code=status_code,
    )
    session = request.cookies.get(SESSION_COOKIE)
    if request.query_params.get("lang") in LANGUAGES and caller and caller.via == "session":
        # The choice belongs to this session alone: the user's other sessions (another browser,
        # a colleague's screen) keep theirs, and the account's default is not touched (a link
        # or an image pointing at ?lang= changes at most how this session reads).
        if session and caller.session_locale != lang:
            ctx.accounts.set_session_locale(session, lang)
    elif request.query_params.get("lang") in LANGUAGES:
        # Signed out (the log-in page): the browser keeps the choice, and the session opened
        # by the log-in starts in it.
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            samesite="lax",
            secure=ctx.settings.secure_cookies,
            httponly=True,
        )
    return response


def _run_view(
    request: Request, ctx: ServiceContext, caller: Principal, facility: str | None = None
) -> RunView | None:
    """The inventory run a page shows: ``?run=<id>``, else the latest period's latest run.

    A facility page without ``?run`` shows the latest run that accounts the facility.
    """
    org = caller.organization_id
    version = _data_version(request, ctx, org)
    runs = ctx.overviews.cached(
        (org, "runs"), version, lambda: results.current_runs(ctx.engine, org)
    )
    if not runs:
        return None
    asked = request.query_params.get("run")
    ordered = sorted(runs, key=lambda r: r.id != asked)
    for run in ordered:

        def build(run: results.InventoryRun = run) -> RunView:
            lines = results.inventory_lines_of(ctx.engine, org, run.id)
            return build_run_view(ctx.engine, run, lines)

        view = ctx.overviews.cached((org, "run", run.id), version, build)
        if facility is None or view.facility(facility) is not None:
            view.runs = runs
            return view
    return None


def _data_version(request: Request, ctx: ServiceContext, organization_id: str) -> Hashable:
    """The organization's data version, read once per request."""
    found: Hashable | None = getattr(request.state, "data_version", None)
    if found is None:
        found = ctx.overviews.version(ctx.engine, ctx.data, organization_id)
        request.state.data_version = found
    return found


def _inventory_overview(
    request: Request, ctx: ServiceContext, caller: Principal, view: RunView
) -> HTMLResponse:
    lang = _language(request, caller)
    fmt = formatter(ctx.catalogues, lang)
    org = caller.organization_id

    def parts() -> dict[str, Any]:
        monitoring = results.latest_monitoring(ctx.engine, org)
        months = view.months
        chart = {
            "months": [fmt.month(m["month"]) for m in months],
            "scope1": [round(m["1"], 3) for m in months],
            "scope2": [round(m["2_location"], 3) for m in months],
            "scope2m": [round(m["2_market"], 3) for m in months],
            "scope3": [round(m["3"], 3) for m in months],
            "facilities": [f.name for f in view.facilities],
            "facility_t": [round(f.location_total, 3) for f in view.facilities],
            "links": {
                "facilities": [
                    f"/facilities/{quote(f.id, safe='')}?run={view.run.id}" for f in view.facilities
                ],
                "months": [month_analytics(m["month"]) for m in months],
            },
            "labels": {
                "scope1": fmt.gettext("Scope 1"),
                "scope2": fmt.gettext("Scope 2 (location-based)"),
                "scope2m": fmt.gettext("Scope 2 (market-based)"),
                "scope3": fmt.gettext("Scope 3"),
                "tco2e": fmt.gettext("t CO2e"),
            },
        }
        metered = {src.meter for src in view.sources if src.meter}
        first, last = view.run.period_start[:7], view.run.period_end[:7]
        in_run = [
            mm
            for mm in ctx.data.meter_months(org)
            if mm.meter_id in metered and first <= mm.month <= last
        ]
        received, expected = sum(mm.received for mm in in_run), sum(mm.expected for mm in in_run)
        return {
            "chart_json": json.dumps(chart, ensure_ascii=False),
            "completeness": received / expected if expected else None,
            "received": received,
            "findings": monitoring[0].get("completeness", []) if monitoring else [],
            "plan_facility": (
                (monitoring[0].get("plan") or {}).get("facility_id") if monitoring else None
            ),
            "outputs": monitoring[1] if monitoring else {},
        }

    version = _data_version(request, ctx, org)
    values = dict(ctx.overviews.cached((org, "page", view.run.id, lang), version, parts))
    # receipts are written beside the files after the report is saved, and a file may be
    # changed on disk at any time: each is checked on every view (its hash cached by identity)
    files = _report_files(values.pop("outputs"), ctx)
    values.update(view=view, files=files, lang=lang, _=fmt.gettext, fmt=fmt)
    listed = tuple((f["label"], f["name"], f["status"]) for f in files)
    content = ctx.overviews.cached(
        (org, "html", view.run.id, lang, listed),
        version,
        lambda: render_content(ctx.templates, "run_overview.html", values),
    )
    organization = ctx.overviews.cached(
        (org, "organization"), version, lambda: ctx.data.organization(org)
    )
    return _render(
        request,
        ctx,
        "content.html",
        caller,
        nav="overview",
        content=content,
        organization=organization,
    )


REPORT_FILE_SUFFIXES = (".json", ".xlsx", ".html", ".pdf", ".csv")


def _report_files(outputs: dict[str, str], ctx: ServiceContext) -> list[dict[str, Any]]:
    """The written files worth linking, each checked against its ledger entry as it is now."""
    out = []
    workspace = ctx.settings.workspace
    for label, name in outputs.items():
        path = resolve_workspace_path(name, workspace)
        if path.suffix not in REPORT_FILE_SUFFIXES or not path.is_file():
            continue
        check = ctx.file_checks.check(path, ctx.engine, workspace)
        out.append({"label": label, "name": path.name, "status": check.status})
    return out


# login -------------------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, ctx: Context) -> HTMLResponse:
    token = secrets.token_urlsafe(32)
    response = _render(request, ctx, "login.html", None, login_csrf=token, error=None)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=ctx.settings.secure_cookies,
    )
    return response


# POST /login: api/routes/accounts.py (budgets, organization choice, device cookies).


def signed_in(
    ctx: ServiceContext, session: str, landing: str, form_cookie: str
) -> RedirectResponse:
    """The redirect after a log-in: the session cookie set, the form's CSRF cookie dropped."""
    done = RedirectResponse(landing, status_code=303)
    done.set_cookie(
        SESSION_COOKIE,
        session,
        max_age=int(ctx.settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
    )
    done.delete_cookie(form_cookie)
    return done


@router.post("/logout")
def logout(
    request: Request, ctx: Context, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    caller = identify(request, ctx)  # any role may log out, supplier accounts included
    if caller is None:
        raise LoginRequired()
    if not same_secret(caller.csrf_token, csrf_token):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    ctx.accounts.close_session(request.cookies[SESSION_COOKIE])
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


# dashboard ---------------------------------------------------------------------------------
@router.get("/")
async def overview_page(request: Request, ctx: Context) -> HTMLResponse:
    # Served on the event loop, not in the thread pool: a cached overview costs about 2 ms of
    # CPU, and answering requests in turn keeps the tail latency close to the median, where
    # forty threads sharing the interpreter lock would stretch it.
    return _overview_page(request, ctx)


def _overview_page(request: Request, ctx: ServiceContext) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    view = _run_view(request, ctx, caller)
    if view is not None:
        return _inventory_overview(request, ctx, caller, view)
    overview = ctx.overviews.get(ctx.data, caller.organization_id)
    fmt = formatter(ctx.catalogues, _language(request, caller))
    scope = {s.scope: s.co2e_t for s in overview.by_scope}
    last = overview.by_month[-1] if overview.by_month else None
    chart = {
        "months": [fmt.month(m.month) for m in overview.by_month],
        "scope1": [round(m.scope1_t, 3) for m in overview.by_month],
        "scope2": [round(m.scope2_t, 3) for m in overview.by_month],
        "scope3": [round(m.scope3_t, 3) for m in overview.by_month],
        "intensity": [
            round(m.intensity_t_per_t, 4) if m.intensity_t_per_t is not None else None
            for m in overview.by_month
        ],
        "completeness": [
            round(100 * m.completeness, 1) if m.completeness is not None else None
            for m in overview.by_month
        ],
        "facilities": [f.name for f in overview.by_facility],
        "facility_t": [round(f.co2e_t, 3) for f in overview.by_facility],
        "links": {
            "facilities": [
                f"/facilities/{quote(f.facility_id, safe='')}" for f in overview.by_facility
            ],
            "months": [month_analytics(m.month) for m in overview.by_month],
            "completeness": ["/quality" for _ in overview.by_month],
        },
        "labels": {
            "scope1": fmt.gettext("Scope 1"),
            "scope2": fmt.gettext("Scope 2"),
            "scope3": fmt.gettext("Scope 3"),
            "intensity": fmt.gettext("t CO2e per t product"),
            "completeness": fmt.gettext("Completeness (%)"),
            "tco2e": fmt.gettext("t CO2e"),
        },
    }
    return _render(
        request,
        ctx,
        "overview.html",
        caller,
        nav="overview",
        overview=overview,
        scope=scope,
        last=last,
        chart_json=json.dumps(chart, ensure_ascii=False),
        facilities=ctx.data.facilities(caller.organization_id),
    )


@router.get("/facilities/{facility_id}")
def facility_page(facility_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    facility = ctx.data.facility(org, facility_id)
    if facility is None:
        raise NotFoundError("facility not found", record=facility_id)
    view = _run_view(request, ctx, caller, facility=facility_id)
    if view is not None and view.facility(facility_id) is not None:
        return _render(
            request,
            ctx,
            "run_facility.html",
            caller,
            nav="overview",
            view=view,
            facility=facility,
            row=view.facility(facility_id),
            sources=[src for src in view.sources if src.facility == facility_id],
            meters=ctx.data.meters(org, facility_id),
        )
    sources = ctx.data.sources(org, facility_id)
    totals: dict[str, float] = defaultdict(float)
    months: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in ctx.data.source_months(org):
        if row.facility_id == facility_id:
            totals[row.source_id] += row.co2e_t
            months[row.month][row.source_id] += row.co2e_t
    return _render(
        request,
        ctx,
        "facility.html",
        caller,
        nav="overview",
        facility=facility,
        sources=sources,
        totals=totals,
        months=sorted(months.items()),
        meters=ctx.data.meters(org, facility_id),
    )


@router.get("/sources/{source_id}")
def source_page(source_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    source = ctx.data.source(org, source_id)
    if source is None:
        raise NotFoundError("source not found", record=source_id)
    view = _run_view(request, ctx, caller, facility=source.facility_id)
    if view is not None and view.source(source_id) is not None:
        return _render(
            request,
            ctx,
            "run_source.html",
            caller,
            nav="overview",
            view=view,
            source=source,
            row=view.source(source_id),
            facility=ctx.data.facility(org, source.facility_id),
            meters=[m for m in ctx.data.meters(org) if m.source_id == source_id],
        )
    rows = [r for r in ctx.data.source_months(org) if r.source_id == source_id]
    meters = [m for m in ctx.data.meters(org, source.facility_id) if m.source_id == source_id]
    return _render(
        request,
        ctx,
        "source.html",
        caller,
        nav="overview",
        source=source,
        facility=ctx.data.facility(org, source.facility_id),
        rows=rows,
        meters=meters,
    )


@router.get("/meters/{meter_id}")
def meter_page(meter_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    meter = ctx.data.meter(org, meter_id)
    if meter is None:
        raise NotFoundError("meter not found", record=meter_id)
    readings = ctx.data.readings(org, meter_id, limit=200)
    facility = ctx.data.facility(org, meter.facility_id)
    series = {
        "ts": [r.ts.isoformat() for r in readings],
        "value": [r.value for r in readings],
        "unit": meter.unit,
    }
    anomalies = None
    if len(readings) >= 200:
        from carbonlink.api.dashboard import MeterAnomalies, meter_anomalies
        from carbonlink.store import Store

        try:
            pick = int(request.query_params.get("episode", "0"))
        except ValueError:
            pick = 0
        pick = min(max(pick, 0), 19)  # at most 20 episodes are listed

        def detect() -> MeterAnomalies:
            stored = Store(ctx.engine).series(meter_id)
            zone = facility.timezone if facility else "UTC"
            return meter_anomalies(stored.ts_us, stored.value, zone, pick=pick)

        anomalies = ctx.runs.get((org, f"meter:{meter_id}:{pick}"), ctx.data.version(org), detect)
    last = readings[-1].ts if readings else None
    zone = facility.timezone if facility else "UTC"
    before = _readings_before(request, zone)
    if before is None:
        page = readings[::-1][: READINGS_PAGE + 1]
    else:
        page = ctx.data.readings(org, meter_id, limit=READINGS_PAGE + 1, before=before)[::-1]
    shown, older = page[:READINGS_PAGE], len(page) > READINGS_PAGE
    return _render(
        request,
        ctx,
        "meter.html",
        caller,
        nav="overview",
        last_reading=last,
        live=last is not None and is_live(last, meter.interval_s),
        suspect={r.ts: suspect_reason(r.value, meter) for r in shown if r.quality == "suspect"},
        anomalies=anomalies,
        episode=request.query_params.get("episode", "0"),
        band_json=json.dumps(anomalies.window if anomalies else None),
        meter=meter,
        facility=facility,
        source=ctx.data.source(org, meter.source_id) if meter.source_id else None,
        readings=shown,
        paged=before is not None,
        older=shown[-1].ts.isoformat() if older and shown else None,
        tz=zone,
        series_json=json.dumps(series),
    )


READINGS_PAGE = 50
"""Raw readings listed per page of the meter page; older pages follow by time, not offset."""


def _readings_before(request: Request, zone: str) -> datetime | None:
    """The instant the meter page lists readings before: ``before`` (an ISO time, as the
    "older" link gives it) or ``date`` (a day in the facility's time zone, listed to its end)."""
    params = request.query_params
    if text := params.get("before"):
        try:
            found = datetime.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"before={text!r} is not a date and time",
                hint="use an ISO 8601 time such as 2018-03-11T09:00:00+08:00",
            ) from None
        return found if found.tzinfo else found.replace(tzinfo=ZoneInfo(zone))
    if text := params.get("date"):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise InputError(
                f"date={text!r} is not a date", hint="use a date such as 2018-03-11"
            ) from None
        return datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone))
    return None


def month_analytics(month: str) -> str:
    """The analytics page of one month ("2026-03"), by day: where a month of a chart leads."""
    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError:  # not a month: the page of the latest readings
        return "/analytics"
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return f"/analytics?start={first.isoformat()}&end={last.isoformat()}&step=day"


def is_live(last: datetime, interval_s: int | None, now: datetime | None = None) -> bool:
    """Whether a meter's data is arriving: its last reading within two of its intervals."""
    window = timedelta(seconds=2 * (interval_s or 3600))
    return (now or datetime.now(UTC)) - last <= window


@router.get("/meters/{meter_id}/events")
async def meter_events(meter_id: str, request: Request, ctx: Context) -> StreamingResponse:
    """Server-sent events: each new reading of the meter as it is stored."""
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    if ctx.data.meter(org, meter_id) is None:
        raise NotFoundError("meter not found", record=meter_id)
    latest = ctx.data.readings(org, meter_id, limit=1)
    since: datetime | None = latest[-1].ts if latest else None

    async def stream() -> AsyncIterator[str]:
        nonlocal since
        yield "retry: 3000\n\n"
        while not await request.is_disconnected():
            for reading in ctx.data.readings(org, meter_id, since=since, limit=500):
                since = reading.ts
                payload = {"ts": reading.ts.isoformat(), "value": reading.value}
                yield f"event: reading\ndata: {json.dumps(payload)}\n\n"
            await asyncio.sleep(1.0)

    return StreamingResponse(
        stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
    )


@router.get("/quality")
def quality_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    meters = {m.id: m for m in ctx.data.meters(org)}
    facilities = {f.id: f for f in ctx.data.facilities(org)}
    # the month counts scan every reading (0.2–0.8 s on the demo's plant year): kept per data
    # version like the overview's, so they are counted again only after new data
    months = ctx.overviews.cached(
        (org, "meter-months"), _data_version(request, ctx, org), lambda: ctx.data.meter_months(org)
    )
    rows = [
        (facilities.get(meters[mm.meter_id].facility_id), meters[mm.meter_id], mm)
        for mm in months
        if mm.meter_id in meters
    ]
    held = []
    for record in ctx.data.quarantined(org):
        stored = None
        if API_REF in record.source_ref:
            try:
                row = ReadingIn.model_validate_json(record.raw)
            except ValueError:
                row = None
            if row is not None and row.ts.tzinfo is not None:
                stored = ctx.data.reading_at(org, row.meter_id, row.ts)
        held.append((record, stored is not None))
    return _render(
        request,
        ctx,
        "quality.html",
        caller,
        nav="quality",
        rows=rows,
        quarantined=held,
        reprocessed=request.query_params.get("reprocessed"),
        conflicts=organization_conflicts(ctx.engine, org, limit=200),
    )


@router.post("/quality/reprocess")
def quality_reprocess(
    request: Request, ctx: Context, csrf_token: Annotated[str, Form(max_length=100)]
) -> Response:
    caller = _page_caller(request, ctx)
    if not same_secret(caller.csrf_token, csrf_token):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    caller.require("write")
    result = reprocess_quarantine(caller, ctx)
    return RedirectResponse(f"/quality?reprocessed={result.stored}", status_code=303)


def _form_writer(
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str | None, Form(max_length=100)] = None,
) -> Principal:
    # A dependency, so that a caller who may not write is refused (403) before the form's other
    # fields are validated: a 422 would tell a supplier what the form expects.
    caller = _page_caller(request, ctx)
    if not same_secret(caller.csrf_token, csrf_token or ""):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    caller.require("write")
    return caller


@router.post("/quality/conflicts/{conflict_id}/resolve")
def quality_resolve_conflict(
    caller: Annotated[Principal, Depends(_form_writer)],
    ctx: Context,
    conflict_id: ConflictId,
    note: Annotated[str, Form(min_length=1, max_length=2000, pattern=r"\S")],
) -> Response:
    if resolve_organization_conflict(ctx.engine, caller.organization_id, conflict_id, note) is None:
        raise NotFoundError(f"conflict {conflict_id} not found in your organization")
    return RedirectResponse("/quality#conflicts", status_code=303)


@router.get("/factors")
def factors_page(
    request: Request,
    ctx: Context,
    q: Annotated[str, Query(max_length=200)] = "",
    jurisdiction: Annotated[str, Query(max_length=8)] = "",
) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    total, factors = search_factors(q, jurisdiction, 300)
    return _render(
        request,
        ctx,
        "factors.html",
        caller,
        nav="factors",
        q=q,
        jurisdiction=jurisdiction,
        total=total,
        factors=factors,
    )


@router.get("/files/{label}")
def report_file(label: str, request: Request, ctx: Context, proof: bool = False) -> Response:
    """A file the organization's last run wrote (inventory JSON, CBAM workbook, reports).

    Served as it is on disk, checked against the ledger first: the answer's
    ``X-Carbonlink-File-Check`` header says verified, changed or unverified, and a changed
    file also carries a ``Warning`` header.
    """
    from fastapi.responses import FileResponse

    caller = _page_caller(request, ctx)
    path = report_file_path(ctx, caller, label)
    if proof:
        receipt = receipt_beside(path)
        if receipt is None:
            raise NotFoundError("no receipt beside this file", record=label)
        return FileResponse(receipt, filename=receipt.name)
    check = ctx.file_checks.check(path, ctx.engine, ctx.settings.workspace)
    headers = {"x-carbonlink-file-check": check.status, "cache-control": "no-store"}
    if check.status == "changed":
        headers["warning"] = '199 carbonlink "changed since the ledger recorded it"'
    return FileResponse(path, filename=path.name, headers=headers)


def report_file_path(ctx: ServiceContext, caller: Principal, label: str) -> Path:
    """The path of a file the organization's last run wrote, by its label (else 404)."""
    monitoring = results.latest_monitoring(ctx.engine, caller.organization_id)
    outputs = monitoring[1] if monitoring else {}
    path = (
        resolve_workspace_path(outputs[label], ctx.settings.workspace) if label in outputs else None
    )
    if path is None or path.suffix not in REPORT_FILE_SUFFIXES or not path.is_file():
        raise NotFoundError("file not found", record=label)
    return path


@router.get("/alerts")
def alerts_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    found = results.alerts_of(ctx.engine, caller.organization_id)
    meters = {m.id: m for m in ctx.data.meters(caller.organization_id)}
    groups = {
        status: [a for a in found if a.status == status]
        for status in ("open", "acknowledged", "closed")
    }
    tz = {
        m.id: (
            f.timezone if (f := ctx.data.facility(caller.organization_id, m.facility_id)) else "UTC"
        )
        for m in meters.values()
    }
    return _render(
        request, ctx, "alerts.html", caller, nav="alerts", groups=groups, meters=meters, tz=tz
    )


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(
    alert_id: int,
    request: Request,
    ctx: Context,
    csrf_token: Annotated[str | None, Form(max_length=100)] = None,
) -> Response:
    caller = _page_caller(request, ctx)
    sent = csrf_token or request.headers.get("x-csrf-token", "")
    if not same_secret(caller.csrf_token, sent):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    caller.require("write")
    if not results.acknowledge_alert(
        ctx.engine, caller.organization_id, alert_id, caller.display_name
    ):
        raise NotFoundError("no open alert with this id", record=str(alert_id))
    return RedirectResponse("/alerts", status_code=303)


@router.get("/targets")
def targets_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    fmt = formatter(ctx.catalogues, _language(request, caller))
    monitoring = results.latest_monitoring(ctx.engine, caller.organization_id)
    report = monitoring[0] if monitoring else None
    chart = None
    if report and report.get("target", {}).get("pathway"):
        target = report["target"]
        works = report.get("metered_works")
        chart = {
            "years": list(target["pathway"].keys()),
            "pathway": list(target["pathway"].values()),
            "year": target["progress"]["year"],
            "projected": target["progress"]["projected"],
            "labels": {
                "pathway": fmt.gettext("Target pathway"),
                "projected": fmt.gettext("Projected"),
                "monthly": fmt.gettext("Monthly emissions"),
                "tco2e": fmt.gettext("t CO2e"),
            },
        }
        if works:
            year = works["progress"]["year"]
            chart |= {
                "months": [fmt.month(f"{year}-{m:02d}") for m in range(1, 13)],
                "monthly": works["monthly_tco2"],
                "as_of": works["progress_as_of_month"],
                "budget_month": works["progress"]["allowed"] / 12,
            }
            chart["labels"]["budget_month"] = fmt.gettext("Budget per month")
    else:
        report = None
    from carbonlink.api.routes.targets import page_values

    declared = page_values(ctx, caller.organization_id)
    labels = {
        "budget": fmt.gettext("Budget (target pathway)"),
        "actual": fmt.gettext("Inventory (full year)"),
        "tco2e": fmt.gettext("t CO2e"),
    }
    return _render(
        request,
        ctx,
        "targets.html",
        caller,
        nav="targets",
        report=report,
        chart_json=json.dumps(chart, ensure_ascii=False),
        declared=declared["declared"],
        boundaries=declared["boundaries"],
        declared_json=json.dumps(
            {"targets": declared["declared_json"], "labels": labels}, ensure_ascii=False
        ),
    )


@router.get("/ets")
def ets_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    monitoring = results.latest_monitoring(ctx.engine, caller.organization_id)
    return _render(
        request,
        ctx,
        "ets.html",
        caller,
        nav="ets",
        report=monitoring[0] if monitoring and monitoring[0].get("ets") else None,
    )


def error_page(request: Request, exc: CarbonlinkError, status: int) -> Response:
    """A page-shaped error (not found, forbidden) in the caller's language."""
    ctx: ServiceContext = request.app.state.ctx
    try:
        caller = identify(request, ctx)
    except CarbonlinkError:
        caller = None
    return _render(request, ctx, "error.html", caller, status, status=status, error=exc)


@router.get("/account")
def account_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = identify(request, ctx)
    if caller is None:
        raise LoginRequired()
    return _render(request, ctx, "account.html", caller, nav="account")


def install_page_handlers(app: Any) -> None:
    """Pages answer a missing session with a redirect to the login page."""

    async def to_login(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/login", status_code=303)

    async def to_password(request: Request, exc: Exception) -> Response:
        return RedirectResponse("/account/password", status_code=303)

    app.add_exception_handler(LoginRequired, to_login)
    app.add_exception_handler(PasswordChangeRequired, to_password)


# monitoring plans -------------------------------------------------------------------------------
PLAN_FIELDS = ("method", "tier", "meters", "factor_choice", "sampling", "data_gap_procedure")


class PlanFieldError(InputError):
    """A refused plan edit, with the form field it concerns (``0-tier``: entry 0's tier)."""

    def __init__(
        self, message: str, *, form_field: str, record: str | None = None, hint: str | None = None
    ) -> None:
        self.form_field = form_field
        super().__init__(message, record=record, hint=hint)


def _plan_versions(
    ctx: ServiceContext, caller: Principal, facility_id: str
) -> list[results.StoredPlan]:
    """The facility's plan versions; 404 unless the facility or a plan is the caller's."""
    versions = results.plan_versions(ctx.engine, caller.organization_id, facility_id)
    if not versions and ctx.data.facility(caller.organization_id, facility_id) is None:
        raise NotFoundError("facility not found", record=facility_id)
    return versions


def _plan_findings(ctx: ServiceContext, caller: Principal, plan: Any) -> list[dict[str, str]]:
    from dataclasses import asdict

    from carbonlink.monitor.plan import completeness, load_template

    meters = [m.id for m in ctx.data.meters(caller.organization_id)]
    return [asdict(f) for f in completeness(plan, load_template(plan.template_id), meters)]


def _render_plan(
    request: Request,
    ctx: ServiceContext,
    caller: Principal,
    facility_id: str,
    status_code: int = 200,
    error: str | None = None,
    sent: dict[str, str] | None = None,
    refused: str | None = None,
) -> HTMLResponse:
    """The plan page; after a refused edit, ``sent`` holds what the person typed (shown again
    in the form instead of the stored values) and ``refused`` the field the refusal concerns."""
    versions = _plan_versions(ctx, caller, facility_id)
    current = versions[0] if versions else None
    return _render(
        request,
        ctx,
        "plan.html",
        caller,
        status_code=status_code,
        nav="plans",
        facility_id=facility_id,
        facility=ctx.data.facility(caller.organization_id, facility_id),
        current=current,
        versions=versions,
        findings=_plan_findings(ctx, caller, current.plan) if current else [],
        factor_choices=FACTOR_CHOICES,
        methods=plan_methods(),
        tiers=PLAN_TIERS,
        meter_ids=[m.id for m in ctx.data.meters(caller.organization_id)],
        error=error,
        sent=sent or {},
        refused=refused,
    )


@router.get("/plans")
def plans_index(request: Request, ctx: Context) -> Response:
    caller = _page_caller(request, ctx)
    planned = results.planned_facilities(ctx.engine, caller.organization_id)
    first = planned or [f.id for f in ctx.data.facilities(caller.organization_id)]
    query = f"?{request.url.query}" if request.url.query else ""
    if first:
        return RedirectResponse(f"/plans/{first[0]}{query}", status_code=303)
    raise NotFoundError("the organization has no facility yet")


@router.get("/plans/{facility_id}")
def plan_page(facility_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    return _render_plan(request, ctx, caller, facility_id)


def _plan_edit(plan: Any, form: Any, gettext: Callable[[str], str]) -> Any:
    """The form's fields as the API's plan edit (`carbonlink.api.routes.plans.PlanIn`).

    The page shows a template's sampling and data-gap sentences in the reader's language; one
    sent back unchanged is the stored sentence, so saving in Chinese does not rewrite it.
    """
    from pydantic import ValidationError

    from carbonlink.api.routes.plans import PlanIn

    entries = []
    for index, entry in enumerate(plan.entries):
        sent = {name: str(form.get(f"{index}-{name}", "")).strip() for name in PLAN_FIELDS}
        for name in ("sampling", "data_gap_procedure"):
            sent[name] = plan_text_source(sent[name], getattr(entry, name), gettext)
        source = {"source": entry.source_id}
        if not sent["method"]:
            raise PlanFieldError(
                gettext("%(source)s: the calculation method is empty") % source,
                form_field=f"{index}-method",
                record=entry.source_id,
                hint=gettext("enter a method, e.g. calculation or measurement"),
            )
        if sent["factor_choice"] not in FACTOR_CHOICES:
            raise PlanFieldError(
                gettext("%(source)s: unknown factor choice %(choice)s")
                % (source | {"choice": repr(sent["factor_choice"])}),
                form_field=f"{index}-factor_choice",
                record=entry.source_id,
                hint=gettext("choose one of %(choices)s") % {"choices": ", ".join(FACTOR_CHOICES)},
            )
        for name, empty in (
            ("tier", "%(source)s: the tier is empty"),
            ("sampling", "%(source)s: the sampling is empty"),
            ("data_gap_procedure", "%(source)s: the data-gap procedure is empty"),
        ):
            if not sent[name]:
                raise PlanFieldError(
                    gettext(empty) % source, form_field=f"{index}-{name}", record=entry.source_id
                )
        meters = [m.strip() for m in sent["meters"].split(",") if m.strip()]
        entries.append({"source_id": entry.source_id, **sent, "meters": meters})
    try:
        return PlanIn.model_validate({"version": form.get("version") or 0, "entries": entries})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        message = f"{'.'.join(str(p) for p in loc)}: {first['msg']}"
        if len(loc) == 3 and loc[0] == "entries":
            raise PlanFieldError(
                message, form_field=f"{loc[1]}-{loc[2]}", hint="correct the field"
            ) from exc
        raise InputError(message, hint="correct the field") from exc


def _plan_form_values(plan: Any, form: Any) -> dict[str, str]:
    """The plan fields of a submitted form as typed, to show them again after a refusal."""
    return {
        key: str(form.get(key))
        for index in range(len(plan.entries))
        for name in PLAN_FIELDS
        if (key := f"{index}-{name}") in form
    }


def _refused_field(plan: Any, exc: InputError) -> str | None:
    """The form field (``1-meters``) a refused plan edit concerns, when one does."""
    from carbonlink.monitor.plan import PlanChoiceError

    if isinstance(exc, PlanFieldError):
        return exc.form_field
    if isinstance(exc, PlanChoiceError):
        for index, entry in enumerate(plan.entries):
            if entry.source_id == exc.source_id:
                return f"{index}-{exc.field}"
    return None


def _plan_error(fmt: Any, exc: InputError) -> str:
    """The refusal of a plan edit in the page's language."""
    from carbonlink.monitor.plan import PlanChoiceError

    if not isinstance(exc, PlanChoiceError):
        hint = fmt.gettext("(%(hint)s)") % {"hint": exc.hint} if exc.hint else ""
        return str(exc.message + hint)
    values = ", ".join(exc.values)
    if exc.field == "method":
        text = fmt.gettext("%(source)s: unknown method %(value)s; choose one from the list.")
    elif exc.field == "tier":
        text = fmt.gettext(
            "%(source)s: unknown tier %(value)s; choose 1, 2, 2a, 2b, 3, 4 or n/a "
            "(EU MRR 2018/2066 Annex II)."
        )
    else:
        text = fmt.gettext(
            "%(source)s: no meter %(value)s in your organization; add it on the setup page "
            "first or name an existing meter."
        )
    return str(text % {"source": exc.source_id, "value": values})


def _save_plan(request: Request, ctx: ServiceContext, facility_id: str, form: Any) -> Response:
    from carbonlink.api.routes.plans import StalePlanError, revise_plan

    caller = _page_caller(request, ctx)
    sent = str(form.get("csrf_token") or request.headers.get("x-csrf-token", ""))
    if not same_secret(caller.csrf_token, sent):
        raise ForbiddenError("missing or wrong CSRF token", hint="reload the page and retry")
    caller.require("write")
    versions = _plan_versions(ctx, caller, facility_id)
    if not versions:
        raise NotFoundError("the facility has no monitoring plan to revise", record=facility_id)
    gettext = formatter(ctx.catalogues, _language(request, caller)).gettext
    try:
        revise_plan(ctx, caller, facility_id, _plan_edit(versions[0].plan, form, gettext))
    except StalePlanError:
        return _render_plan(
            request,
            ctx,
            caller,
            facility_id,
            409,
            formatter(ctx.catalogues, _language(request, caller)).gettext(
                "version %(version)s is no longer the latest; reload and edit again"
            )
            % {"version": form.get("version")},
        )
    except InputError as exc:
        # The page comes back with everything typed still in the form (not the stored plan),
        # and the refusal beside the field it concerns.
        fmt = formatter(ctx.catalogues, _language(request, caller))
        plan = versions[0].plan
        return _render_plan(
            request,
            ctx,
            caller,
            facility_id,
            422,
            _plan_error(fmt, exc),
            sent=_plan_form_values(plan, form),
            refused=_refused_field(plan, exc),
        )
    return RedirectResponse(f"/plans/{facility_id}", status_code=303)


@router.post("/plans/{facility_id}")
async def save_plan(facility_id: str, request: Request, ctx: Context) -> Response:
    form = await request.form(max_fields=500)
    return await asyncio.to_thread(_save_plan, request, ctx, facility_id, form)


@router.get("/plans/{facility_id}/plan-v{version}.{output_format}")
def plan_report(
    facility_id: str, version: int, output_format: str, request: Request, ctx: Context
) -> Response:
    import tempfile

    from carbonlink.monitor.plan import load_template
    from carbonlink.reports.monitoring_plan import build_plan_report
    from carbonlink.reports.render import write_report

    caller = _page_caller(request, ctx)
    media = {
        "pdf": "application/pdf",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    if output_format not in media:
        raise NotFoundError("plans download as pdf or xlsx", record=output_format)
    found = [v for v in _plan_versions(ctx, caller, facility_id) if v.plan.version == version]
    if not found:
        raise NotFoundError("no such plan version", record=f"{facility_id} v{version}")
    stored = found[0]
    plan_dict = stored.plan.model_dump(mode="json") | {"content_hash": stored.content_hash}
    org = ctx.data.organization(caller.organization_id)
    document = build_plan_report(
        plan_dict,
        load_template(stored.plan.template_id).model_dump(mode="json"),
        _plan_findings(ctx, caller, stored.plan),
        organization=org.name if org else "",
    )
    name = f"{facility_id}-plan-v{version}.{output_format}"
    with tempfile.TemporaryDirectory() as folder:
        path = write_report(document, Path(folder) / name, output_format)
        body = path.read_bytes()
    return Response(
        body,
        media_type=media[output_format],
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
