"""Readings batch POST: partial acceptance, idempotency, unit conversion, limits; the overview."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from carbonlink.api.routes.readings import MAX_BATCH
from carbonlink.store import Store

if TYPE_CHECKING:
    from conftest import Service


@pytest.fixture
def editor(any_service: Service):  # type: ignore[no-untyped-def]
    client, csrf = any_service.login(any_service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    return client


def test_batch_accepts_good_rows_and_reports_bad_ones(any_service: Service, editor) -> None:  # type: ignore[no-untyped-def]
    batch = {
        "batch_id": "erp-1",
        "readings": [
            {
                "meter_id": "fac-steelmaking-m-power",
                "ts": "2026-11-20T00:00:00Z",
                "value": 2500,
                "unit": "kWh",
            },
            {"meter_id": "mtr-nowhere", "ts": "2026-11-20T00:00:00Z", "value": 1, "unit": "MWh"},
            {
                "meter_id": "fac-steelmaking-m-power",
                "ts": "2026-11-20T01:00:00",
                "value": 1,
                "unit": "MWh",
            },
            {
                "meter_id": "fac-steelmaking-m-power",
                "ts": "2026-11-20T02:00:00+08:00",
                "value": 3,
                "unit": "kg",
            },
            {
                "meter_id": "mtr-other-power",
                "ts": "2026-11-20T00:00:00Z",
                "value": 1,
                "unit": "MWh",
            },
        ],
    }
    result = editor.post("/api/v1/readings", json=batch)
    assert result.status_code == 200, result.text
    body = result.json()
    assert (body["received"], body["stored"], body["duplicates"]) == (5, 1, 0)
    assert [row["index"] for row in body["rejected"]] == [1, 2, 3, 4]
    assert "not found" in body["rejected"][0]["error"]
    assert "offset" in body["rejected"][1]["error"]
    assert "unit" in body["rejected"][2]["error"]
    # another organization's meter is as unknown as a missing one
    assert "not found" in body["rejected"][3]["error"]
    stored = any_service.data.readings("org-demo-steel", "fac-steelmaking-m-power", limit=1)[-1]
    assert stored.value == pytest.approx(2.5)  # 2500 kWh in the meter's MWh
    assert stored.unit == "MWh" and stored.batch_id is not None
    # each post is an import batch of its own, recorded in the ledger; the client's label
    # names the batch
    batch = Store(any_service.app.state.ctx.engine).batch(stored.batch_id)
    assert batch.source_ref == "api:org-demo-steel:erp-1" and batch.kind == "http"
    assert batch.ledger_index is not None
    assert len(any_service.data.quarantined("org-demo-steel")) == 4
    assert any_service.data.quarantined("org-other-works") == []


def test_batch_is_idempotent(editor) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {
            "meter_id": "fac-hot-rolling-m-gas",
            "ts": f"2026-11-21T{h:02d}:00:00Z",
            "value": 1.0,
            "unit": "Nm3",
        }
        for h in range(10)
    ]
    first = editor.post("/api/v1/readings", json={"readings": rows}).json()
    again = editor.post("/api/v1/readings", json={"readings": rows}).json()
    assert (first["stored"], first["duplicates"]) == (10, 0)
    assert (again["stored"], again["duplicates"]) == (0, 10)


def test_batch_size_is_limited(editor) -> None:  # type: ignore[no-untyped-def]
    row = {
        "meter_id": "fac-hot-rolling-m-gas",
        "ts": "2026-11-21T00:00:00Z",
        "value": 1,
        "unit": "Nm3",
    }
    response = editor.post("/api/v1/readings", json={"readings": [row] * (MAX_BATCH + 1)})
    assert response.status_code == 422


def test_batch_of_ten_thousand(editor) -> None:  # type: ignore[no-untyped-def]
    start = datetime(2026, 11, 18, tzinfo=UTC)
    rows = [
        {
            "meter_id": "fac-hot-rolling-m-power",
            "ts": (start + timedelta(minutes=i)).isoformat(),
            "value": 1.0,
            "unit": "MWh",
        }
        for i in range(MAX_BATCH)
    ]
    body = editor.post("/api/v1/readings", json={"readings": rows}).json()
    assert body["stored"] == MAX_BATCH and body["rejected"] == []


def test_overview_numbers_by_hand(any_service: Service) -> None:
    client, _ = any_service.login(any_service.users["other"])
    body = client.get("/api/v1/overview").json()
    assert body["run"] is None and "save=true" in body["empty"]["hint"]
    overview = body["provisional"]
    # 20 MWh × 0.5 t/MWh = 10 t; 10 t / 100 t of product = 0.1 (see seed_other_org)
    assert overview["total_co2e_t"] == pytest.approx(10.0)
    assert overview["by_scope"] == [{"scope": 2, "co2e_t": pytest.approx(10.0)}]
    (october,) = overview["by_month"]
    assert october["month"] == "2026-10"
    assert october["intensity_t_per_t"] == pytest.approx(0.1)
    # 3 readings of 2 hourly meters over the 745 hours of October in Berlin (local months;
    # the clocks go back one hour on 25 October 2026)
    assert october["completeness"] == pytest.approx(3 / (2 * 745))


def test_missing_record_is_a_problem_document(any_service: Service) -> None:
    client, _ = any_service.login(any_service.users["viewer"])
    response = client.get("/api/v1/facilities/fac-missing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["record"] == "fac-missing"


def test_overview_page_in_both_languages(any_service: Service) -> None:
    client, _ = any_service.login(any_service.users["viewer"])
    zh = client.get("/").text
    assert "排放总量" in zh and "2026年10月" in zh
    en = client.get("/?lang=en").text
    assert "Total emissions" in en and "Oct 2026" in en
    # the choice sticks, in this session, without the query parameter
    assert "Total emissions" in client.get("/").text


def test_factor_search_finds_the_cited_grid_factor(service: Service) -> None:
    client, _ = service.login(service.users["auditor"])
    found = client.get("/api/v1/factors", params={"q": "grid_average 2022", "jurisdiction": "CN"})
    rows = [f for f in found.json() if f["id"] == "cn-mee-nbs/grid_average/CN/2022"]
    assert len(rows) == 1
    assert rows[0]["value"] == 0.5366 and rows[0]["unit"] == "kg/kWh"
    assert rows[0]["citation"].startswith("MEE/NBS announcement")
    page = client.get("/factors", params={"q": "grid_average 2022"}).text
    assert "cn-mee-nbs/grid_average/CN/2022" in page and "排放因子" in page


def test_inventory_compute_and_recompute_with_another_gwp_set(service: Service) -> None:
    from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE

    client, csrf = service.login(service.users["auditor"])
    client.headers["X-CSRF-Token"] = csrf
    body = {
        **INVENTORY_EXAMPLE,
        "facilities": [
            {
                **INVENTORY_EXAMPLE["facilities"][0],
                "sources": [INVENTORY_EXAMPLE["facilities"][0]["sources"][0]],
            }  # type: ignore[index]
        ],
    }
    ar5 = client.post("/api/v1/inventories/compute", json=body)
    assert ar5.status_code == 200, ar5.text
    co2 = [line for line in ar5.json()["lines"] if line["gas"] == "CO2"]
    # GB/T 32151 natural gas: 10^4 Nm3 → 389.31 GJ × 15.30 t C/TJ × 99 % × 44/12 ≈ 21.62 t CO2
    assert sum(line["tco2e"] for line in co2) == pytest.approx(21.62, abs=0.01)
    ar6 = client.post("/api/v1/inventories/compute", params={"gwp": "AR6"}, json=body).json()
    assert ar6["gwp"] == "AR6"
    assert (
        ar6["totals"]["scope1"] != ar5.json()["totals"]["scope1"]
    )  # CH4 and N2O weigh differently


def test_reprocess_quarantine_after_the_meter_is_configured(any_service: Service, editor) -> None:  # type: ignore[no-untyped-def]
    from carbonlink.store.tenants import Meter

    row = {"meter_id": "mtr-late", "ts": "2026-11-20T05:00:00+08:00", "value": 7.5, "unit": "MWh"}
    first = editor.post("/api/v1/readings", json={"readings": [row]}).json()
    assert first["stored"] == 0 and len(first["rejected"]) == 1
    assert editor.post("/api/v1/quarantine/reprocess").json() == {
        "examined": 1,
        "stored": 0,
        "still_rejected": 1,
    }
    # the meter is configured later (as a workspace file would), then the action is run
    any_service.data.add_meter(
        Meter("mtr-late", "org-demo-steel", "fac-steelmaking", "Late meter", "MWh", None)
    )
    page = editor.get("/quality")
    csrf = editor.headers["X-CSRF-Token"]
    done = editor.post("/quality/reprocess", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/quality?reprocessed=1"
    page = editor.get("/quality?reprocessed=1").text
    assert "重新处理后已存入" in page and "存入 1 条读数" in page
    stored = any_service.data.readings("org-demo-steel", "mtr-late")
    assert [(r.ts.isoformat(), r.value) for r in stored] == [("2026-11-19T21:00:00+00:00", 7.5)]
