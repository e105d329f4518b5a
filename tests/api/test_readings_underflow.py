"""A posted value too small for a float (1e-400) is refused, not stored as 0."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Service

METER = "fac-steelmaking-m-power"


def _body(*values: str) -> str:
    rows = [
        f'{{"meter_id": "{METER}", "ts": "2026-11-20T0{i}:00:00Z", "value": {v}, "unit": "MWh"}}'
        for i, v in enumerate(values)
    ]
    return '{"batch_id": "tiny", "readings": [' + ", ".join(rows) + "]}"


def _editor(service: Service):  # type: ignore[no-untyped-def]
    client, csrf = service.login(service.users["editor"])
    client.headers["X-CSRF-Token"] = csrf
    client.headers["Content-Type"] = "application/json"
    return client


def test_underflowing_value_is_refused_naming_its_row(any_service: Service) -> None:
    editor = _editor(any_service)
    response = editor.post("/api/v1/readings", content=_body("2.5", "1e-400", "-12E-999"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    errors = response.json()["errors"]
    assert [e["loc"] for e in errors] == [
        ["body", "readings", 1, "value"],
        ["body", "readings", 2, "value"],
    ]
    assert errors[0]["type"] == "float_underflow" and "1e-400" in errors[0]["msg"]
    # nothing of the batch was stored, not even the good row
    assert (
        any_service.data.readings("org-demo-steel", METER, datetime(2026, 11, 19, tzinfo=UTC)) == []
    )


def test_zero_and_small_numbers_are_still_accepted(any_service: Service) -> None:
    editor = _editor(any_service)
    response = editor.post("/api/v1/readings", content=_body("0.0", "0e-400", "5e-324"))
    assert response.status_code == 200, response.text
    assert response.json()["stored"] == 3
    stored = any_service.data.readings("org-demo-steel", METER, datetime(2026, 11, 19, tzinfo=UTC))
    assert sorted(r.value for r in stored) == [0.0, 0.0, 5e-324]


def test_a_caller_without_login_is_refused_first(any_service: Service) -> None:
    client = any_service.client()
    response = client.post(
        "/api/v1/readings", content=_body("1e-400"), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401
