"""The demo's hot-rolled coils resolve, from their GS1 Digital Link and their Handle, to a
passport whose receipt checks with the demo ledger's public key.

The demo workspace is served on a loopback port (the service a user starts with
``carbonlink serve``); digital-link.js (GS1's grammar, from npm) validates each coil's URI and
resolves it there, and a plain Handle REST client (httpx) resolves each coil's Handle.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from browser_support import free_port, served
from passport_fixture import digital_link_js

from carbonlink.api import create_app
from carbonlink.batches.passport import verify_passport
from carbonlink.demo.passports import COILS, DEMO_GTIN, DEMO_HANDLE_PREFIX
from carbonlink.ledger.keys import read_vkey
from carbonlink.settings import Settings


def test_the_demo_coils_resolve_to_passports_with_receipts(demo_output: Path) -> None:
    key = read_vkey(str(demo_output / "workspace" / "keys" / "ledger.vkey"))
    issued = {
        coil: json.loads((demo_output / "passports" / f"{coil}.json").read_text("utf-8"))
        for coil in COILS
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = create_app(Settings(workspace=demo_output / "workspace", public_url=url))
    # The passports name the resolver the demo's service answers on; here it is this port.
    uris = {
        coil: url + urlsplit(document["identifiers"]["gs1DigitalLink"]).path
        for coil, document in issued.items()
    }
    with served(app, port):
        result = digital_link_js(
            {
                "uris": list(uris.values()),
                "resolve": [
                    {"uri": uri, "linkType": "gs1:sustainabilityInfo"} for uri in uris.values()
                ]
                + [{"uri": uri} for uri in uris.values()],
            }
        )
        assert [item["valid"] for item in result["uris"]] == [True] * len(COILS)
        assert [item["identifier"] for item in result["uris"]] == [{"01": DEMO_GTIN}] * len(COILS)
        info, default = result["resolved"][: len(COILS)], result["resolved"][len(COILS) :]
        with httpx.Client(base_url=url) as client:
            for coil, answer, page in zip(COILS, info, default, strict=True):
                assert page["status"] == 307
                assert page["location"] == f"{url}/passports/{DEMO_HANDLE_PREFIX}/{coil}"
                assert answer["status"] == 307
                document = client.get(answer["location"]).json()
                assert document["batch"]["id"] == coil
                assert document["identifiers"] == issued[coil]["identifiers"]
                assert document["cbam"]["cnCode"] == "72083900"
                verified = verify_passport(document, key)
                assert verified.index == issued[coil]["ledger"]["entry"]
                handle = client.get(
                    f"/api/handles/{DEMO_HANDLE_PREFIX}/{coil}",
                    headers={"Accept": "application/json"},
                ).json()
                assert handle["responseCode"] == 1
                values = {value["type"]: value["data"]["value"] for value in handle["values"]}
                assert urlsplit(values["GS1_DIGITAL_LINK"]).path == urlsplit(uris[coil]).path
                verify_passport(json.loads(values["PASSPORT_JSON"]), key)
    # The receipts beside the files vouch for both parts, as `carbonlink verify` checks them.
    from carbonlink.ledger import Receipt, verify_receipt

    for coil in COILS:
        folder = demo_output / "passports"
        receipt = Receipt.parse((folder / f"{coil}.tlog-proof").read_bytes())
        files = [folder / f"{coil}.passport.json", folder / f"{coil}.passport-restricted.json"]
        assert len(verify_receipt(receipt, key, files=files).files) == 2
