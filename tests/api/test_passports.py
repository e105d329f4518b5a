"""Resolving the demo coils' identifiers to their passports, as outside clients do.

The GS1 Digital Link URIs are checked by digital-link.js (GS1's URI grammar, from npm, run by
node) and resolved by it over HTTP against the service on a loopback port; the Handle is
resolved by a plain Handle REST client (httpx, the requests a Handle client sends); the
passport's receipt is checked with the ledger's public key only.

Hand-worked numbers (supply_fixture): the coil's PCF is
HRC = (1.4 + 0.3673 × 0.5082 + 0.001224 × 6.146667 + 0.01 × 0.1) / (1 − 0.01 × 1.06)
    = 1.595184 / 0.9894 = 1.6123 kg CO2e per kg, of which 1.4 the works' own;
coil-2025-000123 weighs 22.5 t, so it carries 22 500 kg × HRC = 36.28 t CO2e.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import sqlalchemy as sa
from browser_support import free_port, served
from passport_fixture import COILS, GTIN, HEAT, PREFIX, digital_link_js, seed_passports
from plant_fixture import DEMO_ORG_ID
from supply_fixture import HRC

from carbonlink.batches.passport import verify_passport
from carbonlink.ledger.errors import ReceiptError
from conftest import build_service

if TYPE_CHECKING:
    from conftest import Service


@pytest.fixture
def live(engine: sa.Engine, tmp_path: Path) -> Any:
    """The service on a loopback port whose public URL is that port, with the coils issued."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    service = build_service(engine, tmp_path, public_url=url)
    seeded = seed_passports(engine, DEMO_ORG_ID, tmp_path, resolver=url)
    with served(service.app, port):
        yield url, service, seeded


def test_the_coils_digital_links_are_valid_and_resolve(live: Any) -> None:
    url, _service, _seeded = live
    with httpx.Client(base_url=url) as client:
        passports = [client.get(f"/api/passports/{PREFIX}/{coil}").json() for coil in COILS]
    uris = [p["identifiers"]["gs1DigitalLink"] for p in passports]
    assert uris == [
        f"{url}/01/{GTIN}/10/{COILS[0]}/21/0001",
        f"{url}/01/{GTIN}/10/{COILS[1]}/21/0002",
    ]
    wrong_digit = f"{url}/01/{GTIN[:-1]}1/10/{COILS[0]}/21/0001"
    unknown = f"{url}/01/{GTIN}/10/coil-2099-999999/21/0001"
    result = digital_link_js(
        {
            "uris": [*uris, wrong_digit],
            "resolve": [
                {"uri": uris[0]},
                {"uri": uris[0], "linkType": "gs1:pip"},
                {"uri": uris[0], "linkType": "gs1:sustainabilityInfo"},
                {"uri": uris[0], "linkType": "gs1:certificationInfo"},
                {"uri": uris[0], "linkType": "gs1:recipeInfo"},
                {"uri": uris[1], "linkType": "all"},
                {"uri": uris[1], "accept": "application/linkset+json"},
                {"uri": unknown, "accept": "application/json"},
                {"uri": wrong_digit},
            ],
        }
    )
    checked = result["uris"]
    assert [item["valid"] for item in checked] == [True, True, False]
    assert checked[0]["identifier"] == {"01": GTIN}
    assert checked[0]["keyQualifiers"] == {"10": COILS[0], "21": "0001"}
    assert [item["roundTrip"] for item in checked[:2]] == uris
    default, pip, info, certification, unavailable, linkset, negotiated, missing, bad = result[
        "resolved"
    ]
    page = f"{url}/passports/{PREFIX}/{COILS[0]}"
    # No link type, gs1:pip and a link type the coil does not offer: the default link, 307.
    for answer in (default, pip, unavailable):
        assert (answer["status"], answer["location"]) == (307, page)
        assert f'<{uris[0]}?linkType=all>; rel="linkset"' in answer["link"]
        assert 'rel="https://gs1.org/voc/sustainabilityInfo"' in answer["link"]
    assert (info["status"], info["location"]) == (307, f"{url}/api/passports/{PREFIX}/{COILS[0]}")
    assert certification["location"].endswith(f"/api/passports/{PREFIX}/{COILS[0]}/receipt")
    for answer in (linkset, negotiated):
        assert answer["status"] == 200
        assert answer["contentType"] == "application/linkset+json"
        [entry] = json.loads(answer["body"])["linkset"]
        assert entry["anchor"] == uris[1]
        assert entry["https://gs1.org/voc/pip"][0]["href"].endswith(
            f"/passports/{PREFIX}/{COILS[1]}"
        )
        assert entry["https://gs1.org/voc/sustainabilityInfo"][0]["type"] == "application/json"
        assert set(entry) == {
            "anchor",
            "https://gs1.org/voc/defaultLink",
            "https://gs1.org/voc/pip",
            "https://gs1.org/voc/sustainabilityInfo",
            "https://gs1.org/voc/certificationInfo",
        }
    assert missing["status"] == 404
    assert "coil-2099-999999" in json.loads(missing["body"])["detail"]
    assert bad["status"] == 400
    assert "check digit" in json.loads(bad["body"])["detail"]


