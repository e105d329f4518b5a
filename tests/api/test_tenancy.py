"""Every route, called by a user of another organization, answers 403/404 and never its data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from fastapi.routing import APIRoute

if TYPE_CHECKING:
    from conftest import Service

# Identifiers of the demo organization's records, one per path parameter name.
DEMO_IDS = {
    "facility_id": "fac-steelmaking",
    "source_id": "fac-steelmaking-gas",
    "meter_id": "fac-steelmaking-m-gas",
    "index": "0",
    "inventory_id": "run-of-the-demo-organization",
    "version": "1",
    "output_format": "pdf",
    "client_id": "demo-steel-customer",
    "pf_id": "7d3c1b7e-1f0a-4c55-9a43-2b8e9f1d6c20",
    "key": "hrc",
    "event_id": "request-of-the-demo-organization",
    "token": "not-an-invitation",
    "conflict_id": "1",
    "import_id": "import-of-the-demo-organization",
    "record_id": "1",
    "entry_id": "1",
    "rule_id": "demo-gas-limit",
    "target_id": "demo-2030",
    "communication_id": "tangshan-2025",
    "organization_id": "org-demo-steel",
    "credential_id": "urn:uuid:3d6f0b8e-8c4c-4d53-9f3e-2a1c0b9d8e7f",
    "credential_uuid": "3d6f0b8e-8c4c-4d53-9f3e-2a1c0b9d8e7f",
    # a coil of the demo organization, by its Handle and its GS1 key (passport_fixture)
    "prefix": "88.123.4567",
    "suffix": "coil-2025-000123",
    "gtin": "09520123456788",
    "batch": "coil-2025-000123",
    "serial": "0001",
}
PUBLIC = {
    "/orgs/{organization_id}/did.json",
    "/orgs/{organization_id}/credentials/status",
}
"""Served to anyone: an issuer's DID document and status list (keys and revocation bits only)."""

# Identifier resolvers and passports answer everyone: they show another organization the
# coil's public passport (its product's name included), never its restricted part.
PUBLIC_ROUTES = {
    "/.well-known/gs1resolver",
    "/01/{gtin}/10/{batch}",
    "/01/{gtin}/10/{batch}/21/{serial}",
    "/api/handles/{prefix}/{suffix}",
    "/api/passports/{prefix}/{suffix}",
    "/api/passports/{prefix}/{suffix}/receipt",
    "/passports/{prefix}/{suffix}",
}
PUBLIC_FIELDS = ("Hot-rolled coil Q235B",)
# What a leak would show: names, unrequested identifiers, readings' batch of the demo organization.
# (The identifiers in the request itself may be echoed in a "not found" message.)
DEMO_MARKERS = (
    "华东示范钢铁",
    "fac-hot-rolling",
    "Steelmaking",
    "Hot rolling",
    "天然气燃烧 Natural gas",  # the demo source's name ("Natural gas" alone is a public factor's)
    "demo-seed",
    "East China grid average",
    "gas-above-500",
    "gas-below-450",
    "tangshan-target",
    "Appliance purchasing",
    "Demo hot-rolled coil",
    "Hot-rolled coil Q235B",
    "Demo Coking Co.",
    "@demo.test",
    "Tangshan integrated works",
)


