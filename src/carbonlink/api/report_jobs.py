"""Reports generated on demand, as background jobs of the service.

A person picks a report, one of the organization's saved inventory runs (its period) and a
format; a job row is queued and a worker thread of the service does the work, writing its
progress to the row as it goes, so that any worker process can answer the polling:

1. the run's inventory file is found among the files the store keeps (by the hash of its
   content, the run's ``settings_hash``) and accounted again, in the workspace, which appends a
   ``calculation-run`` entry to the ledger;
2. the report is built from that computation and written under ``<workspace>/reports/on-demand``;
3. the written file is recorded in the ledger (``record_rendered_report``), citing the run, and
   its receipt (``*.tlog-proof``) is written beside it.

The monitoring plan report is built from the organization's latest plan version instead.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from carbonlink.errors import CarbonlinkError, InputError
from carbonlink.settings import Settings
from carbonlink.store import Store, operations, results
from carbonlink.store.workspace import workspace_path

log = logging.getLogger("carbonlink.api")
REPORTS = ("inventory", "china", "reconcile", "cbam", "monitoring_plan")
FORMATS = ("html", "pdf", "xlsx", "json")


def start(
    settings: Settings,
    engine: sa.Engine,
    organization_id: str,
    *,
    report: str,
    period: str,
    fmt: str,
    who: str,
    meters: Sequence[str] = (),
    organization_name: str = "",
) -> operations.ReportJob:
    """Check the request, queue the job and start its worker thread; return the queued job."""
    if report == "cbam" and fmt not in ("json", "xlsx"):
        raise InputError(
            f"a CBAM communication is written as JSON or XLSX, not {fmt}",
            record=report,
            hint="choose json or xlsx",
        )
    if report != "monitoring_plan":
        runs = {r.id for r in results.current_runs(engine, organization_id)}
        if period not in runs:
            raise InputError(
                f"no saved inventory run {period!r} in your organization",
                record=period,
                hint="choose a period among GET /api/v1/inventories",
            )
    elif not results.plan_versions(engine, organization_id, period):
        raise InputError(
            f"facility {period!r} has no monitoring plan",
            record=period,
            hint="choose a facility that has a plan (see /plans)",
        )
    job = operations.create_report_job(
        engine, organization_id, report=report, period=period, fmt=fmt, who=who
    )
    worker = threading.Thread(
        target=run_job,
        args=(settings, engine, organization_id, job, tuple(meters), organization_name),
        name=f"report-job-{job.id}",
        daemon=True,
    )
    worker.start()
    return job


def run_job(
    settings: Settings,
    engine: sa.Engine,
    organization_id: str,
    job: operations.ReportJob,
    meters: tuple[str, ...] = (),
    organization_name: str = "",
) -> None:
    """Do one job, recording its progress; a failure is kept on the job with its reason."""

    def step(progress: int, text: str, **values: Any) -> None:
        operations.update_report_job(engine, job.id, progress=progress, step=text, **values)

    try:
        step(5, "starting", status="running")
        folder = settings.workspace / "reports" / "on-demand" / job.id
        folder.mkdir(parents=True, exist_ok=True)
        inputs: list[int] = []
        if job.report == "cbam":
            document = _cbam_document(engine, organization_id, job, step)
        elif job.report == "monitoring_plan":
            document = _plan_document(
                engine, organization_id, job.period, meters, organization_name
            )
        else:
            document, inputs = _inventory_document(settings, engine, organization_id, job, step)
        step(70, "writing the file")
        from carbonlink.reports.render import write_report

        target = folder / f"{job.report}.{job.format}"
        if job.report == "cbam":
            from carbonlink.reports.cbam import write_json, write_xlsx

            path = (write_json if job.format == "json" else write_xlsx)(document, target)
        else:
            path = write_report(document, target, job.format)
        step(85, "recording the file in the ledger")
        from carbonlink.ledger import Ledger, load_ledger_signer
        from carbonlink.provenance import record_rendered_report

        store = Store(engine)
        index, receipt = record_rendered_report(
            store,
            Ledger(engine),
            load_ledger_signer(settings.workspace),
            f"{job.report}-{job.id}",
            report_kind=job.report,
            paths=[path],
            inputs=inputs,
        )
        operations.update_report_job(
            engine,
            job.id,
            status="done",
            progress=100,
            step="done",
            file=workspace_path(path, settings.workspace),
            receipt=workspace_path(receipt, settings.workspace),
            ledger_index=index,
        )
    except CarbonlinkError as exc:
        operations.update_report_job(engine, job.id, status="failed", error=str(exc))
    except Exception as exc:  # a job must end, whatever went wrong; the log has the trace
        log.exception("report job %s failed", job.id)
        operations.update_report_job(
            engine, job.id, status="failed", error=f"{type(exc).__name__}: {exc}"
        )


def _inventory_document(
    settings: Settings,
    engine: sa.Engine,
    organization_id: str,
    job: operations.ReportJob,
    step: Any,
) -> tuple[dict[str, Any], list[int]]:
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.ledger import Ledger
    from carbonlink.provenance import account_recorded

    step(10, "finding the run's inventory file")
    text, name = _kept_inventory(engine, organization_id, job)
    step(25, "accounting the inventory again")
    recorded = account_recorded(
        Ledger(engine), Store(engine), settings.workspace, text, file_name=name
    )
    step(55, "building the report")
    from carbonlink.reports.bundle import build_reports

    documents = build_reports(
        parse_inventory(text, file=name), recorded.computation, source_file=Path(name).name
    )
    return documents[job.report], [recorded.index]


def _kept_inventory(
    engine: sa.Engine, organization_id: str, job: operations.ReportJob
) -> tuple[str, str]:
    """(text, file name) of the kept inventory file the job's run was computed from."""
    from carbonlink.domain.inventory import parse_inventory

    [run] = [r for r in results.current_runs(engine, organization_id) if r.id == job.period]
    for kept_name, body in operations.kept_inventories(engine):
        try:
            candidate = body.decode("utf-8")
            inventory = parse_inventory(candidate, file=kept_name)
        except (CarbonlinkError, UnicodeDecodeError, ValueError):
            continue
        if results.settings_hash(inventory) == run.settings_hash:
            return candidate, kept_name
    raise InputError(
        f"the inventory file of run {run.id} ({run.year_label}) is not kept in the store",
        record=run.id,
        hint="account it in the workspace once (carbonlink report inventory FILE --record)",
    )


