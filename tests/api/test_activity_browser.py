"""Activity values in headless Chromium: a month's gas entered with its evidence, then
corrected with a reason; the trail (who, when, old → new, why) is on the page and in the store.

Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from plant_fixture import DEMO_ORG_ID

from carbonlink.ledger import Ledger
from carbonlink.store import Store
from carbonlink.store.data_entry import activity_history

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.fixture
def store_url(store_service: Service) -> Iterator[str]:
    require_chromium()
    with served(store_service.app) as url:
        yield url


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_an_editor_enters_a_value_with_evidence_and_corrects_it(
    store_service: Service, store_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    ticket = tmp_path / "11月天然气结算单.txt"
    ticket.write_text("华东燃气 2026-11 结算：1 280.5 千立方米\n", "utf-8")
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.click("nav >> text=数据录入")
        page.click(".subnav >> text=活动数据填报")
        page.wait_for_url(f"{store_url}/data/activity")
        form = page.locator("#activity-new")
        form.get_by_label("排放源").select_option("fac-steelmaking-gas")
        form.get_by_label("月份").fill("2026-11")
        form.get_by_label("数量").fill("1280.5")
        form.get_by_label("单位").fill("MWh")
        form.get_by_label("备注").fill("按燃气公司结算单")
        form.get_by_label("佐证材料（发票、过磅单、化验报告）").set_input_files(str(ticket))
        form.locator("button[type=submit]").click()
        refusal = form.locator(".form-error")
        refusal.wait_for()
        assert "cannot be converted to Nm3" in refusal.inner_text()
        assert activity_history(engine, DEMO_ORG_ID) == []
        form.get_by_label("单位").fill("kNm3")
        form.locator("button[type=submit]").click()
        page.wait_for_selector("#entries tbody tr")
        [first] = activity_history(engine, DEMO_ORG_ID)
        assert (first.period, first.quantity, first.unit) == ("2026-11", 1280.5, "kNm3")
        assert first.entered_by == "Test editor" and first.note == "按燃气公司结算单"
        digest = hashlib.sha256(ticket.read_bytes()).hexdigest()
        assert first.evidence_sha256 == digest
        assert Store(engine).document(digest).body == ticket.read_bytes()
        assert first.evidence_ledger_index is not None
        recorded = Ledger(engine).entry(first.evidence_ledger_index).content()
        assert recorded["files"] == {ticket.name: digest}

        row = page.locator(f"#entry-{first.id}")
        row.locator("summary >> text=更正数值").click()
        row.get_by_label("数量").fill("1208.5")
        row.get_by_label("更正原因").fill("录入时数字颠倒")
        row.locator("button[type=submit]").click()
        page.wait_for_selector("ol.trail li")
        trail = page.locator("ol.trail").inner_text()
        assert "Test editor" in trail and "1,280.500 kNm3 → 1,208.500 kNm3" in trail
        assert "录入时数字颠倒" in trail
        old, new = activity_history(engine, DEMO_ORG_ID)
        assert (old.id, old.quantity) == (first.id, 1280.5)  # the old value stays as it was
        assert (new.supersedes, new.quantity, new.reason) == (first.id, 1208.5, "录入时数字颠倒")
        assert new.evidence_sha256 == digest
        page.screenshot(path=OUT / "activity-zh.png", full_page=True)
        with page.expect_download() as download:
            page.click(f"#entry-{new.id} a >> text={ticket.name}")
        assert Path(download.value.path()).read_bytes() == ticket.read_bytes()
        page.goto(f"{store_url}/data/activity?lang=en")
        page.screenshot(path=OUT / "activity-en.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto(f"{store_url}/data/activity?lang=zh")
        page.screenshot(path=OUT / "activity-zh-390.png", full_page=True)
    assert [e for e in errors if "status of 422" not in e] == []
