"""Activity values entered by hand through the API the activity page uses: evidence kept and
recorded in the ledger, units checked against the source's factor, corrections that keep the
trail, readers refused before the body is read."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import sqlalchemy as sa
from fastapi.testclient import TestClient

from carbonlink.ledger import Ledger
from carbonlink.provenance.reports import recompute_report
from carbonlink.store import Store

if TYPE_CHECKING:
    from conftest import Service

GAS = "fac-steelmaking-gas"  # its factor is per Nm3
TICKET = "过磅单 2026-11\nNm3 delivered: 1 280 500\n".encode()


def _as(service: Service, role: str) -> TestClient:
    client, csrf = service.login(service.users[role])
    client.headers["X-CSRF-Token"] = csrf
    return client


def test_a_value_with_evidence_is_corrected_and_keeps_its_trail(
    service: Service, engine: sa.Engine
) -> None:
    editor = _as(service, "editor")
    sent = editor.post("/api/v1/evidence", files={"file": ("ticket.txt", TICKET, "text/plain")})
    assert sent.status_code == 201, sent.text
    evidence = sent.json()
    assert evidence["sha256"] == hashlib.sha256(TICKET).hexdigest()
    entry = Ledger(engine).entry(evidence["ledger_index"])
    assert entry.content()["files"] == {"ticket.txt": evidence["sha256"]}
    recompute_report(entry, Ledger(engine))  # the kept copy matches what the ledger recorded
    again = editor.post("/api/v1/evidence", files={"file": ("ticket.txt", TICKET, "text/plain")})
    assert again.json()["ledger_index"] == evidence["ledger_index"]  # recorded once

    body = {"source_id": GAS, "period": "2026-11", "quantity": 1280.5, "unit": "kNm3"}
    created = editor.post(
        "/api/v1/activity-entries", json=body | {"evidence_sha256": evidence["sha256"]}
    )
    assert created.status_code == 201, created.text
    first = created.json()
    assert first["evidence_name"] == "ticket.txt" and first["current"] is True
    fixed = editor.post(
        f"/api/v1/activity-entries/{first['id']}/corrections",
        json={"quantity": 1208.5, "unit": "kNm3", "reason": "digits swapped on entry"},
    )
    assert fixed.status_code == 201, fixed.text
    second = fixed.json()
    assert second["supersedes"] == first["id"] and second["reason"] == "digits swapped on entry"
    assert second["evidence_sha256"] == evidence["sha256"]  # kept from the corrected entry
    listed = {e["id"]: e for e in editor.get("/api/v1/activity-entries").json()}
    assert listed[first["id"]]["quantity"] == 1280.5 and listed[first["id"]]["current"] is False
    assert listed[second["id"]]["current"] is True
    twice = editor.post(
        f"/api/v1/activity-entries/{first['id']}/corrections",
        json={"quantity": 1, "unit": "kNm3", "reason": "again"},
    )
    assert twice.status_code == 422 and "corrected already" in twice.json()["detail"]
    download = editor.get(f"/api/v1/activity-entries/{second['id']}/evidence")
    assert download.status_code == 200 and download.content == TICKET
    assert Store(engine).document(evidence["sha256"]).body == TICKET


def test_units_months_evidence_and_sources_are_checked(service: Service) -> None:
    editor = _as(service, "editor")
    base = {"source_id": GAS, "period": "2026-11", "quantity": 10, "unit": "Nm3"}
    for change, message in (
        ({"unit": "MWh"}, "cannot be converted to Nm3"),
        ({"unit": "立方米"}, "立方米"),
        ({"period": "2026-13"}, "YYYY-MM"),
        ({"quantity": -1}, "greater than or equal to 0"),
        ({"evidence_sha256": "0" * 64}, "no evidence document"),
    ):
        refused = editor.post("/api/v1/activity-entries", json=base | change)
        assert refused.status_code == 422, (change, refused.text)
        assert message in refused.text, (change, refused.text)
    foreign = editor.post("/api/v1/activity-entries", json=base | {"source_id": "src-other-power"})
    assert foreign.status_code == 404


def test_readers_are_refused_first_and_others_see_nothing(service: Service) -> None:
    editor = _as(service, "editor")
    made = editor.post(
        "/api/v1/activity-entries",
        json={"source_id": GAS, "period": "2026-10", "quantity": 5, "unit": "Nm3"},
    ).json()
    viewer = _as(service, "viewer")
    assert viewer.get("/api/v1/activity-entries").status_code == 200
    assert viewer.post("/api/v1/activity-entries", json={"x": 1}).status_code == 403
    assert viewer.post("/api/v1/evidence", files={"x": ("x", b"")}).status_code == 403
    url = f"/api/v1/activity-entries/{made['id']}/corrections"
    assert viewer.post(url, json={"x": 1}).status_code == 403
    other = _as(service, "other")
    assert other.get("/api/v1/activity-entries").json() == []
    assert other.post(url, json={"quantity": 1, "unit": "t", "reason": "x"}).status_code == 404
