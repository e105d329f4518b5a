"""Setup through the API the setup pages use: facilities, sources and meters edited, a meter
linked to a source, each checked as a creation is and refused to a reader before its body."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from plant_fixture import DEMO_ORG_ID

if TYPE_CHECKING:
    from conftest import Service

FACILITY = "fac-steelmaking"
GAS = f"{FACILITY}-gas"
GAS_METER = f"{FACILITY}-m-gas"


def _editor(service: Service):  # type: ignore[no-untyped-def]
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    return client


def test_the_setup_pages_render_for_every_reader(store_service: Service) -> None:
    viewer, _ = store_service.login(store_service.users["viewer"])
    for url in (
        "/setup",
        f"/setup/facilities/{FACILITY}",
        f"/setup/sources/{GAS}",
        f"/setup/meters/{GAS_METER}",
    ):
        page = viewer.get(url)
        assert page.status_code == 200, url
        assert "data-api" not in page.text  # a viewer gets no form
    editor = _editor(store_service)
    page = editor.get(f"/setup/facilities/{FACILITY}").text
    assert 'id="meter-link"' in page and 'data-api="/api/v1/sources"' in page
    other, _ = store_service.login(store_service.users["other"])
    assert other.get(f"/setup/facilities/{FACILITY}").status_code == 404
    assert other.get(f"/setup/meters/{GAS_METER}").status_code == 404


def test_a_facility_source_and_meter_are_edited(any_service: Service) -> None:
    editor = _editor(any_service)
    facility = editor.put(
        f"/api/v1/facilities/{FACILITY}",
        json={"name": "炼钢厂 Steel plant", "timezone": "Asia/Shanghai", "grid_region": "CN-East"},
    )
    assert facility.status_code == 200, facility.text
    stored = any_service.data.facility(DEMO_ORG_ID, FACILITY)
    assert stored is not None and (stored.name, stored.grid_region) == (
        "炼钢厂 Steel plant",
        "CN-East",
    )
    factor = {
        "co2e_t_per_unit": 0.00216,
        "activity_unit": "Nm3",
        "source": "GB/T 32151.5",
        "name": "NG",
    }
    source = editor.put(
        f"/api/v1/sources/{GAS}",
        json={"facility_id": FACILITY, "name": "Boiler gas", "scope": 1, "method": "combustion"}
        | {"factor": factor},
    )
    assert source.status_code == 200, source.text
    saved = any_service.data.source(DEMO_ORG_ID, GAS)
    assert saved is not None and saved.method == "combustion" and saved.factor is not None
    assert saved.factor.co2e_t_per_unit == 0.00216
    meter = editor.put(
        f"/api/v1/meters/{GAS_METER}",
        json={"facility_id": FACILITY, "name": "Gas main", "unit": "kNm3", "source_id": GAS},
    )
    assert meter.status_code == 200, meter.text
    found = any_service.data.meter(DEMO_ORG_ID, GAS_METER)
    assert found is not None and (found.name, found.unit) == ("Gas main", "kNm3")


@pytest.mark.parametrize(
    ("url", "body", "message"),
    [
        (
            f"/api/v1/sources/{GAS}",
            {"facility_id": FACILITY, "name": "x", "scope": 1, "method": "burning"},
            "unknown method 'burning'",
        ),
        (
            f"/api/v1/sources/{GAS}",
            {"facility_id": FACILITY, "name": "x", "scope": 1}
            | {
                "factor": {
                    "co2e_t_per_unit": 1,
                    "activity_unit": "parsecs",
                    "source": "s",
                    "name": "n",
                }
            },
            "parsecs",
        ),
        (
            f"/api/v1/meters/{GAS_METER}",
            {"facility_id": FACILITY, "name": "x", "unit": "kWhh"},
            "kWhh",
        ),
        (
            f"/api/v1/meters/{GAS_METER}",
            {"facility_id": "fac-hot-rolling", "name": "x", "unit": "Nm3"},
            "cannot move to another facility",
        ),
        (
            f"/api/v1/facilities/{FACILITY}",
            {"name": "x", "timezone": "Mars/Olympus"},
            "Mars/Olympus",
        ),
    ],
)
def test_an_edit_is_refused_as_a_creation_would_be(
    any_service: Service, url: str, body: dict[str, object], message: str
) -> None:
    editor = _editor(any_service)
    refused = editor.put(url, json=body)
    assert refused.status_code == 422, refused.text
    assert message in refused.text


def test_a_meter_is_linked_only_to_a_source_whose_factor_counts_its_unit(
    any_service: Service,
) -> None:
    editor = _editor(any_service)
    power = f"{FACILITY}-power"
    refused = editor.put(f"/api/v1/meters/{GAS_METER}/source", json={"source_id": power})
    assert refused.status_code == 422
    assert "cannot be converted to MWh" in refused.json()["detail"]
    foreign = editor.put(
        f"/api/v1/meters/{GAS_METER}/source", json={"source_id": "src-other-power"}
    )
    assert foreign.status_code == 422 and "not a source of facility" in foreign.json()["detail"]
    output = f"{FACILITY}-m-output"
    linked = editor.put(f"/api/v1/meters/{output}/source", json={"source_id": GAS})
    assert linked.status_code == 422  # t of steel cannot be Nm3 of gas
    unlinked = editor.put(f"/api/v1/meters/{GAS_METER}/source", json={"source_id": None})
    assert unlinked.status_code == 200 and unlinked.json()["source_id"] is None
    relinked = editor.put(f"/api/v1/meters/{GAS_METER}/source", json={"source_id": GAS})
    assert relinked.status_code == 200
    meter = any_service.data.meter(DEMO_ORG_ID, GAS_METER)
    assert meter is not None and meter.source_id == GAS


def test_a_viewer_is_refused_before_the_body_is_read(any_service: Service) -> None:
    viewer, csrf = any_service.login(any_service.users["viewer"])
    viewer.headers["X-CSRF-Token"] = csrf
    for url in (
        f"/api/v1/facilities/{FACILITY}",
        f"/api/v1/sources/{GAS}",
        f"/api/v1/meters/{GAS_METER}",
        f"/api/v1/meters/{GAS_METER}/source",
    ):
        assert viewer.put(url, json={"junk": True}).status_code == 403, url
