"""Conflicts with stored readings: listed per organization, resolved by an editor with a note."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conftest import Service

METER = "fac-steelmaking-m-power"
AT = "2026-11-20T00:00:00Z"


def _client(service: Service, who: str):  # type: ignore[no-untyped-def]
    client, csrf = service.login(service.users[who])
    client.headers["X-CSRF-Token"] = csrf
    return client


def _post(client, meter: str, ts: str, value: float):  # type: ignore[no-untyped-def]
    row = {"meter_id": meter, "ts": ts, "value": value, "unit": "MWh"}
    response = client.post("/api/v1/readings", json={"batch_id": "t", "readings": [row]})
    assert response.status_code == 200, response.text
    return response.json()


def test_posted_conflict_is_listed_for_its_organization_and_resolved(
    store_service: Service,
) -> None:
    editor = _client(store_service, "editor")
    assert _post(editor, METER, AT, 2.5)["stored"] == 1
    second = _post(editor, METER, AT, 2.75)
    assert (second["stored"], second["duplicates"]) == (0, 1)
    # the other organization has a conflict of its own on its meter (10 MWh stored at 08:00)
    other = _client(store_service, "other")
    assert _post(other, "mtr-other-power", "2026-10-05T08:00:00Z", 11.0)["stored"] == 0

    viewer = _client(store_service, "viewer")
    listed = viewer.get("/api/v1/conflicts")
    assert listed.status_code == 200, listed.text
    [conflict] = listed.json()
    assert conflict["meter_id"] == METER and conflict["resolved_at"] is None
    assert "2.5 MWh" in conflict["reason"] and "2.75 MWh" in conflict["reason"]
    [theirs] = other.get("/api/v1/conflicts").json()
    assert theirs["meter_id"] == "mtr-other-power" and "11.0 MWh" in theirs["reason"]
    assert theirs["id"] != conflict["id"]

    url = f"/api/v1/conflicts/{conflict['id']}/resolve"
    note = {"note": "kept the stored value: the meter was read twice"}
    # a viewer may list but not resolve; another organization does not see the id at all
    assert viewer.post(url, json=note).status_code == 403
    missing = other.post(url, json=note)
    assert missing.status_code == 404 and "not found" in missing.json()["detail"]
    assert editor.post(url, json={"note": "   "}).status_code == 422
    too_large = editor.post(f"/api/v1/conflicts/{2**40}/resolve", json=note)
    assert too_large.status_code == 422  # not a server error on PostgreSQL's integer column

    resolved = editor.post(url, json=note)
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["resolution"] == note["note"]
    assert resolved.json()["resolved_at"] is not None
    assert viewer.get("/api/v1/conflicts", params={"unresolved": True}).json() == []
    assert viewer.get("/api/v1/conflicts").json()[0]["resolution"] == note["note"]
    # the stored value is kept
    stored = store_service.data.reading_at(
        "org-demo-steel", METER, datetime(2026, 11, 20, tzinfo=UTC)
    )
    assert stored is not None and stored.value == 2.5
    # the other organization's conflict is untouched
    assert other.get("/api/v1/conflicts", params={"unresolved": True}).json() == [theirs]


def test_conflicts_need_a_login(store_service: Service) -> None:
    client = store_service.client()
    assert client.get("/api/v1/conflicts").status_code == 401
    assert client.post("/api/v1/conflicts/1/resolve", json={"note": "x"}).status_code == 401


def test_quality_page_shows_conflicts_and_resolves_one(store_service: Service) -> None:
    editor = _client(store_service, "editor")
    _post(editor, METER, AT, 2.5)
    _post(editor, METER, AT, 2.75)
    page = editor.get("/quality")
    assert page.status_code == 200
    assert "与已存读数冲突" in page.text  # the demo users read the pages in Chinese
    assert "2.75 MWh" in page.text
    [conflict] = editor.get("/api/v1/conflicts").json()
    form = {"csrf_token": editor.headers["X-CSRF-Token"], "note": "confirmed 2.5"}
    done = editor.post(
        f"/quality/conflicts/{conflict['id']}/resolve", data=form, follow_redirects=False
    )
    assert done.status_code == 303, done.text
    assert editor.get("/api/v1/conflicts").json()[0]["resolution"] == "confirmed 2.5"
    assert "confirmed 2.5" in editor.get("/quality").text
    # the other organization's page does not show the demo organization's conflict
    other = _client(store_service, "other")
    assert "2.75 MWh" not in other.get("/quality").text
