"""Period close through the API: roles, the second person's approval, the lock on new data,
restatement, and the ledger receipt of each approved run."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from plant_fixture import DEMO_ORG_ID

from carbonlink.ledger import Ledger
from carbonlink.store import Store, operations, periods

if TYPE_CHECKING:
    from conftest import Service

pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

GAS = "fac-steelmaking-gas"


def steelmaking_2025() -> dict[str, Any]:
    """The plant's steelmaking gas for 2025: 1 000 kNm3 on the invoices (about 2 162 t CO2)."""
    return {
        "organization": "Demo Steel",
        "period": {"start": "2025-01-01", "end": "2025-12-31"},
        "gwp": "AR5",
        "jurisdiction": "CN",
        "facilities": [
            {
                "id": "fac-steelmaking",
                "timezone": "Asia/Shanghai",
                "sources": [
                    {
                        "id": GAS,
                        "method": "combustion",
                        "fuel": "natural_gas",
                        "activity": {"quantity": 1000, "unit": "kNm3"},
                    }
                ],
            }
        ],
    }


def as_user(service: Service, role: str) -> TestClient:
    client, csrf = service.login(service.users[role])
    client.headers["X-CSRF-Token"] = csrf
    return client


def test_close_a_period_with_a_second_person_lock_it_and_restate_it(
    store_service: Service, engine: sa.Engine
) -> None:
    admin, editor = as_user(store_service, "admin"), as_user(store_service, "admin")
    editor = as_user(store_service, "editor")
    auditor, viewer = as_user(store_service, "auditor"), as_user(store_service, "viewer")
    opened = editor.post("/api/v1/periods", json=steelmaking_2025())
    assert opened.status_code == 201, opened.text
    pid = opened.json()["id"]
    assert viewer.post(f"/api/v1/periods/{pid}/runs").status_code == 403
    first = editor.post(f"/api/v1/periods/{pid}/runs")
    assert first.status_code == 201, first.text
    assert first.json()["changes"] == [] and first.json()["runs"][0]["state"] == "draft"
    scope1 = first.json()["runs"][0]["totals"]["scope1"]
    assert scope1 == pytest.approx(2162, rel=0.01)  # 1 000 kNm3 × 2.162 t CO2 per kNm3

    # March's gas entered by hand replaces the document's yearly quantity: new data
    entered = editor.post(
        "/api/v1/activity-entries",
        json={"source_id": GAS, "period": "2025-03", "quantity": 1200, "unit": "kNm3"},
    )
    assert entered.status_code == 201, entered.text
    second = editor.post(f"/api/v1/periods/{pid}/runs").json()
    changes = second["changes"]
    assert {(c["source"], tuple(c["reasons"])) for c in changes} == {(GAS, ("activity",))}
    assert sum(c["new_tco2e"] for c in changes) == pytest.approx(scope1 * 1.2, rel=1e-6)
    assert sum(c["old_tco2e"] for c in changes) == pytest.approx(scope1, rel=1e-6)
    assert [r["state"] for r in second["runs"]] == ["draft", "superseded"]

    # the submitter cannot approve: an admin who submitted is refused, another person approves
    assert admin.post(f"/api/v1/periods/{pid}/submit").status_code == 200
    own = admin.post(f"/api/v1/periods/{pid}/approve")
    assert own.status_code == 422 and "another person approves" in own.json()["detail"]
    assert editor.post(f"/api/v1/periods/{pid}/approve").status_code == 403
    assert editor.post(f"/api/v1/periods/{pid}/runs").status_code == 422  # in review
    approved = auditor.post(f"/api/v1/periods/{pid}/approve")
    assert approved.status_code == 200, approved.text
    run = approved.json()["runs"][0]
    assert run["state"] == "approved" and run["approved_by"] == "Test auditor"
    content = Ledger(engine).entry(run["ledger_index"]).content()
    assert content["files"] == {f"period-run-{run['id']}.json": run["receipt_sha256"]}
    kept = Store(engine).document(run["receipt_sha256"]).body.decode()
    assert run["inventory_id"] in kept and '"approved_by": "Test auditor"' in kept

    assert auditor.post(f"/api/v1/periods/{pid}/lock").status_code == 200
    stored = periods.period_of(engine, DEMO_ORG_ID, pid)
    assert stored is not None and stored.state == "locked"

    # a locked period refuses new data for its days, and says what to do
    late = editor.post(
        "/api/v1/activity-entries",
        json={"source_id": GAS, "period": "2025-11", "quantity": 5, "unit": "kNm3"},
    )
    assert late.status_code == 422 and "is locked" in late.json()["detail"]
    assert "restatement" in late.json()["hint"]
    readings = editor.post(
        "/api/v1/readings",
        json={"readings": [
            {"meter_id": "fac-steelmaking-m-gas", "ts": "2025-06-01T02:00:00Z",
             "value": 410.0, "unit": "Nm3"},
        ]},
    )  # fmt: skip
    assert readings.status_code == 422 and "is locked" in readings.json()["detail"]
    outside = editor.post(
        "/api/v1/activity-entries",
        json={"source_id": GAS, "period": "2026-01", "quantity": 5, "unit": "kNm3"},
    )
    assert outside.status_code == 201

    # reopening: administrators only, with a reason; a new draft run, the locked one restated
    assert auditor.post(f"/api/v1/periods/{pid}/reopen", json={"reason": "x"}).status_code == 403
    reopened = admin.post(
        f"/api/v1/periods/{pid}/reopen", json={"reason": "supplier corrected the invoice"}
    )
    assert reopened.status_code == 201, reopened.text
    body = reopened.json()
    assert body["state"] == "draft"
    assert [r["state"] for r in body["runs"]] == ["draft", "restated", "superseded"]
    assert body["runs"][0]["reason"] == "supplier corrected the invoice"
    assert body["runs"][1]["ledger_index"] == run["ledger_index"]  # history kept
    assert len(periods.runs_of(engine, pid)) == 3


