"""The dashboard in headless Chromium: log in, overview, drill down to raw readings, language.

Screenshots go to ``test-output/browser/`` at the project root.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import uvicorn

if TYPE_CHECKING:
    from conftest import Service

CHROMIUM = Path(os.environ.get("CARBONLINK_CHROMIUM", "/usr/bin/chromium"))
OUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def base_url(service: Service) -> Iterator[str]:
    """The service on a loopback port, served by uvicorn in a thread."""
    if not CHROMIUM.exists():
        if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
            pytest.fail(f"Chromium not found at {CHROMIUM}")
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    port = _free_port()
    config = uvicorn.Config(
        service.app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the pages, not the database
def test_log_in_drill_down_and_switch_language(service: Service, base_url: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = browser.new_page(viewport={"width": 1440, "height": 900}, locale="zh-CN")
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))

        page.goto(f"{base_url}/")
        assert page.url.endswith("/login")
        page.screenshot(path=OUT / "01-login.png")
        page.fill("input[name=email]", service.users["editor"])
        page.fill("input[name=password]", "correct horse battery staple")
        page.click("button[type=submit]")
        page.wait_for_url(f"{base_url}/")
        page.wait_for_selector("#chart-months canvas")
        assert page.locator("h1").inner_text() == "排放总览"
        page.screenshot(path=OUT / "02-overview-zh.png", full_page=True)

        page.click("text=炼钢厂 Steelmaking")
        page.wait_for_selector("text=排放源")
        page.screenshot(path=OUT / "03-facility.png", full_page=True)
        page.click("text=天然气燃烧 Natural gas")
        page.wait_for_selector("text=NDRC 2013", state="attached")
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
        browser.close()
    assert errors == []
