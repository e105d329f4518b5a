"""Period close under /api/v1: open a period, compute its runs, review, approve, lock, restate.

A period is computed from the organization's stored data: the period's inventory document,
with metered sources summed from the stored readings and sources with activity values entered
by hand (``POST /api/v1/activity-entries``) taking the sum of the months in the period. Each
computation is saved as an inventory run and compared line by line with the period's previous
run, with the reason of each change (`carbonlink.domain.run_diff`).

Who may do what: editors and administrators open, compute and submit; auditors and
administrators approve (never a run they submitted themselves), return and lock; only an
administrator reopens a locked period for restatement. Approving keeps the run with its lines
as a JSON document in the store and records it in the ledger: that entry is the run's receipt.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, UploadFile
from pydantic import BaseModel, Field, model_validator

from carbonlink.api.deps import Admin, Caller, Context, Reader, ServiceContext, Writer, requires
from carbonlink.api.period_close import compute_run, run_changes
from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE
from carbonlink.api.routes.v1 import NO_NUL, PREFIX, READ, READ_ONE, WRITE, ApiModel, not_found
from carbonlink.api.security import ForbiddenError, Principal
from carbonlink.domain.inventory import Inventory, parse_inventory
from carbonlink.errors import InputError
from carbonlink.ledger import Ledger, report_entry
from carbonlink.store import Store, periods, results

router = APIRouter(prefix=PREFIX)
Reviewer = Annotated[Principal, requires("ledger")]


def commenter(caller: Caller) -> Principal:
    """Editors, auditors and administrators comment; viewers only read."""
    if not (caller.can("write") or caller.can("ledger")):
        raise ForbiddenError(
            f"role '{caller.role}' may not comment on a period",
            hint="ask an administrator of your organization for the editor or auditor role",
        )
    return caller


Commenter = Annotated[Principal, Depends(commenter)]


class RunOut(BaseModel):
    id: str = Field(examples=["3f0c9a1b2c3d4e5f60718293a4b5c6d7"])
    number: int = Field(examples=[2], description="1 for the period's first run.")
    inventory_id: str = Field(
        examples=["5a7e86bc1fe94cd79919bf2c73873d84"],
        description="The saved computation: GET /api/v1/inventories/{id}.",
    )
    state: str = Field(
        examples=["in_review"],
        description="draft, in_review, approved, locked; superseded (a draft computed again) "
        "or restated (a locked run reopened).",
    )
    reason: str | None = Field(examples=[None], description="Why the period was reopened.")
    totals: dict[str, float] = Field(examples=[{"scope1": 1234.5}])
    computed_by: str = Field(examples=["李工程师"])
    computed_at: datetime = Field(examples=["2026-12-01T02:00:00Z"])
    submitted_by: str | None = Field(default=None, examples=["李工程师"])
    submitted_at: datetime | None = Field(default=None, examples=["2026-12-01T03:00:00Z"])
    approved_by: str | None = Field(default=None, examples=["陈审核"])
    approved_at: datetime | None = Field(default=None, examples=["2026-12-02T08:00:00Z"])
    locked_by: str | None = Field(default=None, examples=["陈审核"])
    locked_at: datetime | None = Field(default=None, examples=["2026-12-02T08:05:00Z"])
    ledger_index: int | None = Field(
        default=None, examples=[58], description="The approved run's ledger entry."
    )
    receipt_sha256: str | None = Field(
        default=None,
        examples=["9f2c4e0d1b3a5c7e9f2c4e0d1b3a5c7e9f2c4e0d1b3a5c7e9f2c4e0d1b3a5c7e"],
        description="SHA-256 of the kept run JSON.",
    )


class ChangeOut(BaseModel):
    facility: str = Field(examples=["plant-1"])
    source: str = Field(examples=["reheating-gas"])
    scope: str = Field(examples=["1"])
    gas: str = Field(examples=["CO2"])
    old_tco2e: float | None = Field(examples=[21.62])
    new_tco2e: float | None = Field(examples=[23.4])
    reasons: list[str] = Field(
        examples=[["activity"]],
        description="added, removed, method (changed method), factor (changed factor), "
        "activity (new data), other.",
    )


class CommentOut(BaseModel):
    id: int = Field(examples=[1])
    run_id: str = Field(examples=["3f0c9a1b2c3d4e5f60718293a4b5c6d7"])
    author: str = Field(examples=["陈审核"])
    body: str = Field(examples=["March gas matches the supplier's statement."])
    created_at: datetime = Field(examples=["2026-12-02T07:55:00Z"])


class PeriodOut(BaseModel):
    id: str = Field(examples=["9d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6"])
    title: str = Field(examples=["Demo Steel Co., Ltd."])
    period_start: str = Field(examples=["2025-01-01"])
    period_end: str = Field(examples=["2025-12-31"])
    state: str = Field(examples=["locked"], description="draft, in_review, approved or locked.")
    created_by: str = Field(examples=["李工程师"])
    created_at: datetime = Field(examples=["2026-12-01T01:00:00Z"])


class PeriodDetail(PeriodOut):
    runs: list[RunOut] = Field(description="Newest first; the first is the current run.")
    changes: list[ChangeOut] = Field(
        description="Lines of the current run that differ from the previous run, with why."
    )
    comments: list[CommentOut]


class CommentIn(ApiModel):
    body: str = Field(min_length=1, max_length=4000, pattern=NO_NUL, examples=["Checked."])


class ReopenIn(ApiModel):
    reason: str = Field(
        min_length=3,
        max_length=2000,
        pattern=NO_NUL,
        examples=["November gas invoice corrected by the supplier"],
    )


class RangeIn(ApiModel):
    start: date = Field(examples=["2026-01-01"], description="First day of the new period.")
    end: date = Field(examples=["2026-12-31"], description="Last day of the new period.")

    @model_validator(mode="after")
    def _ordered(self) -> RangeIn:
        if self.end < self.start:
            raise ValueError("the period ends before it starts: give an end on or after the start")
        return self


def _period(ctx: ServiceContext, caller: Principal, period_id: str) -> periods.Period:
    found = periods.period_of(ctx.engine, caller.organization_id, period_id)
    if found is None:
        raise not_found("period", period_id)
    return found


def period_out(period: periods.Period) -> dict[str, Any]:
    return {
        "id": period.id,
        "title": period.title,
        "period_start": period.period_start,
        "period_end": period.period_end,
        "state": period.state,
        "created_by": period.created_by,
        "created_at": period.created_at,
    }


def _totals(ctx: ServiceContext, organization_id: str) -> dict[str, dict[str, float]]:
    return {r.id: r.totals for r in results.inventory_runs(ctx.engine, organization_id)}


def period_detail(ctx: ServiceContext, caller: Principal, period: periods.Period) -> dict[str, Any]:
    runs = periods.runs_of(ctx.engine, period.id)
    totals = _totals(ctx, caller.organization_id)
    return period_out(period) | {
        "runs": [
            {k: getattr(run, k) for k in RunOut.model_fields if k != "totals"}
            | {"totals": totals.get(run.inventory_id, {})}
            for run in runs
        ],
        "changes": [
            {
                "facility": c.facility,
                "source": c.source,
                "scope": c.scope,
                "gas": c.gas,
                "old_tco2e": c.old_tco2e,
                "new_tco2e": c.new_tco2e,
                "reasons": list(c.reasons),
            }
            for c in run_changes(ctx, caller.organization_id, runs)
        ],
        "comments": [vars_of(c) for c in periods.comments_of(ctx.engine, period.id)],
    }


def vars_of(comment: periods.Comment) -> dict[str, Any]:
    return {
        "id": comment.id,
        "run_id": comment.run_id,
        "author": comment.author,
        "body": comment.body,
        "created_at": comment.created_at,
    }


@router.get("/periods", response_model=list[PeriodOut], responses=READ, tags=["periods"])
def list_periods(caller: Reader, ctx: Context) -> list[dict[str, Any]]:
    """The organization's reporting periods with their state, newest first."""
    return [period_out(p) for p in periods.periods_of(ctx.engine, caller.organization_id)]


