"""Administration of an organization's users, API keys and OAuth clients: API and page."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi.testclient import TestClient

if TYPE_CHECKING:
    from conftest import Service


def _admin(service: Service) -> TestClient:
    client, csrf = service.login(service.users["admin"])
    client.headers["X-CSRF-Token"] = csrf
    return client


def _login_status(service: Service, email: str, password: str) -> int:
    client = service.client()
    client.get("/login")
    token = client.cookies["carbonlink_login_csrf"]
    form = {"email": email, "password": password, "csrf_token": token}
    return client.post("/login", data=form, follow_redirects=False).status_code


def test_users_are_listed_for_the_callers_organization_only(service: Service) -> None:
    listed = _admin(service).get("/api/v1/users")
    assert listed.status_code == 200
    emails = [u["email"] for u in listed.json()]
    assert emails == sorted(f"{role}@demo.test" for role in service.users if role != "other")
    assert "password_hash" not in listed.text and "admin@other.test" not in listed.text


def test_an_invited_user_logs_in_then_loses_its_role_and_its_sessions(service: Service) -> None:
    admin = _admin(service)
    invited = admin.post(
        "/api/v1/users",
        json={"email": "New.Engineer@demo.test", "role": "editor", "display_name": "Zhang Min"},
    )
    assert invited.status_code == 201, invited.text
    body = invited.json()
    assert (body["email"], body["role"], body["disabled"]) == (
        "new.engineer@demo.test",
        "editor",
        False,
    )
    again = admin.post("/api/v1/users", json={"email": "new.engineer@demo.test", "role": "viewer"})
    assert again.status_code == 422 and "exists already" in again.json()["detail"]

    first, csrf = service.login("new.engineer@demo.test", body["password"])
    first.headers["X-CSRF-Token"] = csrf
    # The first password was shown to the administrator: the user must choose its own first.
    assert first.post("/api/v1/facilities", json={"name": "Annex"}).status_code == 403
    own = "granite kettle orbit 42"
    changed = first.post(
        "/api/v1/me/password", json={"current_password": body["password"], "new_password": own}
    )
    assert changed.status_code == 200, changed.text
    body["password"] = own
    person, csrf = service.login("new.engineer@demo.test", body["password"])
    person.headers["X-CSRF-Token"] = csrf
    assert person.post("/api/v1/facilities", json={"name": "Annex"}).status_code == 201

    demoted = admin.patch(f"/api/v1/users/{body['id']}", json={"role": "viewer"})
    assert demoted.json()["role"] == "viewer"
    assert person.post("/api/v1/facilities", json={"name": "Annex 2"}).status_code == 403

    disabled = admin.patch(f"/api/v1/users/{body['id']}", json={"disabled": True})
    assert disabled.json()["disabled"] is True
    assert person.get("/api/v1/me").status_code == 401  # the open session ended
    assert person.get("/", follow_redirects=False).headers["location"] == "/login"
    assert _login_status(service, "new.engineer@demo.test", body["password"]) == 401

    admin.patch(f"/api/v1/users/{body['id']}", json={"disabled": False})
    assert _login_status(service, "new.engineer@demo.test", body["password"]) == 303


def test_an_admin_cannot_disable_or_demote_itself(service: Service) -> None:
    admin = _admin(service)
    me = next(u for u in admin.get("/api/v1/users").json() if u["email"] == "admin@demo.test")
    for change in ({"disabled": True}, {"role": "viewer"}):
        refused = admin.patch(f"/api/v1/users/{me['id']}", json=change)
        assert refused.status_code == 422, refused.text
    assert admin.get("/api/v1/me").json()["role"] == "admin"


def test_a_revoked_key_stops_working_at_once(service: Service) -> None:
    admin = _admin(service)
    issued = admin.post("/api/v1/api-keys", json={"name": "ERP export", "role": "editor"}).json()
    machine = service.client()
    machine.headers["X-API-Key"] = issued["key"]
    assert machine.get("/api/v1/facilities").status_code == 200
    listed = admin.get("/api/v1/api-keys").json()
    mine = [k for k in listed if k["id"] == issued["id"]]
    assert mine and mine[0]["revoked_at"] is None and issued["key"] not in str(listed)

    assert admin.delete(f"/api/v1/api-keys/{issued['id']}").status_code == 204
    assert machine.get("/api/v1/facilities").status_code == 401
    assert next(
        k["revoked_at"] for k in admin.get("/api/v1/api-keys").json() if k["id"] == issued["id"]
    )
    assert admin.delete(f"/api/v1/api-keys/{issued['id']}").status_code == 404


def test_a_deleted_oauth_client_loses_its_tokens(service: Service) -> None:
    admin = _admin(service)
    registered = admin.post(
        "/api/v1/oauth-clients", json={"name": "MES gateway", "role": "viewer"}
    ).json()
    machine = service.client()
    form = {
        "grant_type": "client_credentials",
        "client_id": registered["client_id"],
        "client_secret": registered["client_secret"],
    }
    token = machine.post("/api/v1/oauth/token", data=form).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert machine.get("/api/v1/me", headers=bearer).status_code == 200
    ids = [c["client_id"] for c in admin.get("/api/v1/oauth-clients").json()]
    assert registered["client_id"] in ids

    assert admin.delete(f"/api/v1/oauth-clients/{registered['client_id']}").status_code == 204
    assert machine.get("/api/v1/me", headers=bearer).status_code == 401
    assert machine.post("/api/v1/oauth/token", data=form).status_code == 401
    ids = [c["client_id"] for c in admin.get("/api/v1/oauth-clients").json()]
    assert registered["client_id"] not in ids


def test_only_admins_of_the_organization_manage_accounts(service: Service) -> None:
    viewer, csrf = service.login(service.users["viewer"])
    viewer.headers["X-CSRF-Token"] = csrf
    for method, path in (
        ("GET", "/api/v1/users"),
        ("GET", "/api/v1/api-keys"),
        ("GET", "/api/v1/oauth-clients"),
        ("GET", "/admin/users"),
    ):
        assert viewer.request(method, path).status_code == 403, path
    assert (
        viewer.post("/api/v1/users", json={"email": "x@demo.test", "role": "admin"}).status_code
        == 403
    )

    other, csrf = service.login(service.users["other"])
    other.headers["X-CSRF-Token"] = csrf
    demo_user = service.ids["user_id"]
    assert other.patch(f"/api/v1/users/{demo_user}", json={"role": "admin"}).status_code == 404
    assert other.delete(f"/api/v1/api-keys/{service.ids['key_id']}").status_code == 404
    assert other.delete(f"/api/v1/oauth-clients/{service.ids['client_id']}").status_code == 404
    assert other.post(f"/admin/users/{demo_user}/disable").status_code == 404
    assert [u["email"] for u in other.get("/api/v1/users").json()] == ["admin@other.test"]


def _csrf(page: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_the_admin_page_in_both_languages_with_csrf_forms(service: Service) -> None:
    client, _csrf_header = service.login(service.users["admin"])
    zh = client.get("/admin/users?lang=zh")
    assert zh.status_code == 200
    assert "用户与访问" in zh.text and "邀请用户" in zh.text and "viewer@demo.test" in zh.text
    assert "demo-seed ERP export" in zh.text and "demo-seed gateway" in zh.text
    en = client.get("/admin/users?lang=en")
    assert "Users and access" in en.text and "Invite a user" in en.text
    token = _csrf(en.text)

    forged = client.post(
        "/admin/users/" + service.ids["user_id"] + "/disable", data={"csrf_token": "x"}
    )
    assert forged.status_code == 403
    created = client.post(
        "/admin/api-keys", data={"csrf_token": token, "name": "Gateway 7", "role": "editor"}
    )
    assert created.status_code == 201
    secret = re.search(r'<code class="secret">(clk_[^<]+)</code>', created.text)
    assert secret and "Shown only now" in created.text
    machine = service.client()
    assert machine.get("/api/v1/me", headers={"X-API-Key": secret.group(1)}).status_code == 200

    disabled = client.post(
        f"/admin/users/{service.ids['user_id']}/disable",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert (disabled.status_code, disabled.headers["location"]) == (303, "/admin/users")
    page = client.get("/admin/users?lang=en").text
    row = re.search(rf'<tr id="user-{service.ids["user_id"]}">.*?</tr>', page, re.S)
    assert row and "disabled" in row.group(0) and "/enable" in row.group(0)
    assert _login_status(service, "viewer@demo.test", "correct horse battery staple") == 401

    invited = client.post(
        "/admin/users",
        data={"csrf_token": token, "email": "auditor2@demo.test", "role": "auditor"},
    )
    assert invited.status_code == 201
    password = re.search(r'<code class="secret">([^<]+)</code>', invited.text)
    assert password and _login_status(service, "auditor2@demo.test", password.group(1)) == 303
