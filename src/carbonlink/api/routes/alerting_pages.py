"""Alert pages: the rules and channels an organization sets, and one alert with its history.

The forms on these pages send JSON to the API under /api/v1 (`alert_rules`, `alerting`) with
the page's CSRF token, so the app and a program do the same thing the same way.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carbonlink.api import security
from carbonlink.api.deps import Context
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.store import operations, results

router = APIRouter(include_in_schema=False)
RULE_KINDS = ("threshold", "rate_of_change", "above_baseline", "meter_offline")
SEVERITIES = ("info", "warning", "critical")


@router.get("/alerts/rules")
def alert_rules_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    return _render(
        request,
        ctx,
        "alert_rules.html",
        caller,
        nav="alerts",
        rules=results.alert_rules_of(ctx.engine, org),
        channels=operations.alert_channels_of(ctx.engine, org, key=ctx.settings.key_bytes),
        meters=ctx.data.meters(org),
        kinds=RULE_KINDS,
        severities=SEVERITIES,
    )


@router.get("/alerts/{alert_id}")
def alert_page(alert_id: int, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    found = [a for a in results.alerts_of(ctx.engine, org, limit=5000) if a.id == alert_id]
    if not found:
        raise NotFoundError("no alert with this id in your organization", record=str(alert_id))
    alert = found[0]
    meter = ctx.data.meter(org, alert.meter_id)
    facility = ctx.data.facility(org, meter.facility_id) if meter else None
    people = {u.id: u for u in security.organization_users(ctx.engine, org) if not u.disabled}
    return _render(
        request,
        ctx,
        "alert.html",
        caller,
        nav="alerts",
        alert=alert,
        meter=meter,
        tz=facility.timezone if facility else "UTC",
        notes=operations.alert_notes_of(ctx.engine, org, alert_id),
        people=people,
    )
