"""Fixtures of the service tests: an app over SQLite or PostgreSQL with two organizations."""

from __future__ import annotations

import functools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from plant_fixture import DEMO_ORG_ID, seed_demo_plant

from carbonlink.api import create_app
from carbonlink.api.security import api_key_id
from carbonlink.ingest.base import Reading
from carbonlink.settings import Settings
from carbonlink.store import Store
from carbonlink.store.accounts_schema import users
from carbonlink.store.tenant_data import AssignedAccounting, StoreTenantData
from carbonlink.store.tenants import EmissionFactorRef, Facility, MemoryTenantData, Meter, Source

PASSWORD = "correct horse battery staple"
ROLES = ("admin", "editor", "viewer", "auditor", "supplier", "lender")
OTHER_ORG = "org-other-works"


def seed_other_org(data: MemoryTenantData | StoreTenantData) -> None:
    """A second, small organization whose numbers can be checked by hand.

    One facility, one scope 2 source at 0.5 t CO2e/MWh (a round test factor, not a published
    one), two hourly readings of 10 MWh and 100 t of production in October 2026:
    emissions = 20 MWh × 0.5 = 10 t CO2e; intensity = 10 / 100 = 0.1 t CO2e/t.
    """
    data.add_organization("Other Works Ltd", OTHER_ORG)
    data.add_facility(Facility("fac-other", OTHER_ORG, "Other plant", "Europe/Berlin"))
    factor = EmissionFactorRef(0.5, "MWh", "test factor", "round test factor")
    data.add_source(Source("src-other-power", OTHER_ORG, "fac-other", "Power", 2, factor))
    data.add_meter(
        Meter("mtr-other-power", OTHER_ORG, "fac-other", "Incomer", "MWh", "src-other-power")
    )
    data.add_meter(
        Meter("mtr-other-output", OTHER_ORG, "fac-other", "Output", "t", None, "production")
    )
    t0, t1 = datetime(2026, 10, 5, 8, tzinfo=UTC), datetime(2026, 10, 5, 9, tzinfo=UTC)
    data.add_readings(
        [
            Reading("mtr-other-power", t0, 10.0, "MWh"),
            Reading("mtr-other-power", t1, 10.0, "MWh"),
            Reading("mtr-other-output", t0, 100.0, "t"),
        ]
    )


@dataclass
class Service:
    """An app with the demo organization (all roles) and a second organization (admin)."""

    app: FastAPI
    data: MemoryTenantData | StoreTenantData
    users: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def client(self) -> TestClient:
        return TestClient(self.app)

    def login(self, email: str, password: str = PASSWORD, client: TestClient | None = None):  # type: ignore[no-untyped-def]
        """Log in through the form; return the client (with its session cookie) and CSRF token."""
        client = client or self.client()
        form = client.get("/login")
        token = client.cookies.get("carbonlink_login_csrf")
        assert token and token in form.text
        response = client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        page = client.get("/")
        match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
        assert match
        return client, match.group(1)


def build_service(
    engine: sa.Engine, tmp_path: Path, backend: str = "memory", **settings: object
) -> Service:
    """The service with both organizations and a user of every role.

    ``backend`` "memory" keeps tenant data in memory; "store" keeps it in the store's tables
    of ``engine`` (SQLite or PostgreSQL).
    """
    data: MemoryTenantData | StoreTenantData = (
        MemoryTenantData()
        if backend == "memory"
        else StoreTenantData(Store(engine), AssignedAccounting())
    )
    seed_demo_plant(data, end=datetime(2026, 11, 15, tzinfo=UTC), months=2)
    seed_other_org(data)
    # the service's own reminder rounds would race the tests that remind by hand
    settings.setdefault("reminder_interval_s", 0)
    app = create_app(
        Settings(
            workspace=tmp_path,
            login_attempts=3,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            **settings,  # type: ignore[arg-type]
        ),
        engine=engine,
        data=data,
    )
    service = Service(app, data)
    service.ids = seed_demo_monitoring(engine, tmp_path)
    people = [(DEMO_ORG_ID, f"{role}@demo.test", role, "zh") for role in ROLES]
    people.append((OTHER_ORG, "admin@other.test", "admin", "en"))
    # One cheap argon2 hash for all test users keeps the fixture fast; login still verifies it.
    with engine.begin() as conn:
        conn.execute(
            users.insert(),
            [
                {
                    "id": uuid.uuid4().hex,
                    "organization_id": org,
                    "email": email,
                    "display_name": f"Test {role}",
                    "password_hash": _password_hash(),
                    "role": role,
                    "locale": locale,
                    "disabled": False,
                    "created_at": datetime.now(UTC),
                }
                for org, email, role, locale in people
            ],
        )
    service.users = {role: f"{role}@demo.test" for role in ROLES}
    service.users["other"] = "admin@other.test"
    # A user, an API key and an OAuth client of the demo organization, for the admin routes.
    accounts = app.state.ctx.accounts
    with engine.connect() as conn:
        service.ids["user_id"] = conn.execute(
            sa.select(users.c.id).where(users.c.email == "viewer@demo.test")
        ).scalar_one()
    key = accounts.create_api_key(DEMO_ORG_ID, "demo-seed ERP export", "editor")
    service.ids["key_id"] = api_key_id(engine, key) or ""
    service.ids["client_id"] = accounts.create_client(DEMO_ORG_ID, "demo-seed gateway", "editor")[0]
    service.ids["period_id"] = seed_demo_period(engine)
    return service