def test_a_handle_client_resolves_the_coil(live: Any) -> None:
    url, _service, seeded = live
    handle = f"{PREFIX}/{COILS[0]}"
    headers = {"Accept": "application/json"}
    with httpx.Client(base_url=url, headers=headers) as client:
        found = client.get(f"/api/handles/{handle}")
        assert found.status_code == 200
        body = found.json()
        assert (body["responseCode"], body["handle"]) == (1, handle)
        by_type = {value["type"]: value for value in body["values"]}
        assert set(by_type) == {"URL", "URL.PASSPORT_JSON", "PASSPORT_JSON", "GS1_DIGITAL_LINK"}
        assert [v["index"] for v in body["values"]] == [1, 2, 3, 4]
        assert by_type["URL"]["data"] == {"format": "string", "value": f"{url}/passports/{handle}"}
        assert by_type["GS1_DIGITAL_LINK"]["data"]["value"].endswith(f"/10/{COILS[0]}/21/0001")
        assert all(v["ttl"] == 86400 and v["timestamp"].endswith("Z") for v in body["values"])
        # The passport value is the public document itself, and its receipt checks.
        document = json.loads(by_type["PASSPORT_JSON"]["data"]["value"])
        assert "restricted" not in document
        verified = verify_passport(document, seeded.key)
        assert verified.content["report_kind"] == "batch-passport"
        # Filters as the Handle REST API defines them: exact type, a type with its subtypes,
        # an index; several are a union.
        only = client.get(f"/api/handles/{handle}", params={"type": "URL"}).json()
        assert [v["index"] for v in only["values"]] == [1]
        subtypes = client.get(f"/api/handles/{handle}", params={"type": "URL."}).json()
        assert [v["type"] for v in subtypes["values"]] == ["URL.PASSPORT_JSON"]
        union = client.get(
            f"/api/handles/{handle}", params=[("type", "URL"), ("index", "4")]
        ).json()
        assert [v["index"] for v in union["values"]] == [1, 4]
        none = client.get(f"/api/handles/{handle}", params={"type": "EMAIL"})
        assert (none.status_code, none.json()["responseCode"]) == (200, 200)
        unknown = client.get(f"/api/handles/{PREFIX}/coil-2099-999999")
        assert (unknown.status_code, unknown.json()["responseCode"]) == (404, 100)
        # A heat has a Handle too, and no passport: its record holds only its page.
        heat = client.get(f"/api/handles/{PREFIX}/{HEAT}").json()
        assert [v["type"] for v in heat["values"]] == ["URL"]


