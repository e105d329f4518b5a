"""Files of readings through the API the import page uses: kept, mapped, previewed, imported in
the background, and their quarantined rows corrected or discarded."""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi.testclient import TestClient
from plant_fixture import DEMO_ORG_ID

from carbonlink.ledger import Ledger
from carbonlink.store import Store
from carbonlink.store.data_entry import file_import

if TYPE_CHECKING:
    from conftest import Service

GAS = "fac-steelmaking-m-gas"
# Local times in Shanghai, end-stamped hours; line 4 is text, line 5 names a meter of another
# organization, line 6 repeats line 2 with the same value (a duplicate within the file).
CSV = (
    "时间,表号,读数,单位\n"
    "01/12/2026 01:00,fac-steelmaking-m-gas,410.5,Nm3\n"
    "01/12/2026 02:00,fac-steelmaking-m-gas,398,Nm3\n"
    "01/12/2026 03:00,fac-steelmaking-m-gas,n/a,Nm3\n"
    "01/12/2026 04:00,mtr-other-power,10,MWh\n"
    "01/12/2026 01:00,fac-steelmaking-m-gas,410.5,Nm3\n"
).encode()
MAPPING = {
    "layout": "long",
    "time_column": "时间",
    "day_first": True,
    "time_zone": "Asia/Shanghai",
    "labelling": "end",
    "meter_column": "表号",
    "value_column": "读数",
    "unit_column": "单位",
}


def _as(service: Service, role: str) -> TestClient:
    client, csrf = service.login(service.users[role])
    client.headers["X-CSRF-Token"] = csrf
    return client