def test_roles_are_refused_before_the_body_is_read_and_others_see_nothing(
    store_service: Service,
) -> None:
    editor, viewer = as_user(store_service, "editor"), as_user(store_service, "viewer")
    other = as_user(store_service, "other")
    assert viewer.post("/api/v1/periods", json={"nonsense": 1}).status_code == 403
    pid = editor.post("/api/v1/periods", json=steelmaking_2025()).json()["id"]
    assert viewer.post(f"/api/v1/periods/{pid}/comments", json={}).status_code == 403
    assert editor.post(f"/api/v1/periods/{pid}/reopen", json={}).status_code == 403
    again = editor.post("/api/v1/periods", json=steelmaking_2025())
    assert again.status_code == 422 and "open already" in again.json()["detail"]
    assert other.get(f"/api/v1/periods/{pid}").status_code == 404
    assert other.post(f"/api/v1/periods/{pid}/runs").status_code == 404
    copy = {"start": "2026-01-01", "end": "2026-12-31"}
    assert other.post(f"/api/v1/periods/{pid}/copies", json=copy).status_code == 404
    assert other.get("/api/v1/periods").json() == []
    assert other.get(f"/periods/{pid}").status_code == 404
    refused = viewer.post(f"/api/v1/periods/{pid}/copies", json={})
    assert refused.status_code == 403
    backwards = editor.post(
        f"/api/v1/periods/{pid}/copies", json={"start": "2026-12-31", "end": "2026-01-01"}
    )
    assert backwards.status_code == 422 and "ends before it starts" in backwards.text
    empty = editor.post(f"/api/v1/periods/{pid}/comments", json={"body": "checked"})
    assert empty.status_code == 422 and "no run" in empty.json()["detail"]


def test_the_demo_ships_its_inventory_as_a_period_in_review(
    store_service: Service, engine: sa.Engine
) -> None:
    from carbonlink.demo.service import submit_for_review
    from carbonlink.domain.engine import account
    from carbonlink.domain.inventory import Inventory
    from carbonlink.store import results

    document = steelmaking_2025()
    inventory = Inventory.model_validate(document)
    saved = results.save_inventory(
        engine, DEMO_ORG_ID, account(inventory).to_dict(), results.settings_hash(inventory)
    )
    submit_for_review(engine, inventory.model_dump(mode="json"), saved.id)
    submit_for_review(engine, inventory.model_dump(mode="json"), saved.id)  # a second demo run
    [period] = [
        p for p in periods.periods_of(engine, DEMO_ORG_ID) if p.period_start == "2025-01-01"
    ]
    assert period.state == "in_review"
    [run] = periods.runs_of(engine, period.id)
    assert run.inventory_id == saved.id and run.submitted_by == "李工程师"
    approved = as_user(store_service, "auditor").post(f"/api/v1/periods/{period.id}/approve")
    assert approved.status_code == 200 and approved.json()["runs"][0]["ledger_index"] is not None