def test_the_passport_holds_the_hand_worked_footprint_and_fails_after_a_change(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    seeded = seed_passports(engine, DEMO_ORG_ID, tmp_path)
    public = service.client().get(f"/api/passports/{PREFIX}/{COILS[0]}")
    assert public.headers["content-type"].startswith("application/vnd.carbonlink.batch-passport")
    document = public.json()
    footprint = document["footprint"]
    assert footprint["pcfExcludingBiogenicUptake"] == pytest.approx(HRC, abs=1e-6)
    assert footprint["fossil"] == pytest.approx(HRC, abs=1e-6)  # all inputs fossil
    assert footprint["biogenicUptake"] == 0
    assert sum(footprint["stages"].values()) == pytest.approx(HRC, abs=1e-5)
    assert footprint["stages"]["direct"] == pytest.approx(1.4)  # the works' own, per kg
    coke = 198_000e3 * 1260 / (1260 + 140) / 600_000e3 + 1.32 * 0.16
    assert footprint["stages"]["purchased"] > 0.3673 * coke
    assert [p["id"] for p in document["predecessors"]] == ["slab-2025-0417-1", HEAT]
    assert document["supplierFootprints"] == 2
    assert document["attestation"] == {"credential": None}
    assert "restricted" not in document and "22.5" not in public.text
    verify_passport(document, seeded.key)
    changed = json.loads(json.dumps(document))
    changed["footprint"]["pcfExcludingBiogenicUptake"] = 1.0
    with pytest.raises(ReceiptError, match="differs from the one the ledger recorded"):
        verify_passport(changed, seeded.key)
    # The producer's users see the restricted part, and it checks as well.
    own, _ = service.login(service.users["viewer"])
    mine = own.get(f"/api/passports/{PREFIX}/{COILS[0]}").json()
    restricted = mine["restricted"]
    assert restricted["batch"]["quantity"] == 22.5
    assert restricted["footprint"]["batchTotalKgCO2e"] == pytest.approx(22_500 * HRC, rel=1e-6)
    assert restricted["footprint"]["batchTotalKgCO2e"] == pytest.approx(36_277, abs=1)
    assert {s["supplier"] for s in restricted["supplierFootprints"]} == {
        "Demo Coking Co.",
        "Demo Ferroalloy Co.",
    }
    assert {s["pfId"] for s in restricted["supplierFootprints"]} == {
        seeded.chain.coke_pf_id,
        seeded.chain.ferrochrome_pf_id,
    }
    verify_passport(mine, seeded.key)
    # Another organization, and the producer's supplier accounts, see the public part only.
    other, _ = service.login(service.users["other"])
    assert "restricted" not in other.get(f"/api/passports/{PREFIX}/{COILS[0]}").json()
    supplier, _ = service.login(service.users["supplier"])
    assert "restricted" not in supplier.get(f"/api/passports/{PREFIX}/{COILS[0]}").json()


def test_issuing_again_is_idempotent_and_pages_answer_missing_batches(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    from passport_fixture import PRODUCER, RESOLVER

    from carbonlink.batches.passport import issue_passport, prepare_passport
    from carbonlink.batches.store import BatchStore
    from carbonlink.ledger.note import Signer

    seed_passports(engine, DEMO_ORG_ID, tmp_path)
    store = BatchStore(engine, DEMO_ORG_ID)
    first = store.passport(COILS[0])
    assert first is not None
    again = issue_passport(
        engine,
        DEMO_ORG_ID,
        prepare_passport(engine, DEMO_ORG_ID, COILS[0], producer=PRODUCER, resolver=RESOLVER),
        signer=Signer.generate("carbonlink.test/passports"),
    )
    assert (again.version, again.ledger_index) == (first.version, first.ledger_index)
    client = service.client()
    missing = client.get(f"/passports/{PREFIX}/coil-2099-999999")
    assert missing.status_code == 404 and "coil-2099-999999" in missing.text
    assert client.get(f"/api/passports/{PREFIX}/{HEAT}").status_code == 404
    heat_page = client.get(f"/passports/{PREFIX}/{HEAT}?lang=en")
    assert heat_page.status_code == 200 and 'id="no-passport"' in heat_page.text
    preflight = client.options(f"/01/{GTIN}/10/{COILS[0]}/21/0001")
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["allow"]
    head = client.head(f"/01/{GTIN}/10/{COILS[0]}/21/0001", follow_redirects=False)
    assert head.status_code == 307 and head.headers["access-control-allow-origin"] == "*"
    described = client.get("/.well-known/gs1resolver").json()
    assert described["supportedPrimaryKeys"] == ["01"]


def test_an_unreadable_stored_passport_is_said_not_a_500(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    from carbonlink.batches.schema import batch_passports

    seed_passports(engine, DEMO_ORG_ID, tmp_path)
    with engine.begin() as connection:
        connection.execute(
            sa.update(batch_passports)
            .where(batch_passports.c.batch_id == COILS[0])
            .values(public="{not json")
        )
    client = service.client()
    page = client.get(f"/passports/{PREFIX}/{COILS[0]}?lang=en")
    assert page.status_code == 200 and 'id="unreadable-passport"' in page.text
    answer = client.get(f"/api/passports/{PREFIX}/{COILS[0]}")
    assert answer.status_code == 503 and "cannot be read" in answer.json()["detail"]
    handle = client.get(f"/api/handles/{PREFIX}/{COILS[0]}")
    assert handle.status_code == 200
    assert [v["index"] for v in handle.json()["values"]] == [1, 2, 4]


def test_an_editor_uploads_production_records_and_lists_the_batches(
    make_service: Any, engine: sa.Engine
) -> None:
    from supply_fixture import seed_supply_chain

    service = make_service(handle_prefix=PREFIX)
    from passport_fixture import production_csv

    chain = seed_supply_chain(engine, DEMO_ORG_ID)
    body = production_csv(chain) + "coil-2025-000999,coil,hrc,4 March,1,t,,,,,\n"
    editor, csrf = service.login(service.users["editor"])
    sent = editor.post(
        "/api/v1/batches/imports",
        files={"file": ("production-2025-03.csv", body.encode(), "text/csv")},
        headers={"X-CSRF-Token": csrf},
    )
    assert sent.status_code == 200, sent.text
    report = sent.json()
    assert (report["records"], len(report["new"])) == (6, 5)
    [rejected] = report["rejected"]
    assert rejected["line"] == 7 and "'4 March' is not a date" in rejected["reason"]
    listed = {b["batch_id"]: b for b in editor.get("/api/v1/batches").json()}
    assert listed[COILS[0]]["handle"] == f"{PREFIX}/{COILS[0]}"
    assert listed[COILS[0]]["gs1_digital_link"].endswith(f"/01/{GTIN}/10/{COILS[0]}/21/0001")
    assert listed[COILS[0]]["passport_version"] is None
    # A viewer may list but not import; another organization sees none of them.
    viewer, csrf = service.login(service.users["viewer"])
    refused = viewer.post(
        "/api/v1/batches/imports",
        files={"file": ("p.csv", body.encode(), "text/csv")},
        headers={"X-CSRF-Token": csrf},
    )
    assert refused.status_code == 403
    assert len(viewer.get("/api/v1/batches").json()) == 5
    other, _ = service.login(service.users["other"])
    assert other.get("/api/v1/batches").json() == []