@router.post(
    "/periods", response_model=PeriodOut, status_code=201, responses=WRITE, tags=["periods"]
)
def open_period(
    caller: Writer,
    ctx: Context,
    inventory: Annotated[
        Inventory, Body(openapi_examples={"one plant": {"value": INVENTORY_EXAMPLE}})
    ],
) -> dict[str, Any]:
    """Open a reporting period from the inventory document it is computed from.

    The document's period is the period's date range (one period per range); its sources say
    where their activity comes from (a quantity, a meter, or values entered by hand).
    """
    document = inventory.model_dump(mode="json")
    return period_out(
        periods.open_period(ctx.engine, caller.organization_id, document, caller.display_name)
    )


MAX_INVENTORY_BYTES = 2 * 1024 * 1024
"""An inventory document is a page of YAML or JSON; a file far larger is not one."""


@router.post(
    "/periods/files", response_model=PeriodOut, status_code=201, responses=WRITE, tags=["periods"]
)
async def open_period_from_file(
    caller: Writer,
    ctx: Context,
    file: Annotated[UploadFile, File(description="The inventory document, YAML or JSON.")],
    start: Annotated[date | None, Form(description="First day; the file's when empty.")] = None,
    end: Annotated[date | None, Form(description="Last day; the file's when empty.")] = None,
) -> dict[str, Any]:
    """Open a reporting period from an inventory file (what `carbonlink account` reads).

    The file is kept in the store under its SHA-256 before it is read, so that the period's
    runs and the reports made from them find it again. Dates given here replace the file's
    period; without them the file's period is the period's date range.
    """
    name = (file.filename or "inventory.yaml").replace("/", "_").replace("\\", "_")[-200:]
    body = await file.read(MAX_INVENTORY_BYTES + 1)
    if not body:
        raise InputError(f"{name} is empty", file=name, hint="choose the inventory file again")
    if len(body) > MAX_INVENTORY_BYTES:
        raise InputError(
            f"{name} is larger than {MAX_INVENTORY_BYTES // (1024 * 1024)} MB",
            file=name,
            hint="an inventory document lists facilities and sources; send readings to "
            "/api/v1/imports instead",
        )
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"{name} is not UTF-8 text", file=name, hint="save the file as UTF-8 and send it again"
        ) from exc
    if (start is None) != (end is None):
        raise InputError(
            "give both the first and the last day, or neither",
            record=name,
            hint="leave both empty to take the file's period",
        )
    if start is not None and end is not None and end < start:
        raise InputError(
            f"the last day {end} is before the first day {start}",
            record=name,
            hint="swap the two dates",
        )
    Store(ctx.engine).save_document(name, body, "application/yaml")
    try:
        document = parse_inventory(text, file=name).model_dump(mode="json")
    except InputError as exc:
        raise InputError(
            f"{name}: {exc.message}", record=exc.record or name, hint=exc.hint
        ) from exc
    if start is not None and end is not None:
        document["period"] = {"start": start.isoformat(), "end": end.isoformat()}
        Inventory.model_validate(document)
    return period_out(
        periods.open_period(ctx.engine, caller.organization_id, document, caller.display_name)
    )