def _finished(client: TestClient, import_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        status = client.get(f"/api/v1/imports/{import_id}").json()
        if status["status"] in {"finished", "failed"}:
            return status
        assert time.monotonic() < deadline, status
        time.sleep(0.05)


def test_a_file_is_kept_mapped_previewed_and_imported(
    store_service: Service, engine: sa.Engine
) -> None:
    editor = _as(store_service, "editor")
    sent = editor.post("/api/v1/imports", files={"file": ("gas-12月.csv", CSV, "text/csv")})
    assert sent.status_code == 201, sent.text
    body = sent.json()
    assert body["header"] == ["时间", "表号", "读数", "单位"] and body["status"] == "received"
    assert body["sample"][0] == ["01/12/2026 01:00", GAS, "410.5", "Nm3"]
    # kept as received, under its SHA-256, before anything was read
    assert body["sha256"] == hashlib.sha256(CSV).hexdigest()
    assert Store(engine).document(body["sha256"]).body == CSV
    import_id = body["id"]

    preview = editor.post(f"/api/v1/imports/{import_id}/preview", json=MAPPING).json()
    # 01:00 on 1 December in Shanghai is 17:00 UTC on 30 November
    assert preview["rows"][0] == {
        "meter_id": GAS,
        "ts": "2026-11-30T17:00:00Z",
        "value": 410.5,
        "unit": "Nm3",
    }
    kinds = {r["line"]: r["kind"] for r in preview["rejected"]}
    assert kinds == {4: "text in a number", 5: "unknown meter"}
    assert file_import(engine, DEMO_ORG_ID, import_id).status == "received"  # type: ignore[union-attr]

    started = editor.post(f"/api/v1/imports/{import_id}/run", json=MAPPING)
    assert started.status_code == 202, started.text
    done = _finished(editor, import_id)
    assert done["status"] == "finished", done
    assert (done["stored"], done["duplicates"], done["quarantined"]) == (2, 1, 2)
    assert done["rows_done"] == 5
    first = store_service.data.reading_at(DEMO_ORG_ID, GAS, datetime(2026, 11, 30, 17, tzinfo=UTC))
    assert first is not None and first.value == 410.5
    # the batch is in the ledger with the file's hash
    found = file_import(engine, DEMO_ORG_ID, import_id)
    assert found is not None and found.batch_id
    batch = Store(engine).batch(found.batch_id)
    assert batch.file_sha256 == body["sha256"] and batch.ledger_index is not None
    assert Ledger(engine).entry(batch.ledger_index).subject == f"import-batch:{found.batch_id}"
    # a second start imports nothing again
    again = editor.post(f"/api/v1/imports/{import_id}/run", json=MAPPING).json()
    assert again["stored"] == 2

    # the data-quality page lists them with the organization's other quarantined records
    quality = editor.get("/quality").text
    assert "mtr-other-power,10,MWh" in quality
    held = editor.get(f"/api/v1/imports/{import_id}/quarantine").json()
    assert [(h["line"], h["kind"]) for h in held] == [(4, "text in a number"), (5, "unknown meter")]
    text_row, foreign_row = held
    url = f"/api/v1/imports/{import_id}/quarantine"
    wrong = {"meter_id": GAS, "ts": "2026-12-01T03:00:00+08:00", "value": 402, "unit": "MWh"}
    refused = editor.post(f"{url}/{text_row['id']}/correct", json=wrong | {"note": "log"})
    assert refused.status_code == 422 and "MWh" in refused.json()["detail"]
    fixed = wrong | {"unit": "Nm3", "note": "read from the paper log"}
    corrected = editor.post(f"{url}/{text_row['id']}/correct", json=fixed)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["stored"] == 1
    assert "read from the paper log" in corrected.json()["record"]["resolution"]
    stored = store_service.data.reading_at(DEMO_ORG_ID, GAS, datetime(2026, 11, 30, 19, tzinfo=UTC))
    assert stored is not None and stored.value == 402
    discarded = editor.post(f"{url}/{foreign_row['id']}/discard", json={"note": "not our meter"})
    assert discarded.status_code == 200
    assert "not our meter" in discarded.json()["record"]["resolution"]
    twice = editor.post(f"{url}/{foreign_row['id']}/discard", json={"note": "again"})
    assert twice.status_code == 422 and "dealt with already" in twice.json()["detail"]


def test_readers_are_refused_first_and_other_organizations_see_nothing(
    store_service: Service,
) -> None:
    editor = _as(store_service, "editor")
    import_id = editor.post("/api/v1/imports", files={"file": ("gas.csv", CSV, "text/csv")}).json()[
        "id"
    ]
    viewer = _as(store_service, "viewer")
    assert viewer.get(f"/api/v1/imports/{import_id}").status_code == 200
    assert viewer.post("/api/v1/imports", files={"nothing": ("x", b"")}).status_code == 403
    for path in ("preview", "run", "columns"):
        assert viewer.post(f"/api/v1/imports/{import_id}/{path}", json={}).status_code == 403
    other = _as(store_service, "other")
    assert other.get(f"/api/v1/imports/{import_id}").status_code == 404
    assert other.post(f"/api/v1/imports/{import_id}/run", json=MAPPING).status_code == 404


def test_a_file_that_is_not_csv_or_xlsx_is_refused(store_service: Service) -> None:
    editor = _as(store_service, "editor")
    refused = editor.post("/api/v1/imports", files={"file": ("gas.pdf", b"%PDF", "x")})
    assert refused.status_code == 422 and "CSV and XLSX" in refused.json()["detail"]
    bad = editor.post("/api/v1/imports", files={"file": ("gas.csv", CSV, "text/csv")}).json()
    mapping = MAPPING | {"time_column": "Zeit"}
    missing = editor.post(f"/api/v1/imports/{bad['id']}/run", json=mapping)
    assert missing.status_code == 422 and "'Zeit'" in missing.json()["detail"]


def test_an_encoding_that_cannot_read_the_file_is_refused_with_what_to_do(
    store_service: Service,
) -> None:
    editor = _as(store_service, "editor")
    sent = editor.post("/api/v1/imports", files={"file": ("gas.csv", CSV, "text/csv")}).json()
    for step in ("columns", "preview"):
        refused = editor.post(
            f"/api/v1/imports/{sent['id']}/{step}", json=MAPPING | {"encoding": "utf-16"}
        )
        assert refused.status_code == 422, refused.text
        assert "cannot be read as utf-16" in refused.json()["detail"]


def test_an_xlsx_file_is_kept_under_its_full_media_type(
    store_service: Service, engine: sa.Engine
) -> None:
    """The XLSX media type is 65 characters long: kept whole on PostgreSQL as on SQLite."""
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in CSV.decode("utf-8").splitlines():
        sheet.append(line.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    body = buffer.getvalue()
    editor = _as(store_service, "editor")
    sent = editor.post(
        "/api/v1/imports",
        files={"file": ("gas.xlsx", body, "application/octet-stream")},
    )
    assert sent.status_code == 201, sent.text
    kept = Store(engine).document(sent.json()["sha256"])
    assert kept.body == body
    assert kept.media_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
