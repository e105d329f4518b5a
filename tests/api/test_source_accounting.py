"""A source's scope and factor given through the API survive a restart of the service."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import create_app
from carbonlink.api.overview import build_overview
from carbonlink.store import Store
from carbonlink.store.tenant_data import AssignedAccounting, StoreTenantData

if TYPE_CHECKING:
    from conftest import Service


def test_a_source_keeps_its_scope_and_factor_in_a_new_app(
    store_service: Service, engine: sa.Engine
) -> None:
    client, csrf = store_service.login(store_service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    facility = client.post("/api/v1/facilities", json={"name": "Cold mill"}).json()
    # 0.25 t CO2e per MWh: a round test factor, so 3 readings of 4 MWh give 3 t CO2e.
    factor = {
        "co2e_t_per_unit": 0.25,
        "activity_unit": "MWh",
        "source": "test citation",
        "name": "round test factor",
    }
    created = client.post(
        "/api/v1/sources",
        json={"facility_id": facility["id"], "name": "Mill power", "scope": 2, "factor": factor},
    )
    assert created.status_code == 201, created.text
    source = created.json()
    meter = client.post(
        "/api/v1/meters",
        json={
            "facility_id": facility["id"],
            "name": "Mill incomer",
            "unit": "MWh",
            "source_id": source["id"],
        },
    ).json()
    readings = [
        {"meter_id": meter["id"], "ts": f"2026-10-0{day}T00:00:00Z", "value": 4, "unit": "MWh"}
        for day in (1, 2, 3)
    ]
    assert client.post("/api/v1/readings", json={"readings": readings}).json()["stored"] == 3
    before = build_overview(store_service.data, DEMO_ORG_ID)

    # A new service on the same database, with nothing assigned in memory.
    fresh = StoreTenantData(Store(engine), AssignedAccounting())
    restarted = create_app(store_service.app.state.ctx.settings, engine=engine, data=fresh)
    store_service.app = restarted
    client, _ = store_service.login(store_service.users["viewer"])
    again = client.get(f"/api/v1/sources/{source['id']}")
    assert again.status_code == 200, again.text
    assert again.json() == source
    assert again.json()["scope"] == 2 and again.json()["factor"] == factor
    after = build_overview(fresh, DEMO_ORG_ID)
    assert after == before
    mill = [f for f in after.by_facility if f.facility_id == facility["id"]]
    assert [round(f.co2e_t, 9) for f in mill] == [3.0]


def test_the_factor_is_stored_with_the_source_row(
    store_service: Service, engine: sa.Engine
) -> None:
    from carbonlink.store.results_schema import source_accounting

    client, csrf = store_service.login(store_service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    facility = client.post("/api/v1/facilities", json={"name": "Lime kiln"}).json()
    source = client.post(
        "/api/v1/sources", json={"facility_id": facility["id"], "name": "Kiln", "scope": 1}
    ).json()
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(source_accounting).where(source_accounting.c.source_id == source["id"])
        ).one()
    assert (row.organization_id, row.scope, row.factor_co2e_t_per_unit) == (DEMO_ORG_ID, 1, None)