@router.post(
    "/periods/{period_id}/copies", response_model=PeriodOut, status_code=201, responses=WRITE,
    tags=["periods"],
)  # fmt: skip
def open_like(period_id: str, body: RangeIn, caller: Writer, ctx: Context) -> dict[str, Any]:
    """Open another period with this period's inventory document and new dates."""
    document = _period(ctx, caller, period_id).document | {
        "period": {"start": body.start.isoformat(), "end": body.end.isoformat()}
    }
    Inventory.model_validate(document)
    return period_out(
        periods.open_period(ctx.engine, caller.organization_id, document, caller.display_name)
    )


@router.get(
    "/periods/{period_id}", response_model=PeriodDetail, responses=READ_ONE, tags=["periods"]
)
def get_period(period_id: str, caller: Reader, ctx: Context) -> dict[str, Any]:
    """A period with its runs (newest first), the current run's changes and the comments."""
    return period_detail(ctx, caller, _period(ctx, caller, period_id))


def _detail(ctx: ServiceContext, caller: Principal, period_id: str) -> dict[str, Any]:
    return period_detail(ctx, caller, _period(ctx, caller, period_id))


@router.post(
    "/periods/{period_id}/runs", response_model=PeriodDetail, status_code=201, responses=WRITE,
    tags=["periods"],
)  # fmt: skip
def compute_period(period_id: str, caller: Writer, ctx: Context) -> dict[str, Any]:
    """Compute the period from the stored data as a new draft run (a draft is replaced)."""
    period = _period(ctx, caller, period_id)
    _refuse_unless_draft(period)
    compute_run(ctx, caller, period)
    return _detail(ctx, caller, period_id)


