"""Login budgets shared through the database, addresses per organization, password flows.

The fixture allows 3 failed logins per account (``login_attempts=3``) and 20 per address.
"""

from __future__ import annotations

import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
import sqlalchemy as sa
from browser_support import served
from fastapi.testclient import TestClient
from plant_fixture import DEMO_ORG_ID

from carbonlink.api import create_app
from carbonlink.api.schema import users
from carbonlink.api.security import DEVICE_COOKIE, WeakPasswordError, check_password
from conftest import OTHER_ORG, PASSWORD, build_service

if TYPE_CHECKING:
    from conftest import Service

ATTEMPTS = 3


def _form(client: TestClient | httpx.Client) -> str:
    client.get("/login")
    token = client.cookies.get("carbonlink_login_csrf")
    assert token
    return token


def _try(client: TestClient, email: str, password: str, **extra: str) -> httpx.Response:
    token = _form(client)
    data = {"email": email, "password": password, "csrf_token": token, **extra}
    return client.post("/login", data=data, follow_redirects=False)


# M5: the budgets -------------------------------------------------------------------------------
def test_thirty_parallel_guesses_against_a_running_server_check_only_the_budget(
    service: Service,
) -> None:
    with served(service.app) as url, httpx.Client(base_url=url) as client:
        token = _form(client)
        cookies = dict(client.cookies)

        def guess(n: int) -> int:
            with httpx.Client(base_url=url, cookies=cookies) as one:
                data = {"email": "admin@demo.test", "password": f"guess-{n}", "csrf_token": token}
                return one.post("/login", data=data).status_code

        with ThreadPoolExecutor(max_workers=30) as pool:
            statuses = list(pool.map(guess, range(30)))
    # 401: the password was checked (and wrong); 429: refused before any check.
    assert sorted(statuses) == [401] * ATTEMPTS + [429] * (30 - ATTEMPTS)


def test_failures_are_shared_by_workers_and_kept_across_a_restart(
    engine: sa.Engine, tmp_path: Path
) -> None:
    first = build_service(engine, tmp_path)
    with TestClient(first.app) as client:
        for _ in range(ATTEMPTS):
            assert _try(client, "editor@demo.test", "wrong one").status_code == 401
    # Another worker process, or the service after a restart: the same database, a new app.
    second = create_app(first.app.state.ctx.settings, engine=engine, data=first.data)
    with TestClient(second) as client:
        refused = _try(client, "editor@demo.test", PASSWORD)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) > 0


def test_someone_guessing_from_elsewhere_does_not_lock_out_the_owner(service: Service) -> None:
    owner = TestClient(service.app, client=("10.0.0.7", 40000))
    assert _try(owner, "viewer@demo.test", PASSWORD).status_code == 303
    assert owner.cookies.get(DEVICE_COOKIE)
    owner.post("/logout", data={"csrf_token": _csrf(owner)})

    attacker = TestClient(service.app, client=("203.0.113.66", 40000))
    statuses = [_try(attacker, "viewer@demo.test", f"guess {n}").status_code for n in range(6)]
    assert statuses == [401] * ATTEMPTS + [429] * 3
    # The right password from an unknown browser waits for the window too ...
    stranger = TestClient(service.app, client=("198.51.100.9", 40000))
    assert _try(stranger, "viewer@demo.test", PASSWORD).status_code == 429
    # ... but the owner's browser, known by its device cookie, has a budget of its own.
    assert _try(owner, "viewer@demo.test", PASSWORD).status_code == 303


def test_a_device_cookie_is_valid_only_for_its_own_account(service: Service) -> None:
    attacker = TestClient(service.app, client=("203.0.113.66", 40000))
    assert _try(attacker, "auditor@demo.test", PASSWORD).status_code == 303  # its own account
    assert attacker.cookies.get(DEVICE_COOKIE)
    statuses = [_try(attacker, "viewer@demo.test", f"guess {n}").status_code for n in range(5)]
    assert statuses == [401] * ATTEMPTS + [429] * 2


