"""Alert channel secrets are sealed in the store, and delivery still signs with the right key.

The webhook goes to a real HTTP receiver on a loopback port that keeps the signature header; the
signature is checked with the key the person typed. A second app on the same database with
another ``CARBONLINK_SECRET_KEY`` plays the service after its key was changed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa
from browser_support import OUT, chromium, log_in, new_page, require_chromium, served
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from test_operations_browser import receiver

from carbonlink.api import create_app
from carbonlink.monitor.notify import verify_signature
from carbonlink.settings import Settings
from carbonlink.store import operations
from carbonlink.store.results_schema import alert_channels

if TYPE_CHECKING:
    from conftest import Service

ORG = "org-demo-steel"
KEY = "a-signing-key-for-the-control-room"
PASSWORD = "an-smtp-password-of-the-plant"
OTHER_SERVICE_KEY = "Zq8Wm2Xr5Tv7Yb1Nc3Ld6Kf9Hg4Js0Pa"
# a loopback port nobody listens on: these channels are never reached
NOWHERE = {"name": "Control room", "kind": "webhook", "url": "http://127.0.0.1:9/x", "secret": KEY}


def _row(engine: sa.Engine, channel_id: str) -> Any:
    with engine.connect() as conn:
        query = sa.select(alert_channels).where(alert_channels.c.id == channel_id)
        return conn.execute(query).one()


def _set_secret(engine: sa.Engine, channel_id: str, secret: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            alert_channels.update().where(alert_channels.c.id == channel_id).values(secret=secret)
        )


def _editor(service: Service, app: FastAPI | None = None) -> TestClient:
    client = TestClient(app) if app is not None else None
    client, csrf = service.login(service.users["editor"], client=client)
    client.headers["X-CSRF-Token"] = csrf
    return client


def _app(service: Service, tmp_path: Path, engine: sa.Engine, secret_key: str) -> FastAPI:
    """Another app over the same database and tenant data (a restart, maybe with a new key)."""
    settings = Settings(
        workspace=tmp_path,
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        reminder_interval_s=0,
        secret_key=SecretStr(secret_key),
    )
    return create_app(settings, engine=engine, data=service.data)


def test_the_row_never_holds_the_secret_and_the_webhook_is_signed_with_it(
    service: Service, engine: sa.Engine
) -> None:
    client = _editor(service)
    with receiver() as (hook, got):
        made = client.post(
            "/api/v1/alert-channels",
            json={"name": "Control room", "kind": "webhook", "url": hook, "secret": KEY},
        )
        assert made.status_code == 201, made.text
        channel_id = made.json()["id"]
        assert client.post(f"/api/v1/alert-channels/{channel_id}/test").status_code == 204
    row = _row(engine, channel_id)
    stored = " ".join(str(value) for value in row)
    assert KEY not in stored and row.secret.startswith("v1:")
    [(body, signature)] = got
    assert verify_signature(KEY.encode(), body, signature)
    assert made.json()["has_secret"] and not made.json()["secret_unreadable"]


def test_an_smtp_password_is_sealed_too(service: Service, engine: sa.Engine) -> None:
    client = _editor(service)
    made = client.post(
        "/api/v1/alert-channels",
        json={
            "name": "Shift leads",
            "kind": "email",
            "smtp_host": "smtp.demo.test",
            "sender": "alerts@demo.test",
            "recipients": ["lead@demo.test"],
            "username": "alerts",
            "secret": PASSWORD,
        },
    )
    assert made.status_code == 201, made.text
    row = _row(engine, made.json()["id"])
    assert PASSWORD not in " ".join(str(value) for value in row)
    key = Settings().key_bytes
    assert operations.channel_secret(engine, ORG, row.id, key=key) == PASSWORD


def test_a_changed_service_key_asks_for_the_secret_again_by_channel_name(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    client = _editor(service)
    made = client.post("/api/v1/alert-channels", json=NOWHERE)
    channel_id = made.json()["id"]
    changed = _editor(service, _app(service, tmp_path, engine, OTHER_SERVICE_KEY))
    listed = changed.get("/api/v1/alert-channels").json()
    assert [c["secret_unreadable"] for c in listed] == [True]
    refused = changed.post(f"/api/v1/alert-channels/{channel_id}/test")
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert problem["record"] == "Control room"
    assert "CARBONLINK_SECRET_KEY" in problem["detail"] and "again" in problem["hint"]
    page = changed.get("/alerts/rules")
    assert page.status_code == 200
    assert "已无法读取" in page.text  # the editor's language is Chinese
    assert changed.put("/api/v1/me/language", json={"language": "en"}).status_code in (200, 204)
    assert "can no longer be read" in changed.get("/alerts/rules").text
    # Entered again, the secret is sealed under the new key and the webhook signs with it.
    with receiver() as (hook, got):
        again = {"name": "Control room", "kind": "webhook", "url": hook, "secret": KEY + "-2"}
        assert changed.put(f"/api/v1/alert-channels/{channel_id}", json=again).status_code == 200
        assert changed.post(f"/api/v1/alert-channels/{channel_id}/test").status_code == 204
    [(body, signature)] = got
    assert verify_signature((KEY + "-2").encode(), body, signature)
    assert "can no longer be read" not in changed.get("/alerts/rules").text


def test_a_plain_secret_from_before_sealing_still_signs_and_is_sealed_on_first_use(
    service: Service, engine: sa.Engine
) -> None:
    client = _editor(service)
    with receiver() as (hook, got):
        made = client.post(
            "/api/v1/alert-channels",
            json={"name": "Control room", "kind": "webhook", "url": hook, "secret": KEY},
        )
        channel_id = made.json()["id"]
        _set_secret(engine, channel_id, KEY)  # as a service before sealing stored it
        assert client.post(f"/api/v1/alert-channels/{channel_id}/test").status_code == 204
    [(body, signature)] = got
    assert verify_signature(KEY.encode(), body, signature)
    sealed = _row(engine, channel_id).secret
    assert sealed.startswith("v1:") and KEY not in sealed
    assert operations.channel_secret(engine, ORG, channel_id, key=Settings().key_bytes) == KEY


def test_plain_secrets_are_sealed_when_the_service_starts(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    client = _editor(service)
    made = client.post("/api/v1/alert-channels", json=NOWHERE)
    channel_id = made.json()["id"]
    _set_secret(engine, channel_id, KEY)
    assert _row(engine, channel_id).secret == KEY
    same_key = Settings().key_bytes.decode()
    restarted = _editor(service, _app(service, tmp_path, engine, same_key))
    sealed = _row(engine, channel_id).secret
    assert sealed.startswith("v1:") and KEY not in sealed
    listed = restarted.get("/api/v1/alert-channels").json()
    assert [(c["has_secret"], c["secret_unreadable"]) for c in listed] == [(True, False)]
    assert operations.channel_secret(engine, ORG, channel_id, key=Settings().key_bytes) == KEY


@pytest.mark.browser
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the page, not the database
def test_the_channel_page_asks_for_the_secret_again_and_takes_it(
    service: Service, engine: sa.Engine, tmp_path: Path
) -> None:
    require_chromium()
    client = _editor(service)
    channel_id = client.post("/api/v1/alert-channels", json=NOWHERE).json()["id"]
    changed = _app(service, tmp_path, engine, OTHER_SERVICE_KEY)
    errors: list[str] = []
    with served(changed) as url, chromium() as browser, receiver() as (hook, got):
        page = new_page(browser, errors)
        log_in(page, url, service.users["editor"])
        page.goto(f"{url}/alerts/rules?lang=zh")
        row = page.locator(f"#channel-{channel_id}")
        assert "已无法读取" in row.locator(".secret-unreadable").inner_text()
        page.screenshot(path=OUT / "channel-secret-unreadable-zh.png", full_page=True)
        row.get_by_role("button", name="编辑").click()
        form = page.locator("#channel-form")
        form.get_by_label("Webhook 地址", exact=True).fill(hook)
        form.get_by_label("签名密钥或 SMTP 密码", exact=True).fill(KEY)
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"#channel-{channel_id}:not(:has(.secret-unreadable))")
        page.goto(f"{url}/alerts/rules?lang=en")
        page.screenshot(path=OUT / "channel-secret-entered-again-en.png", full_page=True)
        sent = TestClient(changed)
        sent, csrf = service.login(service.users["editor"], client=sent)
        tested = sent.post(
            f"/api/v1/alert-channels/{channel_id}/test", headers={"X-CSRF-Token": csrf}
        )
        assert tested.status_code == 204, tested.text
    [(body, signature)] = got
    assert verify_signature(KEY.encode(), body, signature)
    assert errors == []