def _refuse_unless_draft(period: periods.Period) -> None:
    if period.state != "draft":
        raise periods.PeriodStateError(
            f"the period {period.period_start} – {period.period_end} is "
            f"{period.state.replace('_', ' ')}: it cannot be computed again",
            record=period.id,
            hint="a locked period is reopened for restatement with a reason; a run in review "
            "is approved or returned first",
        )


@router.post(
    "/periods/{period_id}/submit", response_model=PeriodDetail, responses=WRITE, tags=["periods"]
)
def submit_period(period_id: str, caller: Writer, ctx: Context) -> dict[str, Any]:
    """Send the draft run for review."""
    period = _period(ctx, caller, period_id)
    periods.submit(ctx.engine, period, caller.display_name, caller.subject)
    return _detail(ctx, caller, period_id)


@router.post(
    "/periods/{period_id}/return", response_model=PeriodDetail, responses=WRITE, tags=["periods"]
)
def return_period(period_id: str, caller: Reviewer, ctx: Context) -> dict[str, Any]:
    """Send the run in review back to draft (say why in a comment)."""
    periods.return_to_draft(ctx.engine, _period(ctx, caller, period_id))
    return _detail(ctx, caller, period_id)


@router.post(
    "/periods/{period_id}/approve", response_model=PeriodDetail, responses=WRITE, tags=["periods"]
)
def approve_period(period_id: str, caller: Reviewer, ctx: Context) -> dict[str, Any]:
    """Approve the run in review (by another person than its submitter) and record it.

    The run and its lines are kept as a JSON document and recorded in the ledger; the entry's
    index and the document's SHA-256 are the run's receipt.
    """
    period = _period(ctx, caller, period_id)
    run = periods.run_in_review(ctx.engine, period, caller.subject)
    [saved] = [
        r for r in results.inventory_runs(ctx.engine, caller.organization_id)
        if r.id == run.inventory_id
    ]  # fmt: skip
    document = {
        "period": {"id": period.id, "start": period.period_start, "end": period.period_end},
        "run": {"id": run.id, "number": run.number, "reason": run.reason},
        "inventory_id": saved.id,
        "settings_hash": saved.settings_hash,
        "totals": saved.totals,
        "lines": results.inventory_lines_of(ctx.engine, caller.organization_id, saved.id),
        "submitted_by": run.submitted_by,
        "approved_by": caller.display_name,
        "approved_on": date.today().isoformat(),
    }
    body = json.dumps(document, ensure_ascii=False, sort_keys=True, default=str).encode()
    name = f"period-run-{run.id}.json"
    digest = Store(ctx.engine).save_document(name, body, "application/json")
    entry = report_entry(
        f"period-run-{run.id}", report_kind="period-run", files={name: digest}, copies_kept=True
    )
    index = Ledger(ctx.engine).append(entry)
    periods.approve(ctx.engine, period, run.id, caller.display_name, index, digest)
    return _detail(ctx, caller, period_id)


@router.post(
    "/periods/{period_id}/lock", response_model=PeriodDetail, responses=WRITE, tags=["periods"]
)
def lock_period(period_id: str, caller: Reviewer, ctx: Context) -> dict[str, Any]:
    """Lock the approved period: readings and activity values for its days are refused."""
    periods.lock(ctx.engine, _period(ctx, caller, period_id), caller.display_name)
    return _detail(ctx, caller, period_id)


@router.post(
    "/periods/{period_id}/reopen", response_model=PeriodDetail, status_code=201,
    responses=WRITE, tags=["periods"],
)  # fmt: skip
def reopen_period(period_id: str, body: ReopenIn, caller: Admin, ctx: Context) -> dict[str, Any]:
    """Reopen a locked period for restatement: a new draft run computed now, with the reason."""
    period = _period(ctx, caller, period_id)
    if period.state != "locked":
        raise periods.PeriodStateError(
            f"the period {period.period_start} – {period.period_end} is not locked",
            record=period.id,
            hint="only a locked period is reopened for restatement",
        )
    compute_run(ctx, caller, period, reason=body.reason)
    return _detail(ctx, caller, period_id)


@router.post(
    "/periods/{period_id}/comments", response_model=CommentOut, status_code=201,
    responses=WRITE, tags=["periods"],
)  # fmt: skip
def comment_period(
    period_id: str, body: CommentIn, caller: Commenter, ctx: Context
) -> dict[str, Any]:
    """Comment on the period's current run."""
    period = _period(ctx, caller, period_id)
    return vars_of(periods.add_comment(ctx.engine, period, caller.display_name, body.body))