def _csrf(client: TestClient) -> str:
    page = client.get("/account")
    match = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert match
    return match.group(1)


# M10: one address, several organizations -------------------------------------------------------
def _add_user(engine: sa.Engine, org: str, email: str, password_hash: str) -> None:
    import uuid

    with engine.begin() as conn:
        conn.execute(
            users.insert().values(
                id=uuid.uuid4().hex,
                organization_id=org,
                email=email,
                display_name="Wang Fang",
                password_hash=password_hash,
                role="viewer",
                locale="en",
                disabled=False,
                created_at=datetime.now(UTC),
            )
        )


def test_an_admin_cannot_tell_which_addresses_other_organizations_have(service: Service) -> None:
    other_admin, csrf = service.login("admin@other.test")
    other_admin.headers["X-CSRF-Token"] = csrf
    # viewer@demo.test has an account in the demo organization; the other organization's admin
    # adds the same address as if it were new, learning nothing.
    taken = other_admin.post("/api/v1/users", json={"email": "viewer@demo.test", "role": "viewer"})
    assert taken.status_code == 201, taken.text
    again = other_admin.post("/api/v1/users", json={"email": "viewer@demo.test", "role": "viewer"})
    assert again.status_code == 422
    assert "your organization" in again.json()["detail"]
    # And the demo viewer still logs in to its own organization with its own password.
    client, _csrf = service.login("viewer@demo.test")
    assert client.get("/api/v1/me").json()["organization_id"] == DEMO_ORG_ID


def test_one_password_opening_two_organizations_asks_which(service: Service) -> None:
    engine = service.app.state.ctx.engine
    with engine.connect() as conn:
        hash_ = conn.execute(
            sa.select(users.c.password_hash).where(users.c.email == "viewer@demo.test")
        ).scalar_one()
    _add_user(engine, OTHER_ORG, "viewer@demo.test", hash_)
    client = TestClient(service.app)
    chooser = _try(client, "viewer@demo.test", PASSWORD)
    assert chooser.status_code == 200
    offered = re.findall(r'name="organization" value="([^"]+)"', chooser.text)
    assert sorted(offered) == sorted([DEMO_ORG_ID, OTHER_ORG])
    assert "Other Works Ltd" in chooser.text
    choice = re.search(r'name="choice" value="([^"]+)"', chooser.text)
    assert choice
    token = client.cookies["carbonlink_login_csrf"]
    entered = client.post(
        "/login",
        data={"csrf_token": token, "choice": choice.group(1), "organization": OTHER_ORG},
        follow_redirects=False,
    )
    assert entered.status_code == 303
    assert client.get("/api/v1/me").json()["organization_id"] == OTHER_ORG
    # A forged choice opens nothing.
    forged = TestClient(service.app)
    token = _form(forged)
    refused = forged.post(
        "/login",
        data={"csrf_token": token, "choice": choice.group(1) + "x", "organization": OTHER_ORG},
        follow_redirects=False,
    )
    assert refused.status_code == 401


def test_a_password_that_opens_one_of_two_accounts_names_no_other(service: Service) -> None:
    from argon2 import PasswordHasher

    engine = service.app.state.ctx.engine
    other = "another long passphrase for wang"
    _add_user(engine, OTHER_ORG, "viewer@demo.test", PasswordHasher(1, 1024).hash(other))
    client = TestClient(service.app)
    entered = _try(client, "viewer@demo.test", PASSWORD)
    assert entered.status_code == 303  # straight in: no chooser, no other organization named
    assert client.get("/api/v1/me").json()["organization_id"] == DEMO_ORG_ID
    client = TestClient(service.app)
    assert _try(client, "viewer@demo.test", other).status_code == 303
    assert client.get("/api/v1/me").json()["organization_id"] == OTHER_ORG


# M11: passwords change and reset ---------------------------------------------------------------
NEW = "granite kettle orbit 42"


