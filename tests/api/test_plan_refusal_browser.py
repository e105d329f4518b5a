"""A refused monitoring-plan edit keeps what the person typed, in headless Chromium (zh and en).

Two entries are changed at once: entry 0's tier and sampling (valid) and entry 1's meters (a
meter that does not exist). The server refuses the edit: the page must come back with all three
values still in the form and the refusal beside the meters field; with the meter corrected, the
same form saves version 2 holding all the edits, checked in the store. Screenshots go to
``test-output/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import results
from carbonlink.monitor.plan import load_template, plan_from_template

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser
FACILITY = "fac-steelmaking"
UNKNOWN = f"{FACILITY}-m-power-9"
SAMPLING = "每批次取样 · one sample per delivery, lab report kept 5 years"


@pytest.fixture
def store_url(store_service: Service) -> Iterator[str]:
    require_chromium()
    with served(store_service.app) as url:
        yield url


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
@pytest.mark.parametrize(
    ("lang", "refusal"),
    [("zh", f"没有计量表 {UNKNOWN}"), ("en", f"no meter {UNKNOWN} in your organization")],
)
def test_a_refused_plan_edit_keeps_every_value_typed_and_shows_the_refusal_by_its_field(
    store_service: Service, store_url: str, engine: sa.Engine, lang: str, refusal: str
) -> None:
    plan = plan_from_template(
        FACILITY,
        load_template("iron_steel"),
        {f"{FACILITY}-gas": "fuel_combustion", f"{FACILITY}-power": "purchased_electricity"},
        {f"{FACILITY}-gas": [f"{FACILITY}-m-gas"]},
    )
    results.save_plan(engine, DEMO_ORG_ID, plan, "seed")
    assert plan.entries[0].tier != "3" and plan.entries[1].meters == ()
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.goto(f"{store_url}/plans/{FACILITY}?lang={lang}")
        page.select_option("select[name='0-tier']", "3")
        page.fill("input[name='0-sampling']", SAMPLING)
        page.fill("input[name='1-meters']", UNKNOWN)
        with page.expect_navigation():
            page.click("#plan-save")
        beside = page.locator("td:has(input[name='1-meters']) #plan-refusal")
        assert refusal in beside.inner_text()
        assert page.locator("#plan-refusal").count() == 1  # beside that field only
        assert page.locator("input[name='1-meters']").get_attribute("aria-invalid") == "true"
        assert page.locator("select[name='0-tier']").input_value() == "3"
        assert page.locator("input[name='0-sampling']").input_value() == SAMPLING
        assert page.locator("input[name='1-meters']").input_value() == UNKNOWN
        assert len(results.plan_versions(engine, DEMO_ORG_ID, FACILITY)) == 1
        page.screenshot(path=OUT / f"plan-refusal-kept-{lang}.png", full_page=True)

        page.fill("input[name='1-meters']", f"{FACILITY}-m-power")
        with page.expect_navigation():
            page.click("#plan-save")
        page.wait_for_selector("#plan-version >> text=2")
        assert page.locator("#plan-refusal").count() == 0
        page.screenshot(path=OUT / f"plan-refusal-saved-{lang}.png", full_page=True)
    latest, first = results.plan_versions(engine, DEMO_ORG_ID, FACILITY)
    assert first.plan == plan
    gas, power = latest.plan.entries
    assert (gas.tier, gas.sampling) == ("3", SAMPLING)
    assert power.meters == (f"{FACILITY}-m-power",)
    # what was not touched is saved as it was (the page's translated sentences map back)
    assert gas.method == plan.entries[0].method and gas.meters == plan.entries[0].meters
    assert power.sampling == plan.entries[1].sampling
    assert power.data_gap_procedure == plan.entries[1].data_gap_procedure
    assert [e for e in errors if "status of 422" not in e] == []
