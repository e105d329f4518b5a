"""The CBAM importer page in headless Chromium, in Chinese and English, on a desk and a phone.

An editor uploads a customs file (one row has a typing error), the Tangshan works' communication
with its carbon price paid, and reads how each line was matched, the quarantined row, the 2026
declaration, its certificates and cost. Hand-worked numbers (see tests/cbam_import):

- 100 t Indian HRC, default 4.28 × 1.10 → 470.8 t; FAA 100 × 1.370 × 0.975 = 133.575; net 337.225.
- 1 000 t from Tangshan, actual 1.5 → 1 500 t; FAA 1 335.75; net 164.25; 5 EUR/t paid on
  1 500 t = 7 500 / 75.36 = 99.522293 certificates; obligation 64.727707.
- Embedded 1 970.8 t; obligation 401.952707 → 402 certificates; at the Q1 2026 price 75.36 EUR
  401.952707 × 75.36 = 30 291.16 EUR; projected at 80 EUR: 402 × 80 = 32 160 EUR.

Screenshots go to ``test-output/browser/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from plant_fixture import DEMO_ORG_ID

from carbonlink.cbam_import.lines import COLUMNS
from carbonlink.cbam_import.store import load_lines, quarantined

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.browser

COMMUNICATION = {
    "installation": {"name": "Tangshan works", "address": {"country": "CN"}},
    "reporting_period": {"start": "2025-01-01", "end": "2025-12-31"},
    "goods": [{"cn_code": "72083900", "see_direct": 1.5, "see_indirect": 0.4, "route": "BF-BOF"}],
    "verifier": {"company": "Demo verifier (not accredited)"},
    "carbon_price_paid": [
        {"cn_code": "72083900", "amount_eur_per_t_co2e": 5.0, "evidence": "CEA surrender 2025"}
    ],
}


@pytest.fixture
def store_url(store_service: Service) -> Iterator[str]:
    require_chromium()
    with served(store_service.app) as url:
        yield url


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_import_match_declare_in_zh_and_en(
    store_service: Service, store_url: str, engine: sa.Engine, tmp_path: Path
) -> None:
    customs = tmp_path / "customs-2026.csv"
    customs.write_text(
        "\n".join(
            (
                ",".join(COLUMNS),
                "DE26-1,1,2026-02-10,72083900,100,IN,IN-MILL,Odisha mill",
                "DE26-2,1,2026-03-01,72083900,1000,CN,CN-TANGSHAN,Demo Steel",
                "DE26-2,2,2026-03-01,72083900,1O0,CN,CN-TANGSHAN,Demo Steel",
            )
        )
        + "\n",
        encoding="utf-8",
    )
    communication = tmp_path / "cbam-tangshan.json"
    communication.write_text(json.dumps(COMMUNICATION), encoding="utf-8")
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, store_url, store_service.users["editor"])
        page.click("#topnav a[href='/cbam/exporter']")  # the top bar's CBAM, then its tab
        page.wait_for_url(f"{store_url}/cbam/exporter")
        page.click(".subnav a[href='/cbam/importer']")
        page.wait_for_url(f"{store_url}/cbam/importer")
        assert "尚无海关申报行" in page.locator("#cbam-lines").inner_text()

        page.set_input_files("#cbam-lines-form input[type=file]", str(customs))
        page.click("#cbam-lines-form button[type=submit]")
        page.wait_for_selector("#cbam-imported")
        assert "customs-2026.csv: 2 / 0 / 0 / 1" in page.locator("#cbam-imported").inner_text()
        assert len(load_lines(engine, DEMO_ORG_ID)) == 2
        (bad,) = quarantined(engine, DEMO_ORG_ID)
        assert bad.key == "DE26-2/2"
        assert "DE26-2/2" in page.locator("#cbam-quarantine").inner_text()

        page.fill("#cbam-communications input[name=installation_id]", "CN-TANGSHAN")
        page.set_input_files("#cbam-communications input[type=file]", str(communication))
        page.click("#cbam-communications button[type=submit]")
        page.wait_for_selector("#cbam-communications li")

        page.goto(f"{store_url}/cbam/importer?year=2026&price=80")
        tangshan = page.locator("#cbam-line-table tr[data-key='DE26-2/1']").inner_text()
        india = page.locator("#cbam-line-table tr[data-key='DE26-1/1']").inner_text()
        assert "实际值（供应商）" in tangshan and "Tangshan works 的排放通报" in tangshan
        assert "默认值 IN CN 7208，加成 10.0%" in india and "470.8" in india
        assert page.locator("#kpi-embedded").inner_text() == "1,970.8"
        assert page.locator("#kpi-certificates").inner_text() == "402"
        assert page.locator("#kpi-deduction").inner_text() == "99.5"
        assert page.locator("#kpi-cost").inner_text() == "30,291"
        assert page.locator("#kpi-projected").inner_text() == "32,160"
        page.screenshot(path=OUT / "cbam-importer-zh.png", full_page=True)

        page.click("a[data-lang=en]")
        page.wait_for_selector("h1:has-text('CBAM importer')")
        table = page.locator("#cbam-line-table").inner_text()
        assert (
            "Actual (supplier)" in table and "Communication of Tangshan works · verified" in table
        )
        assert "No communication from installation IN-MILL; default value IN CN 7208" in table
        assert "Certificates to surrender" in page.locator("#cbam-declaration").inner_text()
        quarters = page.locator("#cbam-quarters tbody tr").all_inner_texts()
        assert "75.36" in quarters[0] and "2026-04-07" in quarters[0]
        assert "not entered" in quarters[1]
        page.screenshot(path=OUT / "cbam-importer-en.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 1440, f"the English page is wider than the window ({width} px)"

        # A price for Q2 entered with its publication date is used at once.
        page.fill("#cbam-prices input[name=price_eur]", "70")
        page.select_option("#cbam-prices select[name=quarter]", "2")
        page.fill("#cbam-prices input[name=published]", "2026-07-06")
        page.click("#cbam-prices button[type=submit]")
        page.wait_for_selector("#cbam-price-table >> text=2026 Q2")

        for lang in ("zh", "en"):
            phone = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN")
            phone.on("pageerror", lambda e: errors.append(str(e)))
            phone.context.add_cookies(page.context.cookies())
            phone.goto(f"{store_url}/cbam/importer?year=2026&price=80&lang={lang}")
            phone.wait_for_selector("#kpi-certificates")
            width = phone.evaluate("document.documentElement.scrollWidth")
            assert width <= 392, f"the page scrolls sideways on a phone ({width} px)"
            phone.screenshot(path=OUT / f"cbam-importer-phone-{lang}.png", full_page=True)
            phone.close()
    assert errors == []


def test_a_viewer_sees_the_page_but_no_forms(store_service: Service) -> None:
    viewer, _ = store_service.login(store_service.users["viewer"])
    page = viewer.get("/cbam/importer")
    assert page.status_code == 200
    assert "cbam-lines-form" not in page.text
    refused = viewer.post("/cbam/importer/prices", data={"csrf_token": "x"})
    assert refused.status_code == 403


def test_a_broken_stored_communication_shows_a_message(
    store_service: Service, engine: sa.Engine
) -> None:
    from carbonlink.cbam_import.store import communications_table

    with engine.begin() as conn:
        conn.execute(
            communications_table.insert().values(
                organization_id=DEMO_ORG_ID,
                installation_id="X",
                document='{"goods": 1}',
                carbon_price_paid=None,
                saved_at=datetime.now(UTC),
            )
        )
    client, _ = store_service.login(store_service.users["editor"])
    page = client.get("/cbam/importer?lang=en")
    assert page.status_code == 200
    assert "a stored communication could not be read" in page.text


def test_hand_edited_stored_values_show_messages(store_service: Service, engine: sa.Engine) -> None:
    """A date that does not exist, a price's broken date, a good without default: 200 + why."""
    from carbonlink.cbam_import.store import lines_table, prices_table

    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(
            prices_table.insert().values(
                organization_id=DEMO_ORG_ID, year=2026, quarter=3, price_eur=70.0,
                published="someday", source="",
            )
        )  # fmt: skip
    client, _ = store_service.login(store_service.users["editor"])
    page = client.get("/cbam/importer?lang=en")
    assert page.status_code == 200
    assert "a stored certificate price could not be read" in page.text
    with engine.begin() as conn:
        conn.execute(prices_table.delete())
        conn.execute(
            lines_table.insert().values(
                organization_id=DEMO_ORG_ID, declaration="AL", item=1, released="2026-05-05",
                cn_code="76011000", net_mass_t=80.0, country="CN", installation_id="X",
                supplier="x", source_file="hand.csv", imported_at=now,
            )
        )  # fmt: skip
    page = client.get("/cbam/importer?lang=en")
    assert page.status_code == 200
    assert "no CBAM default value for CN 76011000 from CN" in page.text
    with engine.begin() as conn:
        conn.execute(lines_table.update().values(released="2026-02-31"))
    page = client.get("/cbam/importer?lang=en")
    assert page.status_code == 200
    assert "stored customs lines could not be read" in page.text


def test_a_transitional_year_points_to_the_quarterly_reports(
    store_service: Service, engine: sa.Engine
) -> None:
    from carbonlink.cbam_import.store import lines_table

    with engine.begin() as conn:
        conn.execute(
            lines_table.insert().values(
                organization_id=DEMO_ORG_ID, declaration="T", item=1, released="2025-11-05",
                cn_code="72083900", net_mass_t=80.0, country="CN", installation_id="X",
                supplier="x", source_file="t.csv", imported_at=datetime.now(UTC),
            )
        )  # fmt: skip
    client, _ = store_service.login(store_service.users["viewer"])
    page = client.get("/cbam/importer?year=2025&lang=en")
    assert page.status_code == 200
    assert "transitional period&#39;s quarterly reports" in page.text
    assert "Transitional period</span>" in page.text and 'id="cbam-declaration"' not in page.text