def test_changing_ones_password_ends_the_other_sessions(service: Service) -> None:
    phone, _ = service.login("editor@demo.test")
    laptop, csrf = service.login("editor@demo.test")
    laptop.headers["X-CSRF-Token"] = csrf
    wrong = laptop.post(
        "/api/v1/me/password", json={"current_password": "not it at all", "new_password": NEW}
    )
    assert wrong.status_code == 403
    weak = laptop.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": "password123"}
    )
    assert weak.status_code == 422 and "guess" in weak.json()["detail"]
    done = laptop.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert done.status_code == 200, done.text
    assert done.json()["sessions_ended"] == 2
    assert phone.get("/api/v1/me").status_code == 401  # the other session ended
    assert laptop.get("/api/v1/me").status_code == 200  # the caller got a new session
    assert _try(TestClient(service.app), "editor@demo.test", PASSWORD).status_code == 401
    assert _try(TestClient(service.app), "editor@demo.test", NEW).status_code == 303


def test_an_api_key_has_no_password_to_change(service: Service) -> None:
    admin, csrf = service.login("admin@demo.test")
    admin.headers["X-CSRF-Token"] = csrf
    key = admin.post("/api/v1/api-keys", json={"name": "meter gateway", "role": "editor"})
    assert key.status_code == 201, key.text
    machine = TestClient(service.app, headers={"X-API-Key": key.json()["key"]})
    refused = machine.post(
        "/api/v1/me/password", json={"current_password": PASSWORD, "new_password": NEW}
    )
    assert refused.status_code == 403


def test_an_admin_reset_link_works_once_and_forces_nothing_else(service: Service) -> None:
    admin, csrf = service.login("admin@demo.test")
    admin.headers["X-CSRF-Token"] = csrf
    people = {u["email"]: u["id"] for u in admin.get("/api/v1/users").json()}
    viewer_id = people["viewer@demo.test"]
    open_session, _ = service.login("viewer@demo.test")
    issued = admin.post(f"/api/v1/users/{viewer_id}/password-reset")
    assert issued.status_code == 201, issued.text
    body = issued.json()
    assert body["url"].endswith(f"/password-reset?token={body['token']}")

    # Until redeemed, the old password still logs in but must be changed first.
    forced, _forced_csrf = service.login("viewer@demo.test")
    assert forced.get("/", follow_redirects=False).headers["location"] == "/account/password"
    assert forced.get("/api/v1/facilities").status_code == 403

    anyone = TestClient(service.app)
    redeemed = anyone.post(
        "/api/v1/password-reset", json={"token": body["token"], "new_password": NEW}
    )
    assert redeemed.status_code == 204, redeemed.text
    again = anyone.post(
        "/api/v1/password-reset", json={"token": body["token"], "new_password": NEW}
    )
    assert again.status_code == 400 and "used" in again.json()["detail"]
    assert open_session.get("/api/v1/me").status_code == 401
    assert forced.get("/api/v1/me").status_code == 401
    fresh, _ = service.login("viewer@demo.test", NEW)
    assert fresh.get("/api/v1/facilities").status_code == 200  # no forced change any more