def test_a_reviewer_returns_a_run_with_a_comment_and_it_is_computed_again(
    store_service: Service, engine: sa.Engine
) -> None:
    editor, auditor = as_user(store_service, "editor"), as_user(store_service, "auditor")
    pid = editor.post("/api/v1/periods", json=steelmaking_2025()).json()["id"]
    assert editor.post(f"/api/v1/periods/{pid}/submit").status_code == 422  # nothing computed
    editor.post(f"/api/v1/periods/{pid}/runs")
    editor.post(f"/api/v1/periods/{pid}/submit")
    said = auditor.post(f"/api/v1/periods/{pid}/comments", json={"body": "March is missing"})
    assert said.status_code == 201 and said.json()["author"] == "Test auditor"
    assert editor.post(f"/api/v1/periods/{pid}/return").status_code == 403
    returned = auditor.post(f"/api/v1/periods/{pid}/return").json()
    assert returned["state"] == "draft" and returned["runs"][0]["submitted_by"] is None
    again = editor.post(f"/api/v1/periods/{pid}/runs").json()
    assert [r["state"] for r in again["runs"]] == ["draft", "superseded"]
    assert again["changes"] == []  # same stored data, same lines
    assert [c.body for c in periods.comments_of(engine, pid)] == ["March is missing"]


def test_the_first_period_is_opened_from_an_inventory_file(
    store_service: Service, engine: sa.Engine
) -> None:
    import yaml

    editor, viewer = as_user(store_service, "editor"), as_user(store_service, "viewer")
    text = yaml.safe_dump(steelmaking_2025(), allow_unicode=True).encode()
    file = {"file": ("steelmaking.yaml", text, "application/yaml")}
    assert viewer.post("/api/v1/periods/files", files=file).status_code == 403

    opened = editor.post("/api/v1/periods/files", files=file)
    assert opened.status_code == 201, opened.text
    period = periods.period_of(engine, DEMO_ORG_ID, opened.json()["id"])
    assert period is not None
    assert (period.period_start, period.period_end) == ("2025-01-01", "2025-12-31")
    assert period.document["facilities"][0]["sources"][0]["id"] == GAS
    assert period.created_by == "Test editor" and period.state == "draft"
    # kept before it was read, where the report jobs look for inventory files
    assert any(body == text for _, body in operations.kept_inventories(engine))
    # the same range again is refused; new dates open another period from the same file
    again = editor.post("/api/v1/periods/files", files=file)
    assert again.status_code == 422 and "open already" in again.json()["detail"]
    dated = editor.post(
        "/api/v1/periods/files", files=file, data={"start": "2026-01-01", "end": "2026-12-31"}
    )
    assert dated.status_code == 201, dated.text
    assert (dated.json()["period_start"], dated.json()["period_end"]) == (
        "2026-01-01",
        "2026-12-31",
    )
    computed = editor.post(f"/api/v1/periods/{dated.json()['id']}/runs")
    assert computed.status_code == 201, computed.text


@pytest.mark.parametrize(
    ("body", "data", "expected"),
    [
        (b"organization: [unclosed", {}, "not valid YAML"),
        (b"", {}, "is empty"),
        (b"\xff\xfe\x00bad", {}, "not UTF-8"),
        (b"organization: X\n", {}, "period"),
        (None, {"start": "2027-01-01"}, "both the first and the last day"),
        (None, {"start": "2027-12-31", "end": "2027-01-01"}, "before the first day"),
    ],
)
def test_a_bad_inventory_file_is_refused_with_the_file_named(
    store_service: Service, body: bytes | None, data: dict[str, str], expected: str
) -> None:
    import yaml

    editor = as_user(store_service, "editor")
    if body is None:
        body = yaml.safe_dump(steelmaking_2025()).encode()
    refused = editor.post(
        "/api/v1/periods/files", files={"file": ("plant.yaml", body, "text/yaml")}, data=data
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert expected in problem["detail"] or expected in str(problem.get("errors"))
    assert "plant.yaml" in refused.text
