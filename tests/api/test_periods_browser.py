"""Period close in headless Chromium: an editor computes the period from the stored data,
computes it again after new data and reads why the line changed, comments and submits it; an
auditor approves and locks it; an administrator reopens it for restatement. Each step is
checked in the store. Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from plant_fixture import DEMO_ORG_ID
from test_periods import GAS, as_user, steelmaking_2025

from carbonlink.ledger import Ledger
from carbonlink.store import periods

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.fixture
def store_url(store_service: Service) -> Iterator[str]:
    require_chromium()
    with served(store_service.app) as url:
        yield url


def _click(page: Page, form: str) -> None:
    page.click(f"#{form} button[type=submit]")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_compute_review_approve_lock_and_restate_a_period(
    store_service: Service, store_url: str, engine: sa.Engine
) -> None:
    editor_api = as_user(store_service, "editor")
    pid = editor_api.post("/api/v1/periods", json=steelmaking_2025()).json()["id"]
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.click("#period-close-link")
        page.wait_for_url(f"{store_url}/periods")
        assert "草稿" in page.locator("#period-list").inner_text()
        page.screenshot(path=OUT / "periods-zh.png", full_page=True)
        page.click(f"#period-list a[href='/periods/{pid}']")
        page.wait_for_url(f"{store_url}/periods/{pid}")
        _click(page, "compute")
        page.wait_for_selector("#current-run")
        [first] = periods.runs_of(engine, pid)
        assert first.state == "draft" and first.computed_by == "Test editor"
        assert "首次核算" in page.locator("#changes").inner_text()

        # new data for March arrives, the period is computed again: the line says why
        entered = editor_api.post(
            "/api/v1/activity-entries",
            json={"source_id": GAS, "period": "2025-03", "quantity": 1200, "unit": "kNm3"},
        )
        assert entered.status_code == 201
        _click(page, "compute")
        row = page.locator("#change-table tbody tr", has_text="CO2")
        row.wait_for()
        assert GAS in row.inner_text() and "新数据" in row.inner_text()
        assert "2,162.189" in row.inner_text() and "2,594.627" in row.inner_text()  # × 1.2
        second, superseded = periods.runs_of(engine, pid)
        assert (second.state, superseded.state) == ("draft", "superseded")

        page.fill("#comment textarea[name=body]", "3 月天然气量按结算单更新")
        _click(page, "comment")
        page.wait_for_selector("ol.comments li")
        [note] = periods.comments_of(engine, pid)
        assert (note.author, note.run_id) == ("Test editor", second.id)
        _click(page, "submit")
        page.wait_for_selector("#period-state >> text=审核中")
        assert periods.runs_of(engine, pid)[0].submitted_by == "Test editor"
        page.goto(f"{store_url}/periods/{pid}?lang=en")
        page.screenshot(path=OUT / "period-review-en.png", full_page=True)
        page.goto(f"{store_url}/periods/{pid}?lang=zh")
        assert page.locator("#approve").count() == 0  # an editor does not approve
        page.screenshot(path=OUT / "period-review-zh.png", full_page=True)

        reviewer = new_page(browser, errors)
        log_in(reviewer, store_url, store_service.users["auditor"])
        reviewer.click("#period-close-link")  # the overview now shows the saved run
        reviewer.click(f"#period-list a[href='/periods/{pid}']")
        reviewer.wait_for_url(f"{store_url}/periods/{pid}")
        _click(reviewer, "approve")
        reviewer.wait_for_selector("#receipt")
        approved = periods.runs_of(engine, pid)[0]
        assert (approved.state, approved.approved_by) == ("approved", "Test auditor")
        assert approved.ledger_index is not None
        receipt = Ledger(engine).entry(approved.ledger_index).content()
        assert receipt["files"] == {f"period-run-{approved.id}.json": approved.receipt_sha256}
        assert f"账本条目 {approved.ledger_index}" in reviewer.locator("#receipt").inner_text()
        _click(reviewer, "lock")
        reviewer.wait_for_selector("#period-state >> text=已锁定")
        reviewer.screenshot(path=OUT / "period-locked-zh.png", full_page=True)
        reviewer.set_viewport_size({"width": 390, "height": 844})
        reviewer.screenshot(path=OUT / "period-locked-zh-390.png", full_page=True)
        reviewer.set_viewport_size({"width": 1440, "height": 900})
        locked = periods.period_of(engine, DEMO_ORG_ID, pid)
        assert locked is not None and locked.state == "locked"
        late = editor_api.post(
            "/api/v1/activity-entries",
            json={"source_id": GAS, "period": "2025-12", "quantity": 5, "unit": "kNm3"},
        )
        assert late.status_code == 422 and "is locked" in late.json()["detail"]

        admin = new_page(browser, errors, locale="en-US")
        log_in(admin, store_url, store_service.users["admin"])
        admin.goto(f"{store_url}/periods/{pid}?lang=en")
        admin.fill("#reopen input[name=reason]", "Supplier corrected the December invoice")
        _click(admin, "reopen")
        admin.wait_for_selector("#period-state >> text=Draft")
        runs = periods.runs_of(engine, pid)
        assert [r.state for r in runs] == ["draft", "restated", "superseded"]
        assert runs[0].reason == "Supplier corrected the December invoice"
        history = admin.locator("#run-history").inner_text()
        assert "Restated" in history and "Supplier corrected the December invoice" in history
        admin.screenshot(path=OUT / "period-restated-en.png", full_page=True)
        # the next year is opened from this one, in the page
        admin.fill("#open-period input[name=start]", "2026-01-01")
        admin.fill("#open-period input[name=end]", "2026-12-31")
        _click(admin, "open-period")
        # the page moves to the period it opened (the reopened one was a draft already)
        admin.wait_for_url(lambda url: f"/periods/{pid}" not in url)
        admin.wait_for_selector("#period-state >> text=Draft")
        opened = [
            p for p in periods.periods_of(engine, DEMO_ORG_ID) if p.period_end == "2026-12-31"
        ]
        assert [(p.period_start, p.created_by, p.state) for p in opened] == [
            ("2026-01-01", "Test admin", "draft")
        ]
        origin = periods.period_of(engine, DEMO_ORG_ID, pid)
        assert origin is not None
        assert opened[0].document["facilities"] == origin.document["facilities"]
        assert admin.url.endswith(f"/periods/{opened[0].id}")
        admin.goto(f"{store_url}/periods?lang=en")
        admin.screenshot(path=OUT / "periods-en.png", full_page=True)
    assert errors == []


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_open_the_first_period_from_an_inventory_file(
    store_service: Service, store_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    import yaml

    inventory = tmp_path / "steelmaking-2025.yaml"
    document = steelmaking_2025() | {"period": {"start": "2023-01-01", "end": "2023-12-31"}}
    inventory.write_text(yaml.safe_dump(document, allow_unicode=True), "utf-8")
    before = {p.id for p in periods.periods_of(engine, DEMO_ORG_ID)}
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.click("#period-close-link")
        page.wait_for_url(f"{store_url}/periods")
        page.screenshot(path=OUT / "periods-open-file-zh.png", full_page=True)
        # a refusal is shown beside the form, in the page, and nothing is opened
        page.set_input_files("#open-period-file input[name=file]", inventory)
        page.fill("#open-period-file input[name=start]", "2026-12-31")
        page.fill("#open-period-file input[name=end]", "2026-01-01")
        page.click("#open-period-file button[type=submit]")
        refusal = page.locator("#open-period-file .form-error")
        refusal.wait_for()
        assert "before the first day" in refusal.inner_text()
        assert {p.id for p in periods.periods_of(engine, DEMO_ORG_ID)} == before

        page.fill("#open-period-file input[name=start]", "")
        page.fill("#open-period-file input[name=end]", "")
        page.click("#open-period-file button[type=submit]")
        page.wait_for_url(lambda url: "/periods/" in url)
        page.wait_for_selector("#period-state >> text=草稿")
        [opened] = [p for p in periods.periods_of(engine, DEMO_ORG_ID) if p.id not in before]
        assert page.url.endswith(f"/periods/{opened.id}")
        assert (opened.period_start, opened.period_end, opened.created_by) == (
            "2023-01-01",
            "2023-12-31",
            "Test editor",
        )
        _click(page, "compute")
        page.wait_for_selector("#current-run")
        [run] = periods.runs_of(engine, opened.id)
        assert (run.state, run.computed_by) == ("draft", "Test editor")

        viewer = new_page(browser, errors, locale="en-US")
        log_in(viewer, store_url, store_service.users["viewer"])
        viewer.goto(f"{store_url}/periods?lang=en")
        assert viewer.locator("#open-period-file").count() == 0  # viewers only read
        page.goto(f"{store_url}/periods?lang=en")
        page.screenshot(path=OUT / "periods-open-file-en.png", full_page=True)
    # the one refusal the test asked for is the only error the browser logged
    assert [e for e in errors if "status of 422" not in e] == []