def test_a_reset_link_opens_a_page_that_sets_the_password(service: Service) -> None:
    admin, csrf = service.login("admin@demo.test")
    admin.headers["X-CSRF-Token"] = csrf
    viewer_id = {u["email"]: u["id"] for u in admin.get("/api/v1/users").json()}["viewer@demo.test"]
    link = admin.post(f"/api/v1/users/{viewer_id}/password-reset").json()["url"]
    browser = TestClient(service.app)
    parts = urlsplit(link)
    page = browser.get(f"{parts.path}?{parts.query}&lang=en")
    assert page.status_code == 200 and "Set a new password" in page.text
    token = re.search(r'name="token" value="([^"]+)"', page.text)
    assert token
    differ = {"token": token.group(1), "new_password": NEW, "new_password_again": NEW + "!"}
    assert browser.post("/password-reset", data=differ).status_code == 422
    form = {**differ, "new_password_again": NEW}
    done = browser.post("/password-reset", data=form, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/login")
    used = browser.post("/password-reset", data=form)
    assert used.status_code == 422 and "used" in used.text
    assert _try(TestClient(service.app), "viewer@demo.test", NEW).status_code == 303


def test_a_reset_for_another_organizations_user_is_not_found(service: Service) -> None:
    other_admin, csrf = service.login("admin@other.test")
    other_admin.headers["X-CSRF-Token"] = csrf
    demo_admin, demo_csrf = service.login("admin@demo.test")
    demo_admin.headers["X-CSRF-Token"] = demo_csrf
    viewer_id = {u["email"]: u["id"] for u in demo_admin.get("/api/v1/users").json()}[
        "viewer@demo.test"
    ]
    refused = other_admin.post(f"/api/v1/users/{viewer_id}/password-reset")
    assert refused.status_code == 404


def test_the_password_page_changes_a_forced_password(service: Service) -> None:
    admin, csrf = service.login("admin@demo.test")
    admin.headers["X-CSRF-Token"] = csrf
    invited = admin.post("/api/v1/users", json={"email": "li.na@demo.test", "role": "editor"})
    first = invited.json()["password"]
    client = TestClient(service.app)
    landed = _try(client, "li.na@demo.test", first)
    assert landed.headers["location"] == "/account/password"
    page = client.get("/account/password?lang=en")
    assert "Choose your own password" in page.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    form = {
        "csrf_token": token.group(1),
        "current_password": first,
        "new_password": NEW,
        "new_password_again": NEW,
    }
    changed = client.post("/account/password", data=form, follow_redirects=False)
    assert changed.status_code == 303
    assert client.get("/", follow_redirects=False).status_code == 200


@pytest.mark.parametrize(
    "password",
    ["password1234", "qwertyuiop123", "li.na@demo.test", "LiNa1990LiNa", "aaaaaaaaaaaa"],
)
def test_common_or_personal_passwords_are_refused(password: str) -> None:
    with pytest.raises(WeakPasswordError):
        check_password(password, email="li.na@demo.test", display_name="Li Na")


def test_a_passphrase_passes_the_policy() -> None:
    check_password(NEW, email="li.na@demo.test", display_name="Li Na")


# CLI -------------------------------------------------------------------------------------------
def _cli(tmp_path: Path, *args: str, password: str = NEW) -> subprocess.CompletedProcess[str]:
    env = {
        "CARBONLINK_WORKSPACE": str(tmp_path),
        "CARBONLINK_DATABASE_URL": "",
        "CARBONLINK_NEW_USER_PASSWORD": password,
        "PATH": "/usr/bin:/bin",
    }
    return subprocess.run(
        [sys.executable, "-c", "from carbonlink.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_users_commands_add_passwd_and_reset(tmp_path: Path) -> None:
    add = ["users", "add", "chief@plant.test", "--organization", "org-plant"]
    assert _cli(tmp_path, *add).returncode == 0
    duplicate = _cli(tmp_path, *add)
    assert duplicate.returncode == 2
    assert "exists already" in duplicate.stderr
    assert "Traceback" not in duplicate.stderr + duplicate.stdout
    assert "argon2" not in duplicate.stderr + duplicate.stdout
    weak = _cli(tmp_path, "users", "passwd", "chief@plant.test", password="chief@plant.test")
    assert weak.returncode == 2 and "your name or e-mail" in weak.stderr
    changed = _cli(tmp_path, "users", "passwd", "chief@plant.test", password="basalt heron 7 sails")
    assert changed.returncode == 0, changed.stderr
    assert "password of chief@plant.test in org-plant set" in changed.stdout
    reset = _cli(tmp_path, "users", "reset", "chief@plant.test")
    assert reset.returncode == 0, reset.stderr
    assert "/password-reset?token=" in reset.stdout
    unknown = _cli(tmp_path, "users", "reset", "nobody@plant.test")
    assert unknown.returncode == 2 and "no user with the address" in unknown.stderr
