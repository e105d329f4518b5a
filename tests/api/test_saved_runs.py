"""Computing an inventory through the API saves it on request; the overview API and page agree."""

from __future__ import annotations

import copy
import re
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from carbonlink.api import results
from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE

if TYPE_CHECKING:
    from conftest import Service

OTHER = "org-other-works"


def _gas_only() -> dict[str, Any]:
    """The example plant with its natural gas alone: 10 000 Nm3, about 21.62 t CO2 by hand.

    GB/T 32151: 10^4 Nm3 → 389.31 GJ × 15.30 t C/TJ × 99 % × 44/12 ≈ 21.62 t CO2.
    """
    body = copy.deepcopy(INVENTORY_EXAMPLE)
    body["facilities"][0]["sources"] = body["facilities"][0]["sources"][:1]  # type: ignore[index]
    return body


def _as(service: Service, who: str) -> TestClient:
    client, csrf = service.login(service.users[who])
    client.headers["X-CSRF-Token"] = csrf
    return client


def test_compute_with_save_returns_the_run_and_the_overview_shows_it(
    service: Service, engine: sa.Engine
) -> None:
    admin = _as(service, "other")
    computed = admin.post("/api/v1/inventories/compute", params={"save": True}, json=_gas_only())
    assert computed.status_code == 200, computed.text
    body = computed.json()
    assert body["run_id"]
    assert body["totals"]["scope1"] == pytest.approx(21.62, abs=0.05)
    [saved] = results.inventory_runs(engine, OTHER)
    assert saved.id == body["run_id"] and saved.totals == body["totals"]
    lines = admin.get(f"/api/v1/inventories/{body['run_id']}").json()["lines"]
    assert lines == body["lines"]

    overview = admin.get("/api/v1/overview").json()
    assert overview["run"]["id"] == body["run_id"] and overview["empty"] is None
    assert overview["totals"] == body["totals"]
    assert overview["total_co2e_t"] == pytest.approx(body["totals"]["scope1"])
    assert [(f["facility_id"], round(f["co2e_t"], 6)) for f in overview["by_facility"]] == [
        ("plant-1", round(body["totals"]["scope1"], 6))
    ]
    # the page shows the same run and the same total, in the locale's format
    page = admin.get("/?lang=en").text
    assert "Demo Steel Co., Ltd." in page and "No inventory run saved yet" not in page
    total = re.search(r'Total emissions</span><span class="value">([^<]+)<', page)
    assert total and total.group(1) == f"{overview['total_co2e_t']:,.1f}"
    # nothing of this reaches the demo organization
    assert results.inventory_runs(engine, "org-demo-steel") == []


def test_compute_without_save_stores_nothing_and_a_viewer_cannot_save(
    service: Service, engine: sa.Engine
) -> None:
    viewer = _as(service, "viewer")
    plain = viewer.post("/api/v1/inventories/compute", json=_gas_only())
    assert plain.status_code == 200 and plain.json()["run_id"] is None
    refused = viewer.post("/api/v1/inventories/compute", params={"save": True}, json=_gas_only())
    assert refused.status_code == 403
    assert results.inventory_runs(engine, "org-demo-steel") == []


def test_without_a_saved_run_api_and_page_say_what_to_do(service: Service) -> None:
    viewer = _as(service, "viewer")
    overview = viewer.get("/api/v1/overview").json()
    assert overview["run"] is None and overview["runs"] == [] and overview["totals"] == {}
    assert "save=true" in overview["empty"]["hint"]
    # the provisional figures are those the page shows meanwhile
    provisional = overview["provisional"]
    assert provisional["total_co2e_t"] > 0
    en = viewer.get("/?lang=en").text
    assert "No inventory run saved yet" in en and "save=true" in en
    shown = re.search(r'Total emissions</span><span class="value">([^<]+)<', en)
    assert shown and shown.group(1) == f"{provisional['total_co2e_t']:,.1f}"
    assert "尚未保存清单核算结果" in viewer.get("/?lang=zh").text


def test_an_unknown_or_foreign_run_is_not_found(service: Service) -> None:
    demo = _as(service, "editor")
    saved = demo.post("/api/v1/inventories/compute", params={"save": True}, json=_gas_only())
    run_id = saved.json()["run_id"]
    assert demo.get("/api/v1/overview", params={"run": run_id}).json()["run"]["id"] == run_id
    assert demo.get("/api/v1/overview", params={"run": "nope"}).status_code == 404
    other = _as(service, "other")
    foreign = other.get("/api/v1/overview", params={"run": run_id})
    assert foreign.status_code == 404 and "Demo Steel" not in foreign.text
