"""Importing a file of readings in headless Chromium: upload, map, preview, import with progress,
then correct one quarantined row and discard another — each checked in the store.

Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from plant_fixture import DEMO_ORG_ID

from carbonlink.store import Store
from carbonlink.store.data_entry import batch_quarantine, recent_file_imports

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser
GAS = "fac-steelmaking-m-gas"
HOURS = 6000


@pytest.fixture
def store_url(store_service: Service) -> Iterator[str]:
    require_chromium()
    with served(store_service.app) as url:
        yield url


def _export(folder: Path) -> Path:
    """A plant log's export: day-first local times in Shanghai, end-stamped hours of 2025, then
    a row with text for a number, one naming a meter of another organization, and one repeating
    the first row (the same value: a duplicate)."""
    start = datetime(2025, 1, 1)
    lines = ["时间,表号,读数,单位"]
    for h in range(1, HOURS + 1):
        stamp = (start + timedelta(hours=h)).strftime("%d/%m/%Y %H:%M")
        lines.append(f"{stamp},{GAS},{400 + h % 50},Nm3")
    lines += [
        f"01/12/2025 03:00,{GAS},n/a,Nm3",
        "01/12/2025 04:00,mtr-other-power,10,MWh",
        lines[1],
    ]
    path = folder / "燃气表-2025.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    return path


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_an_editor_imports_a_file_and_settles_its_quarantine(
    store_service: Service, store_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    export = _export(tmp_path)
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.click("nav >> text=数据录入")
        page.wait_for_url(f"{store_url}/data/import")
        page.set_input_files("#upload-form input[type=file]", str(export))
        page.click("#upload-form button[type=submit]")
        page.wait_for_url(f"{store_url}/data/import/*")
        page.wait_for_selector("#sample thead th >> text=读数")
        # kept as received before anything was read
        [received] = recent_file_imports(engine, DEMO_ORG_ID)
        assert Store(engine).document(received.document_sha256).body == export.read_bytes()
        assert page.locator("select[name=time_column]").input_value() == "时间"
        assert page.locator("select[name=unit_column]").input_value() == "单位"
        page.get_by_label("日在前（01/02 为 2 月 1 日）").check()
        page.get_by_label("时间所在时区").fill("Asia/Shanghai")
        page.get_by_label("每行的时间戳为").select_option("end")
        page.click("#preview-button")
        first = page.locator("#preview-rows tbody tr").first
        first.wait_for()
        # 01:00 on 1 January 2025 in Shanghai, end of the hour, is 17:00 UTC the day before
        assert "2024-12-31 17:00:00 UTC" in first.inner_text()
        page.screenshot(path=OUT / "import-mapping-zh.png", full_page=True)
        assert page.locator("#preview-rejected tbody tr").count() == 0  # the bad rows come last

        page.click("#run-button")
        page.wait_for_selector("#result", timeout=60_000)
        assert page.locator("#count-stored").inner_text() == f"{HOURS:,}"
        assert page.locator("#count-duplicates").inner_text() == "1"
        assert page.locator("#count-quarantined").inner_text() == "2"
        [done] = recent_file_imports(engine, DEMO_ORG_ID)
        assert (done.status, done.stored, done.rows_done) == ("finished", HOURS, HOURS + 3)
        data = store_service.data
        at = datetime(2024, 12, 31, 17, tzinfo=UTC)
        reading = data.reading_at(DEMO_ORG_ID, GAS, at)
        assert reading is not None and reading.value == 401
        quarantine = page.locator("#quarantine")
        assert "数值处应为数字，却是文字" in quarantine.inner_text()
        assert "计量表不属于本企业" in quarantine.inner_text()
        page.screenshot(path=OUT / "import-result-zh.png", full_page=True)

        assert done.batch_id is not None
        text_row, foreign_row = batch_quarantine(engine, done.batch_id)
        row = page.locator(f"#held-{text_row.id}")
        row.locator("summary >> text=更正此行").click()
        form = row.locator("form.correct-form")
        form.get_by_label("时间（含 UTC 偏移）").fill("2025-12-01T03:00:00+08:00")
        form.get_by_label("数值").fill("402.5")
        form.get_by_label("单位").fill("MWh")
        form.get_by_label("处理原因").fill("据纸质记录补录")
        form.locator("button[type=submit]").click()
        refusal = form.locator(".form-error")
        refusal.wait_for()
        assert "MWh" in refusal.inner_text()  # checked like any reading: gas is not in MWh
        form.get_by_label("单位").fill("Nm3")
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"#held-{text_row.id} >> text=已更正")
        corrected = data.reading_at(DEMO_ORG_ID, GAS, datetime(2025, 11, 30, 19, tzinfo=UTC))
        assert corrected is not None and corrected.value == 402.5

        row = page.locator(f"#held-{foreign_row.id}")
        row.locator("summary >> text=舍弃…").click()
        row.locator("form.discard-form").get_by_label("处理原因").fill("不是本厂的表")
        row.locator("form.discard-form button[type=submit]").click()
        page.wait_for_selector(f"#held-{foreign_row.id} >> text=已舍弃")
        settled = {r.id: r.resolution for r in batch_quarantine(engine, done.batch_id)}
        assert "据纸质记录补录" in (settled[text_row.id] or "")
        assert "不是本厂的表" in (settled[foreign_row.id] or "")
        page.screenshot(path=OUT / "import-settled-zh.png", full_page=True)

        page.goto(f"{store_url}/data/import/{done.id}?lang=en")
        page.screenshot(path=OUT / "import-result-en.png", full_page=True)
        page.goto(f"{store_url}/data/import")
        page.screenshot(path=OUT / "import-index-en.png", full_page=True)
        page.goto(f"{store_url}/data/import?lang=zh")
        page.screenshot(path=OUT / "import-index-zh.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{store_url}/data/import/{done.id}")
        page.screenshot(path=OUT / "import-result-zh-390.png", full_page=True)
    assert [e for e in errors if "status of 422" not in e] == []


def _workbook(folder: Path) -> Path:
    """A logger's workbook: one column per meter, start-stamped quarter hours of 2 March 2025
    as date cells, local time in Shanghai."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "能耗"
    sheet.append(["时间", "燃气", "进线电量", "备注"])
    start = datetime(2025, 3, 2)
    for q in range(96):
        sheet.append([start + timedelta(minutes=15 * q), 100 + q, 1.5, ""])
    path = folder / "能耗日报-20250302.xlsx"
    book.save(path)
    return path


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_a_workbook_with_one_column_per_meter_is_imported(
    store_service: Service, store_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    book = _workbook(tmp_path)
    power = "fac-steelmaking-m-power"
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors, locale="en-US")
        log_in(page, store_url, store_service.users["editor"])
        page.goto(f"{store_url}/data/import?lang=en")
        page.set_input_files("#upload-form input[type=file]", str(book))
        page.click("#upload-form button[type=submit]")
        page.wait_for_selector("#sample thead th >> text=进线电量")
        page.get_by_label("one column per meter").check()
        page.select_option("#wide-columns select[aria-label='燃气']", GAS)
        page.select_option("#wide-columns select[aria-label='进线电量']", power)
        assert page.locator("#wide-columns input[aria-label='燃气']").input_value() == "Nm3"
        page.get_by_label("Each row is stamped with").select_option("start")
        page.click("#preview-button")
        first = page.locator("#preview-rows tbody tr").first
        first.wait_for()
        # 00:00 on 2 March in Shanghai is 16:00 UTC on 1 March
        assert "2025-03-01 16:00:00 UTC" in first.inner_text()
        page.screenshot(path=OUT / "import-wide-preview-en.png", full_page=True)
        page.click("#run-button")
        page.wait_for_selector("#result", timeout=60_000)
        assert page.locator("#count-stored").inner_text() == "192"
        assert page.locator("#count-quarantined").inner_text() == "0"
        page.screenshot(path=OUT / "import-wide-result-en.png", full_page=True)
    data = store_service.data
    gas = data.reading_at(DEMO_ORG_ID, GAS, datetime(2025, 3, 1, 16, 15, tzinfo=UTC))
    assert gas is not None and (gas.value, gas.unit) == (101, "Nm3")
    meter = data.reading_at(DEMO_ORG_ID, power, datetime(2025, 3, 2, 15, 45, tzinfo=UTC))
    assert meter is not None and (meter.value, meter.unit) == (1.5, "MWh")
    assert errors == []