def seed_demo_exchange(engine: sa.Engine) -> None:
    """A PACT partner and a published footprint of the demo organization."""
    from carbonlink.exchange.repository import ExchangeRepository

    pact = ExchangeRepository(engine, organization_id="org-demo-steel")
    pact.add_partner(
        DEMO_IDS["client_id"], "s" * 24, name="Appliance purchasing", organization="Appliance Co"
    )
    zero = {"fossilCarbonContent": "0", "landUseChangeGhgEmissions": "0"}
    zero |= {"landManagementBiogenicCO2Emissions": "0", "landManagementBiogenicCO2Removals": "0"}
    zero |= {"biogenicCO2Uptake": "0", "biogenicNonCO2Emissions": "0"}
    pact.publish(
        {
            "id": DEMO_IDS["pf_id"],
            "specVersion": "3.0.3",
            "created": "2026-01-15T00:00:00Z",
            "status": "Active",
            "companyName": "华东示范钢铁",
            "companyIds": ["urn:pact:demo-steel.example:company-id:1"],
            "productDescription": "Demo hot-rolled coil",
            "productIds": ["urn:pact:demo-steel.example:product-id:hrc"],
            "productNameCompany": "Demo hot-rolled coil",
            "pcf": {
                "declaredUnitOfMeasurement": "kilogram",
                "declaredUnitAmount": "1",
                "productMassPerDeclaredUnit": "1",
                "referencePeriodStart": "2025-01-01T00:00:00Z",
                "referencePeriodEnd": "2026-01-01T00:00:00Z",
                "geographyCountry": "CN",
                "pcfExcludingBiogenicUptake": "2.1",
                "pcfIncludingBiogenicUptake": "2.1",
                "fossilGhgEmissions": "2.1",
                **zero,
                "packagingEmissionsIncluded": False,
                "ipccCharacterizationFactors": ["AR6"],
                "crossSectoralStandards": ["ISO14067"],
                "exemptedEmissionsPercent": "0",
            },
        }
    )


def seed_demo_cbam(engine: sa.Engine) -> None:
    """The demo organization's published CBAM communication (the Tangshan works)."""
    from carbonlink.demo.cbam import demo_cbam_input
    from carbonlink.exchange import cbam
    from carbonlink.reports.cbam_exporter import build_exporter_communication, load_exporter_pack

    pack = load_exporter_pack(demo_cbam_input("cbam-tangshan-exporter.yaml"))
    cbam.publish(engine, "org-demo-steel", "tangshan-2025", build_exporter_communication(pack))


def seed_demo_credential(service: Service, engine: sa.Engine) -> None:
    """A KPI pack of the demo organization, shared with a lender of it."""
    from carbonlink.credentials.registry import CredentialRegistry

    settings = service.app.state.ctx.settings
    registry = CredentialRegistry(engine, settings.workspace, settings.service_url)
    registry.issue(
        "org-demo-steel",
        "pcf",
        {"id": "urn:pact:x:1", "productFootprint": {"productNameCompany": "Demo hot-rolled coil"}},
        title="Demo hot-rolled coil",
        issued_by="seed",
        holder="lender@demo.test",
    )
    with engine.begin() as conn:
        from carbonlink.store.credentials_schema import issued_credentials

        conn.execute(
            issued_credentials.update()
            .where(issued_credentials.c.organization_id == "org-demo-steel")
            .values(id=DEMO_IDS["credential_id"])
        )


def _routes(routes: list[Any]) -> list[tuple[str, str]]:
    """(method, path) of every endpoint, also those of included routers."""
    out = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.extend((method, route.path) for method in sorted(route.methods - {"HEAD"}))
        elif hasattr(route, "original_router"):
            out.extend(_routes(route.original_router.routes))
    return out


def seed_demo_operations(engine: sa.Engine) -> dict[str, str]:
    """An alert rule, a webhook channel, a declared target and a report job of the demo
    organization; the ids of the channel and the job."""
    from datetime import UTC, datetime

    from carbonlink.monitor.rules import validate_rules
    from carbonlink.settings import Settings
    from carbonlink.store import operations, results

    rule = {"id": "demo-gas-limit", "kind": "threshold", "meter_id": "*", "above": 9e9}
    results.save_alert_rules(engine, "org-demo-steel", validate_rules([rule], []))
    channel = operations.save_alert_channel(
        engine,
        "org-demo-steel",
        None,
        name="Ops",
        kind="webhook",
        config={"url": "https://ops.demo.test/hook"},
        secret="0123456789abcdef",
        min_severity="warning",
        enabled=True,
        who="seed",
        key=Settings().key_bytes,
    )
    assert channel is not None
    target = operations.StoredTarget(
        "demo-2030",
        "Demo 2030",
        2020,
        1000.0,
        2030,
        40.0,
        "linear",
        ("scope1",),
        "all sites",
        datetime.now(UTC),
        "seed",
    )
    operations.save_target(engine, "org-demo-steel", target, create=True)
    job = operations.create_report_job(
        engine, "org-demo-steel", report="inventory", period="run-x", fmt="pdf", who="seed"
    )
    return {"channel_id": channel.id, "job_id": job.id}


