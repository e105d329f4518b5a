"""Reports on demand: the /reports page and /api/v1/report-jobs (queue, poll, download).

See `carbonlink.api.report_jobs` for what a job does. The page's form posts to the API and
polls the job until it is done; the written file and its ledger receipt are then listed with
the organization's other generated files. An HTML report opens in the browser.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import Field

from carbonlink.api import report_jobs
from carbonlink.api.deps import Context, Reader, Writer
from carbonlink.api.routes.pages import _page_caller, _render
from carbonlink.api.routes.v1 import PREFIX, READ, READ_ONE, WRITE, ApiModel, not_found
from carbonlink.store import operations, results
from carbonlink.store.workspace import resolve_workspace_path

router = APIRouter(prefix=PREFIX)
pages = APIRouter(include_in_schema=False)
JobId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


class ReportJobIn(ApiModel):
    """A report to generate: which, for which period (saved run) and in which format."""

    report: Literal["inventory", "china", "reconcile", "cbam", "monitoring_plan"] = Field(
        examples=["inventory"]
    )
    period: str = Field(
        min_length=1,
        max_length=64,
        examples=["5a7e86bc1fe94cd79919bf2c73873d84"],
        description="id of a saved inventory run (GET /api/v1/inventories); for the "
        "monitoring plan, the facility id",
    )
    format: Literal["html", "pdf", "xlsx", "json"] = Field(
        examples=["pdf"], description="the CBAM communication: json or xlsx"
    )


class ReportJobOut(ApiModel):
    id: str = Field(examples=["0f3a9c1e2b3d4c5e6f708192a3b4c5d6"])
    report: str = Field(examples=["inventory"])
    period: str = Field(examples=["5a7e86bc1fe94cd79919bf2c73873d84"])
    format: str = Field(examples=["pdf"])
    status: Literal["queued", "running", "done", "failed"] = Field(examples=["running"])
    progress: int = Field(examples=[55], description="percent done")
    step: str | None = Field(examples=["building the report"])
    error: str | None = Field(examples=[None])
    ledger_index: int | None = Field(examples=[42], description="ledger entry of the file")
    file_url: str | None = Field(examples=["/api/v1/report-jobs/0f3a…/file"])
    receipt_url: str | None = Field(examples=["/api/v1/report-jobs/0f3a…/receipt"])
    created_by: str = Field(examples=["Li Wei"])
    created_at: datetime = Field(examples=["2026-12-07T08:00:00Z"])
    finished_at: datetime | None = Field(examples=["2026-12-07T08:00:09Z"])


def job_out(job: operations.ReportJob) -> ReportJobOut:
    base = f"{PREFIX}/report-jobs/{job.id}"
    return ReportJobOut(
        id=job.id,
        report=job.report,
        period=job.period,
        format=job.format,
        status=job.status,  # type: ignore[arg-type]
        progress=job.progress,
        step=job.step,
        error=job.error,
        ledger_index=job.ledger_index,
        file_url=f"{base}/file" if job.file else None,
        receipt_url=f"{base}/receipt" if job.receipt else None,
        created_by=job.created_by,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


@router.post(
    "/report-jobs",
    response_model=ReportJobOut,
    status_code=202,
    responses=WRITE,
    tags=["reports"],
)
def create_report_job(body: ReportJobIn, caller: Writer, ctx: Context) -> ReportJobOut:
    """Generate a report in the background; poll GET /api/v1/report-jobs/{job_id}."""
    org = caller.organization_id
    found = ctx.data.organization(org)
    job = report_jobs.start(
        ctx.settings,
        ctx.engine,
        org,
        report=body.report,
        period=body.period,
        fmt=body.format,
        who=caller.display_name,
        meters=[m.id for m in ctx.data.meters(org)],
        organization_name=found.name if found else org,
    )
    return job_out(job)


@router.get("/report-jobs", response_model=list[ReportJobOut], responses=READ, tags=["reports"])
def list_report_jobs(caller: Reader, ctx: Context) -> list[ReportJobOut]:
    """The organization's report jobs, newest first."""
    return [job_out(j) for j in operations.report_jobs_of(ctx.engine, caller.organization_id)]


def _job(ctx: Context, organization_id: str, job_id: str) -> operations.ReportJob:
    job = operations.report_job(ctx.engine, organization_id, job_id)
    if job is None:
        raise not_found("report-job", job_id)
    return job


@router.get(
    "/report-jobs/{job_id}", response_model=ReportJobOut, responses=READ_ONE, tags=["reports"]
)
def get_report_job(job_id: JobId, caller: Reader, ctx: Context) -> ReportJobOut:
    """One job: its status, progress and, when done, where its file and receipt are."""
    return job_out(_job(ctx, caller.organization_id, job_id))


@router.get(
    "/report-jobs/{job_id}/file",
    responses=READ_ONE,
    response_class=FileResponse,
    tags=["reports"],
)
def report_job_file(job_id: JobId, caller: Reader, ctx: Context) -> FileResponse:
    """The written report; an HTML report is shown in the browser, others are downloaded."""
    job = _job(ctx, caller.organization_id, job_id)
    if job.file is None:
        raise not_found("report file of job", job_id)
    path = resolve_workspace_path(job.file, ctx.settings.workspace)
    inline = "inline" if job.format == "html" else "attachment"
    return FileResponse(
        path, media_type=MEDIA[job.format], filename=path.name, content_disposition_type=inline
    )


@router.get(
    "/report-jobs/{job_id}/receipt",
    responses=READ_ONE,
    response_class=FileResponse,
    tags=["reports"],
)
def report_job_receipt(job_id: JobId, caller: Reader, ctx: Context) -> FileResponse:
    """The ledger receipt of the written report (verify it with `carbonlink ledger verify`)."""
    job = _job(ctx, caller.organization_id, job_id)
    if job.receipt is None:
        raise not_found("receipt of job", job_id)
    path = resolve_workspace_path(job.receipt, ctx.settings.workspace)
    return FileResponse(path, media_type="application/json", filename=path.name)


@pages.get("/reports")
def reports_page(request: Request, ctx: Context) -> HTMLResponse:
    caller = _page_caller(request, ctx)
    org = caller.organization_id
    return _render(
        request,
        ctx,
        "reports.html",
        caller,
        nav="reports",
        runs=results.current_runs(ctx.engine, org),
        planned=results.planned_facilities(ctx.engine, org),
        jobs=operations.report_jobs_of(ctx.engine, org),
        reports=report_jobs.REPORTS,
        formats=report_jobs.FORMATS,
    )