def seed_demo_monitoring(engine: sa.Engine, tmp_path: Path) -> dict[str, str]:
    """An alert raised by a rule and a monitoring report with one written file, demo org only.

    The threshold rule (above 500 Nm3 per hour) opens one alert on the 600 Nm3 reading and
    closes it on the 400 Nm3 reading after it; a second rule stays open on the last reading.
    """
    from dataclasses import asdict

    import numpy as np

    from carbonlink.api import results
    from carbonlink.monitor.rules import RuleEngine, validate_rules
    from carbonlink.monitor.targets import Target, progress

    meter = "fac-steelmaking-m-gas"
    rules = validate_rules(
        [
            {"id": "gas-above-500", "kind": "threshold", "meter_id": meter, "above": 500},
            {"id": "gas-below-450", "kind": "threshold", "meter_id": meter, "below": 450},
        ],
        [meter],
    )
    ts = np.array(
        ["2026-11-01T00:00", "2026-11-01T01:00", "2026-11-01T02:00"], dtype="datetime64[ns]"
    )
    events = RuleEngine(rules, [meter]).evaluate(
        np.zeros(3, dtype=np.int64), ts, np.array([480.0, 600.0, 400.0])
    )
    results.record_alert_events(engine, DEMO_ORG_ID, events, {r.id: r for r in rules})
    report = tmp_path / "demo-inventory.json"
    report.write_text('{"organization": "华东示范钢铁"}', "utf-8")
    (tmp_path / "demo-inventory.json.tlog-proof").write_text("proof", "utf-8")
    target = Target.linear_reduction("tangshan-target", 2020, 1000.0, 2030, 0.042)
    year = progress(target, 2026, np.full(12, 70.0))
    monitoring = {
        "target": {
            "definition": asdict(target),
            "pathway": {str(y): float(target.pathway(y)) for y in range(2020, 2031)},
            "progress": asdict(year) | {"gap": year.gap, "on_track": year.on_track},
        }
    }
    results.save_monitoring(engine, DEMO_ORG_ID, monitoring, {"inventory result": str(report)})
    [alert] = [a for a in results.alerts_of(engine, DEMO_ORG_ID) if a.rule_id == "gas-below-450"]
    return {"alert_id": str(alert.id), "label": "inventory result"}


def seed_demo_period(engine: sa.Engine) -> str:
    """A reporting period (2024) of the demo organization, not computed yet."""
    import copy

    from carbonlink.api.routes.inventories import INVENTORY_EXAMPLE
    from carbonlink.store import periods

    document = copy.deepcopy(INVENTORY_EXAMPLE)
    document["period"] = {"start": "2024-01-01", "end": "2024-12-31"}
    return periods.open_period(engine, DEMO_ORG_ID, document, "seed").id


@functools.cache
def _password_hash() -> str:
    return PasswordHasher(time_cost=1, memory_cost=1024).hash(PASSWORD)


@pytest.fixture
def service(engine: sa.Engine, tmp_path: Path) -> Service:
    return build_service(engine, tmp_path)


@pytest.fixture(params=["memory", "store"])
def any_service(request: pytest.FixtureRequest, engine: sa.Engine, tmp_path: Path) -> Service:
    """The service on in-memory tenant data and on the store's tables."""
    return build_service(engine, tmp_path, request.param)


@pytest.fixture
def store_service(engine: sa.Engine, tmp_path: Path) -> Service:
    """The service on the store's tables of ``engine`` (SQLite or PostgreSQL)."""
    return build_service(engine, tmp_path, "store")


@pytest.fixture
def make_service(engine: sa.Engine, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Build a service with extra settings (production mode, secrets)."""

    def make(**settings: object) -> Service:
        return build_service(engine, tmp_path, **settings)

    return make


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def base_url(service: Service) -> Iterator[str]:
    """The service on a loopback port, for the tests in Chromium (skipped when it is absent)."""
    from browser_support import require_chromium, served

    require_chromium()
    with served(service.app) as url:
        yield url
