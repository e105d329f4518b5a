"""The overview's cache: rebuilt when a run, a monitoring report or an alert is saved by anyone.

The service caches the overview page's data and rendered content per data version; these tests
write to the database behind the service's back (as another worker process or the CLI would)
and check that the next page shows it, and that the cache builds once per version.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
import sqlalchemy as sa
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import results
from carbonlink.api.overview import OverviewCache, stored_version
from carbonlink.domain.engine import account
from carbonlink.domain.inventory import parse_inventory
from carbonlink.store import create_store_engine, upgrade

if TYPE_CHECKING:
    from conftest import Service

# Natural gas by the year only (no meter), so the run's totals are the engine's and nothing else.
GAS_INVENTORY = """
organization: Cache Check Steel
period: {{start: 2025-01-01, end: 2025-12-31}}
gwp: AR5
jurisdiction: CN
facilities:
  - id: cache-works
    name: Cache-checked works
    timezone: Asia/Shanghai
    sources:
      - {{id: boiler-gas, method: combustion, fuel: natural_gas,
         activity: {{quantity: {nm3}, unit: Nm3}}}}
"""


def save_gas_run(engine: sa.Engine, nm3: int) -> float:
    """Account and save a run of ``nm3`` Nm3 of natural gas for the demo org; its scope 1 t."""
    inventory = parse_inventory(GAS_INVENTORY.format(nm3=nm3), file="cache.yaml")
    document = account(inventory).to_dict()
    results.save_inventory(engine, DEMO_ORG_ID, document, results.settings_hash(inventory))
    return float(document["totals"]["scope1"])


def kpis(page: str) -> str:
    start = page.index('class="kpis"')
    return page[start : page.index("</section>", start)]


def test_a_run_saved_behind_the_services_back_shows_on_the_next_page(
    store_service: Service, engine: sa.Engine
) -> None:
    client, _ = store_service.login(store_service.users["viewer"])
    before = client.get("/?lang=en").text
    assert "Cache Check Steel" not in before

    first = save_gas_run(engine, 10_000)
    page = client.get("/").text
    assert "Cache Check Steel" in page
    assert f"{first:,.1f}" in kpis(page)

    # The newest computation of the same period replaces the shown one: twice the gas.
    second = save_gas_run(engine, 20_000)
    assert second == pytest.approx(2 * first)
    page = client.get("/").text
    assert f"{second:,.1f}" in kpis(page)
    assert f"{first:,.1f}" not in kpis(page)


def test_cached_content_keeps_each_callers_frame_and_language(store_service: Service) -> None:
    save_gas_run(store_service.app.state.ctx.engine, 10_000)
    viewer, viewer_csrf = store_service.login(store_service.users["viewer"])
    editor, editor_csrf = store_service.login(store_service.users["editor"])
    assert viewer_csrf != editor_csrf
    zh_viewer = viewer.get("/?lang=zh").text
    zh_editor = editor.get("/?lang=zh").text
    assert viewer_csrf in zh_viewer and editor_csrf not in zh_viewer
    assert editor_csrf in zh_editor and "Test editor" in zh_editor
    assert "Test viewer" in zh_viewer and "Test editor" not in zh_viewer
    en_viewer = viewer.get("/?lang=en").text
    assert "Emissions overview" in en_viewer and "Emissions overview" not in zh_viewer
    # Same content for both callers once the frame (CSRF token, name) is taken away.
    main = re.compile(r"<main.*</main>", re.DOTALL)
    assert main.findall(zh_viewer) == main.findall(zh_editor)


def test_stored_version_moves_with_runs_reports_and_alerts(
    store_service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    start = stored_version(engine, DEMO_ORG_ID)
    assert stored_version(engine, DEMO_ORG_ID) == start

    save_gas_run(engine, 10_000)
    after_run = stored_version(engine, DEMO_ORG_ID)
    assert after_run != start

    results.save_monitoring(engine, DEMO_ORG_ID, {}, {})
    after_report = stored_version(engine, DEMO_ORG_ID)
    assert after_report != after_run

    alert = int(store_service.ids["alert_id"])
    assert results.acknowledge_alert(engine, DEMO_ORG_ID, alert, "viewer@demo.test")
    assert stored_version(engine, DEMO_ORG_ID) != after_report

    # Another organization's writes leave this one's version alone.
    other = stored_version(engine, "org-other-works")
    save_gas_run(engine, 5_000)
    assert stored_version(engine, "org-other-works") == other


def test_cache_builds_once_per_version_and_again_when_it_moves() -> None:
    cache = OverviewCache()
    built: list[int] = []

    def build(value: int) -> int:
        built.append(value)
        return value

    assert cache.cached("k", 1, lambda: build(10)) == 10
    assert cache.cached("k", 1, lambda: build(11)) == 10
    assert cache.cached("k", 2, lambda: build(12)) == 12
    assert cache.cached("other", 2, lambda: build(13)) == 13
    assert built == [10, 12, 13]


def test_concurrent_requests_wait_for_one_build() -> None:
    cache = OverviewCache()
    calls: list[int] = []
    started = threading.Barrier(8)

    def build() -> str:
        calls.append(1)
        time.sleep(0.05)
        return "page"

    def request() -> None:
        started.wait()
        assert cache.cached("k", 7, build) == "page"

    threads = [threading.Thread(target=request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1


def test_an_old_entry_is_rebuilt_while_others_get_the_previous_value() -> None:
    cache = OverviewCache(max_age_s=0.0)
    assert cache.cached("k", 1, lambda: "old") == "old"
    entered, release = threading.Event(), threading.Event()

    def slow() -> str:
        entered.set()
        release.wait(10)
        return "new"

    got: list[str] = []
    rebuild = threading.Thread(target=lambda: got.append(cache.cached("k", 1, slow)))
    rebuild.start()
    assert entered.wait(10)
    # While one request rebuilds, another is answered at once with what was there.
    assert cache.cached("k", 1, lambda: "never built") == "old"
    release.set()
    rebuild.join()
    assert got == ["new"]
    assert cache.cached("k", 1, lambda: "newer") == "newer"  # max age 0: rebuilt again


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(240)
def test_two_worker_processes_show_a_run_saved_by_a_third(tmp_path: Path) -> None:
    """``carbonlink serve --workers 2``: every worker shows a run another process saved."""
    workspace = tmp_path / "workspace"
    database = f"sqlite:///{workspace / 'carbonlink.db'}"
    engine = create_store_engine(database)
    upgrade(engine)
    port = _free_port()
    env = {
        **os.environ,
        "CARBONLINK_DEMO_PASSWORD": "workers-password-1",
        "CARBONLINK_DATABASE_URL": "",
        "CARBONLINK_ARGON2_MEMORY_KIB": "1024",
        "CARBONLINK_ARGON2_TIME_COST": "1",
    }
    carbonlink = str(Path(sys.executable).with_name("carbonlink"))
    command = [carbonlink, "serve", "--workspace", str(workspace)]
    server = subprocess.Popen(
        [*command, "--demo", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            try:
                if httpx.get(f"{base}/login", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                server.terminate()
                output, _ = server.communicate(timeout=30)
                pytest.fail(f"server did not start:\n{output}")
            time.sleep(0.5)
        with httpx.Client(base_url=base, timeout=60, follow_redirects=True) as client:
            client.get("/login")
            response = client.post(
                "/login",
                data={
                    "email": "manager@demo.carbonlink.example",
                    "password": "workers-password-1",
                    "csrf_token": client.cookies["carbonlink_login_csrf"],
                },
            )
            assert response.status_code == 200
            cookie = {"carbonlink_session": client.cookies["carbonlink_session"]}

        def pages(count: int) -> list[str]:
            """``count`` overview pages, each on a new connection (the kernel hands new
            connections to whichever worker accepts first, so both workers answer some)."""
            texts = []
            for _ in range(count):
                with httpx.Client(base_url=base, cookies=cookie, timeout=60) as one:
                    page = one.get("/?lang=en")
                assert page.status_code == 200
                texts.append(page.text)
            return texts

        assert not any("Cache Check Steel" in text for text in pages(8))
        total = save_gas_run(engine, 10_000)
        assert all(f"{total:,.1f}" in kpis(text) for text in pages(16))
    finally:
        server.terminate()
        server.communicate(timeout=30)
        engine.dispose()
