"""The CBAM exporter page: installation, verification, SEE and carbon price paid, downloads.

The browser test looks at the page in Chinese and English at 1440 and 390 px; screenshots go to
``test-output/browser/cbam-exporter-*.png``.
"""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import openpyxl
import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page

from carbonlink.demo.cbam import demo_cbam_input
from carbonlink.exchange import cbam
from carbonlink.exchange.schema import cbam_communications
from carbonlink.reports.cbam_exporter import build_exporter_communication, load_exporter_pack

if TYPE_CHECKING:
    from conftest import Service

DEMO_ORG = "org-demo-steel"


@pytest.fixture(scope="module")
def communication() -> dict[str, Any]:
    return build_exporter_communication(
        load_exporter_pack(demo_cbam_input("cbam-tangshan-exporter.yaml"))
    )


def test_the_page_shows_status_see_and_price_and_serves_the_files(
    service: Service, engine: sa.Engine, communication: dict[str, Any]
) -> None:
    viewer, _ = service.login(service.users["viewer"])
    empty = viewer.get("/cbam/exporter")
    assert empty.status_code == 200 and "尚未发布 CBAM 排放数据通报" in empty.text
    published = cbam.publish(engine, DEMO_ORG, "tangshan-2025", communication)
    page = viewer.get("/cbam/exporter").text
    assert "Tangshan integrated works (BF-BOF)" in page
    assert "演示用核查机构，未经认可" in page and "DEMO-CBAM-0001" in page
    assert "核查结论：满意" in page
    coil_price = communication["carbon_price_paid"]["goods"][1]["eur_per_t_good"]
    assert f"{coil_price:.4f}" in page
    assert "72083900" in page and "1.465" in page  # the coil's direct SEE, 3 decimals

    catenax = viewer.get("/cbam/exporter/tangshan-2025/catenax.json")
    assert catenax.status_code == 200 and catenax.content == published.catenax.encode()
    stored = viewer.get("/cbam/exporter/tangshan-2025/communication.json").json()
    assert stored["status"] == "verified"
    workbook = viewer.get("/cbam/exporter/tangshan-2025/workbook.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert "Verification_CarbonPrice" in book.sheetnames and "A_InstData" in book.sheetnames

    # Another organization's admin sees neither the communication nor its files.
    other, _ = service.login(service.users["other"])
    foreign = other.get("/cbam/exporter").text
    assert "Tangshan integrated works" not in foreign and "DEMO-CBAM-0001" not in foreign
    assert other.get("/cbam/exporter/tangshan-2025/catenax.json").status_code == 404
    assert other.get("/cbam/exporter/tangshan-2025/workbook.xlsx").status_code == 404


def test_a_damaged_stored_communication_is_reported_not_a_500(
    service: Service, engine: sa.Engine, communication: dict[str, Any]
) -> None:
    cbam.publish(engine, DEMO_ORG, "tangshan-2025", communication)
    with engine.begin() as connection:
        connection.execute(
            cbam_communications.update().values(communication=json.dumps({"goods": "x"}))
        )
    viewer, _ = service.login(service.users["viewer"])
    page = viewer.get("/cbam/exporter")
    assert page.status_code == 200
    assert "无法读取已存储的这份通报，请重新发布。" in page.text


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_exporter_page_in_chinese_and_english(
    service: Service, engine: sa.Engine, base_url: str, communication: dict[str, Any]
) -> None:
    cbam.publish(engine, DEMO_ORG, "tangshan-2025", communication)
    errors: list[str] = []
    with chromium() as browser:
        page = new_page(browser, errors)
        log_in(page, base_url, service.users["editor"])
        page.click("a[href='/cbam/exporter']")
        page.wait_for_url(f"{base_url}/cbam/exporter")
        assert page.locator("h1").inner_text() == "CBAM 出口方"
        assert "已核查" in page.locator("#cbam-status").inner_text()
        assert page.locator("#cbam-see tbody tr").count() == 2
        page.screenshot(path=OUT / "cbam-exporter-zh-1440.png", full_page=True)
        with page.expect_download() as download:
            page.click("text=Catena-X CBAM（JSON）")
        assert download.value.suggested_filename == "tangshan-2025.catenax-cbam.json"
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=OUT / "cbam-exporter-zh-390.png", full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width} px wide at 390 px"

        page.set_viewport_size({"width": 1440, "height": 900})
        page.click("a[data-lang=en]")
        page.wait_for_selector("text=Specific embedded emissions per good")
        assert page.locator("h1").inner_text() == "CBAM exporter"
        assert "DEMO verifier, not accredited" in page.locator(".cbamx").inner_text()
        assert "Carbon price paid" in page.locator(".cbamx").inner_text()
        page.screenshot(path=OUT / "cbam-exporter-en-1440.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=OUT / "cbam-exporter-en-390.png", full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
