"""Pages and aggregates over whatever the database holds: extreme instants and values, pauses.

The rows are written straight into the store, past the checks of the import paths, as an old
database, another tool or a hand edit may have left them: no stored value may break a page.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from carbonlink.ingest.base import Reading

if TYPE_CHECKING:
    from conftest import Service

GAS = "fac-steelmaking-m-gas"
PAGES = (
    "/",
    "/quality",
    f"/meters/{GAS}",
    "/facilities/fac-steelmaking",
    "/sources/fac-steelmaking-gas",
    "/alerts",
    "/targets",
)
API = ("/api/v1/overview", f"/api/v1/meters/{GAS}/readings")


def _refuse(token: str) -> None:
    raise ValueError(f"{token} is not JSON")


def _get_all(service: Service) -> dict[str, int]:
    client, _csrf = service.login(service.users["viewer"])
    key = service.app.state.ctx.accounts.create_api_key("org-demo-steel", "extremes", "viewer")
    statuses = {path: client.get(path).status_code for path in PAGES}
    for path in API:
        response = service.client().get(path, headers={"Authorization": f"Bearer {key}"})
        statuses[path] = response.status_code
        if response.status_code == 200:
            json.loads(response.text, parse_constant=_refuse)  # strict JSON: no Infinity, NaN
    return statuses


@pytest.mark.parametrize(
    "instant",
    [
        datetime(1, 1, 1, tzinfo=UTC),  # what .NET writes for a null date
        datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC),
    ],
    ids=["year-1", "year-9999"],
)
def test_an_extreme_instant_in_the_store_breaks_no_page(store_service: Service, instant) -> None:  # type: ignore[no-untyped-def]
    store_service.data.store.add_readings([Reading(GAS, instant, 5.0, "Nm3")])
    assert _get_all(store_service) == dict.fromkeys(PAGES + API, 200)


def test_extreme_values_in_the_store_break_no_page(store_service: Service) -> None:
    """Two readings near the largest double: their sum overflows to infinity."""
    store_service.data.store.add_readings(
        [
            Reading(GAS, datetime(2026, 11, 14, 1, 30, tzinfo=UTC), 1.7e308, "Nm3"),
            Reading(GAS, datetime(2026, 11, 14, 2, 30, tzinfo=UTC), 1.7e308, "Nm3"),
            Reading(GAS, datetime(2026, 11, 14, 3, 30, tzinfo=UTC), -1.7e308, "Nm3"),
        ]
    )
    assert _get_all(store_service) == dict.fromkeys(PAGES + API, 200)


def test_the_meter_page_after_a_pause_longer_than_the_baseline_window(
    store_service: Service,
) -> None:
    """A reading 15 weeks before the others: the weeks after the pause have no trailing history
    (the detector looks back 8 weeks), so they are not judged, and the page still shows."""
    store_service.data.add_readings(
        [Reading(GAS, datetime(2026, 6, 15, tzinfo=UTC), 9000.0, "Nm3")]
    )
    client, _csrf = store_service.login(store_service.users["viewer"])
    page = client.get(f"/meters/{GAS}")
    assert page.status_code == 200, page.text[:500]