def _cbam_document(
    engine: sa.Engine, organization_id: str, job: operations.ReportJob, step: Any
) -> dict[str, Any]:
    """The CBAM communication of the run's installations: the kept CBAM input whose
    installation bears the name of one of the run's facilities."""
    from carbonlink.domain.cbam import compute_see
    from carbonlink.domain.inventory import parse_inventory
    from carbonlink.reports.cbam import build_communication
    from carbonlink.reports.cbam_input import CBAM_INPUT_MEDIA_TYPE, load_cbam_input

    step(10, "finding the installation's CBAM input")
    text, name = _kept_inventory(engine, organization_id, job)
    facilities = {f.name or f.id for f in parse_inventory(text, file=name).facilities}
    kept = operations.kept_documents(engine, CBAM_INPUT_MEDIA_TYPE)
    with tempfile.TemporaryDirectory(prefix="carbonlink-cbam-") as tmp:
        # The kept inputs side by side, as they were written: one may name another
        # (`cbam: FILE`), and one linked to an enterprise dataset reads the run's own inventory
        # under the file name it gives, so the communication states the run's figures.
        folder = Path(tmp)
        for kept_name, body in kept:
            (folder / Path(kept_name).name).write_bytes(body)
        for kept_name, body in kept:
            path = folder / Path(kept_name).name
            linked = _dataset_file(body)
            if linked is not None:
                target = (folder / linked).resolve()
                if not target.is_relative_to(folder.resolve()):
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, "utf-8")
            try:
                data = load_cbam_input(path)
            except CarbonlinkError:
                continue
            if data.installation.name in facilities:
                step(40, "computing the specific embedded emissions")
                return build_communication(data, compute_see(data))
    raise InputError(
        f"no CBAM input is kept for the facilities of run {job.period}",
        record=job.period,
        hint="keep the installation's CBAM input in the workspace (as carbonlink demo does)",
    )


def _dataset_file(body: bytes) -> str | None:
    """The enterprise dataset a CBAM input names (``dataset: {file: …}``), if any."""
    import yaml

    try:
        raw = yaml.safe_load(body.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError):
        return None
    link = raw.get("dataset") if isinstance(raw, dict) else None
    wanted = link.get("file") if isinstance(link, dict) else None
    return wanted if isinstance(wanted, str) and wanted else None


def _plan_document(
    engine: sa.Engine,
    organization_id: str,
    facility_id: str,
    meters: tuple[str, ...],
    organization_name: str,
) -> dict[str, Any]:
    from dataclasses import asdict

    from carbonlink.monitor.plan import completeness, load_template
    from carbonlink.reports.monitoring_plan import build_plan_report

    stored = results.plan_versions(engine, organization_id, facility_id)[0]
    template = load_template(stored.plan.template_id)
    findings = [asdict(f) for f in completeness(stored.plan, template, list(meters))]
    return build_plan_report(
        stored.plan.model_dump(mode="json") | {"content_hash": stored.content_hash},
        template.model_dump(mode="json"),
        findings,
        organization=organization_name,
    )
