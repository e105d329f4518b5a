"""Reports on demand, in headless Chromium: choose a report, a period and a format, watch the
background job, open the HTML in the browser and check the file's ledger receipt offline.

The workspace keeps the inventory file (as `carbonlink report … --record` keeps it) and the
organization has the run saved from it. Screenshots go to ``/work/shots/app16a`` when it
exists, else ``OUT``.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import yaml
from browser_support import OUT, chromium, log_in, new_page

from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE
from carbonlink.ledger import Receipt, ensure_ledger_key, verify_receipt
from carbonlink.reports.cbam_input import CBAM_INPUT_MEDIA_TYPE
from carbonlink.store import Store, operations
from carbonlink.store.workspace import resolve_workspace_path

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots/app16a") if Path("/work/shots/app16a").is_dir() else OUT
ORG = "org-demo-steel"


def _kept_run(service: Service, tmp_path: Path) -> str:
    """Keep the inventory file in the store and save its run for the organization."""
    engine = service.app.state.ctx.engine
    ensure_ledger_key(tmp_path)
    text = yaml.safe_dump(INVENTORY_EXAMPLE, allow_unicode=True)
    Store(engine).save_document("hot-strip-2025.yaml", text.encode(), "application/yaml")
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    saved = client.post("/api/v1/inventories/compute?save=true", json=INVENTORY_EXAMPLE)
    assert saved.status_code == 200, saved.text
    return str(saved.json()["run_id"])


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_an_editor_generates_a_report_and_opens_it_with_its_receipt(
    service: Service, base_url: str, tmp_path: Path
) -> None:
    run_id = _kept_run(service, tmp_path)
    engine = service.app.state.ctx.engine
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["editor"])
        page.goto(f"{base_url}/reports?lang=zh")
        page.screenshot(path=SHOTS / "reports-zh.png", full_page=True)
        form = page.locator("#report-form")
        form.locator("select[name=report]").select_option("inventory")
        form.locator("select[name=period]").select_option(run_id)
        form.locator("select[name=format]").select_option("html")
        form.locator("button[type=submit]").click()
        page.locator("#job-running").wait_for()  # the progress shows while the job runs
        link = page.locator("#files a.job-file")
        link.wait_for(timeout=60_000)
        page.screenshot(path=SHOTS / "reports-done-zh.png", full_page=True)
        with page.context.expect_page() as opened:
            link.click()
        report = opened.value
        report.wait_for_load_state()
        assert "Hot strip mill" in report.content()
        assert report.url.endswith("/file")
        page.goto(f"{base_url}/reports?lang=en")
        page.screenshot(path=SHOTS / "reports-en.png", full_page=True)
    [job] = operations.report_jobs_of(engine, ORG)
    assert (job.status, job.progress, job.report, job.period) == ("done", 100, "inventory", run_id)
    written = resolve_workspace_path(job.file or "", tmp_path)
    receipt = Receipt.parse(resolve_workspace_path(job.receipt or "", tmp_path).read_bytes())
    checked = verify_receipt(receipt, ensure_ledger_key(tmp_path), files=[written])
    assert checked.index == job.ledger_index
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_program_polls_a_job_and_a_report_without_its_file_fails_with_the_reason(
    service: Service, tmp_path: Path
) -> None:
    run_id = _kept_run(service, tmp_path)
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf

    def finished(job_id: str) -> dict[str, object]:
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            now = client.get(f"/api/v1/report-jobs/{job_id}").json()
            seen.append(now["progress"])
            if now["status"] in ("done", "failed"):
                assert seen == sorted(seen)  # progress only goes forward
                return dict(now)
            time.sleep(0.05)
        raise AssertionError(f"job {job_id} did not finish: {seen[-5:]}")

    started = client.post(
        "/api/v1/report-jobs", json={"report": "china", "period": run_id, "format": "pdf"}
    )
    assert started.status_code == 202, started.text
    done = finished(started.json()["id"])
    assert done["status"] == "done", done["error"]
    pdf = client.get(str(done["file_url"]))
    assert pdf.content.startswith(b"%PDF") and "attachment" in pdf.headers["content-disposition"]

    # a CBAM input that states its own figures, for the run's facility (the demo's inputs read
    # theirs from the demo enterprise's dataset, which this run is not)
    cbam = """
