"""Login, sessions, CSRF, rate limiting, API keys, OAuth2 tokens and roles."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import create_app
from carbonlink.errors import ConfigError
from carbonlink.settings import Settings
from carbonlink.store.accounts_schema import password_resets, web_sessions
from conftest import OTHER_ORG

if TYPE_CHECKING:
    from conftest import Service

PRODUCTION_KEY = "q7Xv2-Lr9pWm4TzKd8NcHs3JbY6fGa1E"  # 32 random-looking characters


def test_production_refuses_placeholder_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="placeholder"):
        create_app(Settings(workspace=tmp_path, production=True))
    with pytest.raises(ConfigError):
        create_app(Settings(workspace=tmp_path, production=True, secret_key="short-random"))  # type: ignore[arg-type]
    app = create_app(Settings(workspace=tmp_path, production=True, secret_key=PRODUCTION_KEY))  # type: ignore[arg-type]
    assert app.state.ctx.settings.secure_cookies


def test_login_sets_hardened_session_cookie(service: Service, password: str) -> None:
    client = service.client()
    client.get("/login")
    token = client.cookies["carbonlink_login_csrf"]
    response = client.post(
        "/login",
        data={"email": service.users["viewer"], "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "carbonlink_session=" in cookie
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert "华东示范钢铁有限公司" in page.text
    assert "排放总览" in page.text  # the seed users work in Chinese


def test_production_cookie_is_secure(make_service) -> None:  # type: ignore[no-untyped-def]
    service = make_service(production=True, secret_key=PRODUCTION_KEY)
    client = service.client()
    client.get("/login")
    set_cookie = client.get("/login").headers["set-cookie"].lower()
    assert "secure" in set_cookie


def test_wrong_password_and_missing_csrf_are_refused(service: Service, password: str) -> None:
    client = service.client()
    client.get("/login")
    token = client.cookies["carbonlink_login_csrf"]
    bad = client.post(
        "/login", data={"email": service.users["admin"], "password": "nope", "csrf_token": token}
    )
    assert bad.status_code == 401
    assert "carbonlink_session" not in client.cookies
    forged = service.client().post(
        "/login",
        data={"email": service.users["admin"], "password": password, "csrf_token": "forged"},
    )
    assert forged.status_code == 403


def test_login_is_rate_limited(service: Service, password: str) -> None:
    client = service.client()
    client.get("/login")
    token = client.cookies["carbonlink_login_csrf"]
    form = {"email": service.users["admin"], "password": "wrong", "csrf_token": token}
    assert [client.post("/login", data=form).status_code for _ in range(3)] == [401] * 3
    form["password"] = password
    blocked = client.post("/login", data=form, follow_redirects=False)
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0


def test_pages_redirect_to_login_without_session(service: Service) -> None:
    response = service.client().get("/", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"


def test_cookie_callers_need_the_csrf_header_to_write(service: Service) -> None:
    client, csrf = service.login(service.users["editor"])
    body = {"name": "Cold mill", "timezone": "Asia/Shanghai"}
    refused = client.post("/api/v1/facilities", json=body)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    created = client.post("/api/v1/facilities", json=body, headers={"X-CSRF-Token": csrf})
    assert created.status_code == 201
    assert created.json()["name"] == "Cold mill"


def test_logout_ends_the_session(service: Service) -> None:
    client, csrf = service.login(service.users["viewer"])
    assert (
        client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False).status_code == 303
    )
    assert client.get("/", follow_redirects=False).status_code == 303


def test_api_key_for_machines(service: Service) -> None:
    client, csrf = service.login(service.users["admin"])
    issued = client.post(
        "/api/v1/api-keys",
        json={"name": "ERP export", "role": "editor"},
        headers={"X-CSRF-Token": csrf},
    )
    assert issued.status_code == 201
    key = issued.json()["key"]
    machine = service.client()
    listed = machine.get("/api/v1/facilities", headers={"Authorization": f"Bearer {key}"})
    assert {f["id"] for f in listed.json()} == {"fac-hot-rolling", "fac-steelmaking"}
    assert machine.get("/api/v1/me", headers={"X-API-Key": key}).json()["role"] == "editor"
    wrong = machine.get("/api/v1/facilities", headers={"Authorization": "Bearer clk_wrong"})
    assert wrong.status_code == 401
    assert wrong.headers["www-authenticate"] == "Bearer"


def test_oauth2_client_credentials(service: Service) -> None:
    client, csrf = service.login(service.users["admin"])
    registered = client.post(
        "/api/v1/oauth/clients",
        json={"name": "MES gateway", "role": "viewer"},
        headers={"X-CSRF-Token": csrf},
    ).json()
    machine = service.client()
    form = {
        "grant_type": "client_credentials",
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
    }
    token = machine.post("/api/v1/oauth/token", data=form)
    assert token.status_code == 200
    assert token.json()["token_type"] == "bearer"
    bearer = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert machine.get("/api/v1/me", headers=bearer).json()["via"] == "oauth"
    # a viewer token reads but does not write
    assert machine.post("/api/v1/facilities", json={"name": "x"}, headers=bearer).status_code == 403
    form["client_secret"] = "wrong"
    assert machine.post("/api/v1/oauth/token", data=form).status_code == 401


@pytest.mark.parametrize(
    ("role", "reads", "writes", "administers"),
    [
        ("admin", 200, 201, 201),
        ("editor", 200, 201, 403),
        ("viewer", 200, 403, 403),
        ("auditor", 200, 403, 403),
        ("supplier", 403, 403, 403),
    ],
)
def test_roles(service: Service, role: str, reads: int, writes: int, administers: int) -> None:
    client, csrf = service.login(service.users[role])
    headers = {"X-CSRF-Token": csrf}
    assert client.get("/api/v1/facilities").status_code == reads
    made = client.post("/api/v1/facilities", json={"name": "New site"}, headers=headers)
    assert made.status_code == writes
    key = client.post("/api/v1/api-keys", json={"name": "k", "role": "viewer"}, headers=headers)
    assert key.status_code == administers


def test_a_deleted_user_loses_its_sessions_resets_and_log_in(
    service: Service, engine: sa.Engine, password: str
) -> None:
    accounts = service.app.state.ctx.accounts
    client, _csrf = service.login(service.users["viewer"])
    assert client.get("/", follow_redirects=False).status_code == 200
    # the lookup takes the address as typed and stays within its organization
    user_id = accounts.user_id_of(DEMO_ORG_ID, " Viewer@Demo.test ")
    assert user_id is not None
    assert accounts.user_id_of(OTHER_ORG, service.users["viewer"]) is None
    accounts.issue_password_reset(
        DEMO_ORG_ID, user_id, lifetime=timedelta(hours=1), issued_by="user:test"
    )
    with engine.connect() as conn:
        assert _rows_of(conn, web_sessions, user_id) == 1
        assert _rows_of(conn, password_resets, user_id) == 1

    assert accounts.delete_user(user_id) is True
    assert client.get("/", follow_redirects=False).status_code == 303  # logged out
    assert accounts.user_id_of(DEMO_ORG_ID, service.users["viewer"]) is None
    assert accounts.authenticate(service.users["viewer"], password) == []
    with engine.connect() as conn:
        assert _rows_of(conn, web_sessions, user_id) == 0
        assert _rows_of(conn, password_resets, user_id) == 0
    assert accounts.delete_user(user_id) is False  # nothing left to delete
    # the organization's other people keep their accounts
    assert accounts.verify_password(service.users["editor"], password) is not None


def _rows_of(conn: sa.Connection, table: sa.Table, user_id: str) -> int:
    query = sa.select(sa.func.count()).select_from(table).where(table.c.user_id == user_id)
    return int(conn.execute(query).scalar_one())


def test_the_demo_users_are_made_anew_with_the_new_password(service: Service) -> None:
    from carbonlink.demo.service import DEMO_USERS, set_demo_users

    accounts = service.app.state.ctx.accounts
    assert set_demo_users(service.app, "first demo password") == [
        (email, role) for email, role, _name in DEMO_USERS
    ]
    email = DEMO_USERS[0][0]
    client, _csrf = service.login(email, "first demo password")
    first_id = accounts.verify_password(email, "first demo password")
    assert first_id is not None

    set_demo_users(service.app, "second demo password")
    assert accounts.verify_password(email, "first demo password") is None
    assert accounts.verify_password(email, "second demo password") not in (None, first_id)
    assert client.get("/", follow_redirects=False).status_code == 303  # the old session ended
    # the service's other users stay
    assert accounts.user_id_of(DEMO_ORG_ID, service.users["admin"]) is not None
