"""Readings posted to ``POST /api/v1/readings``: each bad row refused alone with its reason,
times outside the meter's plausible window refused, every stored reading covered by the ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from carbonlink.api import create_app
from carbonlink.ledger import Ledger, TamperError
from carbonlink.provenance import recompute_import_batch
from carbonlink.settings import Settings
from carbonlink.store import Store
from carbonlink.store.tenant_data import AssignedAccounting, StoreTenantData
from carbonlink.store.tenants import Facility, Meter

ORG = "org-plant"
METER = "mtr-power"


@dataclass
class Api:
    client: TestClient
    store: Store
    engine: Engine

    def post(self, rows: list[dict[str, Any]], label: str | None = None) -> Any:
        body: dict[str, Any] = {"readings": rows}
        if label is not None:
            body["batch_id"] = label
        return self.client.post("/api/v1/readings", json=body)


@pytest.fixture
def api(engine: Engine, tmp_path: Path) -> Iterator[Api]:
    store = Store(engine)
    data = StoreTenantData(store, AssignedAccounting())
    data.add_organization("Plant", ORG)
    data.add_facility(Facility("fac-1", ORG, "Works", "Asia/Shanghai"))
    data.add_meter(Meter(METER, ORG, "fac-1", "Main incomer", "MWh", purpose="production"))
    app = create_app(
        Settings(workspace=tmp_path, argon2_time_cost=1, argon2_memory_kib=1024),
        engine=engine,
        data=data,
    )
    key = app.state.ctx.accounts.create_api_key(ORG, "ERP export", "editor")
    with TestClient(app) as client:
        client.headers["X-API-Key"] = key
        yield Api(client, store, engine)


def row(ts: str, value: Any = 1.5, unit: str = "MWh", meter: str = METER) -> dict[str, Any]:
    return {"meter_id": meter, "ts": ts, "value": value, "unit": unit}


def test_a_null_date_from_dotnet_is_refused_with_its_reason(api: Api) -> None:
    """0001-01-01T00:00:00Z was stored, and every page summing by month answered 500."""
    response = api.post([row("0001-01-01T00:00:00Z"), row("2026-11-20T00:00:00Z")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["stored"], [r["index"] for r in body["rejected"]]) == (1, [0])
    assert "outside the plausible window 1990-01-01 00:00" in body["rejected"][0]["error"]
    assert api.store.reading_count(METER) == 1
    assert api.client.get("/api/v1/overview").status_code == 200


def test_a_time_before_the_first_instant_in_utc_is_a_row_error_not_a_500(api: Api) -> None:
    """0001-01-01T00:00:00+14:00 overflows when converted to UTC."""
    response = api.post([row("0001-01-01T00:00:00+14:00"), row("2026-11-20T00:00:00Z")])
    assert response.status_code == 200, response.text
    [refused] = response.json()["rejected"]
    assert refused["index"] == 0 and "plausible window" in refused["error"]


def test_times_too_far_ahead_or_from_an_unset_clock_are_refused(api: Api) -> None:
    ahead = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    soon = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    body = api.post([row(ahead), row("1970-01-01T00:00:00Z"), row(soon)]).json()
    assert [r["index"] for r in body["rejected"]] == [0, 1]
    assert body["stored"] == 1


def test_a_meter_has_its_own_window(api: Api) -> None:
    api.store.save_reading_window(
        METER, valid_from=datetime(2026, 1, 1, tzinfo=UTC), max_future_skew=timedelta(0)
    )
    body = api.post([row("2025-12-31T23:00:00Z"), row("2026-01-01T00:00:00Z")]).json()
    assert [r["index"] for r in body["rejected"]] == [0]
    assert "2026-01-01 00:00" in body["rejected"][0]["error"]


@pytest.mark.parametrize("unit", ["~", "kWh)", "kWh/0", "😀", "0 MWh", "%"])
def test_a_bad_unit_is_a_row_error_naming_it(api: Api, unit: str) -> None:
    response = api.post([row("2026-11-20T00:00:00Z", unit=unit), row("2026-11-20T01:00:00Z")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == 1
    [refused] = body["rejected"]
    assert refused["index"] == 0 and repr(unit) in refused["error"]
    assert api.store.reading_count(METER) == 1


def test_one_bad_row_of_ten_thousand_refuses_that_row_only(api: Api) -> None:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    rows = [row((start + timedelta(minutes=i)).isoformat()) for i in range(10_000)]
    rows[4321]["unit"] = "kWh)"
    body = api.post(rows).json()
    assert body["stored"] == 9_999
    assert [(r["index"], "kWh)" in r["error"]) for r in body["rejected"]] == [(4321, True)]


@pytest.mark.parametrize("value", [False, True])
def test_a_boolean_is_not_a_value(api: Api, value: bool) -> None:
    """JSON false was stored as 0."""
    response = api.post([row("2026-11-20T00:00:00Z", value=value)])
    assert response.status_code == 422
    assert api.store.reading_count(METER) == 0


def test_every_posted_batch_is_an_import_batch_in_the_ledger(api: Api) -> None:
    body = api.post([row("2026-11-20T00:00:00Z"), row("2026-11-20T01:00:00Z")], "erp-7").json()
    assert body["stored"] == 2
    [batch_id] = api.store.meter_batches([METER])
    batch = api.store.batch(batch_id)
    assert (batch.kind, batch.source_ref, batch.readings_new) == ("http", f"api:{ORG}:erp-7", 2)
    assert batch.ledger_index is not None
    ledger = Ledger(api.engine)
    entry = ledger.entry(batch.ledger_index)
    recompute_import_batch(entry, ledger)  # intact: passes
    with api.engine.begin() as connection:
        connection.execute(text("UPDATE readings SET value = 9 WHERE meter_id = :m"), {"m": METER})
    with pytest.raises(TamperError, match=f"import-batch {batch_id}"):
        recompute_import_batch(entry, ledger)


def test_a_conflicting_value_is_kept_apart_and_listed(api: Api) -> None:
    """A second value for a stored (meter, time) was dropped without a word."""
    api.post([row("2026-11-20T00:00:00Z", value=1.5)])
    again = api.post([row("2026-11-20T00:00:00Z", value=1.5)]).json()
    assert (again["stored"], again["duplicates"]) == (0, 1)
    assert api.store.conflicts() == []
    other = api.post([row("2026-11-20T00:00:00Z", value=2.0)]).json()
    assert (other["stored"], other["duplicates"]) == (0, 1)
    [conflict] = api.store.conflicts()
    assert conflict.meter_id == METER
    assert "already has 1.5 MWh; this record says 2.0 MWh" in conflict.reason
    api.store.resolve_quarantined(conflict.id, "kept the stored value: the meter was read twice")
    assert api.store.conflicts() == []
    [resolved] = api.store.conflicts(unresolved_only=False)
    assert resolved.resolution == "kept the stored value: the meter was read twice"
