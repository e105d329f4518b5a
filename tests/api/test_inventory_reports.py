"""POST /api/v1/inventories/report: reports of metered inventories, bad input refused or flagged."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from conftest import Service


@pytest.fixture
def editor(store_service: Service):  # type: ignore[no-untyped-def]
    client, csrf = store_service.login(store_service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    return client


def inventory(power: dict[str, Any], period: tuple[str, str] = ("2026-11-16", "2026-11-30")):
    return {
        "organization": "华东示范钢铁有限公司",
        "period": {"start": period[0], "end": period[1]},
        "facilities": [
            {
                "id": "fac-steelmaking",
                "name": "Steelmaking",
                "grid": "CN-East",
                "timezone": "Asia/Shanghai",
                "sources": [{"id": "grid-power", "method": "electricity", "activity": power}],
            }
        ],
    }


@pytest.fixture
def meter(editor) -> str:  # type: ignore[no-untyped-def]
    """A new meter of the demo organization with six hourly 10 MWh readings on 20 November."""
    created = editor.post(
        "/api/v1/meters", json={"facility_id": "fac-steelmaking", "name": "feeder", "unit": "MWh"}
    )
    assert created.status_code in (200, 201), created.text
    meter_id: str = created.json()["id"]
    rows = [
        {"meter_id": meter_id, "ts": f"2026-11-20T{hour:02d}:00:00+08:00", "value": 10.0,
         "unit": "MWh"}
        for hour in range(10, 16)
    ]  # fmt: skip
    posted = editor.post("/api/v1/readings", json={"readings": rows})
    assert posted.json()["stored"] == 6, posted.text
    return meter_id


def test_metered_inventory_is_reported_from_the_stored_readings(editor, meter: str) -> None:  # type: ignore[no-untyped-def]
    body = {"inventory": inventory({"meter": meter, "unit": "MWh"})}
    response = editor.post("/api/v1/inventories/report", json=body)
    assert response.status_code == 200, response.text
    document = response.json()
    (power,) = document["tables"]["by_source"]["rows"]
    assert power["activity"] == pytest.approx(60.0)
    # 60 MWh × 0.5500 t/MWh (East China grid, 2023 data)
    assert document["totals"]["scope2_location"] == pytest.approx(33.0)

    pdf = editor.post("/api/v1/inventories/report?format=pdf&kind=china", json=body)
    assert pdf.status_code == 200, pdf.text[:300]
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_another_organizations_meter_is_not_found(store_service: Service, meter: str) -> None:
    client, csrf = store_service.login(store_service.users["other"])
    client.headers["X-CSRF-Token"] = csrf
    body = {"inventory": inventory({"meter": meter, "unit": "MWh"})}
    response = client.post("/api/v1/inventories/report", json=body)
    assert response.status_code == 404
    assert "not found in your organization" in response.json()["detail"]
    assert "60" not in response.text


def test_empty_and_zero_inventories_are_refused(editor) -> None:  # type: ignore[no-untyped-def]
    empty = inventory({"quantity": 1, "unit": "MWh"})
    empty["facilities"][0]["sources"] = []
    response = editor.post("/api/v1/inventories/report", json={"inventory": empty})
    assert response.status_code == 422
    assert "nothing to report" in response.json()["detail"]

    zero = {"inventory": inventory({"quantity": 0, "unit": "MWh"})}
    response = editor.post("/api/v1/inventories/report", json=zero)
    assert response.status_code == 422
    assert "every emission of the inventory is zero" in response.json()["detail"]
    allowed = editor.post("/api/v1/inventories/report?allow_zero=true", json=zero)
    assert allowed.status_code == 200
    assert any("zero" in warning for warning in allowed.json()["warnings"])


def test_period_beyond_the_factor_vintages_is_warned_of_in_the_report(editor) -> None:  # type: ignore[no-untyped-def]
    body = {"inventory": inventory({"quantity": 100, "unit": "MWh"}, ("2031-01-01", "2031-12-31"))}
    response = editor.post("/api/v1/inventories/report?format=html", json=body)
    assert response.status_code == 200, response.text
    assert "cn-mee-nbs/grid_average/CN-East/2023" in response.text
    assert "2023" in response.text and "2031" in response.text
    document = editor.post("/api/v1/inventories/report", json=body).json()
    assert any("2023" in w and "2031" in w for w in document["warnings"]), document["warnings"]


def test_statement_and_base_year_through_the_api(editor) -> None:  # type: ignore[no-untyped-def]
    body = {
        "inventory": inventory({"quantity": 100, "unit": "MWh"}),
        "statement": {"responsible": {"name": "Wang Li", "role": "Head of energy"}},
    }
    document = editor.post("/api/v1/inventories/report?base_year=2026", json=body).json()
    assert document["iso14064"]["info"]["responsible"] == "Wang Li, Head of energy"
    assert document["iso14064"]["info"]["conformity"] == "not provided"
    assert document["base_year"]["year"] == 2026
    late = editor.post("/api/v1/inventories/report?base_year=2030", json=body)
    assert late.status_code == 422
    assert "the base year 2030 lies after the reporting period" in late.json()["detail"]
    typo = dict(body, statement={"responsable": {"name": "x"}})
    bad = editor.post("/api/v1/inventories/report", json=typo)
    assert bad.status_code == 422
    assert "unknown field 'responsable'" in bad.json()["detail"]
