"""The period close pages: the periods with their state, and one period's runs and review.

The pages only show; their buttons and forms are sent by ``static/forms.js`` as JSON to the
routes of `carbonlink.api.routes.periods` (the same checks, the same refusals, the same 403).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from carbonlink.api.deps import Context
from carbonlink.api.problems import NotFoundError
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.api.routes.periods import period_detail
from carbonlink.store import periods

router = APIRouter(include_in_schema=False)


@router.get("/periods")
def periods_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    return _render(
        request,
        ctx,
        "periods.html",
        caller,
        nav="overview",
        periods=periods.periods_of(ctx.engine, caller.organization_id),
    )


@router.get("/periods/{period_id}")
def period_page(period_id: str, request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    period = periods.period_of(ctx.engine, caller.organization_id, period_id)
    if period is None:
        raise NotFoundError("period not found", record=period_id)
    detail = period_detail(ctx, caller, period)
    current = detail["runs"][0] if detail["runs"] else None
    return _render(
        request,
        ctx,
        "period.html",
        caller,
        nav="overview",
        period=period,
        detail=detail,
        current=current,
        may_approve=bool(
            current
            and current["state"] == "in_review"
            and caller.can("ledger")
            and periods.runs_of(ctx.engine, period.id)[0].submitted_by_id != caller.subject
        ),
    )