installation:
  {name: Hot strip mill, operator: Demo Steel Co., street: 1 Road, city: Tangshan,
   post_code: "063000", country: CN, unlocode: CNTGS, latitude: 39.63, longitude: 118.18}
period: {start: 2025-01-01, end: 2025-12-31}
processes:
  - id: hot-rolling
    name: Hot rolling
    goods_category: Iron or steel products
    activity_level_t: 1000
    direct_emissions_t: 120
    electricity: {consumed_mwh: 100, ef_t_per_mwh: 0.6, ef_source_code: "D.4(b)"}
    goods: [{cn_code: "72083900", name: Hot-rolled coil}]
"""
    engine = service.app.state.ctx.engine
    Store(engine).save_document("hot-strip-cbam.yaml", cbam.encode(), CBAM_INPUT_MEDIA_TYPE)
    refused = client.post(
        "/api/v1/report-jobs", json={"report": "cbam", "period": run_id, "format": "pdf"}
    )
    assert refused.status_code == 422 and "JSON or XLSX" in refused.json()["detail"]
    started = client.post(
        "/api/v1/report-jobs", json={"report": "cbam", "period": run_id, "format": "xlsx"}
    )
    done = finished(started.json()["id"])
    assert done["status"] == "done", done["error"]
    workbook = client.get(str(done["file_url"])).content
    assert workbook.startswith(b"PK")  # an XLSX (zip) file

    other = INVENTORY_EXAMPLE | {"organization": "Not kept Ltd."}
    unkept = client.post("/api/v1/inventories/compute?save=true", json=other).json()["run_id"]
    started = client.post(
        "/api/v1/report-jobs", json={"report": "inventory", "period": unkept, "format": "json"}
    )
    failed = finished(started.json()["id"])
    assert failed["status"] == "failed"
    assert "not kept in the store" in str(failed["error"])
    unknown = client.post(
        "/api/v1/report-jobs", json={"report": "inventory", "period": "nope", "format": "json"}
    )
    assert unknown.status_code == 422 and "nope" in unknown.json()["detail"]
    viewer, viewer_csrf = service.login(service.users["viewer"])
    viewer.headers["X-CSRF-Token"] = viewer_csrf
    assert viewer.post("/api/v1/report-jobs", json={"bogus": 1}).status_code == 403


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_job_the_service_stopped_running_is_shown_as_interrupted(service: Service) -> None:
    """A job row left queued or running by a service that stopped is not 'running' for ever:
    with no progress for ten minutes it reads as failed, with what to do; a job that records
    progress stays running."""
    import sqlalchemy as sa

    from carbonlink.store.results_schema import report_jobs

    engine = service.app.state.ctx.engine
    stopped = operations.create_report_job(
        engine, ORG, report="inventory", period="run-1", fmt="pdf", who="Test editor"
    )
    alive = operations.create_report_job(
        engine, ORG, report="inventory", period="run-1", fmt="pdf", who="Test editor"
    )
    operations.update_report_job(engine, stopped.id, status="running", progress=25)
    operations.update_report_job(engine, alive.id, status="running", progress=25)
    eleven_minutes_ago = datetime.now(UTC) - timedelta(minutes=11)
    with engine.begin() as conn:
        conn.execute(
            report_jobs.update()
            .where(report_jobs.c.id.in_([stopped.id, alive.id]))
            .values(created_at=eleven_minutes_ago, updated_at=eleven_minutes_ago)
        )
    operations.update_report_job(engine, alive.id, progress=55)  # it is still working
    client, _ = service.login(service.users["editor"])
    seen = client.get(f"/api/v1/report-jobs/{stopped.id}").json()
    assert seen["status"] == "failed" and "interrupted" in seen["error"]
    assert "generate the report again" in seen["error"]
    assert client.get(f"/api/v1/report-jobs/{alive.id}").json()["status"] == "running"
    listed = {j["id"]: j["status"] for j in client.get("/api/v1/report-jobs").json()}
    assert listed[stopped.id] == "failed" and listed[alive.id] == "running"
    with engine.connect() as conn:  # the row is left as the service wrote it
        assert (
            conn.scalar(sa.select(report_jobs.c.status).where(report_jobs.c.id == stopped.id))
            == "running"
        )
