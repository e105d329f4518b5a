"""Setup in headless Chromium: a facility, its source and meter added, the meter linked from the
dashboard's suggestion, a monitoring-plan edit refused and saved — each checked in the store.

Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import results
from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE
from carbonlink.monitor.plan import load_template, plan_from_template

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser


@pytest.fixture
def store_url(store_service: Service) -> Iterator[str]:
    require_chromium()
    with served(store_service.app) as url:
        yield url


def _account_new_facility(service: Service, facility_id: str) -> None:
    """A saved inventory run that accounts the new facility from its yearly gas quantity."""
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    body = copy.deepcopy(INVENTORY_EXAMPLE)
    body["facilities"][0] |= {"id": facility_id, "name": "轧钢二厂 Rolling mill 2"}  # type: ignore[index]
    body["facilities"][0]["sources"] = body["facilities"][0]["sources"][:1]  # type: ignore[index]
    saved = client.post("/api/v1/inventories/compute", params={"save": True}, json=body)
    assert saved.status_code == 200, saved.text


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_an_editor_sets_up_a_facility_and_links_its_meter(
    store_service: Service, store_url: str
) -> None:
    errors: list[str] = []
    data = store_service.data
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.click("nav >> text=数据录入")
        page.click(".subnav >> text=设施、排放源与计量表")
        page.wait_for_url(f"{store_url}/setup")
        form = page.locator("#facility-new")
        form.get_by_label("设施名称").fill("轧钢二厂 Rolling mill 2")
        form.get_by_label("电网区域").fill("CN-East")
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{store_url}/setup/facilities/fac-*")
        facility_id = page.url.rsplit("/", 1)[1]
        [facility] = [f for f in data.facilities(DEMO_ORG_ID) if f.id == facility_id]
        assert (facility.name, facility.grid_region) == ("轧钢二厂 Rolling mill 2", "CN-East")

        # the dashboard's facility page suggests linking a meter; the suggestion is a link
        _account_new_facility(store_service, facility_id)
        page.goto(f"{store_url}/facilities/{facility_id}")
        page.click("#link-meter-to-source")
        page.wait_for_url(f"{store_url}/setup/facilities/{facility_id}#meters")

        source = page.locator("#source-new")
        source.get_by_label("排放源名称").fill("天然气锅炉 Gas boiler")
        source.get_by_label("方法").select_option("combustion")
        source.get_by_label("排放因子（t CO2e/单位）").fill("0.00216")
        source.get_by_label("活动数据单位").fill("Nm3")
        source.get_by_label("因子名称").fill("天然气 natural gas")
        source.get_by_label("出处").fill("GB/T 32151.1 附录 B")
        source.locator("button[type=submit]").click()
        page.wait_for_selector("#setup-sources >> text=天然气锅炉 Gas boiler")
        [boiler] = data.sources(DEMO_ORG_ID, facility_id)
        assert boiler.method == "combustion" and boiler.factor is not None
        assert (boiler.factor.co2e_t_per_unit, boiler.factor.activity_unit) == (0.00216, "Nm3")

        meter = page.locator("#meter-new")
        meter.get_by_label("计量表名称").fill("燃气总表 Gas main")
        meter.get_by_label("单位").fill("立方米")
        meter.locator("button[type=submit]").click()
        refusal = meter.locator(".form-error")
        refusal.wait_for()
        assert "立方米" in refusal.inner_text()
        assert data.meters(DEMO_ORG_ID, facility_id) == []  # nothing stored
        meter.get_by_label("单位").fill("Nm3")
        meter.locator("button[type=submit]").click()
        page.wait_for_selector("#setup-meters >> text=燃气总表 Gas main")
        [gas] = data.meters(DEMO_ORG_ID, facility_id)
        assert gas.source_id is None

        link = page.locator("#meter-link")
        link.get_by_label("计量表").select_option(gas.id)
        link.get_by_label("所属排放源").select_option(boiler.id)
        link.locator("button[type=submit]").click()
        page.wait_for_selector(f"#meter-{gas.id} >> text=天然气锅炉 Gas boiler")
        linked = data.meter(DEMO_ORG_ID, gas.id)
        assert linked is not None and linked.source_id == boiler.id
        page.screenshot(path=OUT / "setup-facility-zh.png", full_page=True)

        page.click(f"#meter-{gas.id} >> text=修改")
        page.wait_for_url(f"{store_url}/setup/meters/{gas.id}")
        page.get_by_label("采集间隔（秒）").fill("900")
        page.click("#meter-edit button[type=submit]")
        page.wait_for_url(f"{store_url}/setup/facilities/{facility_id}#meters")
        edited = data.meter(DEMO_ORG_ID, gas.id)
        assert edited is not None and edited.interval_s == 900

        page.goto(f"{store_url}/setup?lang=en")
        page.screenshot(path=OUT / "setup-en.png", full_page=True)
        page.goto(f"{store_url}/setup/facilities/{facility_id}")
        page.screenshot(path=OUT / "setup-facility-en.png", full_page=True)
        page.goto(f"{store_url}/setup/sources/{boiler.id}")
        page.screenshot(path=OUT / "setup-source-en.png", full_page=True)
        page.goto(f"{store_url}/setup/meters/{gas.id}?lang=zh")
        page.screenshot(path=OUT / "setup-meter-zh.png", full_page=True)
        page.goto(f"{store_url}/setup")
        page.screenshot(path=OUT / "setup-zh.png", full_page=True)
    # the one refusal the test provoked is logged by the browser; nothing else went wrong
    assert [e for e in errors if "status of 422" not in e] == []
    assert len(errors) == 1


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_plan_editor_offers_the_lists_and_refuses_an_unknown_meter(
    store_service: Service, store_url: str, engine: sa.Engine
) -> None:
    facility = "fac-steelmaking"
    plan = plan_from_template(
        facility,
        load_template("iron_steel"),
        {f"{facility}-gas": "fuel_combustion", f"{facility}-power": "purchased_electricity"},
        {f"{facility}-gas": [f"{facility}-m-gas"]},
    )
    results.save_plan(engine, DEMO_ORG_ID, plan, "seed")
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.goto(f"{store_url}/plans/{facility}?lang=zh")
        methods = page.locator("select[name='0-method'] option").all_inner_texts()
        assert "碳质量平衡" in methods and len(methods) == 9
        tiers = page.locator("select[name='0-tier'] option").all_inner_texts()
        assert tiers == ["1", "2", "2a", "2b", "3", "4", "n/a"]
        page.select_option("select[name='0-method']", "mass_balance")
        page.select_option("select[name='0-tier']", "2b")
        page.fill("input[name='0-meters']", f"{facility}-m-gas, {facility}-m-gas-9")
        page.click("#plan-save")
        message = page.locator("#plan-error").inner_text()
        assert f"没有计量表 {facility}-m-gas-9" in message
        assert len(results.plan_versions(engine, DEMO_ORG_ID, facility)) == 1
        page.screenshot(path=OUT / "plan-refused-zh.png", full_page=True)
        page.goto(f"{store_url}/plans/{facility}?lang=en")
        page.select_option("select[name='0-method']", "mass_balance")
        page.select_option("select[name='0-tier']", "2b")
        page.fill("input[name='0-meters']", f"{facility}-m-gas, {facility}-m-output")
        page.click("#plan-save")
        page.wait_for_selector("#plan-version >> text=2")
        latest = results.plan_versions(engine, DEMO_ORG_ID, facility)[0].plan.entries[0]
        assert (latest.method, latest.tier) == ("mass_balance", "2b")
        assert latest.meters == (f"{facility}-m-gas", f"{facility}-m-output")
        page.screenshot(path=OUT / "plan-en.png", full_page=True)
    assert [e for e in errors if "status of 422" not in e] == []
