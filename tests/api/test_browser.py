"""The dashboard in headless Chromium: log in, overview, drill down to raw readings, language.

Screenshots go to ``test-output/browser/`` at the project root.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served, submit_log_in

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_log_in_drill_down_and_switch_language(service: Service, base_url: str) -> None:
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)

        page.goto(f"{base_url}/")
        assert page.url.endswith("/login")
        page.screenshot(path=OUT / "01-login.png")
        submit_log_in(page, base_url, service.users["editor"])
        page.wait_for_selector("#chart-months canvas")
        assert page.locator("h1").inner_text() == "排放总览"
        page.screenshot(path=OUT / "02-overview-zh.png", full_page=True)

        page.click("text=炼钢厂 Steelmaking")
        page.wait_for_selector("text=排放源")
        page.screenshot(path=OUT / "03-facility.png", full_page=True)
        page.click("text=天然气燃烧 Natural gas")
        page.wait_for_selector("text=中国钢铁生产企业温室气体排放核算方法", state="attached")
        page.screenshot(path=OUT / "04-source.png", full_page=True)
        page.click("text=天然气总表 Gas main")
        page.wait_for_selector("#readings-table")
        first_row = page.locator("#readings-table tbody tr").first.inner_text()
        assert "2026年11月" in first_row  # a raw reading, in the facility's local time
        page.screenshot(path=OUT / "05-meter-readings.png", full_page=True)

        page.click("a[data-lang=en]")
        page.wait_for_selector("text=Raw readings")
        page.goto(f"{base_url}/")
        page.wait_for_selector("#chart-months canvas")
        assert page.locator("h1").inner_text() == "Emissions overview"
        assert page.locator("text=Total emissions").count() == 1
        page.screenshot(path=OUT / "06-overview-en.png", full_page=True)
        page.goto(f"{base_url}/quality")
        page.screenshot(path=OUT / "07-quality-en.png", full_page=True)
        page.goto(f"{base_url}/factors?q=grid_average&lang=zh")
        page.wait_for_selector("text=cn-mee-nbs/grid_average/CN/2022")
        page.screenshot(path=OUT / "08-factors-zh.png", full_page=False)
    assert errors == []


@pytest.fixture(scope="module")
def demo_workspace(demo_output: Path) -> Path:
    """The output folder of a full demo run (the real plant year when it is beside the project)."""
    return demo_output


def test_demo_workspace_in_the_browser(demo_workspace: Path) -> None:
    """The demo's real numbers: overview, a facility, the metered meter's anomaly, monitoring."""
    from carbonlink.api import create_app
    from carbonlink.demo.plant import default_plant_file
    from carbonlink.demo.service import set_demo_users
    from carbonlink.settings import Settings

    require_chromium()
    app = create_app(
        Settings(workspace=demo_workspace / "workspace", argon2_time_cost=1, argon2_memory_kib=1024)
    )
    set_demo_users(app, "demo password for the test")
    inventory = json.loads((demo_workspace / "inventory.json").read_text("utf-8"))
    errors: list[str] = []
    with served(app) as base_url, chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, "engineer@demo.carbonlink.example", "demo password for the test")
        page.wait_for_selector("#chart-facilities canvas")
        # the engine's scope 1 total of the 2025 inventory, in the Chinese number format
        scope1 = f"{inventory['totals']['scope1']:,.1f}"
        assert scope1 in page.locator(".kpis").inner_text()
        page.screenshot(path=OUT / "11-demo-overview-zh.png", full_page=True)

        page.click("#facilities-table >> text=Tangshan integrated works (BF-BOF)")
        page.wait_for_selector("#sources-table")
        page.screenshot(path=OUT / "12-demo-facility.png", full_page=True)
        page.click("#sources-table >> text=bf-coke")
        page.wait_for_selector("text=中国钢铁生产企业温室气体排放核算方法", state="attached")
        page.screenshot(path=OUT / "13-demo-source-factor.png", full_page=True)

        page.goto(f"{base_url}/")
        page.click("text=2018 · Demo Steel Co., Ltd. (metered rolling works)")
        page.wait_for_selector("#chart-months canvas")
        page.screenshot(path=OUT / "14-demo-metered-overview.png", full_page=True)
        page.click("#facilities-table >> text=Rolling works")
        page.click("#sources-table >> text=electricity")
        page.click('a[href="/meters/daewoo-gwangyang-electricity"]')
        page.wait_for_selector("#anomalies")
        if default_plant_file().exists():
            # the real year's Sunday run; a generated year may have no episode of two hours
            page.wait_for_selector("#episodes-table")
            episode = page.locator("#episodes-table a", has_text="2018年3月11日").first
            episode.click()
            page.wait_for_selector("#chart-band canvas")
            assert "2018年3月11日" in page.locator("tr.selected").inner_text()
        page.screenshot(path=OUT / "15-demo-meter-anomaly.png", full_page=True)
        page.locator("#anomalies").screenshot(path=OUT / "15b-demo-anomaly-band.png")

        page.goto(f"{base_url}/alerts")
        page.wait_for_selector("#alerts-closed")
        page.screenshot(path=OUT / "16-demo-alerts.png", full_page=True)
        page.goto(f"{base_url}/targets")
        page.wait_for_selector("#chart-pathway canvas")
        page.screenshot(path=OUT / "17-demo-targets.png", full_page=True)
        page.click("a[data-lang=en]")
        page.wait_for_selector("text=Target pathway")
        page.goto(f"{base_url}/ets")
        assert "CN-ETS" in page.locator(".kpis").inner_text()
        page.screenshot(path=OUT / "18-demo-ets-en.png", full_page=True)
        page.goto(f"{base_url}/")
        page.wait_for_selector("text=Total emissions")
        page.screenshot(path=OUT / "19-demo-overview-en.png", full_page=True)
        # the demo plan is version 1; an edit saves version 2 pointing at it
        page.goto(f"{base_url}/plans?lang=zh")
        assert page.locator("#plan-version").inner_text() == "1"
        page.fill("input[name='0-sampling']", "每批次取样 per batch")
        page.click("#plan-save")
        page.wait_for_selector("#plan-version >> text=2")
        assert page.locator("input[name='0-sampling']").input_value() == "每批次取样 per batch"
        assert page.locator("#plan-history tbody tr").count() == 2
        page.screenshot(path=OUT / "20-plan.png", full_page=True)
    assert errors == []
