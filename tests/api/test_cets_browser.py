"""The China ETS page in headless Chromium: an editor opens it from the top bar (Chinese), reads
the months × status grid and the calendar, deposits August, downloads its pack, switches to
English and prices the allocation. Screenshots go to ``test-output/browser/``."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from cets_seed import seed_cets
from plant_fixture import DEMO_ORG_ID

from carbonlink.ledger import ensure_ledger_key
from carbonlink.store import cets as store

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.fixture
def cets_url(service: Service, engine: sa.Engine) -> Iterator[str]:
    require_chromium()
    seed_cets(engine)
    ensure_ledger_key(service.app.state.ctx.settings.workspace)
    with served(service.app) as url:
        yield url


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_editor_reads_the_year_deposits_and_prices_it(
    service: Service, cets_url: str, engine: sa.Engine
) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, cets_url, service.users["editor"])
        page.click("#topnav a[href='/ets']")  # the top bar's ETS, then its China ETS tab
        page.wait_for_url(f"{cets_url}/ets")
        page.click(".subnav a[href='/cets']")
        page.wait_for_url(f"{cets_url}/cets")
        assert page.locator("h1").inner_text() == "全国碳市场月度管理"
        august = page.locator("#month-2025-08")
        assert "CETS-P1" in august.inner_text()
        assert "逾期" in august.inner_text() or "已完成" in august.inner_text()
        assert "配额清缴" in page.locator("#cets-calendar").inner_text()
        page.screenshot(path=OUT / "cets-zh.png", full_page=True)

        with page.expect_navigation():
            august.locator("button[type=submit]").click()
        page.wait_for_selector(".cets-flash")
        assert "cets-deposit-tangshan-2025-08" in page.locator(".cets-flash").inner_text()
        [deposit] = store.deposits_of(engine, DEMO_ORG_ID, "tangshan")
        assert deposit.month == "2025-08"
        with page.expect_download() as download:
            page.click("#month-2025-08 a[href*='/cets/pack']")
        archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
        assert "cets-deposit-tangshan-2025-08/summary.pdf" in archive.namelist()

        with page.expect_navigation():
            page.click("a[data-lang=en]")
        page.wait_for_selector("text=Compliance calendar")
        page.fill("#cets-allocation input[name=price]", "70")
        page.fill("#cets-allocation input[name=i_ironmaking]", "0.25")
        with page.expect_navigation():
            page.click("#cets-allocation button[type=submit]")
        page.wait_for_selector("#cets-surplus")
        assert "Deficit" in page.locator("#cets-surplus").inner_text()
        page.screenshot(path=OUT / "cets-en.png", full_page=True)
    assert errors == []
