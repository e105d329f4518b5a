"""What the tests in headless Chromium share: the browser, the service on a loopback port, the
page and the log-in.

Screenshots go to ``OUT``, ``test-output/browser/`` at the project root.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import uvicorn

from conftest import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Playwright

CHROMIUM = Path(os.environ.get("CARBONLINK_CHROMIUM", "/usr/bin/chromium"))
OUT = Path(__file__).resolve().parents[2] / "test-output" / "browser"


def require_chromium() -> None:
    """Skip the test when Chromium is absent; fail it instead with CARBONLINK_REQUIRE_SERVICES=1."""
    if CHROMIUM.exists():
        return
    if os.environ.get("CARBONLINK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"Chromium not found at {CHROMIUM}")
    pytest.skip(f"Chromium not found at {CHROMIUM}")


def free_port() -> int:
    """A loopback port free at the time of asking."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(app: Any, port: int | None = None) -> Iterator[str]:
    """Serve ``app`` with uvicorn in a thread on a loopback port; yield its base URL."""
    port = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def launch(pw: Playwright) -> Browser:
    """Headless Chromium from ``CHROMIUM``, without sandbox, background traffic or GPU."""
    return pw.chromium.launch(
        executable_path=str(CHROMIUM),
        headless=True,
        args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
    )


@contextmanager
def chromium() -> Iterator[Browser]:
    """Headless Chromium (see ``launch``) for the length of the block; ``OUT`` exists."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        yield browser
        browser.close()


def new_page(browser: Browser, errors: list[str], locale: str | None = "zh-CN") -> Page:
    """A 1440 × 900 page whose console errors and uncaught exceptions are added to ``errors``."""
    page = browser.new_page(viewport={"width": 1440, "height": 900}, locale=locale)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return page


def submit_log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Fill and submit the log-in form the page shows; wait for the overview."""
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def log_in(page: Page, base_url: str, email: str, password: str = PASSWORD) -> None:
    """Open the log-in page, log in, and wait for the overview."""
    page.goto(f"{base_url}/login")
    submit_log_in(page, base_url, email, password)