def test_walk_every_route_as_another_organization(
    any_service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    from carbonlink.api import results
    from carbonlink.monitor.plan import load_template, plan_from_template

    plan = plan_from_template(
        "fac-steelmaking", load_template("iron_steel"), {"fac-steelmaking-gas": "fuel_combustion"}
    )
    results.save_plan(engine, "org-demo-steel", plan, "seed")
    seed_demo_exchange(engine)
    seed_demo_cbam(engine)
    from supply_fixture import seed_supply_chain

    chain = seed_supply_chain(engine, "org-demo-steel")
    from passport_fixture import seed_coil_passports

    seed_coil_passports(engine, "org-demo-steel", chain, tmp_path)
    demo_records = seed_demo_operations(engine)
    published = chain.hrc_pf_id
    seed_demo_credential(any_service, engine)
    from carbonlink.store.data_entry import add_activity, receive_file

    received = receive_file(engine, "org-demo-steel", "demo-seed.csv", "csv", b"t,m\n", "seed")
    entered = add_activity(
        engine,
        "org-demo-steel",
        source_id="fac-steelmaking-gas",
        period="2026-11",
        quantity=1.0,
        unit="Nm3",
        note="demo-seed",
        who="seed",
    )
    client, csrf = any_service.login(any_service.users["other"])  # an admin, but of Other Works Ltd
    client.headers["X-CSRF-Token"] = csrf
    routes = _routes(any_service.app.routes)
    assert len(routes) >= 15
    bodies = {
        ("POST", "/api/v1/pact/partners/{client_id}/grants"): {"companies": ["urn:pact:x:1"]},
        ("POST", "/api/v1/sources"): {"facility_id": "fac-steelmaking", "name": "x", "scope": 1},
        ("POST", "/api/v1/meters"): {"facility_id": "fac-steelmaking", "name": "x", "unit": "MWh"},
        ("PATCH", "/api/v1/users/{user_id}"): {"role": "admin", "disabled": True},
        ("POST", "/api/v1/conflicts/{conflict_id}/resolve"): {"note": "checked on site"},
        ("PUT", "/api/v1/facilities/{facility_id}/plan"): {"version": 1, "entries": []},
        ("PUT", "/api/v1/facilities/{facility_id}"): {"name": "x"},
        ("PUT", "/api/v1/sources/{source_id}"): {
            "facility_id": "fac-steelmaking",
            "name": "x",
            "scope": 1,
        },
        ("PUT", "/api/v1/meters/{meter_id}"): {
            "facility_id": "fac-steelmaking",
            "name": "x",
            "unit": "MWh",
        },
        ("PUT", "/api/v1/meters/{meter_id}/source"): {"source_id": None},
        **{
            ("POST", f"/api/v1/imports/{{import_id}}/{step}"): {
                "layout": "long",
                "time_column": "time",
                "meter_column": "meter",
                "value_column": "value",
                "unit": "MWh",
            }
            for step in ("columns", "preview", "run")
        },
        ("POST", "/api/v1/imports/{import_id}/quarantine/{record_id}/correct"): {
            "meter_id": "fac-steelmaking-m-gas",
            "ts": "2026-11-20T00:00:00Z",
            "value": 1.0,
            "unit": "Nm3",
            "note": "x",
        },
        ("POST", "/api/v1/imports/{import_id}/quarantine/{record_id}/discard"): {"note": "x"},
        ("POST", "/api/v1/activity-entries/{entry_id}/corrections"): {
            "quantity": 1,
            "unit": "t",
            "reason": "x",
        },
        ("POST", "/api/v1/readings"): {
            "readings": [
                {
                    "meter_id": "fac-steelmaking-m-gas",
                    "ts": "2026-11-20T00:00:00Z",
                    "value": 1.0,
                    "unit": "Nm3",
                }
            ]
        },
        ("PUT", "/api/v1/supply-chain/products/{key}"): {
            "name": "Their coil",
            "declared_unit": "kilogram",
            "mass_per_declared_unit": 1.0,
        },
        ("PUT", "/api/v1/supply-chain/products/{key}/bom"): {
            "lines": [{"kind": "purchased", "pf_id": chain.coke_pf_id, "quantity": 1}]
        },
        ("POST", "/api/v1/inventories/report"): {
            "inventory": {
                "organization": "x",
                "period": {"start": "2026-11-01", "end": "2026-11-14"},
                "facilities": [
                    {
                        "id": "f",
                        "sources": [
                            {
                                "id": "gas",
                                "method": "combustion",
                                "fuel": "natural_gas",
                                "activity": {"meter": "fac-steelmaking-m-gas", "unit": "Nm3"},
                            }
                        ],
                    }
                ],
            }
        },
        ("PUT", "/api/v1/alert-rules/{rule_id}"): {
            "id": "demo-gas-limit",
            "kind": "threshold",
            "meter_id": "fac-steelmaking-m-gas",
            "above": 1,
        },
        ("PUT", "/api/v1/alert-channels/{channel_id}"): {
            "name": "x",
            "kind": "webhook",
            "url": "https://receiver.test/hook",
            "secret": "0123456789abcdef",
        },
        ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): {"comment": "seen"},
        ("PUT", "/api/v1/targets/{target_id}"): {
            "id": "demo-2030",
            "name": "x",
            "base_year": 2020,
            "base_tco2e": 1,
            "target_year": 2030,
            "reduction_pct": 10,
            "scopes": ["scope1"],
            "boundary": "x",
        },
        ("POST", "/api/v1/periods/{period_id}/reopen"): {"reason": "restated"},
        ("POST", "/api/v1/periods/{period_id}/comments"): {"body": "x"},
        ("POST", "/api/v1/periods/{period_id}/copies"): {
            "start": "2027-01-01",
            "end": "2027-12-31",
        },
        ("POST", "/api/v1/supply-chain/portal/requests/{event_id}/review"): {"decision": "accept"},
        ("POST", "/api/v1/supply-chain/portal/requests"): {
            "supplier": DEMO_IDS["client_id"],
            "product_ids": ["urn:pact:x:1"],
            "period_start": "2025-01-01",
            "period_end": "2026-01-01",
            "due_date": "2099-01-01",
        },
        ("POST", "/api/v1/supply-chain/footprints/compute"): {
            "period_start": "2025-01-01",
            "period_end": "2026-01-01",
        },
    }
    # Product keys are per organization: the caller writes and computes its own "hrc", and
    # the demo organization's received footprints are unknown to it.
    own_records = {
        "/api/v1/supply-chain/products/{key}": ("PUT", {200}),
        "/api/v1/supply-chain/products/{key}/bom": ("PUT", {422}),
        "/api/v1/supply-chain/footprints/compute": ("POST", {200}),
        # its own rule of that id, on a meter it does not have
        "/api/v1/alert-rules/{rule_id}": ("PUT", {422}),
    }
    checked = 0
    for method, path in routes:
        params = re.findall(r"{(\w+)(?::path)?}", path)
        ids = DEMO_IDS | any_service.ids | {"pf_id": published} | demo_records
        ids |= {"import_id": received.id, "entry_id": str(entered.id)}
        ids |= {"origin_hash": "0" * 64}  # the witness serves no organization's data
        url = re.sub(r"{(\w+)(?::path)?}", lambda m, ids=ids: ids[m.group(1)], path)
        if method == "GET" and url.endswith("/events"):
            response = client.get(url)  # refused before any stream starts
        else:
            query = {"facility_id": "fac-steelmaking"} if method == "GET" else None
            response = client.request(method, url, json=bodies.get((method, path)), params=query)
        text = response.text
        public = path.split("{suffix:path}")[0] + "{suffix}" if "{suffix:path}" in path else path
        allowed = PUBLIC_FIELDS if public in PUBLIC_ROUTES else ()
        leaked = [marker for marker in DEMO_MARKERS if marker in text and marker not in allowed]
        assert not leaked, f"{method} {url} showed {leaked}"
        if public in PUBLIC_ROUTES:
            status = response.status_code
            assert status in {200, 204, 307}, f"{method} {url}: {status}"
            hidden = ("batchTotalKgCO2e", "production-2025-03.csv", chain.coke_pf_id, "22.5")
            assert not [h for h in hidden if h in text], f"{method} {url} showed restricted data"
        elif params or (method, path) in bodies:
            expected = {403, 404} if path != "/api/v1/readings" else {200}
            if path in PUBLIC:
                expected = {200}
            if own_records.get(path, ("",))[0] == method:
                expected = own_records[path][1]
            assert response.status_code in expected, f"{method} {url}: {response.status_code}"
            if path == "/api/v1/readings":
                # accepted as a batch, but the foreign meter's row is rejected as unknown
                assert response.json()["stored"] == 0
                assert "not found" in response.json()["rejected"][0]["error"]
        checked += 1
    assert checked == len(routes)
    # and nothing of the demo organization changed
    assert any_service.data.sources("org-demo-steel", "fac-steelmaking")[0].name != "x"
    assert len(any_service.data.meters("org-demo-steel")) == 6
    from carbonlink.exchange.repository import ExchangeRepository

    pact = ExchangeRepository(engine, organization_id="org-demo-steel")
    partners = pact.partners()
    assert DEMO_IDS["client_id"] in {p.client_id for p in partners}
    assert all(partner.active for partner in partners)
    from carbonlink.footprints.store import ProductStore

    products = ProductStore(engine, "org-demo-steel")
    hrc = products.product("hrc")
    assert hrc is not None and hrc.name != "Their coil"
    assert not any(item.run_id.startswith("api-") for item in products.latest().values())
    published_rows = pact.published()
    assert published in {row["pf_id"] for row in published_rows}
    assert {row["status"] for row in published_rows} == {"Active"}
    from carbonlink.store import operations, results

    assert [r.id for r in results.alert_rules_of(engine, "org-demo-steel")] == ["demo-gas-limit"]
    assert [c.name for c in operations.alert_channels_of(engine, "org-demo-steel")] == ["Ops"]
    assert [t.name for t in operations.targets_of(engine, "org-demo-steel")] == ["Demo 2030"]
    assert (
        operations.alert_notes_of(engine, "org-demo-steel", int(any_service.ids["alert_id"])) == []
    )
    from carbonlink.api import security

    [viewer] = [
        u
        for u in security.organization_users(engine, "org-demo-steel")
        if u.id == any_service.ids["user_id"]
    ]
    assert (viewer.role, viewer.disabled) == ("viewer", False)
    keys = security.organization_api_keys(engine, "org-demo-steel")
    assert [k.revoked_at for k in keys] == [None]
    clients = security.organization_clients(engine, "org-demo-steel")
    assert [c.client_id for c in clients] == [any_service.ids["client_id"]]


def test_lists_show_only_the_callers_records(any_service: Service) -> None:
    client, _ = any_service.login(any_service.users["other"])
    assert [f["id"] for f in client.get("/api/v1/facilities").json()] == ["fac-other"]
    assert {m["id"] for m in client.get("/api/v1/meters").json()} == {
        "mtr-other-power",
        "mtr-other-output",
    }
    assert client.get("/api/v1/overview").json()["organization"] == "Other Works Ltd"
